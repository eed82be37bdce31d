import { ShapeError } from '@gradkit/kernels';

/** A tensor shape: the size of each dimension. */
export type Shape = readonly number[];

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

/** `[2, 3]` style rendering for messages. */
export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
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
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ShapeError(
      op,
      `axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-r}..${r - 1})`,
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
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const set = new Set(out);
  if (set.size !== out.length) throw new ShapeError(op, `axis ${JSON.stringify(list)} repeats a dimension`);
  return [...set].sort((a, b) => a - b);
}

/**
 * Checks a shape given by the user: non-negative integers.
 *
 * @throws ShapeError naming the op
 */
export function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(op, `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}
