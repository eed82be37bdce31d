import { DomainError } from '@gradkit/autograd';
import { ownValue } from '@gradkit/kernels';
import { type ClfCurve, readClfCurve } from './clf-curve.js';
import { type MetricInput, readOptions } from './input.js';
import { pairwiseSum } from './sum.js';

/** Options of {@link precisionRecallCurve} and {@link averagePrecisionScore}. */
export interface PrecisionRecallOptions {
  /** Per-sample weights (finite, non-negative); samples of weight 0 are dropped, as in scikit-learn. */
  sampleWeight?: MetricInput;
}

/** A precision-recall curve: `precision` and `recall` have one more element than `thresholds`. */
export interface PrecisionRecallCurve {
  /** precision[i] = tp/(tp + fp) at `score >= thresholds[i]`; the last element is 1 (no threshold). */
  readonly precision: Float64Array;
  /** recall[i] = tp/P at `score >= thresholds[i]`, non-increasing; the last element is 0. */
  readonly recall: Float64Array;
  /** The distinct scores, increasing (ties are one threshold). */
  readonly thresholds: Float64Array;
}

function prPoints(op: string, curve: ClfCurve | null): PrecisionRecallCurve {
  if (curve === null) throw new DomainError(op, `every sample weight is 0`);
  const { fps, tps, thresholds } = curve;
  const m = tps.length;
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const th = new Float64Array(m);
  const nPos = tps[m - 1]!;
  for (let j = 0; j < m; j++) {
    const i = m - 1 - j;
    const ps = tps[i]! + fps[i]!;
    precision[j] = ps !== 0 ? tps[i]! / ps : 0;
    // No positive sample: recall is 1 at every threshold, as scikit-learn (which also warns).
    recall[j] = nPos === 0 ? 1 : tps[i]! / nPos;
    th[j] = thresholds[i]!;
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds: th };
}

/**
 * The precision-recall curve of binary scores, scikit-learn's `precision_recall_curve`: for each distinct
 * score t (ties are one threshold), in increasing order, precision = tp/(tp + fp) and recall = tp/P over
 * the samples with score >= t, followed by the point (recall 0, precision 1). With no positive sample,
 * recall is 1 at every threshold (scikit-learn's convention, which also warns).
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - finite scores, same length
 * @throws DomainError when a label is not 0/1, a score is NaN or infinite, the input is empty or every
 *   sample weight is 0
 * @throws ShapeError when the lengths differ
 */
export function precisionRecallCurve(
  yTrue: MetricInput,
  yScore: MetricInput,
  options?: PrecisionRecallOptions,
): PrecisionRecallCurve {
  const op = 'metrics.precisionRecallCurve';
  const opts = readOptions(op, options, ['sampleWeight']);
  return prPoints(op, readClfCurve(op, yTrue, yScore, ownValue(opts, 'sampleWeight')).curve);
}

/**
 * Average precision of binary scores, scikit-learn's `average_precision_score`: the step-wise (not
 * interpolated, not trapezoid) area under the precision-recall curve,
 *
 *   AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ
 *
 * over the thresholds from high to low (Pₙ, Rₙ: precision and recall at the n-th threshold, R₀ = 0). It is
 * in [0, 1] (clamped there: the rounding of the sum can give scikit-learn 1 + 2⁻⁵²). With no positive
 * sample it is 0, as in scikit-learn (which also warns).
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - finite scores, same length
 * @throws DomainError when a label is not 0/1, a score is NaN or infinite, the input is empty or every
 *   sample weight is 0
 * @throws ShapeError when the lengths differ
 */
export function averagePrecisionScore(
  yTrue: MetricInput,
  yScore: MetricInput,
  options?: PrecisionRecallOptions,
): number {
  const op = 'metrics.averagePrecisionScore';
  const opts = readOptions(op, options, ['sampleWeight']);
  const { precision, recall } = prPoints(
    op,
    readClfCurve(op, yTrue, yScore, ownValue(opts, 'sampleWeight')).curve,
  );
  const terms = new Float64Array(recall.length - 1);
  for (let i = 0; i < terms.length; i++) terms[i] = (recall[i + 1]! - recall[i]!) * precision[i]!;
  // Clamped against rounding (the recall steps may sum to 1 + 2⁻⁵²); + 0 turns a −0 into 0.
  return Math.min(1, Math.max(0, -pairwiseSum(terms) + 0));
}
