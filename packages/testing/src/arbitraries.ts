import fc from 'fast-check';

/** Options of {@link scalar}. */
export interface ScalarOptions {
  /** Smallest value (default -1e6). */
  min?: number;
  /** Largest value (default 1e6). */
  max?: number;
  /** Mix in the edge values inside [min, max]: 0, -0, ±tiny (5e-324, 1e-300), ±huge (1e300, MAX_VALUE) (default true). */
  edges?: boolean;
  /** Also produce ±Infinity (default false). */
  infinities?: boolean;
  /** Exclude 0 and -0 (default false). */
  nonZero?: boolean;
}

/** Edge values every scalar op should be tried on. */
export const EDGE_VALUES: readonly number[] = Object.freeze([
  0,
  -0,
  5e-324,
  -5e-324,
  1e-300,
  -1e-300,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
]);

/**
 * Finite float64 scalars in [min, max] (never NaN), with the edge values of {@link EDGE_VALUES} that lie in
 * range mixed in, and optionally ±Infinity.
 */
export function scalar(opts: ScalarOptions = {}): fc.Arbitrary<number> {
  const min = opts.min ?? -1e6;
  const max = opts.max ?? 1e6;
  const keep = (x: number) => !(opts.nonZero && x === 0);
  const base = fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).filter(keep);
  const extra: number[] = [];
  if (opts.edges ?? true) extra.push(...EDGE_VALUES.filter((x) => x >= min && x <= max && keep(x)));
  if (opts.infinities) extra.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  if (extra.length === 0) return base;
  return fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constantFrom(...extra), weight: 1 });
}

/** Finite float64 scalars in [min, max] with no edge values: what finite differences can judge. */
export function smoothScalar(min: number, max: number): fc.Arbitrary<number> {
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}
