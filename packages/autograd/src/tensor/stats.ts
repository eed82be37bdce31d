/**
 * Statistics and norms built from differentiable tensor ops (so every order of derivative works): variance,
 * standard deviation and p-norms, with PyTorch's conventions.
 */
import { ArgumentError, checkOptionKeys, DomainError, describeValue, ownValue } from '@gradkit/kernels';
import { abs, div, eq, ne, pow, sqrt, square, sub, where } from './elementwise-ops.js';
import { type Axis, max, mean, min } from './reduce.js';
import { sum } from './reduce-sum.js';
import { normalizeAxes, sizeOf } from './shape.js';
import { checkTensor, type Tensor } from './tensor.js';

/** Options of {@link variance} and {@link std}. */
export interface VarianceOptions {
  /**
   * Subtracted from the number of elements in the divisor (Bessel's correction), like PyTorch's
   * `correction` (default 1: the unbiased sample variance; 0: the population variance).
   */
  correction?: number;
  /** Keep the reduced axes as size 1 (default false). */
  keepDims?: boolean;
}

function readVarianceOptions(op: string, opts: unknown): { correction: number; keepDims: boolean } {
  checkOptionKeys(op, 'options', opts, ['correction', 'keepDims']);
  const o = (opts ?? {}) as object;
  const correction = ownValue(o, 'correction') ?? 1;
  const keepDims = ownValue(o, 'keepDims') ?? false;
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new ArgumentError(
      op,
      `option 'correction' must be a non-negative finite number, got ${describeValue(correction)}`,
    );
  }
  if (typeof keepDims !== 'boolean') {
    throw new ArgumentError(op, `option 'keepDims' must be a boolean, got ${describeValue(keepDims)}`);
  }
  return { correction, keepDims };
}

function reducedAxes(op: string, x: Tensor, axis: Axis | undefined): number[] {
  checkTensor(op, 'x', x);
  return normalizeAxes(op, axis, x.ndim).filter((a) => a < x.ndim);
}

/**
 * Variance over `axis` (a number, a list, negative counts from the end; all axes when omitted), like
 * `torch.var(x, dim, correction=1, keepdim=False)`: `sum((x − mean)²) / max(0, N − correction)` with N the
 * number of reduced elements. Where N ≤ correction the divisor is 0 and the result is NaN or +inf, as in
 * PyTorch. (Named `variance` because `var` is a JavaScript keyword; the method is `x.var()`.)
 *
 * @throws ShapeError on an out-of-range or repeated axis
 * @throws ArgumentError on unknown options, or a correction that is not a non-negative finite number
 */
export function variance(x: Tensor, axis?: Axis, opts?: VarianceOptions): Tensor {
  const { correction, keepDims } = readVarianceOptions('var', opts);
  const axes = reducedAxes('var', x, axis);
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  const centered = sub(x, mean(x, axes, true));
  return div(sum(square(centered), axes, keepDims), Math.max(0, n - correction));
}

/**
 * Standard deviation, `sqrt(variance(x, axis, opts))`, like `torch.std` (see {@link variance}). Its gradient
 * is NaN where the standard deviation is 0 (as in PyTorch).
 *
 * @throws ShapeError / ArgumentError as {@link variance}
 */
export function std(x: Tensor, axis?: Axis, opts?: VarianceOptions): Tensor {
  readVarianceOptions('std', opts);
  return sqrt(variance(x, axis, opts));
}

/** `where(s == 0, 0, s^(1/p))`, written so that its gradient at s = 0 is 0 rather than 0·inf = NaN. */
function safeRoot(s: Tensor, p: number): Tensor {
  const zero = eq(s, 0);
  const safe = where(zero, 1, s);
  return where(zero, 0, p === 2 ? sqrt(safe) : pow(safe, 1 / p));
}

/**
 * The p-norm over `axis` (all axes when omitted), like `torch.linalg.vector_norm(x, ord=p, dim, keepdim)`:
 * `(sum |x|^p)^(1/p)` for p > 0 (p = 2 by default, the Euclidean norm), `max |x|` for Infinity, `min |x|`
 * for -Infinity, and the number of non-zero elements for p = 0 (no gradient). The gradient at an all-zero
 * group is 0 (a subgradient, as PyTorch's), not NaN.
 *
 * @throws DomainError when p is negative (other than -Infinity) or NaN
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function norm(x: Tensor, p = 2, axis?: Axis, keepDims = false): Tensor {
  const axes = reducedAxes('norm', x, axis);
  if (typeof p !== 'number' || Number.isNaN(p) || (p < 0 && p !== Number.NEGATIVE_INFINITY)) {
    throw new DomainError(
      'norm',
      `p must be a non-negative number, Infinity or -Infinity, got ${describeValue(p)}`,
    );
  }
  if (typeof keepDims !== 'boolean') {
    throw new ArgumentError('norm', `argument 'keepDims' must be a boolean, got ${describeValue(keepDims)}`);
  }
  if (p === Number.POSITIVE_INFINITY) return max(abs(x), axes, keepDims);
  if (p === Number.NEGATIVE_INFINITY) return min(abs(x), axes, keepDims);
  if (p === 0) return sum(ne(x, 0), axes, keepDims);
  if (p === 1) return sum(abs(x), axes, keepDims);
  const s = sum(p === 2 ? square(x) : pow(abs(x), p), axes, keepDims);
  return safeRoot(s, p);
}
