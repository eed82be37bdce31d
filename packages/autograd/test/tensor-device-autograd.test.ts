/**
 * Autograd on WebGPU (issue 13): backward through elementwise ops (broadcast included), reductions and
 * fused functions on the device, `grad()` and `createGraph` double backward — device gradients against the
 * cpu float64 gradients of the same function on the same float32 values, with scale-aware float32
 * tolerances; the seed, accumulation and `.grad` live on the device.
 */
import {
  backward,
  detectAnomaly,
  fromArray,
  fuse,
  grad,
  initWebGPU,
  logSumExp,
  max,
  mean,
  min,
  noGrad,
  prod,
  sum,
  type Tensor,
  tensor,
  type Value,
  where,
} from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { broadcastShapes, propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haveWebGpu, normal, onDevice } from './device-helpers.js';

const HAVE = await haveWebGpu('tensor-device-autograd.test.ts');

/**
 * Indices where the device gradient is off by more than float32 allows: rtol 1e-4 of the element plus 1e-4
 * of the tensor's largest magnitude (a gradient is a sum of products, so its error scales with them).
 */
function gradMismatches(got: ArrayLike<number>, want: ArrayLike<number>): number[] {
  if (got.length !== want.length) return [-1];
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= 1e-4 * Math.abs(want[i]!) + 1e-4 * scale)) bad.push(i);
  }
  return bad;
}

type Fn = (a: Tensor, b: Tensor, c: Tensor) => Tensor;
const fused = fuse((x: Value, y: Value, z: Value) => x.mul(y).sigmoid().add(z.mul(z).mul(0.5)));
const FUNCTIONS: Array<[string, Fn]> = [
  ['tanh-mul', (a, b, c) => sum(a.mul(b).sub(c).tanh().mul(a))],
  ['exp-div-mean', (a, b, c) => mean(a.sub(b).mul(0.5).exp().div(c.abs().add(1)))],
  ['max-axis', (a, b) => sum(max(a, -1, true).mul(b.erf()))],
  ['min-all', (a, b, c) => min(a).mul(sum(b.mul(c)))],
  ['sum-axis0-square', (a, b, c) => sum(sum(a.mul(b), 0, true).pow(2)).add(mean(c))],
  ['fused-where', (a, b, c) => sum(where(a.gt(0), fused(a, b, c), c.mul(b)))],
  ['logSumExp', (a, b, c) => sum(logSumExp(a.mul(b), 0, true).mul(c.tanh()))],
  ['prod', (a, b, c) => sum(prod(a.tanh().add(b.mul(0.1)), -1, true).mul(c))],
];

describe.skipIf(!HAVE)('autograd on WebGPU', async () => {
  if (HAVE) await initWebGPU();

  /** The three leaves of `shapes` on the cpu (float64, from float32 values) and on webgpu. */
  const leaves = (shapes: number[][], seed: number) => {
    const host = shapes.map((s, i) => normal(s, seed + i).to('float32'));
    const cpu = host.map((t) => {
      const c = t.to('float64');
      c.requiresGrad = true;
      return c;
    });
    const gpu = host.map((t) => onDevice(t, true));
    return { cpu, gpu };
  };

  it('backward(): device gradients match the cpu float64 gradients (random shapes and broadcasts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastShapes(3, { minRank: 1, maxRank: 4, maxDim: 4, maxSize: 64 }),
        fc.integer({ min: 0, max: 10_000 }),
        async (shapes, seed) => {
          for (const [name, f] of FUNCTIONS) {
            const { cpu, gpu } = leaves(shapes, seed);
            const want = f(cpu[0]!, cpu[1]!, cpu[2]!);
            want.backward();
            const loss = f(gpu[0]!, gpu[1]!, gpu[2]!);
            expect([name, loss.device, loss.shape]).toEqual([name, 'webgpu', []]);
            loss.backward();
            const lossValue = await loss.itemAsync();
            expect([name, Math.abs(lossValue - want.item()) <= 1e-4 * (1 + Math.abs(want.item()))]).toEqual([
              name,
              true,
            ]);
            for (let k = 0; k < 3; k++) {
              if (cpu[k]!.grad === null) {
                expect([name, k, gpu[k]!.grad]).toEqual([name, k, null]);
                continue;
              }
              const g = gpu[k]!.grad!;
              expect([name, k, g.device, g.shape]).toEqual([name, k, 'webgpu', cpu[k]!.shape]);
              expect([name, k, gradMismatches(await g.dataAsync(), cpu[k]!.grad!.data)]).toEqual([
                name,
                k,
                [],
              ]);
            }
          }
        },
      ),
      propertyConfig({ numRuns: 6 }),
    );
  });

  it('grad() with createGraph: double backward on the device matches the cpu', async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastShapes(3, { minRank: 1, maxRank: 3, maxDim: 4, maxSize: 36 }),
        fc.integer({ min: 0, max: 10_000 }),
        async (shapes, seed) => {
          for (const [name, f] of FUNCTIONS) {
            const { cpu, gpu } = leaves(shapes, seed);
            const second = (x: Tensor[]) => {
              const [ga, gb] = grad(f(x[0]!, x[1]!, x[2]!), [x[0]!, x[1]!], { createGraph: true });
              // Hessian-vector style: the gradients' squares summed, differentiated again.
              return sum(ga!.mul(ga!)).add(sum(gb!.mul(x[2]!.tanh().sum())));
            };
            const want = grad(second(cpu), cpu, { allowUnused: true });
            const got = grad(second(gpu), gpu, { allowUnused: true });
            for (let k = 0; k < 3; k++) {
              const w = want[k];
              const g = got[k];
              if (w === null || w === undefined) continue;
              expect([name, k, g?.device]).toEqual([name, k, 'webgpu']);
              expect([name, k, gradMismatches(await g!.dataAsync(), w.data)]).toEqual([name, k, []]);
            }
          }
        },
      ),
      propertyConfig({ numRuns: 4 }),
    );
  });

  it('gradients accumulate on the device across backward calls; zeroGrad clears them', async () => {
    const x = tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
    sum(x.mul(x)).backward();
    sum(x.mul(3)).backward();
    expect(x.grad!.device).toBe('webgpu');
    expect(Array.from(await x.grad!.dataAsync())).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBe(null);
    // an explicit seed on the device; a non-scalar output with a given gradient
    const y = x.mul(2);
    backward(y, tensor([1, 0, -1], { device: 'webgpu' }));
    expect(Array.from(await x.grad!.dataAsync())).toEqual([2, 0, -2]);
  });

  it('under detectAnomaly a device graph records and runs backward (the value checks are host-only)', async () => {
    const x = tensor([1, 2], { device: 'webgpu', requiresGrad: true });
    detectAnomaly(() => sum(x.log().mul(x)).backward());
    const g = await x.grad!.dataAsync();
    expect([g[0]! - 1, g[1]! - (Math.log(2) + 1)].map((e) => Math.abs(e) < 1e-6)).toEqual([true, true]);
  });

  it('device mismatches in gradients are DeviceErrors; moving a tensor that requires grad is refused with advice', () => {
    const x = tensor([1, 2], { device: 'webgpu', requiresGrad: true });
    const y = x.mul(2);
    expect(() => backward(y, tensor([1, 1]))).toThrow(DeviceError);
    expect(() => {
      x.grad = tensor([1, 1]);
    }).toThrow(DeviceError);
    const c = tensor([1, 2], { requiresGrad: true });
    expect(() => c.to('webgpu')).toThrow(/not differentiable.*detach\(\)\.to\('webgpu'\)/);
    const w = noGrad(() => c.to('webgpu'));
    expect([w.device, w.requiresGrad]).toEqual(['webgpu', false]);
  });

  it('a webgpu leaf created with requiresGrad trains: gradient descent on the device lowers the loss', async () => {
    const target = fromArray([0.5, -1, 2, 0], [2, 2]).to('webgpu');
    let w = fromArray([0, 0, 0, 0], [2, 2]).to('webgpu');
    w.requiresGrad = true;
    const loss = () => mean(w.sub(target).pow(2));
    const first = await loss().itemAsync();
    for (let step = 0; step < 20; step++) {
      const l = loss();
      l.backward();
      const next = noGrad(() => w.sub(w.grad!.mul(0.5)));
      next.requiresGrad = true;
      w = next;
    }
    const last = await loss().itemAsync();
    expect(last).toBeLessThan(first * 1e-3);
  });
});
