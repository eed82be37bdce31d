import { readBinaryLabels, readSampleWeight, readScores } from './input.js';

/**
 * Cumulative (weighted) true and false positives at each distinct score, highest score first — the
 * counts behind the ROC and precision-recall curves (scikit-learn's `_binary_clf_curve`).
 */
export interface ClfCurve {
  /** fps[i]: weight of negative samples with score >= thresholds[i]; fps[last] is all negatives. */
  readonly fps: Float64Array;
  /** tps[i]: weight of positive samples with score >= thresholds[i]; tps[last] is all positives. */
  readonly tps: Float64Array;
  /** The distinct scores, decreasing; tied scores are one threshold. */
  readonly thresholds: Float64Array;
}

/**
 * Reads and validates `yTrue` (0/1, non-empty), `yScore` (finite, same length) and optional weights
 * (finite, non-negative), then computes the {@link ClfCurve}. Samples of weight 0 are dropped first, as in
 * scikit-learn. The sort is scikit-learn's (a stable ascending sort, reversed), and the sums are sequential
 * in that order (NumPy's cumsum), so the counts agree with scikit-learn bit for bit.
 *
 * @returns the curve, or null when every weight is 0
 * @throws DomainError / ShapeError / ArgumentError from the readers
 */
export function readClfCurve(
  op: string,
  yTrue: unknown,
  yScore: unknown,
  sampleWeight: unknown,
): { curve: ClfCurve | null; yTrue: Float64Array } {
  const t = readBinaryLabels(op, 'yTrue', yTrue);
  const s = readScores(op, 'yScore', yScore, t.length, true).values;
  const w = readSampleWeight(op, sampleWeight, t.length);
  return { curve: clfCurve(t, s, w), yTrue: t };
}

function clfCurve(t: Float64Array, s: Float64Array, w: Float64Array | null): ClfCurve | null {
  let keep: number[] = [];
  for (let i = 0; i < t.length; i++) if (w === null || w[i] !== 0) keep.push(i);
  if (keep.length === 0) return null;
  keep.sort((a, b) => s[a]! - s[b]! || a - b);
  keep = keep.reverse();
  const n = keep.length;
  const tpsAll = new Float64Array(n);
  const fpsAll = new Float64Array(n);
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = keep[k]!;
    const weight = w === null ? 1 : w[i]!;
    if (t[i] === 1) tp += weight;
    else if (w !== null) fp += weight;
    tpsAll[k] = tp;
    // Unweighted, sklearn writes fps as 1 + index − tps.
    fpsAll[k] = w === null ? 1 + k - tp : fp;
  }
  const ends: number[] = [];
  for (let k = 0; k + 1 < n; k++) if (s[keep[k]!] !== s[keep[k + 1]!]) ends.push(k);
  ends.push(n - 1);
  const m = ends.length;
  const fps = new Float64Array(m);
  const tps = new Float64Array(m);
  const thresholds = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const k = ends[j]!;
    fps[j] = fpsAll[k]!;
    tps[j] = tpsAll[k]!;
    thresholds[j] = s[keep[k]!]!;
  }
  return { fps, tps, thresholds };
}
