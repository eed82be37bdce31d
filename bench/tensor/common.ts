/** Shared pieces of the tensor benchmarks: configuration, seeded data, a result sink, comparisons. */

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
