import { checkTensor, formatShape, index, indexSelect, slice, type Tensor } from '@gradkit/autograd';
import { ArgumentError, DomainError, describeValue, ShapeError } from '@gradkit/kernels';

/**
 * What a {@link DataLoader} draws batches from: a number of samples and a way to fetch several at once.
 * {@link TensorDataset} is one; implement it to batch anything else.
 */
export interface BatchDataset<Batch> {
  /** The number of samples. */
  readonly length: number;
  /**
   * The samples at `indices` (each in `0…length-1`), stacked into one batch. The loader passes a fresh
   * array each call; the dataset may keep it.
   */
  getBatch(indices: Int32Array): Batch;
}

/**
 * Samples that are rows of tensors with the same first dimension, like PyTorch's `TensorDataset`: sample
 * `i` is `[t0[i], t1[i], …]` and a batch is `[t0[idx], t1[idx], …]` (one `indexSelect` per tensor, or a
 * `slice` when the indices are consecutive).
 *
 * @example
 * ```ts
 * const ds = new TensorDataset(features, labels); // [n, d] and [n]
 * const [x0, y0] = ds.get(0); // [d] and []
 * ```
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> implements BatchDataset<T> {
  /** The tensors, as given. */
  readonly tensors: Readonly<T>;

  /**
   * @param tensors - one or more tensors of at least one dimension, all with the same size along axis 0
   * @throws ArgumentError when no tensor is given or an argument is not a Tensor
   * @throws ShapeError when a tensor is 0-D or the first dimensions differ (naming both shapes)
   */
  constructor(...tensors: T) {
    if (tensors.length === 0) throw new ArgumentError('TensorDataset', 'needs at least one tensor');
    tensors.forEach((t, k) => {
      checkTensor('TensorDataset', `tensors[${k}]`, t);
      if (t.ndim === 0) {
        throw new ShapeError(
          'TensorDataset',
          `tensors[${k}] is 0-D (shape []): a dataset needs a first axis`,
        );
      }
    });
    const first = tensors[0]!;
    tensors.forEach((t, k) => {
      if (t.shape[0] !== first.shape[0]) {
        throw new ShapeError(
          'TensorDataset',
          `all tensors need the same first dimension: tensors[0] has shape ${formatShape(first.shape)} ` +
            `but tensors[${k}] has shape ${formatShape(t.shape)}`,
        );
      }
    });
    this.tensors = Object.freeze([...tensors]) as unknown as Readonly<T>;
  }

  /** The number of samples (the first dimension). */
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /**
   * Sample `i`: row `i` of every tensor (one dimension fewer). Negative `i` counts from the end.
   *
   * @throws DomainError when `i` is not an integer in `-length…length-1`
   */
  get(i: number): T {
    const n = this.length;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < -n || i >= n) {
      throw new DomainError(
        'TensorDataset.get',
        `index ${typeof i === 'number' ? String(i) : describeValue(i)} is not an integer in ${-n}…${n - 1} (the dataset has ${n} samples)`,
      );
    }
    return this.tensors.map((t) => index(t, [i])) as T;
  }

  /**
   * The samples at `indices`, one tensor per dataset tensor with `indices.length` rows.
   *
   * @param indices - an Int32Array (what a DataLoader passes) or an array of integers
   * @throws ArgumentError when `indices` is neither; DomainError when an index is out of range
   */
  getBatch(indices: Int32Array | readonly number[]): T {
    const idx = indices instanceof Int32Array ? indices : rowIndices('TensorDataset.getBatch', indices);
    const m = idx.length;
    const start = idx[0]!;
    let consecutive = m > 0;
    for (let k = 1; k < m && consecutive; k++) consecutive = idx[k] === start + k;
    if (consecutive && start >= 0 && start + m <= this.length) {
      return this.tensors.map((t) => slice(t, 0, start, start + m)) as T;
    }
    return this.tensors.map((t) => indexSelect(t, 0, idx)) as T;
  }
}

/** Checks an array of row indices and converts it to an Int32Array. */
function rowIndices(op: string, indices: unknown): Int32Array {
  if (!Array.isArray(indices)) {
    throw new ArgumentError(
      op,
      `argument 'indices' must be an Int32Array or an array of integers, got ${describeValue(indices)}`,
    );
  }
  const list = [...indices];
  list.forEach((i, k) => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < -(2 ** 31) || i >= 2 ** 31) {
      throw new DomainError(op, `indices[${k}] is ${describeValue(i)}, not a row index`);
    }
  });
  return Int32Array.from(list);
}
