/**
 * Shape ops of webgpu tensors (issue 13): reshape and its relatives share the device buffer; transpose,
 * permute, .T, .mT, expand, slice, index, split, chunk, concat and stack run strided copy kernels. Each is
 * checked against the cpu over random shapes, forward and gradient (grad() on the device with a device
 * output gradient, against the cpu's grad()).
 */
import {
  broadcastTo,
  chunk,
  concat,
  grad,
  index,
  permute,
  repeat,
  slice,
  split,
  stack,
  type Tensor,
} from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, haveWebGpu, randomTensor, toGpu } from './device-ops-helpers.js';

const HAVE = await haveWebGpu('tensor-device-ops-shape.test.ts');

/**
 * Runs `f` on cpu tensors and on their webgpu copies and compares the outputs and the gradients of every
 * input (for random output gradients).
 */
async function sameAsCpu(
  what: string,
  inputs: readonly Tensor[],
  f: (...xs: Tensor[]) => Tensor | Tensor[],
  seed = 0,
): Promise<void> {
  const cpu = inputs.map((t) => {
    const c = t.detach();
    c.requiresGrad = true;
    return c;
  });
  const dev = inputs.map((t) => toGpu(t, true));
  const list = (r: Tensor | Tensor[]) => (Array.isArray(r) ? r : [r]);
  const want = list(f(...cpu));
  const got = list(f(...dev));
  expect([what, got.length]).toEqual([what, want.length]);
  for (let i = 0; i < want.length; i++) await expectClose(got[i]!, want[i]!, 1e-6, `${what} output ${i}`);
  const gs = want.map((w, i) => randomTensor(w.shape, seed + 10 + i));
  const wantGrads = grad(want, cpu, { gradOutputs: gs, allowUnused: true });
  const gotGrads = grad(got, dev, { gradOutputs: gs.map((g) => toGpu(g)), allowUnused: true });
  for (let i = 0; i < cpu.length; i++) {
    // Summed gradients (expand, repeat) add up to a few terms of magnitude 1.
    if (wantGrads[i] === null) expect(gotGrads[i]).toBeNull();
    else await expectClose(gotGrads[i]!, wantGrads[i]!, 1e-5, `${what} grad ${i}`);
  }
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

describe.skipIf(!HAVE)('shape ops on webgpu', () => {
  it('reshape, view-like ops and flatten/squeeze/unsqueeze share the buffer and pass gradients back', async () => {
    const x = toGpu(randomTensor([2, 1, 6], 1));
    const r = x.reshape([3, 4]);
    expect(r.deviceArray).toBe(x.deviceArray);
    for (const v of [x.flatten(), x.squeeze(), x.unsqueeze(0), x.reshape(-1, 2)]) {
      expect(v.deviceArray).toBe(x.deviceArray);
    }
    await sameAsCpu('reshape', [randomTensor([2, 1, 6], 2)], (t) =>
      t.reshape([3, 4]).unsqueeze(1).flatten(0, 1).squeeze(),
    );
  });

  it('permute, transpose, .T and .mT match the cpu over random shapes, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.integer({ min: 0, max: 1000 }), async (shape, seed) => {
        const perm = [...shape.keys()].sort((a, b) => ((a * 7 + seed) % 5) - ((b * 7 + seed) % 5));
        const x = randomTensor(shape, seed);
        await sameAsCpu(`permute ${perm}`, [x], (t) => permute(t, perm), seed);
        await sameAsCpu('transpose', [x], (t) => t.transpose(0, -1), seed);
        await sameAsCpu('.T', [x], (t) => t.T, seed);
        if (shape.length >= 2) await sameAsCpu('.mT', [x], (t) => t.mT, seed);
      }),
      propertyConfig({ numRuns: 6 }),
    );
  });

  it('expand / broadcastTo and repeat match the cpu; their gradients sum on the device', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 1000 }),
        async (shape, ones, lead, seed) => {
          const small = shape.map((d, i) => (ones[i] ? 1 : d));
          const target = [...[3, 2].slice(0, lead), ...shape];
          const x = randomTensor(small, seed);
          await sameAsCpu(`expand ${small}→${target}`, [x], (t) => broadcastTo(t, target), seed);
          await sameAsCpu('repeat', [x], (t) => repeat(t, [2, ...small.map(() => 1)]), seed);
        },
      ),
      propertyConfig({ numRuns: 6 }),
    );
  });

  it('slice, index, split and chunk match the cpu over random shapes, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.nat(),
        fc.integer({ min: -5, max: 5 }),
        fc.integer({ min: -5, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        async (shape, axisSeed, start, end, step, seed) => {
          const axis = axisSeed % shape.length;
          const x = randomTensor(shape, seed);
          await sameAsCpu('slice', [x], (t) => slice(t, axis, start, end, step), seed);
          await sameAsCpu(
            'index',
            [x],
            (t) => index(t, [shape[0]! - 1, { start: 1, step }].slice(0, shape.length)),
            seed,
          );
          await sameAsCpu('split', [x], (t) => split(t, step, axis), seed);
          await sameAsCpu('chunk', [x], (t) => chunk(t, 2, axis), seed);
        },
      ),
      propertyConfig({ numRuns: 6 }),
    );
  });

  it('concat and stack match the cpu over random shapes, with gradients', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.nat(),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        async (shape, axisSeed, sizes, seed) => {
          const axis = axisSeed % shape.length;
          const parts = sizes.map((s, i) => {
            const sh = [...shape];
            sh[axis] = s;
            return randomTensor(sh, seed + i);
          });
          await sameAsCpu('concat', parts, (...ts) => concat(ts, axis), seed);
          const same = sizes.map((_, i) => randomTensor(shape, seed + 5 + i));
          await sameAsCpu('stack', same, (...ts) => stack(ts, axis), seed);
        },
      ),
      propertyConfig({ numRuns: 6 }),
    );
  });

  it('mixing devices in concat is a DeviceError naming both tensors', () => {
    const a = randomTensor([2], 1);
    expect(() => concat([toGpu(a), a])).toThrow(DeviceError);
    expect(() => concat([toGpu(a), a])).toThrow(
      /'tensors\[0\]' is on webgpu and argument 'tensors\[1\]' is on cpu/,
    );
  });
});
