/**
 * A new modulating factor, defined in a few lines with the research API, checked, and used for training.
 *
 * 1. `linearFocal` multiplies the cross entropy by (1 − pt)^gamma · (1 + beta·pt): focal loss's down-weighting
 *    of easy examples, with a linear correction that keeps some weight on them. Only the factor is written;
 *    its gradient, double backward and fused kernels come from the expression.
 * 2. gradcheck and gradgradcheck (float64, central differences) of the new loss w.r.t. logits, targets,
 *    weight and posWeight.
 * 3. Logistic regression on the Wisconsin breast-cancer data (UCI, CC BY 4.0; see data/PROVENANCE.md), with the
 *    malignant class subsampled to 1:16 (every 10th positive kept), trained by full-batch gradient descent with
 *    the new loss and, for comparison, with plain BCE with logits. Deterministic split: row i is a test row iff
 *    i % 5 == 0.
 *
 * Run with `pnpm example:custom-modulator` from the repository root.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fromArray, grad, linear, manualSeed, randn, type Tensor, zeros } from '@gradkit/autograd';
import { bceWithLogits, defineModulatedLoss } from '@gradkit/losses';
import { describeWorst, gradcheckTensor, gradgradcheckTensor } from '@gradkit/testing';

// ---- 1. The new factor: 6 lines ------------------------------------------------------------------------
export const linearFocal = defineModulatedLoss({
  name: 'linear-focal',
  factor: ({ pt }, { gamma, beta }) => pt.neg().add(1).pow(gamma).mul(pt.mul(beta).add(1)),
  params: { gamma: 2, beta: 1 },
  alpha: 0.25,
});

// ---- 2. Gradient checks --------------------------------------------------------------------------------
/** gradcheck and gradgradcheck of the new loss at random float64 inputs; returns both reports. */
export function checkGradients(seed = 0) {
  manualSeed(seed);
  const x = randn([4, 3], { dtype: 'float64', requiresGrad: true }).detach().mul(3);
  const logits = fromArray(x.data, [4, 3], { dtype: 'float64', requiresGrad: true });
  const targets = fromArray([1, 0, 0.3, 0, 1, 0.8, 1, 1, 0, 0.5, 0, 1], [4, 3], {
    dtype: 'float64',
    requiresGrad: true,
  });
  const weight = fromArray([0.5, 1, 2], [3], { dtype: 'float64', requiresGrad: true });
  const posWeight = fromArray([1.5], [1], { dtype: 'float64', requiresGrad: true });
  const fn = (u: Tensor, v: Tensor, w: Tensor, pw: Tensor) =>
    linearFocal(u, v, { weight: w, posWeight: pw, reduction: 'mean' });
  const inputs = [logits, targets, weight, posWeight];
  return { first: gradcheckTensor(fn, inputs), second: gradgradcheckTensor(fn, inputs, { seed: 3 }) };
}

// ---- 3. Data ------------------------------------------------------------------------------------------
/** The data set: features (z-scored with train statistics) and labels, split into train and test. */
export interface Split {
  trainX: Tensor;
  trainY: Tensor;
  testX: Tensor;
  testY: Tensor;
}

/** Reads the CSV next to this file, keeps every `keepEvery`-th positive, z-scores, splits (test iff i % 5 == 0). */
export function loadBreastCancer(keepEvery = 10): Split {
  const text = readFileSync(new URL('./data/breast_cancer.csv', import.meta.url), 'utf8').trim();
  const rows = text
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  let positives = 0;
  const kept = rows.filter((r) => r[r.length - 1] !== 1 || positives++ % keepEvery === 0);
  const d = kept[0]!.length - 1;
  const train = kept.filter((_, i) => i % 5 !== 0);
  const test = kept.filter((_, i) => i % 5 === 0);
  const mean = Array.from({ length: d }, (_, j) => train.reduce((s, r) => s + r[j]!, 0) / train.length);
  const std = mean.map(
    (m, j) => Math.sqrt(train.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / train.length) || 1,
  );
  const features = (rs: number[][]) =>
    fromArray(
      rs.flatMap((r) => r.slice(0, d).map((v, j) => (v - mean[j]!) / std[j]!)),
      [rs.length, d],
      { dtype: 'float32' },
    );
  const labels = (rs: number[][]) =>
    fromArray(
      rs.map((r) => r[d]!),
      [rs.length, 1],
      { dtype: 'float32' },
    );
  return { trainX: features(train), trainY: labels(train), testX: features(test), testY: labels(test) };
}

// ---- 4. Training and metrics --------------------------------------------------------------------------
/** A loss of logits [N, 1] against labels [N, 1], reduced to a scalar. */
export type Objective = (logits: Tensor, labels: Tensor) => Tensor;

/** Trains a logistic regression by full-batch gradient descent with momentum; returns weight and bias. */
export function trainLogistic(
  data: Split,
  objective: Objective,
  epochs = 300,
  lr = 0.5,
): { w: Tensor; b: Tensor } {
  const d = data.trainX.shape[1]!;
  let w = zeros([1, d], { requiresGrad: true });
  let b = zeros([1], { requiresGrad: true });
  const vw = new Float32Array(d);
  const vb = new Float32Array(1);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loss = objective(linear(data.trainX, w, b), data.trainY);
    const [gw, gb] = grad(loss, [w, b]) as [Tensor, Tensor];
    const step = (p: Tensor, g: Tensor, v: Float32Array) => {
      const next = new Float32Array(p.size);
      for (let i = 0; i < p.size; i++) {
        v[i] = 0.9 * v[i]! + g.data[i]!;
        next[i] = p.data[i]! - lr * v[i]!;
      }
      return fromArray(next, [...p.shape], { dtype: 'float32', requiresGrad: true });
    };
    w = step(w, gw, vw);
    b = step(b, gb, vb);
  }
  return { w, b };
}

/** Accuracy and F1 at threshold 0.5, and average precision, of logits against 0/1 labels. */
export function metrics(
  logits: Tensor,
  labels: Tensor,
): { accuracy: number; f1: number; averagePrecision: number } {
  const s = Array.from(logits.data);
  const y = Array.from(labels.data);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  s.forEach((v, i) => {
    const pred = v > 0 ? 1 : 0;
    if (pred === y[i]) correct++;
    if (pred === 1 && y[i] === 1) tp++;
    if (pred === 1 && y[i] === 0) fp++;
    if (pred === 0 && y[i] === 1) fn++;
  });
  const order = s.map((v, i) => [v, y[i]!] as const).sort((p, q) => q[0] - p[0]);
  const positives = y.filter((v) => v === 1).length;
  let hits = 0;
  let ap = 0;
  order.forEach(([, label], k) => {
    if (label === 1) {
      hits++;
      ap += hits / (k + 1);
    }
  });
  return {
    accuracy: correct / s.length,
    f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
    averagePrecision: positives === 0 ? 0 : ap / positives,
  };
}

function main(): void {
  const { first, second } = checkGradients();
  console.log(`gradcheck     ${describeWorst(first)}`);
  console.log(`gradgradcheck ${describeWorst(second)}`);
  if (!first.ok || !second.ok) throw new Error('gradient check failed');

  const data = loadBreastCancer(10);
  const positives = Array.from(data.trainY.data).filter((v) => v === 1).length;
  console.log(
    `\nbreast cancer, malignant subsampled: ${data.trainY.size} train rows (${positives} positive), ${data.testY.size} test rows`,
  );
  const objectives: Array<[string, Objective]> = [
    ['BCE with logits', (z, t) => bceWithLogits(z, t)],
    ['linear-focal (new factor)', (z, t) => linearFocal(z, t, { reduction: 'mean' })],
  ];
  for (const [name, objective] of objectives) {
    const t0 = performance.now();
    const { w, b } = trainLogistic(data, objective);
    const m = metrics(linear(data.testX, w, b), data.testY);
    const train = objective(linear(data.trainX, w, b), data.trainY).item();
    console.log(
      `${name.padEnd(26)} train loss ${train.toFixed(4)}  test accuracy ${m.accuracy.toFixed(3)}  F1 ${m.f1.toFixed(3)}  ` +
        `average precision ${m.averagePrecision.toFixed(3)}  (${(performance.now() - t0).toFixed(0)} ms)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
