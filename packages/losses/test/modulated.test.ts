import {
  ArgumentError,
  DtypeError,
  fromArray,
  grad,
  ones,
  ShapeError,
  symbol,
  type Tensor,
  whereValue,
} from '@gradkit/autograd';
import {
  asymmetric,
  BCELoss,
  BCEWithLogitsLoss,
  bce,
  bceWithLogits,
  defineModulatedLoss,
  FocalLoss,
  focal,
  poly1,
  qfocal,
  type Reduction,
  sigmoidFocal,
  stabilize,
  varifocal,
} from '@gradkit/losses';
import { describeWorst, gradcheckTensor, gradgradcheckTensor } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cubicFocal, leaf, maxRelDiff, smallShape, targetValue, tensorOf } from './helpers.js';

const f64 = (data: number[], shape = [data.length]) => fromArray(data, shape, { dtype: 'float64' });

/** A reference built from plain tensor ops (moderate logits, where the naive formulas are accurate). */
function reference(x: Tensor, y: Tensor, weightOf: (p: Tensor, y: Tensor) => Tensor): Tensor {
  const ce = x.softplus().sub(x.mul(y));
  return weightOf(x.sigmoid(), y).mul(ce);
}

const moderate = smallShape.chain((shape) =>
  fc.record({
    x: tensorOf(shape, fc.double({ min: -6, max: 6, noNaN: true })),
    y: tensorOf(shape, targetValue('mixed')),
  }),
);

function compareWithReference(
  ours: (x: Tensor, y: Tensor) => Tensor,
  ref: (x: Tensor, y: Tensor) => Tensor,
  seed: number,
) {
  fc.assert(
    fc.property(moderate, ({ x, y }) => {
      const [a, b] = [ours, ref].map((f) => {
        const u = leaf(x);
        const v = leaf(y);
        const out = f(u, v);
        const gs = grad(out, [u, v], {
          gradOutputs: [ones([...out.shape], { dtype: 'float64' })],
          allowUnused: true,
        });
        return { out: out.data, gs: gs.map((g) => (g === null ? new Float64Array(x.size) : g.data)) };
      });
      expect(maxRelDiff(a!.out, b!.out)).toBeLessThan(1e-12);
      expect(maxRelDiff(a!.gs[0]!, b!.gs[0]!)).toBeLessThan(1e-11);
      expect(maxRelDiff(a!.gs[1]!, b!.gs[1]!)).toBeLessThan(1e-11);
    }),
    { seed, numRuns: 60 },
  );
}

describe('the focal family against plain tensor-op references', () => {
  test('focal (YOLOv5): ce · alpha_t · (1 − pt)^gamma', () => {
    compareWithReference(
      (x, y) => focal(x, y, { gamma: 2, alpha: 0.3, reduction: 'none' }),
      (x, y) =>
        reference(x, y, (p, t) => {
          const pt = t.mul(p).add(t.neg().add(1).mul(p.neg().add(1)));
          return t.mul(0.3).add(t.neg().add(1).mul(0.7)).mul(pt.neg().add(1).pow(2));
        }),
      201,
    );
  });

  test('sigmoidFocal: torchvision defaults (gamma 2, alpha 0.25, reduction none); alpha < 0 disables alpha_t', () => {
    const x = f64([0.3, -2, 4]);
    const y = f64([1, 0, 0.5]);
    expect(Array.from(sigmoidFocal(x, y).data)).toEqual(
      Array.from(focal(x, y, { gamma: 2, alpha: 0.25, reduction: 'none' }).data),
    );
    const noAlpha = sigmoidFocal(x, y, { alpha: -1 }).data;
    const half = focal(x, y, { gamma: 2, alpha: 0.5, reduction: 'none' }).data;
    noAlpha.forEach((v, i) => {
      expect(v).toBeCloseTo(2 * half[i]!, 14);
    });
  });

  test('qfocal: ce · alpha_t · |y − p|^gamma', () => {
    compareWithReference(
      (x, y) => qfocal(x, y, { gamma: 1.5, reduction: 'none' }),
      (x, y) =>
        reference(x, y, (p, t) => t.mul(0.25).add(t.neg().add(1).mul(0.75)).mul(t.sub(p).abs().pow(1.5))),
      202,
    );
  });

  test('varifocal: ce · (y > 0 ? y : alpha·|p − y|^gamma)', () => {
    compareWithReference(
      (x, y) => varifocal(x, y, { reduction: 'none' }),
      (x, y) =>
        reference(x, y, (p, t) => {
          const pos = t.gt(0);
          return pos.mul(t).add(pos.neg().add(1).mul(p.sub(t).abs().pow(2).mul(0.75)));
        }),
      203,
    );
  });

  test('poly1: ce + epsilon·(1 − pt)', () => {
    compareWithReference(
      (x, y) => poly1(x, y, { epsilon: 2, reduction: 'none' }),
      (x, y) => {
        const p = x.sigmoid();
        const pt = y.mul(p).add(y.neg().add(1).mul(p.neg().add(1)));
        return x.softplus().sub(x.mul(y)).add(pt.neg().add(1).mul(2));
      },
      204,
    );
  });

  test('asymmetric (ASL): the reference code, weight not detached', () => {
    compareWithReference(
      (x, y) => asymmetric(x, y, { detachWeight: false, reduction: 'none' }),
      (x, y) => {
        const p = x.sigmoid();
        const xsNeg = p.neg().add(1).add(0.05).clamp(undefined, 1);
        const loss = y.mul(p.log()).add(y.neg().add(1).mul(xsNeg.log()));
        const pt = p.mul(y).add(xsNeg.mul(y.neg().add(1)));
        const gammaT = y.mul(1).add(y.neg().add(1).mul(4));
        return loss.mul(pt.neg().add(1).pow(gammaT)).neg();
      },
      205,
    );
  });

  test('asymmetric with the weight detached (default): same value, gradient without the weight term', () => {
    const x = f64([0.7, -1.2, 2.5]);
    const y = f64([1, 0, 0]);
    const u = leaf(x);
    const detached = asymmetric(u, y);
    const [g] = grad(detached, [u]) as [Tensor];
    const v = leaf(x);
    const attached = asymmetric(v, y, { detachWeight: false });
    expect(detached.item()).toBeCloseTo(attached.item(), 14);
    // d/dx with w constant: w · d(base)/dx.
    const p = x.sigmoid().data;
    const w = [1 - p[0]!, Math.max(p[1]! - 0.05, 0) ** 4, Math.max(p[2]! - 0.05, 0) ** 4];
    const neg = (q: number) => (q * (1 - q)) / Math.min(1 - q + 0.05, 1);
    const dBase = [-(1 - p[0]!), neg(p[1]!), neg(p[2]!)];
    g.data.forEach((v2, i) => {
      expect(v2).toBeCloseTo(w[i]! * dBase[i]!, 12);
    });
    expect(() => asymmetric(x, y, { posWeight: f64([2]) })).toThrow(ArgumentError);
  });

  test('FocalLoss wraps a BCEWithLogitsLoss: its posWeight, weight and reduction apply (YOLOv5 pattern)', () => {
    const x = f64([0.3, -2, 4, 1], [2, 2]);
    const y = f64([1, 0, 0.5, 1], [2, 2]);
    const pw = f64([1.5]);
    const w = f64([0.5, 2]);
    const bceFn = new BCEWithLogitsLoss({ posWeight: pw, weight: w, reduction: 'sum' });
    const fl = new FocalLoss(bceFn, 2, 0.4);
    expect(bceFn.reduction).toBe('none');
    expect(fl.reduction).toBe('sum');
    expect(fl.forward(x, y).item()).toBe(
      focal(x, y, { gamma: 2, alpha: 0.4, posWeight: pw, weight: w, reduction: 'sum' }).item(),
    );
    const plain = new BCELoss({ reduction: 'none' }).forward(x.sigmoid(), y);
    expect(plain.shape).toEqual([2, 2]);
    expect(maxRelDiff(plain.data, bceWithLogits(x, y, { reduction: 'none' }).data)).toBeLessThan(1e-12);
  });
});

describe('defineModulatedLoss', () => {
  test('the issue example: a cubic focal factor equals focal with gamma 3', () => {
    const x = f64([0.3, -2, 4, 9, -15]);
    const y = f64([1, 0, 0.5, 0, 1]);
    const a = cubicFocal(x, y, { alpha: 0.25, reduction: 'mean' });
    const b = focal(x, y, { gamma: 3, alpha: 0.25, reduction: 'mean' });
    expect(a.item()).toBe(b.item());
  });

  test('per-class parameter tensors (gamma, alpha) broadcast and receive gradients', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<Reduction>('mean', 'sum'),
        (n, c, reduction) => {
          const x = fromArray(
            Array.from({ length: n * c }, (_, i) => Math.sin(i + 1) * 4),
            [n, c],
            { dtype: 'float64' },
          );
          const y = fromArray(
            Array.from({ length: n * c }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3)),
            [n, c],
            {
              dtype: 'float64',
            },
          );
          const gamma = fromArray(
            Array.from({ length: c }, (_, i) => 0.5 + i),
            [c],
            { dtype: 'float64', requiresGrad: true },
          );
          const alpha = fromArray(
            Array.from({ length: c }, (_, i) => 0.2 + 0.2 * i),
            [c],
            { dtype: 'float64', requiresGrad: true },
          );
          const fn = (u: Tensor, v: Tensor, gm: Tensor, al: Tensor) =>
            focal(u, v, { gamma: gm, alpha: al, reduction });
          const inputs = [leaf(x), leaf(y), gamma, alpha];
          const r1 = gradcheckTensor(fn, inputs, { atol: 1e-6, rtol: 1e-4 });
          expect(r1.ok, describeWorst(r1)).toBe(true);
          const r2 = gradgradcheckTensor(fn, inputs, { atol: 1e-5, rtol: 1e-3 });
          expect(r2.ok, describeWorst(r2)).toBe(true);
          // With the same numbers as constants: same value.
          if (c === 1) {
            const k = focal(x, y, { gamma: gamma.data[0]!, alpha: alpha.data[0]!, reduction });
            expect(fn(x, y, gamma.detach(), alpha.detach()).item()).toBeCloseTo(k.item(), 12);
          }
        },
      ),
      { seed: 301, numRuns: 15 },
    );
  });

  test('detach in a factor stops its gradient (EFL/ASL style) but keeps its value', () => {
    const detachedFocal = defineModulatedLoss({
      name: 'detached-focal',
      factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma).detach(),
      params: { gamma: 2 },
    });
    const x = f64([0.4, -1.3, 2]);
    const y = f64([1, 0, 1]);
    const u = leaf(x);
    const out = detachedFocal(u, y, { reduction: 'sum' });
    expect(out.item()).toBeCloseTo(focal(x, y, { gamma: 2, alpha: -1, reduction: 'sum' }).item(), 14);
    const [g] = grad(out, [u]) as [Tensor];
    // d/dx = (1 − pt)^2 · (sigmoid(x) − y)
    const p = x.sigmoid().data;
    g.data.forEach((v, i) => {
      const yi = y.data[i]!;
      const q = yi * (1 - p[i]!) + (1 - yi) * p[i]!;
      expect(v).toBeCloseTo(q * q * (p[i]! - yi), 13);
    });
  });

  test('an additive term (Poly style) and parameters overridden per call', () => {
    const polyFocal = defineModulatedLoss({
      name: 'poly-focal',
      factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
      additive: ({ pt }, { epsilon, gamma }) => pt.neg().add(1).pow(gamma.add(1)).mul(epsilon),
      params: { gamma: 2, epsilon: 1 },
    });
    const x = f64([0.4, -1.3, 2]);
    const y = f64([1, 0, 0.25]);
    const p = x.sigmoid();
    const q = y.mul(p.neg().add(1)).add(y.neg().add(1).mul(p));
    const want = focal(x, y, { gamma: 2, alpha: -1, reduction: 'none' }).add(q.pow(3).mul(0.5));
    const got = polyFocal(x, y, { epsilon: 0.5, reduction: 'none' });
    expect(maxRelDiff(got.data, want.data)).toBeLessThan(1e-13);
  });

  test('kernels are compiled once per parameter set (calls reuse the cached program)', () => {
    const counting = defineModulatedLoss({
      name: 'counting',
      factor: ({ pt }, { gamma }) => {
        calls++;
        return pt.neg().add(1).pow(gamma);
      },
      params: { gamma: 2 },
    });
    let calls = 0;
    const x = f64([0.4, -1.3]);
    const y = f64([1, 0]);
    for (let i = 0; i < 5; i++) counting(x, y);
    expect(calls).toBe(1);
    counting(x, y, { gamma: 3 });
    counting(x, y, { gamma: 3 });
    expect(calls).toBe(2);
    counting(x, y, { gamma: 3, weight: f64([1, 2]) });
    expect(calls).toBe(3);
  });

  test('stable rewriting: 1 − pt, powers and logs of probabilities stay exact at saturated logits', () => {
    // (1 − pt)^0.3 at x = 60, y = 1 is sigmoid(−60)^0.3, not 0 (PyTorch: 1 − pt rounds to 0).
    const l = defineModulatedLoss({ name: 'rw', factor: ({ pt }) => pt.neg().add(1).pow(0.3), alpha: null });
    const x = f64([60]);
    const y = f64([1]);
    const e = Math.exp(-60);
    expect(l(x, y, { reduction: 'sum' }).item() / (e / (1 + e)) ** 0.3 / Math.log1p(e)).toBeCloseTo(1, 12);
    // log(p) and log(1 − p) become logSigmoid.
    const logs = defineModulatedLoss({
      name: 'logs',
      factor: ({ p }) => p.log().neg().add(p.neg().add(1).log().neg()),
    });
    const v = logs(f64([-800]), f64([0]), { reduction: 'sum' }).item();
    expect(Number.isFinite(v)).toBe(true);
    // The rewriter leaves unknown subexpressions alone.
    const z = symbol('z');
    expect(stabilize(z.exp().expr)).toBe(z.exp().expr);
  });

  test('errors: dtype, shape, bad factor, stray symbols, bad params and reductions', () => {
    const x = f64([0.4, -1.3]);
    const y = f64([1, 0]);
    const y32 = fromArray([1, 0], [2], { dtype: 'float32' });
    expect(() => focal(x, y32)).toThrow(DtypeError);
    expect(() => bce(x.sigmoid(), y, { weight: fromArray([1, 1], [2], { dtype: 'float32' }) })).toThrow(
      DtypeError,
    );
    expect(() => focal(x, f64([1, 0, 1]))).toThrow(ShapeError);
    expect(() => focal(x, y, { posWeight: f64([1, 2, 3]) })).toThrow(/posWeight.*\[3\].*\[2\]/);
    expect(() => focal(x, y, { weight: f64([1, 1], [2, 1]) })).toThrow(ShapeError);
    expect(() => focal(x, y, { gamma: Number.NaN })).toThrow(ArgumentError);
    expect(() => focal(x, y, { reduction: 'avg' as Reduction })).toThrow(ArgumentError);
    const stray = defineModulatedLoss({ name: 'stray', factor: () => symbol('z').mul(2) });
    expect(() => stray(x, y)).toThrow(/symbol\(s\) z/);
    const bad = defineModulatedLoss({ name: 'bad', factor: () => 'no' as unknown as number });
    expect(() => bad(x, y)).toThrow(ArgumentError);
    expect(() => defineModulatedLoss({ name: '', factor: () => 1 })).toThrow(ArgumentError);
    expect(() => bce(f64([0.5, 1.5]), y)).toThrow(/between 0 and 1/);
    expect(() => bce(f64([0.5, Number.NaN]), y)).toThrow(/between 0 and 1/);
  });

  test('where-based factors (varifocal style) work through whereValue', () => {
    const gated = defineModulatedLoss({
      name: 'gated',
      factor: ({ y, p }) => whereValue(y.gt(0.5), p.neg().add(1), p),
    });
    const x = f64([0.4, -1.3]);
    const y = f64([1, 0]);
    const got = gated(x, y, { reduction: 'none' }).data;
    const want = focal(x, y, { gamma: 1, alpha: -1, reduction: 'none' }).data;
    expect(maxRelDiff(got, want)).toBeLessThan(1e-15);
  });
});
