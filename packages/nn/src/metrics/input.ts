import { ArgumentError, DomainError, ShapeError, Tensor } from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';

/**
 * What every metric accepts for labels, scores and sample weights: an array (or typed array, or any
 * array-like object) of numbers, or a {@link Tensor} of shape `[n]` or `[n, 1]` (scikit-learn's
 * `column_or_1d`). Values are read as float64; a float32 tensor's elements are exact in float64.
 */
export type MetricInput = ArrayLike<number> | Tensor;

/** The float64 machine epsilon, `np.finfo(np.float64).eps`. */
export const FLOAT64_EPS = 2 ** -52;

/** The float32 machine epsilon, `np.finfo(np.float32).eps`. */
export const FLOAT32_EPS = 2 ** -23;

/** A metric input read into float64, with the element type it came in. */
export interface Vector {
  readonly values: Float64Array;
  /** True when the input was float32 (a float32 Tensor or a Float32Array). */
  readonly float32: boolean;
}

/**
 * Reads a metric input into a Float64Array. Arrays and array-like objects are read by own keys only (a hole
 * or an inherited index is refused, never read through the prototype).
 *
 * @throws ArgumentError when `x` is not a Tensor or an array-like of numbers
 * @throws ShapeError when a Tensor is not of shape `[n]` or `[n, 1]`
 */
export function readVector(op: string, arg: string, x: unknown): Vector {
  if (x instanceof Tensor) {
    const shape = x.shape;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw new ShapeError(
        op,
        `argument '${arg}' must be a Tensor of shape [n] or [n, 1], got [${shape.join(', ')}]`,
      );
    }
    return { values: Float64Array.from(x.data), float32: x.dtype === 'float32' };
  }
  if (x instanceof Float64Array) return { values: Float64Array.from(x), float32: false };
  if (x instanceof Float32Array) return { values: Float64Array.from(x), float32: true };
  if (ArrayBuffer.isView(x) && !(x instanceof DataView) && !isBigIntArray(x)) {
    return { values: Float64Array.from(x as unknown as ArrayLike<number>), float32: false };
  }
  if (x === null || typeof x !== 'object' || ArrayBuffer.isView(x)) {
    throw new ArgumentError(
      op,
      `argument '${arg}' must be an array of numbers or a Tensor, got ${describeValue(x)}`,
    );
  }
  const length = ownValue(x, 'length');
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new ArgumentError(
      op,
      `argument '${arg}' must be an array of numbers or a Tensor, got ${describeValue(x)} without a valid length`,
    );
  }
  // Read element by element before allocating, so a fake huge `length` fails at its first missing element.
  const values: number[] = [];
  for (let i = 0; i < length; i++) {
    const v = ownValue(x, String(i));
    if (typeof v !== 'number') {
      throw new ArgumentError(
        op,
        `argument '${arg}' must hold numbers; element ${i} is ${Object.hasOwn(x, String(i)) ? describeValue(v) : 'missing'}`,
      );
    }
    values.push(v);
  }
  return { values: Float64Array.from(values), float32: false };
}

function isBigIntArray(x: ArrayBufferView): boolean {
  return x instanceof BigInt64Array || x instanceof BigUint64Array;
}

/**
 * Checks that `n` (the length of `arg`) equals `expected` (the length of `yTrue`).
 *
 * @throws ShapeError naming both arguments and lengths
 */
export function checkSameLength(op: string, arg: string, n: number, expected: number, ref = 'yTrue'): void {
  if (n !== expected) {
    throw new ShapeError(
      op,
      `argument '${arg}' has ${n} elements but '${ref}' has ${expected}; they must have the same length`,
    );
  }
}

/**
 * Reads binary labels: every element must be 0 or 1.
 *
 * @throws DomainError naming the first element that is not 0 or 1 (NaN included), or when empty
 */
export function readBinaryLabels(op: string, arg: string, x: unknown): Float64Array {
  const { values } = readVector(op, arg, x);
  if (values.length === 0) throw new DomainError(op, `argument '${arg}' is empty`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1) {
      throw new DomainError(
        op,
        `argument '${arg}' must hold binary labels 0 or 1; element ${i} is ${v} (threshold scores first)`,
      );
    }
  }
  return values;
}

/**
 * Reads scores of length `n` (any length when `n` is null).
 *
 * @param finite - refuse ±Infinity too (the curves: scikit-learn's `assert_all_finite`); NaN is always refused
 * @throws ShapeError when the length differs from `n`
 * @throws DomainError naming the first NaN (or infinite) element
 */
export function readScores(op: string, arg: string, x: unknown, n: number | null, finite: boolean): Vector {
  const vec = readVector(op, arg, x);
  if (n !== null) checkSameLength(op, arg, vec.values.length, n);
  const values = vec.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v) || (finite && !Number.isFinite(v))) {
      throw new DomainError(
        op,
        `argument '${arg}' must hold ${finite ? 'finite numbers' : 'numbers, not NaN'}; element ${i} is ${v}`,
      );
    }
  }
  return vec;
}

/**
 * Reads optional sample weights of length `n`: finite and non-negative (scikit-learn accepts negative
 * weights; gradkit refuses them, since no metric here is defined for them).
 *
 * @returns the weights, or null when `x` is undefined
 * @throws ShapeError when the length differs from `n`
 * @throws DomainError naming the first negative, NaN or infinite weight
 */
export function readSampleWeight(op: string, x: unknown, n: number): Float64Array | null {
  if (x === undefined) return null;
  const { values } = readVector(op, 'sampleWeight', x);
  checkSameLength(op, 'sampleWeight', values.length, n);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new DomainError(
        op,
        `argument 'sampleWeight' must hold finite non-negative weights; element ${i} is ${v}`,
      );
    }
  }
  return values;
}

/**
 * Checks an options object (own keys only, all in `valid`) and returns it as a record to read with
 * {@link ownValue}.
 *
 * @throws ArgumentError when it is not an object or has an unknown key
 */
export function readOptions(op: string, options: unknown, valid: readonly string[]): object {
  checkOptionKeys(op, 'options', options, valid);
  return options === undefined ? {} : (options as object);
}
