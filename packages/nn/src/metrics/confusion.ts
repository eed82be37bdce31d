import { ArgumentError, DomainError } from '@gradkit/autograd';
import { describeValue, ownValue } from '@gradkit/kernels';
import { checkSameLength, type MetricInput, readOptions, readSampleWeight, readVector } from './input.js';
import { pairwiseSum } from './sum.js';

/** How {@link confusionMatrix} normalizes: over true labels (rows), predicted labels (columns) or all. */
export type ConfusionNormalize = 'true' | 'pred' | 'all';

/** Options of {@link confusionMatrix}. */
export interface ConfusionMatrixOptions {
  /**
   * The class labels, in the order of the rows and columns (distinct integers). Samples whose true or
   * predicted label is not among them are left out. Default: the sorted distinct labels of `yTrue` and
   * `yPred` together.
   */
  labels?: MetricInput;
  /** Per-sample weights (finite, non-negative): entries are sums of weights instead of counts. */
  sampleWeight?: MetricInput;
  /**
   * Divide each row by its sum (`'true'`: rows become recalls), each column by its sum (`'pred'`: columns
   * become precisions) or everything by the total (`'all'`); a zero sum gives zeros, as in scikit-learn.
   */
  normalize?: ConfusionNormalize;
}

function readLabels(op: string, arg: string, x: unknown, n: number | null): Float64Array {
  const { values } = readVector(op, arg, x);
  if (n !== null) checkSameLength(op, arg, values.length, n);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i]!)) {
      throw new DomainError(
        op,
        `argument '${arg}' must hold integer class labels; element ${i} is ${values[i]}`,
      );
    }
  }
  return values;
}

/**
 * The confusion matrix of class labels, scikit-learn's `confusion_matrix`: entry [i][j] is the number (or
 * the total sample weight) of samples whose true label is `labels[i]` and predicted label is `labels[j]`
 * — rows are true labels, columns predicted labels. For binary labels {0, 1} it is
 * `[[tn, fp], [fn, tp]]`; to get predictions from scores use {@link binarize}.
 *
 * @param yTrue - true class labels (integers)
 * @param yPred - predicted class labels (integers), same length
 * @returns a square array of arrays, one row per label
 * @throws DomainError when a label is not an integer (NaN included), the input is empty, or none of the
 *   given `labels` occurs in `yTrue` (as scikit-learn)
 * @throws ArgumentError when `labels` is empty or repeats a label, or `normalize` is not a valid mode
 * @throws ShapeError when the lengths differ
 */
export function confusionMatrix(
  yTrue: MetricInput,
  yPred: MetricInput,
  options?: ConfusionMatrixOptions,
): number[][] {
  const op = 'metrics.confusionMatrix';
  const opts = readOptions(op, options, ['labels', 'sampleWeight', 'normalize']);
  const normalize = ownValue(opts, 'normalize');
  if (normalize !== undefined && normalize !== 'true' && normalize !== 'pred' && normalize !== 'all') {
    throw new ArgumentError(
      op,
      `option 'normalize' must be 'true', 'pred' or 'all', got ${describeValue(normalize)}`,
    );
  }
  const t = readLabels(op, 'yTrue', yTrue, null);
  if (t.length === 0) throw new DomainError(op, `argument 'yTrue' is empty`);
  const p = readLabels(op, 'yPred', yPred, t.length);
  const w = readSampleWeight(op, ownValue(opts, 'sampleWeight'), t.length);
  const given = ownValue(opts, 'labels');
  let labels: Float64Array;
  if (given === undefined) {
    labels = Float64Array.from(new Set([...t, ...p])).sort();
  } else {
    labels = readLabels(op, 'labels', given, null);
    if (labels.length === 0) throw new ArgumentError(op, `option 'labels' must hold at least one label`);
    if (new Set(labels).size !== labels.length) {
      throw new ArgumentError(op, `option 'labels' repeats a label: [${labels.join(', ')}]`);
    }
    const set = new Set(labels);
    if (!t.some((v) => set.has(v))) {
      throw new DomainError(op, `none of the labels [${labels.join(', ')}] occurs in yTrue`);
    }
  }
  const k = labels.length;
  const index = new Map<number, number>();
  // Map keys compare by SameValueZero: -0 and 0 are one label.
  for (let i = 0; i < k; i++) index.set(labels[i]!, i);
  const cm = Array.from({ length: k }, () => new Float64Array(k));
  for (let s = 0; s < t.length; s++) {
    const i = index.get(t[s]!);
    const j = index.get(p[s]!);
    if (i !== undefined && j !== undefined) cm[i]![j]! += w === null ? 1 : w[s]!;
  }
  if (normalize === 'true') {
    for (const row of cm) {
      const sum = pairwiseSum(row);
      for (let j = 0; j < k; j++) row[j] = sum === 0 ? 0 : row[j]! / sum;
    }
  } else if (normalize === 'pred') {
    // NumPy sums axis 0 row after row.
    const sums = new Float64Array(k);
    for (const row of cm) for (let j = 0; j < k; j++) sums[j]! += row[j]!;
    for (const row of cm) for (let j = 0; j < k; j++) row[j] = sums[j] === 0 ? 0 : row[j]! / sums[j]!;
  } else if (normalize === 'all') {
    const flat = new Float64Array(k * k);
    for (let i = 0; i < k; i++) flat.set(cm[i]!, i * k);
    const sum = pairwiseSum(flat);
    for (const row of cm) for (let j = 0; j < k; j++) row[j] = sum === 0 ? 0 : row[j]! / sum;
  }
  return cm.map((row) => Array.from(row));
}
