import { ArgumentError, DomainError } from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';
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
 *
 * @throws ArgumentError for an unknown option or one of the wrong type; DomainError when the bounds are not
 *   finite numbers with min <= max, or no value is left (nonZero with min = max = 0)
 */
export function scalar(opts: ScalarOptions = {}): fc.Arbitrary<number> {
  const op = 'scalar';
  checkOptionKeys(op, 'opts', opts, ['min', 'max', 'edges', 'infinities', 'nonZero']);
  const [min, max] = bounds(op, ownValue(opts, 'min') ?? -1e6, ownValue(opts, 'max') ?? 1e6);
  const nonZero = flag(op, opts, 'nonZero', false);
  const edges = flag(op, opts, 'edges', true);
  const infinities = flag(op, opts, 'infinities', false);
  if (nonZero && min === 0 && max === 0) {
    throw new DomainError(op, 'no value in [0, 0] is non-zero (option nonZero)');
  }
  const keep = (x: number) => !(nonZero && x === 0);
  const base = fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).filter(keep);
  const extra: number[] = [];
  if (edges) extra.push(...EDGE_VALUES.filter((x) => x >= min && x <= max && keep(x)));
  if (infinities) extra.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  if (extra.length === 0) return base;
  return fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constantFrom(...extra), weight: 1 });
}

/**
 * Finite float64 scalars in [min, max] with no edge values: what finite differences can judge.
 *
 * @throws DomainError when the bounds are not finite numbers with min <= max
 */
export function smoothScalar(min: number, max: number): fc.Arbitrary<number> {
  const [lo, hi] = bounds('smoothScalar', min, max);
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** Checks a [min, max] pair: finite numbers with min <= max. */
export function bounds(op: string, min: unknown, max: unknown): [number, number] {
  for (const [name, v] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new DomainError(op, `'${name}' must be a finite number, got ${describeValue(v)}`);
    }
  }
  if ((min as number) > (max as number)) {
    throw new DomainError(op, `'min' (${min}) must not exceed 'max' (${max})`);
  }
  return [min as number, max as number];
}

/** Reads a boolean option (own keys only). */
export function flag(op: string, opts: object, key: string, fallback: boolean): boolean {
  const v = ownValue(opts, key) ?? fallback;
  if (typeof v !== 'boolean') {
    throw new ArgumentError(op, `option '${key}' must be a boolean, got ${describeValue(v)}`);
  }
  return v;
}
