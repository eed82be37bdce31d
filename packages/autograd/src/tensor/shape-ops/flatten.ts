import { ShapeError } from '@gradkit/kernels';
import { fmt, normalizeAxis } from '../shape.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { reshape } from '../view.js';

/**
 * Merges dimensions `startDim…endDim` (inclusive, negative counts from the end) into one, like
 * `torch.flatten`; a 0-D tensor becomes shape `[1]`. Shares storage (it is a reshape).
 *
 * @throws ShapeError when an axis is out of range or `startDim` comes after `endDim`
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', 'x', x);
  const rank = x.ndim;
  const s = normalizeAxis('flatten', startDim, rank);
  const e = normalizeAxis('flatten', endDim, rank);
  if (rank === 0) return reshape(x, [1]);
  if (s > e) {
    throw new ShapeError(
      'flatten',
      `startDim ${startDim} (axis ${s}) cannot come after endDim ${endDim} (axis ${e}) for shape ${fmt(x.shape)}`,
    );
  }
  let merged = 1;
  for (let d = s; d <= e; d++) merged *= x.shape[d]!;
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}
