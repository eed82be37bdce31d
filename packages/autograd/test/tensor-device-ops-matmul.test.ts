/**
 * Matrix products of webgpu tensors (issue 13): the tiled WGSL kernel against the cpu matmul over random
 * shapes (crossing the 64×64 tile edges), batched with broadcast batch dimensions, 1-D operands, linear with
 * a bias, and the gradients — computed by grad() on the device (device products with operands read
 * transposed) and compared with the cpu gradients.
 */
import { grad, linear, matmul, noGrad, type Tensor } from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, haveWebGpu, randomTensor, toGpu } from './device-ops-helpers.js';

const HAVE = await haveWebGpu('tensor-device-ops-matmul.test.ts');

/** The float32 error bound of a k-term dot product of values in [-1, 1] (scaled by the gradient's size). */
const tol = (k: number) => 2e-6 * Math.max(k, 1) + 1e-6;

describe.skipIf(!HAVE)('matmul on webgpu', () => {
  it('2-D products of random shapes match the cpu (tile edges included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 1000 }),
        async (m, n, k, seed) => {
          const a = randomTensor([m, k], seed);
          const b = randomTensor([k, n], seed + 1);
          await expectClose(matmul(toGpu(a), toGpu(b)), matmul(a, b), tol(k), `${m}x${k}·${k}x${n}`);
        },
      ),
      propertyConfig({ numRuns: 8 }),
    );
  });

  it('batched products broadcast their batch dimensions, and the gradients match the cpu', async () => {
    const dim = fc.integer({ min: 1, max: 3 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(dim, fc.boolean(), fc.boolean()), { maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.tuple(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 9 }),
        ),
        fc.integer({ min: 0, max: 1000 }),
        async (batch, dropA, dropB, [m, n, k], seed) => {
          // each batch dim is kept or broadcast (size 1) per operand; leading dims may be missing
          const aBatch = batch.map(([d, keep]) => (keep ? d : 1)).slice(Math.min(dropA, batch.length));
          const bBatch = batch.map(([d, , keep]) => (keep ? d : 1)).slice(Math.min(dropB, batch.length));
          const a = randomTensor([...aBatch, m, k], seed, true);
          const b = randomTensor([...bBatch, k, n], seed + 1, true);
          const want = matmul(a, b);
          const g = randomTensor(want.shape, seed + 2);
          const [wa, wb] = grad(want, [a, b], { gradOutputs: [g] }) as [Tensor, Tensor];
          const da = toGpu(a, true);
          const db = toGpu(b, true);
          const got = matmul(da, db);
          await expectClose(got, want, tol(k), 'forward');
          const [ga, gb] = grad(got, [da, db], { gradOutputs: [toGpu(g)] }) as [Tensor, Tensor];
          const reps = want.size / Math.max(1, m * n);
          await expectClose(ga, wa, tol(n * reps), 'grad a');
          await expectClose(gb, wb, tol(m * reps), 'grad b');
        },
      ),
      propertyConfig({ numRuns: 10 }),
    );
  });

  it('1-D operands: vector·matrix, matrix·vector and the dot product', async () => {
    const v = randomTensor([5], 1);
    const w = randomTensor([5], 2);
    const m = randomTensor([3, 5, 4], 3);
    const m2 = randomTensor([4, 5], 4);
    await expectClose(matmul(toGpu(v), toGpu(m)), matmul(v, m), tol(5));
    await expectClose(matmul(toGpu(m2), toGpu(v)), matmul(m2, v), tol(5));
    await expectClose(matmul(toGpu(v), toGpu(w)), matmul(v, w), tol(5));
  });

  it('linear (x·weightᵀ + bias) and its gradients match the cpu, with a full and a one-element bias', async () => {
    for (const biasShape of [[6], [1], null] as const) {
      const x = randomTensor([2, 3, 7], 5, true);
      const weight = randomTensor([6, 7], 6, true);
      const bias = biasShape === null ? null : randomTensor(biasShape, 7, true);
      const want = linear(x, weight, bias);
      const g = randomTensor(want.shape, 8);
      const inputs = bias === null ? [x, weight] : [x, weight, bias];
      const wantGrads = grad(want, inputs, { gradOutputs: [g] }) as Tensor[];
      const dInputs = inputs.map((t) => toGpu(t, true));
      const got = linear(dInputs[0]!, dInputs[1]!, dInputs[2] ?? null);
      await expectClose(got, want, tol(7), `linear bias ${String(biasShape)}`);
      const gotGrads = grad(got, dInputs, { gradOutputs: [toGpu(g)] }) as Tensor[];
      for (let i = 0; i < inputs.length; i++)
        await expectClose(gotGrads[i]!, wantGrads[i]!, tol(6), `grad #${i}`);
    }
  });

  it('empty products (k = 0, m = 0) give zeros / empty results as on the cpu', async () => {
    const a = randomTensor([3, 0], 1);
    const b = randomTensor([0, 2], 2);
    await expectClose(matmul(toGpu(a), toGpu(b)), matmul(a, b));
    const c = randomTensor([0, 4], 3);
    const d = randomTensor([4, 2], 4);
    await expectClose(matmul(toGpu(c), toGpu(d)), matmul(c, d));
  });

  it('mixing devices is a DeviceError naming both arguments', () => {
    const a = randomTensor([2, 2], 1);
    expect(() => matmul(toGpu(a), a)).toThrow(DeviceError);
    expect(() => matmul(a, toGpu(a))).toThrow(/argument 'b' is on webgpu and argument 'a' is on cpu/);
    expect(() => noGrad(() => linear(toGpu(a), a))).toThrow(
      /argument 'x' is on webgpu and argument 'weight'/,
    );
  });
});
