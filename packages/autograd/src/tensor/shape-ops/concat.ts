import { ArgumentError, ShapeError } from '@gradkit/kernels';
import { anyOnDevice } from '../device-ops.js';
import { concatDevice } from '../device-shape.js';
import { allocate, promoteTypes } from '../dtype.js';
import { checkSize, fmt, normalizeAxis, sameShape, show } from '../shape.js';
import { checkTensor, record1, type Tensor } from '../tensor.js';
import { splitChecked } from './split.js';
import { unsqueeze } from './squeeze.js';
import { copyRun, splitAtAxis } from './strided.js';

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ArgumentError(op, 'expects a non-empty list of tensors');
  }
  tensors.forEach((t, i) => {
    checkTensor(op, `tensors[${i}]`, t);
  });
}

/**
 * Joins tensors along an existing `axis`, like `torch.cat`: all must have the same rank (at least 1) and
 * the same sizes except along `axis`. The result's dtype is the promotion of the inputs' dtypes.
 * Backward splits the gradient into the inputs' sizes along `axis`.
 *
 * @throws ArgumentError when the list is empty
 * @throws ShapeError when a tensor is 0-D, the ranks differ, the other sizes differ, or the axis is out of range
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList('concat', tensors);
  const first = tensors[0]!;
  if (tensors.some((t) => t.ndim === 0)) {
    throw new ShapeError(
      'concat',
      `zero-dimensional tensors cannot be concatenated (shapes ${tensors.map((t) => fmt(t.shape)).join(', ')})`,
    );
  }
  const a = normalizeAxis('concat', axis, first.ndim);
  tensors.forEach((t, i) => {
    const fits = t.ndim === first.ndim && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!fits) {
      throw new ShapeError(
        'concat',
        `tensors[${i}] has shape ${fmt(t.shape)} but tensors[0] has shape ${fmt(first.shape)}; sizes must match except along axis ${a}`,
      );
    }
  });
  if (tensors.length === 1) return first;
  if (anyOnDevice(tensors)) return concatDevice(tensors, a);
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  const sizes = tensors.map((t) => t.shape[a]!);
  const total = sizes.reduce((p, q) => p + q, 0);
  const shape = [...first.shape];
  shape[a] = total;
  const [outer, , inner] = splitAtAxis(shape, a);
  const row = total * inner;
  const out = allocate(dtype, checkSize('concat', shape, 'result shape'), 'concat', shape);
  let off = 0;
  for (const t of tensors) {
    const block = t.shape[a]! * inner;
    for (let o = 0; o < outer; o++) copyRun(out, o * row + off, t.data, o * block, block);
    off += block;
  }
  const inputs = [...tensors];
  return record1('concat', inputs, out, shape, (g) => {
    const parts = splitChecked(g, sizes, a);
    return parts.map((p, i) => (inputs[i]!.requiresGrad ? p : null));
  });
}

/**
 * Joins same-shaped tensors along a new `axis` (in `-(ndim+1)…ndim`), like `torch.stack`.
 *
 * @throws ArgumentError when the list is empty
 * @throws ShapeError when the shapes differ or the axis is out of range
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  checkList('stack', tensors);
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) {
      throw new ShapeError(
        'stack',
        `tensors[${i}] has shape ${fmt(t.shape)} but tensors[0] has shape ${fmt(first.shape)}; all must be equal`,
      );
    }
  });
  const r = first.ndim + 1;
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ShapeError(
      'stack',
      `axis ${show(axis)} is out of range for stacking tensors of shape ${fmt(first.shape)} (valid: ${-r}..${r - 1})`,
    );
  }
  const pieces = tensors.map((t) => unsqueeze(t, axis));
  if (pieces.length === 1) return pieces[0]!;
  return concat(pieces, axis < 0 ? axis + r : axis);
}
