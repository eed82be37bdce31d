/**
 * The main example: a 2-layer MLP (57 → hidden → 1, ReLU) trained on the Spambase data set, end to end with
 * gradkit tensors.
 *
 * 1. Data: `data/spambase.csv` (UCI, CC BY 4.0; see data/PROVENANCE.md), 4601 e-mails × 57 features, label
 *    1 = spam. Seeded shuffle into 80 % train / 20 % test, log1p (the features are heavy-tailed), then z-scores
 *    with the train set's mean and standard deviation.
 * 2. Model: `linear → relu → linear`, its parameters plain leaf tensors with `requiresGrad`.
 * 3. Training: mini-batch Adam; the update of each parameter is ONE fused loop (`fuseMany`) run under `noGrad`.
 *    Loss: BCE with logits, or YOLOv5's focal loss (gamma 1.5, alpha 0.25) with `--loss focal`.
 * 4. After every epoch: mean train loss, test accuracy (threshold 0.5) and test ROC AUC.
 *
 * Run with `pnpm train` from the repository root; flags: --loss bce|focal, --epochs, --lr, --seed, --hidden.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ArgumentError,
  FormatError,
  fromArray,
  fuseMany,
  Generator,
  grad,
  linear,
  noGrad,
  randn,
  scalarTensor,
  type Tensor,
  zeros,
  zerosLike,
} from '@gradkit/autograd';
import { bceWithLogits, focal } from '@gradkit/losses';

// ---- 1. Data ------------------------------------------------------------------------------------------

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses the data sets' CSV format (shared/data/DATASETS.md): a header row, then rows of decimal numbers
 * separated by commas, no quoting. Anything else (a wrong field count, an empty or non-numeric field) throws,
 * naming the line and column.
 */
export function parseNumericCsv(text: string): { header: string[]; rows: number[][] } {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const header = (lines[0] ?? '').split(',');
  if (header.some((h) => h === '')) throw new FormatError('parseNumericCsv', 'missing or empty header');
  const rows = lines.slice(1).map((line, i) => {
    const fields = line.split(',');
    if (fields.length !== header.length) {
      throw new FormatError(
        'parseNumericCsv',
        `line ${i + 2} has ${fields.length} fields, the header has ${header.length}`,
      );
    }
    return fields.map((f, j) => {
      if (!NUMBER.test(f)) {
        throw new FormatError(
          'parseNumericCsv',
          `line ${i + 2}, column ${header[j]}: ${JSON.stringify(f)} is not a number`,
        );
      }
      return Number(f);
    });
  });
  return { header, rows };
}

/** A random permutation of 0…n−1 (Fisher–Yates) drawn from `gen`. */
export function permutation(n: number, gen: Generator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = gen.integer(0, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Features [N, D] (float32, standardized with train statistics) and 0/1 labels [N, 1], split in two. */
export interface Dataset {
  trainX: Tensor;
  trainY: Tensor;
  testX: Tensor;
  testY: Tensor;
}

/** Loads data/spambase.csv: seeded 80/20 split, log1p, z-scores from the train rows. */
export function loadSpambase(seed: number): Dataset {
  const { header, rows } = parseNumericCsv(
    readFileSync(new URL('./data/spambase.csv', import.meta.url), 'utf8'),
  );
  const d = header.length - 1;
  const order = permutation(rows.length, new Generator(seed));
  const nTest = Math.round(rows.length * 0.2);
  const take = (idx: number[]) => ({
    x: fromArray(
      idx.flatMap((i) => rows[i]!.slice(0, d)),
      [idx.length, d],
    ).log1p(),
    y: fromArray(
      idx.map((i) => rows[i]![d]!),
      [idx.length, 1],
    ),
  });
  const test = take(order.slice(0, nTest));
  const train = take(order.slice(nTest));
  const mean = train.x.mean(0);
  const std = train.x.sub(mean).square().mean(0).sqrt();
  const scale = std.where(std.gt(0), 1); // a constant column stays 0 instead of becoming NaN
  const standardize = (x: Tensor) => x.sub(mean).div(scale);
  return { trainX: standardize(train.x), trainY: train.y, testX: standardize(test.x), testY: test.y };
}

// ---- 2. Model -----------------------------------------------------------------------------------------

/** The MLP's parameters: [w1 [hidden, D], b1 [hidden], w2 [1, hidden], b2 [1]], all requiring grad. */
export type Params = [Tensor, Tensor, Tensor, Tensor];

function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

/** He-normal weights for the ReLU layer, LeCun-normal for the output layer, zero biases. */
export function initMlp(inputs: number, hidden: number, gen: Generator): Params {
  return [
    parameter(randn([hidden, inputs], { generator: gen }).mul(Math.sqrt(2 / inputs))),
    parameter(zeros([hidden])),
    parameter(randn([1, hidden], { generator: gen }).mul(Math.sqrt(1 / hidden))),
    parameter(zeros([1])),
  ];
}

/** The logits [N, 1] of inputs [N, D]. */
export function forward([w1, b1, w2, b2]: Params, x: Tensor): Tensor {
  return linear(linear(x, w1, b1).relu(), w2, b2);
}

// ---- 3. Training --------------------------------------------------------------------------------------

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/**
 * One Adam step for one parameter as ONE fused loop: (p, g, m, v, lr/(1 − β1ᵗ), 1/√(1 − β2ᵗ)) → (p', m', v'),
 * with PyTorch's formula p' = p − lr/(1 − β1ᵗ) · m' / (√v' / √(1 − β2ᵗ) + eps).
 */
const adamStep = fuseMany((p, g, m, v, stepSize, invRootBc2) => {
  const m1 = m.mul(BETA1).add(g.mul(1 - BETA1));
  const v1 = v.mul(BETA2).add(g.mul(g).mul(1 - BETA2));
  return [p.sub(stepSize.mul(m1).div(v1.sqrt().mul(invRootBc2).add(EPS))), m1, v1];
}, 'adam');

/** The losses `--loss` can choose. */
export const LOSSES = {
  bce: (logits: Tensor, labels: Tensor) => bceWithLogits(logits, labels),
  focal: (logits: Tensor, labels: Tensor) => focal(logits, labels), // YOLOv5: gamma 1.5, alpha 0.25, mean
};

/** Training settings (the command-line flags, plus the batch size). */
export interface TrainOptions {
  loss: keyof typeof LOSSES;
  epochs: number;
  lr: number;
  seed: number;
  hidden: number;
  batchSize: number;
}

/** The defaults of `pnpm train`. */
export const DEFAULTS: TrainOptions = {
  loss: 'bce',
  epochs: 15,
  lr: 0.003,
  seed: 0,
  hidden: 32,
  batchSize: 64,
};

/** What one epoch did. */
export interface EpochStats {
  epoch: number;
  trainLoss: number;
  testAccuracy: number;
  testAuc: number;
  ms: number;
}

/** Trains the MLP on `data`, calling `onEpoch` after every epoch; returns the final parameters and history. */
export function train(
  data: Dataset,
  opts: TrainOptions,
  onEpoch: (s: EpochStats) => void = () => {},
): { params: Params; history: EpochStats[] } {
  const gen = new Generator(opts.seed);
  const objective = LOSSES[opts.loss];
  let params = initMlp(data.trainX.shape[1]!, opts.hidden, gen);
  let m = params.map((p) => zerosLike(p));
  let v = params.map((p) => zerosLike(p));
  const n = data.trainX.shape[0]!;
  const history: EpochStats[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = permutation(n, gen);
    let lossSum = 0;
    for (let start = 0; start < n; start += opts.batchSize) {
      const batch = order.slice(start, start + opts.batchSize);
      const x = data.trainX.indexSelect(0, batch);
      const y = data.trainY.indexSelect(0, batch);
      const loss = objective(forward(params, x), y);
      const grads = grad(loss, params);
      lossSum += loss.item() * batch.length;

      step++;
      const stepSize = scalarTensor(opts.lr / (1 - BETA1 ** step));
      const invRootBc2 = scalarTensor(1 / Math.sqrt(1 - BETA2 ** step));
      const updated = noGrad(() =>
        params.map((p, i) => adamStep(p, grads[i]!, m[i]!, v[i]!, stepSize, invRootBc2)),
      );
      params = updated.map(([p]) => parameter(p!)) as Params;
      m = updated.map(([, m1]) => m1!);
      v = updated.map(([, , v1]) => v1!);
    }
    const { accuracy, auc } = evaluate(params, data.testX, data.testY);
    const stats = {
      epoch,
      trainLoss: lossSum / n,
      testAccuracy: accuracy,
      testAuc: auc,
      ms: performance.now() - t0,
    };
    history.push(stats);
    onEpoch(stats);
  }
  return { params, history };
}

// ---- 4. Metrics ---------------------------------------------------------------------------------------

/** ROC AUC: the probability that a random positive scores above a random negative (ties count half). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) j++;
    const rank = (i + 1 + j) / 2; // the mean of ranks i+1 … j, shared by tied scores
    for (let k = i; k < j; k++) {
      if (labels[idx[k]!] === 1) {
        positives++;
        positiveRankSum += rank;
      }
    }
    i = j;
  }
  const negatives = idx.length - positives;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Accuracy at probability 0.5 (logit 0) and ROC AUC of the model on (x, y). */
export function evaluate(params: Params, x: Tensor, y: Tensor): { accuracy: number; auc: number } {
  return noGrad(() => {
    const logits = forward(params, x);
    return { accuracy: logits.gt(0).eq(y).mean().item(), auc: rocAuc(logits.data, y.data) };
  });
}

// ---- Command line -------------------------------------------------------------------------------------

const USAGE = 'usage: pnpm train [--loss bce|focal] [--epochs N] [--lr X] [--seed N] [--hidden N]';

/** Reads the flags (node:util parseArgs; a leading `--` is skipped); throws on an unknown flag or bad value. */
export function parseOptions(args: string[]): TrainOptions {
  const { values } = parseArgs({
    args: args[0] === '--' ? args.slice(1) : args,
    options: {
      loss: { type: 'string', default: DEFAULTS.loss },
      epochs: { type: 'string', default: String(DEFAULTS.epochs) },
      lr: { type: 'string', default: String(DEFAULTS.lr) },
      seed: { type: 'string', default: String(DEFAULTS.seed) },
      hidden: { type: 'string', default: String(DEFAULTS.hidden) },
    },
  });
  const loss = values.loss;
  if (loss !== 'bce' && loss !== 'focal') {
    throw new ArgumentError('train', `--loss must be 'bce' or 'focal', got ${JSON.stringify(loss)}`);
  }
  const number = (name: 'epochs' | 'lr' | 'seed' | 'hidden', integer: boolean, min: number) => {
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
    loss,
    epochs: number('epochs', true, 1),
    lr: number('lr', false, Number.MIN_VALUE),
    seed: number('seed', true, 0),
    hidden: number('hidden', true, 1),
    batchSize: DEFAULTS.batchSize,
  };
}

function main(): void {
  let opts: TrainOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  const data = loadSpambase(opts.seed);
  const [nTrain, d] = data.trainX.shape as [number, number];
  console.log(
    `spambase: ${nTrain} train / ${data.testX.shape[0]} test rows, ${d} features | MLP ${d}-${opts.hidden}-1, ` +
      `loss ${opts.loss}, Adam lr ${opts.lr}, batch ${opts.batchSize}, seed ${opts.seed}\n`,
  );
  console.log('epoch  train loss  test acc  test AUC    time');
  const { history } = train(data, opts, (s) =>
    console.log(
      `${String(s.epoch).padStart(5)}  ${s.trainLoss.toFixed(4).padStart(10)}  ${(100 * s.testAccuracy).toFixed(1).padStart(7)}%` +
        `  ${s.testAuc.toFixed(4).padStart(8)}  ${s.ms.toFixed(0).padStart(4)} ms`,
    ),
  );
  const last = history.at(-1)!;
  console.log(
    `\nafter ${last.epoch} epochs: train loss ${last.trainLoss.toFixed(4)}, test accuracy ` +
      `${(100 * last.testAccuracy).toFixed(1)}%, test ROC AUC ${last.testAuc.toFixed(4)}; ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s in all`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
