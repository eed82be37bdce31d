/**
 * softmax and logSoftmax: values against a naive per-slice reference over random shapes and axes (size-0
 * and size-1 dims included), stability at large magnitudes, the ±inf / NaN semantics, gradients and second
 * derivatives against finite differences, float32 against float64, and every error.
 */
import {
  ArgumentError,
  fromArray,
  grad,
  logSoftmax,
  logSumExp,
  ShapeError,
  softmax,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import { describeWorst, gradcheckTensor, gradgradcheckTensor, shape, tensorOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SEED = 0x50f7_3a;

/** Naive reference: for every slice along `axis`, exp(v − max) / sum, or v − max − log(sum). */
function reference(x: Tensor, axis: number, log: boolean): number[] {
  const rank = x.ndim;
  const ax = rank === 0 ? 0 : axis < 0 ? axis + rank : axis;
  const len = rank === 0 ? 1 : x.shape[ax]!;
  const inner = x.shape.slice(ax + 1).reduce((a, d) => a * d, 1);
  const out = new Array<number>(x.size).fill(0);
  for (let base = 0; base < x.size; base++) {
    // Visit each slice once, from its first element.
    if (Math.floor(base / inner) % len !== 0) continue;
    const idx = Array.from({ length: len }, (_, j) => base + j * inner);
    const vals = idx.map((i) => x.data[i]!);
    const m = Math.max(...vals);
    const s = vals.reduce((a, v) => a + Math.exp(v - m), 0);
    idx.forEach((i, j) => {
      out[i] = log ? vals[j]! - m - Math.log(s) : Math.exp(vals[j]! - m) / s;
    });
  }
  return out;
}

const SHAPES = { maxRank: 3, maxDim: 3, allowZero: true, maxSize: 18 } as const;

function cases(opts: { min: number; max: number; dtype?: 'float32' | 'float64' }) {
  return shape(SHAPES).chain((s) =>
    fc.record({
      x: tensorOf(s, { ...opts, requiresGrad: true }),
      axis: s.length === 0 ? fc.constantFrom(0, -1) : fc.integer({ min: -s.length, max: s.length - 1 }),
    }),
  );
}

const ops = [
  ['softmax', softmax, (x: Tensor, a: number) => x.softmax(a), false],
  ['logSoftmax', logSoftmax, (x: Tensor, a: number) => x.logSoftmax(a), true],
] as const;

describe('values', () => {
  for (const [name, f, method, log] of ops) {
    it(`${name}: function and method equal the reference over random shapes and axes`, () => {
      fc.assert(
        fc.property(cases({ min: -20, max: 20 }), ({ x, axis }) => {
          const ref = reference(x, axis, log);
          for (const y of [f(x, axis), method(x, axis)]) {
            expect(y.shape).toEqual(x.shape);
            expect(y.dtype).toBe('float64');
            ref.forEach((v, i) => {
              expect(Math.abs(y.data[i]! - v)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(v)));
            });
          }
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }

  it('softmax slices sum to 1 and logSoftmax = x − logSumExp(x)', () => {
    fc.assert(
      fc.property(cases({ min: -30, max: 30 }), ({ x, axis }) => {
        if (x.size === 0) return;
        const sums = softmax(x, axis).sum(axis);
        for (const s of sums.data) expect(s).toBeCloseTo(1, 14);
        const viaLse = x.sub(logSumExp(x, x.ndim === 0 ? undefined : axis, true));
        const ls = logSoftmax(x, axis);
        for (let i = 0; i < x.size; i++) expect(ls.data[i]).toBeCloseTo(viaLse.data[i]!, 12);
      }),
      { seed: SEED + 1, numRuns: 100 },
    );
  });

  it('defaults to the last axis; a 0-d tensor gives 1 (softmax) and 0 (logSoftmax)', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 5],
      ],
      { dtype: 'float64' },
    );
    expect(softmax(x).tolist()).toEqual(softmax(x, 1).tolist());
    expect(logSoftmax(x).tolist()).toEqual(logSoftmax(x, -1).tolist());
    expect(x.softmax().tolist()).toEqual(softmax(x, 1).tolist());
    expect(softmax(tensor(3)).item()).toBe(1);
    expect(logSoftmax(tensor(3), 0).item()).toBe(0);
    expect(softmax(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([0, 3]), 0).shape).toEqual([0, 3]);
  });

  it('is stable at large magnitudes, in float32 too', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const s = softmax(tensor([1000, 1000, -1000], { dtype }));
      expect(Array.from(s.data)).toEqual([0.5, 0.5, 0]);
      const l = logSoftmax(tensor([1000, 1000, -1000], { dtype }));
      expect(l.data[0]).toBeCloseTo(-Math.LN2, 6);
      expect(l.data[2]).toBeCloseTo(-2000 - Math.LN2, 2);
      expect(Number.isFinite(l.data[2]!)).toBe(true);
    }
  });

  it('±inf and NaN: -inf entries get probability 0; an all -inf slice, +inf or NaN give NaN (as in PyTorch)', () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(Array.from(softmax(tensor([-inf, 0, 0])).data)).toEqual([0, 0.5, 0.5]);
    expect(logSoftmax(tensor([-inf, 0])).data[0]).toBe(-inf);
    for (const f of [softmax, logSoftmax]) {
      for (const v of [
        [-inf, -inf],
        [inf, 1],
        [Number.NaN, 1],
      ]) {
        for (const y of f(tensor(v)).data) expect(y).toBeNaN();
      }
    }
  });
});

describe('gradients', () => {
  for (const [name, f] of ops) {
    it(`${name}: gradcheck and gradgradcheck over random shapes and axes (size 0 and 1 included)`, () => {
      fc.assert(
        fc.property(cases({ min: -3, max: 3 }), ({ x, axis }) => {
          const fn = (t: Tensor) => f(t, axis);
          const r1 = gradcheckTensor(fn, [x]);
          expect(r1.ok, describeWorst(r1)).toBe(true);
          const r2 = gradgradcheckTensor(fn, [x], { seed: 5 });
          expect(r2.ok, describeWorst(r2)).toBe(true);
        }),
        { seed: SEED + 2, numRuns: 60 },
      );
    });
  }

  it('cross-entropy through logSoftmax has gradient softmax − onehot', () => {
    const x = tensor([[0.5, -1, 2]], { dtype: 'float64', requiresGrad: true });
    const onehot = tensor([[0, 0, 1]], { dtype: 'float64' });
    const loss = logSoftmax(x, 1).mul(onehot).sum().neg();
    const g = grad(loss, x)[0]!;
    const p = softmax(x.detach(), 1);
    for (let i = 0; i < 3; i++) expect(g.data[i]).toBeCloseTo(p.data[i]! - onehot.data[i]!, 15);
  });

  it('third derivatives: gradcheck of a Hessian-vector product of softmax', () => {
    const x = tensor(
      [
        [0.3, -0.7, 1.1],
        [2, 0.1, -1],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const u = tensor(
      [
        [1, -2, 0.5],
        [0.3, 0.2, -1],
      ],
      { dtype: 'float64' },
    );
    const v = tensor(
      [
        [0.4, 0.1, -0.3],
        [1, -1, 0.25],
      ],
      { dtype: 'float64' },
    );
    const hvp = (t: Tensor) => {
      const [g] = grad(softmax(t, 1).mul(u).sum(), [t], { createGraph: true });
      return grad(g!.mul(v).sum(), [t], { createGraph: true })[0]!;
    };
    const r = gradcheckTensor(hvp, [x]);
    expect(r.ok, describeWorst(r)).toBe(true);
  });
});

describe('float32 against float64', () => {
  it('float32 results are the float64 results rounded once (float64 accumulation)', () => {
    fc.assert(
      fc.property(cases({ min: -20, max: 20, dtype: 'float32' }), ({ x, axis }) => {
        const x64 = fromArray(x.data, x.shape, { dtype: 'float64' });
        for (const [, f] of ops) {
          const y32 = f(x, axis);
          const y64 = f(x64, axis);
          expect(y32.dtype).toBe('float32');
          y64.data.forEach((v, i) => {
            expect(y32.data[i]).toBe(Math.fround(v));
          });
        }
      }),
      { seed: SEED + 3, numRuns: 100 },
    );
  });
});

describe('errors', () => {
  it('an out-of-range or non-integer axis is a ShapeError naming the op; a non-tensor is an ArgumentError', () => {
    for (const [name, f] of ops) {
      expect(() => f(zeros([2, 3]), 2)).toThrow(ShapeError);
      expect(() => f(zeros([2, 3]), 2)).toThrow(new RegExp(`${name}.*axis 2.*rank 2`));
      expect(() => f(zeros([2, 3]), -3)).toThrow(/axis -3/);
      expect(() => f(zeros([2, 3]), 1.5)).toThrow(ShapeError);
      expect(() => f(tensor(1), 1)).toThrow(ShapeError);
      expect(() => f({} as unknown as Tensor, 0)).toThrow(ArgumentError);
      expect(() => f({} as unknown as Tensor, 0)).toThrow(new RegExp(`${name}.*Tensor`));
    }
  });
});
