import { ArgumentError, DomainError } from '@gradkit/autograd';
import { describeValue, ownValue } from '@gradkit/kernels';
import {
  FLOAT32_EPS,
  FLOAT64_EPS,
  type MetricInput,
  readBinaryLabels,
  readOptions,
  readSampleWeight,
  readScores,
} from './input.js';
import { pairwiseSum, weightedSum } from './sum.js';

/** Options of {@link logLoss}. */
export interface LogLossOptions {
  /** Per-sample weights (finite, non-negative): the result is the weighted mean. */
  sampleWeight?: MetricInput;
  /**
   * Probabilities are clipped to [eps, 1 − eps] before the log. Default: the machine epsilon of the input,
   * 2⁻⁵² (≈ 2.22e-16) for float64 and arrays, 2⁻²³ for a float32 Tensor or Float32Array — scikit-learn
   * ≥ 1.2's `eps="auto"` (before 1.2 its default was 1e-15). Must be in [0, 0.5).
   */
  eps?: number;
}

/**
 * Binary log loss (cross-entropy) of predicted probabilities of the positive class, scikit-learn's
 * `log_loss` with `labels=[0, 1]`:
 *
 *   p̃ᵢ = clip(pᵢ, eps, 1 − eps),  lossᵢ = −log(p̃ᵢ / s) if yᵢ = 1, −log((1 − p̃ᵢ) / s) if yᵢ = 0,
 *   with s = (1 − p̃ᵢ) + p̃ᵢ (scikit-learn's renormalization, 1 up to rounding),
 *   result = Σ wᵢ·lossᵢ / Σ wᵢ   (the mean without weights).
 *
 * Unlike scikit-learn 1.2, a `yTrue` with a single class is accepted (scikit-learn asks for `labels`; the
 * classes here are always {0, 1}), and a probability outside [0, 1] is refused (scikit-learn 1.2 clips it
 * silently).
 *
 * @param yTrue - labels, 0 or 1
 * @param yProb - probabilities of class 1, in [0, 1], same length
 * @throws DomainError when a label is not 0/1, a probability is outside [0, 1] or NaN, the input is empty,
 *   or the weights sum to 0
 * @throws ArgumentError when `eps` is not a number in [0, 0.5)
 * @throws ShapeError when the lengths differ
 */
export function logLoss(yTrue: MetricInput, yProb: MetricInput, options?: LogLossOptions): number {
  const op = 'metrics.logLoss';
  const opts = readOptions(op, options, ['sampleWeight', 'eps']);
  const t = readBinaryLabels(op, 'yTrue', yTrue);
  const prob = readScores(op, 'yProb', yProb, t.length, true);
  const p = prob.values;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0 && p[i]! <= 1)) {
      throw new DomainError(
        op,
        `argument 'yProb' must hold probabilities in [0, 1]; element ${i} is ${p[i]}`,
      );
    }
  }
  const w = readSampleWeight(op, ownValue(opts, 'sampleWeight'), t.length);
  const eps = ownValue(opts, 'eps') ?? (prob.float32 ? FLOAT32_EPS : FLOAT64_EPS);
  if (typeof eps !== 'number' || !(eps >= 0 && eps < 0.5)) {
    throw new ArgumentError(op, `option 'eps' must be a number in [0, 0.5), got ${describeValue(eps)}`);
  }
  const loss = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const pi = Math.min(Math.max(p[i]!, eps), 1 - eps);
    const qi = 1 - pi;
    const s = qi + pi;
    loss[i] = -Math.log((t[i] === 1 ? pi : qi) / s);
  }
  const total = w === null ? t.length : pairwiseSum(w);
  if (total === 0) throw new DomainError(op, `the sample weights sum to 0`);
  return weightedSum(loss, w) / total;
}
