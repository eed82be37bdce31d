/**
 * Reading user data into tensor storage: nested arrays (of numbers, booleans, or typed-array rows) and
 * typed arrays of every numeric kind, validated element by element so that holes, non-numbers, ragged
 * nesting and hostile objects get a typed error naming the position (`data[0][2]`) — never a silent 0 or
 * NaN — and sizes are checked before anything is allocated.
 */
import { ArgumentError, DomainError, describeValue, GradkitError, ShapeError } from '@gradkit/kernels';
import { allocate, DEFAULT_DTYPE, type DType, type Storage } from './dtype.js';
import { checkSize, MAX_RANK } from './shape.js';

/** Every typed array kind `tensor()` accepts. */
export type NumericTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * What `tensor()` accepts: a number or boolean (a 0-d tensor), a typed array (1-D), or arrays nesting any of
 * these (the innermost level may be typed arrays, one per row).
 */
export type TensorData = number | boolean | NumericTypedArray | readonly TensorData[];

/** True for the typed arrays above (not DataView, not Float16Array). */
export function isNumericTypedArray(x: unknown): x is NumericTypedArray {
  return (
    x instanceof Float32Array ||
    x instanceof Float64Array ||
    x instanceof Int8Array ||
    x instanceof Uint8Array ||
    x instanceof Uint8ClampedArray ||
    x instanceof Int16Array ||
    x instanceof Uint16Array ||
    x instanceof Int32Array ||
    x instanceof Uint32Array ||
    x instanceof BigInt64Array ||
    x instanceof BigUint64Array
  );
}

/**
 * The dtype a typed array converts to by default: the smallest float type holding every value of its element
 * type exactly — float64 for Float64Array, Int32Array, Uint32Array and the BigInt arrays, float32 for the
 * rest. (PyTorch keeps integer dtypes; gradkit tensors are floating point.)
 */
export function defaultDtypeOf(a: NumericTypedArray): DType {
  return a instanceof Float64Array ||
    a instanceof Int32Array ||
    a instanceof Uint32Array ||
    a instanceof BigInt64Array ||
    a instanceof BigUint64Array
    ? 'float64'
    : DEFAULT_DTYPE;
}

/** Copies a typed array into `out` at `offset`, converting BigInts when they are exactly representable. */
function copyTyped(op: string, a: NumericTypedArray, out: Storage, offset: number, path: string): void {
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (v > 9007199254740992n || v < -9007199254740992n) {
        throw new DomainError(
          op,
          `data${path}[${i}] is ${v}n, beyond the integers a float64 holds exactly (±2^53); convert it yourself`,
        );
      }
      out[offset + i] = Number(v);
    }
    return;
  }
  out.set(a, offset);
}

/** The own element `i` of array `a`, or a ShapeError for a hole or an accessor property. */
function element(op: string, a: readonly unknown[], i: number, path: string): unknown {
  const v = a[i];
  if (v !== undefined && Object.hasOwn(a, i)) return v;
  const d = Object.getOwnPropertyDescriptor(a, i);
  if (d === undefined) {
    throw new ShapeError(op, `data${path}[${i}] is a hole (a sparse array): every element must be given`);
  }
  return d.value;
}

function notANumber(op: string, v: unknown, path: string): ShapeError {
  return new ShapeError(
    op,
    `element data${path} is not a number: got ${describeValue(v)} (elements must be numbers or booleans; ` +
      'ragged or invalid nesting)',
  );
}

/** The shape read along the first elements: each array's length, down to a number or a typed array. */
function firstShape(op: string, data: unknown): number[] {
  const shape: number[] = [];
  let cur = data;
  let path = '';
  for (;;) {
    if (isNumericTypedArray(cur)) {
      shape.push(cur.length);
      break;
    }
    if (!Array.isArray(cur)) break;
    if (shape.length >= MAX_RANK) {
      throw new ShapeError(op, `data is nested more than ${MAX_RANK} levels deep (or contains itself)`);
    }
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = element(op, cur, 0, path);
    path += '[0]';
  }
  return shape;
}

/**
 * Converts nested arrays / typed arrays to storage of `dtype` (default: float32 for nested numbers, or the
 * widest default of the typed arrays found, see {@link defaultDtypeOf}).
 *
 * @throws ShapeError on holes, non-numbers, ragged nesting, too deep nesting, or too many elements
 * @throws DomainError on a BigInt beyond ±2^53
 * @throws ArgumentError when reading the data runs user code that throws (a getter, a Proxy trap)
 */
export function readTensorData(
  op: string,
  data: unknown,
  dtype: DType | undefined,
): { data: Storage; shape: number[] } {
  try {
    return read(op, data, dtype);
  } catch (e) {
    if (e instanceof GradkitError) throw e;
    throw new ArgumentError(
      op,
      `reading 'data' threw ${e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)}`,
    );
  }
}

function read(op: string, data: unknown, dtype: DType | undefined): { data: Storage; shape: number[] } {
  if (typeof data === 'number' || typeof data === 'boolean') {
    const out = allocate(dtype ?? DEFAULT_DTYPE, 1, op, []);
    out[0] = Number(data);
    return { data: out, shape: [] };
  }
  if (isNumericTypedArray(data)) {
    const out = allocate(dtype ?? defaultDtypeOf(data), data.length, op, [data.length]);
    copyTyped(op, data, out, 0, '');
    return { data: out, shape: [data.length] };
  }
  if (!Array.isArray(data)) {
    throw new ArgumentError(
      op,
      `argument 'data' must be a number, a boolean, a typed array or a (nested) array of them, got ${describeValue(data)}`,
    );
  }
  const shape = firstShape(op, data);
  const n = checkSize(op, shape, 'data of shape');
  const rank = shape.length;
  // Pass 1 validates everything (and finds the default dtype) before allocating; pass 2 validates again
  // while copying (a getter or Proxy could answer differently the second time).
  let wide = false;
  let out: Storage | null = null;
  let k = 0;
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === rank) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw notANumber(op, v, path);
      if (out !== null) out[k++] = Number(v);
      return;
    }
    if (dim === rank - 1 && isNumericTypedArray(v)) {
      if (v.length !== shape[dim]) {
        throw new ShapeError(
          op,
          `ragged nested array: data${path} should have ${shape[dim]} entries, got a typed array of ${v.length}`,
        );
      }
      if (defaultDtypeOf(v) === 'float64') wide = true;
      if (out !== null) {
        copyTyped(op, v, out, k, path);
        k += v.length;
      }
      return;
    }
    if (!Array.isArray(v)) {
      if (dim === 0) throw notANumber(op, v, path);
      throw new ShapeError(
        op,
        `ragged nested array: data${path} should be an array of ${shape[dim]} entries, got ${describeValue(v)}`,
      );
    }
    if (v.length !== shape[dim]) {
      throw new ShapeError(
        op,
        `ragged nested array: data${path} should have ${shape[dim]} entries, got ${v.length}`,
      );
    }
    for (let i = 0; i < v.length; i++) walk(element(op, v, i, path), dim + 1, `${path}[${i}]`);
  };
  if (n > 0) walk(data, 0, '');
  out = allocate(dtype ?? (wide ? 'float64' : DEFAULT_DTYPE), n, op, shape);
  if (n > 0) walk(data, 0, '');
  return { data: out, shape };
}

/**
 * Reads flat data (an array of numbers or booleans, or a typed array) of exactly `n` elements into storage.
 *
 * @throws ShapeError on the wrong length, holes or non-numbers; ArgumentError when `data` is not an array
 */
export function readFlatData(
  op: string,
  data: unknown,
  n: number,
  shape: readonly number[],
  dtype: DType | undefined,
): Storage {
  const isTyped = isNumericTypedArray(data);
  if (!isTyped && !Array.isArray(data)) {
    throw new ArgumentError(
      op,
      `argument 'data' must be an array or a typed array, got ${describeValue(data)}`,
    );
  }
  const len = (data as ArrayLike<unknown>).length;
  if (len !== n) {
    throw new ShapeError(op, `data has ${len} elements but shape [${shape.join(', ')}] needs ${n}`);
  }
  if (isTyped) {
    const out = allocate(dtype ?? defaultDtypeOf(data), n, op, shape);
    copyTyped(op, data, out, 0, '');
    return out;
  }
  try {
    const a = data as unknown[];
    const out = allocate(dtype ?? DEFAULT_DTYPE, n, op, shape);
    for (let i = 0; i < n; i++) {
      const v = element(op, a, i, '');
      if (typeof v !== 'number' && typeof v !== 'boolean') throw notANumber(op, v, `[${i}]`);
      out[i] = Number(v);
    }
    return out;
  } catch (e) {
    if (e instanceof GradkitError) throw e;
    throw new ArgumentError(
      op,
      `reading 'data' threw ${e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)}`,
    );
  }
}
