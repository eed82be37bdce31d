/**
 * Reductions on WebGPU (issue 13): sum, mean, max, min, argmax, argmin, logSumExp, prod over all axes, some axes, with and
 * without keepDims, against the cpu backend (float64 reference on the same float32 values, scale-aware
 * float32 tolerances); the multi-pass tree for large groups and its pairwise accuracy; ties and NaN.
 */
import {
  argmax,
  argmin,
  fromArray,
  initWebGPU,
  logSumExp,
  max,
  mean,
  min,
  prod,
  sum,
  type Tensor,
} from '@gradkit/autograd';
import { DomainError, ShapeError } from '@gradkit/kernels';
import { propertyConfig, shape as shapeArb } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haveWebGpu, mismatches, onDevice } from './device-helpers.js';

const HAVE = await haveWebGpu('tensor-device-reduce.test.ts');

/** A shape, a subset of its axes (undefined = all) and keepDims, and values (some repeated, some NaN). */
const caseArb = shapeArb({ maxRank: 4, maxDim: 6, allowZero: true, maxSize: 400 }).chain((s) =>
  fc.record({
    shape: fc.constant(s),
    axes: fc.oneof(
      fc.constant(undefined),
      fc.subarray([...s.keys()]),
      s.length > 0 ? fc.integer({ min: -s.length, max: s.length - 1 }) : fc.constant(undefined),
    ),
    keepDims: fc.boolean(),
    values: fc.array(
      fc.oneof(
        { arbitrary: fc.float({ min: -100, max: 100, noNaN: true }), weight: 8 },
        { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 3 },
        { arbitrary: fc.constant(Number.NaN), weight: 1 },
      ),
      { minLength: s.reduce((a, d) => a * d, 1), maxLength: s.reduce((a, d) => a * d, 1) },
    ),
  }),
);

describe.skipIf(!HAVE)('reductions on WebGPU', async () => {
  if (HAVE) await initWebGPU();

  it('sum, mean, max, min, argmax, argmin, logSumExp, prod match the cpu (all axes, some axes, keepDims, empty, NaN, ties)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, axes, keepDims, values }) => {
        const x32 = fromArray(values, shape, { dtype: 'float32' });
        const x = x32.to('float64');
        const g = onDevice(x32);
        const magnitude = sum(x.abs(), axes as number, keepDims);
        const ops: Array<[string, (t: Tensor) => Tensor, boolean]> = [
          ['sum', (t) => sum(t, axes as number, keepDims), true],
          ['mean', (t) => mean(t, axes as number, keepDims), true],
          ['max', (t) => max(t, axes as number, keepDims), false],
          ['min', (t) => min(t, axes as number, keepDims), false],
          ['argmax', (t) => argmax(t, axes as number, keepDims), false],
          ['argmin', (t) => argmin(t, axes as number, keepDims), false],
          ['logSumExp', (t) => logSumExp(t, axes as number, keepDims), false],
        ];
        // prod: the same tree of float32 multiplications as the cpu's float32 prod (overflow included)
        const wantProd = prod(x32, axes as number, keepDims);
        const gotProd = prod(g, axes as number, keepDims);
        expect(gotProd.shape).toEqual(wantProd.shape);
        expect(['prod', mismatches(await gotProd.dataAsync(), wantProd.data, 1e-6, 0)]).toEqual(['prod', []]);
        for (const [name, run, scaled] of ops) {
          let want: Tensor;
          try {
            want = run(x);
          } catch (e) {
            expect(() => run(g)).toThrow((e as Error).constructor as typeof DomainError);
            continue;
          }
          const got = run(g);
          expect([name, got.device, got.shape]).toEqual([name, 'webgpu', want.shape]);
          const data = await got.dataAsync();
          if (scaled) {
            // float32 with pairwise accumulation: a few ulps of the sum of magnitudes
            const count = Math.max(1, x.size / Math.max(1, want.size));
            const bad = Array.from(want.data).filter((w, i) => {
              const tol =
                4e-7 * (8 + Math.log2(count)) * (magnitude.data[i]! / (name === 'mean' ? count : 1)) + 1e-30;
              return Number.isNaN(w) ? !Number.isNaN(data[i]!) : !(Math.abs(data[i]! - w) <= tol);
            });
            expect([name, bad]).toEqual([name, []]);
          } else {
            const tol = name === 'logSumExp' ? 2e-6 : 0;
            expect([name, mismatches(data, want.data, tol, tol)]).toEqual([name, []]);
          }
          got.dispose();
        }
        g.dispose();
      }),
      propertyConfig({ numRuns: 30 }),
    );
  });

  it('large groups take several passes and keep pairwise accuracy (1e6 × 0.1 in float32)', async () => {
    const n = 1_000_000;
    const tenth = Math.fround(0.1);
    const g = fromArray(new Float32Array(n).fill(tenth), [n]).to('webgpu');
    const s = await sum(g).itemAsync();
    expect(Math.abs(s - n * tenth) / (n * tenth)).toBeLessThan(1e-6);
    // rows of 5000 (two passes each) and a column reduction over the same data
    const values = Float32Array.from({ length: 6 * 5000 }, (_, i) => ((i * 7919) % 1000) / 100 - 5);
    const x = fromArray(values, [6, 5000]);
    const want = sum(x.to('float64'), 1);
    const got = await sum(x.to('webgpu'), 1).dataAsync();
    expect(mismatches(got, want.data, 1e-5, 1e-3)).toEqual([]);
    const wantMax = argmax(x, 1);
    expect(Array.from(await argmax(x.to('webgpu'), 1).dataAsync())).toEqual(Array.from(wantMax.data));
    const colWant = min(x, 0);
    expect(Array.from(await min(x.to('webgpu'), 0).dataAsync())).toEqual(Array.from(colWant.data));
    g.dispose();
  });

  it('three passes: a group of 4.5M ones sums exactly', async () => {
    const n = 4_500_000;
    const g = fromArray(new Float32Array(n).fill(1), [n]).to('webgpu');
    expect(await sum(g).itemAsync()).toBe(n);
    expect(await argmax(g).itemAsync()).toBe(0);
    g.dispose();
  });

  it('errors: max over an empty axis is a DomainError; a bad axis a ShapeError (as on the cpu)', () => {
    const e = fromArray([], [2, 0]).to('webgpu');
    expect(() => max(e, 1)).toThrow(DomainError);
    expect(() => argmin(e)).toThrow(DomainError);
    expect(max(e, 0).shape).toEqual([0]);
    expect(() => sum(e, 2)).toThrow(ShapeError);
    expect(() => sum(e, [0, 0])).toThrow(ShapeError);
  });
});
