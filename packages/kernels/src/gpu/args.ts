import type { NumericArray } from '../codegen/js.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { type GPUMode, KernelResult, type ResultOwner } from './result.js';
import type { ArgumentTypeSpec } from './settings.js';
import type { ParamType } from './types.js';
import type { WebGpuBufferLike } from './webgpu.js';

/**
 * Flat data with an explicit size, like GPU.js's `input(value, size)`: `size` is `[x]`, `[x, y]` or
 * `[x, y, z]` with x the fastest-varying (innermost) dimension, so element `[z][y][x]` is
 * `data[(z * Y + y) * X + x]`. Passing flat typed arrays this way avoids copying nested arrays.
 */
export class Input {
  /** The values, row-major with x fastest. */
  readonly data: ArrayLike<number>;
  /** `[x]`, `[x, y]` or `[x, y, z]`. */
  readonly size: readonly number[];

  /**
   * @throws ShapeError when `size` is not 1-3 positive integers or does not match the data's length
   */
  constructor(data: ArrayLike<number>, size: readonly number[]) {
    if (
      !Array.isArray(size) ||
      size.length < 1 ||
      size.length > 3 ||
      size.some((s) => !Number.isInteger(s) || s < 1)
    ) {
      throw new ShapeError(
        'input',
        `'size' must be 1 to 3 positive integers [x, y?, z?], got ${JSON.stringify(size)}`,
      );
    }
    const n = size.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new ShapeError(
        'input',
        `'data' has ${data.length} values but size [${size.join(', ')}] needs ${n}`,
      );
    }
    this.data = data;
    this.size = [...size];
  }
}

/** Wraps flat data with its size (GPU.js's `input(value, [x, y, z])`). */
export function input(data: ArrayLike<number>, size: readonly number[]): Input {
  return new Input(data, size);
}

/**
 * What a kernel accepts for one parameter: a number (or a boolean, read as 1 / 0); a 1-D array or typed array; a 2-D array (of arrays or
 * typed-array rows); a 3-D one; an {@link Input}; or a {@link KernelResult} of the same GPU.
 */
export type KernelArgument =
  | number
  | boolean
  | ArrayLike<number>
  | ReadonlyArray<ArrayLike<number>>
  | ReadonlyArray<ReadonlyArray<ArrayLike<number>>>
  | Input
  | KernelResult<GPUMode>;

/** @internal A normalised argument. */
export type ArgValue =
  | { readonly kind: 'number'; readonly value: number }
  | {
      readonly kind: 'array';
      readonly dims: 1 | 2 | 3;
      /** Outer to inner ([z, y, x] order). */
      readonly shape: readonly number[];
      /** Flat data (cpu store or host data), or null for a webgpu result. */
      readonly data: NumericArray | null;
      /** The device buffer of a webgpu result. */
      readonly buffer: WebGpuBufferLike | null;
      readonly ready: Promise<void> | null;
    };

/** A host-side array argument of `shape` (outer to inner) holding `data`. */
function hostArray(shape: readonly number[], data: NumericArray): ArgValue {
  return { kind: 'array', dims: shape.length as 1 | 2 | 3, shape, data, buffer: null, ready: null };
}

function isTyped(v: unknown): v is ArrayLike<number> & ArrayBufferView {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function flatNumbers(src: ArrayLike<number>, op: string, name: string, copy: boolean): NumericArray {
  if (src instanceof Float32Array || src instanceof Float64Array) return copy ? src.slice() : src;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v !== 'number') {
      throw new ArgumentError(
        op,
        `argument '${name}' holds ${typeof v} at [${i}]; kernels take numbers only`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Normalises one argument, checking it is rectangular and numeric. With `snapshot`, the result never shares
 * memory with the caller's arrays (a call that finishes after an await must see the values at call time);
 * without it, a Float32Array or Float64Array may be used in place.
 */
export function normalizeArgument(
  value: unknown,
  owner: ResultOwner,
  op: string,
  name: string,
  snapshot = false,
): ArgValue {
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'number', value: value ? 1 : 0 };
  if (value instanceof KernelResult) {
    if (value.owner !== owner) {
      throw new ArgumentError(
        op,
        `argument '${name}' is a result of another GPU instance; pass its toArray() instead`,
      );
    }
    const store = value.live('argument');
    const size = value.output;
    const shape = [...size].reverse();
    if (value.width > 1) shape.push(value.width);
    if (shape.length > 3) {
      throw new ArgumentError(
        op,
        `argument '${name}' is a result of ${size.length}-D vectors, which would be a ${shape.length}-D array; arrays have at most 3 dimensions`,
      );
    }
    const dims = shape.length as 1 | 2 | 3;
    if (store.kind === 'cpu') return hostArray(shape, snapshot ? store.data.slice() : store.data);
    return { kind: 'array', dims, shape, data: null, buffer: store.buffer, ready: store.ready };
  }
  if (value instanceof Input) {
    return hostArray([...value.size].reverse(), flatNumbers(value.data, op, name, snapshot));
  }
  if (isTyped(value)) return hostArray([value.length], flatNumbers(value, op, name, snapshot));
  if (!Array.isArray(value)) {
    throw new ArgumentError(
      op,
      `argument '${name}' must be a number, an array (1-3 dimensions), a typed array, input(...) or a kernel result; got ${value === null ? 'null' : typeof value}`,
    );
  }
  const first: unknown = value[0];
  if (value.length === 0) throw new ShapeError(op, `argument '${name}' is an empty array`);
  if (typeof first === 'number') return hostArray([value.length], flatNumbers(value, op, name, false));
  const rowLike = (v: unknown): v is ArrayLike<number> => Array.isArray(v) || isTyped(v);
  if (!rowLike(first)) {
    throw new ArgumentError(
      op,
      `argument '${name}' holds ${typeof first} at [0]; kernels take numbers and arrays of numbers`,
    );
  }
  const second: unknown = (first as ArrayLike<unknown>)[0];
  if (rowLike(second)) return nested3(value as unknown[], op, name);
  // 2-D: rows of equal length.
  const Y = value.length;
  const X = first.length;
  const allF32 = value.every((r) => r instanceof Float32Array);
  const out = allF32 ? new Float32Array(Y * X) : new Float64Array(Y * X);
  for (let y = 0; y < Y; y++) {
    const row: unknown = value[y];
    if (!rowLike(row) || row.length !== X) {
      throw new ShapeError(
        op,
        `argument '${name}' is ragged: row 0 has ${X} values, row ${y} has ${rowLike(row) ? row.length : typeof row}`,
      );
    }
    copyRow(row, out, y * X, op, name, `[${y}]`);
  }
  return hostArray([Y, X], out);
}

function copyRow(
  row: ArrayLike<number>,
  out: NumericArray,
  offset: number,
  op: string,
  name: string,
  at: string,
): void {
  if (row instanceof Float32Array || row instanceof Float64Array) {
    out.set(row, offset);
    return;
  }
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v !== 'number') {
      throw new ArgumentError(
        op,
        `argument '${name}' holds ${typeof v} at ${at}[${i}]; kernels take numbers only`,
      );
    }
    out[offset + i] = v;
  }
}

function nested3(value: unknown[], op: string, name: string): ArgValue {
  const Z = value.length;
  const first = value[0] as ArrayLike<ArrayLike<number>>;
  const Y = first.length;
  const X = first[0]!.length;
  const out = new Float64Array(Z * Y * X);
  for (let z = 0; z < Z; z++) {
    const slice = value[z] as ArrayLike<ArrayLike<number>> | undefined;
    if (!slice || slice.length !== Y) {
      throw new ShapeError(
        op,
        `argument '${name}' is ragged: slice 0 has ${Y} rows, slice ${z} has ${slice?.length}`,
      );
    }
    for (let y = 0; y < Y; y++) {
      const row = slice[y];
      if (!row || row.length !== X) {
        throw new ShapeError(
          op,
          `argument '${name}' is ragged: row [0][0] has ${X} values, row [${z}][${y}] has ${row?.length}`,
        );
      }
      copyRow(row, out, (z * Y + y) * X, op, name, `[${z}][${y}]`);
    }
  }
  return hostArray([Z, Y, X], out);
}

/** The parameter types a set of arguments gives the kernel. */
export function paramTypes(args: readonly ArgValue[]): ParamType[] {
  return args.map((a, i) =>
    a.kind === 'number'
      ? { kind: 'scalar', type: 'float' }
      : { kind: 'array', dims: a.dims, arg: i, width: vectorWidth(a.shape) },
  );
}

/** The cache key of a set of argument types. */
export function signatureKey(args: readonly ArgValue[]): string {
  return args.map((a) => (a.kind === 'number' ? 'n' : `a${a.dims}w${vectorWidth(a.shape)}`)).join(',');
}

/** The innermost size of an array when it is 2-4 (it may be read as rows of vectors), else 0. */
export function vectorWidth(shape: readonly number[]): number {
  const w = shape[shape.length - 1] ?? 0;
  return w >= 2 && w <= 4 ? w : 0;
}

/**
 * Checks an argument against its declared GPU.js type (`argumentTypes`).
 *
 * @throws ArgumentError naming the argument, the declared type and what was passed
 */
export function checkDeclaredType(v: ArgValue, t: ArgumentTypeSpec, op: string, name: string): void {
  const got = v.kind === 'number' ? 'a number' : `a ${v.dims}-D array of shape [${v.shape.join(', ')}]`;
  const fail = (want: string): never => {
    throw new ArgumentError(op, `argument '${name}' is declared '${t.name}' (${want}) but got ${got}`);
  };
  if (t.kind === 'number') {
    if (v.kind !== 'number') fail('a number');
    return;
  }
  if (v.kind !== 'array') {
    fail('an array');
    return;
  }
  if (t.dims !== undefined && v.dims !== t.dims) fail(`a ${t.dims}-D array`);
  if (t.width !== undefined && v.shape[v.shape.length - 1] !== t.width) {
    fail(`innermost size ${t.width}`);
  }
}
