import { ShapeError } from '@gradkit/kernels';
import { zeros } from '../creation.js';
import { gatherDevice, scatterAddDevice } from '../device-gather.js';
import { allocate, requireSameDtype } from '../dtype.js';
import { contiguousStrides, fmt, normalizeAxis, type Shape, sameShape, sizeOf } from '../shape.js';
import { checkTensor, record1, type Tensor } from '../tensor.js';
import { type CheckedIndex, checkIndex, type IndexLike } from './index-arg.js';

/**
 * Walks every position of `shape` (row-major) and calls `visit(k, base)` with the flat position `k` and the
 * offset into a tensor of `target` shape with the `axis` coordinate left out (the caller adds
 * `index[k] * stride[axis]`).
 */
function walk(shape: Shape, target: Shape, axis: number, visit: (k: number, base: number) => void): void {
  const n = sizeOf(shape);
  const rank = shape.length;
  if (n === 0) return;
  const strides = contiguousStrides(target).map((s, d) => (d === axis ? 0 : s));
  const pos = new Int32Array(rank);
  let base = 0;
  for (let k = 0; k < n; k++) {
    visit(k, base);
    for (let d = rank - 1; d >= 0; d--) {
      base += strides[d]!;
      if (++pos[d]! < shape[d]!) break;
      base -= pos[d]! * strides[d]!;
      pos[d] = 0;
    }
  }
}

/** The flat offset into `xShape` of the element each index position addresses (for the device kernels). */
function flatOffsets(xShape: Shape, iShape: Shape, axis: number, idx: CheckedIndex): Uint32Array {
  const out = new Uint32Array(idx.data.length);
  const ix = idx.data;
  const step = contiguousStrides(xShape)[axis]!;
  walk(iShape, xShape, axis, (k, base) => {
    out[k] = base + ix[k]! * step;
  });
  return out;
}

function checkGatherShapes(op: string, x: Tensor, axis: number, idx: CheckedIndex): void {
  const rank = Math.max(x.ndim, 1);
  const xs = x.ndim === 0 ? [1] : x.shape;
  const is = idx.shape.length === 0 ? [1] : idx.shape;
  const bad = is.length !== rank || is.some((d, i) => i !== axis && d > xs[i]!);
  if (bad) {
    throw new ShapeError(
      op,
      `index of shape ${fmt(idx.shape)} does not fit input of shape ${fmt(x.shape)} along axis ${axis}: it needs the same number of dimensions and size <= the input's in every other dimension`,
    );
  }
}

/**
 * Picks along `axis` with an index of the same rank, like `torch.gather`: for `axis = 1` of a 3-D input,
 * `out[i][j][k] = x[i][index[i][j][k]][k]`. The result has the index's shape; `index.shape[d] <= x.shape[d]`
 * for every other dimension `d`. Backward scatter-adds the gradient into zeros of `x`'s shape
 * ({@link scatterAdd}), so it is differentiable again.
 *
 * @throws ShapeError when the axis is out of range or the index's shape does not fit
 * @throws DomainError when an index is not an integer or is out of range (naming the axis and the index)
 */
export function gather(x: Tensor, axis: number, index: IndexLike): Tensor {
  checkTensor('gather', 'x', x);
  const a = normalizeAxis('gather', axis, x.ndim);
  const idx = checkIndex('gather', index, a, x.ndim === 0 ? 1 : x.shape[a]!, x.shape);
  checkGatherShapes('gather', x, a, idx);
  return gatherChecked(x, a, idx);
}

/** @internal gather with a normalized axis and checked indices. */
export function gatherChecked(x: Tensor, axis: number, idx: CheckedIndex): Tensor {
  const xShape = x.ndim === 0 ? [1] : x.shape;
  const iShape = idx.shape.length === 0 ? [1] : idx.shape;
  if (x.device !== 'cpu') return gatherDevice(x, flatOffsets(xShape, iShape, axis, idx), idx.shape);
  const out = allocate(x.dtype, idx.data.length);
  const src = x.data;
  const ix = idx.data;
  const step = contiguousStrides(xShape)[axis]!;
  walk(iShape, xShape, axis, (k, base) => {
    out[k] = src[base + ix[k]! * step]!;
  });
  const inShape = x.shape;
  return record1('gather', [x], out, idx.shape, (g) => [
    scatterAddChecked(zeros(inShape, { dtype: g.dtype, device: g.device }), axis, idx, g),
  ]);
}

/**
 * `x` with `src` added at the positions an index of the same rank points to along `axis`, like
 * `torch.scatter_add`: for `axis = 1`, `out[i][index[i][j][k]][k] += src[i][j][k]`. Repeated targets
 * accumulate (in float64, rounded once). Unlike PyTorch, `src` must have exactly the index's shape. The
 * gradient is `g` for `x` and `gather(g, axis, index)` for `src`.
 *
 * @throws ShapeError when the axis is out of range or the shapes do not fit
 * @throws DtypeError when `x` and `src` have different dtypes
 * @throws DomainError when an index is not an integer or is out of range
 */
export function scatterAdd(x: Tensor, axis: number, index: IndexLike, src: Tensor): Tensor {
  checkTensor('scatterAdd', 'x', x);
  checkTensor('scatterAdd', 'src', src);
  requireSameDtype('scatterAdd', ['x', 'src'], [x.dtype, src.dtype]);
  const a = normalizeAxis('scatterAdd', axis, x.ndim);
  const idx = checkIndex('scatterAdd', index, a, x.ndim === 0 ? 1 : x.shape[a]!, x.shape);
  checkGatherShapes('scatterAdd', x, a, idx);
  if (!sameShape(src.shape, idx.shape)) {
    throw new ShapeError(
      'scatterAdd',
      `src has shape ${fmt(src.shape)} but index has shape ${fmt(idx.shape)}; they must match`,
    );
  }
  return scatterAddChecked(x, a, idx, src);
}

/** @internal scatterAdd with a normalized axis, checked indices and checked shapes. */
export function scatterAddChecked(x: Tensor, axis: number, idx: CheckedIndex, src: Tensor): Tensor {
  const xShape = x.ndim === 0 ? [1] : x.shape;
  const iShape = idx.shape.length === 0 ? [1] : idx.shape;
  if (x.device !== 'cpu' || src.device !== 'cpu') {
    return scatterAddDevice(x, x.shape, flatOffsets(xShape, iShape, axis, idx), src);
  }
  const acc = Float64Array.from(x.data);
  const s = src.data;
  const ix = idx.data;
  const step = contiguousStrides(xShape)[axis]!;
  walk(iShape, xShape, axis, (k, base) => {
    acc[base + ix[k]! * step] += s[k]!;
  });
  const out = allocate(x.dtype, acc.length);
  out.set(acc);
  return record1('scatterAdd', [x, src], out, x.shape, (g) => [
    x.requiresGrad ? g : null,
    src.requiresGrad ? gatherChecked(g, axis, idx) : null,
  ]);
}
