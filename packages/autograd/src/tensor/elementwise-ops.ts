import { ArgumentError, gt as gtE, lt as ltE, where as whereE } from '@gradkit/kernels';
import { expressionOp, primitiveOp } from './elementwise.js';
import type { Tensor } from './tensor.js';

const E = { lt: ltE, gt: gtE, where: whereE };

/** A tensor, or a number broadcast as a constant of the tensor's dtype. */
export type TensorLike = Tensor | number;

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('add', [a, b]);
/** a - b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('sub', [a, b]);
/** a * b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('mul', [a, b]);
/** a / b, broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('div', [a, b]);
/** a ** b, broadcasting (tensor or constant exponent; see the `pow` primitive for the derivative at 0). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('pow', [a, b]);
/** Elementwise minimum (NaN-propagating; ties split the gradient). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('min', [a, b], 'minimum');
/** Elementwise maximum (NaN-propagating; ties split the gradient). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('max', [a, b], 'maximum');
/** -x */
export const neg = (x: Tensor): Tensor => primitiveOp('neg', [x]);
/** e^x */
export const exp = (x: Tensor): Tensor => primitiveOp('exp', [x]);
/** natural log */
export const log = (x: Tensor): Tensor => primitiveOp('log', [x]);
/** log(1 + x) */
export const log1p = (x: Tensor): Tensor => primitiveOp('log1p', [x]);
/** e^x - 1 */
export const expm1 = (x: Tensor): Tensor => primitiveOp('expm1', [x]);
/** square root */
export const sqrt = (x: Tensor): Tensor => primitiveOp('sqrt', [x]);
/** |x| */
export const abs = (x: Tensor): Tensor => primitiveOp('abs', [x]);
/** sign(x) */
export const sign = (x: Tensor): Tensor => primitiveOp('sign', [x]);
/** logistic sigmoid (stable) */
export const sigmoid = (x: Tensor): Tensor => primitiveOp('sigmoid', [x]);
/** log(1 + e^x) (stable) */
export const softplus = (x: Tensor): Tensor => primitiveOp('softplus', [x]);
/** log(sigmoid(x)) (stable) */
export const logSigmoid = (x: Tensor): Tensor => primitiveOp('logSigmoid', [x]);
/** hyperbolic tangent */
export const tanh = (x: Tensor): Tensor => primitiveOp('tanh', [x]);
/** the error function erf(x) (exact GELU uses it) */
export const erf = (x: Tensor): Tensor => primitiveOp('erf', [x]);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => primitiveOp('relu', [x]);
/** x² */
export const square = (x: Tensor): Tensor => primitiveOp('pow', [x, 2], 'square');
/** 1 / x */
export const reciprocal = (x: Tensor): Tensor => primitiveOp('div', [1, x], 'reciprocal');
/** 1 where a < b, else 0 (no gradient). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('lt', [a, b]);
/** 1 where a <= b, else 0 (no gradient). */
export const le = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('le', [a, b]);
/** 1 where a > b, else 0 (no gradient). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('gt', [a, b]);
/** 1 where a >= b, else 0 (no gradient). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('ge', [a, b]);
/** 1 where a == b, else 0 (no gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('eq', [a, b]);
/** 1 where a != b, else 0 (no gradient). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('ne', [a, b]);
/** 1 where both a and b are non-zero, else 0 (NaN counts as non-zero; no gradient). */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('and', [a, b], 'logicalAnd');
/** 1 where a or b is non-zero, else 0 (NaN counts as non-zero; no gradient). */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => primitiveOp('or', [a, b], 'logicalOr');
/** 1 where x is zero, else 0 (no gradient). */
export const logicalNot = (x: Tensor): Tensor => primitiveOp('not', [x], 'logicalNot');
/** a where cond != 0, else b, broadcasting all three; no gradient flows to `cond`. */
export const where = (cond: TensorLike, a: TensorLike, b: TensorLike): Tensor =>
  primitiveOp('where', [cond, a, b]);

/**
 * Clamps into [min, max] (either bound may be omitted; bounds may be tensors), like `torch.clamp`:
 * `min(max(x, min), max)`, so where min > max every element becomes max (as in PyTorch). The gradient flows
 * to `x` where min <= x <= max (bounds included, as in PyTorch) and to a tensor bound where it is the
 * result. NaN stays NaN.
 *
 * @throws ArgumentError when both bounds are omitted
 */
export function clamp(x: Tensor, min?: TensorLike, max?: TensorLike): Tensor {
  if (min === undefined && max === undefined)
    throw new ArgumentError('clamp', "at least one of 'min' or 'max' must be given");
  if (max === undefined) return expressionOp('clamp', (v, lo) => E.where(E.lt(v!, lo!), lo!, v!), [x, min!]);
  if (min === undefined) return expressionOp('clamp', (v, hi) => E.where(E.gt(v!, hi!), hi!, v!), [x, max]);
  return expressionOp(
    'clamp',
    (v, lo, hi) => {
      const low = E.where(E.lt(v!, lo!), lo!, v!);
      return E.where(E.gt(low, hi!), hi!, low);
    },
    [x, min, max],
  );
}
