import { isArenaStorage } from '@gradkit/kernels';
import type { Storage } from './dtype.js';

/**
 * Version counters of tensor storage, as in PyTorch: every in-place op bumps the counter of the storage it
 * writes, and autograd records the counters of the tensors a node may read in backward, so a backward that
 * would read modified data refuses instead of returning a wrong gradient.
 *
 * The counter belongs to the storage's ArrayBuffer, so every tensor sharing it (`detach()`, `reshape()`,
 * `view()`) sees the same counter, as PyTorch's views do — except for storage in the WebAssembly arena
 * (`allocateStorage`), whose ArrayBuffer is the whole memory shared by every such tensor: there the counter
 * belongs to the typed array itself (which those views share). Writing into `tensor.data` directly
 * bypasses it.
 */
const counters = new WeakMap<object, VersionCounter>();

/** The object a storage's counter belongs to. */
function owner(data: Storage): object {
  return isArenaStorage(data) ? data : data.buffer;
}

/** A shared, mutable version number. */
export interface VersionCounter {
  value: number;
}

/** The counter of `data`'s storage, created (at 0) on first use. */
export function versionCounter(data: Storage): VersionCounter {
  const key = owner(data);
  let c = counters.get(key);
  if (c === undefined) {
    c = { value: 0 };
    counters.set(key, c);
  }
  return c;
}

/** The current version of `data`'s storage (0 until an in-place op modified it). */
export function versionOf(data: Storage): number {
  return counters.get(owner(data))?.value ?? 0;
}

/** Records that `data`'s storage was modified in place. */
export function bumpVersion(data: Storage): void {
  versionCounter(data).value++;
}
