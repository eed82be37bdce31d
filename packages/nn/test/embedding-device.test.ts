/**
 * nn.Embedding with its table on webgpu (issue 13): the lookup is a device indexSelect, and its gradient a
 * device scatter-add that sums repeated indices deterministically (the same bits on every run).
 */
import { fromArray, grad, initWebGPU, noGrad, type Tensor } from '@gradkit/autograd';
import { webgpuAvailability } from '@gradkit/kernels';
import { Embedding } from '@gradkit/nn';
import { describe, expect, it } from 'vitest';

const availability = await webgpuAvailability();
if (!availability.available) {
  const line = `WebGPU tests skipped (embedding-device.test.ts): ${availability.reason}.`;
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
  console.warn(line);
} else {
  await initWebGPU();
}

describe.skipIf(!availability.available)('Embedding on webgpu', () => {
  it('looks rows up on the device; the gradient matches the cpu and has the same bits every run', async () => {
    const emb = new Embedding(10, 4);
    const ids = [3, 1, 3, 9, 0, 3, 1];
    const want = emb.forward(ids);
    const g = fromArray(
      Array.from({ length: want.size }, (_, i) => Math.sin(i)),
      want.shape,
      { dtype: 'float32' },
    );
    const [wantGrad] = grad(want, [emb.weight], { gradOutputs: [g] }) as [Tensor];
    const w = noGrad(() => emb.weight.to('webgpu'));
    w.requiresGrad = true;
    emb.weight = w;
    const got = emb.forward(ids);
    expect(got.device).toBe('webgpu');
    expect(Array.from(await got.dataAsync())).toEqual(Array.from(want.data));
    const gDev = noGrad(() => g.to('webgpu'));
    const [g1] = grad(got, [w], { gradOutputs: [gDev], retainGraph: true }) as [Tensor];
    const [g2] = grad(got, [w], { gradOutputs: [gDev] }) as [Tensor];
    const first = await g1.dataAsync();
    first.forEach((v, i) => {
      expect(Math.abs(v - wantGrad.data[i]!)).toBeLessThan(1e-6);
    });
    expect(Array.from(await g2.dataAsync())).toEqual(Array.from(first));
  });
});
