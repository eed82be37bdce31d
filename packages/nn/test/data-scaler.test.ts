import { fromArray, grad, type Tensor, tensor } from '@gradkit/autograd';
import { ArgumentError, DomainError, ShapeError, StateError } from '@gradkit/kernels';
import { moduloSplit, StandardScaler, selectRows } from '@gradkit/nn';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const f64 = (rows: number[][]) => tensor(rows, { dtype: 'float64' });

/** Column j of a 2-D tensor. */
function column(t: Tensor, j: number): number[] {
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => t.data[i * d + j]!);
}

describe('StandardScaler', () => {
  test('hand-computed mean, population std (ddof = 0) and transform', () => {
    // column 0: 1, 2, 3, 6 → mean 3, deviations -2 -1 0 3, variance (4+1+0+9)/4 = 3.5
    // column 1: 10, 10, 20, 20 → mean 15, variance 25, scale 5
    const x = f64([
      [1, 10],
      [2, 10],
      [3, 20],
      [6, 20],
    ]);
    const s = new StandardScaler().fit(x);
    expect([...s.mean.data]).toEqual([3, 15]);
    expect(s.scale.data[0]).toBeCloseTo(Math.sqrt(3.5), 15);
    expect(s.scale.data[1]).toBe(5);
    expect(s.mean.dtype).toBe('float64');
    const z = s.transform(x);
    const r = Math.sqrt(3.5);
    const want = [-2 / r, -1, -1 / r, -1, 0, 1, 3 / r, 1];
    [...z.data].forEach((v, k) => {
      expect(v).toBeCloseTo(want[k]!, 14);
    });
  });

  test('a constant column (up to rounding) gets scale 1 and maps to 0', () => {
    const x = f64([
      [0.1, 5, 1],
      [0.1, 5, 2],
      [0.1, 5, 3],
    ]);
    const s = new StandardScaler().fit(x);
    expect([...s.scale.data].slice(0, 2)).toEqual([1, 1]);
    const z = s.transform(x);
    expect(column(z, 0).every((v) => Math.abs(v) < 1e-15)).toBe(true);
    expect(column(z, 1)).toEqual([0, 0, 0]);
    expect(new StandardScaler().fit(f64([[4, 7]])).scale.data).toEqual(Float64Array.of(1, 1));
    // Values one ulp apart around 1e8 are constant up to rounding (scikit-learn's bound): scale 1, not 7e-9.
    const ulp = 1.4901161193847656e-8; // the spacing of float64 numbers at 1e8
    expect(1e8 + ulp).not.toBe(1e8);
    const near = new StandardScaler().fit(f64([[1e8], [1e8 + ulp], [1e8]]));
    expect(near.scale.data[0]).toBe(1);
  });

  test('fit on train only: the test set is transformed with the training statistics', () => {
    const train = f64([[0], [2], [4]]); // mean 2, variance 8/3
    const test_ = f64([[100], [2]]);
    const s = new StandardScaler().fit(train);
    const z = s.transform(test_);
    expect(z.data[0]).toBeCloseTo(98 / Math.sqrt(8 / 3), 12);
    expect(z.data[1]).toBe(0);
    // Transforming never refits.
    expect([...s.mean.data]).toEqual([2]);
    expect(s.transform(train).data[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 14);
  });

  test('with the modulo split of a dataset: train columns standardized, test columns not exactly', () => {
    const n = 50;
    const x = fromArray(
      Array.from({ length: n * 2 }, (_, k) => (k % 2 === 0 ? k * k : Math.sin(k))),
      [n, 2],
      { dtype: 'float64' },
    );
    const { train, test } = moduloSplit(n);
    const [xTrain] = selectRows([x], train);
    const [xTest] = selectRows([x], test);
    const s = new StandardScaler();
    const zTrain = s.fitTransform(xTrain);
    const zTest = s.transform(xTest);
    for (const j of [0, 1]) {
      const c = column(zTrain, j);
      expect(Math.abs(c.reduce((a, b) => a + b, 0) / c.length)).toBeLessThan(1e-12);
      const t = column(zTest, j);
      expect(Math.abs(t.reduce((a, b) => a + b, 0) / t.length)).toBeGreaterThan(1e-6);
    }
  });

  test('float32 input stays float32, rounded once from float64 statistics', () => {
    // The mean 1e6 + 1/24 is not a float32: subtracting a float32-rounded mean would give [-2.12, 0, 0].
    const x = tensor([[1e6], [1e6 + 0.0625], [1e6 + 0.0625]], { dtype: 'float32' });
    const s = new StandardScaler().fit(x);
    const z = s.transform(x);
    expect(z.dtype).toBe('float32');
    expect([...z.data]).toEqual([
      Math.fround(-Math.SQRT2),
      Math.fround(Math.SQRT1_2),
      Math.fround(Math.SQRT1_2),
    ]);
  });

  test('inverseTransform undoes transform; transform works on any leading shape', () => {
    const x = f64([
      [1, -3],
      [4, 8],
      [0.5, 2],
    ]);
    const s = new StandardScaler().fit(x);
    const back = s.inverseTransform(s.transform(x));
    [...back.data].forEach((v, k) => {
      expect(v).toBeCloseTo(x.data[k]!, 13);
    });
    expect(s.transform(tensor([[[1, -3]]], { dtype: 'float64' })).shape).toEqual([1, 1, 2]);
  });

  test('transform is differentiable: dz/dx = 1 / scale', () => {
    const x = tensor(
      [
        [1, 10],
        [3, 30],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const s = new StandardScaler().fit(x.detach());
    const [g] = grad(s.transform(x).sum(), [x]) as [Tensor];
    expect([...g.data]).toEqual([1, 1 / 10, 1, 1 / 10]);
  });

  test('stateDict and loadStateDict round-trip; bad states are refused', () => {
    const x = f64([
      [1, 2],
      [3, 5],
    ]);
    const s = new StandardScaler().fit(x);
    const state = s.stateDict();
    expect(Object.keys(state)).toEqual(['mean', 'scale']);
    const t = new StandardScaler().loadStateDict(state);
    expect(t.fitted).toBe(true);
    expect([...t.transform(x).data]).toEqual([...s.transform(x).data]);
    // The state is a copy: the scaler does not change when the saved tensors are written to.
    state.mean.data[0] = 99;
    expect(t.mean.data[0]).toBe(2);

    const ok = { mean: tensor([0, 0], { dtype: 'float64' }), scale: tensor([1, 1], { dtype: 'float64' }) };
    expect(() => t.loadStateDict({ ...ok, scale: tensor([1, 0]) })).toThrow(DomainError);
    expect(() => t.loadStateDict({ ...ok, scale: tensor([1, Number.NaN]) })).toThrow(DomainError);
    expect(() => t.loadStateDict({ ...ok, mean: tensor([0, Number.POSITIVE_INFINITY]) })).toThrow(
      DomainError,
    );
    expect(() => t.loadStateDict({ ...ok, mean: tensor([0]) })).toThrow(ShapeError);
    expect(() => t.loadStateDict({ ...ok, extra: ok.mean } as never)).toThrow(/unknown key "extra"/);
    expect(() => t.loadStateDict({ mean: ok.mean } as never)).toThrow(ArgumentError);
    expect(() => t.loadStateDict(undefined as never)).toThrow(ArgumentError);
  });

  test('refuses use before fit, wrong shapes, empty or non-finite training data', () => {
    const s = new StandardScaler();
    expect(s.fitted).toBe(false);
    expect(() => s.transform(f64([[1]]))).toThrow(StateError);
    expect(() => s.mean).toThrow(StateError);
    expect(() => s.stateDict()).toThrow(/not fitted/);
    expect(() => s.fit(tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => s.fit(fromArray([], [0, 3]))).toThrow(/no rows/);
    expect(() => s.fit(f64([[1, Number.NaN]]))).toThrow(/holds NaN at row 0, column 1/);
    expect(() => s.fit([[1]] as never)).toThrow(ArgumentError);
    s.fit(f64([[1, 2]]));
    expect(() => s.transform(f64([[1, 2, 3]]))).toThrow(/must have 2 columns/);
    expect(() => s.transform(tensor(1))).toThrow(ShapeError);
  });

  test('property: every fitted column of the output has mean 0 and population std 1 (or is all 0)', () => {
    const matrix = fc
      .record({ n: fc.integer({ min: 1, max: 30 }), d: fc.integer({ min: 1, max: 5 }) })
      .chain(({ n, d }) =>
        fc.record({
          n: fc.constant(n),
          d: fc.constant(d),
          values: fc.array(
            fc.oneof(
              fc.double({ min: -1e6, max: 1e6, noNaN: true }),
              fc.integer({ min: -3, max: 3 }),
              fc.constant(0.1),
            ),
            { minLength: n * d, maxLength: n * d },
          ),
          offset: fc.constantFrom(0, 1e3, -1e5),
        }),
      );
    fc.assert(
      fc.property(matrix, ({ n, d, values, offset }) => {
        const x = fromArray(
          values.map((v) => v + offset),
          [n, d],
          { dtype: 'float64' },
        );
        // Columns spread over only a few ulps are ill-conditioned for any scaler: keep the others.
        for (let j = 0; j < d; j++) {
          const c = column(x, j);
          const lo = Math.min(...c);
          const hi = Math.max(...c);
          fc.pre(lo === hi || hi - lo > 1e-6 * Math.max(Math.abs(lo), Math.abs(hi)));
        }
        const s = new StandardScaler();
        const z = s.fitTransform(x);
        for (let j = 0; j < d; j++) {
          const c = column(z, j);
          const mean = c.reduce((a, b) => a + b, 0) / n;
          const variance = c.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
          expect(Math.abs(mean)).toBeLessThan(1e-9);
          if (s.scale.data[j] === 1 && c.every((v) => Math.abs(v) < 1e-9)) continue; // constant column
          expect(Math.abs(variance - 1)).toBeLessThan(1e-9);
        }
      }),
      propertyConfig({ numRuns: 100 }),
    );
  });
});
