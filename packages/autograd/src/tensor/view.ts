import { compileStrided, describeValue, ShapeError, variable } from '@gradkit/kernels';
import { broadcastToDevice, cloneDevice, reshapeDevice } from './device-shape.js';
import { allocate } from './dtype.js';
import { sumTo } from './reduce-sum.js';
import { broadcastShapes, broadcastStrides, checkShape, fmt, MAX_RANK, sameShape, sizeOf } from './shape.js';
import { checkTensor, record1, type Tensor } from './tensor.js';

/**
 * The same elements in a new shape (row-major order kept). One dimension may be -1 (inferred).
 * Shares storage with the input. Backward reshapes the gradient back.
 *
 * @throws ShapeError when the element counts differ or more than one dimension is -1
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x);
  if (!Array.isArray(shape) || shape.length > MAX_RANK) {
    throw new ShapeError(
      'reshape',
      `shape must be a list of at most ${MAX_RANK} integers, got ${describeValue(shape)}`,
    );
  }
  const raw = Array.from(shape, (d: unknown) => d);
  const infer = raw.indexOf(-1);
  if (
    raw.some((d, i) => typeof d !== 'number' || !Number.isSafeInteger(d) || (d < 0 && i !== infer)) ||
    raw.lastIndexOf(-1) !== infer
  ) {
    throw new ShapeError(
      'reshape',
      `invalid shape [${raw.map((d) => (typeof d === 'number' ? String(d) : describeValue(d))).join(', ')}]: sizes must be non-negative integers, at most one -1`,
    );
  }
  const target = raw as number[];
  if (infer >= 0) {
    const known = target.reduce((a, d, i) => (i === infer ? a : a * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(
        'reshape',
        `shape ${fmt(shape)} is invalid for input of size ${x.size} (shape ${fmt(x.shape)})`,
      );
    }
    target[infer] = x.size / known;
  }
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(
      'reshape',
      `shape ${fmt(target)} is invalid for input of size ${x.size} (shape ${fmt(x.shape)})`,
    );
  }
  if (sameShape(target, x.shape)) return x;
  if (x.device !== 'cpu') return reshapeDevice(x, target);
  const inShape = x.shape;
  return record1('reshape', [x], x.data, target, (g) => [reshape(g, inShape)]);
}

const copyKernel = compileStrided([variable('x0')], ['x0']);

/**
 * Broadcasts `x` to `shape` (NumPy rules: align right, size-1 dims repeat, new leading dims), copying.
 * Backward sums the gradient back to the input's shape.
 *
 * @throws ShapeError when `x` does not broadcast to `shape`, or `shape` is not a list of non-negative integers
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('broadcastTo', 'x', x);
  checkShape('broadcastTo', shape);
  if (sameShape(x.shape, shape)) return x;
  const out = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(out, shape)) {
    throw new ShapeError('broadcastTo', `cannot broadcast shape ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  if (x.device !== 'cpu') return broadcastToDevice(x, shape);
  const n = sizeOf(shape);
  const data = allocate(x.dtype, n);
  if (n > 0) copyKernel([x.data], [broadcastStrides(x.shape, shape)], [data], shape);
  const inShape = x.shape;
  return record1('broadcastTo', [x], data, shape, (g) => [sumTo(g, inShape)]);
}

/**
 * A copy of `x` with its own storage (and version counter), like `torch.clone`; differentiable (the
 * gradient passes through unchanged). Use it to keep a value that an in-place op will modify.
 */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', 'x', x);
  if (x.device !== 'cpu') return cloneDevice(x);
  return record1('clone', [x], x.data.slice(), x.shape, (g) => [g]);
}
