/**
 * @gradkit/testing — check your own ops: `gradcheck` / `gradgradcheck` against central finite differences
 * (PyTorch's defaults), and fast-check arbitraries for scalars (and, later, tensors).
 *
 * @packageDocumentation
 */
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
export { EDGE_VALUES, type ScalarOptions, scalar, smoothScalar } from './arbitraries.js';
