/**
 * The float64 error function (runtime `erf`, the `erf` primitive's numeric definition) against Python's
 * math.erf (the C library's, about 1 ulp) on the fixture written by fixtures/erf/make_erf_fixture.py: within
 * 5 ulps everywhere, exact at the edges.
 */
import { readFileSync } from 'node:fs';
import { erf, erfNumber, evaluate, variable } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/erf/erf.json', import.meta.url), 'utf8')) as {
  pairs: Array<[number, number]>;
};

const buf = new Float64Array(1);
const bits = new BigInt64Array(buf.buffer);
/** A float64 as an integer that orders like the number (ulps apart = integers apart). */
function ordinal(v: number): bigint {
  buf[0] = v;
  const b = bits[0]!;
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b;
}

describe('erf (float64)', () => {
  it(`is within 5 ulps of Python's math.erf on ${fixture.pairs.length} points`, () => {
    let worst = 0n;
    let at = 0;
    for (const [x, want] of fixture.pairs) {
      const d = ordinal(erfNumber(x)) - ordinal(want);
      const ulps = d < 0n ? -d : d;
      if (ulps > worst) {
        worst = ulps;
        at = x;
      }
    }
    expect(Number(worst), `worst at erf(${at})`).toBeLessThanOrEqual(5);
  });

  it('is odd, exact at the edges, and NaN-propagating', () => {
    expect(erfNumber(0)).toBe(0);
    expect(Object.is(erfNumber(-0), -0)).toBe(true);
    expect(erfNumber(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erfNumber(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(erfNumber(6)).toBe(1);
    expect(Number.isNaN(erfNumber(Number.NaN))).toBe(true);
    for (const x of [0.1, 0.7, 1.3, 2.9, 4.4]) expect(erfNumber(-x)).toBe(-erfNumber(x));
    expect(erfNumber(1e-300)).toBe(1e-300 * 1.1283791670955126);
  });

  it('is the primitive: evaluate(erf(x)) calls it', () => {
    expect(evaluate(erf(variable('x')), { x: 0.5 })).toBe(erfNumber(0.5));
  });
});
