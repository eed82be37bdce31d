import {
  ArgumentError,
  flatten,
  grad,
  permute,
  ShapeError,
  squeeze,
  type Tensor,
  t,
  tensor,
  transpose,
  unsqueeze,
  zeros,
} from '@gradkit/autograd';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { at, checkGrads, expectElements, expectError, leaf, shapeArb } from './helpers.js';

const permutationOf = (rank: number) =>
  fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank });

describe('permute / transpose / t', () => {
  test('permute matches the naive reference and passes gradcheck + gradgradcheck', () => {
    const arb = shapeArb(0, 4).chain((shape) =>
      fc.tuple(fc.constant(shape), permutationOf(shape.length), fc.boolean(), fc.integer()),
    );
    fc.assert(
      fc.property(arb, ([shape, perm, negative, seed]) => {
        const x = leaf(shape, seed);
        const dims = negative ? perm.map((p) => p - shape.length) : perm;
        const y = permute(x, dims);
        expectElements(
          y,
          perm.map((p) => shape[p]!),
          (j) => {
            const k = new Array<number>(shape.length);
            perm.forEach((p, i) => {
              k[p] = j[i]!;
            });
            return at(x, k);
          },
        );
        checkGrads((a) => permute(a, dims), [x]);
      }),
      { seed: 301, numRuns: 80 },
    );
  });

  test('transpose swaps two axes (negative axes too) with correct gradients', () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
        fc.integer(),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, d0, d1, seed]) => {
        const x = leaf(shape, seed);
        const a = (d0 + shape.length) % shape.length;
        const b = (d1 + shape.length) % shape.length;
        const outShape = [...shape];
        outShape[a] = shape[b]!;
        outShape[b] = shape[a]!;
        expectElements(x.transpose(d0, d1), outShape, (j) => {
          const k = [...j];
          k[a] = j[b]!;
          k[b] = j[a]!;
          return at(x, k);
        });
        checkGrads((v) => transpose(v, d0, d1), [x]);
      }),
      { seed: 302, numRuns: 60 },
    );
  });

  test('t transposes matrices and leaves 0-D / 1-D tensors alone', () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(m.t().tolist()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const v = tensor([1, 2]);
    expect(t(v)).toBe(v);
    const s = tensor(3);
    expect(s.t()).toBe(s);
    checkGrads((a) => a.t(), [leaf([2, 3], 1)]);
  });

  test('identity permutation returns the input; float32 dtype is kept', () => {
    const x = zeros([2, 3]);
    expect(permute(x, [0, 1])).toBe(x);
    expect(x.permute(1, 0).dtype).toBe('float32');
    expect(transpose(x, 1, 1)).toBe(x);
  });

  test('errors name the op and the shapes', () => {
    const x = zeros([2, 3, 4]);
    expectError(() => permute(x, [0, 1]), ShapeError, 'permute', '[2, 3, 4]', '[0,1]');
    expectError(() => permute(x, [0, 1, 1]), ShapeError, 'permute', 'repeat', '[2, 3, 4]');
    expectError(() => permute(x, [0, 1, 3]), ShapeError, 'permute', 'axis 3', 'rank 3');
    expectError(() => transpose(x, 0, -4), ShapeError, 'transpose', 'axis -4');
    expectError(() => t(x), ShapeError, 't', '[2, 3, 4]');
    expectError(() => permute(1 as unknown as Tensor, []), ArgumentError, 'permute', "'x'");
  });
});

describe('flatten', () => {
  test('merges startDim..endDim, matching reshape; gradients check', () => {
    const arb = shapeArb(0, 4).chain((shape) => {
      const r = Math.max(shape.length, 1);
      return fc
        .tuple(fc.integer({ min: 0, max: r - 1 }), fc.integer({ min: 0, max: r - 1 }), fc.integer())
        .map(([p, q, seed]) => [shape, Math.min(p, q), Math.max(p, q), seed] as const);
    });
    fc.assert(
      fc.property(arb, ([shape, s, e, seed]) => {
        const x = leaf(shape, seed);
        const y = flatten(x, s, e - Math.max(shape.length, 1));
        const want =
          shape.length === 0
            ? [1]
            : [...shape.slice(0, s), shape.slice(s, e + 1).reduce((a, d) => a * d, 1), ...shape.slice(e + 1)];
        expect(y.shape).toEqual(want);
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
        checkGrads((v) => v.flatten(s, e), [x]);
      }),
      { seed: 303, numRuns: 60 },
    );
    expect(zeros([2, 3, 4]).flatten().shape).toEqual([24]);
    expect(zeros([2, 3, 4]).flatten(1).shape).toEqual([2, 12]);
    expect(zeros([]).flatten().shape).toEqual([1]);
  });

  test('errors', () => {
    const x = zeros([2, 3, 4]);
    expectError(() => flatten(x, 2, 1), ShapeError, 'flatten', 'startDim 2', 'endDim 1', '[2, 3, 4]');
    expectError(() => flatten(x, 3), ShapeError, 'flatten', 'axis 3');
  });
});

describe('squeeze / unsqueeze', () => {
  test('squeeze removes size-1 dims (all, one, or a list; non-1 listed dims stay, as in PyTorch)', () => {
    const x = zeros([1, 3, 1, 2]);
    expect(squeeze(x).shape).toEqual([3, 2]);
    expect(x.squeeze(0).shape).toEqual([3, 1, 2]);
    expect(x.squeeze(-2).shape).toEqual([1, 3, 2]);
    expect(x.squeeze([0, 2]).shape).toEqual([3, 2]);
    expect(x.squeeze(1).shape).toEqual([1, 3, 1, 2]);
    expect(zeros([1]).squeeze().shape).toEqual([]);
    expect(zeros([]).squeeze().shape).toEqual([]);
    expect(zeros([0, 1]).squeeze().shape).toEqual([0]);
  });

  test('unsqueeze inserts a size-1 dim; squeeze undoes it; gradients check', () => {
    const arb = shapeArb(0, 3).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.integer({ min: -shape.length - 1, max: shape.length }), fc.integer()),
    );
    fc.assert(
      fc.property(arb, ([shape, axis, seed]) => {
        const x = leaf(shape, seed);
        const y = unsqueeze(x, axis);
        const a = axis < 0 ? axis + shape.length + 1 : axis;
        expect(y.shape).toEqual([...shape.slice(0, a), 1, ...shape.slice(a)]);
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
        expect(y.squeeze(axis).shape).toEqual(shape);
        checkGrads((v) => v.unsqueeze(axis), [x]);
        checkGrads((v) => v.unsqueeze(axis).squeeze(), [x]);
      }),
      { seed: 304, numRuns: 60 },
    );
  });

  test('gradient flows back in the input shape', () => {
    const x = leaf([3, 1], 5);
    const [g] = grad(
      x
        .squeeze()
        .mul(tensor([1, 2, 3], { dtype: 'float64' }))
        .sum(),
      [x],
    );
    expect(g!.shape).toEqual([3, 1]);
    expect(Array.from(g!.data)).toEqual([1, 2, 3]);
  });

  test('errors', () => {
    const x = zeros([2, 1]);
    expectError(() => unsqueeze(x, 3), ShapeError, 'unsqueeze', 'axis 3', '[2, 1]', '-3..2');
    expectError(() => unsqueeze(x, 0.5), ShapeError, 'unsqueeze', 'axis 0.5');
    expectError(() => squeeze(x, 2), ShapeError, 'squeeze', 'axis 2');
    expectError(() => squeeze(x, [1, -1]), ShapeError, 'squeeze', 'repeats');
  });
});
