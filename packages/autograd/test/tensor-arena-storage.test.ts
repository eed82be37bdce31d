/**
 * Tensor storage in the WebAssembly arena (allocate → allocateStorage): large float32/float64 tensors live in
 * the kernels' shared memory, and everything that keyed on a storage's ArrayBuffer still tells tensors
 * apart — version counters are per storage (an in-place op on one arena tensor does not mark every other
 * one modified), and views share them.
 */
import { zeros } from '@gradkit/autograd';
import { isArenaStorage, wasmSimdAvailable } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const arena = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();

describe('arena storage', () => {
  it('large tensors are allocated in the arena where shared memory is available', () => {
    const t = zeros([64, 64]);
    expect(isArenaStorage(t.data)).toBe(arena);
    expect(isArenaStorage(zeros([4]).data)).toBe(false);
    expect(Array.from(t.data).every((v) => v === 0)).toBe(true);
  });

  it('version counters are per storage: add_ on one arena tensor leaves another (and its backward) alone', () => {
    const a = zeros([4096]);
    const b = zeros([4096], { requiresGrad: true });
    const y = b.mul(b).sum();
    a.add_(1);
    expect(a.version).toBe(1);
    expect(b.version).toBe(0);
    expect(() => y.backward()).not.toThrow();
    // Views share their storage's counter.
    const v = a.reshape([64, 64]);
    a.mul_(2);
    expect(v.version).toBe(2);
  });
});
