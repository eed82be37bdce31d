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

// Data: CSV loading, datasets and loaders, splits, feature scaling.

export {
  type ColumnRef,
  type CsvOptions,
  type CsvTable,
  type LabeledCsv,
  parseCsv,
  type UnlabeledCsv,
} from './data/csv.js';
export { loadCsv } from './data/csv-file.js';
export { type BatchDataset, TensorDataset } from './data/dataset.js';
export { DataLoader, type DataLoaderOptions } from './data/loader.js';
export { StandardScaler, type StandardScalerState } from './data/scaler.js';
export {
  type KeepEveryMthPositiveOptions,
  keepEveryMthPositive,
  moduloSplit,
  type SplitIndices,
  selectRows,
  type TensorSplit,
  type TrainTestSplitOptions,
  trainTestSplit,
} from './data/split.js';

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
