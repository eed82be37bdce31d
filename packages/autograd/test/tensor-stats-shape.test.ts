/**
 * var, std, norm, clone, repeat, tile, .T, .mT and the spread-or-list size arguments: values against naive
 * references over random shapes and axes, float64 gradcheck + gradgradcheck, and the errors.
 */
import {
  ArgumentError,
  type Axis,
  clone,
  DomainError,
  grad,
  norm,
  repeat,
  ShapeError,
  std,
  type Tensor,
  tensor,
  tile,
  variance,
  zeros,
} from '@gradkit/autograd';
import { propertyConfig, shape, tensorOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { at, checkGrads, expectElements, expectOpError } from './helpers.js';

/** The reduced groups of `x` (row-major over the kept axes) and the result shape, naively. */
function groups(
  x: Tensor,
  axis: number | undefined,
  keepDims: boolean,
): { shape: number[]; groups: number[][] } {
  const axes = axis === undefined ? x.shape.map((_, i) => i) : x.ndim === 0 ? [] : [(axis + x.ndim) % x.ndim];
  const shapeOut = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const out: number[][] = Array.from({ length: kept.reduce((a, d) => a * d, 1) }, () => []);
  const idx = new Array<number>(x.ndim).fill(0);
  for (let e = 0; e < x.size; e++) {
    let o = 0;
    for (let d = 0; d < x.ndim; d++) if (!axes.includes(d)) o = o * x.shape[d]! + idx[d]!;
    out[o]!.push(x.data[e]!);
    for (let d = x.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape: shapeOut, groups: out };
}

const close = (a: number, b: number) =>
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) || (Number.isNaN(a) && Number.isNaN(b));

/** A float64 input of a random shape (1..12 elements) and an axis (undefined or in range, negative too). */
const inputAndAxis = tensorOf(shape({ minRank: 1, maxRank: 3, maxDim: 3, maxSize: 12 }), {
  minAbs: 0.1,
  requiresGrad: true,
}).chain((x) =>
  fc.tuple(
    fc.constant(x),
    fc.option(fc.integer({ min: -x.ndim, max: x.ndim - 1 }), { nil: undefined }),
    fc.boolean(),
  ),
);

describe('var, std, norm', () => {
  it('match the naive definitions (correction 0/1, keepDims) and pass gradcheck + gradgradcheck', () => {
    fc.assert(
      fc.property(
        inputAndAxis,
        fc.constantFrom(0, 1),
        fc.constantFrom(1, 2, 3, Number.POSITIVE_INFINITY),
        ([x, axis, keepDims], correction, p) => {
          const g = groups(x, axis, keepDims);
          const v = variance(x, axis as Axis | undefined, { correction, keepDims });
          const sd = x.std(axis, { correction, keepDims });
          const nm = x.norm(p, axis, keepDims);
          expect([v.shape, sd.shape, nm.shape]).toEqual([g.shape, g.shape, g.shape]);
          g.groups.forEach((vals, o) => {
            const m = vals.reduce((a, b) => a + b, 0) / vals.length;
            const ss = vals.reduce((a, b) => a + (b - m) ** 2, 0);
            const want = ss / Math.max(0, vals.length - correction);
            expect(close(v.data[o]!, want), `var ${v.data[o]} vs ${want}`).toBe(true);
            expect(close(sd.data[o]!, Math.sqrt(want))).toBe(true);
            const n =
              p === Number.POSITIVE_INFINITY
                ? Math.max(...vals.map(Math.abs))
                : vals.reduce((a, b) => a + Math.abs(b) ** p, 0) ** (1 / p);
            expect(close(nm.data[o]!, n), `norm ${nm.data[o]} vs ${n}`).toBe(true);
          });
          const big = g.groups.every((vals) => vals.length > correction);
          if (big) {
            checkGrads((t) => variance(t, axis, { correction, keepDims }), [x]);
            // std's gradient is NaN where the deviation is 0 (as in PyTorch): check it away from there.
            if (v.data.every((d) => d > 1e-3)) checkGrads((t) => std(t, axis, { correction, keepDims }), [x]);
          }
          if (p !== Number.POSITIVE_INFINITY) checkGrads((t) => norm(t, p, axis, keepDims), [x]);
        },
      ),
      propertyConfig({ numRuns: 25 }),
    );
  });

  it('edge semantics: N <= correction gives NaN/inf; norm of zeros has gradient 0; p = 0, -inf', () => {
    expect(Number.isNaN(variance(tensor([3])).item())).toBe(true);
    expect(variance(tensor([3, 5]), undefined, { correction: 2 }).item()).toBe(Number.POSITIVE_INFINITY);
    expect(variance(tensor([3, 5]), 0, { correction: 0 }).item()).toBe(1);
    const z = zeros([3], { dtype: 'float64', requiresGrad: true });
    for (const p of [2, 3, 1.5]) {
      const [g] = grad(norm(z, p), z);
      expect(g!.tolist()).toEqual([0, 0, 0]);
      expect(norm(z, p).item()).toBe(0);
    }
    expect(norm(tensor([0, -2, 3, 0]), 0).item()).toBe(2);
    expect(norm(tensor([1, -2, 3]), Number.NEGATIVE_INFINITY).item()).toBe(1);
    expect(
      tensor([[3, 4]])
        .norm()
        .item(),
    ).toBe(5);
  });

  it('errors', () => {
    const x = tensor([1, 2]);
    expectOpError(() => x.var(0, { correction: -1 }), ArgumentError, 'var', 'correction');
    expectOpError(() => x.var(0, { unbiased: true } as never), ArgumentError, 'var', 'unbiased');
    expectOpError(() => x.std(0, { keepDims: 1 } as never), ArgumentError, 'std', 'keepDims');
    expectOpError(() => x.var(2), ShapeError, 'var', 'axis 2');
    expectOpError(() => x.norm(-1), DomainError, 'norm', 'p');
    expectOpError(() => x.norm(Number.NaN), DomainError, 'norm');
    expectOpError(() => variance('x' as never), ArgumentError, 'var');
  });
});

describe('clone, repeat, tile, .T, .mT, reshape(2, 3) and reshape([2, 3])', () => {
  it('clone copies storage and passes the gradient through', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const c = clone(x);
    expect(c.data).not.toBe(x.data);
    expect(c.tolist()).toEqual([1, 2, 3]);
    checkGrads((t) => t.clone().square(), [x]);
  });

  it('repeat and tile match the naive definition, sizes spread or as a list; gradcheck', () => {
    const arb = tensorOf(shape({ maxRank: 3, maxDim: 3, maxSize: 8 }), { requiresGrad: true }).chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: x.ndim, maxLength: x.ndim + 2 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, reps]) => {
        const padded = [...new Array(reps.length - x.ndim).fill(1), ...x.shape];
        const want = reps.map((r, i) => r * padded[i]!);
        const r1 = repeat(x, reps);
        const r2 = reps.length > 0 ? x.repeat(...reps) : x.repeat([]);
        const r3 = x.repeat(reps);
        for (const r of [r1, r2, r3]) {
          expectElements(r, want, (idx) =>
            at(
              x,
              idx.slice(reps.length - x.ndim).map((v, d) => v % x.shape[d]!),
            ),
          );
        }
        expect(tile(x, reps).shape).toEqual(want);
        if (want.every((d) => d > 0)) checkGrads((t) => t.repeat(reps), [x]);
      }),
      propertyConfig({ numRuns: 30 }),
    );
    expect(tile(tensor([[1, 2]]), [2]).tolist()).toEqual([[1, 2, 1, 2]]);
    expect(tensor([1, 2]).tile(2, 1).tolist()).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expectOpError(() => tensor([[1]]).repeat(2), ShapeError, 'repeat', 'can not be smaller');
    expectOpError(() => tensor([1]).repeat(-1), ShapeError, 'repeat');
    expectOpError(() => tensor([1]).repeat(2 ** 31), ShapeError, 'repeat', 'elements');
  });

  it('.T reverses all dimensions, .mT swaps the last two; gradcheck', () => {
    fc.assert(
      fc.property(tensorOf(shape({ maxRank: 4, maxDim: 3, maxSize: 24 }), { requiresGrad: true }), (x) => {
        const rev = [...x.shape].reverse();
        expectElements(x.T, rev, (idx) => at(x, [...idx].reverse()));
        checkGrads((t) => t.T, [x]);
        if (x.ndim < 2) {
          expectOpError(() => x.mT, ShapeError, 'mT', 'at least 2 dimensions');
          return;
        }
        const sw = [...x.shape];
        [sw[x.ndim - 2], sw[x.ndim - 1]] = [sw[x.ndim - 1]!, sw[x.ndim - 2]!];
        expectElements(x.mT, sw, (idx) => {
          const j = [...idx];
          [j[x.ndim - 2], j[x.ndim - 1]] = [j[x.ndim - 1]!, j[x.ndim - 2]!];
          return at(x, j);
        });
        checkGrads((t) => t.mT, [x]);
      }),
      propertyConfig({ numRuns: 30 }),
    );
  });

  it('reshape/view/expand/permute take sizes spread or as one list, like PyTorch', () => {
    const x = tensor([1, 2, 3, 4, 5, 6]);
    for (const r of [x.reshape(2, 3), x.reshape([2, 3]), x.view(2, -1), x.view([-1, 3])]) {
      expect(r.shape).toEqual([2, 3]);
    }
    const m = x.reshape([2, 3]);
    expect(m.permute([1, 0]).tolist()).toEqual(m.permute(1, 0).tolist());
    expect(
      tensor([[1], [2]])
        .expand([2, 3])
        .tolist(),
    ).toEqual(
      tensor([[1], [2]])
        .expand(2, 3)
        .tolist(),
    );
    expect(tensor([[1], [2]]).expand([-1, 2]).shape).toEqual([2, 2]);
    expectOpError(() => x.reshape([2, 2]), ShapeError, 'reshape');
  });
});
