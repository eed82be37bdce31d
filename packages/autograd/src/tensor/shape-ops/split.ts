import { ArgumentError, ShapeError } from '@gradkit/kernels';
import { zeros } from '../creation.js';
import { splitDevice } from '../device-shape.js';
import { allocate } from '../dtype.js';
import { fmt, normalizeAxis, show, showList } from '../shape.js';
import { checkTensor, record, type Tensor } from '../tensor.js';
import { concat } from './concat.js';
import { copyRun, splitAtAxis } from './strided.js';

/**
 * Splits `x` along `axis` into consecutive pieces, like `torch.split`: a number gives pieces of that size
 * (the last one may be smaller; one empty piece for an empty axis), a list gives the size of each piece
 * (it must sum to the axis size). Backward concatenates the pieces' gradients (zeros where a piece got none).
 *
 * @throws ShapeError when the axis is out of range, `x` is 0-D, or the sizes do not sum to the axis size
 * @throws ArgumentError when a size is not a positive integer (list entries may be 0)
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', 'x', x);
  if (x.ndim === 0) throw new ShapeError('split', 'cannot split a 0-D tensor (shape [])');
  const a = normalizeAxis('split', axis, x.ndim);
  const n = x.shape[a]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new ArgumentError('split', `split size must be a positive integer, got ${sizeOrSections}`);
    }
    const s = sizeOrSections;
    sizes = n === 0 ? [0] : Array.from({ length: Math.ceil(n / s) }, (_, i) => Math.min(s, n - i * s));
  } else if (Array.isArray(sizeOrSections)) {
    sizes = [...sizeOrSections];
    if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ArgumentError(
        'split',
        `split sizes must be a non-empty list of non-negative integers, got ${showList(sizeOrSections)}`,
      );
    }
    const total = sizes.reduce((p, q) => p + q, 0);
    if (total !== n) {
      throw new ShapeError(
        'split',
        `split sizes ${showList(sizes)} sum to ${total} but axis ${a} of shape ${fmt(x.shape)} has size ${n}`,
      );
    }
  } else {
    throw new ArgumentError(
      'split',
      `argument 'sizeOrSections' must be a number or a list of numbers, got ${typeof sizeOrSections}`,
    );
  }
  return splitChecked(x, sizes, a);
}

/** The most empty tensors {@link chunk} makes from an empty axis. */
const MAX_EMPTY_CHUNKS = 2 ** 20;

/**
 * Splits `x` into `chunks` pieces along `axis`, like `torch.chunk`: pieces of size `ceil(n / chunks)`, the
 * last smaller, so there may be fewer than `chunks` pieces (an empty axis gives `chunks` empty pieces).
 *
 * @throws ShapeError when the axis is out of range or `x` is 0-D
 * @throws ArgumentError when `chunks` is not a positive integer
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  checkTensor('chunk', 'x', x);
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new ArgumentError('chunk', `chunks must be a positive integer, got ${show(chunks)}`);
  }
  if (x.ndim === 0) throw new ShapeError('chunk', 'cannot chunk a 0-D tensor (shape [])');
  const a = normalizeAxis('chunk', axis, x.ndim);
  const n = x.shape[a]!;
  if (n === 0) {
    // PyTorch returns `chunks` empty tensors here; refuse counts that could never be allocated.
    if (chunks > MAX_EMPTY_CHUNKS) {
      throw new ArgumentError(
        'chunk',
        `chunks (${chunks}) of an empty axis would make that many empty tensors; at most ${MAX_EMPTY_CHUNKS} are allowed`,
      );
    }
    return splitChecked(x, new Array<number>(chunks).fill(0), a);
  }
  return split(x, Math.ceil(n / chunks), a);
}

/** @internal split into checked sizes (summing to the axis size) along a normalized axis. */
export function splitChecked(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  if (sizes.length === 1) return [x];
  if (x.device !== 'cpu') return splitDevice(x, sizes, axis);
  const [outer, n, inner] = splitAtAxis(x.shape, axis);
  const row = n * inner;
  let off = 0;
  const outputs = sizes.map((s) => {
    const block = s * inner;
    const data = allocate(x.dtype, outer * block);
    for (let o = 0; o < outer; o++) copyRun(data, o * block, x.data, o * row + off, block);
    off += block;
    const shape = [...x.shape];
    shape[axis] = s;
    return { data, shape };
  });
  return record('split', [x], outputs, (grads) => [
    concat(
      grads.map((g, i) => g ?? zeros(outputs[i]!.shape, { dtype: x.dtype, device: x.device })),
      axis,
    ),
  ]);
}
