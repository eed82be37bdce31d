import { DeviceArray } from '@gradkit/kernels';
import type { Storage } from './dtype.js';

/**
 * Version counters of tensor storage, as in PyTorch: every in-place op bumps the counter of the storage it
 * writes, and autograd records the counters of the tensors a node may read in backward, so a backward that
 * would read modified data refuses instead of returning a wrong gradient.
 *
 * The counter belongs to the storage's ArrayBuffer, so every tensor sharing it (`detach()`, `reshape()`,
 * `view()`) sees the same counter, as PyTorch's views do. Writing into `tensor.data` directly bypasses it.
 */
const counters = new WeakMap<object, VersionCounter>();

/** The key of a storage's counter: its ArrayBuffer on the cpu, the device array itself on webgpu. */
const keyOf = (data: Storage | DeviceArray): object => (data instanceof DeviceArray ? data : data.buffer);

/** A shared, mutable version number. */
export interface VersionCounter {
  value: number;
}

/** The counter of `data`'s storage, created (at 0) on first use. */
export function versionCounter(data: Storage | DeviceArray): VersionCounter {
  const key = keyOf(data);
  let c = counters.get(key);
  if (c === undefined) {
    c = { value: 0 };
    counters.set(key, c);
  }
  return c;
}

/** The current version of `data`'s storage (0 until an in-place op modified it). */
export function versionOf(data: Storage | DeviceArray): number {
  return counters.get(keyOf(data))?.value ?? 0;
}

/** Records that `data`'s storage was modified in place. */
export function bumpVersion(data: Storage | DeviceArray): void {
  versionCounter(data).value++;
}
