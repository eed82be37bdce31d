import type { Tensor } from '@gradkit/autograd';
import { metrics } from '@gradkit/nn';

/** Test metrics of a binary classifier from its logits. */
export interface BinaryMetrics {
  /** Accuracy at probability 0.5 (logit 0). */
  accuracy: number;
  /** Area under the ROC curve. */
  rocAuc: number;
  /** Average precision (area under the precision-recall curve, scikit-learn's step definition). */
  ap: number;
  /** F1 at probability 0.5. */
  f1: number;
}

/** Accuracy, ROC AUC, average precision and F1 of `logits` ([n] or [n, 1]) against 0/1 labels. */
export function binaryMetrics(labels: Tensor, logits: Tensor): BinaryMetrics {
  return {
    accuracy: metrics.accuracy(labels, logits, { threshold: 0 }),
    rocAuc: metrics.rocAucScore(labels, logits),
    ap: metrics.averagePrecisionScore(labels, logits),
    f1: metrics.f1Score(labels, logits, { threshold: 0 }),
  };
}

/** The best F1 over every threshold of the precision-recall curve, and that threshold (a score). */
export function bestF1(labels: Tensor, scores: Tensor): { f1: number; threshold: number } {
  const { precision, recall, thresholds } = metrics.precisionRecallCurve(labels, scores);
  let best = { f1: 0, threshold: Number.POSITIVE_INFINITY };
  for (let i = 0; i < thresholds.length; i++) {
    const p = precision[i]!;
    const r = recall[i]!;
    const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
    if (f1 > best.f1) best = { f1, threshold: thresholds[i]! };
  }
  return best;
}
