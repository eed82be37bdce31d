/**
 * Helpers shared by the examples (not a published package): loading the example datasets with the
 * DATASETS.md recipes, the training loop, binary metrics, progress reporting, tables, and Vega-Lite plots
 * rendered to SVG in Node.
 *
 * @packageDocumentation
 */
export { type BinaryMetrics, bestF1, binaryMetrics } from './binary.js';
export {
  countClasses,
  type DatasetName,
  datasetUrl,
  type LoadSplitOptions,
  loadSplit,
  type Split,
} from './data.js';
export { type EpochRecord, type FitOptions, fit, mlp, predict } from './fit.js';
export {
  confusionChart,
  type LineChartOptions,
  lineChart,
  renderSvg,
  type Series,
  writePlot,
} from './plots.js';
export { defaultIO, EpochProgress, type ExampleIO, formatStats } from './progress.js';
export { type Cell, formatTable, seconds } from './table.js';
