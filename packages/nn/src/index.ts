/**
 * @gradkit/nn — the training toolkit: modules and layers, optimizers and learning-rate schedulers, data
 * loading, metrics and safetensors checkpoints, on top of @gradkit/autograd and @gradkit/losses.
 *
 * @packageDocumentation
 */

/** Classification metrics with scikit-learn's definitions: `metrics.rocAucScore(yTrue, yScore)`, … */
export * as metrics from './metrics/index.js';
