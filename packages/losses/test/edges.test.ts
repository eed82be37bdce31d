import { type DType, fromArray, grad, ones, type Tensor } from '@gradkit/autograd';
import { bceWithLogits, focal, qfocal, type Reduction } from '@gradkit/losses';
import { describe, expect, test } from 'vitest';
import { LOSSES, type LossUnderTest } from './helpers.js';

const EDGE_LOGITS = [0, 17, -17, 88, -88, 1e4, -1e4];
const TARGETS = [0, 1, 0.25, 0.7];

/** Loss, gradients and Hessian-vector product (v = 1) per element, for every (logit, target) pair. */
function evaluate(
  loss: LossUnderTest,
  xs: number[],
  ys: number[],
  dtype: DType,
  reduction: Reduction = 'none',
) {
  const x = fromArray(xs, [xs.length], { dtype, requiresGrad: true });
  const y = fromArray(ys, [ys.length], { dtype, requiresGrad: true });
  const out = loss.call(x, y, {}, reduction);
  const seed = ones([...out.shape], { dtype });
  const [gx, gy] = grad(out, [x, y], { gradOutputs: [seed], createGraph: true }) as [Tensor, Tensor];
  const [h] = grad(gx.sum(), [x]) as [Tensor];
  return { loss: out.data, gx: gx.data, gy: gy.data, hvp: h.data };
}

/** First-order gradients through the fast backward (no graph of the backward). */
function firstOrder(loss: LossUnderTest, xs: number[], ys: number[]) {
  const x = fromArray(xs, [xs.length], { dtype: 'float64', requiresGrad: true });
  const y = fromArray(ys, [ys.length], { dtype: 'float64', requiresGrad: true });
  const out = loss.call(x, y, {}, 'sum');
  const [gx, gy] = grad(out, [x, y]) as [Tensor, Tensor];
  return { gx: gx.data, gy: gy.data };
}

function pairs(logits: number[]): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const x of logits) {
    for (const y of TARGETS) {
      xs.push(x);
      ys.push(y);
    }
  }
  return { xs, ys };
}

const allFinite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

const logitLosses = LOSSES.filter((l) => l.input === 'logit');
const focalGammas: LossUnderTest[] = [0, 0.25, 0.5, 1, 1.5, 2, 5].map((gamma) => ({
  ...logitLosses.find((l) => l.name === 'focal')!,
  name: `focal(gamma ${gamma})`,
  call: (x, y, e, r) => focal(x, y, { ...e, gamma, reduction: r }),
}));

describe.each([...logitLosses, ...focalGammas].map((l) => [l.name, l] as const))(
  '%s at edge logits',
  (_n, loss) => {
    test.each(['float64', 'float32'] as const)(
      'loss, gradients and Hessian-vector products are finite at x in {0, ±17, ±88, ±1e4} (%s)',
      (dtype) => {
        const { xs, ys } = pairs(EDGE_LOGITS);
        const r = evaluate(loss, xs, ys, dtype);
        expect(allFinite(r.loss), `loss ${Array.from(r.loss)}`).toBe(true);
        expect(allFinite(r.gx), `grad input ${Array.from(r.gx)}`).toBe(true);
        expect(allFinite(r.gy), `grad target ${Array.from(r.gy)}`).toBe(true);
        expect(allFinite(r.hvp), `hvp ${Array.from(r.hvp)}`).toBe(true);
      },
    );

    // Second derivatives at x = ±inf itself are not promised (they may be NaN); at ±1e4 they are finite (above).
    test('at x = ±inf the loss is its limit (never NaN) and its gradients are finite wherever the loss is', () => {
      const { xs, ys } = pairs([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const r = evaluate(loss, xs, ys, 'float64');
      const fast = firstOrder(loss, xs, ys);
      // The limit, judged from the loss at ±1e300: +inf where it grows without bound, else that value.
      const far = evaluate(
        loss,
        xs.map((x) => Math.sign(x) * 1e300),
        ys,
        'float64',
      );
      r.loss.forEach((v, i) => {
        expect(Number.isNaN(v), `loss at x=${xs[i]}, y=${ys[i]}`).toBe(false);
        if (far.loss[i]! > 1e200) expect(v).toBe(Number.POSITIVE_INFINITY);
        else expect(v, `loss at x=${xs[i]}, y=${ys[i]}`).toBeCloseTo(far.loss[i]!, 12);
        if (Number.isFinite(v)) {
          expect(Number.isFinite(r.gx[i]!), `grad input at x=${xs[i]}, y=${ys[i]}`).toBe(true);
          expect(fast.gx[i], `fast-path grad input at x=${xs[i]}, y=${ys[i]}`).toBe(r.gx[i]);
          expect(Number.isNaN(r.gy[i]!), `grad target at x=${xs[i]}, y=${ys[i]}`).toBe(false);
        }
      });
    });
  },
);

describe('exact values where PyTorch gives NaN', () => {
  test('bceWithLogits at x = ±inf: limits of the loss and finite gradients', () => {
    const xs = [-Infinity, -Infinity, -Infinity, Infinity, Infinity, Infinity];
    const ys = [0, 1, 0.5, 0, 1, 0.5];
    const x = fromArray(xs, [6], { dtype: 'float64', requiresGrad: true });
    const y = fromArray(ys, [6], { dtype: 'float64', requiresGrad: true });
    const pw = fromArray([2], [1], { dtype: 'float64' });
    const out = bceWithLogits(x, y, { posWeight: pw, reduction: 'none' });
    expect(Array.from(out.data)).toEqual([0, Infinity, Infinity, Infinity, 0, Infinity]);
    const [gx] = grad(out, [x], { gradOutputs: [ones([6], { dtype: 'float64' })] });
    // d/dx = (1 − y)·sigmoid(x) − pw·y·sigmoid(−x)
    expect(Array.from(gx!.data)).toEqual([0, -2, -1, 1, 0, 0.5]);
    // 'mean' over finite-loss elements stays finite: x = −inf with y = 0 contributes exactly 0.
    const m = bceWithLogits(
      fromArray([-Infinity, 0], [2], { dtype: 'float64' }),
      fromArray([0, 0], [2], { dtype: 'float64' }),
    );
    expect(m.item()).toBeCloseTo(Math.LN2 / 2, 15);
  });

  test('focal with gamma < 1 at a saturated logit: finite, exact loss and gradients (float64 reference)', () => {
    const alpha = 0.25;
    for (const gamma of [0.25, 0.5]) {
      for (const xv of [40, 60]) {
        const x = fromArray([xv], [1], { dtype: 'float64', requiresGrad: true });
        const y = fromArray([1], [1], { dtype: 'float64', requiresGrad: true });
        const out = focal(x, y, { gamma, alpha, reduction: 'sum' });
        const [gx, gy] = grad(out, [x, y]) as [Tensor, Tensor];
        // Reference at y = 1: q = sigmoid(−x), ce = softplus(−x), alpha_t = alpha.
        const e = Math.exp(-xv);
        const q = e / (1 + e);
        const sx = 1 / (1 + e);
        const ce = Math.log1p(e);
        const f = q ** gamma;
        const loss = alpha * f * ce;
        // d/dx: q' = −sigmoid(x)·sigmoid(−x), ce' = −sigmoid(−x)
        const dx = alpha * (gamma * q ** (gamma - 1) * (-sx * q) * ce + f * -q);
        // d/dy: alpha_t' = 2·alpha − 1, q' = sigmoid(−x) − sigmoid(x), ce' = softplus(−x) − softplus(x) = −x
        const dy =
          (2 * alpha - 1) * f * ce + alpha * gamma * q ** (gamma - 1) * (q - sx) * ce + alpha * f * -xv;
        expect(out.item()).toBeCloseTo(loss, 300);
        expect(Math.abs(out.item() - loss) / loss).toBeLessThan(1e-13);
        expect(Math.abs(gx.data[0]! - dx) / Math.abs(dx)).toBeLessThan(1e-12);
        expect(Math.abs(gy.data[0]! - dy) / Math.abs(dy)).toBeLessThan(1e-12);
      }
    }
  });

  test('focal gamma 1.5 Hessian-vector products at |x| ≥ 17 in float32 are finite and match float64', () => {
    const xs = [17, -17, 20, -25, 30];
    const ys = [1, 0, 1, 0, 1];
    const hvp = (dtype: DType) => {
      const x = fromArray(xs, [xs.length], { dtype, requiresGrad: true });
      const y = fromArray(ys, [ys.length], { dtype });
      const out = focal(x, y, { reduction: 'sum' });
      const [gx] = grad(out, [x], { createGraph: true }) as [Tensor];
      return (grad(gx.sum(), [x])[0] as Tensor).data;
    };
    const h32 = hvp('float32');
    const h64 = hvp('float64');
    expect(allFinite(h32)).toBe(true);
    h64.forEach((v, i) => {
      expect(Math.abs(h32[i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)) + 1e-3 * Math.abs(v));
    });
    // Against central differences of the float64 gradient.
    const gradAt = (x0: number[]) => {
      const x = fromArray(x0, [x0.length], { dtype: 'float64', requiresGrad: true });
      const out = focal(x, fromArray(ys, [ys.length], { dtype: 'float64' }), { reduction: 'sum' });
      return (grad(out, [x])[0] as Tensor).data;
    };
    xs.forEach((_xv, i) => {
      const h = 1e-4;
      const plus = gradAt(xs.map((v, k) => (k === i ? v + h : v)))[i]!;
      const minus = gradAt(xs.map((v, k) => (k === i ? v - h : v)))[i]!;
      const fd = (plus - minus) / (2 * h);
      expect(Math.abs(h64[i]! - fd) / Math.abs(fd)).toBeLessThan(1e-6);
    });
  });

  test('qfocal at a saturated hard target is finite (y − p computed exactly)', () => {
    const x = fromArray([40, -40], [2], { dtype: 'float32', requiresGrad: true });
    const y = fromArray([1, 0], [2], { dtype: 'float32', requiresGrad: true });
    const out = qfocal(x, y, { gamma: 0.5, reduction: 'none' });
    const [gx, gy] = grad(out, [x, y], { gradOutputs: [ones([2], { dtype: 'float32' })] }) as [
      Tensor,
      Tensor,
    ];
    expect(allFinite(out.data) && allFinite(gx.data) && allFinite(gy.data)).toBe(true);
    // |y − p| = sigmoid(−40) ≈ 4.25e-18, not 0 as 1 − sigmoid(40) would give.
    expect(out.data[0]).toBeGreaterThan(0);
  });
});
