import { ArgumentError, DomainError, fromArray, type GradkitError, ShapeError } from '@gradkit/autograd';
import { metrics } from '@gradkit/nn';
import { describe, expect, test } from 'vitest';

type AnyMetric = (yTrue: unknown, yScore: unknown, options?: unknown) => unknown;
const call = (f: unknown) => f as AnyMetric;

/** Every metric of (yTrue, yScore) with binary labels, and the op name it reports. */
const BINARY: ReadonlyArray<readonly [string, AnyMetric]> = [
  ['metrics.accuracy', call(metrics.accuracy)],
  ['metrics.precision', call(metrics.precision)],
  ['metrics.recall', call(metrics.recall)],
  ['metrics.f1Score', call(metrics.f1Score)],
  ['metrics.rocCurve', call(metrics.rocCurve)],
  ['metrics.rocAucScore', call(metrics.rocAucScore)],
  ['metrics.precisionRecallCurve', call(metrics.precisionRecallCurve)],
  ['metrics.averagePrecisionScore', call(metrics.averagePrecisionScore)],
  ['metrics.logLoss', call(metrics.logLoss)],
];

/** Runs `f`, expects a GradkitError of class `cls` from `op` whose message matches `pattern`. */
function expectError(f: () => unknown, cls: typeof GradkitError, op: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  const err = caught as GradkitError;
  expect(err.op).toBe(op);
  expect(err.message).toMatch(pattern);
}

describe.each(BINARY)('%s refuses bad input with a typed error', (op, f) => {
  const y = [0, 1, 1, 0];
  const s = [0.1, 0.8, 0.6, 0.3];
  test('lengths differ: ShapeError naming both arguments', () => {
    expectError(
      () => f(y, [0.1, 0.2, 0.3]),
      ShapeError,
      op,
      /'y(Score|Prob)' has 3 elements but 'yTrue' has 4/,
    );
    expectError(() => f(y, s, { sampleWeight: [1, 1] }), ShapeError, op, /'sampleWeight' has 2 elements/);
  });
  test('labels outside {0, 1} (2, 0.5, -1, NaN): DomainError naming the element', () => {
    for (const bad of [2, 0.5, -1, Number.NaN]) {
      expectError(() => f([0, 1, bad, 0], s), DomainError, op, new RegExp(`element 2 is ${bad}`));
    }
  });
  test('a NaN score: DomainError naming the element', () => {
    expectError(() => f(y, [0.1, Number.NaN, 0.6, 0.3]), DomainError, op, /element 1 is NaN/);
  });
  test('empty input: DomainError', () => {
    expectError(() => f([], []), DomainError, op, /'yTrue' is empty/);
  });
  test('a negative, NaN or infinite sample weight: DomainError', () => {
    for (const bad of [-1, Number.NaN, Infinity]) {
      expectError(
        () => f(y, s, { sampleWeight: [1, bad, 1, 1] }),
        DomainError,
        op,
        /'sampleWeight'.*element 1/,
      );
    }
  });
  test('a Tensor of shape [2, 2], a string, null, a hole: ShapeError / ArgumentError', () => {
    expectError(() => f(fromArray(y, [2, 2]), s), ShapeError, op, /shape \[n\] or \[n, 1\], got \[2, 2\]/);
    expectError(() => f('0110', s), ArgumentError, op, /'yTrue' must be an array of numbers or a Tensor/);
    expectError(() => f(y, null), ArgumentError, op, /got null/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expectError(() => f(y, [0.1, , 0.6, 0.3]), ArgumentError, op, /element 1 is missing/);
    expectError(() => f(y, [0.1, '0.8', 0.6, 0.3]), ArgumentError, op, /element 1 is string "0.8"/);
    expectError(() => f([0n, 1n], s), ArgumentError, op, /'yTrue'/);
  });
  test('an unknown option key: ArgumentError listing the valid keys', () => {
    expectError(
      () => f(y, s, { sampleWeights: [1, 1, 1, 1] }),
      ArgumentError,
      op,
      /unknown key "sampleWeights"/,
    );
  });
});

describe('reading user objects', () => {
  test('an array-like with a huge fake length fails at its first missing element, allocating nothing', () => {
    expectError(
      () => metrics.accuracy({ length: 1e15 }, [0.5]),
      ArgumentError,
      'metrics.accuracy',
      /element 0 is missing/,
    );
    expect(metrics.accuracy({ length: 2, 0: 1, 1: 0 }, [0.9, 0.1])).toBe(1);
  });
  test('integer typed arrays are read as numbers', () => {
    expect(metrics.rocAucScore(Uint8Array.of(1, 0, 1), Int32Array.of(3, -2, 1))).toBe(1);
  });
  test('an inherited index (polluted Array.prototype) is never read into a hole', () => {
    const proto = Array.prototype as unknown as Record<string, unknown>;
    proto['1'] = 0.9;
    try {
      const holey = new Array<number>(2);
      holey[0] = 0.9;
      expectError(
        () => metrics.recall([1, 1], holey),
        ArgumentError,
        'metrics.recall',
        /element 1 is missing/,
      );
    } finally {
      delete proto['1'];
    }
  });
  test('inherited options are ignored; only own keys count', () => {
    const opts = Object.create({ threshold: 0.95 }) as object;
    expect(metrics.accuracy([1, 0], [0.9, 0.1], opts)).toBe(1);
  });
});

describe('threshold metrics', () => {
  test('a score equal to the threshold is positive; ±Infinity scores are fine', () => {
    expect(metrics.recall([1, 1], [0.5, 0.4])).toBe(0.5);
    expect(metrics.precision([1, 0], [0.5, 0.5], { threshold: 0.5 })).toBe(0.5);
    expect(metrics.accuracy([1, 0, 1], [Infinity, -Infinity, 3], { threshold: 0 })).toBe(1);
  });
  test("zeroDivision: 0 by default, 1 on request, 'error' throws a DomainError", () => {
    const y = [1, 0, 1];
    const s = [0.1, 0.2, 0.3];
    expect(metrics.precision(y, s)).toBe(0);
    expect(metrics.precision(y, s, { zeroDivision: 1 })).toBe(1);
    expect(metrics.f1Score([0, 0], [0.1, 0.2], { zeroDivision: 1 })).toBe(1);
    expect(metrics.f1Score([0, 0], [0.1, 0.2])).toBe(0);
    expect(metrics.recall([0, 0], [0.9, 0.2])).toBe(0);
    expectError(
      () => metrics.precision(y, s, { zeroDivision: 'error' }),
      DomainError,
      'metrics.precision',
      /predicted positive is 0/,
    );
    expectError(
      () => metrics.f1Score([0, 0], [0.9, 0.1], { zeroDivision: 'error' }),
      DomainError,
      'metrics.f1Score',
      /positive samples is 0/,
    );
    expectError(
      () => metrics.recall(y, s, { zeroDivision: 'warn' as never }),
      ArgumentError,
      'metrics.recall',
      /'zeroDivision' must be 0, 1 or 'error', got string "warn"/,
    );
  });
  test('a NaN or non-number threshold is an ArgumentError', () => {
    expectError(
      () => metrics.accuracy([1], [1], { threshold: Number.NaN }),
      ArgumentError,
      'metrics.accuracy',
      /'threshold' must be a number, got number NaN/,
    );
    expectError(
      () => metrics.binarize([0.5], '0.5' as never),
      ArgumentError,
      'metrics.binarize',
      /threshold/,
    );
  });
  test('weights that sum to 0 make accuracy undefined: DomainError', () => {
    expectError(
      () => metrics.accuracy([1, 0], [0.9, 0.1], { sampleWeight: [0, 0] }),
      DomainError,
      'metrics.accuracy',
      /sum to 0/,
    );
  });
});

describe('curves and areas', () => {
  test('ROC AUC with one class in yTrue is a DomainError (scikit-learn: ValueError)', () => {
    for (const y of [
      [1, 1, 1],
      [0, 0, 0],
    ]) {
      expectError(
        () => metrics.rocAucScore(y, [0.1, 0.5, 0.9]),
        DomainError,
        'metrics.rocAucScore',
        /only one class \([01]\) is present in yTrue/,
      );
    }
  });
  test('the ROC curve without a class of non-zero weight is a DomainError (scikit-learn: NaN rates)', () => {
    expectError(
      () => metrics.rocCurve([1, 1], [0.2, 0.4]),
      DomainError,
      'metrics.rocCurve',
      /no negative sample/,
    );
    expectError(
      () => metrics.rocAucScore([1, 0, 1], [0.2, 0.4, 0.5], { sampleWeight: [1, 0, 1] }),
      DomainError,
      'metrics.rocAucScore',
      /no negative sample/,
    );
    expectError(
      () => metrics.precisionRecallCurve([1, 0], [0.2, 0.4], { sampleWeight: [0, 0] }),
      DomainError,
      'metrics.precisionRecallCurve',
      /every sample weight is 0/,
    );
  });
  test('infinite scores are refused by the curves (scikit-learn: assert_all_finite)', () => {
    expectError(
      () => metrics.rocAucScore([0, 1], [0, Infinity]),
      DomainError,
      'metrics.rocAucScore',
      /finite numbers; element 1 is Infinity/,
    );
  });
  test('dropIntermediate must be a boolean', () => {
    expectError(
      () => metrics.rocCurve([0, 1], [0, 1], { dropIntermediate: 'yes' as never }),
      ArgumentError,
      'metrics.rocCurve',
      /'dropIntermediate' must be a boolean/,
    );
  });
  test('auc needs 2 finite points and a monotonic x', () => {
    expectError(() => metrics.auc([0], [1]), DomainError, 'metrics.auc', /at least 2 points/);
    expectError(() => metrics.auc([0, Number.NaN], [1, 1]), DomainError, 'metrics.auc', /'x' must be finite/);
    expectError(() => metrics.auc([0, 1, 0.5], [0, 1, 1]), DomainError, 'metrics.auc', /neither/);
    expectError(
      () => metrics.auc([0, 1], [0, 1, 1]),
      ShapeError,
      'metrics.auc',
      /'y' has 3 elements but 'x' has 2/,
    );
    expect(metrics.auc([1, 0], [1, 1])).toBe(1);
  });
});

describe('log loss', () => {
  test('probabilities outside [0, 1] are refused (scikit-learn 1.2 clips them silently)', () => {
    expectError(
      () => metrics.logLoss([1, 0], [1.5, 0.1]),
      DomainError,
      'metrics.logLoss',
      /element 0 is 1.5/,
    );
    expectError(
      () => metrics.logLoss([1, 0], [0.5, -0.1]),
      DomainError,
      'metrics.logLoss',
      /element 1 is -0.1/,
    );
  });
  test('eps defaults to the input machine epsilon (2^-52 for float64, 2^-23 for float32)', () => {
    expect(metrics.logLoss([1], [0])).toBeCloseTo(-Math.log(2 ** -52), 12);
    expect(metrics.logLoss([1], fromArray([0], [1], { dtype: 'float32' }))).toBeCloseTo(
      -Math.log(2 ** -23),
      12,
    );
    expect(metrics.logLoss([1], [0], { eps: 1e-15 })).toBeCloseTo(-Math.log(1e-15), 12);
    expectError(() => metrics.logLoss([1], [0], { eps: 0.5 }), ArgumentError, 'metrics.logLoss', /'eps'/);
  });
  test('a single-class yTrue is accepted (the classes are {0, 1})', () => {
    expect(metrics.logLoss([1, 1], [0.5, 0.5])).toBeCloseTo(Math.log(2), 15);
  });
});

describe('confusion matrix', () => {
  test('binary: [[tn, fp], [fn, tp]]', () => {
    expect(metrics.confusionMatrix([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])).toEqual([
      [1, 1],
      [1, 2],
    ]);
  });
  test('labels must be integers; labels given must be distinct, non-empty, and one of them in yTrue', () => {
    expectError(
      () => metrics.confusionMatrix([0, 1.5], [0, 1]),
      DomainError,
      'metrics.confusionMatrix',
      /integer class labels; element 1 is 1.5/,
    );
    expectError(
      () => metrics.confusionMatrix([0, 1], [0, Number.NaN]),
      DomainError,
      'metrics.confusionMatrix',
      /'yPred'.*element 1 is NaN/,
    );
    expectError(
      () => metrics.confusionMatrix([0, 1], [0, 1], { labels: [1, 1] }),
      ArgumentError,
      'metrics.confusionMatrix',
      /repeats a label/,
    );
    expectError(
      () => metrics.confusionMatrix([0, 1], [0, 1], { labels: [] }),
      ArgumentError,
      'metrics.confusionMatrix',
      /at least one label/,
    );
    expectError(
      () => metrics.confusionMatrix([0, 1], [0, 1], { normalize: 'rows' as never }),
      ArgumentError,
      'metrics.confusionMatrix',
      /'normalize' must be/,
    );
    expectError(() => metrics.confusionMatrix([], []), DomainError, 'metrics.confusionMatrix', /empty/);
  });
});
