import { fromArray, type Tensor } from '@gradkit/autograd';
import {
  asymmetric,
  bce,
  bceWithLogits,
  defineModulatedLoss,
  focal,
  poly1,
  qfocal,
  type Reduction,
  sigmoidFocal,
  varifocal,
} from '@gradkit/losses';
import fc from 'fast-check';

/** Extra tensors a loss call may take. */
export interface Extras {
  weight?: Tensor;
  posWeight?: Tensor;
}

/** One loss under test: how to call it and what it accepts. */
export interface LossUnderTest {
  name: string;
  /** 'logit' losses take logits; 'prob' (bce) takes probabilities. */
  input: 'logit' | 'prob';
  /** Accepts `posWeight`. */
  posWeight: boolean;
  /** Targets where the loss is smooth in the target (FD-checkable): 'any', or 'positive' (not at y = 0). */
  smoothTargets: 'any' | 'positive';
  call(x: Tensor, y: Tensor, e: Extras, reduction: Reduction): Tensor;
}

/** A custom factor defined through the research API (the example). */
export const cubicFocal = defineModulatedLoss({
  name: 'cubic-focal',
  factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
  params: { gamma: 3 },
});

/** Every loss of the package, with settings that exercise its parameters. */
export const LOSSES: readonly LossUnderTest[] = [
  {
    name: 'bce',
    input: 'prob',
    posWeight: false,
    smoothTargets: 'any',
    call: (x, y, e, r) => bce(x, y, { weight: e.weight, reduction: r }),
  },
  {
    name: 'bceWithLogits',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => bceWithLogits(x, y, { ...e, reduction: r }),
  },
  {
    name: 'focal',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => focal(x, y, { ...e, reduction: r }),
  },
  {
    name: 'focal(gamma 0.5)',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => focal(x, y, { ...e, gamma: 0.5, alpha: 0.75, reduction: r }),
  },
  {
    name: 'focal(gamma 1.3)',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => focal(x, y, { ...e, gamma: 1.3, reduction: r }),
  },
  {
    name: 'sigmoidFocal(alpha -1)',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => sigmoidFocal(x, y, { ...e, alpha: -1, reduction: r }),
  },
  {
    name: 'qfocal',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => qfocal(x, y, { ...e, reduction: r }),
  },
  {
    name: 'varifocal',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'positive',
    call: (x, y, e, r) => varifocal(x, y, { ...e, reduction: r }),
  },
  {
    name: 'asymmetric(no detach)',
    input: 'logit',
    posWeight: false,
    smoothTargets: 'positive',
    call: (x, y, e, r) => asymmetric(x, y, { ...e, detachWeight: false, reduction: r }),
  },
  {
    name: 'poly1',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => poly1(x, y, { ...e, reduction: r }),
  },
  {
    name: 'cubic-focal',
    input: 'logit',
    posWeight: true,
    smoothTargets: 'any',
    call: (x, y, e, r) => cubicFocal(x, y, { ...e, alpha: 0.25, reduction: r }),
  },
];

/** Small shapes (0 to 3 dims, each 1..3), at most 12 elements, so Jacobians stay cheap. */
export const smallShape: fc.Arbitrary<number[]> = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 })
  .filter((s) => s.reduce((a, b) => a * b, 1) <= 12);

/** Hard (0/1) or soft targets. */
export const targetValue = (kind: 'hard' | 'soft' | 'mixed'): fc.Arbitrary<number> =>
  kind === 'hard'
    ? fc.constantFrom(0, 1)
    : kind === 'soft'
      ? fc.double({ min: 0.02, max: 0.98, noNaN: true })
      : fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0.02, max: 0.98, noNaN: true }));

/** A float64 tensor of `shape` whose elements come from `element`. */
export function tensorOf(
  shape: readonly number[],
  element: fc.Arbitrary<number>,
  requiresGrad = false,
): fc.Arbitrary<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc
    .array(element, { minLength: n, maxLength: n })
    .map((data) => fromArray(data, shape, { dtype: 'float64', requiresGrad }));
}

/** A copy of `t` as a new leaf. */
export function leaf(t: Tensor, requiresGrad = true): Tensor {
  return fromArray(t.data, t.shape, { dtype: t.dtype, requiresGrad });
}

/** Largest |a − b| relative to max(1, |b|) over two arrays (NaN where they disagree on NaN). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Object.is(x, y) || x === y) continue;
    const d = Math.abs(x - y) / Math.max(1, Math.abs(y));
    m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(m, d);
  }
  return m;
}
