import {
  ArgumentError,
  arange,
  DomainError,
  DtypeError,
  gather,
  grad,
  indexAdd,
  indexSelect,
  ShapeError,
  scatterAdd,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  at,
  checkGrads,
  expectElements,
  expectError,
  forEachIndex,
  leaf,
  shapeArb,
  sizeOf,
} from './helpers.js';

type IndexForm = 'array' | 'int32' | 'tensor';
const asForm = (values: number[], form: IndexForm) =>
  form === 'array' ? values : form === 'int32' ? Int32Array.from(values) : tensor(values);

/** A shape, an axis of it, 1-D indices into that axis, an index form and a seed. */
const vectorCase = shapeArb(1, 4, 4, 36).chain((shape) =>
  fc
    .integer({ min: 0, max: shape.length - 1 })
    .chain((axis) =>
      fc.tuple(
        fc.constant(shape),
        fc.constant(axis),
        shape[axis] === 0
          ? fc.constant<number[]>([])
          : fc.array(fc.integer({ min: 0, max: shape[axis]! - 1 }), { maxLength: 5 }),
        fc.constantFrom<IndexForm>('array', 'int32', 'tensor'),
        fc.integer(),
      ),
    ),
);

/** A shape, an axis, and a same-rank index (values in range) with its shape, plus a seed. */
const gatherCase = shapeArb(1, 3, 3, 27).chain((shape) =>
  fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) =>
    fc
      .tuple(...shape.map((d, i) => fc.integer({ min: 0, max: i === axis ? (d === 0 ? 0 : 4) : d })))
      .chain((ishape) =>
        fc.tuple(
          fc.constant(shape),
          fc.constant(axis),
          fc.constant(ishape),
          fc.array(fc.integer({ min: 0, max: Math.max(shape[axis]! - 1, 0) }), {
            minLength: sizeOf(ishape),
            maxLength: sizeOf(ishape),
          }),
          fc.integer(),
        ),
      ),
  ),
);

describe('indexSelect / indexAdd', () => {
  test('indexSelect matches the naive reference for every index form; gradcheck + gradgradcheck', () => {
    fc.assert(
      fc.property(vectorCase, ([shape, axis, idx, form, seed]) => {
        const x = leaf(shape, seed);
        const y = indexSelect(x, axis - shape.length, asForm(idx, form));
        const outShape = [...shape];
        outShape[axis] = idx.length;
        expectElements(y, outShape, (j) => {
          const k = [...j];
          k[axis] = idx[j[axis]!]!;
          return at(x, k);
        });
        checkGrads((v) => v.indexSelect(axis, idx), [x]);
      }),
      { seed: 321, numRuns: 100 },
    );
  });

  test('indexAdd matches the naive reference; gradcheck + gradgradcheck in both arguments', () => {
    fc.assert(
      fc.property(vectorCase, ([shape, axis, idx, form, seed]) => {
        const x = leaf(shape, seed);
        const sShape = [...shape];
        sShape[axis] = idx.length;
        const src = leaf(sShape, seed + 1);
        const y = indexAdd(x, axis, asForm(idx, form), src);
        const want = Array.from(x.data);
        const strides = shape.map((_, d) => sizeOf(shape.slice(d + 1)));
        forEachIndex(sShape, (j) => {
          const k = [...j];
          k[axis] = idx[j[axis]!]!;
          want[k.reduce((o, v, d) => o + v * strides[d]!, 0)] += at(src, j);
        });
        expect(y.shape).toEqual(shape);
        Array.from(y.data).forEach((v, i) => {
          expect(v).toBeCloseTo(want[i]!, 12);
        });
        checkGrads((a, b) => a.indexAdd(axis, idx, b), [x, src]);
      }),
      { seed: 322, numRuns: 80 },
    );
  });

  test('repeated indices accumulate the gradient; float32 sums are rounded once', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const [g] = grad(indexSelect(x, 0, [2, 0, 2, 2]).sum(), [x]);
    expect(g!.tolist()).toEqual([1, 0, 3]);
    const big = indexAdd(zeros([1]), 0, [0, 0, 0], tensor([1, 2 ** -24, 2 ** -24]));
    expect(big.item()).toBe(Math.fround(1 + 2 ** -23));
    expect(indexSelect(zeros([2, 3]), 1, [0]).dtype).toBe('float32');
  });

  test('0-D inputs and 0-D indices', () => {
    const s = tensor(5, { dtype: 'float64', requiresGrad: true });
    expect(indexSelect(s, 0, tensor(0)).item()).toBe(5);
    expect(indexSelect(arange(4), 0, tensor(2)).tolist()).toEqual([2]);
    expect(indexAdd(s, 0, [0], tensor(2, { dtype: 'float64' })).item()).toBe(7);
    checkGrads((a, b) => indexAdd(a, 0, [0], b), [s, tensor(2, { dtype: 'float64', requiresGrad: true })]);
  });

  test('errors name the op, the axis and the bad index', () => {
    const x = zeros([2, 3]);
    expectError(
      () => indexSelect(x, 1, [0, 3]),
      DomainError,
      'indexSelect',
      'index 3',
      'axis 1',
      'size 3',
      '[2, 3]',
    );
    expectError(() => indexSelect(x, 0, [-1]), DomainError, 'indexSelect', 'index -1', 'axis 0', 'size 2');
    expectError(() => indexSelect(x, 0, tensor([0.5])), DomainError, 'indexSelect', '0.5', 'not an integer');
    expectError(() => indexSelect(x, 0, [[0], [1]]), ShapeError, 'indexSelect', "'index'", '[2, 1]');
    expectError(() => indexSelect(x, 2, [0]), ShapeError, 'indexSelect', 'axis 2');
    expectError(() => indexSelect(x, 0, 'a' as unknown as number[]), ArgumentError, 'indexSelect', "'index'");
    expectError(() => indexSelect(zeros([]), 0, [0, 0]), ShapeError, 'indexSelect', '0-D', '2');
    expectError(
      () => indexAdd(x, 1, [0], zeros([2, 2])),
      ShapeError,
      'indexAdd',
      '[2, 2]',
      '[2, 3]',
      '[2, 1]',
    );
    expectError(
      () => indexAdd(x, 1, [0], zeros([2, 1], { dtype: 'float64' })),
      DtypeError,
      'indexAdd',
      'float64',
    );
    expectError(() => indexAdd(x, 1, [5], zeros([2, 1])), DomainError, 'indexAdd', 'index 5', 'axis 1');
  });
});

describe('gather / scatterAdd', () => {
  test('gather matches the naive reference; gradcheck + gradgradcheck', () => {
    fc.assert(
      fc.property(gatherCase, ([shape, axis, ishape, values, seed]) => {
        const x = leaf(shape, seed);
        const index = tensor(values).reshape(...ishape);
        const y = gather(x, axis, index);
        expectElements(y, ishape, (j) => {
          const k = [...j];
          k[axis] = at(index, j);
          return at(x, k);
        });
        checkGrads((v) => v.gather(axis, index), [x]);
      }),
      { seed: 323, numRuns: 100 },
    );
  });

  test('scatterAdd matches the naive reference; gradcheck + gradgradcheck in both arguments', () => {
    fc.assert(
      fc.property(gatherCase, ([shape, axis, ishape, values, seed]) => {
        const x = leaf(shape, seed);
        const src = leaf(ishape, seed + 1);
        const index = tensor(values).reshape(...ishape);
        const y = scatterAdd(x, axis - shape.length, index, src);
        const want = Array.from(x.data);
        const strides = shape.map((_, d) => sizeOf(shape.slice(d + 1)));
        forEachIndex(ishape, (j) => {
          const k = [...j];
          k[axis] = at(index, j);
          want[k.reduce((o, v, d) => o + v * strides[d]!, 0)] += at(src, j);
        });
        expect(y.shape).toEqual(shape);
        Array.from(y.data).forEach((v, i) => {
          expect(v).toBeCloseTo(want[i]!, 12);
        });
        checkGrads((a, b) => a.scatterAdd(axis, index, b), [x, src]);
      }),
      { seed: 324, numRuns: 80 },
    );
  });

  test('examples: nested-array indices, 0-D, repeated targets', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(
      gather(x, 1, [
        [0, 0],
        [1, 0],
      ]).tolist(),
    ).toEqual([
      [1, 1],
      [4, 3],
    ]);
    expect(gather(x, 0, [[1, 0]]).tolist()).toEqual([[3, 2]]);
    expect(gather(tensor(7), 0, tensor(0)).item()).toBe(7);
    const s = scatterAdd(zeros([3]), 0, [2, 2, 0], tensor([1, 2, 3]));
    expect(s.tolist()).toEqual([3, 0, 3]);
    const w = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const [g] = grad(
      gather(w, 0, [1, 1, 2])
        .mul(tensor([1, 10, 100], { dtype: 'float64' }))
        .sum(),
      [w],
    );
    expect(g!.tolist()).toEqual([0, 11, 100]);
  });

  test('errors name the op, the axis, the bad index and the shapes', () => {
    const x = zeros([2, 3]);
    const ix = (v: number[][]) => tensor(v);
    expectError(() => gather(x, 1, ix([[0, 3]])), DomainError, 'gather', 'index 3', 'axis 1', 'size 3');
    expectError(() => gather(x, 0, ix([[2]])), DomainError, 'gather', 'index 2', 'axis 0', 'size 2');
    expectError(() => gather(x, 1, [0, 1]), ShapeError, 'gather', '[2]', '[2, 3]');
    expectError(() => gather(x, 1, ix([[0], [0], [0]])), ShapeError, 'gather', '[3, 1]', '[2, 3]', 'axis 1');
    expectError(
      () => gather(x, 1, [[0, 1], [0]] as unknown as number[][]),
      ShapeError,
      'gather',
      'rectangular',
    );
    expectError(() => gather(x, -3, ix([[0]])), ShapeError, 'gather', 'axis -3');
    expectError(() => gather(x, 1, ix([[1.5]])), DomainError, 'gather', '1.5');
    expectError(
      () => scatterAdd(x, 1, ix([[0, 1]]), zeros([1, 3])),
      ShapeError,
      'scatterAdd',
      '[1, 3]',
      '[1, 2]',
    );
    expectError(
      () => scatterAdd(x, 1, ix([[0]]), zeros([1, 1], { dtype: 'float64' })),
      DtypeError,
      'scatterAdd',
      "'src'",
    );
    expectError(
      () => scatterAdd(x, 1, ix([[4]]), zeros([1, 1])),
      DomainError,
      'scatterAdd',
      'index 4',
      'axis 1',
    );
    expectError(() => gather(1 as unknown as Tensor, 0, [0]), ArgumentError, 'gather', "'x'");
  });
});
