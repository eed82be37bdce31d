/**
 * Method forms of matmul, the reductions beyond `sum`, and softmax (`a.matmul(b)`, `x.mean(1)`,
 * `logits.logSoftmax(-1)`), attached to the Tensor prototype.
 */
import { matmul } from './matmul.js';
import { type Axis, argmax, argmin, logSumExp, max, mean, min, prod } from './reduce.js';
import { logSoftmax, softmax } from './softmax.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** matrix product with other (see the `matmul` function) */ matmul(other: Tensor): Tensor;
    /** mean over axis (all when omitted) */ mean(axis?: Axis, keepDims?: boolean): Tensor;
    /** maximum over axis (all when omitted) */ max(axis?: Axis, keepDims?: boolean): Tensor;
    /** minimum over axis (all when omitted) */ min(axis?: Axis, keepDims?: boolean): Tensor;
    /** product over axis (all when omitted) */ prod(axis?: Axis, keepDims?: boolean): Tensor;
    /** log(sum(exp(this))) over axis, stably */ logSumExp(axis?: Axis, keepDims?: boolean): Tensor;
    /** index of the first maximum over axis (flat when omitted) */ argmax(
      axis?: Axis,
      keepDims?: boolean,
    ): Tensor;
    /** index of the first minimum over axis (flat when omitted) */ argmin(
      axis?: Axis,
      keepDims?: boolean,
    ): Tensor;
    /** softmax along axis (default -1) */ softmax(axis?: number): Tensor;
    /** log-softmax along axis (default -1) */ logSoftmax(axis?: number): Tensor;
  }
}

const P = Tensor.prototype;
P.matmul = function (other) {
  return matmul(this, other);
};
P.mean = function (axis, keepDims = false) {
  return mean(this, axis, keepDims);
};
P.max = function (axis, keepDims = false) {
  return max(this, axis, keepDims);
};
P.min = function (axis, keepDims = false) {
  return min(this, axis, keepDims);
};
P.prod = function (axis, keepDims = false) {
  return prod(this, axis, keepDims);
};
P.logSumExp = function (axis, keepDims = false) {
  return logSumExp(this, axis, keepDims);
};
P.argmax = function (axis, keepDims = false) {
  return argmax(this, axis, keepDims);
};
P.argmin = function (axis, keepDims = false) {
  return argmin(this, axis, keepDims);
};
P.softmax = function (axis = -1) {
  return softmax(this, axis);
};
P.logSoftmax = function (axis = -1) {
  return logSoftmax(this, axis);
};
