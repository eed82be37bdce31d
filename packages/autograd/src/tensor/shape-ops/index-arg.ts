import { ArgumentError, DeviceError, DomainError, GradkitError, ShapeError } from '@gradkit/kernels';
import { tensor } from '../creation.js';
import { fmt, type Shape, show } from '../shape.js';
import { type NestedArray, Tensor } from '../tensor.js';

/**
 * Indices given to indexSelect, gather, indexAdd and scatterAdd: a Tensor of integer-valued floats, a
 * (nested) array of integers, or an Int32Array (1-D). Indices are never differentiated.
 */
export type IndexLike = Tensor | Int32Array | ReadonlyArray<NestedArray>;

/** Checked indices: integers in `0…size-1`, with their shape. */
export interface CheckedIndex {
  /** The indices, row-major. */
  readonly data: Int32Array;
  /** The shape of the index argument. */
  readonly shape: Shape;
}

/**
 * Converts and checks an index argument against an axis of `size`.
 *
 * @param op - the op, for messages
 * @param index - the index argument
 * @param axis - the (normalized) axis the indices address, for messages
 * @param size - the size of that axis; every index must lie in `0…size-1`
 * @param inputShape - the shape of the indexed tensor, for messages
 * @throws DomainError when an index is not an integer or is out of range
 * @throws ArgumentError when the argument is of the wrong kind
 */
export function checkIndex(
  op: string,
  index: IndexLike,
  axis: number,
  size: number,
  inputShape: Shape,
): CheckedIndex {
  let values: ArrayLike<number>;
  let shape: Shape;
  if (index instanceof Tensor) {
    if (index.device !== 'cpu') {
      throw new DeviceError(
        op,
        "argument 'index' is a webgpu tensor: indices are checked on the host, so pass them as a cpu tensor, an array or an Int32Array (await index.cpu())",
      );
    }
    values = index.data;
    shape = index.shape;
  } else if (index instanceof Int32Array) {
    values = index;
    shape = [index.length];
  } else if (Array.isArray(index)) {
    let t: Tensor;
    try {
      t = tensor(index as NestedArray, { dtype: 'float64', device: 'cpu' });
    } catch (e) {
      if (e instanceof GradkitError)
        throw new ShapeError(op, `argument 'index' is not a rectangular array: ${e.message}`);
      throw e;
    }
    values = t.data;
    shape = t.shape;
  } else {
    throw new ArgumentError(
      op,
      `argument 'index' must be a Tensor, an array of integers or an Int32Array, got ${index === null ? 'null' : typeof index}`,
    );
  }
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) {
      throw new DomainError(op, `index ${v} (at flat position ${i} of 'index') is not an integer`);
    }
    if (v < 0 || v >= size) {
      throw new DomainError(
        op,
        `index ${show(v)} is out of range for axis ${show(axis)} of size ${size} (input shape ${fmt(inputShape)}; valid: ${size === 0 ? 'none' : `0..${size - 1}`})`,
      );
    }
    out[i] = v;
  }
  return { data: out, shape: [...shape] };
}
