/**
 * Running generated WebAssembly programs: one memory shared by every program (arena.ts), compiled modules
 * cached by program structure, and the driver {@link runWasm}.
 *
 * Data movement: an array that lives in the kernels' memory (storage of `allocateStorage`, where the memory
 * is shared) is read and written in place — its address goes into the call's control block. Any other array
 * is copied into a scratch buffer and its outputs back, {@link CHUNK} elements at a time (the chunk buffers
 * stay in cache, and a copy between typed arrays of one type is a memcpy); broadcast inputs are gathered
 * chunk by chunk (a stride-0 last dimension is a fill, stride 1 a copy), scalars become parameters.
 *
 * Threads: a zero-copy run of at least a few thousand elements (how many depends on the program's cost, see
 * `splitRange`) is split between {@link getNumThreads} threads (threads.ts `runParallel`), at multiples of
 * {@link SUM_BLOCK} when the program sums: every thread computes whole sum blocks and the partials are added
 * in block order on the calling thread, so stored values and sums are bit for bit those of one thread. Runs
 * that copy (an input or output outside the kernels' memory, a broadcast input) stay on the calling thread:
 * their copies would cost about what the threads save.
 *
 * Compilation is synchronous where the engine allows it (Node, workers). Where it refuses a large module
 * synchronously (a browser's main thread), the module is compiled asynchronously and the program runs on
 * JavaScript until it is ready; where WebAssembly or its SIMD extension is missing or refused (a Content
 * Security Policy without 'wasm-unsafe-eval'), everything runs on JavaScript.
 */
import type { NumericArray } from '../codegen/js.js';
import { LruCache } from '../util/lru.js';
import {
  arenaAddress,
  giveBack,
  heap,
  memoryImport,
  memoryShared,
  takeScratch,
  wasmMemory,
  wasmSimdAvailable,
} from './arena.js';
import {
  type ControlLayout,
  controlLayout,
  generateWasm,
  programCost,
  SUM_BLOCK,
  type WasmProgramSpec,
} from './generate.js';
import { SPLIT_ALIGN, splitRange } from './split.js';
import { getNumThreads, runParallel } from './threads.js';

/** Elements per chunk of the copy path (a multiple of {@link SUM_BLOCK}). */
export const CHUNK = 2 * SUM_BLOCK;

/**
 * A compiled program. `run(ctrl, start, end)` is the module's export (see generate.ts `ControlLayout` for
 * the control block); `module` can be instantiated elsewhere (a worker) on the same shared memory with
 * `new WebAssembly.Instance(module, { m: { mem } })`.
 */
export interface WasmProgram {
  readonly run: (ctrl: number, start: number, end: number) => void;
  readonly module: WebAssembly.Module;
  /** The instance of `module` on the kernels' memory whose export is `run`. */
  readonly instance: WebAssembly.Instance;
  /** The program's structure and variant (the cache key; the thread pool keeps the module under it). */
  readonly key: string;
  /** The per-element cost hint given to `splitRange` (generate.ts `programCost`). */
  readonly cost: number;
  readonly layout: ControlLayout;
  readonly spec: WasmProgramSpec;
}

/** A broadcast input: `data` read at `sum_d idx[d] * strides[d]` for the element at multi-index `idx`. */
export interface StridedSource {
  readonly data: NumericArray;
  readonly strides: readonly number[];
  readonly shape: readonly number[];
}

/** One input of a run: a number (scalar), a flat array, or a broadcast source. */
export type WasmInput = number | NumericArray | StridedSource;

/**
 * Counters for tests: modules compiled, modules refused, program runs (calls that ran on WebAssembly), of
 * those the runs that copied nothing (every array in the kernels' memory), and of those the runs split
 * between threads.
 */
const stats = { compiled: 0, refused: 0, runs: 0, zeroCopyRuns: 0, parallelRuns: 0 };

/**
 * How many modules were compiled, how many refused, how many kernel calls ran on WebAssembly, how many of
 * those read and wrote every array in place (zero-copy), and how many of those were split into ranges for
 * several threads (`parallelRuns`; the ranges run on workers once they have booted), since the module was
 * loaded (monotonic; tests use it to check which backend and which data path ran).
 *
 * @internal
 */
export function wasmStats(): Readonly<{
  compiled: number;
  refused: number;
  runs: number;
  zeroCopyRuns: number;
  parallelRuns: number;
}> {
  return { ...stats };
}

/**
 * Programs by structure and variant. Capacity: 256 — the distinct elementwise and loss programs (and their
 * variants) a model runs in float32, with room to spare; a program that falls out is recompiled on its next
 * use. `'pending'` marks an asynchronous compilation under way, null a refused one.
 */
const PROGRAM_CAPACITY = 256;
const programs = new LruCache<string, WasmProgram | 'pending' | null>(PROGRAM_CAPACITY);

function instantiate(module: WebAssembly.Module, spec: WasmProgramSpec, key: string): WasmProgram {
  const instance = new WebAssembly.Instance(module, { m: { mem: wasmMemory()! } });
  stats.compiled++;
  return {
    run: instance.exports.run as (ctrl: number, start: number, end: number) => void,
    module,
    instance,
    key,
    cost: programCost(spec),
    layout: controlLayout(spec),
    spec,
  };
}

/**
 * The compiled program for `spec` under `key` (its structure and variant), compiling it on first use; null
 * while it is compiled asynchronously or where it was refused (the caller then runs JavaScript).
 */
export function wasmProgram(key: string, spec: () => WasmProgramSpec): WasmProgram | null {
  if (!wasmSimdAvailable()) return null;
  const hit = programs.get(key);
  if (hit !== undefined) return hit === 'pending' ? null : hit;
  const s = spec();
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = generateWasm(s, memoryImport());
  } catch {
    stats.refused++;
    programs.set(key, null);
    return null;
  }
  try {
    const program = instantiate(new WebAssembly.Module(bytes), s, key);
    programs.set(key, program);
    return program;
  } catch (e) {
    if (e instanceof RangeError && typeof WebAssembly.compile === 'function') {
      // Synchronous compilation of a large module refused (a browser's main thread): compile it in the
      // background and run JavaScript meanwhile.
      programs.set(key, 'pending');
      WebAssembly.compile(bytes).then(
        (m) => {
          try {
            programs.set(key, instantiate(m, s, key));
          } catch {
            stats.refused++;
            programs.set(key, null);
          }
        },
        () => {
          stats.refused++;
          programs.set(key, null);
        },
      );
      return null;
    }
    stats.refused++;
    programs.set(key, null);
    return null;
  }
}

/** Writes elements `off … off+len−1` (row-major over `shape`) of a broadcast source into `dst[at …]`. */
function gather(dst: NumericArray, at: number, s: StridedSource, off: number, len: number): void {
  const { data, strides, shape } = s;
  const rank = shape.length;
  if (rank === 0) {
    dst[at] = data[0]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const step = strides[rank - 1]!;
  let row = Math.floor(off / inner);
  let j = off - row * inner;
  let done = 0;
  while (done < len) {
    let base = 0;
    let r = row;
    for (let d = rank - 2; d >= 0; d--) {
      const size = shape[d]!;
      const i = r % size;
      r = (r - i) / size;
      base += i * strides[d]!;
    }
    const count = Math.min(inner - j, len - done);
    const b0 = base + j * step;
    const to = at + done;
    if (step === 1) dst.set(data.subarray(b0, b0 + count), to);
    else if (step === 0) dst.fill(data[b0]!, to, to + count);
    else for (let t = 0; t < count; t++) dst[to + t] = data[b0 + t * step]!;
    done += count;
    j = 0;
    row++;
  }
}

/**
 * Runs a zero-copy program over [0, n) with its control block at `ctrl`: split between threads when more than
 * one is allowed, the memory is shared and the work is worth it (ranges at multiples of {@link SUM_BLOCK}
 * when the program sums, so each block's partial is computed by one call, as on one thread). Every call reads
 * the same control block (the program only reads it) and writes its own blocks' partials.
 */
function runZeroCopy(program: WasmProgram, ctrl: number, n: number, summing: boolean): void {
  const threads = getNumThreads();
  if (threads > 1 && memoryShared()) {
    const ranges = splitRange(n, threads, program.cost, summing ? SUM_BLOCK : SPLIT_ALIGN);
    if (ranges.length > 1) {
      let ok = false;
      try {
        runParallel(
          program,
          wasmMemory()!,
          ranges.map(([start, end]) => [ctrl, start, end]),
          { op: 'runWasm' },
        );
        ok = true;
      } catch {
        // A worker died or did not answer (the pool is stopped), or a call trapped: run everything again on
        // this thread, which writes the same values (and throws the trap, if any, as a one-thread run does).
      }
      if (ok) {
        stats.parallelRuns++;
        return;
      }
    }
  }
  program.run(ctrl, 0, n);
}

/** The smallest positive float32 (a subnormal) and the largest finite one. */
const MIN32 = 2 ** -149;
const MAX32 = 3.4028234663852886e38;

/**
 * A program constant as the kernel will see it (rounded to float32 by the kernel): a nonzero finite
 * constant that float32 would round to ±0 becomes the smallest float32 of its sign, one it would round to
 * ±inf the largest, so guards such as `max(q, 1e-100)` keep their meaning (q stays positive).
 */
function saturate32(v: number): number {
  const r = Math.fround(v);
  if (r === 0 && v !== 0) return v > 0 ? MIN32 : -MIN32;
  if (!Number.isFinite(r) && Number.isFinite(v)) return v > 0 ? MAX32 : -MAX32;
  return v;
}

/**
 * Runs a program over `n` elements: `inputs` per variable (a number for the program's scalar variables),
 * `outputs` for the stored outputs (null for the others), `sums[j]` receiving the float64 sum of each summed
 * output (0 for the others). Arrays in the kernels' memory are used in place; the others are copied chunk
 * by chunk. Returns false (having written nothing) when the memory cannot hold the call's scratch.
 */
export function runWasm(
  program: WasmProgram,
  params: Float64Array,
  inputs: readonly WasmInput[],
  outputs: ReadonlyArray<NumericArray | null>,
  n: number,
  sums: Float64Array | null,
): boolean {
  const { layout: L, spec } = program;
  const V = inputs.length;
  const J = outputs.length;
  // Where each array is: its address in memory, or -1 (copied through a chunk buffer).
  const inAt = new Array<number>(V).fill(-1);
  const outAt = new Array<number>(J).fill(-1);
  let copies = 0;
  for (let k = 0; k < V; k++) {
    if (spec.scalar[k]) continue;
    const src = inputs[k]!;
    const at = ArrayBuffer.isView(src) ? arenaAddress(src) : -1;
    if (at >= 0) inAt[k] = at;
    else copies++;
  }
  let summed = 0;
  for (let j = 0; j < J; j++) {
    if (spec.sum[j]) summed++;
    if (!spec.store[j]) continue;
    const out = outputs[j];
    const at = out !== null && out !== undefined ? arenaAddress(out) : -1;
    if (at >= 0) outAt[j] = at;
    else copies++;
  }
  const blocks = summed > 0 ? Math.ceil(n / SUM_BLOCK) : 0;
  const partBytes = Math.ceil((8 * blocks * summed) / 16) * 16;
  const chunkBytes = 4 * CHUNK;
  const scratch = takeScratch(L.bytes + partBytes + copies * chunkBytes);
  if (scratch === null) return false;
  const { i32, f32, f64 } = heap();
  const ctrl = scratch.addr;
  // Control block: addresses, partials, parameters and scalars.
  let s = (ctrl + L.params) / 8;
  for (let p = 0; p < params.length; p++) f64[s++] = saturate32(params[p]!);
  const part = new Array<number>(J).fill(0);
  let at = ctrl + L.bytes;
  for (let j = 0; j < J; j++) {
    if (!spec.sum[j]) continue;
    part[j] = at;
    i32[(ctrl + L.parts) / 4 + j] = at;
    at += 8 * blocks;
  }
  at = ctrl + L.bytes + partBytes;
  const inBuf = new Array<number>(V).fill(-1);
  const outBuf = new Array<number>(J).fill(-1);
  for (let k = 0; k < V; k++) {
    if (spec.scalar[k]) f64[s++] = +(inputs[k] as number);
    else if (inAt[k]! >= 0) i32[(ctrl + L.vars) / 4 + k] = inAt[k]!;
    else {
      inBuf[k] = at;
      at += chunkBytes;
    }
  }
  for (let j = 0; j < J; j++) {
    if (!spec.store[j]) continue;
    if (outAt[j]! >= 0) i32[(ctrl + L.outs) / 4 + j] = outAt[j]!;
    else {
      outBuf[j] = at;
      at += chunkBytes;
    }
  }
  const run = program.run;
  if (copies === 0) {
    runZeroCopy(program, ctrl, n, summed > 0);
    stats.zeroCopyRuns++;
  } else {
    for (let off = 0; off < n; off += CHUNK) {
      const len = Math.min(CHUNK, n - off);
      for (let k = 0; k < V; k++) {
        const buf = inBuf[k]!;
        if (buf < 0) continue;
        const src = inputs[k]!;
        if (ArrayBuffer.isView(src)) f32.set(src.subarray(off, off + len), buf / 4);
        else gather(f32, buf / 4, src as StridedSource, off, len);
        i32[(ctrl + L.vars) / 4 + k] = (buf - 4 * off) | 0;
      }
      for (let j = 0; j < J; j++) {
        const buf = outBuf[j]!;
        if (buf >= 0) i32[(ctrl + L.outs) / 4 + j] = (buf - 4 * off) | 0;
      }
      run(ctrl, off, off + len);
      for (let j = 0; j < J; j++) {
        const buf = outBuf[j]!;
        const out = outputs[j];
        if (buf < 0 || out === null || out === undefined) continue;
        out.set(f32.subarray(buf / 4, buf / 4 + len), off);
      }
    }
  }
  if (sums !== null) {
    for (let j = 0; j < J; j++) {
      let t = 0;
      if (spec.sum[j]) {
        const p = part[j]! / 8;
        for (let b = 0; b < blocks; b++) t += f64[p + b]!;
      }
      sums[j] = t;
    }
  }
  giveBack(scratch);
  stats.runs++;
  return true;
}

export { wasmSimdAvailable };
