import {
  ArgumentError,
  arange,
  DomainError,
  grad,
  type IndexSpec,
  index,
  ShapeError,
  type SliceSpec,
  slice,
  tensor,
  zeros,
} from '@gradkit/autograd';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { at, checkGrads, expectElements, expectError, leaf, shapeArb } from './helpers.js';

/** The positions Python's `range(size)[start:end:step]` visits (step > 0): every i in range that is
 * at or after the normalized start, before the normalized end, and a whole number of steps from the start. */
function pyPositions(size: number, spec: SliceSpec): number[] {
  const norm = (v: number | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  const s = norm(spec.start, 0);
  const e = norm(spec.end, size);
  return [...Array(size).keys()].filter((i) => i >= s && i < e && (i - s) % (spec.step ?? 1) === 0);
}

const bound = fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined });
const sliceSpecArb: fc.Arbitrary<SliceSpec> = fc.record(
  { start: bound, end: bound, step: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) },
  { requiredKeys: [] },
);

describe('slice', () => {
  test('matches Python slicing (negative and out-of-range bounds, steps) and passes gradcheck + gradgradcheck', () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
        sliceSpecArb,
        fc.integer(),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, axis, spec, seed]) => {
        const x = leaf(shape, seed);
        const a = axis < 0 ? axis + shape.length : axis;
        const pos = pyPositions(shape[a]!, spec);
        const y = slice(x, axis, spec.start, spec.end, spec.step);
        const outShape = [...shape];
        outShape[a] = pos.length;
        expectElements(y, outShape, (j) => {
          const k = [...j];
          k[a] = pos[j[a]!]!;
          return at(x, k);
        });
        checkGrads((v) => v.slice(axis, spec.start, spec.end, spec.step), [x]);
      }),
      { seed: 311, numRuns: 100 },
    );
  });

  test('examples, and the backward places the gradient at the sliced positions', () => {
    const x = arange(10, undefined, 1, { dtype: 'float64', requiresGrad: true });
    expect(slice(x, 0, 1, 8, 3).tolist()).toEqual([1, 4, 7]);
    expect(slice(x, 0, -3).tolist()).toEqual([7, 8, 9]);
    expect(slice(x, 0, undefined, -8).tolist()).toEqual([0, 1]);
    expect(slice(x, 0, 20, 30).tolist()).toEqual([]);
    expect(slice(x, 0)).toBe(x);
    const [g] = grad(slice(x, 0, 1, 8, 3).sum(), [x]);
    expect(g!.tolist()).toEqual([0, 1, 0, 0, 1, 0, 0, 1, 0, 0]);
    expect(slice(zeros([2, 3]), 1, 1).dtype).toBe('float32');
  });

  test('third derivative through slice: d³/dx³ sum(slice(x)^4) = 24 x on the sliced positions', () => {
    const x = tensor([1, 2, 3, 4, 5], { dtype: 'float64', requiresGrad: true });
    const [g1] = grad(slice(x, 0, 0, 5, 2).pow(4).sum(), [x], { createGraph: true });
    const [g2] = grad(g1!.sum(), [x], { createGraph: true });
    const [g3] = grad(g2!.sum(), [x]);
    expect(g3!.tolist()).toEqual([24, 0, 72, 0, 120]);
  });

  test('errors name the op, the argument and the shape', () => {
    const x = zeros([2, 3]);
    expectError(
      () => slice(x, 1, 0, 3, 0),
      ArgumentError,
      'slice',
      'step must be positive',
      'got 0',
      '[2, 3]',
    );
    expectError(() => slice(x, 1, 0, 3, -1), ArgumentError, 'slice', 'step', '-1');
    expectError(() => slice(x, 1, 0.5), ArgumentError, 'slice', "'start'", '0.5');
    expectError(() => slice(x, 2), ShapeError, 'slice', 'axis 2', 'rank 2');
    expectError(() => slice(zeros([]), 0), ShapeError, 'slice', '0-D');
  });
});

describe('index (several axes at once)', () => {
  test('matches composing select and slice per axis; gradcheck + gradgradcheck', () => {
    const arb = shapeArb(1, 4)
      .filter((s) => s.every((d) => d > 0))
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.tuple(
            ...shape.map((d) =>
              fc.oneof(
                fc.integer({ min: -d, max: d - 1 }) as fc.Arbitrary<IndexSpec>,
                sliceSpecArb as fc.Arbitrary<IndexSpec>,
              ),
            ),
          ),
          fc.integer({ min: 0, max: shape.length }),
          fc.integer(),
        ),
      );
    fc.assert(
      fc.property(arb, ([shape, allSpecs, count, seed]) => {
        const specs = allSpecs.slice(0, count);
        const x = leaf(shape, seed);
        const y = index(x, specs);
        const kept: number[][] = [];
        const outShape: number[] = [];
        shape.forEach((d, axis) => {
          const s = specs[axis] ?? {};
          if (typeof s === 'number') kept.push([s < 0 ? s + d : s]);
          else {
            const p = pyPositions(d, s);
            kept.push(p);
            outShape.push(p.length);
          }
        });
        expectElements(y, outShape, (j) => {
          let q = 0;
          return at(
            x,
            shape.map((_, axis) =>
              typeof specs[axis] === 'number' ? kept[axis]![0]! : kept[axis]![j[q++]!]!,
            ),
          );
        });
        checkGrads((v) => v.index(...specs), [x]);
      }),
      { seed: 312, numRuns: 100 },
    );
  });

  test('examples', () => {
    const x = arange(24).reshape(2, 3, 4);
    expect(x.index(1, { start: -2 }, 0).tolist()).toEqual([16, 20]);
    expect(x.index(0, 1, 2).shape).toEqual([]);
    expect(x.index(0, 1, 2).item()).toBe(6);
    expect(x.index({}, { step: 2 }).shape).toEqual([2, 2, 4]);
    expect(x.index()).toBe(x);
    expect(
      tensor([[1, 2]])
        .index(0)
        .tolist(),
    ).toEqual([1, 2]);
  });

  test('errors', () => {
    const x = zeros([2, 3]);
    expectError(() => index(x, [0, 0, 0]), ShapeError, 'index', 'too many indices (3)', '[2, 3]');
    expectError(() => index(x, [0, 3]), DomainError, 'index', 'index 3', 'axis 1', 'size 3');
    expectError(() => index(x, [-3]), DomainError, 'index', 'index -3', 'axis 0');
    expectError(() => index(x, [{}, { step: 0 }]), ArgumentError, 'index', 'step must be positive');
    expectError(() => index(x, [1.5]), ArgumentError, 'index', '1.5');
    expectError(() => index(x, [null as unknown as IndexSpec]), ArgumentError, 'index', 'axis 0');
  });
});
