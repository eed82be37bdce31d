/**
 * softmax and logSoftmax of webgpu tensors (issue 13): against the cpu over random shapes, axes and
 * magnitudes (large logits test the max-subtraction), forward and gradients (grad() on the device: the fused
 * backward kernels); with createGraph the backward is built from device ops, so it either matches the cpu or
 * — while the device elementwise ops record no gradients — refuses with a DeviceError, never a wrong answer.
 */
import { grad, logSoftmax, softmax, type Tensor } from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, haveWebGpu, randomTensor, toGpu } from './device-ops-helpers.js';

const HAVE = await haveWebGpu('tensor-device-ops-softmax.test.ts');

const shapeArb = fc
  .array(fc.integer({ min: 1, max: 70 }), { minLength: 0, maxLength: 3 })
  .filter((s) => s.reduce((p, d) => p * d, 1) <= 3000);

describe.skipIf(!HAVE)('softmax on webgpu', () => {
  it('softmax and logSoftmax match the cpu over random shapes, axes and scales, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.nat(),
        fc.constantFrom(1, 10, 80),
        fc.nat(1000),
        async (shape, ax, scale, seed) => {
          const rank = Math.max(shape.length, 1);
          const axis = (ax % rank) - (ax % 2 === 0 ? 0 : rank);
          const x = randomTensor(shape, seed).mul(scale);
          x.requiresGrad = true;
          const dx = toGpu(x, true);
          const g = randomTensor(shape, seed + 1);
          for (const [name, f] of [
            ['softmax', softmax],
            ['logSoftmax', logSoftmax],
          ] as const) {
            const want = f(x, axis);
            const got = f(dx, axis);
            // logSoftmax values grow with the scale; float32 rounds the shift at that magnitude
            await expectClose(
              got,
              want,
              name === 'softmax' ? 1e-6 : 4e-7 * scale * 4,
              `${name} ${shape} axis ${axis}`,
            );
            const [wg] = grad(want, [x], { gradOutputs: [g] }) as [Tensor];
            const [gg] = grad(got, [dx], { gradOutputs: [toGpu(g)] }) as [Tensor];
            const len = shape.length === 0 ? 1 : shape[(axis + rank) % rank]!;
            await expectClose(gg, wg, 2e-6 * Math.sqrt(len) + 1e-6, `${name} grad`);
          }
        },
      ),
      propertyConfig({ numRuns: 10 }),
    );
  });

  it('double backward (createGraph) matches the cpu or refuses with a DeviceError, never a wrong answer', async () => {
    const x = randomTensor([3, 5], 1, true);
    const dx = toGpu(x, true);
    const g = randomTensor([3, 5], 2);
    const [wg] = grad(softmax(x, 1), [x], { gradOutputs: [g], createGraph: true }) as [Tensor];
    let got: Tensor | null = null;
    try {
      [got] = grad(softmax(dx, 1), [dx], { gradOutputs: [toGpu(g)], createGraph: true }) as [Tensor];
    } catch (e) {
      expect(e).toBeInstanceOf(DeviceError);
      expect((e as Error).message).toMatch(/gradients on webgpu/);
    }
    if (got !== null) await expectClose(got, wg.detach(), 1e-6, 'createGraph grad');
  });

  it('mixing a cpu gradient into the device backward is a DeviceError', () => {
    const dx = toGpu(randomTensor([2, 3], 1), true);
    const y = softmax(dx, 1);
    expect(() => grad(y, [dx], { gradOutputs: [randomTensor([2, 3], 2)] })).toThrow(DeviceError);
  });
});
