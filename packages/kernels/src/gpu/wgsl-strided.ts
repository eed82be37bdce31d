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
