/**
 * @gradkit/testing — check your own ops: `gradcheck` / `gradgradcheck` against central finite differences
 * (PyTorch's defaults), fast-check arbitraries for scalars (and, later, tensors), and seeded property settings.
 *
 * @packageDocumentation
 */

export { EDGE_VALUES, type ScalarOptions, scalar, smoothScalar } from './arbitraries.js';
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
export { DEFAULT_SEED, type PropertyConfig, type PropertyConfigOptions, propertyConfig } from './property.js';
