import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromArray, type Tensor } from '@gradkit/autograd';
import { expect } from 'vitest';

/** A number as stored in sklearn.json (non-finite numbers as strings). */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** A scikit-learn call's outcome: its value (and the warning classes it raised) or its ValueError. */
export type Outcome<T> = { value: T; warnings?: string[] } | { error: string };

/** The metrics at one threshold. */
export interface AtThreshold {
  threshold: number;
  accuracy: Outcome<number>;
  zero_division_0: { precision: Outcome<number>; recall: Outcome<number>; f1: Outcome<number> };
  zero_division_1: { precision: Outcome<number>; recall: Outcome<number>; f1: Outcome<number> };
  confusion_matrix: Outcome<number[][]>;
}

/** A binary case: inputs and every scikit-learn output. */
export interface BinaryCase {
  id: string;
  note?: string;
  y_true: number[];
  y_score: number[];
  sample_weight: number[] | null;
  at_threshold: AtThreshold[];
  /** [fpr, tpr, thresholds] */
  roc_curve: Outcome<JsonNumber[][]>;
  roc_curve_all: Outcome<JsonNumber[][]>;
  roc_auc: Outcome<JsonNumber>;
  /** [precision, recall, thresholds] */
  pr_curve: Outcome<JsonNumber[][]>;
  average_precision: Outcome<JsonNumber>;
  log_loss?: Outcome<number>;
}

/** A confusion-matrix case. */
export interface MulticlassCase {
  id: string;
  y_true: number[];
  y_pred: number[];
  labels: number[] | null;
  sample_weight: number[] | null;
  normalize: 'true' | 'pred' | 'all' | null;
  confusion_matrix: Outcome<number[][]>;
}

/** An `auc(x, y)` case. */
export interface AucCase {
  id: string;
  x: number[];
  y: number[];
  auc: Outcome<number>;
}

/** The whole fixture. */
export interface SklearnFixture {
  meta: { sklearn: string; numpy: string; seed: number; notes: string[] };
  binary: BinaryCase[];
  multiclass: MulticlassCase[];
  auc: AucCase[];
}

/** Reads fixtures/metrics/sklearn.json (made by make_sklearn_metrics.py; never runs Python). */
export function loadSklearn(): SklearnFixture {
  const path = fileURLToPath(new URL('./fixtures/metrics/sklearn.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as SklearnFixture;
}

/** Decodes a JSON number. */
export function num(v: JsonNumber): number {
  return typeof v === 'number' ? v : v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : -Infinity;
}

/** The relative tolerance of every comparison with scikit-learn. */
export const RTOL = 1e-12;

/** Expects `actual` within RTOL (relative) of `expected` (exactly 0 where expected is 0). */
export function expectClose(actual: number, expected: JsonNumber, what: string): void {
  const e = num(expected);
  if (Number.isNaN(e)) {
    expect(actual, what).toBeNaN();
    return;
  }
  const ok = actual === e || Math.abs(actual - e) <= RTOL * Math.abs(e);
  expect(ok, `${what}: got ${actual}, scikit-learn ${e}`).toBe(true);
}

/** Elementwise {@link expectClose}, same length. */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: readonly JsonNumber[],
  what: string,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i]!, expected[i]!, `${what}[${i}]`);
}

/** The input kinds every metric accepts; the fixture tests rotate through them. */
export const INPUT_KINDS = ['array', 'Float64Array', 'Tensor float64', 'Tensor [n, 1]'] as const;

/** `values` as the `kind`-th input kind. */
export function asInput(
  values: number[],
  kind: (typeof INPUT_KINDS)[number],
): number[] | Float64Array | Tensor {
  switch (kind) {
    case 'array':
      return [...values];
    case 'Float64Array':
      return Float64Array.from(values);
    case 'Tensor float64':
      return fromArray(values, [values.length], { dtype: 'float64' });
    case 'Tensor [n, 1]':
      return fromArray(values, [values.length, 1], { dtype: 'float64' });
  }
}
