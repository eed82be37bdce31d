import { ShapeError } from '@gradkit/kernels';
import { checkShape, fmt } from '../shape.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { broadcastTo, reshape } from '../view.js';

/**
 * Repeats `x` along each dimension, like `torch.Tensor.repeat(*sizes)`: `sizes` has at least `x.ndim`
 * entries; `x` is first given leading size-1 dimensions to match, then dimension d is repeated `sizes[d]`
 * times (`[a, b]` repeated `[2, 3]` is `[2a, 3b]`). Copies; differentiable (reshape, broadcast, reshape).
 *
 * @throws ShapeError when `sizes` has fewer entries than `x` has dimensions, an entry is not a non-negative
 *   integer, or the result is too large
 */
export function repeat(x: Tensor, sizes: readonly number[]): Tensor {
  checkTensor('repeat', 'x', x);
  const reps = checkShape('repeat', sizes);
  if (reps.length < x.ndim) {
    throw new ShapeError(
      'repeat',
      `the number of repeat sizes (${reps.length}, ${fmt(reps)}) can not be smaller than the number of dimensions of the tensor (shape ${fmt(x.shape)})`,
    );
  }
  const shape = [...new Array<number>(reps.length - x.ndim).fill(1), ...x.shape];
  const interleaved = shape.flatMap((d) => [1, d]);
  const expanded = reps.flatMap((r, i) => [r, shape[i]!]);
  const out = reps.map((r, i) => r * shape[i]!);
  checkShape('repeat', out);
  return reshape(broadcastTo(reshape(x, interleaved), expanded), out);
}

/**
 * Tiles `x`, like `torch.tile(x, dims)` / `numpy.tile`: as {@link repeat}, except that `dims` shorter than
 * `x.ndim` is padded with leading 1s.
 *
 * @throws ShapeError when an entry is not a non-negative integer, or the result is too large
 */
export function tile(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('tile', 'x', x);
  const d = checkShape('tile', dims);
  return repeat(x, [...new Array<number>(Math.max(0, x.ndim - d.length)).fill(1), ...d]);
}
