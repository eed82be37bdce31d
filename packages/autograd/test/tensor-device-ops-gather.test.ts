/**
 * indexSelect, gather and their adjoints indexAdd and scatterAdd on webgpu tensors (issue 13), and the
 * against the cpu over random shapes and indices (repeated ones included), forward and gradients (grad() on
 * the device; the scatter-add backward is deterministic). nn.Embedding on the device: packages/nn/test/
 * embedding-device.test.ts.
 */
import { fromArray, gather, grad, indexAdd, indexSelect, scatterAdd, type Tensor } from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, haveWebGpu, randomTensor, toGpu } from './device-ops-helpers.js';

const HAVE = await haveWebGpu('tensor-device-ops-gather.test.ts');

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

/** Indices in [0, size) from a seed, with repeats. */
function indices(n: number, size: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + seed * 13) % size);
}

async function gradsMatch(
  what: string,
  cpuIn: Tensor[],
  devIn: Tensor[],
  want: Tensor,
  got: Tensor,
  seed: number,
): Promise<void> {
  await expectClose(got, want, 1e-6, `${what} forward`);
  const g = randomTensor(want.shape, seed + 3);
  const wg = grad(want, cpuIn, { gradOutputs: [g] });
  const gg = grad(got, devIn, { gradOutputs: [toGpu(g)] });
  for (let i = 0; i < cpuIn.length; i++) await expectClose(gg[i]!, wg[i]!, 1e-5, `${what} grad ${i}`);
}

describe.skipIf(!HAVE)('gathers on webgpu', () => {
  it('indexSelect and indexAdd match the cpu over random shapes and repeated indices, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.nat(),
        fc.integer({ min: 0, max: 9 }),
        fc.nat(1000),
        async (shape, ax, m, seed) => {
          const axis = ax % shape.length;
          const idx = indices(m, shape[axis]!, seed);
          const x = randomTensor(shape, seed, true);
          const dx = toGpu(x, true);
          await gradsMatch(
            'indexSelect',
            [x],
            [dx],
            indexSelect(x, axis, idx),
            indexSelect(dx, axis, idx),
            seed,
          );
          const srcShape = [...shape];
          srcShape[axis] = m;
          const s = randomTensor(srcShape, seed + 1, true);
          const ds = toGpu(s, true);
          await gradsMatch(
            'indexAdd',
            [x, s],
            [dx, ds],
            indexAdd(x, axis, idx, s),
            indexAdd(dx, axis, idx, ds),
            seed,
          );
        },
      ),
      propertyConfig({ numRuns: 8 }),
    );
  });

  it('gather and scatterAdd match the cpu over random shapes, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.nat(), fc.nat(1000), async (shape, ax, seed) => {
        const axis = ax % shape.length;
        const iShape = shape.map((d, i) => (i === axis ? 3 : Math.max(1, d - (seed % 2))));
        const n = iShape.reduce((p, d) => p * d, 1);
        const flat = indices(n, shape[axis]!, seed);
        const idxT = fromArray(flat, iShape);
        const x = randomTensor(shape, seed, true);
        const dx = toGpu(x, true);
        await gradsMatch('gather', [x], [dx], gather(x, axis, idxT), gather(dx, axis, idxT), seed);
        const s = randomTensor(iShape, seed + 1, true);
        const ds = toGpu(s, true);
        await gradsMatch(
          'scatterAdd',
          [x, s],
          [dx, ds],
          scatterAdd(x, axis, idxT, s),
          scatterAdd(dx, axis, idxT, ds),
          seed,
        );
      }),
      propertyConfig({ numRuns: 8 }),
    );
  });

  it('a webgpu index tensor is a DeviceError that says indices are checked on the host', () => {
    const x = toGpu(randomTensor([3, 2], 1));
    const idx = toGpu(randomTensor([2], 2));
    expect(() => indexSelect(x, 0, idx)).toThrow(DeviceError);
    expect(() => indexSelect(x, 0, idx)).toThrow(/^indexSelect: argument 'index' is a webgpu tensor/);
    expect(() => indexAdd(x, 0, [0], randomTensor([1, 2], 3))).toThrow(
      /argument 'x' is on webgpu and argument 'source' is on cpu/,
    );
  });
});
