import { ShapeError } from '@gradkit/kernels';
import { windowDevice } from '../device-shape.js';
import { contiguousStrides, fmt, normalizeAxis, showList } from '../shape.js';
import { checkTensor, record1, type Tensor } from '../tensor.js';
import { readWindow } from './strided.js';

/**
 * Reorders the dimensions: dimension `i` of the result is dimension `dims[i]` of `x` (negative entries count
 * from the end), like `torch.permute`. Copies (one strided loop); the identity permutation returns `x`.
 * Backward permutes the gradient by the inverse permutation.
 *
 * @throws ShapeError when `dims` is not a permutation of the axes of `x`
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('permute', 'x', x);
  const rank = x.ndim;
  if (!Array.isArray(dims) || dims.length !== rank) {
    throw new ShapeError(
      'permute',
      `dims ${showList(dims)} must list each of the ${rank} axes of the input (shape ${fmt(x.shape)}) once`,
    );
  }
  const perm = dims.map((d) => normalizeAxis('permute', d, rank));
  if (new Set(perm).size !== rank) {
    throw new ShapeError('permute', `dims ${showList(dims)} repeat an axis (input shape ${fmt(x.shape)})`);
  }
  return permuteUnchecked(x, perm);
}

function permuteUnchecked(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.every((p, i) => p === i)) return x;
  const inStrides = contiguousStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  const w = { shape, strides: perm.map((p) => inStrides[p]!), offset: 0 };
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  if (x.device !== 'cpu') return windowDevice('permute', x, w, (g) => permuteUnchecked(g, inverse));
  const data = readWindow(x.data, w);
  return record1('permute', [x], data, shape, (g) => [permuteUnchecked(g, inverse)]);
}

/**
 * Swaps two dimensions (negative counts from the end), like `torch.transpose`. Copies.
 *
 * @throws ShapeError when an axis is out of range
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor('transpose', 'x', x);
  const rank = x.ndim;
  const a = normalizeAxis('transpose', dim0, rank);
  const b = normalizeAxis('transpose', dim1, rank);
  if (rank === 0) return x;
  const perm = [...Array(rank).keys()];
  perm[a] = b;
  perm[b] = a;
  return permuteUnchecked(x, perm);
}

/**
 * The transpose of a matrix, like `torch.t`: swaps the two dimensions of a 2-D tensor and returns 0-D and
 * 1-D tensors unchanged.
 *
 * @throws ShapeError when `x` has more than 2 dimensions
 */
export function t(x: Tensor): Tensor {
  checkTensor('t', 'x', x);
  if (x.ndim > 2) {
    throw new ShapeError(
      't',
      `expects a tensor with at most 2 dimensions, got shape ${fmt(x.shape)}; use transpose or permute`,
    );
  }
  return x.ndim < 2 ? x : permuteUnchecked(x, [1, 0]);
}
