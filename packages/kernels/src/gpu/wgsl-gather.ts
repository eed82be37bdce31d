/**
 * Row gathers and their adjoint, scatter-adds, on WebGPU: the kernels of indexSelect, gather and the
 * embedding lookup on device tensors, and of their backward passes.
 *
 * WGSL has no floating-point atomics, so the scatter-add does not add concurrently. The host (which holds
 * the indices) sorts them into a compressed table, for each target row the list of source rows that point at
 * it in ascending order; then one thread per target element adds its sources in that order. The sums are
 * deterministic: the same inputs give the same bits on every run, whatever the scheduling.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { ELEMENT_WORKGROUP, elementGrid, FLAT_ID_WGSL, uniformU32, uploadU32 } from './wgsl-common.js';

/**
 * The layout of a row gather: the source is `[outer, srcRows, inner]`, the gathered array
 * `[outer, index.length, inner]`, and gathered row `i` is source row `index[i]` (in every outer block).
 */
export interface RowGather {
  /** Product of the dimensions before the indexed one. */
  readonly outer: number;
  /** Size of the indexed dimension in the source (every index is below it). */
  readonly srcRows: number;
  /** Product of the dimensions after the indexed one. */
  readonly inner: number;
  /** The source row of each gathered row. */
  readonly index: Uint32Array;
}

const GATHER_WGSL = `
struct P { n: u32, m: u32, size: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${FLAT_ID_WGSL}
@compute @workgroup_size(${ELEMENT_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = flatId(wg, nwg, lid);
  if (t >= p.n) { return; }
  let j = t % p.inner;
  let row = t / p.inner;
  let i = row % p.m;
  let o = row / p.m;
  out[t] = src[(o * p.size + index[i]) * p.inner + j];
}`;

const SCATTER_WGSL = `
struct P { n: u32, m: u32, size: u32, inner: u32, hasbase: u32, listbase: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> base: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${FLAT_ID_WGSL}
@compute @workgroup_size(${ELEMENT_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = flatId(wg, nwg, lid);
  if (t >= p.n) { return; }
  let j = t % p.inner;
  let row = t / p.inner;
  let s = row % p.size;
  let o = row / p.size;
  var acc = 0.0;
  if (p.hasbase != 0u) { acc = base[t]; }
  let end = table[s + 1u];
  for (var q = table[s]; q < end; q++) {
    acc += src[(o * p.m + table[p.listbase + q]) * p.inner + j];
  }
  out[t] = acc;
}`;

function checkLayout(op: string, g: RowGather): void {
  const { outer, srcRows, inner, index } = g;
  const ok = [outer, srcRows, inner].every((v) => Number.isSafeInteger(v) && v >= 0 && v < 2 ** 32);
  if (!ok || !(index instanceof Uint32Array)) {
    throw new ArgumentError(op, 'a row gather needs non-negative integer sizes and a Uint32Array index');
  }
  for (let i = 0; i < index.length; i++) {
    if (index[i]! >= srcRows) {
      throw new ShapeError(op, `index ${index[i]} at position ${i} is out of range for ${srcRows} rows`);
    }
  }
}

/**
 * The rows `index` of `src` (laid out as {@link RowGather} says): a new array of
 * `outer * index.length * inner` values.
 *
 * @throws ShapeError when an index is out of range or `src` does not have `outer * srcRows * inner` values
 */
export function deviceGatherRows(rt: WebGpuArrays, op: string, src: DeviceArray, g: RowGather): DeviceArray {
  checkLayout(op, g);
  const { outer, srcRows, inner, index } = g;
  if (src.length !== outer * srcRows * inner) {
    throw new ShapeError(op, `the source has ${src.length} values, expected ${outer * srcRows * inner}`);
  }
  const n = outer * index.length * inner;
  const table = uploadU32(rt, op, index);
  try {
    return rt.compute(op, {
      code: GATHER_WGSL,
      inputs: [src, table],
      outputs: [n],
      params: uniformU32([n, index.length, srcRows, inner]),
      workgroups: elementGrid(rt, op, n),
    })[0]!;
  } finally {
    table.dispose();
  }
}

/**
 * The adjoint of {@link deviceGatherRows}: `base` (or zeros when null; `outer * srcRows * inner` values)
 * plus each row of `src` (`outer * index.length * inner` values) added into source row `index[i]`. Rows
 * with the same target are added in ascending `i`, by one thread per target element: deterministic.
 *
 * @throws ShapeError when an index is out of range or an array has the wrong length
 */
export function deviceScatterAddRows(
  rt: WebGpuArrays,
  op: string,
  base: DeviceArray | null,
  src: DeviceArray,
  g: RowGather,
): DeviceArray {
  checkLayout(op, g);
  const { outer, srcRows, inner, index } = g;
  const n = outer * srcRows * inner;
  const m = index.length;
  if (src.length !== outer * m * inner || (base !== null && base.length !== n)) {
    throw new ShapeError(
      op,
      `scatter-add of ${src.length} values into ${base?.length ?? n} does not fit [${outer}, ${m} → ${srcRows}, ${inner}]`,
    );
  }
  // Counting sort of the positions by target row: table = [start of each row…, end, positions…].
  const table = new Uint32Array(srcRows + 1 + m);
  for (let i = 0; i < m; i++) table[index[i]! + 1]++;
  for (let s = 0; s < srcRows; s++) table[s + 1] += table[s]!;
  const fill = table.slice(0, srcRows);
  for (let i = 0; i < m; i++) table[srcRows + 1 + fill[index[i]!]!++] = i;
  const uploaded = uploadU32(rt, op, table);
  try {
    return rt.compute(op, {
      code: SCATTER_WGSL,
      inputs: [src, uploaded, base ?? src],
      outputs: [n],
      params: uniformU32([n, m, srcRows, inner, base === null ? 0 : 1, srcRows + 1, 0, 0]),
      workgroups: elementGrid(rt, op, n),
    })[0]!;
  } finally {
    uploaded.dispose();
  }
}
