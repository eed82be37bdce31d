/**
 * Running one generated WebAssembly program on several threads at once, over one shared memory.
 *
 * {@link runParallel} runs `instance.exports.run(...calls[i])` for every call: the first on the calling thread,
 * the others on worker threads (Node `worker_threads`, or Web Workers from a Blob URL) that instantiate the same
 * module with the same shared `WebAssembly.Memory`, and returns when all are done. The calling thread blocks in
 * `Atomics.wait`, so this is synchronous — and only possible where the calling thread may block: Node (main
 * thread or a worker) and browser workers of cross-origin-isolated pages. Elsewhere (a browser's main thread,
 * pages without cross-origin isolation, a Content Security Policy refusing Blob workers) everything runs on the
 * calling thread and {@link getNumThreads} is 1.
 *
 * Workers start on the first parallel call (or {@link warmThreads}) and boot asynchronously: calls whose worker
 * has not finished booting run on the calling thread, one after another, so the first parallel calls after
 * start-up run on fewer threads — never blocking, and giving the same results. Workers are `unref()`ed (Node):
 * they never keep a process alive.
 */
import { ArgumentError, StateError } from '../errors.js';
import { LruCache } from '../util/lru.js';
import { describeValue } from '../util/own.js';
import {
  ARGS_OFFSET,
  CTRL,
  CTRL_BYTES,
  MAX_ARGS,
  STATE,
  STATUS,
  TEXT_BYTES,
  TEXT_OFFSET,
  WORKER_MEMORY_CAPACITY,
  WORKER_MODULE_CAPACITY,
  WORKER_SOURCE,
} from './worker-source.js';

export { MIN_WORK_PER_THREAD, SPLIT_ALIGN, splitRange } from './split.js';

/** The most threads {@link setNumThreads} accepts. */
export const MAX_THREADS = 64;

/**
 * The most threads used by default: elementwise kernels are bound by memory bandwidth well before eight
 * cores, and a default should leave the rest of the machine to the rest of the program.
 */
export const DEFAULT_MAX_THREADS = 8;

/** The environment variable that sets the default thread count (Node), e.g. `GRADKIT_NUM_THREADS=1`. */
export const NUM_THREADS_ENV = 'GRADKIT_NUM_THREADS';

/**
 * The least time the calling thread waits for a worker's call after finishing its own before it gives up
 * (ms). It waits at least 50 × the time its own call took, whichever is longer.
 */
export const WORKER_TIMEOUT_MS = 10_000;

/** Module ids by program key. Capacity: 1024 programs; a program that falls out gets a new id and is resent. */
const MODULE_ID_CAPACITY = 1024;

/** Instances of programs on the calling thread, by key and memory. Capacity: 256 (as the runtime's programs). */
const CALLER_INSTANCE_CAPACITY = 256;

interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

interface Slot {
  readonly worker: WorkerHandle;
  readonly h: Int32Array;
  readonly args: Float64Array;
  readonly text: Uint8Array;
  /** The module and memory ids sent to this worker, as far as the caller knows (mirrors the worker's caches). */
  readonly modules: LruCache<number, true>;
  readonly memories: LruCache<number, true>;
  seq: number;
  dead: string | null;
}

interface Pool {
  readonly slots: Slot[];
  readonly url: string | null;
}

// ---------------------------------------------------------------- the platform

interface Platform {
  /** Shared memory, Atomics.wait on this thread and a way to start workers are all available. */
  readonly threads: boolean;
  /** The hardware threads reported (1 when unknown). */
  readonly cores: number;
  readonly node: NodeWorkers | null;
}

interface NodeWorkers {
  Worker: new (
    source: string,
    options: { eval: true; name?: string },
  ) => WorkerHandle & {
    unref(): void;
    on(event: 'error' | 'exit', f: (e: unknown) => void): void;
  };
}

type BuiltinLoader = (id: string) => unknown;

function builtinLoader(): BuiltinLoader | null {
  const p = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  const load = p?.getBuiltinModule;
  return typeof load === 'function' ? (load.bind(p) as BuiltinLoader) : null;
}

function canBlock(): boolean {
  try {
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return false;
    if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
    // Throws on a browser's main thread, where the calling thread may not block.
    if (Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0) !== 'not-equal') return false;
    const mem = new WebAssembly.Memory({ initial: 0, maximum: 1, shared: true });
    return mem.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function probe(): Platform {
  const load = builtinLoader();
  if (load !== null) {
    let node: NodeWorkers | null = null;
    let cores = 1;
    try {
      const wt = load('node:worker_threads') as Partial<NodeWorkers> | undefined;
      if (typeof wt?.Worker === 'function') node = wt as NodeWorkers;
      const os = load('node:os') as
        | { availableParallelism?: () => number; cpus?: () => unknown[] }
        | undefined;
      cores = os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1;
    } catch {
      node = null;
    }
    return { threads: node !== null && canBlock(), cores: Math.max(1, cores | 0), node };
  }
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    Worker?: unknown;
    Blob?: unknown;
    URL?: { createObjectURL?: unknown };
  };
  const cores = Math.max(1, (g.navigator?.hardwareConcurrency ?? 1) | 0);
  const workers =
    typeof g.Worker === 'function' &&
    typeof g.Blob === 'function' &&
    typeof g.URL?.createObjectURL === 'function';
  return { threads: workers && canBlock(), cores, node: null };
}

let platform: Platform | null = null;
function getPlatform(): Platform {
  platform ??= probe();
  return platform;
}

/** True when `n` is a thread count {@link setNumThreads} accepts. */
function validCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_THREADS;
}

/** GRADKIT_NUM_THREADS when it holds a valid count (an invalid value is ignored), read once. */
let fromEnv: number | null | undefined;
function envCount(): number | null {
  if (fromEnv === undefined) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const raw = env?.[NUM_THREADS_ENV];
    const n = raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    fromEnv = validCount(n) ? n : null;
  }
  return fromEnv;
}

// ---------------------------------------------------------------- thread count

let requested: number | null = null;
/** Set when starting a worker threw (a Content Security Policy refusing workers): one thread from then on. */
let workersRefused = false;

/**
 * Sets how many threads large WebAssembly kernels may use, the calling thread included (like PyTorch's
 * `torch.set_num_threads`). Results of elementwise kernels do not depend on it.
 *
 * Where threads are unavailable (see {@link getNumThreads}) the setting is kept but one thread is used.
 * Setting 1 stops the worker threads; another count replaces them on the next parallel call.
 *
 * @param n - the number of threads, an integer from 1 to 64
 * @throws ArgumentError when `n` is not an integer from 1 to 64
 */
export function setNumThreads(n: number): void {
  if (!validCount(n)) {
    throw new ArgumentError(
      'setNumThreads',
      `argument 'n' must be an integer from 1 to ${MAX_THREADS}, got ${describeValue(n)}`,
    );
  }
  requested = n;
  if (pool !== null && pool.slots.length !== effectiveCount() - 1) stopPool();
}

function effectiveCount(): number {
  const p = getPlatform();
  if (!p.threads || workersRefused) return 1;
  return requested ?? envCount() ?? Math.min(p.cores, DEFAULT_MAX_THREADS);
}

/**
 * How many threads large WebAssembly kernels use, the calling thread included.
 *
 * The default is what the platform allows: the number of hardware threads (`os.availableParallelism()` in
 * Node, `navigator.hardwareConcurrency` in browsers), at most 8, or the `GRADKIT_NUM_THREADS` environment
 * variable (Node; read once, on first use) when it holds an integer from 1 to 64 (other values are ignored).
 * It is 1 — whatever was set — where the calling
 * thread cannot block on shared memory or start workers: a browser's main thread, a page without
 * cross-origin isolation (no SharedArrayBuffer), a Content Security Policy that refuses Blob workers, a
 * runtime without `process.getBuiltinModule` (Node before 20.16) or without WebAssembly shared memory.
 */
export function getNumThreads(): number {
  return effectiveCount();
}

// ---------------------------------------------------------------- the pool

let pool: Pool | null = null;
let nextModuleId = 1;
const moduleIds = new LruCache<string, { readonly id: number; readonly module: WebAssembly.Module }>(
  MODULE_ID_CAPACITY,
);
let nextMemoryId = 1;
const memoryIds = new WeakMap<WebAssembly.Memory, number>();
const callerInstances = new LruCache<string, { memory: WebAssembly.Memory; instance: WebAssembly.Instance }>(
  CALLER_INSTANCE_CAPACITY,
);

/** Counters for tests: calls run on workers and on the calling thread, pools started and torn down. */
const stats = { workerCalls: 0, callerCalls: 0, poolsStarted: 0, poolsStopped: 0 };

function startWorker(p: Platform, url: string | null): WorkerHandle {
  if (p.node !== null) {
    const w = new p.node.Worker(WORKER_SOURCE, { eval: true, name: 'gradkit-wasm' });
    w.unref();
    return w;
  }
  const W = (globalThis as unknown as { Worker: new (url: string, o?: { name?: string }) => WorkerHandle })
    .Worker;
  return new W(url!, { name: 'gradkit-wasm' });
}

function makePool(workers: number): Pool | null {
  const p = getPlatform();
  let url: string | null = null;
  const slots: Slot[] = [];
  try {
    if (p.node === null) {
      url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    }
    for (let i = 0; i < workers; i++) {
      const ctrl = new SharedArrayBuffer(CTRL_BYTES);
      const worker = startWorker(p, url);
      const slot: Slot = {
        worker,
        h: new Int32Array(ctrl, 0, ARGS_OFFSET / 4),
        args: new Float64Array(ctrl, ARGS_OFFSET, MAX_ARGS),
        text: new Uint8Array(ctrl, TEXT_OFFSET, TEXT_BYTES),
        modules: new LruCache(WORKER_MODULE_CAPACITY),
        memories: new LruCache(WORKER_MEMORY_CAPACITY),
        seq: 0,
        dead: null,
      };
      watch(slot);
      slots.push(slot);
      worker.postMessage({ kind: 'init', ctrl });
    }
  } catch {
    // Workers refused (a Content Security Policy, a sandbox): one thread from now on.
    for (const s of slots) s.worker.terminate();
    if (url !== null) URL.revokeObjectURL(url);
    workersRefused = true;
    return null;
  }
  stats.poolsStarted++;
  return { slots, url };
}

/** Marks a slot dead when its worker reports an error or exits (seen between calls, on the event loop). */
function watch(slot: Slot): void {
  const w = slot.worker as Partial<{
    on(event: string, f: (e: unknown) => void): void;
    addEventListener(event: string, f: (e: unknown) => void): void;
  }>;
  const died = (what: string) => (e: unknown) => {
    slot.dead ??= `${what}${e instanceof Error ? `: ${e.message}` : ''}`;
  };
  if (typeof w.on === 'function') {
    w.on('error', died('worker error'));
    w.on('exit', died('worker exited'));
  } else if (typeof w.addEventListener === 'function') {
    w.addEventListener('error', died('worker failed to start or crashed'));
  }
}

function stopPool(): void {
  const p = pool;
  if (p === null) return;
  pool = null;
  for (const s of p.slots) {
    Atomics.store(s.h, CTRL.STOP, 1);
    Atomics.add(s.h, CTRL.SEQ, 1);
    Atomics.notify(s.h, CTRL.SEQ);
    try {
      s.worker.terminate();
    } catch {
      // already gone
    }
  }
  if (p.url !== null) URL.revokeObjectURL(p.url);
  stats.poolsStopped++;
}

/** The pool for the current thread count (started if need be), or null when one thread is used. */
function currentPool(): Pool | null {
  const workers = effectiveCount() - 1;
  if (workers <= 0) {
    stopPool();
    return null;
  }
  if (pool !== null && pool.slots.length === workers && pool.slots.every((s) => s.dead === null)) return pool;
  stopPool();
  pool = makePool(workers);
  return pool;
}

/**
 * Starts the worker threads for the current thread count now, rather than on the first parallel call, and
 * resolves when they have booted (true), or false when they did not within `timeoutMs` or threads are
 * unavailable. Benchmarks call it so the first timed call already runs on every thread.
 *
 * @internal
 */
export async function warmThreads(timeoutMs = WORKER_TIMEOUT_MS): Promise<boolean> {
  const p = currentPool();
  if (p === null) return false;
  const deadline = performance.now() + timeoutMs;
  while (!p.slots.every((s) => Atomics.load(s.h, CTRL.STATE) !== STATE.BOOT)) {
    if (performance.now() > deadline || pool !== p) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/**
 * The worker pool's state and counters, for tests: live workers, booted workers, calls run on workers and on
 * the calling thread, pools started and stopped.
 *
 * @internal
 */
export function threadPoolInfo(): {
  workers: number;
  ready: number;
  workerCalls: number;
  callerCalls: number;
  poolsStarted: number;
  poolsStopped: number;
} {
  const slots = pool?.slots ?? [];
  return {
    workers: slots.length,
    ready: slots.filter((s) => s.dead === null && Atomics.load(s.h, CTRL.STATE) !== STATE.BOOT).length,
    ...stats,
  };
}

// ---------------------------------------------------------------- running

/** A compiled program: its module, a key naming its structure (same key, same code), optionally an instance. */
export interface ParallelProgram {
  readonly module: WebAssembly.Module;
  readonly key: string;
  /**
   * An instance of `module` over the `memory` given to {@link runParallel}, used for the calling thread's calls
   * (without it one is made and cached).
   */
  readonly instance?: WebAssembly.Instance;
}

/** Options of {@link runParallel}. */
export interface RunParallelOptions {
  /** The op named in errors (default `'runParallel'`). */
  readonly op?: string;
  /** The least time to wait for a worker after the calling thread's own call (ms, default 10 000). */
  readonly timeoutMs?: number;
}

type RunFunction = (...args: number[]) => unknown;

function callerRun(program: ParallelProgram, memory: WebAssembly.Memory, op: string): RunFunction {
  let instance = program.instance;
  if (instance === undefined) {
    const key = `${memoryId(memory)}:${program.key}`;
    const hit = callerInstances.get(key);
    if (hit !== undefined && hit.memory === memory) instance = hit.instance;
    else {
      try {
        instance = new WebAssembly.Instance(program.module, { m: { mem: memory } });
      } catch (e) {
        throw new StateError(op, `cannot instantiate program '${program.key}': ${describeError(e)}`);
      }
      callerInstances.set(key, { memory, instance });
    }
  }
  const run = instance.exports.run;
  if (typeof run !== 'function') throw new StateError(op, `program '${program.key}' exports no function run`);
  return run as RunFunction;
}

function memoryId(memory: WebAssembly.Memory): number {
  let id = memoryIds.get(memory);
  if (id === undefined) {
    id = nextMemoryId++;
    memoryIds.set(memory, id);
  }
  return id;
}

function moduleId(program: ParallelProgram): number {
  const hit = moduleIds.get(program.key);
  if (hit !== undefined) return hit.id;
  const id = nextModuleId++;
  moduleIds.set(program.key, { id, module: program.module });
  return id;
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Sends the module and memory unless the worker is known to hold them. */
function provide(
  slot: Slot,
  program: ParallelProgram,
  mid: number,
  memory: WebAssembly.Memory,
  gid: number,
  force: boolean,
) {
  if (force || slot.modules.get(mid) === undefined) {
    slot.worker.postMessage({ kind: 'module', id: mid, module: program.module });
    slot.modules.set(mid, true);
  }
  if (force || slot.memories.get(gid) === undefined) {
    slot.worker.postMessage({ kind: 'memory', id: gid, memory });
    slot.memories.set(gid, true);
  }
}

/** Hands the call in the slot's control block to its worker. */
function signal(slot: Slot): void {
  const h = slot.h;
  slot.seq = (slot.seq + 1) | 0;
  Atomics.store(h, CTRL.SEQ, slot.seq);
  if (Atomics.load(h, CTRL.STATE) === STATE.HOT) Atomics.notify(h, CTRL.SEQ);
  else slot.worker.postMessage({ kind: 'wake' });
}

function checkCalls(op: string, calls: ReadonlyArray<readonly number[]>): void {
  if (!Array.isArray(calls))
    throw new ArgumentError(op, `calls must be an array, got ${describeValue(calls)}`);
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i];
    if (!Array.isArray(c) || c.length > MAX_ARGS || !c.every((v) => typeof v === 'number')) {
      throw new ArgumentError(
        op,
        `calls[${i}] must be an array of at most ${MAX_ARGS} numbers, got ${describeValue(c)}`,
      );
    }
  }
}

/**
 * Runs `run(...calls[i])` of `program` for every `i` over the shared `memory`, in parallel, and returns when all
 * calls are done: `calls[0]` on the calling thread, the others on worker threads (as many as
 * {@link getNumThreads} − 1 allows and have booted; the rest run on the calling thread after `calls[0]`).
 * The calls must not write the same bytes (each normally gets its own `[start, end)` range, see `splitRange`,
 * and its own control block); which thread runs which call is unspecified.
 *
 * When `memory` is not shared, or one thread is used, the calls run one after another on the calling thread.
 *
 * @param program - the module (it imports `m.mem` and exports `run`) and its structural key: workers compile
 *   nothing, they receive the module once and keep it under this key
 * @param memory - the memory the calls run over (shared, for threads)
 * @param calls - the arguments of each call (at most 16 numbers each)
 * @throws StateError naming `options.op` when a call traps (on any thread — after every other call has
 *   finished), or when a worker dies or does not answer within the timeout (the workers are then stopped,
 *   and started afresh by the next parallel call; a call still running on a stopped worker may write to
 *   `memory` until it is terminated)
 */
export function runParallel(
  program: ParallelProgram,
  memory: WebAssembly.Memory,
  calls: ReadonlyArray<readonly number[]>,
  options?: RunParallelOptions,
): void {
  const op = options?.op ?? 'runParallel';
  checkCalls(op, calls);
  if (calls.length === 0) return;
  const run = callerRun(program, memory, op);
  const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  const p = calls.length > 1 && shared ? currentPool() : null;

  // Hand out calls 1… to booted workers.
  const assigned: Array<{ slot: Slot; call: number }> = [];
  const onCaller: number[] = [0];
  if (p !== null) {
    const mid = moduleId(program);
    const gid = memoryId(memory);
    let next = 0;
    for (let i = 1; i < calls.length; i++) {
      let slot: Slot | undefined;
      while (next < p.slots.length && slot === undefined) {
        const s = p.slots[next++]!;
        if (s.dead === null && Atomics.load(s.h, CTRL.STATE) !== STATE.BOOT) slot = s;
      }
      if (slot === undefined) {
        onCaller.push(i);
        continue;
      }
      provide(slot, program, mid, memory, gid, false);
      const c = calls[i]!;
      Atomics.store(slot.h, CTRL.MODULE, mid);
      Atomics.store(slot.h, CTRL.MEMORY, gid);
      Atomics.store(slot.h, CTRL.NARGS, c.length);
      slot.args.set(c);
      signal(slot);
      assigned.push({ slot, call: i });
    }
  } else {
    for (let i = 1; i < calls.length; i++) onCaller.push(i);
  }

  // The calling thread's share.
  let error: StateError | null = null;
  const started = performance.now();
  for (const i of onCaller) {
    try {
      run(...calls[i]!);
    } catch (e) {
      error ??= new StateError(
        op,
        `call ${i} of ${calls.length} of program '${program.key}' failed on the calling thread: ${describeError(e)}`,
      );
    }
    stats.callerCalls++;
  }
  if (assigned.length === 0) {
    if (error !== null) throw error;
    return;
  }

  // Wait for the workers.
  const base = options?.timeoutMs ?? WORKER_TIMEOUT_MS;
  const deadline = performance.now() + Math.max(base, 50 * (performance.now() - started));
  for (const { slot, call } of assigned) {
    const outcome = awaitCall(slot, program, memory, deadline);
    if (outcome.lost !== undefined) {
      const why =
        outcome.lost === 'dead'
          ? (slot.dead ?? 'the worker died')
          : `no answer within ${Math.round(deadline - started)} ms`;
      stopPool();
      throw new StateError(
        op,
        `call ${call} of ${calls.length} of program '${program.key}' on a worker thread: ${why}; the worker threads were stopped`,
      );
    }
    if (outcome.error !== undefined) {
      error ??= new StateError(
        op,
        `call ${call} of ${calls.length} of program '${program.key}' failed on a worker thread: ${outcome.error}`,
      );
    }
    stats.workerCalls++;
  }
  if (error !== null) throw error;
}

/** How a worker's call ended: fine, with an error (its text), or lost (the worker died or did not answer). */
type Outcome = { error?: string; lost?: 'dead' | 'timeout' };

/**
 * Waits for the slot's call.
 * A worker that lacks the module or memory (its cache forgot them) is sent them again, twice at most.
 */
function awaitCall(
  slot: Slot,
  program: ParallelProgram,
  memory: WebAssembly.Memory,
  deadline: number,
): Outcome {
  const h = slot.h;
  let resent = 0;
  for (;;) {
    const done = Atomics.load(h, CTRL.DONE);
    if (done === slot.seq) {
      const status = Atomics.load(h, CTRL.STATUS);
      if (status === STATUS.OK) return {};
      if (status === STATUS.ERROR) {
        const n = Math.min(Atomics.load(h, CTRL.ERRLEN), TEXT_BYTES);
        return { error: new TextDecoder().decode(slot.text.slice(0, n)) };
      }
      if (resent++ >= 2) return { error: 'the worker did not receive the module' };
      provide(slot, program, Atomics.load(h, CTRL.MODULE), memory, Atomics.load(h, CTRL.MEMORY), true);
      signal(slot);
      continue;
    }
    if (slot.dead !== null) return { lost: 'dead' };
    const left = deadline - performance.now();
    if (left <= 0) return { lost: 'timeout' };
    Atomics.wait(h, CTRL.DONE, done, Math.min(left, 1000));
  }
}
