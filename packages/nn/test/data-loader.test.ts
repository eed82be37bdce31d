import { arange, fromArray, Generator, manualSeed, type Tensor, tensor } from '@gradkit/autograd';
import { ArgumentError, DomainError, ShapeError } from '@gradkit/kernels';
import { type BatchDataset, DataLoader, TensorDataset } from '@gradkit/nn';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

/** A dataset of n rows: x[i] = [i, 10 i] and y[i] = i, so every batch tells which rows it holds. */
function rows(n: number) {
  const x = fromArray(
    Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? k / 2 : 5 * (k - 1))),
    [n, 2],
    { dtype: 'float64' },
  );
  const y = arange(n, undefined, 1, { dtype: 'float64' });
  return new TensorDataset(x, y);
}

/** The row ids of every batch of one epoch (checking that x and y agree). */
function epoch(loader: DataLoader<[Tensor, Tensor]>): number[][] {
  const out: number[][] = [];
  for (const [xb, yb] of loader) {
    const ids = [...yb.data];
    expect(xb.shape).toEqual([ids.length, 2]);
    expect([...xb.data]).toEqual(ids.flatMap((i) => [i, 10 * i]));
    out.push(ids);
  }
  return out;
}

describe('TensorDataset', () => {
  test('length, get (negative from the end) and tuple types', () => {
    const ds = rows(4);
    expect(ds.length).toBe(4);
    const [x, y] = ds.get(1);
    expect(x.shape).toEqual([2]);
    expect([...x.data]).toEqual([1, 10]);
    expect(y.shape).toEqual([]);
    expect(y.item()).toBe(1);
    expect(ds.get(-1)[1].item()).toBe(3);
  });

  test('refuses mismatched first dimensions, 0-D tensors, no tensors, non-tensors', () => {
    expect(() => new TensorDataset(tensor([[1, 2]]), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => new TensorDataset(tensor([[1, 2]]), tensor([1, 2]))).toThrow(
      /tensors\[0\] has shape \[1, 2\] but tensors\[1\] has shape \[2\]/,
    );
    expect(() => new TensorDataset(tensor(3))).toThrow(ShapeError);
    expect(() => new TensorDataset()).toThrow(ArgumentError);
    expect(() => new TensorDataset([1, 2] as never)).toThrow(ArgumentError);
  });

  test('get refuses indices out of range or not integers', () => {
    const ds = rows(3);
    for (const i of [3, -4, 0.5, Number.NaN]) expect(() => ds.get(i)).toThrow(DomainError);
    expect(() => ds.get(3)).toThrow(/index 3 is not an integer in -3…2/);
  });

  test('getBatch: consecutive and scattered indices; out of range is refused', () => {
    const ds = rows(5);
    expect([...ds.getBatch(Int32Array.of(1, 2, 3))[1].data]).toEqual([1, 2, 3]);
    expect([...ds.getBatch(Int32Array.of(4, 0, 2))[1].data]).toEqual([4, 0, 2]);
    expect(ds.getBatch(new Int32Array(0))[0].shape).toEqual([0, 2]);
    expect(() => ds.getBatch(Int32Array.of(4, 5))).toThrow(DomainError);
  });

  test('batches keep gradients flowing to the dataset tensors', () => {
    const x = tensor([[1], [2], [3]], { requiresGrad: true });
    const ds = new TensorDataset(x);
    const [xb] = ds.getBatch(Int32Array.of(2, 0));
    xb.sum().backward();
    expect([...x.grad!.data]).toEqual([1, 0, 1]);
  });
});

describe('DataLoader', () => {
  test('in order: batches, last partial batch, length', () => {
    const loader = new DataLoader(rows(7), { batchSize: 3 });
    expect(loader.length).toBe(3);
    expect(epoch(loader)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  test('dropLast drops only a partial last batch', () => {
    const drop = new DataLoader(rows(7), { batchSize: 3, dropLast: true });
    expect(drop.length).toBe(2);
    expect(epoch(drop)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const exact = new DataLoader(rows(6), { batchSize: 3, dropLast: true });
    expect(exact.length).toBe(2);
    expect(epoch(exact).flat()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(epoch(new DataLoader(rows(2), { batchSize: 3, dropLast: true }))).toEqual([]);
  });

  test('default batch size is 1; an empty dataset gives no batches', () => {
    expect(new DataLoader(rows(3)).length).toBe(3);
    expect(epoch(new DataLoader(rows(0), { batchSize: 4, shuffle: true, seed: 1 }))).toEqual([]);
  });

  test('shuffle: the same seed reproduces every epoch; epochs differ from each other', () => {
    const a = new DataLoader(rows(20), { batchSize: 4, shuffle: true, seed: 7 });
    const b = new DataLoader(rows(20), { batchSize: 4, shuffle: true, seed: 7 });
    const a1 = epoch(a);
    const a2 = epoch(a);
    expect(epoch(b)).toEqual(a1);
    expect(epoch(b)).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(a1.flat()).not.toEqual([...Array(20).keys()]);
    expect(epoch(new DataLoader(rows(20), { batchSize: 4, shuffle: true, seed: 8 }))).not.toEqual(a1);
  });

  test('a shared generator continues its stream; the default generator follows manualSeed', () => {
    const g1 = new Generator(3);
    const g2 = new Generator(3);
    const one = new DataLoader(rows(10), { batchSize: 10, shuffle: true, generator: g1 });
    const e1 = epoch(one);
    const e2 = epoch(one);
    const other = new DataLoader(rows(10), { batchSize: 10, shuffle: true, generator: g2 });
    expect(epoch(other)).toEqual(e1);
    expect(epoch(other)).toEqual(e2);

    manualSeed(11);
    const d1 = epoch(new DataLoader(rows(10), { batchSize: 5, shuffle: true }));
    manualSeed(11);
    expect(epoch(new DataLoader(rows(10), { batchSize: 5, shuffle: true }))).toEqual(d1);
  });

  test('each iterator draws its own order when it starts', () => {
    const loader = new DataLoader(rows(8), { batchSize: 8, shuffle: true, seed: 2 });
    const it1 = loader[Symbol.iterator]();
    const first = it1.next();
    const it2 = loader[Symbol.iterator]();
    const second = it2.next();
    expect(first.done).toBe(false);
    const ids = (r: IteratorResult<[Tensor, Tensor]>) => [...(r.value as [Tensor, Tensor])[1].data];
    expect([...ids(first)].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(ids(second)).not.toEqual(ids(first));
  });

  test('works with any BatchDataset', () => {
    const calls: number[][] = [];
    const ds: BatchDataset<number[]> = {
      length: 5,
      getBatch: (idx) => {
        calls.push([...idx]);
        return [...idx];
      },
    };
    expect([...new DataLoader(ds, { batchSize: 2 })]).toEqual([[0, 1], [2, 3], [4]]);
  });

  test('options are validated by own keys, type and range', () => {
    const ds = rows(3);
    expect(() => new DataLoader(ds, { batchsize: 2 } as never)).toThrow(/unknown key "batchsize"/);
    for (const batchSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new DataLoader(ds, { batchSize })).toThrow(DomainError);
    }
    expect(() => new DataLoader(ds, { batchSize: '2' as never })).toThrow(
      /'batchSize' must be a positive integer/,
    );
    expect(() => new DataLoader(ds, { shuffle: 1 as never })).toThrow(ArgumentError);
    expect(() => new DataLoader(ds, { dropLast: 'no' as never })).toThrow(ArgumentError);
    expect(() => new DataLoader(ds, { seed: 1, generator: new Generator(1) })).toThrow(/not both/);
    expect(() => new DataLoader(ds, { seed: 0.5 })).toThrow(DomainError);
    expect(() => new DataLoader(ds, { generator: {} as never })).toThrow(/must be a Generator/);
    expect(() => new DataLoader({} as never)).toThrow(ArgumentError);
    expect(() => new DataLoader(ds, null as never)).toThrow(ArgumentError);
    const inherited = Object.create({ batchSize: 0 }) as object;
    expect(new DataLoader(ds, inherited).batchSize).toBe(1);
  });
});

describe('DataLoader properties', () => {
  test('every epoch covers every index exactly once, in batches of batchSize (last may be smaller)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        fc.integer(),
        (n, batchSize, shuffle, seed) => {
          const loader = new DataLoader(rows(n), { batchSize, shuffle, seed });
          for (let e = 0; e < 2; e++) {
            const batches = epoch(loader);
            expect(batches.length).toBe(loader.length);
            batches.slice(0, -1).forEach((b) => {
              expect(b.length).toBe(batchSize);
            });
            expect(batches.flat().sort((p, q) => p - q)).toEqual([...Array(n).keys()]);
          }
        },
      ),
      propertyConfig({ numRuns: 60 }),
    );
  });

  test('with dropLast, every batch is full and no index repeats', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer(),
        (n, batchSize, seed) => {
          const loader = new DataLoader(rows(n), { batchSize, shuffle: true, dropLast: true, seed });
          const batches = epoch(loader);
          expect(batches.length).toBe(Math.floor(n / batchSize));
          for (const b of batches) expect(b.length).toBe(batchSize);
          const seen = batches.flat();
          expect(new Set(seen).size).toBe(seen.length);
        },
      ),
      propertyConfig({ numRuns: 60 }),
    );
  });
});
