import { type DeviceArray, isArenaStorage } from '@gradkit/kernels';
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
 * bypasses it. The counter of a webgpu tensor belongs to its DeviceArray (shared the same way).
 */
const counters = new WeakMap<object, VersionCounter>();

/** Storage of either device: host memory, or a WebGPU buffer. */
type AnyStorage = Storage | DeviceArray;

/** The object a storage's counter belongs to. */
function keyOf(data: AnyStorage): object {
  if (!ArrayBuffer.isView(data)) return data;
  return isArenaStorage(data) ? data : data.buffer;
}

/** A shared, mutable version number. */
export interface VersionCounter {
  value: number;
}

/** The counter of `data`'s storage, created (at 0) on first use. */
export function versionCounter(data: AnyStorage): VersionCounter {
  let c = counters.get(keyOf(data));
  if (c === undefined) {
    c = { value: 0 };
    counters.set(keyOf(data), c);
  }
  return c;
}

/** The current version of `data`'s storage (0 until an in-place op modified it). */
export function versionOf(data: AnyStorage): number {
  return counters.get(keyOf(data))?.value ?? 0;
}

/** Records that `data`'s storage was modified in place. */
export function bumpVersion(data: AnyStorage): void {
  versionCounter(data).value++;
}
