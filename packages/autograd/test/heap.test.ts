/**
 * Memory stays flat: each heap script runs in its own `node --expose-gc` process (`measureHeapGrowth` from
 * @gradkit/testing) and must leave the heap (after full collections) within 5 MB of where it started.
 */
import { measureHeapGrowth } from '@gradkit/testing';
import { describe, expect, it } from 'vitest';

const MB = 2 ** 20;

describe('heap growth', () => {
  it('100,000 tensor ops with distinct numeric constants (x.mul(i)) keep the heap flat and compile nothing', async () => {
    const r = await measureHeapGrowth('packages/autograd/test/heap/distinct-constants.ts');
    expect(r.growth).toBeLessThan(5 * MB);
    expect(r.details).toMatchObject({ kernels: 0 });
  });

  it('a function fused anew every step with a distinct constant keeps the heap flat and shares one kernel', async () => {
    const r = await measureHeapGrowth('packages/autograd/test/heap/fuse-per-step.ts');
    expect(r.growth).toBeLessThan(5 * MB);
    expect(r.details).toMatchObject({ kernels: 0 });
  });

  it('1,000 forward+backward steps on WebGPU leave the live buffer count flat (graph buffers return to the pool)', async () => {
    const r = await measureHeapGrowth('packages/autograd/test/heap/device-train-steps.ts');
    const d = r.details as { skipped?: true; before: unknown; after: unknown; pooled: { buffers: number } };
    if (d.skipped) {
      if (process.env.CI === 'true') throw new Error('CI=true requires WebGPU for the device leak test');
      return;
    }
    expect(d.after).toEqual(d.before);
    expect(d.pooled.buffers).toBeGreaterThan(0);
    expect(r.growth).toBeLessThan(5 * MB);
  });
});
