/**
 * @gradkit/nn — the training toolkit: modules and layers, optimizers and learning-rate schedulers, data
 * loading, metrics and safetensors checkpoints, on top of @gradkit/autograd and @gradkit/losses.
 *
 * @packageDocumentation
 */

// Modules, layers and initialisers.
export * as init from './init.js';
export * from './layers/index.js';
export {
  buffer,
  isBuffer,
  isParameter,
  type LoadResult,
  Module,
  parameter,
  type StateDict,
} from './module.js';

// Optimizers, gradient clipping and learning-rate schedulers.
export * from './optim/index.js';
