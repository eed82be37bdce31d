/**
 * Broadcasting on WebGPU (issue 13): elementwise programs whose inputs broadcast (stride-0 dimensions, new
 * leading dimensions, any rank) run as ONE strided WGSL kernel and match the cpu backend.
 */
import { fuse, memory, type Tensor, type Value, where } from '@gradkit/autograd';
import { broadcastShapes, propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haveWebGpu, mismatches, normal, onDevice } from './device-helpers.js';

const HAVE = await haveWebGpu('tensor-device-broadcast.test.ts');

describe.skipIf(!HAVE)('broadcasting on WebGPU', async () => {
  const { initWebGPU } = await import('@gradkit/autograd');
  if (HAVE) await initWebGPU();

  const f = fuse((x: Value, y: Value, z: Value) => x.sigmoid().mul(y).sub(z.tanh()).abs().pow(1.5));
  const ops: Array<[string, (a: Tensor, b: Tensor, c: Tensor) => Tensor]> = [
    ['add', (a, b) => a.add(b)],
    ['mul-sub', (a, b, c) => a.mul(b).sub(c)],
    ['fused3', (a, b, c) => f(a, b, c)],
    ['where', (a, b, c) => where(a.gt(b), c, b.mul(2))],
    ['div+number', (a, b) => a.div(b.abs().add(0.5)).add(3)],
  ];

  it('elementwise ops over broadcast shapes (any rank, size 0 and 1 dims) match the cpu', async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastShapes(3, { maxRank: 6, maxDim: 4, allowZero: true, maxSize: 300 }),
        fc.integer({ min: 0, max: 1000 }),
        async (shapes, seed) => {
          const cpu = shapes.map((s, i) => normal(s, seed + i).to('float32'));
          const gpu = cpu.map((t) => onDevice(t));
          for (const [name, run] of ops) {
            const want = run(cpu[0]!, cpu[1]!, cpu[2]!);
            const got = run(gpu[0]!, gpu[1]!, gpu[2]!);
            expect([name, got.device, got.shape]).toEqual([name, 'webgpu', want.shape]);
            expect([name, mismatches(await got.dataAsync(), want.data, 1e-5, 1e-5)]).toEqual([name, []]);
            got.dispose();
          }
          for (const t of gpu) t.dispose();
        },
      ),
      propertyConfig({ numRuns: 12 }),
    );
  });

  it('a broadcast of rank 10 (beyond what the merged layout can flatten) runs and matches', async () => {
    const a = normal([2, 1, 2, 1, 2, 1, 2, 1, 2, 1], 1).to('float32');
    const b = normal([1, 2, 1, 2, 1, 2, 1, 2, 1, 2], 2).to('float32');
    const want = a.mul(b).add(a);
    const got = onDevice(a).mul(onDevice(b)).add(onDevice(a));
    expect(got.shape).toEqual(want.shape);
    expect(mismatches(await got.dataAsync(), want.data)).toEqual([]);
  });

  it('a row plus a column is one kernel: one new buffer, the values of the outer sum', async () => {
    const row = onDevice(normal([1, 3], 3).to('float32'));
    const col = onDevice(normal([4, 1], 4).to('float32'));
    const before = memory().buffers;
    const s = row.add(col);
    expect(memory().buffers).toBe(before + 1);
    const r = await row.dataAsync();
    const c = await col.dataAsync();
    const want = Array.from({ length: 12 }, (_, i) => Math.fround(r[i % 3]! + c[Math.floor(i / 3)]!));
    expect(Array.from(await s.dataAsync())).toEqual(want);
  });
});
