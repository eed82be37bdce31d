import { Generator, noGrad, type Tensor } from '@gradkit/autograd';
import {
  Adam,
  keepEveryMthPositive,
  Linear,
  type Module,
  metrics,
  moduloSplit,
  parseCsv,
  ReLU,
  Sequential,
  StandardScaler,
  selectRows,
} from '@gradkit/nn';
import { compileFactor } from './factor.js';
import { comparedLosses } from './losses.js';

/** The training tasks (examples/data; DATASETS.md has the provenance and the recipes). */
export const DATASETS = {
  breast_cancer: {
    label: 'breast cancer (569 rows, 37 % malignant)',
    file: 'breast_cancer',
    keepEvery: null,
    log1p: false,
  },
  spambase_imbalanced: {
    label: 'spambase 1:31 (every 20th spam kept; log1p)',
    file: 'spambase',
    keepEvery: 20,
    log1p: true,
  },
} as const;

/** A key of {@link DATASETS}. */
export type DatasetName = keyof typeof DATASETS;

/** The models. */
export const MODELS = { logistic: 'logistic regression', mlp: 'MLP (d → 16 → 1, ReLU)' } as const;

/** A key of {@link MODELS}. */
export type ModelName = keyof typeof MODELS;

/** What a training run needs (sent to the worker). */
export interface TrainRequest {
  readonly factor: string;
  readonly params: Readonly<Record<string, number>>;
  readonly focalGamma: number;
  readonly dataset: DatasetName;
  readonly model: ModelName;
  readonly epochs: number;
  readonly lr: number;
  /** Report every this many epochs. */
  readonly every: number;
}

/** One loss's numbers after an epoch. */
export interface EpochPoint {
  readonly loss: string;
  readonly epoch: number;
  readonly trainLoss: number;
  readonly testAp: number;
}

/** The final test metrics of one loss. */
export interface FinalRow {
  readonly loss: string;
  readonly ap: number;
  readonly rocAuc: number;
  readonly f1: number;
}

/** A dataset split with the DATASETS.md recipe and z-scored with train statistics. */
export interface Task {
  readonly trainX: Tensor;
  readonly trainY: Tensor;
  readonly testX: Tensor;
  readonly testY: Tensor;
}

/** Builds the task from the CSV text: subsampling, row i is test iff i % 5 == 0, z-scoring by train rows. */
export function prepareTask(name: DatasetName, csv: string): Task {
  const spec = DATASETS[name];
  const table = parseCsv(csv);
  let features = spec.log1p ? table.features.log1p() : table.features;
  let labels = table.labels;
  if (spec.keepEvery !== null) {
    [features, labels] = selectRows([features, labels], keepEveryMthPositive(labels, spec.keepEvery));
  }
  const { train, test } = moduloSplit(labels.shape[0]!);
  const [rawTrainX, trainY] = selectRows([features, labels], train);
  const [rawTestX, testY] = selectRows([features, labels], test);
  const scaler = new StandardScaler();
  const column = (t: Tensor) => t.reshape([t.shape[0]!, 1]);
  return {
    trainX: scaler.fitTransform(rawTrainX),
    trainY: column(trainY),
    testX: scaler.transform(rawTestX),
    testY: column(testY),
  };
}

function makeModel(kind: ModelName, d: number, seed: number): Module {
  const generator = new Generator(seed);
  if (kind === 'logistic') return new Linear(d, 1, { generator });
  return new Sequential(new Linear(d, 16, { generator }), new ReLU(), new Linear(16, 1, { generator }));
}

function probabilities(model: Module, x: Tensor): Float64Array {
  return Float64Array.from(noGrad(() => model.forward(x).sigmoid()).data);
}

/**
 * Trains the same model (same initial weights) with BCE, focal(γ) and the new factor side by side, full-batch
 * Adam, interleaving the epochs; calls `progress` every `every` epochs with the train loss and test AP of each.
 *
 * @throws FactorSyntaxError when the factor does not parse
 */
export function trainAll(
  request: TrainRequest,
  task: Task,
  progress: (points: EpochPoint[]) => void,
): FinalRow[] {
  const compiled = compileFactor(request.factor);
  const losses = comparedLosses(compiled, request.params, request.focalGamma);
  // BCE first, then focal, then the new factor (the table's order).
  const order = [losses[1]!, losses[2]!, losses[0]!];
  const d = task.trainX.shape[1]!;
  const runs = order.map((l) => {
    const model = makeModel(request.model, d, 0);
    return { l, model, optimizer: new Adam(model.parameters(), { lr: request.lr }) };
  });
  const yTest = Float64Array.from(task.testY.data);
  for (let epoch = 1; epoch <= request.epochs; epoch++) {
    const points: EpochPoint[] = [];
    for (const r of runs) {
      r.optimizer.zeroGrad();
      const loss = r.l.loss(r.model.forward(task.trainX), task.trainY, 'mean');
      loss.backward();
      r.optimizer.step();
      if (epoch % request.every === 0 || epoch === request.epochs) {
        const ap = metrics.averagePrecisionScore(yTest, probabilities(r.model, task.testX));
        points.push({ loss: r.l.name, epoch, trainLoss: loss.item(), testAp: ap });
      }
    }
    if (points.length > 0) progress(points);
  }
  return runs.map((r) => {
    const p = probabilities(r.model, task.testX);
    return {
      loss: r.l.name,
      ap: metrics.averagePrecisionScore(yTest, p),
      rocAuc: metrics.rocAucScore(yTest, p),
      f1: metrics.f1Score(yTest, p),
    };
  });
}
