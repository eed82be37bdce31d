import { ArgumentError, describeValue, ShapeError } from '@gradkit/kernels';

/** A tensor shape: the size of each dimension. */
export type Shape = readonly number[];

/**
 * The most elements one tensor may hold, 2^31 − 1, for both dtypes: every flat offset then fits the 32-bit
 * signed integers the reduction, index and WebAssembly kernels use, and the length is within the
 * typed-array limit of every current engine (V8's is 2^32). Shapes with more elements are refused with a
 * ShapeError before anything is allocated, the same on every engine.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** The most dimensions a tensor may have (PyTorch's limit too); deeper nesting is refused. */
export const MAX_RANK = 64;

/** Number of elements of a shape (1 for a 0-d shape). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** `[2, 3]` style rendering for messages (any other value is described, never converted by user code). */
export function fmt(shape: Shape): string {
  return Array.isArray(shape) ? `[${shape.map(show).join(', ')}]` : describeValue(shape);
}

/** A list of numbers as JSON (`[3,-1,3]`, the historical format of some messages), anything else as {@link show}. */
export function showList(v: unknown): string {
  return Array.isArray(v) && v.length <= 16 && v.every((d) => typeof d === 'number')
    ? JSON.stringify(v)
    : show(v);
}

/**
 * A user argument rendered for an error message without running user code and without throwing: numbers
 * as themselves, arrays of up to 16 own entries as `[a, b]`, anything else through `describeValue`.
 */
export function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.length <= 16) {
    const parts: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const d = Object.getOwnPropertyDescriptor(v, i);
      parts.push(d === undefined ? '<hole>' : 'value' in d ? show(d.value) : '<getter>');
    }
    return `[${parts.join(', ')}]`;
  }
  return describeValue(v);
}

/** True when both shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * NumPy/PyTorch broadcasting of several shapes: align on the right; sizes must be equal or 1.
 *
 * @throws ShapeError naming the op and the shapes
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  if (typeof op !== 'string') {
    throw new ArgumentError(
      'broadcastShapes',
      `argument 'op' must be the calling op's name, got ${describeValue(op)}`,
    );
  }
  shapes.forEach((s, i) => {
    if (!Array.isArray(s))
      throw new ShapeError(op, `shape ${i} must be a list of sizes, got ${describeValue(s)}`);
  });
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let d = 0; d < rank; d++) {
    for (const s of shapes) {
      const k = s.length - rank + d;
      if (k < 0) continue;
      const size = s[k]!;
      if (size === 1) continue;
      if (out[d] === 1) out[d] = size;
      else if (out[d] !== size) {
        throw new ShapeError(
          op,
          `shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together: size ${out[d]} vs ${size} at dimension ${d - rank}`,
        );
      }
    }
  }
  checkSize(op, out, 'the broadcast shape');
  return out;
}

/** Strides that read a contiguous tensor of `shape` as if it had the (broadcast) shape `target`. */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = contiguousStrides(shape);
  const off = target.length - shape.length;
  return target.map((_, d) => {
    const k = d - off;
    if (k < 0 || shape[k] === 1) return 0;
    return own[k]!;
  });
}

/**
 * Normalizes an axis (negative counts from the end) for a tensor of rank `rank`.
 *
 * @throws ShapeError when the axis is out of range or not an integer
 */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ShapeError(
      op,
      `axis ${show(axis)} is out of range for a tensor of rank ${rank} (valid: ${-r}..${r - 1})`,
    );
  }
  return axis < 0 ? axis + r : axis;
}

/**
 * Normalizes an `axis` argument (undefined = all axes, a number, or a list) to a sorted list of distinct axes.
 *
 * @throws ShapeError on out-of-range or repeated axes
 */
export function normalizeAxes(
  op: string,
  axis: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new ShapeError(
      op,
      `axis must be an integer, a list of integers or undefined (all axes), got ${describeValue(axis)}`,
    );
  }
  const list: number[] = typeof axis === 'number' ? [axis] : Array.from(axis as number[]);
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const set = new Set(out);
  if (set.size !== out.length) throw new ShapeError(op, `axis ${show(list)} repeats a dimension`);
  return [...set].sort((a, b) => a - b);
}

/**
 * Checks that a tensor of `shape` (entries already known to be non-negative integers) fits in a typed
 * array: at most {@link MAX_ELEMENTS} elements. A shape with a 0 has no elements, whatever its other sizes.
 * The product is formed in float64, which only rounds above 2^53, far beyond the limit, so the comparison
 * is exact where it matters.
 *
 * @param what - how the shape is named in the message (`"result shape"`, `"shape"`)
 * @returns the number of elements
 * @throws ShapeError naming the op and the shape when it has too many elements
 */
export function checkSize(op: string, shape: Shape, what = 'shape'): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) {
    const count = Number.isSafeInteger(n) ? String(n) : `about ${n.toPrecision(3)}`;
    throw new ShapeError(
      op,
      `${what} ${fmt(shape)} has ${count} elements, more than the ${MAX_ELEMENTS} (2^31 − 1) a tensor can hold`,
    );
  }
  return n;
}

/**
 * Checks a shape given by the user: a list of non-negative integers (a single number is read as a 1-D
 * shape, as `torch.zeros(3)` does) with at most {@link MAX_RANK} entries and at most {@link MAX_ELEMENTS}
 * elements. Entries are read as own data properties, so holes, getters and a polluted prototype cannot feed it.
 *
 * @returns a fresh copy of the shape
 * @throws ShapeError naming the op and the offending entry
 */
export function checkShape(op: string, shape: number | readonly number[]): number[] {
  const list = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(list)) {
    throw new ShapeError(op, `shape must be a list of non-negative integers, got ${describeValue(shape)}`);
  }
  if (list.length > MAX_RANK) {
    throw new ShapeError(op, `shape has ${list.length} dimensions; at most ${MAX_RANK} are supported`);
  }
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const desc = Object.getOwnPropertyDescriptor(list, i);
    const d: unknown = desc !== undefined && 'value' in desc ? desc.value : undefined;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      const got = desc === undefined ? 'a hole' : 'value' in desc ? describeValue(d) : 'a getter';
      throw new ShapeError(op, `shape must be a list of non-negative integers, got ${got} at shape[${i}]`);
    }
    out[i] = d === 0 ? 0 : d; // -0 becomes 0
  }
  checkSize(op, out);
  return out;
}
