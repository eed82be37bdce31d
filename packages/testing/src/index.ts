/**
 * @gradkit/testing — check your own ops: `gradcheck` / `gradgradcheck` against central finite differences
 * (PyTorch's defaults), fast-check arbitraries for scalars and for tensors (shapes, broadcast-compatible
 * shapes, tensors of a dtype and value range), and seeded property settings.
 *
 * @packageDocumentation
 */

export { EDGE_VALUES, type ScalarOptions, scalar, smoothScalar } from './arbitraries.js';
export {
  type BroadcastShapesOptions,
  broadcastShapes,
  type ShapeOptions,
  shape,
  type TensorOptions,
  tensorOf,
  tensorsOf,
} from './arbitraries-tensor.js';
export {
  checkJacobian,
  describeWorst,
  GradcheckFailure,
  type GradcheckOptions,
  type GradcheckReport,
  type GradcheckWorst,
  gradcheck,
  gradgradcheck,
  type JacobianProblem,
} from './gradcheck.js';
export { gradcheckTensor, gradgradcheckTensor, type TensorFunction } from './gradcheck-tensor.js';
export { type HeapGrowth, type HeapGrowthOptions, measureHeapGrowth } from './heap.js';
export { DEFAULT_SEED, type PropertyConfig, type PropertyConfigOptions, propertyConfig } from './property.js';
