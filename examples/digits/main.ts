/**
 * Ten digits with ten binary classifiers (`pnpm example:digits`): a 64 → 64 → 10 MLP whose outputs are
 * one-vs-rest logits, trained with `BCEWithLogitsLoss` on one-hot targets; the predicted digit is the output
 * with the largest logit.
 *
 * 1. Data: examples/data/digits.csv (UCI optdigits test set, CC BY 4.0; see examples/data/DATASETS.md), 1797
 *    8×8 images with pixel counts 0…16. ÷16, row i is a test row iff i % 5 == 0 (1437 train / 360 test),
 *    z-scores with the train rows' statistics.
 * 2. Training: mini-batches from a seeded `DataLoader`, Adam + cosine annealing; each epoch reports the train
 *    loss and the test accuracy.
 * 3. Results: the test accuracy, the "8 vs rest" output as a binary classifier next to scikit-learn's logistic
 *    regression on that task (DATASETS.md), the confusion matrix as text and as an SVG heat map.
 */
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { argmax, fromArray, Generator, type Tensor } from '@gradkit/autograd';
import {
  bestF1,
  confusionChart,
  defaultIO,
  EpochProgress,
  type EpochRecord,
  type ExampleIO,
  fit,
  formatTable,
  loadSplit,
  mlp,
  predict,
  seconds,
  writePlot,
} from '@gradkit/examples-shared';
import { BCEWithLogitsLoss } from '@gradkit/losses';
import { Adam, CosineAnnealingLR, DataLoader, metrics, TensorDataset } from '@gradkit/nn';

/** Settings of the run. */
export interface DigitsOptions {
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
}

/** The defaults of `pnpm example:digits`. */
export const DEFAULTS: DigitsOptions = { epochs: 20, lr: 0.003, batchSize: 32, seed: 0 };

/** scikit-learn 1.2.1 LogisticRegression on "digit 8 vs rest" (÷16), same split (DATASETS.md). */
export const SKLEARN_EIGHT_VS_REST = { f1: 0.833, rocAuc: 0.986, ap: 0.914 };

const CLASSES = 10;

/** One-hot rows [n, 10] of digit labels [n]. */
export function oneHot(labels: Tensor): Tensor {
  const n = labels.shape[0]!;
  const out = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) out[i * CLASSES + labels.data[i]!] = 1;
  return fromArray(out, [n, CLASSES]);
}

/** The fraction of rows whose largest logit is at the true digit's index. */
export function accuracyOf(logits: Tensor, labels: Tensor): number {
  const predicted = argmax(logits, 1).data;
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels.data[i]) right++;
  return right / predicted.length;
}

/** Column `j` of [n, 10] as a vector. */
function column(x: Tensor, j: number): Float64Array {
  const n = x.shape[0]!;
  return Float64Array.from({ length: n }, (_, i) => x.data[i * CLASSES + j]!);
}

/** What {@link run} returns. */
export interface DigitsResult {
  history: EpochRecord[];
  accuracy: number;
  confusion: number[][];
  eightVsRest: { f1: number; rocAuc: number; ap: number };
  files: string[];
}

/** Trains the MLP, prints the epochs and the results, writes the confusion-matrix plot. */
export async function run(
  opts: DigitsOptions = DEFAULTS,
  io: ExampleIO = defaultIO(),
): Promise<DigitsResult> {
  const t0 = performance.now();
  const data = await loadSplit('digits', { preprocess: (x) => x.div(16) });
  const [nTrain, d] = data.trainX.shape as [number, number];
  const nTest = data.testX.shape[0]!;
  io.log(
    `digits: ${nTrain} train / ${nTest} test images, ${d} pixels (÷16, z-scored on train) | MLP ${d}-64-10, ` +
      `one-vs-rest BCEWithLogitsLoss, Adam lr ${opts.lr} + cosine, batch ${opts.batchSize}, ${opts.epochs} epochs, ` +
      `seed ${opts.seed}`,
  );
  const model = mlp([d, 64, CLASSES], new Generator(opts.seed));
  const criterion = new BCEWithLogitsLoss();
  const optimizer = new Adam(model.parameters(), { lr: opts.lr });
  const history = fit({
    model,
    loss: (out, y) => criterion.forward(out, y),
    optimizer,
    scheduler: new CosineAnnealingLR(optimizer, { tMax: opts.epochs }),
    loader: new DataLoader(new TensorDataset(data.trainX, oneHot(data.trainY)), {
      batchSize: opts.batchSize,
      shuffle: true,
      seed: opts.seed,
    }),
    epochs: opts.epochs,
    evaluate: () => ({ 'test acc': accuracyOf(predict(model, data.testX), data.testY) }),
    progress: new EpochProgress(io, 'MLP 64-64-10', opts.epochs),
  });

  const logits = predict(model, data.testX);
  const accuracy = accuracyOf(logits, data.testY);
  const digits = Array.from({ length: CLASSES }, (_, j) => j);
  const confusion = metrics.confusionMatrix(data.testY, argmax(logits, 1), { labels: digits });
  const isEight = Float64Array.from(data.testY.data, (v) => (v === 8 ? 1 : 0));
  const eightScores = column(logits, 8);
  const eightVsRest = {
    f1: metrics.f1Score(isEight, eightScores, { threshold: 0 }),
    rocAuc: metrics.rocAucScore(isEight, eightScores),
    ap: metrics.averagePrecisionScore(isEight, eightScores),
  };

  io.log('');
  io.log(`test accuracy ${accuracy.toFixed(3)} (${Math.round(accuracy * nTest)}/${nTest})`);
  io.log('');
  io.log(
    formatTable(
      ['digit 8 vs rest (test)', 'F1 @ 0.5', 'ROC AUC', 'AP'],
      [
        ['MLP output 8', eightVsRest.f1, eightVsRest.rocAuc, eightVsRest.ap],
        ['scikit-learn LR (reference)', ...Object.values(SKLEARN_EIGHT_VS_REST)],
        [
          '(best F1 of output 8)',
          bestF1(fromArray(isEight, [nTest]), fromArray(eightScores, [nTest])).f1,
          '',
          '',
        ],
      ],
    ),
  );
  io.log('');
  io.log('confusion matrix (rows: true digit, columns: predicted)');
  io.log(
    formatTable(
      ['', ...digits.map(String)],
      confusion.map((row, i) => [String(i), ...row.map(String)]),
    ),
  );
  const plot = await writePlot(
    io,
    'digits-confusion.svg',
    confusionChart(
      confusion,
      digits.map(String),
      `digits: confusion matrix, test accuracy ${(100 * accuracy).toFixed(1)} %`,
    ),
  );
  const files = plot === null ? [] : [plot];
  if (plot !== null) io.log(`\nwrote ${relative(process.cwd(), plot)}`);
  io.log(`done in ${seconds(t0)}`);
  return { history, accuracy, confusion, eightVsRest, files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
