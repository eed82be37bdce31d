import { fileURLToPath } from 'node:url';
import { arange, fromArray, Generator, manualSeed, type Tensor, tensor } from '@gradkit/autograd';
import { ArgumentError, DomainError, ShapeError } from '@gradkit/kernels';
import { keepEveryMthPositive, loadCsv, moduloSplit, selectRows, trainTestSplit } from '@gradkit/nn';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const DATA = fileURLToPath(new URL('../../../examples/data/', import.meta.url));

const sorted = (a: Int32Array) => [...a].sort((p, q) => p - q);

describe('moduloSplit', () => {
  test('row i is a test row iff i % every == 0', () => {
    expect(moduloSplit(11)).toEqual({
      train: Int32Array.of(1, 2, 3, 4, 6, 7, 8, 9),
      test: Int32Array.of(0, 5, 10),
    });
    expect(moduloSplit(4, 2)).toEqual({ train: Int32Array.of(1, 3), test: Int32Array.of(0, 2) });
    expect(moduloSplit(0)).toEqual({ train: new Int32Array(0), test: new Int32Array(0) });
    expect(moduloSplit(3, 1).train.length).toBe(0);
  });

  test('refuses bad counts and periods', () => {
    for (const n of [-1, 1.5, Number.NaN]) expect(() => moduloSplit(n)).toThrow(DomainError);
    for (const every of [0, -5, 2.5]) expect(() => moduloSplit(10, every)).toThrow(DomainError);
  });
});

/** Positives / negatives among `labels[rows]`, for a positive label value. */
function counts(labels: ArrayLike<number>, rows: Int32Array, positive: number): [number, number] {
  let pos = 0;
  for (const i of rows) if (labels[i] === positive) pos++;
  return [pos, rows.length - pos];
}

describe('the recipes of examples/data/DATASETS.md reproduce its table', () => {
  // task, file, positive label, M (null: as is), rows, pos/neg, train pos/neg, test pos/neg
  const TABLE = [
    ['breast_cancer (as is)', 'breast_cancer.csv', 1, null, 569, [212, 357], [172, 283], [40, 74]],
    ['breast_cancer, malignant subsampled', 'breast_cancer.csv', 1, 10, 379, [22, 357], [18, 285], [4, 72]],
    ['digits, label == 0 vs rest', 'digits.csv', 0, null, 1797, [178, 1619], [136, 1301], [42, 318]],
    ['digits, label == 8 vs rest', 'digits.csv', 8, null, 1797, [174, 1623], [138, 1299], [36, 324]],
    ['digits, 0 vs rest, zeros subsampled', 'digits.csv', 0, 10, 1637, [18, 1619], [12, 1297], [6, 322]],
    ['spambase (as is)', 'spambase.csv', 1, null, 4601, [1813, 2788], [1450, 2230], [363, 558]],
    ['spambase, spam subsampled', 'spambase.csv', 1, 20, 2879, [91, 2788], [72, 2231], [19, 557]],
  ] as const;

  test.each(TABLE)('%s', async (_task, file, positive, m, rows, all, train, test_) => {
    const { features, labels } = await loadCsv(`${DATA}${file}`);
    let x: Tensor = features;
    let y: Tensor = labels;
    if (m !== null) {
      const keep = keepEveryMthPositive(labels, m, file === 'digits.csv' ? { positive } : {});
      [x, y] = selectRows([features, labels], keep);
    }
    expect(x.shape[0]).toBe(rows);
    const split = moduloSplit(rows);
    const everything = Int32Array.from({ length: rows }, (_, i) => i);
    expect(counts(y.data, everything, positive)).toEqual(all);
    expect(counts(y.data, split.train, positive)).toEqual(train);
    expect(counts(y.data, split.test, positive)).toEqual(test_);
    const viaOption = trainTestSplit(rows, { method: 'modulo', every: 5 });
    expect(viaOption).toEqual(split);
  });
});

describe('keepEveryMthPositive', () => {
  test('keeps positives k = 0, M, 2M, … and every negative, in order', () => {
    const labels = [1, 0, 1, 1, 0, 1, 1, 0];
    // positives at rows 0, 2, 3, 5, 6 → k = 0…4; M = 2 keeps k = 0, 2, 4 → rows 0, 3, 6
    expect([...keepEveryMthPositive(labels, 2)]).toEqual([0, 1, 3, 4, 6, 7]);
    expect([...keepEveryMthPositive(tensor(labels), 1)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...keepEveryMthPositive(Float64Array.from(labels), 100)]).toEqual([0, 1, 4, 7]);
  });

  test('a named positive class for multi-class labels', () => {
    expect([...keepEveryMthPositive([3, 0, 3, 2, 3], 2, { positive: 3 })]).toEqual([0, 1, 3, 4]);
  });

  test('refuses labels other than 0/1 without a named positive class, and bad arguments', () => {
    expect(() => keepEveryMthPositive([0, 1, 2], 2)).toThrow(/label 2 at row 2 is not 0 or 1/);
    expect(() => keepEveryMthPositive([0, Number.NaN], 2, { positive: 1 })).toThrow(DomainError);
    for (const m of [0, 1.5, -1]) expect(() => keepEveryMthPositive([0, 1], m)).toThrow(DomainError);
    expect(() => keepEveryMthPositive(tensor([[0, 1]]), 2)).toThrow(ShapeError);
    expect(() => keepEveryMthPositive([0, 1], 2, { postive: 1 } as never)).toThrow(/unknown key "postive"/);
    expect(() => keepEveryMthPositive([0, 1], 2, { positive: '1' as never })).toThrow(ArgumentError);
    expect(() => keepEveryMthPositive('01' as never, 2)).toThrow(ArgumentError);
  });
});

describe('trainTestSplit', () => {
  test('test size is ceil(testFraction · n), default 0.25, as in scikit-learn', () => {
    expect(trainTestSplit(10, { seed: 0 }).test.length).toBe(3);
    expect(trainTestSplit(10, { testFraction: 0.7, seed: 0 }).test.length).toBe(7);
    expect(trainTestSplit(7, { testFraction: 0.2, seed: 0 }).test.length).toBe(2);
    expect(trainTestSplit(10, { testSize: 4, seed: 0 }).test.length).toBe(4);
  });

  test('seeded: the same seed gives the same split, another seed another one', () => {
    const a = trainTestSplit(50, { testFraction: 0.2, seed: 3 });
    expect(trainTestSplit(50, { testFraction: 0.2, seed: 3 })).toEqual(a);
    expect(trainTestSplit(50, { testFraction: 0.2, generator: new Generator(3) })).toEqual(a);
    expect(trainTestSplit(50, { testFraction: 0.2, seed: 4 })).not.toEqual(a);
    manualSeed(5);
    const b = trainTestSplit(50);
    manualSeed(5);
    expect(trainTestSplit(50)).toEqual(b);
  });

  test('shuffle: false puts the last rows in the test set', () => {
    expect(trainTestSplit(5, { testSize: 2, shuffle: false })).toEqual({
      train: Int32Array.of(0, 1, 2),
      test: Int32Array.of(3, 4),
    });
  });

  test('tensors: rows of every tensor, split together', () => {
    const x = fromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [5, 2], { dtype: 'float64' });
    const y = arange(5, undefined, 1, { dtype: 'float64' });
    const { train, test } = trainTestSplit([x, y], { testSize: 2, seed: 1 });
    const [xTrain, yTrain] = train;
    const [xTest, yTest] = test;
    expect(xTrain.shape).toEqual([3, 2]);
    expect(xTest.shape).toEqual([2, 2]);
    for (const [xs, ys] of [
      [xTrain, yTrain],
      [xTest, yTest],
    ] as const) {
      expect([...xs.data]).toEqual([...ys.data].flatMap((i) => [2 * i, 2 * i + 1]));
    }
    expect([...yTrain.data, ...yTest.data].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => trainTestSplit([x, arange(4)], { seed: 0 })).toThrow(ShapeError);
  });

  test('stratify: each class is split in proportion, and the total is exact', () => {
    const labels = [...Array(30).fill(0), ...Array(10).fill(1), ...Array(5).fill(2)];
    const { train, test } = trainTestSplit(labels.length, { testFraction: 0.2, stratify: labels, seed: 9 });
    expect(test.length).toBe(9);
    const classCount = (rows: Int32Array, c: number) => [...rows].filter((i) => labels[i] === c).length;
    expect([0, 1, 2].map((c) => classCount(test, c))).toEqual([6, 2, 1]);
    expect([0, 1, 2].map((c) => classCount(train, c))).toEqual([24, 8, 4]);
    expect(sorted(Int32Array.from([...train, ...test]))).toEqual([...Array(45).keys()]);
    const asTensor = trainTestSplit(labels.length, { testFraction: 0.2, stratify: tensor(labels), seed: 9 });
    expect(asTensor).toEqual({ train, test });
  });

  test('refuses empty sides, conflicting or misplaced options', () => {
    expect(() => trainTestSplit(1)).toThrow(/leaves the training set empty/);
    expect(() => trainTestSplit(10, { testSize: 0 })).toThrow(/leaves the test set empty/);
    expect(() => trainTestSplit(10, { testSize: 10 })).toThrow(DomainError);
    for (const testFraction of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(() => trainTestSplit(10, { testFraction })).toThrow(DomainError);
    }
    expect(() => trainTestSplit(10, { testFraction: 0.2, testSize: 2 })).toThrow(/not both/);
    expect(() => trainTestSplit(10, { shuffle: false, seed: 1 })).toThrow(/no effect with shuffle: false/);
    expect(() => trainTestSplit(10, { shuffle: false, stratify: Array(10).fill(0) })).toThrow(
      /needs shuffle/,
    );
    expect(() => trainTestSplit(10, { method: 'modulo', seed: 1 })).toThrow(/unknown key "seed"/);
    expect(() => trainTestSplit(10, { method: 'kfold' as never })).toThrow(ArgumentError);
    expect(() => trainTestSplit(10, { stratify: [0, 1] })).toThrow(ShapeError);
    expect(() => trainTestSplit(10, { stratify: tensor([[0, 1]]) })).toThrow(ShapeError);
    expect(() => trainTestSplit(3, { stratify: [0, 1, Number.NaN] })).toThrow(DomainError);
    expect(() => trainTestSplit(-1)).toThrow(DomainError);
    expect(() => trainTestSplit([] as never)).toThrow(ArgumentError);
    expect(() => trainTestSplit('10' as never)).toThrow(ArgumentError);
  });

  test('property: train and test partition 0…n-1 with the requested test size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 200 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer(),
        fc.boolean(),
        (n, f, seed, stratify) => {
          const want = Math.ceil(f * n - 1e-9 * f * n);
          fc.pre(want >= 1 && want <= n - 1);
          const labels = Array.from({ length: n }, (_, i) => i % 3);
          const { train, test } = trainTestSplit(n, {
            testFraction: f,
            seed,
            ...(stratify ? { stratify: labels } : {}),
          });
          expect(test.length).toBe(want);
          expect(sorted(Int32Array.from([...train, ...test]))).toEqual([...Array(n).keys()]);
          if (stratify) {
            for (const c of [0, 1, 2]) {
              const inClass = labels.filter((v) => v === c).length;
              const inTest = [...test].filter((i) => labels[i] === c).length;
              expect(Math.abs(inTest - (inClass * want) / n)).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
      propertyConfig({ numRuns: 100 }),
    );
  });
});

describe('selectRows', () => {
  test('takes rows by index from every tensor; refuses bad indices', () => {
    const [a, b] = selectRows(
      [
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        tensor([7, 8, 9]),
      ],
      [2, 0],
    );
    expect([...a.data]).toEqual([5, 6, 1, 2]);
    expect([...b.data]).toEqual([9, 7]);
    expect(() => selectRows([tensor([1, 2])], [2])).toThrow(DomainError);
    expect(() => selectRows([tensor([1, 2])], [0.5])).toThrow(DomainError);
    expect(() => selectRows([tensor([1, 2])], 'x' as never)).toThrow(ArgumentError);
  });
});
