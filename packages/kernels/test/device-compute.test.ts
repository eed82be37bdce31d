/**
 * `WebGpuArrays.compute`: a hand-written shader over device arrays (the building block of the non-elementwise
 * tensor ops on WebGPU) — binding order, uniforms, in-place arguments, zero-filled outputs and typed refusals.
 */
import { ArgumentError, DeviceError, ShapeError, WebGpuArrays } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';

const { gpu } = await setupWebGpu('device-compute.test.ts');
const rt = gpu === null ? null : await WebGpuArrays.create();
afterAll(() => {
  rt?.destroy();
  gpu?.destroy();
});

const SHADER = `
struct P { scale: f32, n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> untouched: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= p.n) { return; }
  out[i] = a[i] * p.scale;
  acc[i] = acc[i] + a[i];
  if (i == 0u) { untouched[0] = untouched[1]; }
}`;

describe.skipIf(rt === null)('WebGpuArrays.compute', () => {
  it('binds uniforms, inputs, in-place arrays and outputs in order', async () => {
    const r = rt!;
    const n = 100;
    const a = r.upload(Float32Array.from({ length: n }, (_, i) => i));
    const acc = r.upload(new Float32Array(n).fill(1));
    const params = new ArrayBuffer(16);
    new Float32Array(params)[0] = 2.5;
    new Uint32Array(params)[1] = n;
    const [out, zero] = r.compute('test', {
      code: SHADER,
      inputs: [a],
      inOut: [acc],
      outputs: [n, 3],
      params,
      workgroups: [Math.ceil(n / 64)],
    });
    const got = await r.read(out!);
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => i * 2.5));
    expect(Array.from(await r.read(acc))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(Array.from(await r.read(zero!))).toEqual([0, 0, 0]);
    for (const d of [a, acc, out!, zero!]) d.dispose();
  });

  it('refuses foreign arrays and workgroup counts past the limit', () => {
    const r = rt!;
    const a = r.upload([1, 2]);
    expect(() =>
      r.compute('test', { code: SHADER, inputs: [{} as never], outputs: [1], workgroups: [1] }),
    ).toThrow(ArgumentError);
    const limit = r.device.limits.maxComputeWorkgroupsPerDimension;
    expect(() =>
      r.compute('test', { code: SHADER, inputs: [a], inOut: [a], outputs: [1], workgroups: [limit + 1] }),
    ).toThrow(ShapeError);
    a.dispose();
  });
});

describe.skipIf(rt === null)('WebGpuArrays after the device is lost', () => {
  it('throws a DeviceError naming the loss instead of hanging or returning zeros', async () => {
    const real = rt!.device;
    let lose: (info: { reason: string; message: string }) => void = () => undefined;
    const lost = new Promise<{ reason: string; message: string }>((r) => {
      lose = r;
    });
    // The same device, with a `lost` promise the test settles (a real loss cannot be provoked on demand).
    const device = new Proxy(real, {
      get: (t, k) => {
        if (k === 'lost') return lost;
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as typeof real;
    const arrays = new WebGpuArrays(device);
    const a = arrays.upload([1, 2, 3]);
    expect(Array.from(await arrays.read(a))).toEqual([1, 2, 3]);
    expect(arrays.lostReason).toBeNull();
    lose({ reason: 'unknown', message: 'simulated driver reset' });
    await lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(arrays.lostReason).toBe('simulated driver reset');
    expect(() => arrays.upload([1])).toThrow(DeviceError);
    expect(() => arrays.upload([1])).toThrow(/device was lost \(simulated driver reset\)/);
    await expect(arrays.read(a)).rejects.toThrow(DeviceError);
    expect(() =>
      arrays.compute('test', { code: SHADER, inputs: [a], inOut: [a], outputs: [1], workgroups: [1] }),
    ).toThrow(DeviceError);
  });
});

describe.skipIf(rt === null)('WebGpuArrays.strided', () => {
  it('reads each input through its strides and refuses strides that read past an array', async () => {
    const r = rt!;
    const { variable, add } = await import('@gradkit/kernels');
    const a = r.upload([1, 2, 3]);
    const b = r.upload([10, 20]);
    const e = [add(variable('a'), variable('b'))];
    const [out] = r.strided(
      't',
      e,
      ['a', 'b'],
      ['array', 'array'],
      [a, b],
      [2, 3],
      [
        [0, 1],
        [1, 0],
      ],
    );
    expect(Array.from(await r.read(out!))).toEqual([11, 12, 13, 21, 22, 23]);
    expect(() =>
      r.strided(
        't',
        e,
        ['a', 'b'],
        ['array', 'array'],
        [a, b],
        [2, 3],
        [
          [0, 1],
          [2, 0],
        ],
      ),
    ).toThrow(ShapeError);
    expect(() => r.strided('t', e, ['a', 'b'], ['array', 'array'], [a, b], [2, 3], [[0, 1]])).toThrow(
      ShapeError,
    );
    for (const d of [a, b, out!]) d.dispose();
  });
});

describe.skipIf(rt === null)('uploading tensor storage from the WebAssembly arena', () => {
  it('copies SharedArrayBuffer views before writeBuffer (the webgpu package segfaulted on them)', async () => {
    const { allocateStorage, isArenaStorage } = await import('@gradkit/kernels');
    const host = allocateStorage('float32', 4096) as Float32Array;
    host.forEach((_, i) => {
      host[i] = i % 7;
    });
    const d = rt!.upload(host);
    const back = await rt!.read(d);
    expect(back.length).toBe(4096);
    expect(back.every((v, i) => v === i % 7)).toBe(true);
    // The test means something only if the storage really is shared (the arena exists in Node).
    expect(isArenaStorage(host) && host.buffer instanceof SharedArrayBuffer).toBe(true);
    d.dispose();
  });
});
