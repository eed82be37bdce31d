import { ShapeError } from '@gradkit/kernels';
import { zeros } from '../creation.js';
import { indexAddDevice, indexSelectDevice } from '../device-gather.js';
import { allocate, requireSameDtype } from '../dtype.js';
import { fmt, normalizeAxis, sameShape } from '../shape.js';
import { checkTensor, record1, type Tensor } from '../tensor.js';
import { reshape } from '../view.js';
import { type CheckedIndex, checkIndex, type IndexLike } from './index-arg.js';
import { copyRun, splitAtAxis } from './strided.js';

function checkVectorIndex(op: string, idx: CheckedIndex): void {
  if (idx.shape.length > 1) {
    throw new ShapeError(op, `argument 'index' must be 0-D or 1-D, got shape ${fmt(idx.shape)}`);
  }
}

/**
 * The entries `index[0], index[1], …` along `axis`, like `torch.index_select`: the result has `x`'s shape
 * with `axis` resized to the number of indices. Indices may repeat. Backward adds the gradient back into
 * zeros of `x`'s shape at the selected positions ({@link indexAdd}), so it is differentiable again.
 *
 * @param index - 0-D or 1-D integer indices in `0…x.shape[axis]-1`
 * @throws ShapeError when the axis is out of range or `index` has more than one dimension
 * @throws DomainError when an index is not an integer or is out of range (naming the axis and the index)
 */
export function indexSelect(x: Tensor, axis: number, index: IndexLike): Tensor {
  checkTensor('indexSelect', 'x', x);
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  const size = x.ndim === 0 ? 1 : x.shape[a]!;
  const idx = checkIndex('indexSelect', index, a, size, x.shape);
  checkVectorIndex('indexSelect', idx);
  if (x.ndim === 0) {
    if (idx.data.length !== 1) {
      throw new ShapeError('indexSelect', `a 0-D input takes exactly one index, got ${idx.data.length}`);
    }
    return x;
  }
  return indexSelectChecked(x, a, idx.data);
}

/** @internal indexSelect with a normalized axis and checked indices. */
export function indexSelectChecked(x: Tensor, axis: number, idx: Int32Array): Tensor {
  if (x.device !== 'cpu') return indexSelectDevice(x, axis, idx);
  const [outer, size, inner] = splitAtAxis(x.shape, axis);
  const m = idx.length;
  const shape = [...x.shape];
  shape[axis] = m;
  const out = allocate(x.dtype, outer * m * inner);
  const src = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) copyRun(out, (o * m + i) * inner, src, (o * size + idx[i]!) * inner, inner);
  }
  const inShape = x.shape;
  return record1('indexSelect', [x], out, shape, (g) => [
    indexAddChecked(zeros(inShape, { dtype: g.dtype, device: g.device }), axis, idx, g),
  ]);
}

/**
 * `x` with `source` added at the positions `index` along `axis` (`out[…, index[i], …] += source[…, i, …]`),
 * like `torch.index_add`; repeated indices accumulate (in float64, rounded once). The gradient is `g` for
 * `x` and `indexSelect(g, axis, index)` for `source`.
 *
 * @param index - 0-D or 1-D integer indices in `0…x.shape[axis]-1`
 * @param source - `x`'s shape with `axis` resized to the number of indices (same dtype as `x`)
 * @throws ShapeError when the axis is out of range or the shapes do not fit
 * @throws DtypeError when `x` and `source` have different dtypes
 * @throws DomainError when an index is not an integer or is out of range
 */
export function indexAdd(x: Tensor, axis: number, index: IndexLike, source: Tensor): Tensor {
  checkTensor('indexAdd', 'x', x);
  checkTensor('indexAdd', 'source', source);
  requireSameDtype('indexAdd', ['x', 'source'], [x.dtype, source.dtype]);
  const a = normalizeAxis('indexAdd', axis, x.ndim);
  const size = x.ndim === 0 ? 1 : x.shape[a]!;
  const idx = checkIndex('indexAdd', index, a, size, x.shape);
  checkVectorIndex('indexAdd', idx);
  if (x.ndim === 0) {
    if (idx.data.length !== 1 || source.ndim !== 0) {
      throw new ShapeError(
        'indexAdd',
        `a 0-D input takes one index and a 0-D source, got ${idx.data.length} indices and source shape ${fmt(source.shape)}`,
      );
    }
    return reshape(indexAddChecked(reshape(x, [1]), 0, idx.data, reshape(source, [1])), []);
  }
  const want = [...x.shape];
  want[a] = idx.data.length;
  if (!sameShape(source.shape, want)) {
    throw new ShapeError(
      'indexAdd',
      `source has shape ${fmt(source.shape)} but x of shape ${fmt(x.shape)} with ${idx.data.length} indices along axis ${a} needs ${fmt(want)}`,
    );
  }
  return indexAddChecked(x, a, idx.data, source);
}

/** @internal indexAdd with a normalized axis, checked indices and checked shapes. */
export function indexAddChecked(x: Tensor, axis: number, idx: Int32Array, source: Tensor): Tensor {
  if (x.device !== 'cpu' || source.device !== 'cpu') return indexAddDevice(x, x.shape, axis, idx, source);
  const [outer, size, inner] = splitAtAxis(x.shape, axis);
  const m = idx.length;
  const acc = Float64Array.from(x.data);
  const src = source.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const d = (o * size + idx[i]!) * inner;
      const s = (o * m + i) * inner;
      for (let j = 0; j < inner; j++) acc[d + j] += src[s + j]!;
    }
  }
  const out = allocate(x.dtype, acc.length);
  out.set(acc);
  return record1('indexAdd', [x, source], out, x.shape, (g) => [
    x.requiresGrad ? g : null,
    source.requiresGrad ? indexSelectChecked(g, axis, idx) : null,
  ]);
}
