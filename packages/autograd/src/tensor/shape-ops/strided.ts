import { compileStrided, variable } from '@gradkit/kernels';
import { stridedReadDevice, stridedWriteDevice } from '../device-shape.js';
import { allocate, type Storage } from '../dtype.js';
import type { Shape } from '../shape.js';
import { sizeOf } from '../shape.js';
import { record1, type Tensor } from '../tensor.js';

/**
 * A strided window into a contiguous tensor: element `idx` of a tensor of `shape` lives at
 * `offset + sum_d idx[d] * strides[d]` of the source. Windows built by slicing never visit a source element
 * twice, which is what makes {@link stridedRead} and {@link stridedWrite} adjoint to each other.
 */
export interface StridedWindow {
  /** The shape of the window. */
  readonly shape: Shape;
  /** The source stride of each window dimension, in elements. */
  readonly strides: readonly number[];
  /** The source offset of the window's first element. */
  readonly offset: number;
}

const copyKernel = compileStrided([variable('x0')], ['x0']);

/** Copies the window out of `src` into new contiguous storage (one generated strided loop). */
export function readWindow(src: Storage, w: StridedWindow): Storage {
  const n = sizeOf(w.shape);
  const out = allocate(src instanceof Float32Array ? 'float32' : 'float64', n);
  if (n > 0) copyKernel([src.subarray(w.offset)], [w.strides], [out], w.shape);
  return out;
}

/** Writes the contiguous elements of `src` (of the window's shape) into `dst` at the window's positions. */
export function writeWindow(dst: Storage, w: StridedWindow, src: Storage): void {
  const n = src.length;
  if (n === 0) return;
  const rank = w.shape.length;
  if (rank === 0) {
    dst[w.offset] = src[0]!;
    return;
  }
  const inner = w.shape[rank - 1]!;
  const step = w.strides[rank - 1]!;
  const idx = new Int32Array(Math.max(rank - 1, 1));
  for (let k = 0; k < n; ) {
    let b = w.offset;
    for (let d = 0; d < rank - 1; d++) b += idx[d]! * w.strides[d]!;
    for (let j = 0; j < inner; j++, b += step) dst[b] = src[k++]!;
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < w.shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * The window of `x` as a new tensor (a differentiable copy). Backward writes the gradient into zeros of
 * `x`'s shape ({@link stridedWrite}).
 *
 * @internal the engine of slice and index; the window must stay inside `x` and not repeat elements
 */
export function stridedRead(name: string, x: Tensor, w: StridedWindow): Tensor {
  if (x.device !== 'cpu') return stridedReadDevice(name, x, w);
  const inShape = x.shape;
  return record1(name, [x], readWindow(x.data, w), w.shape, (g) => [stridedWrite(name, g, inShape, w)]);
}

/**
 * Zeros of `shape` with `y` written into the window (the adjoint of {@link stridedRead}), recorded as
 * `<name>Backward`. Backward reads the window back out of the gradient.
 *
 * @internal
 */
export function stridedWrite(name: string, y: Tensor, shape: Shape, w: StridedWindow): Tensor {
  if (y.device !== 'cpu') return stridedWriteDevice(name, y, shape, w);
  const out = allocate(y.dtype, sizeOf(shape));
  writeWindow(out, w, y.data);
  return record1(`${name}Backward`, [y], out, shape, (g) => [stridedRead(name, g, w)]);
}

/** Copies `n` elements from `src[s…]` to `dst[d…]` (a typed-array `set` for long runs, a loop for short). */
export function copyRun(dst: Storage, d: number, src: Storage, s: number, n: number): void {
  if (n >= 32) dst.set(src.subarray(s, s + n), d);
  else for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
}

/** `[outer, size, inner]`: the products of the dims before `axis`, the dim itself, and the dims after it. */
export function splitAtAxis(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return [outer, shape[axis] ?? 1, inner];
}
