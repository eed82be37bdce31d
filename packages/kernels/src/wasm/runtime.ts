/**
 * Running generated WebAssembly programs: one growable linear memory shared by every program, compiled
 * modules cached by program structure, and the chunked copy-in / run / copy-out driver.
 *
 * Data movement: typed arrays live in JavaScript, so each call copies its inputs into the module's memory
 * and its stored outputs back, {@link CHUNK} elements at a time (the chunk buffers stay in cache, and a copy
 * between typed arrays of one type is a memcpy). Broadcast inputs are gathered chunk by chunk (a stride-0
 * last dimension is a fill, stride 1 a copy), scalars become parameters.
 *
 * Compilation is synchronous where the engine allows it (Node, workers). Where it refuses a large module
 * synchronously (a browser's main thread), the module is compiled asynchronously and the program runs on
 * JavaScript until it is ready; where WebAssembly or its SIMD extension is missing or refused (a Content
 * Security Policy without 'wasm-unsafe-eval'), everything runs on JavaScript.
 */
import type { NumericArray } from '../codegen/js.js';
import { LruCache } from '../util/lru.js';
import { Body, moduleBytes } from './emit.js';
import { CHUNK, generateWasm, layoutOf, type WasmLayout, type WasmProgramSpec } from './generate.js';

/** A compiled program: `run(len)` over the chunk buffers of `layout`. */
export interface WasmProgram {
  readonly run: (len: number) => void;
  readonly layout: WasmLayout;
  readonly elementBytes: 4 | 8;
}

/** A broadcast input: `data` read at `sum_d idx[d] * strides[d]` for the element at multi-index `idx`. */
export interface StridedSource {
  readonly data: NumericArray;
  readonly strides: readonly number[];
  readonly shape: readonly number[];
}

/** One input of a run: a number (scalar), a flat array, or a broadcast source. */
export type WasmInput = number | NumericArray | StridedSource;

/** Largest memory asked for (addresses stay below 2^31). */
const MAX_BYTES = 2 ** 31 - 2 ** 16;

let memory: WebAssembly.Memory | null = null;
let view32 = new Float32Array(0);
let view64 = new Float64Array(0);

/** Counters for tests: modules compiled, modules refused, and program runs (calls that ran on WebAssembly). */
const stats = { compiled: 0, refused: 0, runs: 0 };

/**
 * How many modules were compiled, how many refused, and how many kernel calls ran on WebAssembly since the
 * module was loaded (monotonic; tests use it to check which backend ran).
 *
 * @internal
 */
export function wasmStats(): Readonly<{ compiled: number; refused: number; runs: number }> {
  return { ...stats };
}

function reserve(bytes: number): boolean {
  if (memory === null) return false;
  const have = memory.buffer.byteLength;
  if (bytes > have) {
    if (bytes > MAX_BYTES) return false;
    try {
      memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return false;
    }
  }
  if (view32.buffer !== memory.buffer) {
    view32 = new Float32Array(memory.buffer);
    view64 = new Float64Array(memory.buffer);
  }
  return true;
}

/**
 * Programs by structure and variant. Capacity: 256 — the distinct elementwise and loss programs (and their
 * variants) a model runs in float32, with room to spare; a program that falls out is recompiled on its next
 * use. `'pending'` marks an asynchronous compilation under way, null a refused one.
 */
const PROGRAM_CAPACITY = 256;
const programs = new LruCache<string, WasmProgram | 'pending' | null>(PROGRAM_CAPACITY);

function instantiate(module: WebAssembly.Module, layout: WasmLayout, es: 4 | 8): WasmProgram {
  const instance = new WebAssembly.Instance(module, { m: { mem: memory! } });
  stats.compiled++;
  return { run: instance.exports.run as (len: number) => void, layout, elementBytes: es };
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
  const layout = layoutOf(s);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = generateWasm(s, layout);
  } catch {
    stats.refused++;
    programs.set(key, null);
    return null;
  }
  try {
    const program = instantiate(new WebAssembly.Module(bytes), layout, s.elementBytes);
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
            programs.set(key, instantiate(m, layout, s.elementBytes));
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
 * Runs a program over `n` elements: `inputs` per variable (a number for the program's scalar variables),
 * `outputs` for the stored outputs (null for the others), `sums[j]` receiving the float64 sum of each summed
 * output. Returns false (having written nothing) when the memory cannot hold the program's buffers.
 */
export function runWasm(
  program: WasmProgram,
  params: Float64Array,
  inputs: readonly WasmInput[],
  outputs: ReadonlyArray<NumericArray | null>,
  n: number,
  sums: Float64Array | null,
): boolean {
  const { layout, elementBytes: es } = program;
  if (!reserve(layout.bytes)) return false;
  const view = es === 4 ? view32 : view64;
  const p0 = layout.params / 8;
  view64.set(params, p0);
  let s = p0 + params.length;
  for (let k = 0; k < inputs.length; k++) {
    if (layout.inputs[k] === -1) view64[s++] = +(inputs[k] as number);
  }
  const s0 = layout.sums / 8;
  view64.fill(0, s0, s0 + outputs.length);
  const run = program.run;
  for (let off = 0; off < n; off += CHUNK) {
    const len = Math.min(CHUNK, n - off);
    for (let k = 0; k < inputs.length; k++) {
      const at = layout.inputs[k]!;
      if (at === -1) continue;
      const src = inputs[k]!;
      if (ArrayBuffer.isView(src)) view.set(src.subarray(off, off + len), at / es);
      else gather(view, at / es, src as StridedSource, off, len);
    }
    run(len);
    for (let j = 0; j < outputs.length; j++) {
      const out = outputs[j];
      const at = layout.outputs[j]!;
      if (out === null || out === undefined || at === -1) continue;
      out.set(view.subarray(at / es, at / es + len), off);
    }
  }
  if (sums !== null) for (let j = 0; j < outputs.length; j++) sums[j] = view64[s0 + j]!;
  stats.runs++;
  return true;
}

let available: boolean | undefined;

/**
 * Whether WebAssembly with the SIMD extension can run generated programs here (checked once: a small
 * program is compiled and run, and its results compared).
 */
export function wasmSimdAvailable(): boolean {
  if (available === undefined) available = probe();
  return available;
}

function probe(): boolean {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) return false;
  try {
    // A module that needs the SIMD extension: v128.const, drop.
    const body = new Body(0).f64x2(1).op(0x1a);
    if (!WebAssembly.validate(moduleBytes([{ name: 'probe', params: 0, body }]))) return false;
    memory = new WebAssembly.Memory({ initial: 4 });
    view32 = new Float32Array(memory.buffer);
    view64 = new Float64Array(memory.buffer);
    return true;
  } catch {
    memory = null;
    return false;
  }
}
