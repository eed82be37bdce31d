import { checkTensor, formatShape, type Generator, indexSelect, Tensor } from '@gradkit/autograd';
import {
  ArgumentError,
  checkOptionKeys,
  DomainError,
  describeValue,
  ownValue,
  ShapeError,
} from '@gradkit/kernels';
import { generatorOption, randperm } from './loader.js';

/** Row indices of a train/test split. */
export interface SplitIndices {
  /** The rows of the training set. */
  readonly train: Int32Array;
  /** The rows of the test set. */
  readonly test: Int32Array;
}

/** A split of several tensors by rows: `train[k]` and `test[k]` are rows of the k-th tensor. */
export interface TensorSplit<T extends Tensor[]> {
  /** The training rows of each tensor. */
  readonly train: T;
  /** The test rows of each tensor. */
  readonly test: T;
}

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions {
  /**
   * `'random'` (default): a seeded random split of `testFraction` / `testSize` rows, like scikit-learn's
   * `train_test_split`. `'modulo'`: the RNG-free split of {@link moduloSplit} (only `every` applies).
   */
  method?: 'random' | 'modulo';
  /** The share of rows in the test set, in (0, 1) (default 0.25, as in scikit-learn); the count is rounded up. */
  testFraction?: number;
  /** The number of test rows (instead of `testFraction`). */
  testSize?: number;
  /** Shuffle before splitting (default true); without it the last rows are the test set. */
  shuffle?: boolean;
  /** Seed of a generator of the split's own. */
  seed?: number;
  /** The generator to draw from (instead of `seed`; default: the one seeded by `manualSeed`). */
  generator?: Generator;
  /** Class labels, one per row: each class is split in the same proportion (needs `shuffle`). */
  stratify?: Tensor | ArrayLike<number>;
  /** With `method: 'modulo'`: row `i` is a test row iff `i % every == 0` (default 5). */
  every?: number;
}

const RANDOM_KEYS = [
  'method',
  'testFraction',
  'testSize',
  'shuffle',
  'seed',
  'generator',
  'stratify',
] as const;
const MODULO_KEYS = ['method', 'every'] as const;
const MAX_ROWS = 2 ** 31 - 1;

function checkCount(op: string, arg: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_ROWS) {
    throw new DomainError(
      op,
      `argument '${arg}' must be a non-negative integer below 2^31, got ${describeValue(n)}`,
    );
  }
  return n;
}

/**
 * The deterministic split of the example datasets (examples/data/DATASETS.md): row `i` (0-based) is a test
 * row iff `i % every == 0`; every other row is a training row. Both index lists are ascending. On a file
 * sorted by class, the interleaving keeps the class proportions (a stratified split in effect).
 *
 * @param n - the number of rows
 * @param every - the period, a positive integer (default 5: a 20 % test set)
 * @throws DomainError when `n` is not a non-negative integer or `every` not a positive integer
 */
export function moduloSplit(n: number, every = 5): SplitIndices {
  return modulo('moduloSplit', n, every);
}

function modulo(op: string, n: number, every: unknown): SplitIndices {
  checkCount(op, 'n', n);
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) {
    throw new DomainError(op, `argument 'every' must be a positive integer, got ${describeValue(every)}`);
  }
  const nTest = Math.ceil(n / every);
  const test = new Int32Array(nTest);
  const train = new Int32Array(n - nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (i % every === 0) test[a++] = i;
    else train[b++] = i;
  }
  return { train, test };
}

/**
 * Splits rows into a training and a test set, like scikit-learn's `train_test_split`. Given a row count,
 * returns row indices; given tensors (same first dimension), returns their rows (via `indexSelect`).
 *
 * With `shuffle` (default), the rows are permuted with the seeded generator and the first
 * `ceil(testFraction · n)` of the permutation are the test set; the same seed gives the same split. With
 * `stratify`, each class contributes its share of test rows (largest remainders, so the total is exact) and
 * both sets are then shuffled. With `shuffle: false`, the last rows are the test set. `method: 'modulo'`
 * gives {@link moduloSplit}.
 *
 * @example
 * ```ts
 * const { train, test } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
 * const [xTrain, yTrain] = train;
 * ```
 *
 * @throws DomainError when a count or fraction is out of range, or either set would be empty
 * @throws ArgumentError when an option is unknown, of the wrong type, or does not apply to the method;
 *   both `testFraction` and `testSize` are given; or `stratify` is given without `shuffle`
 * @throws ShapeError when tensors (or `stratify`) disagree on the number of rows
 */
export function trainTestSplit(n: number, options?: TrainTestSplitOptions): SplitIndices;
export function trainTestSplit<T extends Tensor[]>(
  tensors: readonly [...T],
  options?: TrainTestSplitOptions,
): TensorSplit<T>;
export function trainTestSplit<T extends Tensor[]>(
  data: number | readonly [...T],
  options: TrainTestSplitOptions = {},
): SplitIndices | TensorSplit<T> {
  const op = 'trainTestSplit';
  let n: number;
  let tensors: readonly Tensor[] | undefined;
  if (typeof data === 'number') n = checkCount(op, 'n', data);
  else if (Array.isArray(data)) {
    tensors = data;
    n = rowsOf(op, tensors);
  } else {
    throw new ArgumentError(
      op,
      `argument 'data' must be a row count or an array of tensors, got ${describeValue(data)}`,
    );
  }
  const split = splitIndices(op, n, options);
  if (tensors === undefined) return split;
  return {
    train: selectRows(tensors, split.train) as T,
    test: selectRows(tensors, split.test) as T,
  };
}

function rowsOf(op: string, tensors: readonly unknown[]): number {
  if (tensors.length === 0) throw new ArgumentError(op, 'needs at least one tensor');
  const ts = tensors.map((t, k) => checkTensor(op, `tensors[${k}]`, t));
  for (const [k, t] of ts.entries()) {
    if (t.ndim === 0) throw new ShapeError(op, `tensors[${k}] is 0-D (shape []): rows need a first axis`);
    if (t.shape[0] !== ts[0]!.shape[0]) {
      throw new ShapeError(
        op,
        `all tensors need the same first dimension: tensors[0] has shape ${formatShape(ts[0]!.shape)} ` +
          `but tensors[${k}] has shape ${formatShape(t.shape)}`,
      );
    }
  }
  return ts[0]!.shape[0]!;
}

function splitIndices(op: string, n: number, options: unknown): SplitIndices {
  const method = options !== null && typeof options === 'object' ? ownValue(options, 'method') : undefined;
  if (method !== undefined && method !== 'random' && method !== 'modulo') {
    throw new ArgumentError(op, `option 'method' must be 'random' or 'modulo', got ${describeValue(method)}`);
  }
  if (method === 'modulo') {
    checkOptionKeys(op, 'options', options, MODULO_KEYS);
    return modulo(op, n, ownValue(options as object, 'every') ?? 5);
  }
  checkOptionKeys(op, 'options', options, RANDOM_KEYS);
  const o = (options ?? {}) as object;
  const nTest = testCount(op, n, ownValue(o, 'testFraction'), ownValue(o, 'testSize'));
  const shuffle = ownValue(o, 'shuffle') ?? true;
  if (typeof shuffle !== 'boolean')
    throw new ArgumentError(op, `option 'shuffle' must be a boolean, got ${describeValue(shuffle)}`);
  const stratify = ownValue(o, 'stratify');
  if (!shuffle) {
    if (stratify !== undefined)
      throw new ArgumentError(op, `option 'stratify' needs shuffle: true (a stratified split is random)`);
    if (ownValue(o, 'seed') !== undefined || ownValue(o, 'generator') !== undefined)
      throw new ArgumentError(op, `options 'seed' and 'generator' have no effect with shuffle: false`);
    return { train: range(0, n - nTest), test: range(n - nTest, n) };
  }
  const g = generatorOption(op, o);
  if (stratify === undefined) {
    const p = randperm(n, g);
    return { train: p.slice(nTest), test: p.slice(0, nTest) };
  }
  return stratified(op, n, nTest, classesOf(op, stratify, n), g);
}

function testCount(op: string, n: number, fraction: unknown, size: unknown): number {
  if (fraction !== undefined && size !== undefined)
    throw new ArgumentError(op, `give either option 'testFraction' or option 'testSize', not both`);
  let nTest: number;
  if (size !== undefined) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new DomainError(
        op,
        `option 'testSize' must be a non-negative integer, got ${describeValue(size)}`,
      );
    nTest = size;
  } else {
    const f = fraction ?? 0.25;
    if (typeof f !== 'number' || !(f > 0 && f < 1))
      throw new DomainError(op, `option 'testFraction' must be a number in (0, 1), got ${describeValue(f)}`);
    // Round up, as scikit-learn does, but not past a product that is an integer up to rounding (0.7 · 10).
    const x = f * n;
    const r = Math.round(x);
    nTest = Math.abs(x - r) <= 1e-9 * Math.max(1, x) ? r : Math.ceil(x);
  }
  if (nTest < 1 || nTest > n - 1) {
    throw new DomainError(
      op,
      `with ${n} rows, a test set of ${nTest} rows leaves ${nTest < 1 ? 'the test set' : 'the training set'} empty`,
    );
  }
  return nTest;
}

function range(a: number, b: number): Int32Array {
  const out = new Int32Array(b - a);
  for (let i = a; i < b; i++) out[i - a] = i;
  return out;
}

/** The rows of each class, classes in ascending order of their label. */
function classesOf(op: string, stratify: unknown, n: number): Int32Array[] {
  let values: ArrayLike<number>;
  if (stratify instanceof Tensor) {
    if (stratify.ndim !== 1 || stratify.shape[0] !== n) {
      throw new ShapeError(
        op,
        `option 'stratify' must have shape [${n}] (one label per row), got ${formatShape(stratify.shape)}`,
      );
    }
    values = stratify.data;
  } else if (Array.isArray(stratify) || ArrayBuffer.isView(stratify)) {
    values = stratify as ArrayLike<number>;
    if (values.length !== n)
      throw new ShapeError(op, `option 'stratify' has ${values.length} labels but there are ${n} rows`);
  } else {
    throw new ArgumentError(
      op,
      `option 'stratify' must be a Tensor or an array of labels, got ${describeValue(stratify)}`,
    );
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new DomainError(
        op,
        `option 'stratify': label ${describeValue(v)} at row ${i} is not a finite number`,
      );
    const rows = byClass.get(v);
    if (rows) rows.push(i);
    else byClass.set(v, [i]);
  }
  return [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, rows]) => Int32Array.from(rows));
}

/**
 * Test rows per class in proportion to the class sizes: floors first, then one more for the classes with
 * the largest remainders (ties: larger class first, then lower label) until the total is `nTest`.
 */
function stratified(op: string, n: number, nTest: number, classes: Int32Array[], g: Generator): SplitIndices {
  const want = classes.map((c) => (c.length * nTest) / n);
  const take = want.map(Math.floor);
  let left = nTest - take.reduce((a, b) => a + b, 0);
  const order = classes
    .map((_c, k) => k)
    .sort(
      (a, b) =>
        want[b]! - take[b]! - (want[a]! - take[a]!) || classes[b]!.length - classes[a]!.length || a - b,
    );
  for (const k of order) {
    if (left === 0) break;
    if (take[k]! < classes[k]!.length) {
      take[k] += 1;
      left--;
    }
  }
  const train: number[] = [];
  const test: number[] = [];
  classes.forEach((rows, k) => {
    const p = randperm(rows.length, g);
    for (let i = 0; i < rows.length; i++) (i < take[k]! ? test : train).push(rows[p[i]!]!);
  });
  if (train.length === 0 || test.length === 0) {
    throw new DomainError(op, `the stratified split of ${n} rows left one set empty`);
  }
  const shuffled = (rows: number[]) => {
    const p = randperm(rows.length, g);
    return Int32Array.from(p, (i) => rows[i]!);
  };
  return { train: shuffled(train), test: shuffled(test) };
}

/**
 * The rows `indices` of every tensor (one `indexSelect` along axis 0 each), for applying a split or a
 * subsample such as {@link keepEveryMthPositive} to features and labels together.
 *
 * @throws ArgumentError when an argument is not a Tensor; DomainError when an index is out of range
 */
export function selectRows<T extends Tensor[]>(
  tensors: readonly [...T],
  indices: Int32Array | readonly number[],
): T {
  if (!Array.isArray(tensors))
    throw new ArgumentError(
      'selectRows',
      `argument 'tensors' must be an array of tensors, got ${describeValue(tensors)}`,
    );
  const idx = indices instanceof Int32Array ? indices : Int32Array.from(checkIndexArray(indices));
  return tensors.map((t, k) => {
    checkTensor('selectRows', `tensors[${k}]`, t);
    return indexSelect(t, 0, idx);
  }) as T;
}

function checkIndexArray(indices: unknown): readonly number[] {
  if (!Array.isArray(indices))
    throw new ArgumentError(
      'selectRows',
      `argument 'indices' must be an Int32Array or an array of integers, got ${describeValue(indices)}`,
    );
  for (const i of indices) {
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0 || i > MAX_ROWS)
      throw new DomainError('selectRows', `argument 'indices' holds ${describeValue(i)}, not a row index`);
  }
  return indices;
}

/** Options of {@link keepEveryMthPositive}. */
export interface KeepEveryMthPositiveOptions {
  /**
   * The label value of the positive class. When omitted, labels must be 0 or 1 and 1 is positive; when
   * given (e.g. `positive: 0` for "digit 0 vs rest"), every other value is negative.
   */
  positive?: number;
}

/**
 * The "keep every M-th positive" subsampling of examples/data/DATASETS.md, which makes a binary task more
 * imbalanced without a random generator: number the positive rows `k = 0, 1, 2, …` in row order, keep a
 * positive row iff `k % m == 0`, keep every negative row. Returns the kept row indices in ascending order
 * (apply them with {@link selectRows}, then split with {@link moduloSplit}).
 *
 * @param labels - one label per row (1-D tensor or array)
 * @param m - keep one positive in `m`, a positive integer
 * @throws DomainError when `m` is not a positive integer, a label is not finite, or (without `positive`) a
 *   label is not 0 or 1
 * @throws ShapeError when `labels` is a tensor that is not 1-D
 */
export function keepEveryMthPositive(
  labels: Tensor | ArrayLike<number>,
  m: number,
  options: KeepEveryMthPositiveOptions = {},
): Int32Array {
  const op = 'keepEveryMthPositive';
  checkOptionKeys(op, 'options', options, ['positive']);
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1)
    throw new DomainError(op, `argument 'm' must be a positive integer, got ${describeValue(m)}`);
  const positive = ownValue(options, 'positive');
  if (positive !== undefined && (typeof positive !== 'number' || !Number.isFinite(positive)))
    throw new ArgumentError(op, `option 'positive' must be a finite number, got ${describeValue(positive)}`);
  let values: ArrayLike<number>;
  if (labels instanceof Tensor) {
    if (labels.ndim !== 1)
      throw new ShapeError(op, `argument 'labels' must be 1-D, got shape ${formatShape(labels.shape)}`);
    values = labels.data;
  } else if (Array.isArray(labels) || ArrayBuffer.isView(labels)) values = labels as ArrayLike<number>;
  else
    throw new ArgumentError(
      op,
      `argument 'labels' must be a Tensor or an array, got ${describeValue(labels)}`,
    );
  const kept: number[] = [];
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new DomainError(op, `label ${describeValue(v)} at row ${i} is not a finite number`);
    if (positive === undefined && v !== 0 && v !== 1) {
      throw new DomainError(
        op,
        `label ${v} at row ${i} is not 0 or 1; pass options.positive to name the positive class of a multi-class label`,
      );
    }
    if (v === (positive ?? 1)) {
      if (k % m === 0) kept.push(i);
      k++;
    } else kept.push(i);
  }
  return Int32Array.from(kept);
}
