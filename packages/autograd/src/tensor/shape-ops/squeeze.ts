import { ShapeError } from '@gradkit/kernels';
import { fmt, normalizeAxes, show } from '../shape.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { reshape } from '../view.js';

/**
 * Removes dimensions of size 1, like `torch.squeeze`: all of them when `axis` is omitted, otherwise those
 * listed (a number or a list; negative counts from the end). As in PyTorch, a listed dimension whose size is
 * not 1 is left in place. Shares storage (it is a reshape).
 *
 * @throws ShapeError when an axis is out of range or repeated
 */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', 'x', x);
  const axes = normalizeAxes('squeeze', axis, x.ndim);
  return reshape(
    x,
    x.shape.filter((d, i) => !(d === 1 && axes.includes(i))),
  );
}

/**
 * Inserts a dimension of size 1 at `axis` (in `-(ndim+1)…ndim`; negative counts from the end of the
 * result), like `torch.unsqueeze`. Shares storage (it is a reshape).
 *
 * @throws ShapeError when the axis is out of range
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', 'x', x);
  const r = x.ndim + 1;
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ShapeError(
      'unsqueeze',
      `axis ${show(axis)} is out of range for a tensor of shape ${fmt(x.shape)} (valid: ${-r}..${r - 1})`,
    );
  }
  const a = axis < 0 ? axis + r : axis;
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}
