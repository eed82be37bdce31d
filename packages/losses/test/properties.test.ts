import { grad, ones, type Tensor } from '@gradkit/autograd';
import { bce, bceWithLogits, focal, type Reduction } from '@gradkit/losses';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LOSSES, leaf, maxRelDiff, smallShape, targetValue, tensorOf } from './helpers.js';

const logits = fc.double({ min: -30, max: 30, noNaN: true });
const reductionArb = fc.constantFrom<Reduction>('none', 'mean', 'sum');

/** Value and gradients (input, target, and any extra) of a loss, for an upstream gradient of ones. */
function valueAndGrads(
  f: (...ts: Tensor[]) => Tensor,
  inputs: Tensor[],
): { value: Float64Array; grads: Float64Array[] } {
  const leaves = inputs.map((t) => leaf(t));
  const out = f(...leaves);
  const gs = grad(out, leaves, {
    gradOutputs: [ones([...out.shape], { dtype: out.dtype })],
    allowUnused: true,
  });
  return {
    value: Float64Array.from(out.data),
    grads: gs.map((g, i) => (g === null ? new Float64Array(leaves[i]!.size) : Float64Array.from(g.data))),
  };
}

const caseArb = smallShape.chain((shape) =>
  fc.record({
    x: tensorOf(shape, logits),
    y: tensorOf(shape, targetValue('mixed')),
    reduction: reductionArb,
  }),
);

describe('properties', () => {
  test('focal with gamma 0 and alpha 0.5 equals 0.5 × bceWithLogits (values and gradients)', () => {
    fc.assert(
      fc.property(caseArb, ({ x, y, reduction }) => {
        const a = valueAndGrads((u, v) => focal(u, v, { gamma: 0, alpha: 0.5, reduction }), [x, y]);
        const b = valueAndGrads((u, v) => bceWithLogits(u, v, { reduction }).mul(0.5), [x, y]);
        expect(maxRelDiff(a.value, b.value)).toBeLessThan(1e-14);
        a.grads.forEach((g, i) => {
          expect(maxRelDiff(g, b.grads[i]!)).toBeLessThan(1e-14);
        });
      }),
      { seed: 101, numRuns: 100 },
    );
  });

  test('posWeight = 1 equals no posWeight, for every logit loss', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.constantFrom(...LOSSES.filter((l) => l.posWeight)),
        ({ x, y, reduction }, loss) => {
          const last = x.ndim === 0 ? [] : [x.shape[x.ndim - 1]!];
          const pw = ones(last, { dtype: 'float64' });
          const a = valueAndGrads((u, v) => loss.call(u, v, { posWeight: pw }, reduction), [x, y]);
          const b = valueAndGrads((u, v) => loss.call(u, v, {}, reduction), [x, y]);
          expect(maxRelDiff(a.value, b.value)).toBe(0);
          a.grads.forEach((g, i) => {
            expect(maxRelDiff(g, b.grads[i]!)).toBeLessThan(1e-15);
          });
        },
      ),
      { seed: 102, numRuns: 100 },
    );
  });

  test("'mean' equals 'sum' / n and 'sum' equals the sum of 'none', for every loss", () => {
    fc.assert(
      fc.property(caseArb, fc.constantFrom(...LOSSES), ({ x, y }, loss) => {
        const input = loss.input === 'prob' ? x.sigmoid() : x;
        const n = x.size;
        const none = valueAndGrads((u, v) => loss.call(u, v, {}, 'none'), [input, y]);
        const sum = valueAndGrads((u, v) => loss.call(u, v, {}, 'sum'), [input, y]);
        const mean = valueAndGrads((u, v) => loss.call(u, v, {}, 'mean'), [input, y]);
        const total = none.value.reduce((a, b) => a + b, 0);
        expect(maxRelDiff([sum.value[0]!], [total])).toBeLessThan(1e-13);
        expect(maxRelDiff([mean.value[0]!], [sum.value[0]! / n])).toBeLessThan(1e-15);
        sum.grads.forEach((g, i) => {
          expect(maxRelDiff(g, none.grads[i]!)).toBe(0);
          expect(
            maxRelDiff(
              mean.grads[i]!,
              g.map((v) => v / n),
            ),
          ).toBeLessThan(1e-14);
        });
      }),
      { seed: 103, numRuns: 100 },
    );
  });

  test('a broadcast weight equals the expanded weight (values, gradients, weight gradient summed)', () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([n, c]) =>
      fc.record({
        x: tensorOf([n, c], logits),
        y: tensorOf([n, c], targetValue('mixed')),
        w: fc.oneof(
          tensorOf([c], fc.double({ min: 0, max: 3, noNaN: true })),
          tensorOf([n, 1], fc.double({ min: 0, max: 3, noNaN: true })),
          tensorOf([1], fc.double({ min: 0, max: 3, noNaN: true })),
        ),
        reduction: reductionArb,
      }),
    );
    fc.assert(
      fc.property(arb, fc.constantFrom(...LOSSES), ({ x, y, w, reduction }, loss) => {
        const input = loss.input === 'prob' ? x.sigmoid() : x;
        const wFull = leaf(w.broadcastTo([...x.shape]).detach());
        const a = valueAndGrads((u, v, ww) => loss.call(u, v, { weight: ww }, reduction), [input, y, w]);
        const b = valueAndGrads((u, v, ww) => loss.call(u, v, { weight: ww }, reduction), [input, y, wFull]);
        expect(maxRelDiff(a.value, b.value)).toBe(0);
        expect(maxRelDiff(a.grads[0]!, b.grads[0]!)).toBe(0);
        expect(maxRelDiff(a.grads[1]!, b.grads[1]!)).toBe(0);
        // Compare against the expanded weight's gradient reduced to the weight's shape.
        const want = reduceTo(b.grads[2]!, [...x.shape], [...w.shape]);
        expect(maxRelDiff(a.grads[2]!, want)).toBeLessThan(1e-14);
      }),
      { seed: 104, numRuns: 100 },
    );
  });

  test('bce(sigmoid(x)) equals bceWithLogits(x) where both are accurate (|x| ≤ 15)', () => {
    const arb = smallShape.chain((shape) =>
      fc.record({
        x: tensorOf(shape, fc.double({ min: -15, max: 15, noNaN: true })),
        y: tensorOf(shape, targetValue('mixed')),
        reduction: reductionArb,
      }),
    );
    fc.assert(
      fc.property(arb, ({ x, y, reduction }) => {
        const a = valueAndGrads((u, v) => bce(u.sigmoid(), v, { reduction }), [x, y]);
        const b = valueAndGrads((u, v) => bceWithLogits(u, v, { reduction }), [x, y]);
        // log(sigmoid(x)) loses relative digits where sigmoid rounds near 1: compare with an absolute floor.
        expect(maxRelDiff(a.value, b.value)).toBeLessThan(1e-9);
        expect(maxRelDiff(a.grads[0]!, b.grads[0]!)).toBeLessThan(1e-9);
        expect(maxRelDiff(a.grads[1]!, b.grads[1]!)).toBeLessThan(1e-9);
      }),
      { seed: 105, numRuns: 100 },
    );
  });

  test('first derivatives agree between the fast backward and the differentiable (createGraph) backward', () => {
    fc.assert(
      fc.property(caseArb, fc.constantFrom(...LOSSES), ({ x, y, reduction }, loss) => {
        const input = loss.input === 'prob' ? x.sigmoid().detach() : x;
        const run = (createGraph: boolean) => {
          const u = leaf(input);
          const v = leaf(y);
          const out = loss.call(u, v, {}, reduction);
          const seed = ones([...out.shape], { dtype: 'float64' });
          return grad(out, [u, v], { gradOutputs: [seed], createGraph }).map((g) =>
            Float64Array.from(g!.data),
          );
        };
        const fast = run(false);
        const graph = run(true);
        expect(maxRelDiff(fast[0]!, graph[0]!)).toBeLessThan(1e-14);
        expect(maxRelDiff(fast[1]!, graph[1]!)).toBeLessThan(1e-14);
      }),
      { seed: 106, numRuns: 100 },
    );
  });
});

/** Sums a row-major array of `shape` down to the broadcastable `target` shape (float64 reference). */
function reduceTo(data: Float64Array, shape: number[], target: number[]): Float64Array {
  const t = [...Array(shape.length - target.length).fill(1), ...target];
  const out = new Float64Array(t.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) o = o * t[d]! + (t[d] === 1 ? 0 : idx[d]!);
    out[o] += data[i]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}
