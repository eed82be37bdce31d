import { ArgumentError, DomainError, ShapeError } from '@gradkit/kernels';
import { contiguousStrides, fmt, normalizeAxis, type Shape, show } from '../shape.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { stridedRead } from './strided.js';

/** A range of one axis: `start` (inclusive), `end` (exclusive), `step` > 0, as in Python's `a[start:end:step]`. */
export interface SliceSpec {
  /** First index (default 0; negative counts from the end; clamped into range). */
  start?: number;
  /** Index one past the last (default the axis size; negative counts from the end; clamped into range). */
  end?: number;
  /** Distance between taken indices, a positive integer (default 1). */
  step?: number;
}

/** What {@link index} takes per axis: an integer selects one position and drops the axis; a range keeps it. */
export type IndexSpec = number | SliceSpec;

function checkInt(op: string, arg: string, v: number | undefined): void {
  if (v !== undefined && !Number.isInteger(v)) {
    throw new ArgumentError(op, `argument '${arg}' must be an integer, got ${show(v)}`);
  }
}

/** Resolves Python slice bounds for an axis of `size`: `[start, length]`. */
function resolveRange(op: string, size: number, r: SliceSpec, axis: number, shape: Shape): [number, number] {
  checkInt(op, 'start', r.start);
  checkInt(op, 'end', r.end);
  checkInt(op, 'step', r.step);
  const step = r.step ?? 1;
  if (step <= 0) {
    throw new ArgumentError(
      op,
      `step must be positive, got ${show(step)} (axis ${show(axis)} of shape ${fmt(shape)})`,
    );
  }
  const clampBound = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const start = clampBound(r.start ?? 0);
  const end = clampBound(r.end ?? size);
  return [start, Math.max(0, Math.ceil((end - start) / step))];
}

/**
 * Elements `start, start+step, …` (before `end`) along `axis`, like `x[..., start:end:step]` in PyTorch:
 * negative bounds count from the end and out-of-range bounds are clamped; `step` must be positive. Copies
 * (one strided loop); backward writes the gradient into zeros of the input's shape.
 *
 * @throws ShapeError when the axis is out of range or `x` is 0-D
 * @throws ArgumentError when a bound is not an integer or `step` is not positive
 */
export function slice(x: Tensor, axis: number, start?: number, end?: number, step?: number): Tensor {
  checkTensor('slice', 'x', x);
  if (x.ndim === 0) throw new ShapeError('slice', 'cannot slice a 0-D tensor (shape [])');
  const a = normalizeAxis('slice', axis, x.ndim);
  const size = x.shape[a]!;
  const [s, n] = resolveRange('slice', size, { start, end, step }, a, x.shape);
  const st = step ?? 1;
  if (s === 0 && n === size && (st === 1 || n <= 1)) return x;
  const strides = contiguousStrides(x.shape);
  const shape = [...x.shape];
  shape[a] = n;
  const wStrides = [...strides];
  wStrides[a] = strides[a]! * st;
  return stridedRead('slice', x, { shape, strides: wStrides, offset: s * strides[a]! });
}

/**
 * Indexes several leading axes at once, like `x[1, 2:5, ::2]`: `specs[i]` applies to axis `i` (axes past the
 * list are kept whole). An integer (negative counts from the end) selects one position and removes the axis;
 * a {@link SliceSpec} (`{}` for the whole axis) keeps it. One copy and one graph node, whatever the number of
 * axes; backward writes the gradient into zeros of the input's shape.
 *
 * @throws ShapeError when there are more specs than axes
 * @throws DomainError when an integer index is out of range
 * @throws ArgumentError when a spec is malformed or a step is not positive
 */
export function index(x: Tensor, specs: readonly IndexSpec[]): Tensor {
  checkTensor('index', 'x', x);
  if (!Array.isArray(specs))
    throw new ArgumentError('index', `argument 'specs' must be an array, got ${typeof specs}`);
  if (specs.length > x.ndim) {
    throw new ShapeError('index', `too many indices (${specs.length}) for a tensor of shape ${fmt(x.shape)}`);
  }
  const strides = contiguousStrides(x.shape);
  const shape: number[] = [];
  const wStrides: number[] = [];
  let offset = 0;
  x.shape.forEach((size, axis) => {
    const spec = axis < specs.length && specs[axis] !== undefined ? specs[axis] : {};
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec))
        throw new ArgumentError('index', `index ${show(spec)} for axis ${axis} is not an integer`);
      if (spec < -size || spec >= size) {
        throw new DomainError(
          'index',
          `index ${spec} is out of range for axis ${axis} of size ${size} (shape ${fmt(x.shape)}; valid: ${-size}..${size - 1})`,
        );
      }
      offset += (spec < 0 ? spec + size : spec) * strides[axis]!;
      return;
    }
    if (spec === null || typeof spec !== 'object') {
      throw new ArgumentError(
        'index',
        `spec for axis ${axis} must be an integer or {start, end, step}, got ${show(spec)}`,
      );
    }
    const [s, n] = resolveRange('index', size, spec, axis, x.shape);
    shape.push(n);
    wStrides.push(strides[axis]! * (spec.step ?? 1));
    offset += s * strides[axis]!;
  });
  if (
    offset === 0 &&
    shape.length === x.ndim &&
    wStrides.every((s, i) => s === strides[i] && shape[i] === x.shape[i])
  ) {
    return x;
  }
  return stridedRead('index', x, { shape, strides: wStrides, offset });
}
