/**
 * Strided copies and sums on WebGPU, the kernels of the shape ops on device tensors: reading a strided
 * window of a contiguous array into a new contiguous one (transpose, permute, expand, slice, split),
 * writing a contiguous array into a window of another (the adjoint: slice backward, concat), and summing
 * over dimensions (the adjoint of expand). Shapes and strides travel in the uniform buffer (at most
 * {@link MAX_STRIDED_RANK} dimensions); every thread handles one element, so no two threads write the same
 * place and the results are deterministic.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { ELEMENT_WORKGROUP, elementGrid, FLAT_ID_WGSL } from './wgsl-common.js';

/** The most dimensions a strided window may have (gradkit's tensor rank limit). */
export const MAX_STRIDED_RANK = 64;

/** A strided window into a contiguous array: element `idx` is at `offset + Σ idx[d] * strides[d]`. */
export interface DeviceWindow {
  /** The window's shape. */
  readonly shape: readonly number[];
  /** The element stride of each window dimension (0 repeats an element). */
  readonly strides: readonly number[];
  /** The element offset of the window's first element. */
  readonly offset: number;
}

const META = `
fn dimAt(d: u32) -> u32 { return p.dims[d / 4u][d % 4u]; }
fn strideAt(d: u32) -> u32 { return p.dims[${MAX_STRIDED_RANK / 4}u + d / 4u][d % 4u]; }
fn windowIndex(flat: u32) -> u32 {
  var rem = flat;
  var at = p.offset;
  for (var d = p.rank; d > 0u; d--) {
    let size = dimAt(d - 1u);
    at += (rem % size) * strideAt(d - 1u);
    rem = rem / size;
  }
  return at;
}`;

function stridedWgsl(write: boolean): string {
  return `
struct P { n: u32, rank: u32, offset: u32, pad: u32, dims: array<vec4<u32>, ${MAX_STRIDED_RANK / 2}> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${META}
${FLAT_ID_WGSL}
@compute @workgroup_size(${ELEMENT_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatId(wg, nwg, lid);
  if (i >= p.n) { return; }
  ${write ? 'dst[windowIndex(i)] = src[i];' : 'dst[i] = src[windowIndex(i)];'}
}`;
}

const READ_WGSL = stridedWgsl(false);
const WRITE_WGSL = stridedWgsl(true);

function checkWindow(op: string, w: DeviceWindow, arrayLength: number, what: string): number {
  const { shape, strides, offset } = w;
  if (!Array.isArray(shape) || !Array.isArray(strides) || shape.length !== strides.length) {
    throw new ArgumentError(op, 'a window needs a shape and one stride per dimension');
  }
  if (shape.length > MAX_STRIDED_RANK) {
    throw new ShapeError(op, `a window has at most ${MAX_STRIDED_RANK} dimensions, got ${shape.length}`);
  }
  const ok = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 2 ** 32;
  if (!ok(offset) || !shape.every(ok) || !strides.every(ok)) {
    throw new ArgumentError(op, 'window sizes, strides and offset must be integers in 0…2^32-1');
  }
  let n = 1;
  let last = offset;
  shape.forEach((d, i) => {
    n *= d;
    last += (d - 1) * strides[i]!;
  });
  if (n > 0 && last >= arrayLength) {
    throw new ShapeError(
      op,
      `the window reads or writes element ${last} of ${what} of ${arrayLength} elements`,
    );
  }
  return n;
}

function windowParams(n: number, w: DeviceWindow): ArrayBuffer {
  const buf = new ArrayBuffer(16 + MAX_STRIDED_RANK * 8);
  const u = new Uint32Array(buf);
  u[0] = n;
  u[1] = w.shape.length;
  u[2] = w.offset;
  u.set(w.shape, 4);
  u.set(w.strides, 4 + MAX_STRIDED_RANK);
  return buf;
}

/**
 * The elements of the window of `src`, as a new contiguous array (row-major over the window's shape).
 *
 * @throws ShapeError when the window reaches past `src` or has too many dimensions
 */
export function deviceStridedRead(
  rt: WebGpuArrays,
  op: string,
  src: DeviceArray,
  w: DeviceWindow,
): DeviceArray {
  const n = checkWindow(op, w, src.length, 'the source');
  return rt.compute(op, {
    code: READ_WGSL,
    inputs: [src],
    outputs: [n],
    params: windowParams(n, w),
    workgroups: elementGrid(rt, op, n),
  })[0]!;
}

/**
 * Writes the contiguous elements of `src` (as many as the window has) into the window of `dst`, in place.
 * The window must not repeat an element (else the result is unspecified).
 *
 * @throws ShapeError when the window reaches past `dst` or `src` has the wrong length
 */
export function deviceStridedWrite(
  rt: WebGpuArrays,
  op: string,
  dst: DeviceArray,
  w: DeviceWindow,
  src: DeviceArray,
): void {
  const n = checkWindow(op, w, dst.length, 'the destination');
  if (src.length !== n) {
    throw new ShapeError(op, `the window holds ${n} elements but the source has ${src.length}`);
  }
  rt.compute(op, {
    code: WRITE_WGSL,
    inputs: [src],
    inOut: [dst],
    outputs: [],
    params: windowParams(n, w),
    workgroups: elementGrid(rt, op, n),
  });
}

const SUM_WGSL = `
struct P { n: u32, rank: u32, nsum: u32, count: u32, dims: array<vec4<u32>, ${MAX_STRIDED_RANK}> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
fn dimAt(d: u32) -> u32 { return p.dims[d / 4u][d % 4u]; }
fn strideAt(d: u32) -> u32 { return p.dims[${MAX_STRIDED_RANK / 4}u + d / 4u][d % 4u]; }
fn innerDim(d: u32) -> u32 { return p.dims[${MAX_STRIDED_RANK / 2}u + d / 4u][d % 4u]; }
fn innerStride(d: u32) -> u32 { return p.dims[${(3 * MAX_STRIDED_RANK) / 4}u + d / 4u][d % 4u]; }
${FLAT_ID_WGSL}
@compute @workgroup_size(${ELEMENT_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatId(wg, nwg, lid);
  if (i >= p.n) { return; }
  var rem = i;
  var base = 0u;
  for (var d = p.rank; d > 0u; d--) {
    let size = dimAt(d - 1u);
    base += (rem % size) * strideAt(d - 1u);
    rem = rem / size;
  }
  // Kahan-compensated sum over the summed dimensions, in row-major order.
  var s = 0.0;
  var comp = 0.0;
  for (var r = 0u; r < p.count; r++) {
    var rr = r;
    var at = base;
    for (var d = p.nsum; d > 0u; d--) {
      let size = innerDim(d - 1u);
      at += (rr % size) * innerStride(d - 1u);
      rr = rr / size;
    }
    let y = src[at] - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  dst[i] = s;
}`;

/**
 * Sums a contiguous array of `shape` over `axes`: the result has the other dimensions, in order
 * (row-major). One thread per result element adds its elements in row-major order with Kahan compensation,
 * so the result is deterministic.
 *
 * @throws ArgumentError / ShapeError for axes out of range or repeated, or a shape that does not fit `src`
 */
export function deviceSumAxes(
  rt: WebGpuArrays,
  op: string,
  src: DeviceArray,
  shape: readonly number[],
  axes: readonly number[],
): DeviceArray {
  if (shape.length > MAX_STRIDED_RANK) {
    throw new ShapeError(op, `at most ${MAX_STRIDED_RANK} dimensions, got ${shape.length}`);
  }
  if (
    !axes.every((a) => Number.isInteger(a) && a >= 0 && a < shape.length) ||
    new Set(axes).size !== axes.length
  ) {
    throw new ArgumentError(
      op,
      `axes ${JSON.stringify(axes)} must be distinct dimensions of a rank-${shape.length} shape`,
    );
  }
  const strides: number[] = new Array<number>(shape.length);
  let size = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = size;
    size *= shape[d]!;
  }
  if (size !== src.length) {
    throw new ShapeError(
      op,
      `shape [${shape.join(', ')}] has ${size} elements but the array has ${src.length}`,
    );
  }
  const keep = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const sum = [...axes].sort((x, y) => x - y);
  const n = keep.reduce((p, d) => p * shape[d]!, 1);
  const count = sum.reduce((p, d) => p * shape[d]!, 1);
  const buf = new ArrayBuffer(16 + MAX_STRIDED_RANK * 16);
  const u = new Uint32Array(buf);
  u[0] = n;
  u[1] = keep.length;
  u[2] = sum.length;
  u[3] = count;
  u.set(
    keep.map((d) => shape[d]!),
    4,
  );
  u.set(
    keep.map((d) => strides[d]!),
    4 + MAX_STRIDED_RANK,
  );
  u.set(
    sum.map((d) => shape[d]!),
    4 + 2 * MAX_STRIDED_RANK,
  );
  u.set(
    sum.map((d) => strides[d]!),
    4 + 3 * MAX_STRIDED_RANK,
  );
  return rt.compute(op, {
    code: SUM_WGSL,
    inputs: [src],
    outputs: [n],
    params: buf,
    workgroups: elementGrid(rt, op, n),
  })[0]!;
}
