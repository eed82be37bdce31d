import { DomainError } from '@gradkit/autograd';
import { checkSameLength, type MetricInput, readVector } from './input.js';
import { pairwiseSum } from './sum.js';

/** The trapezoid rule, NumPy's `np.trapz(y, x)`: Σ (x[i+1] − x[i])·(y[i+1] + y[i]) / 2, summed pairwise. */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const terms = new Float64Array(Math.max(0, x.length - 1));
  for (let i = 0; i < terms.length; i++) terms[i] = ((x[i + 1]! - x[i]!) * (y[i + 1]! + y[i]!)) / 2;
  return pairwiseSum(terms);
}

/**
 * Area under a curve by the trapezoid rule, scikit-learn's `auc(x, y)`: `x` must be monotonic
 * (non-decreasing, or non-increasing, in which case the area is still counted positive for positive `y`).
 * For the area under the ROC curve of scores use {@link rocAucScore}; for precision-recall use
 * {@link averagePrecisionScore} (the trapezoid rule over a PR curve is too optimistic).
 *
 * @param x - abscissae, monotonic, finite
 * @param y - ordinates, same length, finite
 * @throws DomainError when there are fewer than 2 points, a value is not finite, or `x` is not monotonic
 * @throws ShapeError when the lengths differ
 */
export function auc(x: MetricInput, y: MetricInput): number {
  const op = 'metrics.auc';
  const xs = readVector(op, 'x', x).values;
  const ys = readVector(op, 'y', y).values;
  checkSameLength(op, 'y', ys.length, xs.length, 'x');
  if (xs.length < 2) {
    throw new DomainError(op, `at least 2 points are needed to compute an area, got ${xs.length}`);
  }
  for (const [name, v] of [
    ['x', xs],
    ['y', ys],
  ] as const) {
    const i = v.findIndex((e) => !Number.isFinite(e));
    if (i >= 0) throw new DomainError(op, `argument '${name}' must be finite; element ${i} is ${v[i]}`);
  }
  let increasing = true;
  let decreasing = true;
  for (let i = 0; i + 1 < xs.length; i++) {
    const d = xs[i + 1]! - xs[i]!;
    if (d < 0) increasing = false;
    if (d > 0) decreasing = false;
  }
  if (!increasing && !decreasing) {
    throw new DomainError(op, `argument 'x' is neither non-decreasing nor non-increasing`);
  }
  const area = trapezoid(xs, ys);
  return increasing ? area : -area;
}
