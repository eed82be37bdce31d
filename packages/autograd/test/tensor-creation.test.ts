/**
 * Creation functions, seeded randomness, and reading tensors back: shapes, dtypes, values, and the errors.
 */
import {
  ArgumentError,
  arange,
  DomainError,
  DtypeError,
  eye,
  fromArray,
  full,
  Generator,
  linspace,
  manualSeed,
  type NestedArray,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  ShapeError,
  scalarTensor,
  tensor,
  zeros,
  zerosLike,
} from '@gradkit/autograd';
import { shape, tensorOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectOpError } from './helpers.js';

const SEED = 0x7e_05_03;

const sumOf = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

/** A nested array of `shape` holding 0, 1, 2, … row-major. */
function nested(s: readonly number[], start = { v: 0 }): NestedArray {
  if (s.length === 0) return start.v++;
  return Array.from({ length: s[0]! }, () => nested(s.slice(1), start));
}

describe('tensor()', () => {
  it('infers the shape of nested arrays; tolist gives them back; float32 by default', () => {
    fc.assert(
      fc.property(shape({ maxRank: 4, allowZero: true }), (s) => {
        const data = nested(s);
        const t = tensor(data);
        // Nested arrays cannot show the dimensions after an empty one (as in PyTorch).
        const zero = s.indexOf(0);
        expect(t.shape).toEqual(zero < 0 ? s : s.slice(0, zero + 1));
        expect(t.dtype).toBe('float32');
        expect(t.requiresGrad).toBe(false);
        if (!s.includes(0)) {
          expect(t.tolist()).toEqual(data);
          expect(Array.from(t.toArray())).toEqual(Array.from({ length: t.size }, (_, i) => i));
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
    expect(tensor(5).shape).toEqual([]);
    expect(tensor(5).tolist()).toBe(5);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([[], []]).tolist()).toEqual([[], []]);
  });

  it('keeps a typed array dtype unless told; copies the data', () => {
    const src64 = new Float64Array([0.1, 0.2]);
    const t = tensor(src64);
    expect(t.dtype).toBe('float64');
    expect(t.shape).toEqual([2]);
    src64[0] = 9;
    expect(t.data[0]).toBe(0.1);
    expect(tensor(new Float32Array([1, 2])).dtype).toBe('float32');
    const t32 = tensor(new Float64Array([0.1]), { dtype: 'float32' });
    expect(t32.dtype).toBe('float32');
    expect(t32.item()).toBe(Math.fround(0.1));
    expect(tensor([[1, 2]], { dtype: 'float64', requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('refuses ragged nesting and non-numbers (ShapeError), unknown dtypes (DtypeError)', () => {
    expectOpError(() => tensor([[1, 2], [3]]), ShapeError, 'tensor', 'ragged', '[1]');
    expectOpError(() => tensor([[1, 2], 3] as NestedArray), ShapeError, 'tensor', 'ragged');
    expectOpError(() => tensor([1, [2]]), ShapeError, 'tensor', 'not a number');
    expectOpError(
      () =>
        tensor([
          [[1], [2]],
          [[3], [4, 5]],
        ]),
      ShapeError,
      'tensor',
      '[1][1]',
    );
    expectOpError(() => tensor(['a'] as unknown as number[]), ShapeError, 'tensor', 'not a number');
    expectOpError(() => tensor([1], { dtype: 'int32' as 'float32' }), DtypeError, 'tensor', 'int32');
  });
});

describe('fromArray, full, zeros, ones, *Like', () => {
  it('fills shapes (size 0 included) with the value and dtype asked for', () => {
    fc.assert(
      fc.property(
        shape({ allowZero: true }),
        fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>,
        (s, dtype) => {
          const n = s.reduce((a, d) => a * d, 1);
          for (const [t, v] of [
            [zeros(s, { dtype }), 0],
            [ones(s, { dtype }), 1],
            [full(s, -2.5, { dtype }), -2.5],
          ] as const) {
            expect(t.shape).toEqual(s);
            expect(t.dtype).toBe(dtype);
            expect(t.size).toBe(n);
            expect(t.data.every((x) => x === v)).toBe(true);
          }
          const like = zerosLike(full(s, 3, { dtype }));
          expect([like.dtype, like.shape]).toEqual([dtype, s]);
          expect(onesLike(zeros(s, { dtype }), { dtype: 'float64' }).dtype).toBe('float64');
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
    expect(scalarTensor(4).shape).toEqual([]);
    expect(full([2], Number.NaN).data.every(Number.isNaN)).toBe(true);
  });

  it('fromArray lays flat data row-major and checks the length and the shape', () => {
    const t = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(t.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(fromArray(new Float64Array(2), [2]).dtype).toBe('float64');
    expectOpError(() => fromArray([1, 2, 3], [2, 2]), ShapeError, 'fromArray', '3 elements', '[2, 2]');
    expectOpError(() => zeros([2, -1]), ShapeError, 'zeros', 'non-negative integers');
    expectOpError(() => ones([1.5]), ShapeError, 'ones');
  });
});

describe('arange, linspace, eye', () => {
  it('arange follows torch.arange', () => {
    expect(arange(5).tolist()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(0).shape).toEqual([0]);
    expect(arange(1, 2, 0.25, { dtype: 'float64' }).tolist()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(3, 0, -1).tolist()).toEqual([3, 2, 1]);
    expect(arange(0, 1, 0.1, { dtype: 'float64' }).size).toBe(10);
    expect(arange(2, 2).size).toBe(0);
    expect(arange(0, 5, 2).tolist()).toEqual([0, 2, 4]);
    expect(arange(4).dtype).toBe('float32');
  });

  it('arange errors: zero or non-finite step, wrong sign, non-finite bounds (DomainError)', () => {
    expectOpError(() => arange(0, 5, 0), DomainError, 'arange', 'step');
    expectOpError(() => arange(0, 5, Number.NaN), DomainError, 'arange', 'step');
    expectOpError(() => arange(0, 5, -1), DomainError, 'arange', 'step sign');
    expectOpError(() => arange(5, 0, 1), DomainError, 'arange', 'step sign');
    expectOpError(() => arange(Number.NaN), DomainError, 'arange', 'finite');
    expectOpError(() => arange(0, Number.POSITIVE_INFINITY), DomainError, 'arange', 'finite');
    expectOpError(() => arange(0, 1e300, 1e-300), DomainError, 'arange', 'elements');
  });

  it('linspace includes both ends; steps must be a non-negative integer', () => {
    expect(linspace(0, 1, 5, { dtype: 'float64' }).tolist()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(2, -2, 3).tolist()).toEqual([2, 0, -2]);
    expect(linspace(3, 7, 1).tolist()).toEqual([3]);
    expect(linspace(3, 7, 0).shape).toEqual([0]);
    const t = linspace(-1, 1, 7, { dtype: 'float64' });
    expect(t.data[6]).toBe(1);
    expectOpError(() => linspace(0, 1, -1), DomainError, 'linspace', 'steps');
    expectOpError(() => linspace(0, 1, 2.5), DomainError, 'linspace', 'steps');
  });

  it('eye is the identity, square or rectangular', () => {
    expect(eye(2).tolist()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(eye(2, 3).tolist()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(3, 1, { dtype: 'float64' }).tolist()).toEqual([[1], [0], [0]]);
    expect(eye(0).shape).toEqual([0, 0]);
    expectOpError(() => eye(-1), ShapeError, 'eye');
  });
});

describe('random', () => {
  it('manualSeed makes rand/randn/randint reproducible; a Generator has its own stream', () => {
    manualSeed(42);
    const a = [rand([5]), randn([2, 3]), randint(0, 10, [4])];
    manualSeed(42);
    const b = [rand([5]), randn([2, 3]), randint(0, 10, [4])];
    a.forEach((t, i) => {
      expect(Array.from(t.data)).toEqual(Array.from(b[i]!.data));
    });
    manualSeed(43);
    expect(Array.from(rand([5]).data)).not.toEqual(Array.from(a[0]!.data));

    // A generator does not consume the default stream, and equal seeds give equal streams.
    manualSeed(7);
    const g1 = new Generator(123);
    const fromG1 = rand([8], { generator: g1, dtype: 'float64' });
    const afterG = rand([3]);
    manualSeed(7);
    expect(Array.from(rand([3]).data)).toEqual(Array.from(afterG.data));
    const g2 = new Generator(123);
    expect(Array.from(rand([8], { generator: g2, dtype: 'float64' }).data)).toEqual(Array.from(fromG1.data));
    g2.manualSeed(123);
    expect(g2.random()).toBe(fromG1.data[0]);
  });

  it('rand is in [0, 1) (float32 too: 24-bit samples never round to 1), randint in [low, high) integers', () => {
    const g = new Generator(1);
    const r32 = rand([20000], { generator: g });
    expect(r32.dtype).toBe('float32');
    for (const v of r32.data) {
      expect(v >= 0 && v < 1).toBe(true);
      expect(Number.isInteger(v * 2 ** 24)).toBe(true);
    }
    const r64 = rand([20000], { generator: g, dtype: 'float64' });
    const mean = sumOf(r64.data) / r64.size;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const ri = randint(-3, 4, [20000], { generator: g });
    const counts = new Map<number, number>();
    for (const v of ri.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c / ri.size - 1 / 7)).toBeLessThan(0.02);
  });

  it('randn has mean ~0 and standard deviation ~1 in both dtypes', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const t = randn([40000], { generator: new Generator(9), dtype });
      const n = t.size;
      const mean = sumOf(t.data) / n;
      const sd = Math.sqrt(sumOf(Array.from(t.data, (v) => (v - mean) ** 2)) / (n - 1));
      expect(Math.abs(mean)).toBeLessThan(0.02);
      expect(Math.abs(sd - 1)).toBeLessThan(0.02);
      expect(t.data.every(Number.isFinite)).toBe(true);
    }
  });

  it('randint errors: bounds not integers with low < high (ArgumentError), beyond exact integers (DomainError)', () => {
    expectOpError(() => randint(3, 3, [1]), ArgumentError, 'randint', 'low 3, high 3');
    expectOpError(() => randint(0, 2.5, [1]), ArgumentError, 'randint');
    expectOpError(() => randint(0, 2 ** 25, [1]), DomainError, 'randint', 'float32');
    expect(randint(0, 2 ** 25, [3], { dtype: 'float64' }).dtype).toBe('float64');
    expectOpError(() => rand([-1]), ShapeError, 'rand');
    expectOpError(() => new Generator(Number.NaN), ArgumentError, 'Generator.manualSeed');
  });
});

describe('reading back', () => {
  it('toArray is a typed copy; tolist nests; item needs exactly one element', () => {
    fc.assert(
      fc.property(tensorOf(shape({ allowZero: true }), { dtype: 'float32', edges: true }), (t) => {
        const arr = t.toArray();
        expect(arr).toBeInstanceOf(Float32Array);
        expect(arr).not.toBe(t.data);
        expect(Array.from(arr)).toEqual(Array.from(t.data));
        if (arr.length > 0) {
          arr[0] = 12345;
          expect(t.data[0]).not.toBe(12345);
        }
        const flat = (x: NestedArray): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
        expect(flat(t.tolist())).toEqual(Array.from(t.data));
        if (t.size === 1) expect(t.item()).toBe(t.data[0]);
        else expectOpError(() => t.item(), ShapeError, 'item', 'one-element', `[${t.shape.join(', ')}]`);
      }),
      { seed: SEED, numRuns: 80 },
    );
    expect(tensor([[7]]).item()).toBe(7);
    expect(tensor(3).tolist()).toBe(3);
  });
});
