/**
 * Classification metrics with scikit-learn's definitions, tie handling and edge cases (checked against
 * scikit-learn 1.2.1 to 1e-12): accuracy, precision, recall and F1 at a threshold, confusion matrices, ROC
 * and precision-recall curves, ROC AUC, average precision and log loss. Labels, scores and sample weights
 * are arrays of numbers or Tensors ({@link MetricInput}).
 *
 * Conventions: a score `>= threshold` is predicted positive; ties in scores are one threshold; anything
 * scikit-learn reports as NaN or refuses (one class for ROC AUC, NaN scores, empty input) is a DomainError,
 * never a NaN.
 *
 * @module
 */
export { auc } from './auc.js';
export { type ConfusionMatrixOptions, type ConfusionNormalize, confusionMatrix } from './confusion.js';
export type { MetricInput } from './input.js';
export { type LogLossOptions, logLoss } from './log-loss.js';
export {
  averagePrecisionScore,
  type PrecisionRecallCurve,
  type PrecisionRecallOptions,
  precisionRecallCurve,
} from './precision-recall.js';
export { type RocAucOptions, type RocCurve, type RocCurveOptions, rocAucScore, rocCurve } from './roc.js';
export {
  accuracy,
  binarize,
  f1Score,
  precision,
  recall,
  type ThresholdOptions,
  type ZeroDivision,
} from './threshold.js';
