/**
 * runWasm on several threads: stored outputs and sums bit for bit the same with 1, 2, 3 and 4 threads on large
 * programs (tails that are not multiples of 16 or of the sum block, scalar inputs), the pool actually used for
 * zero-copy runs (arena storage), copy-path runs (ordinary arrays) on the calling thread with the same values,
 * and one thread where SharedArrayBuffer is missing.
 */
import {
  allocateStorage,
  apply,
  constant,
  getNumThreads,
  isArenaStorage,
  setNumThreads,
  variable,
  wasmBackend,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SUM_BLOCK } from '../src/wasm/generate.js';
import { threadPoolInfo, warmThreads } from '../src/wasm/threads.js';

const x = variable('x');
const y = variable('y');
const s = variable('s');

/** Two stored outputs: exp(x)·y + sigmoid(x), log1p(x²) − y·1.5. */
const elementwise = () =>
  wasmBackend.elementwise(
    [
      apply('add', apply('mul', apply('exp', x), y), apply('sigmoid', x)),
      apply('sub', apply('log1p', apply('mul', x, x)), apply('mul', y, constant(1.5))),
    ],
    ['x', 'y'],
    ['array', 'array'],
  );

/** BCE with logits: loss softplus(x) − x·y summed, gradient (sigmoid(x) − y)·s stored (s a scalar). */
const lossLike = () =>
  wasmBackend.fusedReduce(
    [
      apply('sub', apply('softplus', x), apply('mul', x, y)),
      apply('mul', apply('sub', apply('sigmoid', x), y), s),
    ],
    ['x', 'y', 's'],
    ['array', 'array', 'scalar'],
    { store: [false, true], sum: [true, false] },
  );

/** Sizes: ≥ 2^20 elements, tails that are not multiples of 16 nor of SUM_BLOCK. */
const SIZES = [2 ** 20 + 3 * SUM_BLOCK + 37, 2 ** 21 + 5];
const THREADS = [1, 2, 3, 4];

/** Seeded logits in about ±8 and 0/1 targets, written into `xs` and `ys`. */
function fillData(xs: Float32Array, ys: Float32Array): void {
  let st = 987654321;
  const u = () => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return st / 2 ** 32;
  };
  for (let i = 0; i < xs.length; i++) {
    xs[i] = 16 * u() - 8;
    ys[i] = u() < 0.3 ? 1 : 0;
  }
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function expectSameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const ab = bits(a);
  const bb = bits(b);
  let first = -1;
  for (let i = 0; i < ab.length && first < 0; i++) if (ab[i] !== bb[i]) first = i;
  expect(first).toBe(-1);
}

const sharedHere = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();
const initialThreads = getNumThreads();

afterAll(() => setNumThreads(initialThreads));

describe.runIf(sharedHere)('runWasm split between threads', () => {
  const n = Math.max(...SIZES);
  const xa = allocateStorage('float32', n);
  const ya = allocateStorage('float32', n);
  const oa = allocateStorage('float32', n);
  const ob = allocateStorage('float32', n);

  beforeAll(() => {
    fillData(xa, ya);
  });

  it('the inputs and outputs live in the kernels memory (zero-copy runs)', () => {
    expect([xa, ya, oa, ob].every((a) => isArenaStorage(a))).toBe(true);
  });

  it('elementwise outputs are bit for bit the same with 1, 2, 3 and 4 threads, and the workers ran calls', async () => {
    const k = elementwise();
    for (const size of SIZES) {
      const results: Float32Array[][] = [];
      for (const t of THREADS) {
        setNumThreads(t);
        expect(getNumThreads()).toBe(t);
        if (t > 1) expect(await warmThreads(20_000)).toBe(true);
        const before = wasmStats();
        const pool = threadPoolInfo();
        oa.fill(Number.NaN);
        ob.fill(Number.NaN);
        k([xa.subarray(0, size), ya.subarray(0, size)], [oa.subarray(0, size), ob.subarray(0, size)], size);
        const after = wasmStats();
        expect(after.zeroCopyRuns).toBe(before.zeroCopyRuns + 1);
        expect(after.parallelRuns).toBe(before.parallelRuns + (t > 1 ? 1 : 0));
        if (t > 1) expect(threadPoolInfo().workerCalls).toBe(pool.workerCalls + t - 1);
        results.push([oa.slice(0, size), ob.slice(0, size)]);
      }
      for (const r of results.slice(1)) {
        expectSameBits(r[0]!, results[0]![0]!);
        expectSameBits(r[1]!, results[0]![1]!);
      }
      // Spot check against the definition (float32 maths is within a few ulps of float64).
      const i = size - 1;
      const ex = Math.exp(xa[i]!) * ya[i]! + 1 / (1 + Math.exp(-xa[i]!));
      expect(results[0]![0]![i]).toBeCloseTo(ex, 3);
    }
  }, 120_000);

  it('a summed loss-like program: sums and stored gradients bit for bit the same with 1–4 threads', async () => {
    const k = lossLike();
    for (const size of SIZES) {
      const grads: Float32Array[] = [];
      const totals: number[] = [];
      for (const t of THREADS) {
        setNumThreads(t);
        if (t > 1) expect(await warmThreads(20_000)).toBe(true);
        const before = wasmStats();
        const pool = threadPoolInfo();
        const sums = new Float64Array(2);
        oa.fill(Number.NaN);
        k([xa.subarray(0, size), ya.subarray(0, size), 0.25], [null, oa.subarray(0, size)], size, sums);
        expect(wasmStats().parallelRuns).toBe(before.parallelRuns + (t > 1 ? 1 : 0));
        if (t > 1) expect(threadPoolInfo().workerCalls).toBe(pool.workerCalls + t - 1);
        expect(sums[1]).toBe(0);
        totals.push(sums[0]!);
        grads.push(oa.slice(0, size));
      }
      for (let t = 1; t < THREADS.length; t++) {
        expect(Object.is(totals[t], totals[0])).toBe(true);
        expectSameBits(grads[t]!, grads[0]!);
      }
      // The sum is the loss's: float32 terms added in float64, close to the float64 sum.
      let ref = 0;
      for (let i = 0; i < size; i++) {
        const v = xa[i]!;
        ref += Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - v * ya[i]!;
      }
      expect(Math.abs(totals[0]! - ref) / Math.abs(ref)).toBeLessThan(1e-6);
    }
  }, 120_000);

  it('runs with inputs outside the kernels memory copy, on the calling thread, with the same values', async () => {
    const size = SIZES[0]!;
    const xo = xa.slice(0, size);
    const yo = ya.slice(0, size);
    expect(isArenaStorage(xo)).toBe(false);
    const k = lossLike();
    setNumThreads(1);
    const sums1 = new Float64Array(2);
    k([xa.subarray(0, size), ya.subarray(0, size), 0.25], [null, oa.subarray(0, size)], size, sums1);
    const ref = oa.slice(0, size);
    setNumThreads(4);
    await warmThreads(20_000);
    const before = wasmStats();
    const out = new Float32Array(size);
    const sums = new Float64Array(2);
    k([xo, yo, 0.25], [null, out], size, sums);
    const after = wasmStats();
    expect(after.runs).toBe(before.runs + 1);
    expect(after.zeroCopyRuns).toBe(before.zeroCopyRuns);
    expect(after.parallelRuns).toBe(before.parallelRuns);
    expect(Object.is(sums[0], sums1[0])).toBe(true);
    expectSameBits(out, ref);
  }, 120_000);

  it('small runs stay on one thread', async () => {
    setNumThreads(4);
    await warmThreads(20_000);
    const before = wasmStats();
    const size = 1000;
    elementwise()(
      [xa.subarray(0, size), ya.subarray(0, size)],
      [oa.subarray(0, size), ob.subarray(0, size)],
      size,
    );
    expect(wasmStats().parallelRuns).toBe(before.parallelRuns);
    expect(wasmStats().zeroCopyRuns).toBe(before.zeroCopyRuns + 1);
  });
});

describe('without SharedArrayBuffer', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('one thread whatever is set, and the same values', async () => {
    const size = SIZES[0]!;
    const xs = new Float32Array(size);
    const ys = new Float32Array(size);
    fillData(xs, ys);
    setNumThreads(1);
    const ref = new Float32Array(size);
    const refSums = new Float64Array(2);
    lossLike()([xs, ys, 0.25], [null, ref], size, refSums);

    vi.resetModules();
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const k = await import('@gradkit/kernels');
    k.setNumThreads(4);
    expect(k.getNumThreads()).toBe(1);
    const xa = k.allocateStorage('float32', size);
    const ya = k.allocateStorage('float32', size);
    const out = k.allocateStorage('float32', size);
    expect(k.isArenaStorage(xa)).toBe(false);
    xa.set(xs);
    ya.set(ys);
    const before = k.wasmStats();
    const sums = new Float64Array(2);
    const v = (name: string) => k.variable(name);
    k.wasmBackend.fusedReduce(
      [
        k.apply('sub', k.apply('softplus', v('x')), k.apply('mul', v('x'), v('y'))),
        k.apply('mul', k.apply('sub', k.apply('sigmoid', v('x')), v('y')), v('s')),
      ],
      ['x', 'y', 's'],
      ['array', 'array', 'scalar'],
      { store: [false, true], sum: [true, false] },
    )([xa, ya, 0.25], [null, out], size, sums);
    const after = k.wasmStats();
    expect(after.parallelRuns).toBe(before.parallelRuns);
    if (k.wasmSimdAvailable()) expect(after.runs).toBe(before.runs + 1);
    expect(Object.is(sums[0], refSums[0])).toBe(true);
    expectSameBits(out, ref);
    k.setNumThreads(1);
  }, 120_000);
});
