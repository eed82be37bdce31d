/**
 * Numeric definitions of the primitives that are more than one JavaScript operator. The interpreter and
 * the generated JavaScript call these very functions, so compiled and interpreted results agree bit for bit.
 */

/**
 * Logistic sigmoid 1 / (1 + e^-x), finite everywhere and exact at the ends: sigmoid(+inf) = 1,
 * sigmoid(-inf) = 0. Each branch only ever exponentiates a non-positive number, so nothing overflows.
 */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|): never overflows, exact to the last
 * bits for large |x| (softplus(1e308) = 1e308, softplus(-1e308) = 0).
 */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * logSigmoid(x) = log(sigmoid(x)) = -softplus(-x), computed as min(x, 0) - log1p(e^-|x|): never overflows,
 * logSigmoid(-inf) = -inf, logSigmoid(+inf) = 0.
 */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/** where(c, a, b): a where c is non-zero (NaN counts as non-zero, as a JavaScript truth test would not), else b. */
export function where(c: number, a: number, b: number): number {
  return c !== 0 ? a : b;
}

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.7724538509055159;

/** e^(−a²) for a ≥ 0, with a² split (a = hi + lo, hi of 24 bits) so its rounding costs no digits. */
function expNegSquare(a: number): number {
  const hi = Math.fround(a);
  const lo = a - hi;
  return Math.exp(-hi * hi) * Math.exp(-lo * (a + hi));
}

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (JavaScript has no Math.erf): the Maclaurin series below
 * |x| = 1, 1 − erfc(x) from erfc's continued fraction (modified Lentz) up to 6, and ±1 beyond (erfc(6) is
 * below half an ulp of 1). Odd, erf(±inf) = ±1, NaN stays NaN. Within 5 ulps of the correctly rounded value
 * (measured against Python's math.erf over 30,000 points, see the kernels tests).
 */
export function erf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // NaN stays NaN; ±0 keeps its sign
  const a = Math.abs(x);
  let r: number;
  if (a < 1) {
    // 2/√π Σ (−1)^n a^(2n+1) / (n! (2n+1)): the terms shrink fast and barely cancel.
    const z = a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < 40; n++) {
      term *= -z / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    r = TWO_OVER_SQRT_PI * sum;
  } else if (a < 6) {
    // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))).
    let f = a;
    let c = a;
    let d = 0;
    for (let k = 1; k < 5000; k++) {
      d = 1 / (a + (k / 2) * d);
      c = a + k / 2 / c;
      const delta = c * d;
      f *= delta;
      if (delta === 1) break;
    }
    r = 1 - expNegSquare(a) / (SQRT_PI * f);
  } else r = 1;
  return x < 0 ? -r : r;
}

/** The runtime object handed to generated JavaScript; its members are referenced as `R.name`. */
export const runtime = {
  /** The logistic function, `1 / (1 + e^-x)`. */
  sigmoid,
  /** `log(1 + e^x)`. */
  softplus,
  /** `log(sigmoid(x))`. */
  logSigmoid,
  /** `c ? a : b`, with any nonzero `c` (NaN included) true. */
  where,
  /** The error function. */
  erf,
} as const;

/** The type of {@link runtime}. */
export type Runtime = typeof runtime;
