/**
 * The buffer pool of `WebGpuArrays`: released buffers go to size-class free lists and serve later
 * allocations; `memory()` counts live buffers only; outputs promised zero-filled are cleared when reused;
 * the pool is bounded and can be emptied.
 */
import { add, DEFAULT_POOL_BYTES, poolBucket, StateError, variable, WebGpuArrays } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';

const { gpu } = await setupWebGpu('device-pool.test.ts');
const rt = gpu === null ? null : await WebGpuArrays.create();
afterAll(() => {
  rt?.destroy();
  gpu?.destroy();
});

describe('poolBucket', () => {
  it('rounds up to 256 bytes, then to a quarter of the power of two below (at most 25% more), within the limit', () => {
    expect([4, 100, 256].map((b) => poolBucket(b))).toEqual([256, 256, 256]);
    expect([257, 320, 321, 512, 513, 4000].map((b) => poolBucket(b))).toEqual([
      320, 320, 384, 512, 640, 4096,
    ]);
    for (let b = 257; b < 100_000; b += 997) {
      const c = poolBucket(b);
      expect(c >= b && c <= b * 1.25 && c % 4 === 0).toBe(true);
    }
    expect(poolBucket(1000, 900)).toBe(1000); // over the limit: exact (refused later by the size check)
    expect(poolBucket(800, 900)).toBe(896);
    expect(poolBucket(897, 900)).toBe(900); // the class (1024) is over the limit: the limit
    expect(DEFAULT_POOL_BYTES).toBe(256 * 2 ** 20);
  });
});

describe.skipIf(rt === null)('the WebGpuArrays buffer pool', () => {
  it('a disposed buffer goes to the pool and serves the next allocation of its size class', () => {
    const r = rt!;
    r.releasePool();
    const live = r.memory();
    const a = r.upload(new Float32Array(100));
    expect(r.memory()).toEqual({ buffers: live.buffers + 1, bytes: live.bytes + 448 });
    a.dispose();
    expect(r.memory()).toEqual(live);
    expect(r.pooled()).toEqual({ buffers: 1, bytes: 448 });
    const b = r.upload(new Float32Array(110)); // 440 bytes: the same class (448)
    expect(r.pooled()).toEqual({ buffers: 0, bytes: 0 });
    const c = r.upload(new Float32Array(10)); // another class: a new buffer
    b.dispose();
    c.dispose();
    expect(r.pooled()).toEqual({ buffers: 2, bytes: 448 + 256 });
    r.releasePool();
    expect(r.pooled()).toEqual({ buffers: 0, bytes: 0 });
    expect(r.memory()).toEqual(live);
  });

  it('compute outputs are zero-filled also from a reused buffer; elementwise results are exact', async () => {
    const r = rt!;
    r.releasePool();
    const junk = r.upload(Float32Array.from({ length: 64 }, (_, i) => i + 1));
    junk.dispose();
    const [zeros] = r.compute('t', {
      code: `@group(0) @binding(0) var<uniform> p: vec4<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { }`,
      inputs: [],
      outputs: [64],
      workgroups: [0],
    });
    expect(r.pooled().buffers).toBe(0);
    expect(Array.from(await r.read(zeros!))).toEqual(new Array(64).fill(0));
    const x = r.upload([1, 2, 3]);
    const [y] = r.elementwise('t', [add(variable('a'), variable('a'))], ['a'], ['array'], [false], [x], 3);
    expect(Array.from(await r.read(y!))).toEqual([2, 4, 6]);
    for (const d of [zeros!, x, y!]) d.dispose();
  });

  it('the pool is bounded by poolLimit (a buffer released past it is destroyed); 0 turns pooling off', () => {
    const r = rt!;
    r.releasePool();
    const before = r.poolLimit;
    try {
      r.poolLimit = 600;
      const arrays = [100, 100, 100].map((n) => r.upload(new Float32Array(n)));
      for (const a of arrays) a.dispose();
      expect(r.pooled()).toEqual({ buffers: 1, bytes: 448 });
      r.poolLimit = 0;
      r.upload([1]).dispose();
      expect(r.pooled()).toEqual({ buffers: 1, bytes: 448 });
      expect(() => {
        r.poolLimit = -1;
      }).toThrow(/non-negative/);
    } finally {
      r.poolLimit = before;
      r.releasePool();
    }
  });

  it('reading an array disposed while the read waits rejects instead of reading a reused buffer', async () => {
    const r = rt!;
    const a = r.upload([1, 2, 3]);
    const reading = r.read(a);
    a.dispose();
    r.upload([9, 9, 9]).dispose();
    await expect(reading).rejects.toThrow(StateError);
  });
});
