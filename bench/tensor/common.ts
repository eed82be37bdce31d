/** Shared pieces of the tensor benchmarks: configuration, seeded data, a result sink, comparisons. */

import v8 from 'node:v8';
import vm from 'node:vm';
import type { Generator } from '@gradkit/autograd';
import type { TimingOptions } from './harness.js';

/** How the benchmarks run. */
export interface BenchConfig {
  /** benchmark.js limits per case. */
  timing: TimingOptions;
}

let sunk = 0;
/** Keeps a result alive so no engine can drop the work that produced it. */
export function sink(v: number): void {
  sunk += v;
}
/** The accumulated sink (printed once so it is observably used). */
export function sunkTotal(): number {
  return sunk;
}

/** `n` standard-normal float32 numbers from a seeded gradkit generator, times `scale`. */
export function randomData(gen: Generator, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen.normal() * scale;
  return out;
}

/** The largest |a[i] - b[i]| (Infinity when the lengths differ or a NaN appears). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** A full garbage collection where V8 lets a running process expose it (else a no-op). */
const collect: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // not available: settle() then only yields
  }
  return () => {};
})();

/**
 * Lets what earlier cases left behind be collected before a timed section: a full collection, then two turns
 * of the event loop, so that the arena's release callbacks run and return the memory of every tensor the
 * earlier cases dropped (an unfused chain drops nine intermediates per call, which only the collector frees).
 * Without it the arena's growth budget may be spent on garbage and a following case run on the copy path
 * (ordinary arrays) — a leftover of the other case, not a cost of its own. Nothing here is timed.
 */
export async function settle(): Promise<void> {
  collect();
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
}
