/**
 * runParallel and the thread count: results identical on 1–4 threads (and on workers, not only the calling
 * thread), traps and unresponsive workers as StateErrors (never a hang), the pool stopped by setNumThreads(1),
 * bad thread counts refused, and a process with idle or waiting workers still exiting by itself.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, StateError } from '../src/errors.js';
import { getNumThreads, wasmThreads } from '../src/index.js';
import { splitRange } from '../src/wasm/split.js';
import { runParallel, setNumThreads, threadPoolInfo, warmThreads } from '../src/wasm/threads.js';
import { expected, output, program, sharedMemory } from './threads-programs.js';

afterAll(() => setNumThreads(1));

/** Runs `module` over n elements split for `threads` threads (cost high enough that small n still splits). */
function fill(
  module: WebAssembly.Module,
  key: string,
  memory: WebAssembly.Memory,
  n: number,
  threads: number,
) {
  const calls = splitRange(n, threads, 1e6).map(([s, e]) => [0, s, e]);
  runParallel({ module, key }, memory, calls, { op: 'testFill', timeoutMs: 20_000 });
  return calls.length;
}

describe('getNumThreads / setNumThreads', () => {
  it('defaults to what the platform allows, at most 8', () => {
    const n = getNumThreads();
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(8);
  });

  it('is exported with the parallel runner', () => {
    expect(wasmThreads.getNumThreads).toBe(getNumThreads);
    expect(typeof wasmThreads.runParallel).toBe('function');
    expect(typeof wasmThreads.splitRange).toBe('function');
  });

  it('refuses counts that are not integers from 1 to 64 with an ArgumentError', () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN, Number.POSITIVE_INFINITY, '2', null, undefined, 2n]) {
      expect(() => setNumThreads(bad as number)).toThrow(ArgumentError);
    }
    expect(() => setNumThreads(0)).toThrow(
      /setNumThreads: argument 'n' must be an integer from 1 to 64, got number 0/,
    );
  });
});

describe('runParallel', () => {
  const module = program();
  const n = 10_000;

  it('gives the same results on 1, 2, 3 and 4 threads, with workers doing their share', async () => {
    const want = Int32Array.from({ length: n }, (_, i) => expected(i));
    for (const threads of [1, 2, 3, 4]) {
      setNumThreads(threads);
      expect(getNumThreads()).toBe(threads);
      expect(await warmThreads()).toBe(threads > 1);
      expect(threadPoolInfo().workers).toBe(threads - 1);
      const memory = sharedMemory();
      const out = output(memory, n);
      const before = threadPoolInfo().workerCalls;
      // Twice: the first call sends the module to the workers, the second finds it there.
      for (let rep = 0; rep < 2; rep++) {
        out.fill(-1);
        expect(fill(module, 'fill', memory, n, threads)).toBe(threads);
        expect(out).toEqual(want);
      }
      expect(threadPoolInfo().workerCalls - before).toBe(2 * (threads - 1));
    }
  });

  it('runs more calls than threads, and calls before the workers have booted, on the calling thread', () => {
    setNumThreads(2);
    setNumThreads(3); // a new count: the next call starts new workers, which have not booted yet
    expect(threadPoolInfo().workers).toBe(0);
    const memory = sharedMemory();
    const out = output(memory, n);
    const before = threadPoolInfo().callerCalls;
    expect(fill(module, 'fill', memory, n, 8)).toBe(8);
    expect(out).toEqual(Int32Array.from({ length: n }, (_, i) => expected(i)));
    expect(threadPoolInfo().callerCalls - before).toBeGreaterThanOrEqual(8 - 2);
  });

  it('keeps many programs and memories apart (more than a worker caches)', async () => {
    setNumThreads(2);
    expect(await warmThreads()).toBe(true);
    const memories = Array.from({ length: 6 }, () => sharedMemory());
    for (let round = 0; round < 2; round++) {
      for (let p = 0; p < 70; p++) {
        const memory = memories[p % memories.length]!;
        const out = output(memory, 64);
        fill(program('fill', p), `fill-${p}`, memory, 64, 2);
        expect(out[0]).toBe(expected(0, p));
        expect(out[40]).toBe(expected(40, p));
      }
    }
  });

  it('runs everything on the calling thread over an unshared memory', async () => {
    setNumThreads(4);
    expect(await warmThreads()).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Int32Array(memory.buffer)[0] = 64;
    const out = new Int32Array(memory.buffer, 64, n);
    const before = threadPoolInfo();
    expect(fill(program('fill', 0, false), 'fill-unshared', memory, n, 4)).toBe(4);
    expect(out).toEqual(Int32Array.from({ length: n }, (_, i) => expected(i)));
    expect(threadPoolInfo().workerCalls).toBe(before.workerCalls);
    expect(threadPoolInfo().callerCalls).toBe(before.callerCalls + 4);
    // A program importing a shared memory cannot run over an unshared one.
    expect(() => runParallel({ module, key: 'fill' }, memory, [[0, 0, 16]], { op: 'mixOp' })).toThrow(
      /^mixOp: cannot instantiate program 'fill'/,
    );
  });

  it('turns a trap on a worker into a StateError naming the op, and keeps the workers', async () => {
    setNumThreads(2);
    expect(await warmThreads()).toBe(true);
    const memory = sharedMemory();
    output(memory, n);
    const calls = [
      [0, 0, 5000],
      [0, 5000, n],
    ];
    expect(() =>
      runParallel({ module: program('trap'), key: 'trap' }, memory, calls, { op: 'trapOp' }),
    ).toThrow(/^trapOp: call 1 of 2 of program 'trap' failed on a worker thread: RuntimeError: unreachable/);
    expect(() => runParallel({ module: program('trap'), key: 'trap' }, memory, calls)).toThrow(StateError);
    // A trap on the calling thread (calls beyond the booted workers run there) is a StateError too.
    expect(() =>
      runParallel({ module: program('trap'), key: 'trap' }, memory, [[0, 16, 32]], { op: 'trapOp' }),
    ).toThrow(
      /^trapOp: call 0 of 1 of program 'trap' failed on the calling thread: RuntimeError: unreachable/,
    );
    // The workers survive a trap.
    const started = threadPoolInfo().poolsStarted;
    const out = output(memory, n);
    fill(module, 'fill', memory, n, 2);
    expect(out).toEqual(Int32Array.from({ length: n }, (_, i) => expected(i)));
    expect(threadPoolInfo().poolsStarted).toBe(started);
  });

  it('gives a StateError and stops the workers when a worker does not answer', async () => {
    setNumThreads(3);
    expect(await warmThreads()).toBe(true);
    const memory = sharedMemory();
    output(memory, n);
    const stopped = threadPoolInfo().poolsStopped;
    expect(() =>
      runParallel(
        { module: program('hang'), key: 'hang' },
        memory,
        [
          [0, 0, 16],
          [0, 16, 32],
          [0, 32, 48],
        ],
        { op: 'hangOp', timeoutMs: 300 },
      ),
    ).toThrow(
      /^hangOp: call 1 of 3 of program 'hang' on a worker thread: no answer within \d+ ms; the worker threads were stopped/,
    );
    expect(threadPoolInfo().poolsStopped).toBe(stopped + 1);
    expect(threadPoolInfo().workers).toBe(0);
    // The next parallel call starts a fresh pool.
    expect(await warmThreads()).toBe(true);
    const out = output(memory, n);
    fill(module, 'fill', memory, n, 3);
    expect(out).toEqual(Int32Array.from({ length: n }, (_, i) => expected(i)));
  });

  it('stops the workers when set to one thread', async () => {
    setNumThreads(2);
    expect(await warmThreads()).toBe(true);
    expect(threadPoolInfo().workers).toBe(1);
    setNumThreads(1);
    expect(threadPoolInfo().workers).toBe(0);
    expect(getNumThreads()).toBe(1);
    const memory = sharedMemory();
    const out = output(memory, n);
    const before = threadPoolInfo();
    fill(module, 'fill', memory, n, 4);
    expect(out).toEqual(Int32Array.from({ length: n }, (_, i) => expected(i)));
    expect(threadPoolInfo().workers).toBe(0);
    expect(threadPoolInfo().workerCalls).toBe(before.workerCalls);
  });

  it('refuses malformed calls with an ArgumentError', () => {
    const memory = sharedMemory();
    const bad = [[[0, 0, '16']], [new Array(17).fill(0)], [null], 'calls'];
    for (const calls of bad) {
      expect(() => runParallel({ module, key: 'fill' }, memory, calls as number[][])).toThrow(ArgumentError);
    }
  });
});

describe('in a child process', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const child = (mode: string, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [tsx, path.join(here, 'fixtures', 'threads-exit.ts'), mode], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });

  it('takes the default thread count from GRADKIT_NUM_THREADS when it is valid', () => {
    const cores = Math.min(availableParallelism(), 8);
    expect(child('env', { GRADKIT_NUM_THREADS: '3' }).stdout.trim()).toBe('threads 3');
    for (const bad of ['65', 'two']) {
      expect(child('env', { GRADKIT_NUM_THREADS: bad }).stdout.trim()).toBe(`threads ${cores}`);
    }
  });
  for (const when of ['waiting', 'idle'] as const) {
    it(`a process whose workers are ${when} exits by itself`, () => {
      const r = child(when, { GRADKIT_NUM_THREADS: '' });
      expect(r.error).toBeUndefined();
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`ok 3 threads, workers ${when}`);
      expect(r.status).toBe(0);
    });
  }
});
