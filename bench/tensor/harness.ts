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
  /** Relative margin of error of the mean at 95% confidence (normal approximation), in percent. */
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

/** One case of {@link measureInterleaved}. */
export interface Case {
  name: string;
  /** Synchronous; it must force its result (e.g. read the output back). */
  fn: () => void;
}

function runOnce(c: Case, maxTime: number, minSamples: number): { sample: number[]; count: number } {
  const bench = new Benchmark(c.name, c.fn, { async: false, initCount: 1, maxTime, minSamples });
  bench.run();
  if (bench.error) throw bench.error;
  const sample = (bench.stats.sample as number[]).map((s) => s * 1000);
  if (sample.length === 0) throw new Error(`benchmark '${c.name}' produced no samples`);
  return { sample, count: bench.count };
}

/**
 * Times several cases with benchmark.js in alternating rounds (A B A B ...), pooling each case's samples,
 * so that a change in machine load between cases (a shared machine) hits all of them alike and their
 * ratios stay fair. Each round gets `maxTime / rounds`.
 *
 * @throws the error a case threw, if any
 */
export function measureInterleaved(cases: readonly Case[], opts: TimingOptions, rounds = 3): Timing[] {
  const pooled = cases.map(() => ({ sample: [] as number[], count: 0 }));
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => {
      const { sample, count } = runOnce(c, opts.maxTime / rounds, Math.ceil(opts.minSamples / rounds));
      pooled[i]!.sample.push(...sample);
      pooled[i]!.count = count;
    });
  }
  return pooled.map(({ sample, count }) => {
    const n = sample.length;
    const mean = sample.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(sample.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    return {
      medianMs: median(sample),
      meanMs: mean,
      rmePct: mean > 0 ? ((1.96 * sd) / Math.sqrt(n) / mean) * 100 : 0,
      samples: n,
      callsPerSample: count,
    };
  });
}

/**
 * Times `fn` with benchmark.js (one pass).
 *
 * @throws the error `fn` threw, if any
 */
export function measure(name: string, fn: () => void, opts: TimingOptions): Timing {
  return measureInterleaved([{ name, fn }], opts, 1)[0]!;
}
