/**
 * @gradkit/losses — binary-classification losses as fused graph nodes: PyTorch's BCE and BCEWithLogits, the
 * focal family (YOLOv5 focal and quality focal, torchvision's sigmoid focal, varifocal, asymmetric, poly-1),
 * and {@link defineModulatedLoss} to define new ones by their modulating factor alone. Every loss is one
 * graph node with one fused forward loop and one fused backward loop; gradients and higher derivatives are
 * derived from the loss's expression.
 *
 * @packageDocumentation
 */
export { BCE_GRAD_EPSILON, bce } from './bce.js';
export { type BceWithLogitsOptions, bceWithLogits } from './bce-with-logits.js';
export { BCELoss, BCEWithLogitsLoss, FocalLoss } from './classes.js';
export {
  type AslParams,
  type AsymmetricOptions,
  asymmetric,
  focal,
  poly1,
  qfocal,
  sigmoidFocal,
  varifocal,
} from './focal.js';
export {
  defineModulatedLoss,
  type FactorParams,
  type ModulatedLoss,
  type ModulatedLossDefinition,
  type ModulatedLossOptions,
  type ParamRanges,
  type ParamValues,
  PROGRAM_CACHE_CAPACITY,
  type QuantityFunction,
} from './modulated.js';
export { checkReduction, type LossOptions, type Reduction } from './options.js';
export type { LossProgram } from './program.js';
export { type Quantities, stabilize } from './quantities.js';
export { runLoss } from './run.js';
