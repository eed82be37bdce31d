import { allocateStorage, DtypeError, describeValue, ShapeError } from '@gradkit/kernels';
import { fmt, MAX_ELEMENTS, type Shape, show } from './shape.js';

/** Element types of tensors. */
export type DType = 'float32' | 'float64';

/** The typed array that stores a dtype. */
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Float64Array;

/** Storage of any dtype. */
export type Storage = Float32Array | Float64Array;

/** The default dtype of tensors created from plain numbers (float32, as in PyTorch). */
export const DEFAULT_DTYPE: DType = 'float32';

/**
 * Allocates zeroed storage of `dtype` for `n` elements: for large arrays, where the platform allows, a view
 * into the WebAssembly kernels' memory arena (see `allocateStorage` in @gradkit/kernels), so that the
 * WebAssembly kernels read and write it without copies; an ordinary typed array otherwise. Either way its
 * `.buffer` may be larger than the array: use `byteOffset` / `byteLength`.
 *
 * @param op - the op allocating, named in errors (default `"allocate"`)
 * @param shape - the shape being allocated, named in errors (default `[n]`)
 * @throws ShapeError when `n` is not an integer in [0, {@link MAX_ELEMENTS}], or when the engine cannot
 *   allocate that much memory (its RangeError is converted, naming the op, the shape and the bytes asked for)
 */
export function allocate(dtype: DType, n: number, op = 'allocate', shape?: Shape): Storage {
  return allocateFilled(dtype, n, op, shape, true);
}

/**
 * Like {@link allocate}, for storage the caller writes in full before anything reads it (a kernel's output):
 * memory the arena reuses is handed over as it is, without a clearing pass over it. Its initial contents are
 * unspecified — never hand such storage to a tensor before every element is written.
 *
 * @param op - the op allocating, named in errors (default `"allocate"`)
 * @param shape - the shape being allocated, named in errors (default `[n]`)
 * @throws ShapeError as {@link allocate}
 */
export function allocateOutput(dtype: DType, n: number, op = 'allocate', shape?: Shape): Storage {
  return allocateFilled(dtype, n, op, shape, false);
}

function allocateFilled(
  dtype: DType,
  n: number,
  op: string,
  shape: Shape | undefined,
  zero: boolean,
): Storage {
  checkDtype(op, dtype);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS) {
    throw new ShapeError(
      op,
      `cannot allocate ${show(n)} elements for shape ${fmt(shape ?? [n])}: a tensor holds 0 to ${MAX_ELEMENTS} elements`,
    );
  }
  try {
    return allocateStorage(dtype, n, zero);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const gib = (n * (dtype === 'float32' ? 4 : 8)) / 2 ** 30;
    throw new ShapeError(
      op,
      `cannot allocate a ${dtype} tensor of shape ${fmt(shape ?? [n])} (${gib.toPrecision(3)} GiB): ${e.message}`,
    );
  }
}

/** The dtype stored by a typed array. */
export function dtypeOf(data: Storage): DType {
  return data instanceof Float32Array ? 'float32' : 'float64';
}

/** Checks that `d` names a supported dtype. */
export function checkDtype(op: string, d: unknown): DType {
  if (d !== 'float32' && d !== 'float64') {
    throw new DtypeError(
      op,
      `unsupported dtype ${typeof d === 'string' ? JSON.stringify(d) : describeValue(d)}; supported: 'float32', 'float64'`,
    );
  }
  return d;
}

/**
 * Type promotion, the one rule of gradkit's elementwise ops (binary and n-ary, as in PyTorch):
 *
 * - tensor with tensor: float32 with float32 is float32; anything with float64 is float64
 *   (`float32 + float64 → float64`);
 * - tensor with a plain JavaScript number: the number never promotes, the result has the tensor's dtype
 *   (`float32 tensor + 0.1 → float32`; the number enters the computation as the float64 constant);
 * - gradients always have the dtype of the tensor they belong to: a float32 leaf used with float64 tensors
 *   gets a float32 `.grad` (computed in float64, rounded once);
 * - elementwise loops compute in float64 and round once when storing a float32 result.
 *
 * Ops that must not mix precisions (the losses) refuse instead, with {@link requireSameDtype}; convert
 * explicitly with `toDtype(x, dtype)` / `x.to(dtype)`.
 */
export function promoteTypes(a: DType, b: DType): DType {
  return a === 'float64' || b === 'float64' ? 'float64' : 'float32';
}

/**
 * Requires all dtypes to be equal (for ops that, like PyTorch's losses, refuse to mix precisions).
 *
 * @throws DtypeError naming the op and both dtypes
 */
export function requireSameDtype(op: string, names: readonly string[], dtypes: readonly DType[]): DType {
  const first = dtypes[0]!;
  for (let i = 1; i < dtypes.length; i++) {
    if (dtypes[i] !== first) {
      throw new DtypeError(
        op,
        `argument '${names[i]}' has dtype ${dtypes[i]} but '${names[0]}' has dtype ${first}`,
      );
    }
  }
  return first;
}
