/**
 * The main example (`pnpm train`): logistic regression and a 30 → 16 → 1 MLP on the Wisconsin breast-cancer
 * data, trained with `BCEWithLogitsLoss`, Adam and a cosine learning-rate schedule, end to end with
 * @gradkit/nn.
 *
 * 1. Data: examples/data/breast_cancer.csv (UCI WDBC, CC BY 4.0; see examples/data/DATASETS.md), 569 rows ×
 *    30 features, label 1 = malignant. Row i is a test row iff i % 5 == 0 (455 train / 114 test); features
 *    are z-scored with the train rows' mean and standard deviation (`StandardScaler`).
 * 2. Models: `Linear(30, 1)` (logistic regression on logits) and `Linear(30, 16) → ReLU → Linear(16, 1)`.
 * 3. Training: mini-batches from a seeded `DataLoader`, `BCEWithLogitsLoss`, `Adam`, `CosineAnnealingLR`.
 *    Each epoch reports the train loss and the test accuracy and ROC AUC (a progress bar on a terminal).
 * 4. Results: a table of test accuracy, ROC AUC, average precision and F1 next to scikit-learn's logistic
 *    regression (DATASETS.md); loss, ROC and precision-recall plots as SVG; both models and the scaler saved
 *    to model.safetensors, reloaded into fresh objects, and their predictions checked to be identical.
 *
 * Run with `pnpm train` from the repository root (flags: --epochs, --lr, --seed, --batch-size,
 * --weight-decay); files go to
 * examples/out/.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ArgumentError, Generator, type Tensor } from '@gradkit/autograd';
import {
  type BinaryMetrics,
  binaryMetrics,
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
import { BCEWithLogitsLoss } from '@gradkit/losses';
import {
  Adam,
  CosineAnnealingLR,
  DataLoader,
  Linear,
  loadSafetensors,
  type Module,
  metrics,
  StandardScaler,
  type StateDict,
  saveSafetensors,
  TensorDataset,
} from '@gradkit/nn';

/** Training settings (the command-line flags). */
export interface TrainOptions {
  epochs: number;
  lr: number;
  seed: number;
  batchSize: number;
  /** Adam's L2 penalty (`weightDecay`), for both models. */
  weightDecay: number;
}

/** The defaults of `pnpm train`. */
export const DEFAULTS: TrainOptions = {
  epochs: 30,
  lr: 0.01,
  seed: 0,
  batchSize: 32,
  weightDecay: 0.01,
};

/** scikit-learn 1.2.1 LogisticRegression on the same split (examples/data/DATASETS.md). */
export const SKLEARN_REFERENCE: BinaryMetrics = { accuracy: 0.965, rocAuc: 0.996, ap: 0.994, f1: 0.947 };

/** The two models: a fresh copy of each, initialised from `seed`. */
export function makeModels(seed: number): Array<{ name: string; key: string; model: Module }> {
  const generator = new Generator(seed);
  return [
    { name: 'logistic regression', key: 'logreg', model: new Linear(30, 1, { generator }) },
    { name: 'MLP 30-16-1', key: 'mlp', model: mlp([30, 16, 1], generator) },
  ];
}

/** One trained model's results. */
export interface ModelResult {
  name: string;
  key: string;
  model: Module;
  history: EpochRecord[];
  /** Test logits, [nTest, 1]. */
  testLogits: Tensor;
  test: BinaryMetrics;
}

/** What {@link run} returns. */
export interface TrainResult {
  results: ModelResult[];
  /** Whether the reloaded checkpoint predicts exactly (bit for bit) what the trained models predict. */
  reloadIdentical: boolean;
  /** The files written. */
  files: string[];
}

/** Saves both models and the scaler as one safetensors file; returns its bytes. */
export function checkpoint(results: readonly ModelResult[], scaler: StandardScaler): Uint8Array {
  const tensors: StateDict = {};
  for (const r of results) {
    for (const [k, t] of Object.entries(r.model.stateDict())) tensors[`${r.key}.${k}`] = t;
  }
  const { mean, scale } = scaler.stateDict();
  tensors['scaler.mean'] = mean;
  tensors['scaler.scale'] = scale;
  return saveSafetensors(tensors, { metadata: { example: 'pnpm train', data: 'breast_cancer.csv' } });
}

/** Loads a checkpoint written by {@link checkpoint} into fresh models and a fresh scaler. */
export function restore(bytes: Uint8Array): { models: Map<string, Module>; scaler: StandardScaler } {
  const { tensors } = loadSafetensors(bytes);
  const models = new Map<string, Module>();
  for (const { key, model } of makeModels(12345)) {
    const own: StateDict = {};
    for (const [k, t] of Object.entries(tensors))
      if (k.startsWith(`${key}.`)) own[k.slice(key.length + 1)] = t;
    model.loadStateDict(own);
    models.set(key, model);
  }
  const scaler = new StandardScaler().loadStateDict({
    mean: tensors['scaler.mean']!,
    scale: tensors['scaler.scale']!,
  });
  return { models, scaler };
}

function sameBits(a: Tensor, b: Tensor): boolean {
  return a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));
}

/** Trains both models, prints the epochs and the final table, writes the plots and the checkpoint. */
export async function run(opts: TrainOptions = DEFAULTS, io: ExampleIO = defaultIO()): Promise<TrainResult> {
  const t0 = performance.now();
  const data = await loadSplit('breast_cancer');
  const nTrain = data.trainX.shape[0]!;
  const nTest = data.testX.shape[0]!;
  const trainY = data.trainY.reshape(nTrain, 1);
  const testY = data.testY.reshape(nTest, 1);
  io.log(
    `breast_cancer: ${nTrain} train / ${nTest} test rows, 30 features (z-scored on train) | BCEWithLogitsLoss, ` +
      `Adam lr ${opts.lr} (weight decay ${opts.weightDecay}) + cosine annealing, batch ${opts.batchSize}, ${opts.epochs} epochs, seed ${opts.seed}`,
  );
  const criterion = new BCEWithLogitsLoss();
  const results: ModelResult[] = [];
  for (const { name, key, model } of makeModels(opts.seed)) {
    const optimizer = new Adam(model.parameters(), { lr: opts.lr, weightDecay: opts.weightDecay });
    const history = fit({
      model,
      loss: (out, y) => criterion.forward(out, y),
      optimizer,
      scheduler: new CosineAnnealingLR(optimizer, { tMax: opts.epochs }),
      loader: new DataLoader(new TensorDataset(data.trainX, trainY), {
        batchSize: opts.batchSize,
        shuffle: true,
        seed: opts.seed,
      }),
      epochs: opts.epochs,
      evaluate: () => {
        const logits = predict(model, data.testX);
        return {
          'test loss': criterion.forward(logits, testY).item(),
          acc: metrics.accuracy(testY, logits, { threshold: 0 }),
          auc: metrics.rocAucScore(testY, logits),
        };
      },
      progress: new EpochProgress(io, name.padEnd(19), opts.epochs),
    });
    const testLogits = predict(model, data.testX);
    results.push({ name, key, model, history, testLogits, test: binaryMetrics(testY, testLogits) });
  }

  io.log('');
  io.log(
    formatTable(
      ['test set (114 rows)', 'accuracy', 'ROC AUC', 'AP', 'F1'],
      [
        ...results.map((r) => [r.name, r.test.accuracy, r.test.rocAuc, r.test.ap, r.test.f1]),
        ['scikit-learn LR (reference)', ...Object.values(SKLEARN_REFERENCE)],
      ],
    ),
  );

  // Checkpoint: save, reload into fresh objects, and compare predictions from the raw test features.
  const bytes = checkpoint(results, data.scaler);
  const restored = restore(bytes);
  const x = restored.scaler.transform(data.rawTestX);
  const reloadIdentical = results.every((r) =>
    sameBits(predict(restored.models.get(r.key)!, x), r.testLogits),
  );

  const files: string[] = [];
  if (io.outDir !== null) {
    await mkdir(io.outDir, { recursive: true });
    const path = join(io.outDir, 'model.safetensors');
    await writeFile(path, bytes);
    files.push(path);
  }
  io.log(
    `\ncheckpoint (${bytes.length} bytes, both models + scaler): reloaded predictions ` +
      `${reloadIdentical ? 'identical' : 'DIFFER'}`,
  );

  const plots = await Promise.all([
    writePlot(
      io,
      'loss.svg',
      lineChart(
        results.flatMap((r) => [
          {
            name: r.name,
            style: 'train',
            x: r.history.map((h) => h.epoch),
            y: r.history.map((h) => h.loss),
          },
          {
            name: r.name,
            style: 'test',
            x: r.history.map((h) => h.epoch),
            y: r.history.map((h) => h.metrics['test loss']!),
          },
        ]),
        { title: 'breast cancer: BCE with logits per epoch', xTitle: 'epoch', yTitle: 'loss', logY: true },
      ),
    ),
    writePlot(
      io,
      'roc.svg',
      lineChart(
        results.map((r) => {
          const { fpr, tpr } = metrics.rocCurve(testY, r.testLogits);
          return { name: `${r.name} (AUC ${r.test.rocAuc.toFixed(3)})`, x: fpr, y: tpr };
        }),
        {
          title: 'breast cancer: ROC curve (test set)',
          xTitle: 'false positive rate',
          yTitle: 'true positive rate',
          unitSquare: true,
          legend: 'bottom-right',
          reference: [
            [0, 0],
            [1, 1],
          ],
        },
      ),
    ),
    writePlot(
      io,
      'pr.svg',
      lineChart(
        results.map((r) => {
          const { precision, recall } = metrics.precisionRecallCurve(testY, r.testLogits);
          return { name: `${r.name} (AP ${r.test.ap.toFixed(3)})`, x: recall, y: precision };
        }),
        {
          title: 'breast cancer: precision-recall curve (test set)',
          xTitle: 'recall',
          yTitle: 'precision',
          unitSquare: true,
          legend: 'bottom-left',
          interpolate: 'step-after',
        },
      ),
    ),
  ]);
  for (const p of plots) if (p !== null) files.push(p);
  if (files.length > 0) io.log(`wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  io.log(`done in ${seconds(t0)}`);
  if (!reloadIdentical) throw new Error('the reloaded checkpoint predicts differently');
  return { results, reloadIdentical, files };
}

// ---- Command line -------------------------------------------------------------------------------------

const USAGE = 'usage: pnpm train [--epochs N] [--lr X] [--seed N] [--batch-size N] [--weight-decay X]';

/** Reads the flags (node:util parseArgs; a leading `--` is skipped); throws on an unknown flag or bad value. */
export function parseOptions(args: string[]): TrainOptions {
  const { values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      epochs: { type: 'string', default: String(DEFAULTS.epochs) },
      lr: { type: 'string', default: String(DEFAULTS.lr) },
      seed: { type: 'string', default: String(DEFAULTS.seed) },
      'batch-size': { type: 'string', default: String(DEFAULTS.batchSize) },
      'weight-decay': { type: 'string', default: String(DEFAULTS.weightDecay) },
    },
  });
  const number = (
    name: 'epochs' | 'lr' | 'seed' | 'batch-size' | 'weight-decay',
    integer: boolean,
    min: number,
  ) => {
    const x = Number(values[name]);
    if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) {
      const kind = integer ? 'an integer' : 'a number';
      throw new ArgumentError(
        'train',
        `--${name} must be ${kind} ≥ ${min}, got ${JSON.stringify(values[name])}`,
      );
    }
    return x;
  };
  return {
    epochs: number('epochs', true, 1),
    lr: number('lr', false, Number.MIN_VALUE),
    seed: number('seed', true, 0),
    batchSize: number('batch-size', true, 1),
    weightDecay: number('weight-decay', false, 0),
  };
}

async function main(): Promise<void> {
  let opts: TrainOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await run(opts);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
