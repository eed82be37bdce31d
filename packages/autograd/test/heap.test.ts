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
});
