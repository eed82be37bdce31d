/**
 * Reductions of webgpu tensors (sum, max, min, argmax, argmin; mean is a sum and a division) as workgroup
 * tree reductions, and the device building blocks their backward passes and other device ops use: a view
 * with another shape, a broadcast copy, and the sum over broadcast dimensions (`sumTo`).
 */
import {
  abs as absE,
  add as addE,
  type DeviceArray,
  DomainError,
  eq as eqE,
  exp as expE,
  indicesToFloat,
  log as logE,
  type ReduceKind,
  reduceArray,
  ShapeError,
  selectionMask,
  sub as subE,
  variable,
  where as whereE,
} from '@gradkit/kernels';
import { webgpuRuntime } from './device.js';
import { mul } from './elementwise-ops.js';
import { reducedShape, sumToAxes } from './reduce-sum.js';
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  fmt,
  type Shape,
  sameShape,
  sizeOf,
} from './shape.js';
import { record1, Tensor } from './tensor.js';

const identity = [variable('x0')];

/** @internal a webgpu tensor holding `array` with `shape` (no graph). */
export function deviceTensor(array: DeviceArray, shape: Shape): Tensor {
  return new Tensor(array, [...shape]);
}

/**
 * @internal `x` (a webgpu tensor) with another shape of the same size, sharing its buffer; differentiable
 * (the gradient is viewed back). Device ops use it where the cpu code calls `reshape`.
 */
export function deviceView(x: Tensor, shape: Shape): Tensor {
  if (sizeOf(shape) !== x.size) {
    throw new ShapeError('reshape', `shape ${fmt(shape)} is invalid for input of size ${x.size}`);
  }
  if (sameShape(shape, x.shape)) return x;
  const inShape = x.shape;
  return record1('reshape', [x], x.deviceArray!, [...shape], (g) => [deviceView(g, inShape)]);
}

/**
 * @internal `x` (a webgpu tensor) broadcast to `shape` (NumPy rules), copied by one strided kernel;
 * differentiable (the gradient is summed back with {@link deviceSumTo}).
 *
 * @throws ShapeError when `x` does not broadcast to `shape`
 */
export function deviceExpand(x: Tensor, shape: Shape, op = 'broadcastTo'): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const out = broadcastShapes(op, x.shape, shape);
  if (!sameShape(out, shape)) {
    throw new ShapeError(op, `cannot broadcast shape ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  const [array] = webgpuRuntime(op).strided(op, identity, ['x0'], ['array'], [x.deviceArray!], shape, [
    broadcastStrides(x.shape, shape),
  ]);
  const inShape = x.shape;
  return record1(op, [x], array!, [...shape], (g) => [deviceSumTo(g, inShape)]);
}

/**
 * @internal the sum of `x` (a webgpu tensor) over `axes` (normalized: sorted, distinct), with the result
 * shaped `shape` (the kept dimensions, with or without the reduced ones as size 1, or any shape of that
 * size and layout). Differentiable: the gradient is broadcast back.
 */
export function deviceSum(x: Tensor, axes: readonly number[], shape: Shape, op = 'sum'): Tensor {
  const rt = webgpuRuntime(op);
  const { values } = reduceArray(rt, op, 'sum', x.deviceArray!, x.shape, axes);
  const inShape = x.shape;
  const kept = reducedShape(inShape, axes, true);
  return record1(op, [x], values, [...shape], (g) => [deviceExpand(deviceView(g, kept), inShape)]);
}

/**
 * @internal the sum of a webgpu gradient `g` over its broadcast dimensions, down to `shape` (the adjoint of
 * broadcasting; `g` itself when the shapes agree). Differentiable.
 *
 * @throws ShapeError when `shape` does not broadcast to `g`'s shape
 */
export function deviceSumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = sumToAxes(g.shape, shape);
  // Dropping leading and size-1 dimensions keeps the row-major layout: the kept result IS `shape`.
  return axes.length === 0 ? deviceView(g, shape) : deviceSum(g, axes, shape, 'sumTo');
}

/** As on the cpu: a reduction over an empty group has no value, even when there are no groups. */
function nonEmpty(op: string, x: Tensor, axes: readonly number[]): void {
  const empty = axes.filter((a) => x.shape[a] === 0);
  if (empty.length === 0) return;
  throw new DomainError(
    op,
    `cannot reduce over zero elements: axis ${empty.join(', ')} of shape ${fmt(x.shape)} has size 0 ` +
      `(${op} of nothing has no value); reduce over non-empty axes or check the input`,
  );
}

/**
 * @internal max / min of a webgpu tensor over `axes` (normalized), shaped `shape`; the gradient flows to
 * the first extreme of each group (the element argmax/argmin select), as on the cpu.
 */
export function deviceExtreme(op: 'max' | 'min', x: Tensor, axes: readonly number[], shape: Shape): Tensor {
  nonEmpty(op, x, axes);
  const rt = webgpuRuntime(op);
  const { values, index } = reduceArray(rt, op, op as ReduceKind, x.deviceArray!, x.shape, axes);
  const inShape = x.shape;
  const kept = reducedShape(inShape, axes, true);
  return record1(op, [x], values, [...shape], (g) => {
    const mask = deviceTensor(selectionMask(rt, `${op}_backward`, index!, inShape, axes), inShape);
    return [mul(mask, deviceView(g, kept))];
  });
}

/**
 * @internal argmax / argmin of a webgpu tensor over `axes` (normalized), shaped `shape`: the row-major
 * index within the reduced axes, as float32 (no gradient).
 *
 * @throws DomainError over empty groups, or when groups have more than 2^24 elements (float32 indices)
 */
export function deviceArgExtreme(
  op: 'argmax' | 'argmin',
  x: Tensor,
  axes: readonly number[],
  shape: Shape,
): Tensor {
  nonEmpty(op, x, axes);
  const count = sizeOf(axes.map((a) => x.shape[a]!));
  if (count > 2 ** 24) {
    throw new DomainError(
      op,
      `groups of ${count} elements have indices above 2^24, which float32 (the only dtype on webgpu) cannot hold exactly`,
    );
  }
  const rt = webgpuRuntime(op);
  const kind = op === 'argmax' ? 'max' : 'min';
  const { values, index } = reduceArray(rt, op, kind, x.deviceArray!, x.shape, axes);
  values.dispose();
  const out = indicesToFloat(rt, op, index!);
  index!.dispose();
  return deviceTensor(out, shape);
}

const [a0, a1] = [variable('x0'), variable('x1')];
/** The shift of a group: its maximum, or 0 when that is infinite (NaN stays). */
const lseShift = [whereE(eqE(absE(a0), Number.POSITIVE_INFINITY), 0, a0)];
const lseExp = [expE(subE(a0, a1))];
const lseResult = [addE(logE(a0), a1)];

/**
 * @internal the values of logSumExp of a webgpu tensor over `axes` (normalized), one per output: each group
 * shifted by its maximum (by 0 when that is infinite), as on the cpu, in float32 — a max reduction, one
 * broadcast kernel for exp(x − shift), a sum reduction, and one kernel for log(s) + shift. An empty group
 * gives -inf.
 */
export function deviceLogSumExp(x: Tensor, axes: readonly number[]): DeviceArray {
  const op = 'logSumExp';
  const rt = webgpuRuntime(op);
  const kept = reducedShape(x.shape, axes, true);
  const groups = sizeOf(kept);
  if (x.size === 0) return rt.upload(new Float32Array(groups).fill(Number.NEGATIVE_INFINITY), op);
  const { values: m, index } = reduceArray(rt, op, 'max', x.deviceArray!, x.shape, axes);
  index!.dispose();
  const [shift] = rt.elementwise(op, lseShift, ['x0'], ['array'], [false], [m], groups);
  m.dispose();
  const [e] = rt.strided(op, lseExp, ['x0', 'x1'], ['array', 'array'], [x.deviceArray!, shift!], x.shape, [
    contiguousStrides(x.shape),
    broadcastStrides(kept, x.shape),
  ]);
  const { values: s } = reduceArray(rt, op, 'sum', e!, x.shape, axes);
  e!.dispose();
  const [out] = rt.elementwise(
    op,
    lseResult,
    ['x0', 'x1'],
    ['array', 'array'],
    [false, false],
    [s, shift!],
    groups,
  );
  s.dispose();
  shift!.dispose();
  return out!;
}
