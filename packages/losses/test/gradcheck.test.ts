import type { Tensor } from '@gradkit/autograd';
import type { Reduction } from '@gradkit/losses';
import { describeWorst, gradcheckTensor, gradgradcheckTensor } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LOSSES, type LossUnderTest, smallShape, targetValue, tensorOf } from './helpers.js';

/**
 * Inputs of one check: logits (or probabilities), targets, weight and posWeight, all float64. Finite
 * differences in the target are only accurate where 1 − pt is not tiny compared with the step (1e-6), so hard
 * targets get the full logit range [−30, 30] with a target that does not require grad, or the range [−8, 8]
 * with one that does; soft targets (in [0.02, 0.98]) get the full range and a target gradient.
 */
function caseArb(loss: LossUnderTest) {
  const kind = fc.constantFrom('soft', 'hard', 'hard-near');
  return fc.tuple(smallShape, kind).chain(([shape, k]) => {
    const last = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const range = k === 'hard-near' ? 8 : 30;
    const x =
      loss.input === 'prob'
        ? fc.double({ min: 0.02, max: 0.98, noNaN: true })
        : fc.double({ min: -range, max: range, noNaN: true });
    const y =
      k === 'soft'
        ? targetValue('soft')
        : loss.smoothTargets === 'positive' && k === 'hard-near'
          ? fc.constant(1)
          : targetValue('hard');
    const per = shape.length === 0 ? [] : [last];
    return fc.record({
      input: tensorOf(shape, x, true),
      target: tensorOf(shape, y, k !== 'hard'),
      // weight and posWeight per class (last dim), broadcast over the rest
      weight: fc.option(tensorOf(per, fc.double({ min: 0.2, max: 2, noNaN: true }), true)),
      posWeight: fc.option(tensorOf(per, fc.double({ min: 0.2, max: 3, noNaN: true }), true)),
      reduction: fc.constantFrom<Reduction>('none', 'mean', 'sum'),
    });
  });
}

function fnOf(loss: LossUnderTest, hasWeight: boolean, hasPos: boolean, reduction: Reduction) {
  return (...ts: Tensor[]) => {
    const [x, y] = ts as [Tensor, Tensor];
    let k = 2;
    const weight = hasWeight ? ts[k++] : undefined;
    const posWeight = hasPos ? ts[k++] : undefined;
    return loss.call(x, y, { weight, posWeight }, reduction);
  };
}

describe.each(LOSSES.map((l) => [l.name, l] as const))('%s', (_name, loss) => {
  test('gradcheck and gradgradcheck (float64) over random shapes, hard and soft targets', () => {
    fc.assert(
      fc.property(caseArb(loss), (c) => {
        const hasPos = loss.posWeight && c.posWeight !== null;
        const inputs = [
          c.input,
          c.target,
          ...(c.weight ? [c.weight] : []),
          ...(hasPos ? [c.posWeight!] : []),
        ];
        const fn = fnOf(loss, c.weight !== null, hasPos, c.reduction);
        const r1 = gradcheckTensor(fn, inputs, { atol: 1e-6, rtol: 1e-4 });
        expect(r1.ok, describeWorst(r1)).toBe(true);
        const r2 = gradgradcheckTensor(fn, inputs, { atol: 1e-5, rtol: 1e-3, seed: 7 });
        expect(r2.ok, describeWorst(r2)).toBe(true);
      }),
      { seed: 0x10_55e5, numRuns: 25 },
    );
  });
});
