/**
 * A webgpu call whose buffers exceed the device's limits is a ShapeError naming the argument, its size and the
 * limit, checked before anything is allocated (it used to resolve with zeros); a validation error the device
 * reports during submission rejects the call (a StateError) instead of resolving with zeros; a dispatch needing
 * more workgroups than the device allows in two dimensions is a ShapeError.
 */
import { GPU, mul, ShapeError, StateError, variable } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';
import { wrapDevice } from './webgpu-device-wrap.js';

const { gpu: webgpu } = await setupWebGpu('webgpu-limits.test.ts');
afterAll(() => webgpu?.destroy());

describe.skipIf(webgpu === null)('webgpu buffer limits', () => {
  const real = () => webgpu!.device!;
  const limit = () => Math.min(real().limits.maxStorageBufferBindingSize, real().limits.maxBufferSize);

  it('an output over the device limit is a ShapeError naming the output, its bytes and the limit', async () => {
    const n = limit() / 4 + 1;
    const k = webgpu!.createKernel('function () { return 1; }', { output: [n] });
    const err = await Promise.resolve(k()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeError);
    const message = (err as Error).message;
    expect(message).toContain('the output');
    expect(message).toContain(`${n * 4} bytes`);
    expect(message).toContain(`${limit()} bytes`);
    // A pipeline call refuses it at once, before making a result.
    const p = webgpu!.createKernel('function () { return 1; }', { output: [n], pipeline: true });
    expect(() => p()).toThrow(ShapeError);
    k.destroy();
    p.destroy();
  });

  it('a 3-D output over the limit too (the size is the product)', async () => {
    const x = 1024;
    const y = 1024;
    const z = Math.floor(limit() / 4 / (x * y)) + 1;
    const k = webgpu!.createKernel('function () { return 1; }', { output: [x, y, z] });
    await expect(k.run()).rejects.toThrow(ShapeError);
    k.destroy();
  });

  it('createElementwise: an output over the limit is a ShapeError, not zeros', async () => {
    const s = variable('s');
    const run = webgpu!.createElementwise([mul(s, 2)], ['s'], ['scalar']);
    const n = limit() / 4 + 1;
    await expect(run.run([3], n)).rejects.toThrow(
      /output 0 .* needs \d+ bytes .* maxStorageBufferBindingSize|maxBufferSize/,
    );
    await expect(run.run([3], n)).rejects.toBeInstanceOf(ShapeError);
  });

  it('an input over the limit is a ShapeError naming the argument (device reporting a 1 KiB limit)', async () => {
    const { device } = wrapDevice(real(), {
      limits: { maxStorageBufferBindingSize: 1024, maxBufferSize: 1 << 20 },
    });
    const g = await GPU.create({ mode: 'webgpu', device });
    const k = g.createKernel('function (a, b) { return a[this.thread.x] + b[0]; }', { output: [4] });
    const err = await Promise.resolve(k(new Float32Array(4), new Float32Array(257))).catch((e) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toMatch(
      /argument 'b' \(shape \[257\]\) needs 1028 bytes .*maxStorageBufferBindingSize = 1024 bytes/,
    );
    // At the limit it runs.
    expect(await k(new Float32Array(4).fill(1), new Float32Array(256).fill(2))).toEqual(
      new Float32Array(4).fill(3),
    );
    const x = variable('x');
    const run = g.createElementwise([mul(x, 2)], ['x'], ['array']);
    await expect(run.run([new Float32Array(300)], 300)).rejects.toThrow(/input 'x' needs 1200 bytes/);
    g.destroy();
  });

  it('a buffer the device refuses (limits over-reported) rejects with its validation error, not zeros', async () => {
    const big = 2 ** 40;
    const { device } = wrapDevice(real(), {
      limits: { maxStorageBufferBindingSize: big, maxBufferSize: big },
    });
    const g = await GPU.create({ mode: 'webgpu', device });
    const n = limit() / 4 + 16;
    const k = g.createKernel('function () { return 1; }', { output: [n] });
    const err = await Promise.resolve(k()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(/validation error/);
    g.destroy();
  });

  it('a forced validation error (a bind group missing its output) rejects the call', async () => {
    const { device } = wrapDevice(real(), {
      bindGroup: (d) => ({ ...d, entries: d.entries.slice(0, -1) }),
    });
    const g = await GPU.create({ mode: 'webgpu', device });
    const k = g.createKernel('function (a) { return a[this.thread.x] + 1; }', { output: [8] });
    await expect(k.run(new Float32Array(8))).rejects.toThrow(StateError);
    await expect(k.run(new Float32Array(8))).rejects.toThrow(/validation error/);
    // A pipeline result carries the verdict: reading it rejects.
    const p = g.createKernel('function () { return 2; }', { output: [8], pipeline: true });
    await expect(p().read()).rejects.toThrow(/validation error/);
    const x = variable('x');
    const run = g.createElementwise([mul(x, 2)], ['x'], ['array']);
    await expect(run.run([new Float32Array(8)], 8)).rejects.toThrow(/validation error/);
    g.destroy();
  });

  it('more workgroups than the device can dispatch in two dimensions is a ShapeError', async () => {
    const { device } = wrapDevice(real(), { limits: { maxComputeWorkgroupsPerDimension: 4 } });
    const g = await GPU.create({ mode: 'webgpu', device });
    // 16 workgroups of 64 fit (4 x 4) and need the second dimension...
    const ok = g.createKernel('function () { return this.thread.x; }', { output: [64 * 16] });
    const out = (await ok()) as Float32Array;
    expect(out[64 * 16 - 1]).toBe(64 * 16 - 1);
    expect(out[100]).toBe(100);
    // ...17 do not.
    const k = g.createKernel('function () { return this.thread.x; }', { output: [64 * 16 + 1] });
    await expect(k.run()).rejects.toThrow(/1[7] workgroups are needed .* at most 4 x 4/);
    await expect(k.run()).rejects.toBeInstanceOf(ShapeError);
    g.destroy();
  });
});
