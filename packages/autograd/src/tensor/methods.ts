/**
 * Method forms of the core tensor ops (`a.add(b)`, `x.sum(1)`, `loss.backward()`), attached to the Tensor
 * prototype. Each op area keeps its methods in its own `methods-*.ts` file next to its functions.
 */
import type { DType } from './dtype.js';
import type { TensorLike } from './elementwise-ops.js';
import * as ew from './elementwise-ops.js';
import { type BackwardOptions, backward } from './engine.js';
import { sum } from './reduce-sum.js';
import { Tensor } from './tensor.js';
import { broadcastTo, reshape } from './view.js';

declare module './tensor.js' {
  interface Tensor {
    /** this + other (broadcasting) */ add(other: TensorLike): Tensor;
    /** this - other (broadcasting) */ sub(other: TensorLike): Tensor;
    /** this * other (broadcasting) */ mul(other: TensorLike): Tensor;
    /** this / other (broadcasting) */ div(other: TensorLike): Tensor;
    /** this ** exponent (broadcasting) */ pow(exponent: TensorLike): Tensor;
    /** elementwise minimum with other */ minimum(other: TensorLike): Tensor;
    /** elementwise maximum with other */ maximum(other: TensorLike): Tensor;
    /** -this */ neg(): Tensor;
    /** e^this */ exp(): Tensor;
    /** natural log */ log(): Tensor;
    /** log(1 + this) */ log1p(): Tensor;
    /** e^this - 1 */ expm1(): Tensor;
    /** square root */ sqrt(): Tensor;
    /** |this| */ abs(): Tensor;
    /** sign(this) */ sign(): Tensor;
    /** logistic sigmoid */ sigmoid(): Tensor;
    /** log(1 + e^this) */ softplus(): Tensor;
    /** log(sigmoid(this)) */ logSigmoid(): Tensor;
    /** hyperbolic tangent */ tanh(): Tensor;
    /** the error function */ erf(): Tensor;
    /** max(this, 0) */ relu(): Tensor;
    /** this² */ square(): Tensor;
    /** 1 / this */ reciprocal(): Tensor;
    /** clamp into [min, max] */ clamp(min?: TensorLike, max?: TensorLike): Tensor;
    /** 1 where this < other */ lt(other: TensorLike): Tensor;
    /** 1 where this <= other */ le(other: TensorLike): Tensor;
    /** 1 where this > other */ gt(other: TensorLike): Tensor;
    /** 1 where this >= other */ ge(other: TensorLike): Tensor;
    /** 1 where this == other */ eq(other: TensorLike): Tensor;
    /** 1 where this != other */ ne(other: TensorLike): Tensor;
    /** 1 where this and other are both non-zero */ logicalAnd(other: TensorLike): Tensor;
    /** 1 where this or other is non-zero */ logicalOr(other: TensorLike): Tensor;
    /** 1 where this is zero */ logicalNot(): Tensor;
    /** this where cond != 0, else other (PyTorch's `x.where(cond, y)`) */ where(
      cond: TensorLike,
      other: TensorLike,
    ): Tensor;
    /** this converted to `dtype` (this itself when it already has it); differentiable */ to(
      dtype: DType,
    ): Tensor;
    /** sum over axis (all when omitted) */ sum(
      axis?: number | readonly number[],
      keepDims?: boolean,
    ): Tensor;
    /** the same elements in a new shape (one -1 allowed): `x.reshape(2, 3)` or `x.reshape([2, 3])` */
    reshape(...shape: number[]): Tensor;
    /** the same, with the shape as one list */
    reshape(shape: readonly number[]): Tensor;
    /** alias of reshape (storage is always contiguous): `x.view(2, 3)` or `x.view([2, 3])` */
    view(...shape: number[]): Tensor;
    /** the same, with the shape as one list */
    view(shape: readonly number[]): Tensor;
    /** broadcast to a shape (copies) */ broadcastTo(shape: readonly number[]): Tensor;
    /** alias of broadcastTo; -1 keeps a dimension: `x.expand(2, -1)` or `x.expand([2, -1])` */
    expand(...shape: number[]): Tensor;
    /** the same, with the shape as one list */
    expand(shape: readonly number[]): Tensor;
    /** backpropagate (see the `backward` function) */ backward(
      gradient?: Tensor | null,
      opts?: BackwardOptions,
    ): void;
  }
}

/**
 * The sizes of a method that, like PyTorch's, takes them either spread (`x.reshape(2, 3)`) or as one list
 * (`x.reshape([2, 3])`).
 */
export function sizesArg(args: ReadonlyArray<number | readonly number[]>): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
}

const P = Tensor.prototype;
P.add = function (o) {
  return ew.add(this, o);
};
P.sub = function (o) {
  return ew.sub(this, o);
};
P.mul = function (o) {
  return ew.mul(this, o);
};
P.div = function (o) {
  return ew.div(this, o);
};
P.pow = function (o) {
  return ew.pow(this, o);
};
P.minimum = function (o) {
  return ew.minimum(this, o);
};
P.maximum = function (o) {
  return ew.maximum(this, o);
};
P.neg = function () {
  return ew.neg(this);
};
P.exp = function () {
  return ew.exp(this);
};
P.log = function () {
  return ew.log(this);
};
P.log1p = function () {
  return ew.log1p(this);
};
P.expm1 = function () {
  return ew.expm1(this);
};
P.sqrt = function () {
  return ew.sqrt(this);
};
P.abs = function () {
  return ew.abs(this);
};
P.sign = function () {
  return ew.sign(this);
};
P.sigmoid = function () {
  return ew.sigmoid(this);
};
P.softplus = function () {
  return ew.softplus(this);
};
P.logSigmoid = function () {
  return ew.logSigmoid(this);
};
P.tanh = function () {
  return ew.tanh(this);
};
P.erf = function () {
  return ew.erf(this);
};
P.relu = function () {
  return ew.relu(this);
};
P.square = function () {
  return ew.square(this);
};
P.reciprocal = function () {
  return ew.reciprocal(this);
};
P.clamp = function (min, max) {
  return ew.clamp(this, min, max);
};
P.lt = function (o) {
  return ew.lt(this, o);
};
P.le = function (o) {
  return ew.le(this, o);
};
P.gt = function (o) {
  return ew.gt(this, o);
};
P.ge = function (o) {
  return ew.ge(this, o);
};
P.eq = function (o) {
  return ew.eq(this, o);
};
P.ne = function (o) {
  return ew.ne(this, o);
};
P.logicalAnd = function (o) {
  return ew.logicalAnd(this, o);
};
P.logicalOr = function (o) {
  return ew.logicalOr(this, o);
};
P.logicalNot = function () {
  return ew.logicalNot(this);
};
P.where = function (cond, other) {
  return ew.where(cond, this, other);
};
// `to` (dtype or device) is installed by methods-device.ts.
P.sum = function (axis, keepDims = false) {
  return sum(this, axis, keepDims);
};
P.reshape = function (this: Tensor, ...shape: Array<number | readonly number[]>) {
  return reshape(this, sizesArg(shape));
} as Tensor['reshape'];
P.view = function (this: Tensor, ...shape: Array<number | readonly number[]>) {
  return reshape(this, sizesArg(shape));
} as Tensor['view'];
P.broadcastTo = function (shape) {
  return broadcastTo(this, shape);
};
P.expand = function (this: Tensor, ...args: Array<number | readonly number[]>) {
  const shape = sizesArg(args);
  if (!Array.isArray(shape)) return broadcastTo(this, shape);
  const off = shape.length - this.ndim;
  return broadcastTo(
    this,
    shape.map((d, i) => (d === -1 && i >= off ? this.shape[i - off]! : d)),
  );
} as Tensor['expand'];
P.backward = function (gradient, opts) {
  backward(this, gradient, opts);
};
