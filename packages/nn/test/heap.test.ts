/**
 * Memory stays flat over long training: the heap script runs in its own `node --expose-gc` process
 * (`measureHeapGrowth` from @gradkit/testing) and must leave the heap within 5 MB of where it started.
 */
import { measureHeapGrowth } from '@gradkit/testing';
import { expect, test } from 'vitest';

test('10,000 optimizer steps of an MLP (Adam, cosine schedule) keep the heap flat and compile nothing new', async () => {
  const r = await measureHeapGrowth('packages/nn/test/heap/optimizer-steps.ts', { timeoutMs: 300_000 });
  expect(r.growth).toBeLessThan(5 * 2 ** 20);
  expect(r.details).toMatchObject({ kernels: 0 });
  expect(Number.isFinite((r.details as { loss: number }).loss)).toBe(true);
}, 300_000);
