import { ArgumentError, DomainError } from '@gradkit/autograd';
import { describeValue, ownValue } from '@gradkit/kernels';
import { type MetricInput, readBinaryLabels, readOptions, readSampleWeight, readScores } from './input.js';
import { pairwiseSum, weightedSum } from './sum.js';

/**
 * What precision, recall and F1 return when their denominator is 0 (precision: nothing predicted positive;
 * recall: no positive sample; F1: either): `0` (the default, scikit-learn's `zero_division="warn"` value,
 * without the warning), `1`, or `'error'` to throw a DomainError instead.
 */
export type ZeroDivision = 0 | 1 | 'error';

/** Options of the binary metrics at a threshold ({@link accuracy}, {@link precision}, {@link recall}, {@link f1Score}). */
export interface ThresholdOptions {
  /**
   * A sample is predicted positive when its score is `>= threshold` (default 0.5), the convention of
   * {@link rocCurve}'s thresholds. scikit-learn's metrics take predictions, so there the user thresholds;
   * note that its classifiers' `predict` uses `decision_function > 0`, i.e. probability `> 0.5`: a score of
   * exactly 0.5 is negative there and positive here.
   */
  threshold?: number;
  /** Per-sample weights (finite, non-negative), scikit-learn's `sample_weight`. */
  sampleWeight?: MetricInput;
  /** See {@link ZeroDivision}; ignored by {@link accuracy}. */
  zeroDivision?: ZeroDivision;
}

const THRESHOLD_KEYS = ['threshold', 'sampleWeight', 'zeroDivision'] as const;

/** Weighted counts of a binary prediction, computed as scikit-learn's `multilabel_confusion_matrix` does. */
interface BinaryCounts {
  /** Weight of samples with label 1 predicted 1. */
  tp: number;
  /** tp + fp: weight predicted 1. */
  predSum: number;
  /** tp + fn: weight with label 1. */
  trueSum: number;
  zeroDivision: ZeroDivision;
}

interface ThresholdInputs {
  yTrue: Float64Array;
  yPred: Float64Array;
  weight: Float64Array | null;
  zeroDivision: ZeroDivision;
}

function readThresholdInputs(op: string, yTrue: unknown, yScore: unknown, options: unknown): ThresholdInputs {
  const opts = readOptions(op, options, THRESHOLD_KEYS);
  const threshold = ownValue(opts, 'threshold') ?? 0.5;
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
    throw new ArgumentError(op, `option 'threshold' must be a number, got ${describeValue(threshold)}`);
  }
  const zeroDivision = ownValue(opts, 'zeroDivision') ?? 0;
  if (zeroDivision !== 0 && zeroDivision !== 1 && zeroDivision !== 'error') {
    throw new ArgumentError(
      op,
      `option 'zeroDivision' must be 0, 1 or 'error', got ${describeValue(zeroDivision)}`,
    );
  }
  const t = readBinaryLabels(op, 'yTrue', yTrue);
  const s = readScores(op, 'yScore', yScore, t.length, false).values;
  const weight = readSampleWeight(op, ownValue(opts, 'sampleWeight'), t.length);
  return { yTrue: t, yPred: binarizeValues(s, threshold), weight, zeroDivision };
}

function binarizeValues(s: Float64Array, threshold: number): Float64Array {
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i]! >= threshold ? 1 : 0;
  return out;
}

function counts(inputs: ThresholdInputs): BinaryCounts {
  const { yTrue, yPred, weight } = inputs;
  // Sequential sums in sample order, as np.bincount; then fp = P − tp, fn = T − tp and back, as sklearn.
  let tp = 0;
  let predicted = 0;
  let actual = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weight === null ? 1 : weight[i]!;
    if (yPred[i] === 1) {
      predicted += w;
      if (yTrue[i] === 1) tp += w;
    }
    if (yTrue[i] === 1) actual += w;
  }
  return {
    tp,
    predSum: tp + (predicted - tp),
    trueSum: tp + (actual - tp),
    zeroDivision: inputs.zeroDivision,
  };
}

function divide(op: string, what: string, num: number, den: number, zd: ZeroDivision): number {
  if (den !== 0) return num / den;
  if (zd === 'error') {
    throw new DomainError(op, `${what} is 0, so the metric is undefined (option zeroDivision is 'error')`);
  }
  return zd;
}

function precisionOf(op: string, c: BinaryCounts): number {
  return divide(op, 'the weight of samples predicted positive', c.tp, c.predSum, c.zeroDivision);
}

function recallOf(op: string, c: BinaryCounts): number {
  return divide(op, 'the weight of positive samples', c.tp, c.trueSum, c.zeroDivision);
}

/**
 * Turns scores into 0/1 predictions: 1 where `score >= threshold` (default 0.5), else 0 — the convention of
 * every metric here (see {@link ThresholdOptions.threshold}). Feed the result to {@link confusionMatrix}.
 *
 * @param yScore - scores or probabilities
 * @param threshold - the smallest score predicted positive
 * @throws DomainError when a score is NaN
 * @throws ArgumentError when `threshold` is not a number or NaN, or `yScore` is not an array or Tensor
 */
export function binarize(yScore: MetricInput, threshold = 0.5): Float64Array {
  const op = 'metrics.binarize';
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
    throw new ArgumentError(op, `argument 'threshold' must be a number, got ${describeValue(threshold)}`);
  }
  const s = readScores(op, 'yScore', yScore, null, false);
  return binarizeValues(s.values, threshold);
}

/**
 * Accuracy of binary predictions at a threshold: the (weighted) fraction of samples whose prediction
 * `yScore >= threshold` equals the label,
 *
 *   accuracy = Σ wᵢ·[ŷᵢ = yᵢ] / Σ wᵢ    (wᵢ = 1 without weights),
 *
 * scikit-learn's `accuracy_score(y_true, y_score >= threshold, sample_weight=w)`.
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - scores or probabilities, same length (NaN refused; ±Infinity allowed)
 * @throws DomainError when a label is not 0/1, a score is NaN, the input is empty, or the weights sum to 0
 * @throws ShapeError when the lengths differ
 */
export function accuracy(yTrue: MetricInput, yScore: MetricInput, options?: ThresholdOptions): number {
  const op = 'metrics.accuracy';
  const inputs = readThresholdInputs(op, yTrue, yScore, options);
  const { yTrue: t, yPred: p, weight } = inputs;
  const correct = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) correct[i] = t[i] === p[i] ? 1 : 0;
  const total = weight === null ? t.length : pairwiseSum(weight);
  if (total === 0) throw new DomainError(op, `the sample weights sum to 0`);
  return weightedSum(correct, weight) / total;
}

/**
 * Precision of binary predictions at a threshold: tp / (tp + fp), with tp and fp the (weighted) counts of
 * positive and negative samples whose score is `>= threshold`; scikit-learn's `precision_score`. When
 * nothing is predicted positive the result is `zeroDivision` (default 0).
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - scores or probabilities, same length (NaN refused)
 * @throws DomainError when a label is not 0/1, a score is NaN, the input is empty, or the denominator is 0
 *   with `zeroDivision: 'error'`
 * @throws ShapeError when the lengths differ
 */
export function precision(yTrue: MetricInput, yScore: MetricInput, options?: ThresholdOptions): number {
  const op = 'metrics.precision';
  return precisionOf(op, counts(readThresholdInputs(op, yTrue, yScore, options)));
}

/**
 * Recall (sensitivity, true-positive rate) of binary predictions at a threshold: tp / (tp + fn), the
 * (weighted) fraction of positive samples whose score is `>= threshold`; scikit-learn's `recall_score`.
 * Without positive samples the result is `zeroDivision` (default 0).
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - scores or probabilities, same length (NaN refused)
 * @throws DomainError when a label is not 0/1, a score is NaN, the input is empty, or the denominator is 0
 *   with `zeroDivision: 'error'`
 * @throws ShapeError when the lengths differ
 */
export function recall(yTrue: MetricInput, yScore: MetricInput, options?: ThresholdOptions): number {
  const op = 'metrics.recall';
  return recallOf(op, counts(readThresholdInputs(op, yTrue, yScore, options)));
}

/**
 * F1 score of binary predictions at a threshold: the harmonic mean of {@link precision} and {@link recall},
 *
 *   F1 = 2·P·R / (P + R),  and 0 when P + R = 0,
 *
 * computed from P and R as scikit-learn 1.2's `f1_score` does, each of them taking `zeroDivision` when its
 * own denominator is 0 (so with `zeroDivision: 1` and no positive sample nor prediction, F1 = 1; with the
 * default 0 it is 0). With `'error'`, throws when P or R is undefined.
 *
 * @param yTrue - labels, 0 or 1
 * @param yScore - scores or probabilities, same length (NaN refused)
 * @throws DomainError when a label is not 0/1, a score is NaN, the input is empty, or P or R is undefined
 *   with `zeroDivision: 'error'`
 * @throws ShapeError when the lengths differ
 */
export function f1Score(yTrue: MetricInput, yScore: MetricInput, options?: ThresholdOptions): number {
  const op = 'metrics.f1Score';
  const c = counts(readThresholdInputs(op, yTrue, yScore, options));
  const p = precisionOf(op, c);
  const r = recallOf(op, c);
  const denom = p + r;
  return (2 * p * r) / (denom === 0 ? 1 : denom);
}
