/**
 * `kernel.destroy()` releases the kernel from its GPU (issue 8: 20k create/destroy cycles used to keep 71 MB):
 * the GPU's kernel registry and the device buffers made for the kernel return to their baseline, counted (not
 * timed). `gpu.destroy()` frees every buffer it made on a device it was given.
 */
import { GPU, type GPUMode } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';
import { wrapDevice } from './webgpu-device-wrap.js';

const { gpu: webgpu } = await setupWebGpu('webgpu-lifecycle.test.ts');
afterAll(() => webgpu?.destroy());

/** The size of the GPU's kernel registry (a private field: the test reads it to count, not to use it). */
const registered = (g: GPU<GPUMode>): number => (g as unknown as { kernels: Set<unknown> }).kernels.size;

const SRC = 'function (a) { return a[this.thread.x] * 2; }';

describe('kernel.destroy() on cpu', () => {
  it('removes the kernel from the GPU registry', () => {
    const g = new GPU({ mode: 'cpu' });
    const base = registered(g);
    for (let i = 0; i < 500; i++) {
      const k = g.createKernel(SRC, { output: [4] });
      k([1, 2, 3, 4]);
      k.destroy();
    }
    expect(registered(g)).toBe(base);
    const kept = g.createKernel(SRC, { output: [4] });
    expect(registered(g)).toBe(base + 1);
    kept.destroy();
    kept.destroy(); // idempotent
    expect(registered(g)).toBe(base);
    g.destroy();
  });
});

describe.skipIf(webgpu === null)('kernel.destroy() on webgpu', () => {
  it('returns the registry and the live device buffers to their baseline', async () => {
    const { device, live } = wrapDevice(webgpu!.device!);
    const g = await GPU.create({ mode: 'webgpu', device });
    const base = registered(g);
    const baseBuffers = live.size;
    for (let i = 0; i < 40; i++) {
      const k = g.createKernel(SRC, { output: [16] });
      const p = g.createKernel(SRC, { output: [16], pipeline: true });
      await Promise.all([k(new Float32Array(16)), k.run(new Float32Array(16))]);
      const r = p(new Float32Array(16));
      await r.read();
      r.delete();
      k.destroy();
      p.destroy();
    }
    expect(registered(g)).toBe(base);
    expect(live.size).toBe(baseBuffers);
    g.destroy();
  });

  it('a call not yet submitted when its kernel is destroyed rejects; nothing stays allocated', async () => {
    const { device, live } = wrapDevice(webgpu!.device!);
    const g = await GPU.create({ mode: 'webgpu', device });
    const k = g.createKernel(SRC, { output: [16] });
    await k(new Float32Array(16)); // compiled
    const pending = k(new Float32Array(16).fill(1));
    k.destroy();
    await expect(pending).rejects.toThrow(/the kernel was destroyed/);
    expect(live.size).toBe(0);
    await expect(Promise.resolve().then(() => k(new Float32Array(16)))).rejects.toThrow(/destroyed/);
    g.destroy();
  });

  it('gpu.destroy() frees every buffer it made, results included', async () => {
    const { device, live } = wrapDevice(webgpu!.device!);
    const g = await GPU.create({ mode: 'webgpu', device });
    const k = g.createKernel(SRC, { output: [16] });
    const p = g.createKernel(SRC, { output: [16], pipeline: true });
    await k(new Float32Array(16));
    const results = [p(new Float32Array(16)), p(new Float32Array(16))];
    await results[0]!.read();
    expect(live.size).toBeGreaterThan(0);
    expect(registered(g)).toBe(2);
    g.destroy();
    expect(live.size).toBe(0);
    expect(registered(g)).toBe(0);
  });
});
