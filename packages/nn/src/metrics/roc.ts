import { ArgumentError, DomainError } from '@gradkit/autograd';
import { describeValue, ownValue } from '@gradkit/kernels';
import { trapezoid } from './auc.js';
import { type ClfCurve, readClfCurve } from './clf-curve.js';
import { type MetricInput, readOptions } from './input.js';

/** Options of {@link rocCurve}. */
export interface RocCurveOptions {
  /** Per-sample weights (finite, non-negative); samples of weight 0 are dropped, as in scikit-learn. */
  sampleWeight?: MetricInput;
  /**
   * Drop the thresholds whose point lies on a straight segment between its neighbours (both fps and tps
   * have a zero second difference); they do not change the plotted curve nor the AUC. Default true, as
   * scikit-learn's `drop_intermediate`.
   */
  dropIntermediate?: boolean;
}

/** Options of {@link rocAucScore}. */
export interface RocAucOptions {
  /** Per-sample weights (finite, non-negative); samples of weight 0 are dropped, as in scikit-learn. */
  sampleWeight?: MetricInput;
}

/** A receiver operating characteristic curve: three arrays of the same length. */
export interface RocCurve {
  /** False-positive rates fp/N, non-decreasing from 0 to 1. */
  readonly fpr: Float64Array;
  /** True-positive rates tp/P, non-decreasing from 0 to 1. */
  readonly tpr: Float64Array;
  /**
   * Decreasing thresholds: point i counts the samples with `score >= thresholds[i]` as positive.
   * `thresholds[0]` is `Infinity` (no sample predicted positive), as in scikit-learn ≥ 1.3; scikit-learn
   * 1.2 used max(score) + 1 there.
   */
  readonly thresholds: Float64Array;
}

/** The ROC points of a curve (intermediate points dropped or not), checked for both classes. */
function rocPoints(op: string, curve: ClfCurve | null, dropIntermediate: boolean): RocCurve {
  if (curve === null) throw new DomainError(op, `every sample weight is 0`);
  let { fps, tps, thresholds } = curve;
  const last = fps.length - 1;
  if (fps[last]! <= 0 || tps[last]! <= 0) {
    throw new DomainError(
      op,
      `no ${fps[last]! <= 0 ? 'negative' : 'positive'} sample (of non-zero weight) in yTrue: the ` +
        `${fps[last]! <= 0 ? 'false' : 'true'}-positive rate is undefined (scikit-learn returns NaN with a warning)`,
    );
  }
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < last; i++) {
      const df = fps[i + 1]! - fps[i]! - (fps[i]! - fps[i - 1]!);
      const dt = tps[i + 1]! - tps[i]! - (tps[i]! - tps[i - 1]!);
      if (df !== 0 || dt !== 0) keep.push(i);
    }
    keep.push(last);
    fps = Float64Array.from(keep, (i) => fps[i]!);
    tps = Float64Array.from(keep, (i) => tps[i]!);
    thresholds = Float64Array.from(keep, (i) => thresholds[i]!);
  }
  const m = fps.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const th = new Float64Array(m);
  th[0] = Infinity;
  const nNeg = fps[fps.length - 1]!;
  const nPos = tps[tps.length - 1]!;
  for (let i = 1; i < m; i++) {
    fpr[i] = fps[i - 1]! / nNeg;
    tpr[i] = tps[i - 1]! / nPos;
    th[i] = thresholds[i - 1]!;
  }
  return { fpr, tpr, thresholds: th };
}

/**
 * The ROC curve of binary scores, scikit-learn's `roc_curve`: for each distinct score t (ties are one
 * threshold), fpr = (weight of negatives with score >= t) / (weight of negatives) and tpr likewise for
 * positives, from the highest threshold down, preceded by the point (0, 0) at threshold `Infinity`.
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - finite scores (probabilities, logits, any monotone score), same length
 * @throws DomainError when a label is not 0/1, a score is NaN or infinite, the input is empty, or one class
 *   has no sample of non-zero weight (its rate is undefined; scikit-learn returns NaN rates with a warning)
 * @throws ShapeError when the lengths differ
 */
export function rocCurve(yTrue: MetricInput, yScore: MetricInput, options?: RocCurveOptions): RocCurve {
  const op = 'metrics.rocCurve';
  const opts = readOptions(op, options, ['sampleWeight', 'dropIntermediate']);
  const drop = ownValue(opts, 'dropIntermediate') ?? true;
  if (typeof drop !== 'boolean') {
    throw new ArgumentError(op, `option 'dropIntermediate' must be a boolean, got ${describeValue(drop)}`);
  }
  const { curve } = readClfCurve(op, yTrue, yScore, ownValue(opts, 'sampleWeight'));
  return rocPoints(op, curve, drop);
}

/**
 * Area under the ROC curve of binary scores, scikit-learn's `roc_auc_score` for binary targets: the
 * trapezoid area under {@link rocCurve}, which equals the probability that a random positive scores higher
 * than a random negative, ties counting one half (weighted by the sample weights). At most 1 (clamped: the
 * rounding of the sum can give scikit-learn 1 + 2⁻⁵²).
 *
 * @param yTrue - labels, 0 or 1, both present
 * @param yScore - finite scores, same length
 * @throws DomainError when only one class is present in `yTrue` (scikit-learn's ValueError), or one class
 *   has only samples of weight 0 (scikit-learn returns NaN), or a label is not 0/1, a score NaN or infinite,
 *   or the input empty
 * @throws ShapeError when the lengths differ
 */
export function rocAucScore(yTrue: MetricInput, yScore: MetricInput, options?: RocAucOptions): number {
  const op = 'metrics.rocAucScore';
  const opts = readOptions(op, options, ['sampleWeight']);
  const { curve, yTrue: t } = readClfCurve(op, yTrue, yScore, ownValue(opts, 'sampleWeight'));
  const first = t[0]!;
  if (t.every((v) => v === first)) {
    throw new DomainError(
      op,
      `only one class (${first}) is present in yTrue; ROC AUC is not defined in that case`,
    );
  }
  const { fpr, tpr } = rocPoints(op, curve, true);
  // Clamped against rounding: the trapezoids may sum to 1 + 2⁻⁵².
  return Math.min(1, trapezoid(fpr, tpr));
}
