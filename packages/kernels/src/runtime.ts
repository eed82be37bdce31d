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

/** The runtime object handed to generated JavaScript; its members are referenced as `R.name`. */
export const runtime = { sigmoid, softplus, logSigmoid, where } as const;

/** The type of {@link runtime}. */
export type Runtime = typeof runtime;
