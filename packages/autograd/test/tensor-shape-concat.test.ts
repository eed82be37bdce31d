import {
  ArgumentError,
  arange,
  chunk,
  concat,
  grad,
  ShapeError,
  split,
  stack,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { at, checkGrads, expectElements, expectError, leaf, shapeArb } from './helpers.js';

/** A base shape, an axis, and 1…3 sizes along that axis (0 allowed), plus a seed. */
const concatCase = shapeArb(1, 3, 3, 27).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.integer({ min: 0, max: shape.length - 1 }),
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.integer(),
  ),
);

function withAxis(shape: readonly number[], axis: number, size: number): number[] {
  const s = [...shape];
  s[axis] = size;
  return s;
}

/** Where position `p` along the concatenated axis comes from: [piece, position within it]. */
function locate(sizes: readonly number[], p: number): [number, number] {
  let i = 0;
  while (p >= sizes[i]!) p -= sizes[i++]!;
  return [i, p];
}

describe('concat / stack', () => {
  test('concat matches the naive reference; gradcheck + gradgradcheck over every input', () => {
    fc.assert(
      fc.property(concatCase, ([shape, axis, sizes, seed]) => {
        const xs = sizes.map((s, i) => leaf(withAxis(shape, axis, s), seed + i));
        const total = sizes.reduce((a, b) => a + b, 0);
        const y = concat(xs, axis - shape.length);
        expectElements(y, withAxis(shape, axis, total), (j) => {
          const [i, p] = locate(sizes, j[axis]!);
          return at(xs[i]!, withAxis(j, axis, p));
        });
        checkGrads((...vs) => concat(vs, axis), xs);
      }),
      { seed: 331, numRuns: 80 },
    );
  });

  test('stack matches the naive reference; gradcheck + gradgradcheck', () => {
    const arb = shapeArb(0, 3, 3, 27).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.integer({ min: -shape.length - 1, max: shape.length }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, axis, count, seed]) => {
        const xs = Array.from({ length: count }, (_, i) => leaf(shape, seed + i));
        const a = axis < 0 ? axis + shape.length + 1 : axis;
        const y = stack(xs, axis);
        expectElements(y, [...shape.slice(0, a), count, ...shape.slice(a)], (j) =>
          at(xs[j[a]!]!, [...j.slice(0, a), ...j.slice(a + 1)]),
        );
        checkGrads((...vs) => stack(vs, axis), xs);
      }),
      { seed: 332, numRuns: 60 },
    );
  });

  test('dtype promotion, single input, gradient routing', () => {
    const a = tensor([1, 2]);
    const b = tensor([3], { dtype: 'float64' });
    const c = concat([a, b]);
    expect(c.dtype).toBe('float64');
    expect(c.tolist()).toEqual([1, 2, 3]);
    expect(concat([a])).toBe(a);
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = tensor([3], { dtype: 'float64' });
    const [g] = grad(
      concat([x, y, x])
        .mul(tensor([1, 2, 3, 4, 5], { dtype: 'float64' }))
        .sum(),
      [x],
    );
    expect(g!.tolist()).toEqual([5, 7]);
    expect(stack([tensor(1), tensor(2)]).tolist()).toEqual([1, 2]);
  });

  test('errors name the op and the shapes', () => {
    expectError(() => concat([]), ArgumentError, 'concat', 'non-empty');
    expectError(
      () => concat([zeros([2, 3]), zeros([2, 4])]),
      ShapeError,
      'concat',
      'tensors[1]',
      '[2, 4]',
      '[2, 3]',
      'axis 0',
    );
    expectError(() => concat([zeros([2, 3]), zeros([3])], 1), ShapeError, 'concat', 'tensors[1]', '[3]');
    expectError(() => concat([zeros([]), zeros([])]), ShapeError, 'concat', 'zero-dimensional');
    expectError(() => concat([zeros([2])], 1), ShapeError, 'concat', 'axis 1');
    expectError(() => concat([zeros([2]), 3 as unknown as Tensor]), ArgumentError, 'concat', 'tensors[1]');
    expectError(() => stack([]), ArgumentError, 'stack', 'non-empty');
    expectError(() => stack([zeros([2]), zeros([3])]), ShapeError, 'stack', 'tensors[1]', '[3]', '[2]');
    expectError(() => stack([zeros([2])], 2), ShapeError, 'stack', 'axis 2', '[2]', '-2..1');
  });
});

describe('split / chunk', () => {
  test('split by sizes and by chunk size matches slicing; gradcheck + gradgradcheck (unused pieces too)', () => {
    const arb = concatCase.chain(([shape, axis, sizes, seed]) =>
      fc.tuple(
        fc.constant([shape, axis, sizes, seed] as const),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(arb, ([[shape, axis, sizes, seed], size, byList]) => {
        const n = sizes.reduce((a, b) => a + b, 0);
        const x = leaf(withAxis(shape, axis, n), seed);
        const want = byList
          ? sizes
          : n === 0
            ? [0]
            : Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));
        const arg = byList ? sizes : size;
        const parts = split(x, arg, axis);
        expect(parts.map((p) => p.shape[axis])).toEqual(want);
        let start = 0;
        parts.forEach((p, i) => {
          expectElements(p, withAxis(x.shape, axis, want[i]!), (j) =>
            at(x, withAxis(j, axis, j[axis]! + start)),
          );
          start += want[i]!;
        });
        // A scalar built from every other piece, so some pieces get no gradient.
        const f = (v: Tensor) =>
          v
            .split(arg, axis)
            .filter((_, i) => i % 2 === 0)
            .reduce((acc, p, i) => acc.add(p.mul(i + 1).sum()), v.sum().mul(0.5));
        checkGrads(f, [x]);
      }),
      { seed: 333, numRuns: 80 },
    );
  });

  test('chunk: ceil(n / chunks) sized pieces, possibly fewer than asked', () => {
    const x = arange(10);
    expect(chunk(x, 3).map((p) => p.tolist())).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(x.chunk(4).map((p) => p.shape[0])).toEqual([3, 3, 3, 1]);
    expect(
      arange(6)
        .chunk(4)
        .map((p) => p.shape[0]),
    ).toEqual([2, 2, 2]);
    expect(
      zeros([0, 2])
        .chunk(3)
        .map((p) => p.shape),
    ).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
    ]);
    expect(
      zeros([2, 5])
        .chunk(2, -1)
        .map((p) => p.shape),
    ).toEqual([
      [2, 3],
      [2, 2],
    ]);
    const w = leaf([5, 2], 9);
    checkGrads((v) => concat(v.chunk(2).reverse()), [w]);
  });

  test('split examples: one piece returns the input; empty axis', () => {
    const x = arange(4);
    expect(split(x, 4)[0]).toBe(x);
    expect(split(x, [4])[0]).toBe(x);
    expect(split(zeros([0]), 2).map((p) => p.shape)).toEqual([[0]]);
    expect(split(x, [0, 4, 0]).map((p) => p.shape)).toEqual([[0], [4], [0]]);
  });

  test('errors name the op, the sizes and the shape', () => {
    const x = zeros([2, 5]);
    expectError(() => split(x, [2, 2], 1), ShapeError, 'split', 'sum to 4', 'axis 1', '[2, 5]', 'size 5');
    expectError(() => split(x, 0), ArgumentError, 'split', 'positive integer', 'got 0');
    expectError(() => split(x, 1.5), ArgumentError, 'split', '1.5');
    expectError(() => split(x, [3, -1, 3], 1), ArgumentError, 'split', '[3,-1,3]');
    expectError(() => split(x, [], 1), ArgumentError, 'split', 'non-empty');
    expectError(() => split(x, 1, 2), ShapeError, 'split', 'axis 2');
    expectError(() => split(zeros([]), 1), ShapeError, 'split', '0-D');
    expectError(() => chunk(x, 0), ArgumentError, 'chunk', 'positive integer', 'got 0');
    expectError(() => chunk(x, 2, -3), ShapeError, 'chunk', 'axis -3');
  });
});
