/**
 * @gradkit/nn — the training toolkit: modules and layers, optimizers and learning-rate schedulers, data
 * loading, metrics and safetensors checkpoints, on top of @gradkit/autograd and @gradkit/losses.
 *
 * @packageDocumentation
 */

// Checkpoints: safetensors read and write.
export {
  loadSafetensors,
  loadSafetensorsFile,
  MAX_HEADER_BYTES,
  type SafetensorsContents,
} from './checkpoint/safetensors-read.js';
export {
  type SafetensorsInput,
  type SaveSafetensorsOptions,
  saveSafetensors,
  saveSafetensorsFile,
} from './checkpoint/safetensors-write.js';

/** Classification metrics with scikit-learn's definitions: `metrics.rocAucScore(yTrue, yScore)`, … */
export * as metrics from './metrics/index.js';
