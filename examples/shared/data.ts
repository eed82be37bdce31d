import type { Tensor } from '@gradkit/autograd';
import { keepEveryMthPositive, loadCsv, moduloSplit, StandardScaler, selectRows } from '@gradkit/nn';

/** The example datasets of examples/data/ (see DATASETS.md there for provenance and recipes). */
export type DatasetName = 'breast_cancer' | 'digits' | 'spambase';

/** The path of one of the example datasets. */
export function datasetUrl(name: DatasetName): URL {
  return new URL(`../data/${name}.csv`, import.meta.url);
}

/** Options of {@link loadSplit}. */
export interface LoadSplitOptions {
  /** Applied to the raw features of every row before scaling (e.g. `log1p` for spambase, `÷16` for digits). */
  preprocess?: (features: Tensor) => Tensor;
  /** "Keep every M-th positive" (DATASETS.md), applied before the split; binary labels only. */
  keepEveryMthPositive?: number;
}

/** A dataset split into train and test rows, with features z-scored by statistics of the train rows. */
export interface Split {
  /** The feature column names. */
  columns: readonly string[];
  /** Standardized train features, [nTrain, d]. */
  trainX: Tensor;
  /** Train labels, [nTrain] (as in the file: 0/1, or 0…9 for digits). */
  trainY: Tensor;
  /** Standardized test features, [nTest, d]. */
  testX: Tensor;
  /** Test labels, [nTest]. */
  testY: Tensor;
  /** The scaler, fitted on the train rows only. */
  scaler: StandardScaler;
  /** The test rows' features before scaling (after `preprocess`), to check a reloaded checkpoint end to end. */
  rawTestX: Tensor;
}

/**
 * Loads one of the example datasets with the deterministic recipe of DATASETS.md: optional subsampling
 * ("keep every M-th positive"), then row `i` is a test row iff `i % 5 == 0`, then z-scores with the mean and
 * standard deviation of the train rows only.
 */
export async function loadSplit(name: DatasetName, options: LoadSplitOptions = {}): Promise<Split> {
  const table = await loadCsv(datasetUrl(name));
  let features = options.preprocess ? options.preprocess(table.features) : table.features;
  let labels = table.labels;
  if (options.keepEveryMthPositive !== undefined) {
    [features, labels] = selectRows(
      [features, labels],
      keepEveryMthPositive(labels, options.keepEveryMthPositive),
    );
  }
  const { train, test } = moduloSplit(labels.shape[0]!);
  const [rawTrainX, trainY] = selectRows([features, labels], train);
  const [rawTestX, testY] = selectRows([features, labels], test);
  const scaler = new StandardScaler();
  return {
    columns: table.columns,
    trainX: scaler.fitTransform(rawTrainX),
    trainY,
    testX: scaler.transform(rawTestX),
    testY,
    scaler,
    rawTestX,
  };
}

/** The number of rows equal to 1 and to 0 in a label vector. */
export function countClasses(labels: Tensor): { positives: number; negatives: number } {
  let positives = 0;
  for (const v of labels.data) if (v === 1) positives++;
  return { positives, negatives: labels.shape[0]! - positives };
}
