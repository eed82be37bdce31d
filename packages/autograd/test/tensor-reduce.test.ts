/**
 * mean, max, min, prod, logSumExp, argmax, argmin: values against a naive group-by reference over random
 * shapes and axis specs (number, negative, list, all; keepDims), gradients and second derivatives against
 * finite differences (size-1 and size-0 dims included), the documented edge semantics (ties, NaN, zeros in
 * prod, ±inf in logSumExp, empty reductions), float32 against float64, and every error.
 */
import {
  ArgumentError,
  type Axis,
  argmax,
  argmin,
  DomainError,
  type DType,
  fromArray,
  grad,
  logSumExp,
  max,
  mean,
  min,
  prod,
  ShapeError,
  softmax,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import {
  describeWorst,
  gradcheckTensor,
  gradgradcheckTensor,
  propertyConfig,
  shape,
  tensorOf,
} from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectError } from './helpers.js';

const SEED = 0x2ed_0ce;

// ---------------------------------------------------------------------------------------------------------
// Reference: enumerate every element, group by the kept indices, reduce each group with a plain function.
// ---------------------------------------------------------------------------------------------------------

function normalize(axis: Axis | undefined, rank: number): number[] {
  if (rank === 0) return [];
  if (axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : [...axis];
  return list.map((a) => (a < 0 ? a + rank : a));
}

interface Reference {
  shape: number[];
  groups: number[][];
}

function groupBy(x: Tensor, axis: Axis | undefined, keepDims: boolean): Reference {
  const axes = normalize(axis, x.ndim);
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keepDims) shape.push(1);
  });
  const keptSizes = x.shape.filter((_, i) => !axes.includes(i));
  const groups: number[][] = Array.from({ length: keptSizes.reduce((a, d) => a * d, 1) }, () => []);
  const idx = new Array<number>(x.ndim).fill(0);
  for (let e = 0; e < x.size; e++) {
    let o = 0;
    for (let d = 0; d < x.ndim; d++) if (!axes.includes(d)) o = o * x.shape[d]! + idx[d]!;
    groups[o]!.push(x.data[e]!);
    for (let d = x.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, groups };
}

const refOps: Record<string, (g: number[]) => number> = {
  mean: (g) => g.reduce((a, v) => a + v, 0) / g.length,
  max: (g) => (g.some(Number.isNaN) ? Number.NaN : Math.max(...g)),
  min: (g) => (g.some(Number.isNaN) ? Number.NaN : Math.min(...g)),
  prod: (g) => g.reduce((a, v) => a * v, 1),
  logSumExp: (g) => Math.log(g.reduce((a, v) => a + Math.exp(v), 0)),
  argmax: (g) => g.indexOf(Math.max(...g)),
  argmin: (g) => g.indexOf(Math.min(...g)),
};

type ReduceFn = (x: Tensor, axis?: Axis, keepDims?: boolean) => Tensor;
const fns: Record<string, ReduceFn> = { mean, max, min, prod, logSumExp, argmax, argmin };
const methods: Record<string, (x: Tensor, axis?: Axis, keepDims?: boolean) => Tensor> = {
  mean: (x, a, k) => x.mean(a, k),
  max: (x, a, k) => x.max(a, k),
  min: (x, a, k) => x.min(a, k),
  prod: (x, a, k) => x.prod(a, k),
  logSumExp: (x, a, k) => x.logSumExp(a, k),
  argmax: (x, a, k) => x.argmax(a, k),
  argmin: (x, a, k) => x.argmin(a, k),
};
/** Ops that have no value over an empty group. */
const needsElements = new Set(['max', 'min', 'argmax', 'argmin']);

// ---------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------

/** An axis spec for a rank: all (undefined), one axis (maybe negative), or a list of distinct axes. */
function axisSpec(rank: number): fc.Arbitrary<Axis | undefined> {
  if (rank === 0) return fc.constantFrom<Axis | undefined>(undefined, 0, -1);
  const one = fc.integer({ min: -rank, max: rank - 1 });
  const list = fc
    .shuffledSubarray([...Array(rank).keys()], { minLength: 1 })
    .chain((axes) => fc.tuple(...axes.map((a) => fc.boolean().map((neg) => (neg ? a - rank : a)))));
  return fc.oneof(fc.constant(undefined), one, list);
}

const SHAPES = { maxRank: 3, maxDim: 3, allowZero: true, maxSize: 18 } as const;

/** Distinct values with gaps far above the finite-difference step (max/min/argmax have no ties). */
function distinctTensor(s: readonly number[], dtype: DType = 'float64'): fc.Arbitrary<Tensor> {
  const n = s.reduce((a, d) => a * d, 1);
  return fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: n, maxLength: n }).map((v) =>
    fromArray(
      v.map((k) => k / 20 + 0.0123),
      s,
      { dtype, requiresGrad: true },
    ),
  );
}

interface Case {
  x: Tensor;
  axis: Axis | undefined;
  keepDims: boolean;
}

function cases(
  values: (s: number[]) => fc.Arbitrary<Tensor>,
  opts: typeof SHAPES = SHAPES,
): fc.Arbitrary<Case> {
  return shape(opts).chain((s) =>
    fc.record({ x: values(s), axis: axisSpec(s.length), keepDims: fc.boolean() }),
  );
}

/** True when the reduced axes hold no element (then max/min/argmax/argmin have no value). */
const isEmptyReduction = (c: Case) => normalize(c.axis, c.x.ndim).some((a) => c.x.shape[a] === 0);

// ---------------------------------------------------------------------------------------------------------

describe('values against the reference', () => {
  for (const name of Object.keys(fns)) {
    it(`${name}: function and method over random shapes, axes and keepDims`, () => {
      const values = name === 'prod' ? (s: number[]) => tensorOf(s, { min: -2, max: 2 }) : distinctTensor;
      fc.assert(
        fc.property(cases(values), ({ x, axis, keepDims }) => {
          const ref = groupBy(x, axis, keepDims);
          if (needsElements.has(name) && isEmptyReduction({ x, axis, keepDims })) {
            expect(() => fns[name]!(x, axis, keepDims)).toThrow(DomainError);
            return;
          }
          for (const y of [fns[name]!(x, axis, keepDims), methods[name]!(x, axis, keepDims)]) {
            expect(y.shape).toEqual(ref.shape);
            expect(y.dtype).toBe(x.dtype);
            ref.groups.forEach((g, o) => {
              const want = refOps[name]!(g);
              if (Number.isNaN(want)) expect(y.data[o]).toBeNaN();
              else if (!Number.isFinite(want)) expect(y.data[o]).toBe(want);
              else
                expect(Math.abs(y.data[o]! - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
            });
          }
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }

  it('a 0-d tensor reduces to itself (axis omitted, 0 or -1)', () => {
    const x = tensor(2.5, { dtype: 'float64' });
    for (const f of Object.values(fns)) {
      for (const axis of [undefined, 0, -1]) expect(f(x, axis).shape).toEqual([]);
    }
    expect(max(x).item()).toBe(2.5);
    expect(prod(x, 0).item()).toBe(2.5);
    expect(argmax(x).item()).toBe(0);
    expect(logSumExp(x).item()).toBe(2.5);
  });
});

describe('edge semantics', () => {
  it('mean of zero elements is NaN; sums over empty axes with a non-empty output too', () => {
    expect(mean(zeros([0])).item()).toBeNaN();
    expect(Array.from(mean(zeros([0, 3]), 0).data)).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(mean(zeros([3, 0]), 0).shape).toEqual([0]);
    expect(mean(zeros([2, 0, 3]), [0, 2], true).shape).toEqual([1, 0, 1]);
  });

  it('max/min/argmax/argmin: first extreme wins ties and gets the gradient; NaN propagates and wins', () => {
    const x = tensor([1, 3, 3, -2, -2], { dtype: 'float64', requiresGrad: true });
    expect(max(x).item()).toBe(3);
    expect(argmax(x).item()).toBe(1);
    expect(Array.from(grad(max(x), x)[0]!.data)).toEqual([0, 1, 0, 0, 0]);
    expect(min(x).item()).toBe(-2);
    expect(argmin(x).item()).toBe(3);
    expect(Array.from(grad(min(x), x)[0]!.data)).toEqual([0, 0, 0, 1, 0]);
    const n = tensor([1, Number.NaN, 5, Number.NaN], { dtype: 'float64', requiresGrad: true });
    expect(max(n).item()).toBeNaN();
    expect(min(n).item()).toBeNaN();
    expect(argmax(n).item()).toBe(1);
    expect(argmin(n).item()).toBe(1);
    expect(Array.from(grad(max(n), n)[0]!.data)).toEqual([0, 1, 0, 0]);
    expect(argmax(tensor([Number.NaN, 1])).item()).toBe(0);
    expect(max(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).item()).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });

  it('argmax over several axes is the row-major index inside the reduced axes; argmax() indexes the flattened tensor', () => {
    const x = fromArray([0, 9, 2, 3, 4, 5, 6, 7, 8, 1, 10, 11], [2, 3, 2], { dtype: 'float64' });
    expect(argmax(x).item()).toBe(11);
    expect(argmax(x, [0, 2]).tolist()).toEqual([1, 2, 3]);
    expect(argmax(x, [0, 2], true).shape).toEqual([1, 3, 1]);
    expect(argmax(x, -1).tolist()).toEqual([
      [1, 1, 1],
      [1, 0, 1],
    ]);
    expect(argmax(x).requiresGrad).toBe(false);
  });

  it('prod: gradients are exact with zeros (no division), to second order', () => {
    const x = tensor(
      [
        [1, 0, 3],
        [0, 0, 2],
        [2, 3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const p = prod(x, 1);
    expect(p.tolist()).toEqual([0, 0, 24]);
    expect(grad(p.sum(), x, { retainGraph: true })[0]!.tolist()).toEqual([
      [0, 3, 0],
      [0, 0, 0],
      [12, 8, 6],
    ]);
    // Row [0, 0, 2]: d²p/dx0dx1 = x2 = 2, d²p/dx0dx2 = x1 = 0; row [1, 0, 3]: d²p/dx1dx0 = 3, d²p/dx1dx2 = 1.
    const [g] = grad(p.sum(), [x], { createGraph: true });
    const pick = (r: number, c: number) => {
      const e = zeros([3, 3], { dtype: 'float64' });
      e.data[r * 3 + c] = 1;
      return grad(g!.mul(e).sum(), x, { retainGraph: true })[0]!.tolist() as number[][];
    };
    expect(pick(1, 0)[1]).toEqual([0, 2, 0]);
    expect(pick(0, 1)[0]).toEqual([3, 0, 1]);
    expect(prod(zeros([2, 0]), 1).tolist()).toEqual([1, 1]);
    expect(prod(zeros([0])).item()).toBe(1);
  });

  it('logSumExp is stable and handles ±inf, NaN and empty groups like PyTorch', () => {
    const big = logSumExp(tensor([1000, 1000], { dtype: 'float64' })).item();
    expect(big).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp(tensor([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.LN2, 3);
    expect(logSumExp(tensor([100, 100])).item()).toBeCloseTo(100 + Math.LN2, 4); // float32, exp(100) overflows it
    const ninf = Number.NEGATIVE_INFINITY;
    expect(logSumExp(tensor([ninf, ninf])).item()).toBe(ninf);
    expect(logSumExp(tensor([ninf, 0])).item()).toBe(0);
    expect(logSumExp(tensor([Number.POSITIVE_INFINITY, 1])).item()).toBe(Number.POSITIVE_INFINITY);
    expect(logSumExp(tensor([Number.NaN, 1])).item()).toBeNaN();
    expect(logSumExp(zeros([0])).item()).toBe(ninf);
    expect(Array.from(logSumExp(zeros([2, 0]), 1).data)).toEqual([ninf, ninf]);
  });

  it('logSumExp gradient is the softmax', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [-1, 0, 5],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const g = grad(logSumExp(x, 1).sum(), x)[0]!;
    const s = softmax(x.detach(), 1);
    for (let i = 0; i < 6; i++) expect(g.data[i]).toBeCloseTo(s.data[i]!, 15);
  });
});

describe('gradients', () => {
  // [name, op, values, linear]: for ops that are (locally) linear the gradient does not depend on x, so the
  // second-order check runs on op(x)², whose Hessian 2(∇op ∇opᵀ + op ∇²op) still goes through op's backward graph.
  const differentiable: Array<[string, ReduceFn, (s: number[]) => fc.Arbitrary<Tensor>, boolean?]> = [
    ['mean', mean, (s) => tensorOf(s, { min: -2, max: 2, requiresGrad: true }), true],
    ['max', max, (s) => distinctTensor(s), true],
    ['min', min, (s) => distinctTensor(s), true],
    // Zeros included: prod is multilinear, so central differences are exact there too.
    // (Groups of one element make prod linear, hence the squared second-order check.)
    [
      'prod',
      prod,
      (s) =>
        tensorOf(s, {
          values: fc.oneof(fc.constant(0), fc.double({ min: -2, max: 2, noNaN: true })),
          requiresGrad: true,
        }),
      true,
    ],
    ['logSumExp', logSumExp, (s) => tensorOf(s, { min: -3, max: 3, requiresGrad: true })],
  ];
  for (const [name, f, values, linear] of differentiable) {
    it(`${name}: gradcheck and gradgradcheck (random shapes incl. size 0 and 1, random axes, keepDims)`, () => {
      fc.assert(
        fc.property(cases(values), (c) => {
          fc.pre(!(needsElements.has(name) && isEmptyReduction(c)));
          const fn = (x: Tensor) => f(x, c.axis, c.keepDims);
          const r1 = gradcheckTensor(fn, [c.x]);
          expect(r1.ok, describeWorst(r1)).toBe(true);
          const r2 = gradgradcheckTensor(linear ? (x: Tensor) => fn(x).square() : fn, [c.x], { seed: 7 });
          expect(r2.ok, describeWorst(r2)).toBe(true);
        }),
        { seed: SEED + 1, numRuns: 60 },
      );
    });
  }
});

describe('float32 against float64', () => {
  const to64 = (t: Tensor) => fromArray(t.data, t.shape, { dtype: 'float64' });
  it('max/min/argmax/argmin exact; logSumExp rounded once; mean and prod within float32 rounding', () => {
    fc.assert(
      fc.property(
        cases((s) => distinctTensor(s, 'float32')),
        ({ x, axis, keepDims }) => {
          const x64 = to64(x);
          const empty = isEmptyReduction({ x, axis, keepDims });
          for (const name of ['max', 'min', 'argmax', 'argmin']) {
            if (empty) continue;
            const a = fns[name]!(x, axis, keepDims);
            expect(a.dtype).toBe('float32');
            expect(Array.from(a.data)).toEqual(Array.from(fns[name]!(x64, axis, keepDims).data));
          }
          const l32 = logSumExp(x, axis, keepDims);
          const l64 = logSumExp(x64, axis, keepDims);
          l64.data.forEach((v, i) => {
            expect(l32.data[i]).toBe(Math.fround(v));
          });
          const m32 = mean(x, axis, keepDims);
          const m64 = mean(x64, axis, keepDims);
          const ref = groupBy(x64, axis, keepDims);
          m64.data.forEach((v, i) => {
            const scale =
              ref.groups[i]!.reduce((a, u) => a + Math.abs(u), 0) / Math.max(1, ref.groups[i]!.length);
            if (Number.isNaN(v)) expect(m32.data[i]).toBeNaN();
            else
              expect(Math.abs(m32.data[i]! - v)).toBeLessThanOrEqual(
                2 ** -22 * Math.max(Math.abs(v), scale * 1e-6),
              );
          });
          const p32 = prod(x, axis, keepDims);
          const p64 = prod(x64, axis, keepDims);
          p64.data.forEach((v, i) => {
            const n = ref.groups[i]!.length;
            expect(Math.abs(p32.data[i]! - v)).toBeLessThanOrEqual(n * 2 ** -24 * Math.abs(v) + 1e-30);
          });
        },
      ),
      { seed: SEED + 2, numRuns: 100 },
    );
  });
});

describe('errors', () => {
  it('max/min/argmax/argmin of an empty reduction is a DomainError naming the op and the shape', () => {
    for (const name of ['max', 'min', 'argmax', 'argmin']) {
      expectError(() => fns[name]!(zeros([0])), DomainError, name, '[0]', 'zero elements');
      expectError(() => fns[name]!(zeros([2, 0]), 1), DomainError, name, '[2, 0]', 'axis 1');
      expectError(() => fns[name]!(zeros([0, 3]), 0, true), DomainError, name, '[0, 3]');
      // Reducing a non-empty axis of an empty tensor is fine (the result is empty).
      expect(fns[name]!(zeros([0, 3]), 1).shape).toEqual([0]);
    }
  });

  it('bad axes are ShapeErrors naming the op; non-tensors are ArgumentErrors', () => {
    for (const name of Object.keys(fns)) {
      expectError(() => fns[name]!(zeros([2, 3]), 2), ShapeError, name, 'axis 2', 'rank 2');
      expectError(() => fns[name]!(zeros([2, 3]), -3), ShapeError, name, 'axis -3');
      expectError(() => fns[name]!(zeros([2, 3]), [0, -2]), ShapeError, name, 'repeats');
      expectError(() => fns[name]!(zeros([2, 3]), 0.5), ShapeError, name);
      expectError(() => fns[name]!([1, 2] as unknown as Tensor), ArgumentError, name, 'Tensor');
    }
  });
});

describe('sum over every axis but the last (bias gradients)', () => {
  it('is the float64 sum of the rows in row order, rounded once: bit for bit, any row count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (lead, rowsPerLead, cols, dtype, seed) => {
          const rows = lead * rowsPerLead;
          let s = seed;
          const values = Array.from({ length: rows * cols }, () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return (s / 2 ** 32 - 0.5) * 10 ** ((s % 7) - 3);
          });
          const x = fromArray(values, [lead, rowsPerLead, cols], { dtype });
          const got = x.sum([0, 1]).toArray();
          const want = new Float64Array(cols);
          const stored = x.toArray();
          for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) want[j] += stored[r * cols + j]!;
          const rounded = dtype === 'float32' ? Float32Array.from(want) : want;
          expect(Array.from(got)).toEqual(Array.from(rounded));
        },
      ),
      propertyConfig({ numRuns: 200 }),
    );
  });
});
