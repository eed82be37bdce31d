/**
 * `tidy(fn)` on WebGPU (issue 13, memory): the buffers of the temporaries a step creates are released when
 * it ends — without waiting for garbage collection — except the returned tensors and stored gradients, so
 * 1,000 training steps keep the live buffer count exactly flat at every step.
 */
import {
  Generator,
  initWebGPU,
  mean,
  memory,
  noGrad,
  randn,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@gradkit/autograd';
import { ArgumentError } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';
import { haveWebGpu } from './device-helpers.js';

const HAVE = await haveWebGpu('tensor-device-tidy.test.ts');

describe('tidy on the cpu', () => {
  it('just runs fn and returns its result; a non-function is an ArgumentError', () => {
    const t = tensor([1, 2]);
    expect(tidy(() => t.mul(2)).toArray()).toEqual(Float32Array.from([2, 4]));
    expect(() => tidy(3 as never)).toThrow(ArgumentError);
  });
});

describe.skipIf(!HAVE)('tidy on WebGPU', async () => {
  if (HAVE) await initWebGPU();

  it('disposes the temporaries, keeps what is returned (in arrays and objects) and the .grad of leaves', async () => {
    const w = tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
    const before = memory().buffers;
    let inner: Tensor | undefined;
    const out = tidy(() => {
      inner = w.mul(w);
      const loss = sum(inner.exp());
      loss.backward();
      return { loss, parts: [inner.add(1)] };
    });
    // kept: loss, parts[0], w.grad; disposed: inner, exp, the seed and every backward temporary
    expect(memory().buffers).toBe(before + 3);
    expect(await out.loss.itemAsync()).toBeCloseTo(Math.exp(1) + Math.exp(4) + Math.exp(9), 2);
    expect(Array.from(await out.parts[0]!.dataAsync())).toEqual([2, 5, 10]);
    expect(w.grad!.device).toBe('webgpu');
    expect(Array.from(await w.grad!.dataAsync()).map((v) => Math.round(v))).toEqual(
      [1, 2, 3].map((v) => Math.round(2 * v * Math.exp(v * v))),
    );
    await expect(inner!.dataAsync()).rejects.toThrow(/disposed/);
  });

  it('nests: what an inner tidy returns belongs to the outer one', async () => {
    const x = tensor([1, 2], { device: 'webgpu' });
    const before = memory().buffers;
    let fromInner: Tensor | undefined;
    const kept = tidy(() => {
      fromInner = tidy(() => x.add(1).mul(2));
      expect(memory().buffers).toBe(before + 1);
      return fromInner.add(1);
    });
    expect(memory().buffers).toBe(before + 1);
    expect(Array.from(await kept.dataAsync())).toEqual([5, 7]);
    await expect(fromInner!.dataAsync()).rejects.toThrow(/disposed/);
  });

  it('a Promise returned by fn is an ArgumentError, after releasing what fn created', () => {
    const x = tensor([1, 2], { device: 'webgpu' });
    const before = memory().buffers;
    expect(() => tidy(async () => x.add(1))).toThrow(ArgumentError);
    expect(memory().buffers).toBe(before);
  });

  it('1,000 forward+backward steps in tidy keep the live buffer count flat at every step (no GC needed)', async () => {
    const gen = new Generator(5);
    const x = randn([16, 4], { generator: gen, device: 'webgpu' });
    const y = randn([16], { generator: gen, device: 'webgpu' });
    let w = randn([4], { generator: gen, device: 'webgpu', requiresGrad: true });
    let b = randn([1], { generator: gen, device: 'webgpu', requiresGrad: true });
    const lossOf = () => mean(sum(x.mul(w), 1).add(b).sub(y).pow(2));
    const first = await tidy(lossOf).itemAsync();
    const counts = new Set<number>();
    for (let step = 0; step < 1000; step++) {
      const [nw, nb] = tidy(() => {
        lossOf().backward();
        return noGrad(() => [w.sub(w.grad!.mul(0.05)), b.sub(b.grad!.mul(0.05))]);
      });
      for (const t of [w.grad!, b.grad!, w, b]) t.dispose();
      nw!.requiresGrad = true;
      nb!.requiresGrad = true;
      w = nw!;
      b = nb!;
      counts.add(memory().buffers);
    }
    expect(counts.size).toBe(1);
    expect(await tidy(lossOf).itemAsync()).toBeLessThan(first);
  });
});
