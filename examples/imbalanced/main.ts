/**
 * Losses for an imbalanced task (`pnpm example:imbalanced`): the same 57 → 16 → 1 MLP trained on spambase with
 * spam kept 1 in 20 (3.2 % positives, 1:31) with six objectives, compared by average precision, ROC AUC and
 * F1 at the best threshold, with one precision-recall plot of all of them.
 *
 * 1. Data: examples/data/spambase.csv (UCI, CC BY 4.0; see examples/data/DATASETS.md). log1p, then "keep every
 *    20th positive" (91 spam / 2788 ham), then row i is a test row iff i % 5 == 0 (72/2231 train, 19/557
 *    test), then z-scores with the train rows' statistics.
 * 2. Objectives: BCE on probabilities (the MLP followed by Sigmoid), BCE with logits, BCE with logits and
 *    posWeight = negatives/positives of the train set, YOLOv5's focal loss (γ 1.5, α 0.25), focal loss with
 *    RetinaNet's γ 2 (α 0.25), and a new modulating factor made with `defineModulatedLoss`.
 * 3. Every run starts from the same initial weights and sees the same batches (Adam + cosine annealing).
 *
 * Reference: scikit-learn's logistic regression reaches AP 0.726 on this split (DATASETS.md).
 */
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Generator, type Tensor, tensor } from '@gradkit/autograd';
import {
  bestF1,
  binaryMetrics,
  countClasses,
  defaultIO,
  EpochProgress,
  type EpochRecord,
  type ExampleIO,
  fit,
  formatTable,
  lineChart,
  loadSplit,
  mlp,
  predict,
  seconds,
  writePlot,
} from '@gradkit/examples-shared';
import { BCELoss, BCEWithLogitsLoss, defineModulatedLoss, FocalLoss } from '@gradkit/losses';
import {
  Adam,
  CosineAnnealingLR,
  DataLoader,
  type Module,
  metrics,
  Sequential,
  Sigmoid,
  TensorDataset,
} from '@gradkit/nn';

/**
 * The new factor: focal loss's (1 − pt)^γ lifted to a floor, `floor + (1 − floor)·(1 − pt)^γ`, so easy
 * examples keep a fraction `floor` of their cross entropy (floor 0 is focal loss without α, floor 1 is BCE).
 * Its gradient and fused kernel come from the expression.
 */
export const flooredFocal = defineModulatedLoss({
  name: 'floored-focal',
  factor: ({ pt }, { gamma, floor }) => pt.neg().add(1).pow(gamma).mul(floor.neg().add(1)).add(floor),
  params: { gamma: 2, floor: 0.2 },
});

/** Settings of the runs. */
export interface ImbalancedOptions {
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  hidden: number;
}

/** The defaults of `pnpm example:imbalanced`. */
export const DEFAULTS: ImbalancedOptions = { epochs: 10, lr: 0.01, batchSize: 64, seed: 0, hidden: 16 };

/** scikit-learn 1.2.1 LogisticRegression on the same split (DATASETS.md): AP, ROC AUC, F1 at 0.5. */
export const SKLEARN_REFERENCE = { ap: 0.726, rocAuc: 0.959, f1: 0.667 };

/** One objective: how the model ends (logits, or Sigmoid for BCE) and the loss of a batch. */
interface Objective {
  name: string;
  probabilities: boolean;
  loss: (output: Tensor, target: Tensor) => Tensor;
}

function objectives(posWeight: number): Objective[] {
  const logits = (name: string, f: (output: Tensor, target: Tensor) => Tensor) => ({
    name,
    probabilities: false,
    loss: f,
  });
  const bce = new BCELoss();
  const bceLogits = new BCEWithLogitsLoss();
  const weighted = new BCEWithLogitsLoss({ posWeight: tensor([posWeight]) });
  const focal15 = new FocalLoss(new BCEWithLogitsLoss(), 1.5, 0.25);
  const focal2 = new FocalLoss(new BCEWithLogitsLoss(), 2, 0.25);
  return [
    { name: 'BCE (sigmoid → BCELoss)', probabilities: true, loss: (p, y) => bce.forward(p, y) },
    logits('BCEWithLogits', (x, y) => bceLogits.forward(x, y)),
    logits(`BCEWithLogits posWeight ${posWeight.toFixed(1)}`, (x, y) => weighted.forward(x, y)),
    logits('focal γ=1.5 α=0.25', (x, y) => focal15.forward(x, y)),
    logits('focal γ=2 α=0.25', (x, y) => focal2.forward(x, y)),
    logits('floored focal γ=2 floor=0.2', (x, y) => flooredFocal(x, y)),
  ];
}

/** One objective's results on the test set. */
export interface LossResult {
  name: string;
  history: EpochRecord[];
  ap: number;
  rocAuc: number;
  /** F1 at probability 0.5. */
  f1: number;
  /** The best F1 over all thresholds, and that threshold as a probability. */
  bestF1: number;
  bestThreshold: number;
  precision: Float64Array;
  recall: Float64Array;
}

/** What {@link run} returns. */
export interface ImbalancedResult {
  results: LossResult[];
  files: string[];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Trains the MLP once per objective, prints a table and writes the PR plot. */
export async function run(
  opts: ImbalancedOptions = DEFAULTS,
  io: ExampleIO = defaultIO(),
): Promise<ImbalancedResult> {
  const t0 = performance.now();
  const data = await loadSplit('spambase', { preprocess: (x) => x.log1p(), keepEveryMthPositive: 20 });
  const [nTrain, d] = data.trainX.shape as [number, number];
  const nTest = data.testX.shape[0]!;
  const trainY = data.trainY.reshape(nTrain, 1);
  const testY = data.testY.reshape(nTest, 1);
  const train = countClasses(data.trainY);
  const test = countClasses(data.testY);
  const posWeight = train.negatives / train.positives;
  io.log(
    `spambase, spam kept 1 in 20: train ${train.positives} spam / ${train.negatives} ham, test ${test.positives} / ` +
      `${test.negatives} | MLP ${d}-${opts.hidden}-1, Adam lr ${opts.lr} + cosine, batch ${opts.batchSize}, ` +
      `${opts.epochs} epochs, seed ${opts.seed}`,
  );

  const results: LossResult[] = [];
  for (const objective of objectives(posWeight)) {
    const net = mlp([d, opts.hidden, 1], new Generator(opts.seed));
    const model: Module = objective.probabilities ? new Sequential(net, new Sigmoid()) : net;
    const optimizer = new Adam(model.parameters(), { lr: opts.lr });
    const history = fit({
      model,
      loss: objective.loss,
      optimizer,
      scheduler: new CosineAnnealingLR(optimizer, { tMax: opts.epochs }),
      loader: new DataLoader(new TensorDataset(data.trainX, trainY), {
        batchSize: opts.batchSize,
        shuffle: true,
        seed: opts.seed,
      }),
      epochs: opts.epochs,
      // Ranking metrics on the logits (before the Sigmoid of the BCE model): no ties from saturation.
      evaluate: () => {
        const logits = predict(net, data.testX);
        return { ap: metrics.averagePrecisionScore(testY, logits), auc: metrics.rocAucScore(testY, logits) };
      },
      progress: new EpochProgress(io, objective.name.padEnd(29), opts.epochs),
    });
    const logits = predict(net, data.testX);
    const m = binaryMetrics(testY, logits);
    const best = bestF1(testY, logits);
    const { precision, recall } = metrics.precisionRecallCurve(testY, logits);
    results.push({
      name: objective.name,
      history,
      ap: m.ap,
      rocAuc: m.rocAuc,
      f1: m.f1,
      bestF1: best.f1,
      bestThreshold: sigmoid(best.threshold),
      precision,
      recall,
    });
  }

  io.log('');
  io.log(
    formatTable(
      [`test set (${test.positives} spam in ${nTest})`, 'AP', 'ROC AUC', 'F1 @ 0.5', 'best F1', 'at p ≥'],
      [
        ...results.map((r) => [
          r.name,
          r.ap,
          r.rocAuc,
          r.f1,
          r.bestF1,
          r.bestThreshold < 0.001 ? r.bestThreshold.toExponential(1) : r.bestThreshold.toFixed(3),
        ]),
        [
          'scikit-learn LR (reference)',
          SKLEARN_REFERENCE.ap,
          SKLEARN_REFERENCE.rocAuc,
          SKLEARN_REFERENCE.f1,
          '–',
          '–',
        ],
      ],
    ),
  );
  const rate = test.positives / nTest;
  const plot = await writePlot(
    io,
    'imbalanced-pr.svg',
    lineChart(
      results.map((r) => ({ name: `${r.name} (AP ${r.ap.toFixed(3)})`, x: r.recall, y: r.precision })),
      {
        title: 'spambase 1:31: precision-recall curves (test set)',
        xTitle: 'recall',
        yTitle: 'precision',
        unitSquare: true,
        interpolate: 'step-after',
        reference: [
          [0, rate],
          [1, rate],
        ],
      },
    ),
  );
  const files = plot === null ? [] : [plot];
  if (plot !== null) io.log(`\nwrote ${relative(process.cwd(), plot)}`);
  io.log(`done in ${seconds(t0)}`);
  return { results, files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
