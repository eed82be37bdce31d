/**
 * Memory stays flat: the heap script runs in its own `node --expose-gc` process (`measureHeapGrowth` from
 * @gradkit/testing) and must leave the heap (after full collections) within 5 MB of where it started.
 */
import { measureHeapGrowth } from '@gradkit/testing';
import { expect, test } from 'vitest';

const MB = 2 ** 20;

test('20k distinct focal gammas leave the heap within 5 MB of where it started (one program for all)', async () => {
  const r = await measureHeapGrowth('packages/losses/test/heap/focal-gammas.ts', { timeoutMs: 300_000 });
  const d = r.details as { n: number; distinctMs: number; oneMs: number };
  console.info(
    `focal, ${d.n} distinct gammas: heap ${(r.growth / MB).toFixed(2)} MB growth; ` +
      `${(d.distinctMs * 1000).toFixed(1)} µs CPU/call distinct vs ${(d.oneMs * 1000).toFixed(1)} µs CPU/call one gamma`,
  );
  expect(d.n).toBe(20_000);
  expect(r.growth).toBeLessThan(5 * MB);
}, 300_000);
