import { ShapeError } from '@gradkit/kernels';
import { deviceSum, deviceSumTo } from './device-reduce.js';
import { allocate } from './dtype.js';
import { fmt, normalizeAxes, type Shape, sameShape, sizeOf } from './shape.js';
import { checkTensor, record1, type Tensor } from './tensor.js';
import { broadcastTo, reshape } from './view.js';

/** The shape left after reducing `axes` (kept as size 1 with `keepDims`). */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/**
 * Sums `x[...]` over `axes` into a fresh array (accumulating in float64, rounded once to the dtype).
 * Works for any set of axes by walking the input once and adding each element into its output slot.
 */
export function sumKernel(x: Tensor, axes: readonly number[]): Float64Array {
  const outShape = reducedShape(x.shape, axes, true);
  const acc = new Float64Array(sizeOf(outShape));
  const n = x.size;
  const data = x.data;
  if (acc.length === 1) {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i]!;
    acc[0] = s;
    return acc;
  }
  const rank = x.shape.length;
  const inner0 = x.shape[rank - 1]!;
  if (axes.length === rank - 1 && !axes.includes(rank - 1) && inner0 > 0) {
    // Every row into one (a bias gradient): four rows per pass over the accumulator, added in row order
    // (((acc + r0) + r1) + r2) + r3 — the same additions, in the same order, as one row at a time.
    const rows = n / inner0;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const b0 = r * inner0;
      const b1 = b0 + inner0;
      const b2 = b1 + inner0;
      const b3 = b2 + inner0;
      for (let j = 0; j < inner0; j++) {
        acc[j] = acc[j]! + data[b0 + j]! + data[b1 + j]! + data[b2 + j]! + data[b3 + j]!;
      }
    }
    for (; r < rows; r++) {
      const b = r * inner0;
      for (let j = 0; j < inner0; j++) acc[j] += data[b + j]!;
    }
    return acc;
  }
  // Collapse to (outer, reduced-or-kept, inner) runs: walk with an odometer over the input.
  const outStrides = new Array<number>(rank);
  let st = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = axes.includes(d) ? 0 : st;
    st *= outShape[d]!;
  }
  const inner = x.shape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const idx = new Int32Array(rank);
  for (let base = 0; base < n; base += inner) {
    let o = 0;
    for (let d = 0; d < rank - 1; d++) o += idx[d]! * outStrides[d]!;
    if (innerStride === 0) {
      let s = 0;
      for (let j = 0; j < inner; j++) s += data[base + j]!;
      acc[o] += s;
    } else {
      for (let j = 0; j < inner; j++) acc[o + j] += data[base + j]!;
    }
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return acc;
}

/**
 * Sum over `axis` (a number, a list, negative counts from the end; all axes when omitted).
 * Backward broadcasts the gradient back to the input's shape. On webgpu it is a workgroup tree reduction in
 * float32 (pairwise combination; see `reduceArray`).
 *
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  checkTensor('sum', 'x', x);
  const axes = normalizeAxes('sum', axis, x.ndim);
  const shape = reducedShape(x.shape, axes, keepDims);
  if (x.device === 'webgpu')
    return deviceSum(
      x,
      axes.filter((a) => a < x.ndim),
      shape,
    );
  const acc = sumKernel(x, axes);
  const data = allocate(x.dtype, acc.length);
  data.set(acc);
  const inShape = x.shape;
  const kept = reducedShape(inShape, axes, true);
  return record1('sum', [x], data, shape, (g) => [broadcastTo(reshape(g, kept), inShape)]);
}

/**
 * Reduces a broadcast gradient back to `shape` by summing over the broadcast dimensions
 * (the adjoint of broadcasting). Returns `g` itself when the shapes already agree.
 *
 * @throws ShapeError when `shape` does not broadcast to `g`'s shape
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  checkTensor('sumTo', 'g', g);
  if (!Array.isArray(shape))
    throw new ShapeError('sumTo', `shape must be a list of sizes, got ${fmt(shape)}`);
  if (g.device === 'webgpu') return deviceSumTo(g, shape);
  if (sameShape(g.shape, shape)) return g;
  const axes = sumToAxes(g.shape, shape);
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return sameShape(s.shape, shape) ? s : reshape(s, shape);
}

/**
 * The axes of `from` that `sumTo(·, to)` sums over: the leading ones `to` lacks and those where `to` has size 1.
 *
 * @throws ShapeError when `to` has the larger rank or does not broadcast to `from`
 */
export function sumToAxes(from: Shape, to: Shape): number[] {
  const lead = from.length - to.length;
  if (lead < 0)
    throw new ShapeError('sumTo', `cannot reduce shape ${fmt(from)} to the larger rank ${fmt(to)}`);
  const axes: number[] = [];
  for (let d = 0; d < from.length; d++) {
    if (d < lead) axes.push(d);
    else if (to[d - lead] === 1 && from[d] !== 1) axes.push(d);
    else if (to[d - lead] !== from[d]) {
      throw new ShapeError('sumTo', `shape ${fmt(to)} does not broadcast to ${fmt(from)}`);
    }
  }
  return axes;
}
