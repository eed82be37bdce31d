import { defaultGenerator, Generator } from '@gradkit/autograd';
import { ArgumentError, checkOptionKeys, DomainError, describeValue, ownValue } from '@gradkit/kernels';
import type { BatchDataset } from './dataset.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch, a positive integer (default 1, as in PyTorch). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch (default false: in order). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** The generator that draws the orders (default: the one seeded by `manualSeed`). */
  generator?: Generator;
  /** Shorthand for `generator: new Generator(seed)`: a loader of its own, reproducible stream of orders. */
  seed?: number;
}

const OPTION_KEYS = ['batchSize', 'shuffle', 'dropLast', 'generator', 'seed'] as const;

/**
 * A random permutation of `0…n-1` (Fisher–Yates, drawing from `generator`).
 *
 * @param n - a non-negative integer
 * @throws DomainError when `n` is not a non-negative safe integer
 */
export function randperm(n: number, generator: Generator = defaultGenerator): Int32Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1) {
    throw new DomainError('randperm', `n must be a non-negative integer below 2^31, got ${describeValue(n)}`);
  }
  if (!(generator instanceof Generator)) {
    throw new ArgumentError(
      'randperm',
      `argument 'generator' must be a Generator, got ${describeValue(generator)}`,
    );
  }
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = generator.integer(0, i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Iterates over a dataset in mini-batches, like PyTorch's `DataLoader`: each `for…of` pass is one epoch.
 * With `shuffle`, every pass draws a new order from the generator, so epochs differ from each other while a
 * given seed reproduces the whole sequence of epochs; without it, batches follow the dataset's order.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [xb, yb] of loader) { … }
 * }
 * ```
 */
export class DataLoader<Batch> implements Iterable<Batch> {
  /** The dataset batches are drawn from. */
  readonly dataset: BatchDataset<Batch>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a new random order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** The generator that draws the orders. */
  readonly generator: Generator;

  /**
   * @param dataset - a {@link BatchDataset}, such as a {@link TensorDataset}
   * @param options - see {@link DataLoaderOptions}
   * @throws ArgumentError when the dataset is not a BatchDataset, an option is unknown or of the wrong
   *   type, or both `generator` and `seed` are given
   * @throws DomainError when `batchSize` is not a positive integer or `seed` is not an integer
   */
  constructor(dataset: BatchDataset<Batch>, options: DataLoaderOptions = {}) {
    const op = 'DataLoader';
    if (
      dataset === null ||
      typeof dataset !== 'object' ||
      typeof dataset.getBatch !== 'function' ||
      !isLength(dataset.length)
    ) {
      throw new ArgumentError(
        op,
        `argument 'dataset' must have a non-negative integer 'length' and a 'getBatch' method (e.g. a TensorDataset), got ${describeValue(dataset)}`,
      );
    }
    checkOptionKeys(op, 'options', options, OPTION_KEYS);
    const batchSize = ownValue(options, 'batchSize') ?? 1;
    if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new DomainError(
        op,
        `option 'batchSize' must be a positive integer, got ${describeValue(batchSize)}`,
      );
    }
    const shuffle = ownValue(options, 'shuffle') ?? false;
    if (typeof shuffle !== 'boolean')
      throw new ArgumentError(op, `option 'shuffle' must be a boolean, got ${describeValue(shuffle)}`);
    const dropLast = ownValue(options, 'dropLast') ?? false;
    if (typeof dropLast !== 'boolean')
      throw new ArgumentError(op, `option 'dropLast' must be a boolean, got ${describeValue(dropLast)}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generatorOption(op, options);
  }

  /** The number of batches in one epoch: `ceil(length / batchSize)`, or `floor` with `dropLast`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * One epoch of batches. With `shuffle`, the order is drawn when the iteration starts, so every pass (and
   * every concurrent iterator) gets its own order.
   *
   * @throws ArgumentError when the dataset's length is no longer a non-negative integer
   */
  *[Symbol.iterator](): Iterator<Batch> {
    const n = this.dataset.length;
    if (!isLength(n)) {
      throw new ArgumentError(
        'DataLoader',
        `the dataset's length ${describeValue(n)} is not a non-negative integer`,
      );
    }
    let order: Int32Array;
    if (this.shuffle) order = randperm(n, this.generator);
    else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    const b = this.batchSize;
    const end = this.dropLast ? n - (n % b) : n;
    for (let start = 0; start < end; start += b) {
      yield this.dataset.getBatch(order.slice(start, Math.min(start + b, n)));
    }
  }
}

function isLength(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 2 ** 31 - 1;
}

/**
 * @internal Reads the `generator` / `seed` pair of an options object: at most one of them; the default
 * generator when neither is given.
 */
export function generatorOption(op: string, options: object): Generator {
  const generator = ownValue(options, 'generator');
  const seed = ownValue(options, 'seed');
  if (generator !== undefined && seed !== undefined)
    throw new ArgumentError(op, `give either option 'generator' or option 'seed', not both`);
  if (generator !== undefined) {
    if (!(generator instanceof Generator)) {
      throw new ArgumentError(op, `option 'generator' must be a Generator, got ${describeValue(generator)}`);
    }
    return generator;
  }
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new DomainError(op, `option 'seed' must be an integer, got ${describeValue(seed)}`);
    }
    return new Generator(seed);
  }
  return defaultGenerator;
}
