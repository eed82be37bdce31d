/**
 * The tensor engine: the Tensor type, creation, elementwise ops (fused through generated loops), reductions,
 * shape ops, and reverse-mode autograd with higher-order gradients.
 */
import './methods.js';
import './methods-inplace.js';
import './methods-reduce.js';
import './methods-shape.js';
import './methods-stats.js';
import './methods-device.js';

export { detectAnomaly, isAnomalyEnabled, setDetectAnomaly } from './anomaly.js';
export { toDtype } from './cast.js';
export {
  arange,
  type CreateOptions,
  eye,
  fromArray,
  full,
  linspace,
  ones,
  onesLike,
  type RandomOptions,
  rand,
  randint,
  randn,
  type ShapeLike,
  scalarTensor,
  tensor,
  zeros,
  zerosLike,
} from './creation.js';
export type { NumericTypedArray, TensorData } from './data.js';
export {
  getDefaultDevice,
  initWebGPU,
  memory,
  pooledMemory,
  releasePool,
  setDefaultDevice,
  setPoolLimit,
} from './device.js';
export { keep, tidy } from './device-scope.js';
export {
  allocate,
  allocateOutput,
  DEFAULT_DTYPE,
  type DType,
  promoteTypes,
  requireSameDtype,
  type Storage,
} from './dtype.js';
export {
  applyElementwise,
  ElementwiseSpec,
  elementwiseSpec,
  expressionOp,
  type FusedFunction,
  fuse,
  fuseMany,
  inputVariable,
  primitiveOp,
} from './elementwise.js';
export * from './elementwise-ops.js';
export { type BackwardOptions, backward, type GradOptions, grad } from './engine.js';
export { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
export {
  add_,
  addcdiv_,
  addcmul_,
  clamp_,
  copy_,
  div_,
  fill_,
  fuseInPlace,
  type InPlaceArg,
  type InPlaceFunction,
  lerp_,
  markModified,
  maximum_,
  mul_,
  sub_,
  zero_,
} from './inplace.js';
export { linear, type MatmulKernel, matmul, matmulKernel, setMatmulKernel } from './matmul.js';
export { type Grads, Node } from './node.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export { type Axis, argmax, argmin, logSumExp, max, mean, min, prod } from './reduce.js';
export { reducedShape, sum, sumTo } from './reduce-sum.js';
export {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  fmt as formatShape,
  MAX_ELEMENTS,
  MAX_RANK,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  sameShape,
  sizeOf,
} from './shape.js';
export {
  chunk,
  concat,
  flatten,
  gather,
  type IndexLike,
  type IndexSpec,
  index,
  indexAdd,
  indexSelect,
  permute,
  repeat,
  type SliceSpec,
  scatterAdd,
  slice,
  split,
  squeeze,
  stack,
  t,
  tile,
  transpose,
  unsqueeze,
} from './shape-ops/index.js';
export { logSoftmax, softmax } from './softmax.js';
export { norm, std, type VarianceOptions, variance } from './stats.js';
export {
  checkCpuTensor,
  checkTensor,
  type Device,
  type GradHook,
  type NestedArray,
  record,
  record1,
  Tensor,
} from './tensor.js';
export { broadcastTo, clone, reshape } from './view.js';
