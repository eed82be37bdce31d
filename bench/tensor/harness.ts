/**
 * Timing with benchmark.js: one synchronous Benchmark per case, reported as the median of its samples
 * (each sample is the mean time of one calibrated cycle), which is robust against GC pauses and the noise
 * of a shared machine.
 */
import Benchmark from 'benchmark';

/** How long each case may run. */
export interface TimingOptions {
  /** Seconds benchmark.js may spend sampling one case (after calibration). */
  maxTime: number;
  /** The least number of samples taken, even past maxTime. */
  minSamples: number;
}

/** The result of timing one case. */
export interface Timing {
  /** Median of the samples, in milliseconds per call. */
  medianMs: number;
  /** Mean of the samples, in milliseconds per call. */
  meanMs: number;
  /** Relative margin of error of the mean, in percent (benchmark.js `stats.rme`). */
  rmePct: number;
  /** Number of samples. */
  samples: number;
  /** Calls per sample (benchmark.js `count`). */
  callsPerSample: number;
}

/** The median of a non-empty list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times `fn` (synchronous; it must force its result, e.g. read the output back) with benchmark.js.
 *
 * @throws the error `fn` threw, if any
 */
export function measure(name: string, fn: () => void, opts: TimingOptions): Timing {
  const bench = new Benchmark(name, fn, {
    async: false,
    initCount: 1,
    maxTime: opts.maxTime,
    minSamples: opts.minSamples,
  });
  bench.run();
  if (bench.error) throw bench.error;
  const sample = (bench.stats.sample as number[]).map((s) => s * 1000);
  if (sample.length === 0) throw new Error(`benchmark '${name}' produced no samples`);
  return {
    medianMs: median(sample),
    meanMs: bench.stats.mean * 1000,
    rmePct: bench.stats.rme,
    samples: sample.length,
    callsPerSample: bench.count,
  };
}
