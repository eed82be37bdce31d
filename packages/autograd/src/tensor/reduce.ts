import { DomainError, exp as expE, mul as mulE, sub as subE } from '@gradkit/kernels';
import { deviceGatherFlat, uploadIndices } from './device-gather-flat.js';
import { deviceArgExtreme, deviceExtreme, deviceLogSumExp, deviceView } from './device-reduce.js';
import { allocate } from './dtype.js';
import { expressionOp } from './elementwise.js';
import { div, mul } from './elementwise-ops.js';
import { reducedShape, sum } from './reduce-sum.js';
import { contiguousStrides, fmt, normalizeAxes, type Shape, sizeOf } from './shape.js';
import { checkTensor, record1, Tensor } from './tensor.js';
import { reshape } from './view.js';

/** The `axis` argument of reductions: one axis, a list of axes (negative counts from the end), or all. */
export type Axis = number | readonly number[];

/**
 * How a reduction walks its input: the input offset where each output slot's group starts (`base`, in the
 * output's row-major order) and the offset of each group member relative to that start (`members`, in
 * row-major order over the reduced axes).
 */
interface ReductionPlan {
  axes: number[];
  /** The output shape with reduced axes kept as size 1. */
  kept: number[];
  /** The output shape as requested (keepDims or not). */
  shape: number[];
  base: Int32Array;
  members: Int32Array;
}

/** Offsets of every index over `dims` (row-major), given the input's strides. */
function offsets(dims: readonly number[], shape: Shape, strides: readonly number[]): Int32Array {
  const sizes = dims.map((d) => shape[d]!);
  const out = new Int32Array(sizeOf(sizes));
  if (out.length === 0) return out;
  const idx = new Array<number>(dims.length).fill(0);
  let off = 0;
  for (let e = 0; e < out.length; e++) {
    out[e] = off;
    for (let q = dims.length - 1; q >= 0; q--) {
      const st = strides[dims[q]!]!;
      if (++idx[q]! < sizes[q]!) {
        off += st;
        break;
      }
      off -= (sizes[q]! - 1) * st;
      idx[q] = 0;
    }
  }
  return out;
}

/** The plan reads only the shape: it serves both devices (the webgpu ops that build on it, like `prod`). */
function plan(op: string, x: Tensor, axis: Axis | undefined, keepDims: boolean): ReductionPlan {
  checkTensor(op, 'x', x);
  // A 0-d tensor accepts axis 0 / -1 (as in PyTorch); there is nothing to reduce.
  const axes = normalizeAxes(op, axis, x.ndim).filter((a) => a < x.ndim);
  const strides = contiguousStrides(x.shape);
  const keptDims = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  return {
    axes,
    kept: reducedShape(x.shape, axes, true),
    shape: reducedShape(x.shape, axes, keepDims),
    base: offsets(keptDims, x.shape, strides),
    members: offsets(axes, x.shape, strides),
  };
}

/** Throws the DomainError of reductions that have no value over an empty group (max of nothing). */
function requireNonEmpty(op: string, x: Tensor, p: ReductionPlan): void {
  if (p.members.length > 0) return;
  const empty = p.axes.filter((a) => x.shape[a] === 0);
  throw new DomainError(
    op,
    `cannot reduce over zero elements: axis ${empty.join(', ')} of shape ${fmt(x.shape)} has size 0 ` +
      `(${op} of nothing has no value); reduce over non-empty axes or check the input`,
  );
}

/**
 * Mean over `axis` (a number, a list, negative counts from the end; all axes when omitted), like
 * `torch.mean`. The mean over zero elements is NaN (0/0), as in PyTorch. Accumulates in float64.
 *
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function mean(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  checkTensor('mean', 'x', x);
  const axes = normalizeAxes('mean', axis, x.ndim).filter((a) => a < x.ndim);
  const count = sizeOf(axes.map((a) => x.shape[a]!));
  const s = sum(x, axes, keepDims);
  return count === 1 ? s : div(s, count);
}

/**
 * The index (within the group, row-major over the reduced axes) and input offset of the extreme element
 * of every group: the first maximum (`sign` 1) or minimum (`sign` -1); the first NaN wins over numbers.
 */
function extremes(x: Tensor, p: ReductionPlan, sign: 1 | -1): { pos: Int32Array; values: Float64Array } {
  const data = x.data;
  const { base, members } = p;
  const pos = new Int32Array(base.length);
  const values = new Float64Array(base.length);
  const r = members.length;
  for (let o = 0; o < base.length; o++) {
    const b = base[o]!;
    let best = data[b + members[0]!]!;
    let at = 0;
    if (!Number.isNaN(best)) {
      for (let j = 1; j < r; j++) {
        const v = data[b + members[j]!]!;
        if (Number.isNaN(v)) {
          best = v;
          at = j;
          break;
        }
        if (sign > 0 ? v > best : v < best) {
          best = v;
          at = j;
        }
      }
    }
    pos[o] = at;
    values[o] = best;
  }
  return { pos, values };
}

/** The normalized axes and result shape of a reduction of a webgpu tensor. */
function deviceAxes(op: string, x: Tensor, axis: Axis | undefined, keepDims: boolean) {
  const axes = normalizeAxes(op, axis, x.ndim).filter((a) => a < x.ndim);
  return { axes, shape: reducedShape(x.shape, axes, keepDims) };
}

function extremeValue(op: 'max' | 'min', x: Tensor, axis: Axis | undefined, keepDims: boolean): Tensor {
  if (checkTensor(op, 'x', x).device === 'webgpu') {
    const { axes, shape } = deviceAxes(op, x, axis, keepDims);
    return deviceExtreme(op, x, axes, shape);
  }
  const p = plan(op, x, axis, keepDims);
  requireNonEmpty(op, x, p);
  const { pos, values } = extremes(x, p, op === 'max' ? 1 : -1);
  const data = allocate(x.dtype, values.length);
  data.set(values);
  return record1(op, [x], data, p.shape, (g) => {
    // The gradient goes to the selected element only: a constant one-hot mask times the broadcast gradient.
    const mask = allocate(x.dtype, x.size);
    for (let o = 0; o < pos.length; o++) mask[p.base[o]! + p.members[pos[o]!]!] = 1;
    return [mul(new Tensor(mask, x.shape), reshape(g, p.kept))];
  });
}

/**
 * Maximum over `axis` (a number, a list, negative counts from the end; all axes when omitted), like
 * `torch.amax`, NaN-propagating. The gradient flows to ONE element per group: the first maximum in
 * row-major order over the reduced axes (the element `argmax` returns) — PyTorch's `max(dim)` does the
 * same, while `amax` would split it evenly over ties.
 *
 * @throws DomainError when a reduced axis has size 0 (the maximum of nothing has no value)
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function max(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return extremeValue('max', x, axis, keepDims);
}

/**
 * Minimum over `axis`; see {@link max} (the gradient flows to the first minimum, the element `argmin`
 * returns).
 *
 * @throws DomainError when a reduced axis has size 0
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function min(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return extremeValue('min', x, axis, keepDims);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, axis: Axis | undefined, keepDims: boolean): Tensor {
  if (checkTensor(op, 'x', x).device === 'webgpu') {
    const { axes, shape } = deviceAxes(op, x, axis, keepDims);
    return deviceArgExtreme(op, x, axes, shape);
  }
  const p = plan(op, x, axis, keepDims);
  requireNonEmpty(op, x, p);
  if (x.dtype === 'float32' && p.members.length > 2 ** 24) {
    throw new DomainError(
      op,
      `groups of ${p.members.length} elements have indices above 2^24, which float32 cannot hold exactly; ` +
        `convert the input to float64`,
    );
  }
  const { pos } = extremes(x, p, op === 'argmax' ? 1 : -1);
  const data = allocate(x.dtype, pos.length);
  data.set(pos);
  return new Tensor(data, p.shape);
}

/**
 * Index of the maximum over `axis`, like `torch.argmax`: the first maximum (the first NaN, if any). With
 * one axis the index runs along it; with several (or all, the default) it is the flat row-major index
 * within the reduced axes, so `argmax(x)` indexes `x` flattened. Indices are stored in the input's dtype
 * (gradkit tensors are floating point) and carry no gradient.
 *
 * @throws DomainError when a reduced axis has size 0, or when float32 cannot hold the indices exactly
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function argmax(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return argExtreme('argmax', x, axis, keepDims);
}

/**
 * Index of the minimum over `axis`; see {@link argmax}.
 *
 * @throws DomainError when a reduced axis has size 0, or when float32 cannot hold the indices exactly
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function argmin(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return argExtreme('argmin', x, axis, keepDims);
}

/** out[i] = x.data[idx[i]] (or `fill` where idx[i] < 0); the adjoint of {@link scatterFlat}. */
function gatherFlat(x: Tensor, idx: Int32Array, shape: Shape, fill: number): Tensor {
  const src = x.data;
  const out = allocate(x.dtype, idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    out[i] = j < 0 ? fill : src[j]!;
  }
  const inShape = x.shape;
  return record1('prod_gather', [x], out, shape, (g) => [scatterFlat(g, idx, inShape)]);
}

/** out[idx[i]] += g[i] into zeros of `shape`; the adjoint of {@link gatherFlat}. */
function scatterFlat(g: Tensor, idx: Int32Array, shape: Shape): Tensor {
  const src = g.data;
  const out = allocate(g.dtype, sizeOf(shape));
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j >= 0) out[j] += src[i]!;
  }
  const gShape = g.shape;
  return record1('prod_scatter', [g], out, shape, (gg) => [gatherFlat(gg, idx, gShape, 0)]);
}

/**
 * Product over `axis` (a number, a list, negative counts from the end; all axes when omitted), like
 * `torch.prod`; the product of zero elements is 1.
 *
 * It is computed as a balanced tree of elementwise multiplications (groups padded with ones to a power of
 * two), so its gradient is exact with zeros in the input — the gradient of an element is the product of
 * the others, never a division by the element — and so are derivatives of every order. On webgpu the same
 * tree runs on the device (float32).
 *
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function prod(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  const p = plan('prod', x, axis, keepDims);
  const device = x.device === 'webgpu';
  // On webgpu the same tree runs as device gathers (index maps uploaded once per level) and multiplications.
  const gather = (t: Tensor, idx: Int32Array, shape: Shape, fill: number): Tensor =>
    device ? deviceGatherFlat(t, uploadIndices('prod', idx), shape, fill) : gatherFlat(t, idx, shape, fill);
  const groups = p.base.length;
  const count = p.members.length;
  let width = 1;
  while (width < count) width *= 2;
  const idx = new Int32Array(groups * width).fill(-1);
  for (let o = 0; o < groups; o++) {
    const b = p.base[o]!;
    for (let j = 0; j < count; j++) idx[o * width + j] = b + p.members[j]!;
  }
  let cur = gather(x, idx, [groups, width], 1);
  while (width > 1) {
    const half = width / 2;
    const left = new Int32Array(groups * half);
    const right = new Int32Array(groups * half);
    for (let o = 0; o < groups; o++) {
      for (let j = 0; j < half; j++) {
        left[o * half + j] = o * width + j;
        right[o * half + j] = o * width + half + j;
      }
    }
    cur = mul(gather(cur, left, [groups, half], 0), gather(cur, right, [groups, half], 0));
    width = half;
  }
  return device ? deviceView(cur, p.shape) : reshape(cur, p.shape);
}

/**
 * log(sum(exp(x))) over `axis`, like `torch.logsumexp`, computed stably: each group is shifted by its
 * maximum (by 0 when the maximum is infinite), and accumulated in float64. A group of only -inf (or an
 * empty group) gives -inf; +inf gives +inf; NaN propagates. The gradient is `g · exp(x − result)` (that is,
 * the softmax), built from tensor ops so it can be differentiated again; like PyTorch it is NaN in groups
 * whose result is -inf. On webgpu it runs in float32 on the device (see `deviceLogSumExp`).
 *
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function logSumExp(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  if (checkTensor('logSumExp', 'x', x).device === 'webgpu') {
    const { axes, shape } = deviceAxes('logSumExp', x, axis, keepDims);
    const kept = reducedShape(x.shape, axes, true);
    const out: Tensor = record1('logSumExp', [x], deviceLogSumExp(x, axes), shape, (g) => [
      logSumExpBackward(x, deviceView(out, kept), deviceView(g, kept)),
    ]);
    return out;
  }
  const p = plan('logSumExp', x, axis, keepDims);
  const data = allocate(x.dtype, p.base.length);
  const src = x.data;
  const { base, members } = p;
  const r = members.length;
  for (let o = 0; o < base.length; o++) {
    const b = base[o]!;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < r; j++) {
      const v = src[b + members[j]!]!;
      if (v > m) m = v;
    }
    if (m === Number.POSITIVE_INFINITY || m === Number.NEGATIVE_INFINITY) m = 0;
    let s = 0;
    for (let j = 0; j < r; j++) s += Math.exp(src[b + members[j]!]! - m);
    data[o] = Math.log(s) + m;
  }
  const out: Tensor = record1('logSumExp', [x], data, p.shape, (g) => [
    logSumExpBackward(x, reshape(out, p.kept), reshape(g, p.kept)),
  ]);
  return out;
}

/** `g · exp(x − out)` (the softmax times the gradient), with `out` and `g` in the kept shape. */
function logSumExpBackward(x: Tensor, out: Tensor, g: Tensor): Tensor {
  return expressionOp('logSumExp_backward', (xv, o, gv) => mulE(gv!, expE(subE(xv!, o!))), [x, out, g]);
}
