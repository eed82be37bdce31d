/**
 * The WGSL kernels of the tensor ops on WebGPU (wgsl-matmul, wgsl-strided, wgsl-gather, wgsl-softmax), at the
 * kernel level: on a device that reports a tiny maxComputeWorkgroupsPerDimension, the matrix product splits
 * its dispatch and still computes every tile, the element kernels use a 2-D grid and refuse (ShapeError)
 * what even that cannot cover; the scatter-add is deterministic; bad tables are typed errors.
 */
import {
  ArgumentError,
  deviceGatherRows,
  deviceMatmul,
  deviceScatterAddRows,
  deviceStridedRead,
  ShapeError,
  WebGpuArrays,
} from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';
import { wrapDevice } from './webgpu-device-wrap.js';

const { gpu } = await setupWebGpu('wgsl-device-kernels.test.ts');
const rt = gpu === null ? null : await WebGpuArrays.create();
afterAll(() => {
  rt?.destroy();
  gpu?.destroy();
});

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

describe.skipIf(rt === null)('WGSL kernels of the device tensor ops', () => {
  it('matmul splits its dispatch past maxComputeWorkgroupsPerDimension and computes every tile', async () => {
    const { device } = wrapDevice(rt!.device, { limits: { maxComputeWorkgroupsPerDimension: 2 } });
    const small = new WebGpuArrays(device);
    const [m, n, k, batches] = [150, 140, 5, 3]; // 3 tile rows, 3 tile columns, 3 batches: all split
    const a = seq(batches * m * k, (i) => ((i * 7) % 11) - 5);
    const b = seq(batches * k * n, (i) => ((i * 5) % 13) - 6);
    const offsets = new Uint32Array(2 * batches);
    for (let i = 0; i < batches; i++) {
      offsets[2 * i] = i * m * k;
      offsets[2 * i + 1] = i * k * n;
    }
    const out = deviceMatmul(small, 'test', small.upload(a), small.upload(b), {
      m,
      n,
      k,
      batches,
      reduce: 1,
      offsets,
      aStrides: [k, 1],
      bStrides: [n, 1],
    });
    const got = await small.read(out);
    const bad: number[] = [];
    for (let z = 0; z < batches; z++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[z * m * k + i * k + p]! * b[z * k * n + p * n + j]!;
          if (got[z * m * n + i * n + j] !== s && bad.length < 3) bad.push(z * m * n + i * n + j);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('element kernels use a 2-D grid within the limit, and refuse a size past it with a ShapeError', async () => {
    const { device } = wrapDevice(rt!.device, { limits: { maxComputeWorkgroupsPerDimension: 2 } });
    const small = new WebGpuArrays(device);
    const src = small.upload(seq(1000, (i) => i));
    // 1000 threads = 4 workgroups of 256 = a 2×2 grid: the transpose of a 25×40 matrix
    const t = deviceStridedRead(small, 'test', src, { shape: [40, 25], strides: [1, 40], offset: 0 });
    const got = await small.read(t);
    expect(got[1]).toBe(40);
    expect(got[999]).toBe(999);
    expect(got[26]).toBe(41);
    const big = small.upload(new Float32Array(2000));
    expect(() => deviceStridedRead(small, 'test', big, { shape: [2000], strides: [1], offset: 0 })).toThrow(
      /workgroups are needed .* at most 2 x 2/,
    );
  });

  it('the scatter-add sums repeated targets in index order, the same bits on every run', async () => {
    const r = rt!;
    const index = Uint32Array.from({ length: 3000 }, (_, i) => (i * 7919) % 5);
    const src = r.upload(seq(3000 * 2, (i) => Math.sin(i) * 1e3));
    const g = { outer: 1, srcRows: 5, inner: 2, index };
    const first = await r.read(deviceScatterAddRows(r, 'test', null, src, g));
    const second = await r.read(deviceScatterAddRows(r, 'test', null, src, g));
    expect(Array.from(second)).toEqual(Array.from(first));
    const host = await r.read(src);
    const want = new Float32Array(10);
    for (let i = 0; i < 3000; i++) for (let j = 0; j < 2; j++) want[index[i]! * 2 + j]! += host[i * 2 + j]!;
    for (let i = 0; i < 10; i++) expect(Math.abs(first[i]! - want[i]!)).toBeLessThan(1e-3 * 3000);
    // the gather reads back the rows
    const rows = await r.read(deviceGatherRows(r, 'test', src, { outer: 1, srcRows: 3000, inner: 2, index }));
    expect(rows[2]).toBe(host[index[1]! * 2]);
  });

  it('bad tables and windows are typed errors, not wrong answers', () => {
    const r = rt!;
    const a = r.upload([1, 2, 3, 4]);
    const spec = { m: 2, n: 2, k: 2, batches: 1, reduce: 1, aStrides: [2, 1], bStrides: [2, 1] } as const;
    expect(() => deviceMatmul(r, 'test', a, a, { ...spec, offsets: new Uint32Array(1) })).toThrow(
      ArgumentError,
    );
    expect(() => deviceMatmul(r, 'test', a, a, { ...spec, offsets: Uint32Array.of(1, 0) })).toThrow(
      ShapeError,
    );
    expect(() => deviceStridedRead(r, 'test', a, { shape: [3], strides: [2], offset: 0 })).toThrow(
      ShapeError,
    );
    expect(() =>
      deviceGatherRows(r, 'test', a, { outer: 1, srcRows: 4, inner: 1, index: Uint32Array.of(4) }),
    ).toThrow(ShapeError);
  });
});
