/**
 * The vectorised float32 elementary functions of {@link VecCode32}, computed in f32x4 (four lanes): exp,
 * expm1, log, log1p, tanh, sigmoid, softplus, logSigmoid in float32 arithmetic, pow through f64x2.
 *
 * Accuracy contract: within 2 ulp of the correctly rounded float32 result over the whole float32 domain
 * (subnormal results in subnormal ulps), with the primitive table's edge values (±0, ±inf, NaN) exact. The
 * measured maxima (test/wasm-math32.test.ts and a 2·10^7-point sweep) are listed in math32.ts: 1 ulp for all
 * but softplus and logSigmoid (2), 0 for pow.
 *
 * Where a cheap exact term is at hand it is carried instead of rounded: the rounding error of the reduced
 * argument r in exp/expm1, of 1 + x in log1p, of 1 + e in sigmoid, and of an exp result itself where sigmoid,
 * softplus or logSigmoid consume it (a Fast2Sum remainder, emitted only when used).
 *
 * Method: Cody–Waite range reduction with integer bit tricks (i32x4 shifts and adds build powers of two and
 * split exponents; no table lookups), then short polynomials whose coefficients are weighted minimax fits
 * (Lawson's algorithm, coefficients rounded to float32 one at a time with refits) printed by
 * scripts/fit-math32.ts. Each polynomial is the smallest degree that leaves its approximation error well
 * under the float32 rounding error (2^-28 relative or better). One division each in log, log1p, tanh and
 * sigmoid (the f32x4 division is cheaper here than the polynomial degree it saves).
 */

import { SIMD } from './emit.js';
import type { Arg, VecCode } from './math.js';
import type { Arg32, VecCode32 } from './math32.js';

const k = (v: number): Arg32 => ({ k32: Math.fround(v) });

const INV_LN2 = Math.LOG2E;
/** 1.5·2^23: v + MAGIC rounds v to an integer held in the low mantissa bits (|v| < 2^22). */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;
/** ln 2 split: LN2_HI = 0x3f317200 has 15 significant bits, so k·LN2_HI is exact for |k| < 512. */
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.LN2 - LN2_HI;
const SQRT_HALF_BITS = 0x3f3504f3; // float32 √½
const ONE_BITS = 0x3f800000;

/** e^r − 1 − r ≈ r²(c2 + c3 r + … + c6 r⁴) on |r| ≤ ln2/2: max relative error 2^-28.2. */
const EXP_C = [
  0.4999999403953552, 0.1666652113199234, 0.04166828840970993, 0.008368703536689281, 0.0013818938750773668,
];
/** log(1 + f) = 2s + s R(z), s = f/(2 + f), z = s² ≤ 0.0295: R(z) ≈ z (c1 + c2 z + c3 z²), 2^-29.2 absolute. */
const LOG_R = [0.6666677594184875, 0.39977580308914185, 0.2987091839313507];
/** The same R for f ∈ [0, 1] (z ≤ 1/9; softplus, logSigmoid), 2^-26.7 absolute. */
const LOG1P_UNIT_R = [0.6666641235351562, 0.4002173840999603, 0.2799854874610901, 0.28027209639549255];
/** tanh x − x ≈ x³ (c3 + c5 x² + … + c11 x⁸) on |x| ≤ 0.625: max relative error 2^-27.7. */
const TANH_C = [
  -0.3333328068256378, 0.13331405818462372, -0.05373651534318924, 0.02062816731631756, -0.0056922961957752705,
];
/** Below this |x|, tanh uses its odd polynomial; above, 1 − 2 σ(−|2x|) = 1 − 2/(e^{2|x|} + 1). */
const TANH_SMALL = 0.625;

/** Integer lane operations (i32x4) on the bits of v128 locals. */
function iOp(c: VecCode32, code: number, a: Arg32, v: number): number {
  c.push(a);
  c.pushI32(v);
  c.b.simd(code);
  return c.store();
}
function iShift(c: VecCode32, code: number, a: Arg32, n: number): number {
  c.push(a);
  c.b.i32(n).simd(code);
  return c.store();
}

/** 2^h for integer lanes h ∈ [−126, 127]: the biased exponent shifted into place. */
function pow2(c: VecCode32, h: number): number {
  return iShift(c, SIMD.i32x4Shl, iOp(c, SIMD.i32x4Add, h, 127), 23);
}

/**
 * The shared core of exp and expm1: x clamped to [−110, 100] (pmax/pmin with x first keep a NaN), x = k ln2 + r
 * with |r| ≤ ln2/2 (k rounded by the 1.5·2^23 trick, read back from the bits as an integer), q = e^r − 1 =
 * r + tail (tail: the polynomial part plus the rounding error of r), and
 * 2^k = s1·s2 with s1 = 2^⌊k/2⌋, s2 = 2^(k − ⌊k/2⌋), both normal, so that the result is rounded once even
 * where it overflows or is subnormal.
 */
export function expCore32(
  c: VecCode32,
  x: Arg32,
): { kf: number; r: number; tail: number; q: number; s1: number; s2: number } {
  const xc = c.bin(SIMD.f32x4Pmin, c.bin(SIMD.f32x4Pmax, x, k(-110)), k(100));
  const t = c.add(c.mul(xc, k(INV_LN2)), k(MAGIC));
  const kf = c.sub(t, k(MAGIC));
  const rh = c.sub(xc, c.mul(kf, k(LN2_HI))); // exact
  const kl = c.mul(kf, k(LN2_LO));
  const r = c.sub(rh, kl);
  // The rounding error of r, carried into the sum (it would cost up to 0.7 ulp of expm1 at k = ±1).
  const cr = c.sub(c.sub(rh, r), kl);
  const tail = c.add(cr, c.mul(c.mul(r, r), c.horner(r, EXP_C)));
  const q = c.add(r, tail);
  const ki = iOp(c, SIMD.i32x4Sub, t, MAGIC_BITS);
  const hi = iShift(c, SIMD.i32x4ShrS, ki, 1);
  c.push(ki);
  c.push(hi);
  c.b.simd(SIMD.i32x4Sub);
  const lo = c.store();
  return { kf, r, tail, q, s1: pow2(c, hi), s2: pow2(c, lo) };
}

/** For each code generator, the exp results it has emitted and how to emit their rounding errors. */
const residuals = new WeakMap<VecCode32, Map<Arg32, () => number>>();

/** e^x: exp(−inf) = +0, exp(+inf) = inf, NaN stays NaN; overflow and underflow rounded once. */
export function exp32(c: VecCode32, x: Arg32): number {
  const { q, s1, s2 } = expCore32(c, x);
  const p = c.add(q, k(1));
  const e = c.mul(c.mul(p, s1), s2);
  let known = residuals.get(c);
  if (known === undefined) {
    known = new Map();
    residuals.set(c, known);
  }
  // e^x − e = 2^k (q − (p − 1)): the rounding error of p (Fast2Sum, |q| < 1), emitted only where it is used,
  // once.
  let eps: number | undefined;
  known.set(e, () => {
    eps ??= c.mul(c.mul(c.sub(q, c.sub(p, k(1))), s1), s2);
    return eps;
  });
  return e;
}

/** The rounding error e^x − e of an exp result `e` (a local exp32 returned), or null if not one. */
function residualOf(c: VecCode32, e: Arg32): number | null {
  const emit = residuals.get(c)?.get(e);
  return emit === undefined ? null : emit();
}

/** e^x − 1: ±0 kept, expm1(−inf) = −1, expm1(+inf) = inf. */
export function expm132(c: VecCode32, x: Arg32): number {
  const { kf, r: rr, tail, q, s1, s2 } = expCore32(c, x);
  const s = c.mul(s1, s2);
  // 2^k (r + tail) + (2^k − 1) = ((2^k − 1) + 2^k r) + 2^k tail: 2^k − 1 and 2^k r are exact, and at k = ±1
  // their sum is too where it cancels, so the rounding of r + tail costs nothing.
  const general = c.add(c.add(c.sub(s, k(1)), c.mul(s, rr)), c.mul(s, tail));
  // For k > 64, e^x − 1 rounds to e^x (and 2^k alone may overflow where the result does not).
  const big = c.mul(c.mul(c.add(q, k(1)), s1), s2);
  const r = c.select(c.cmp('gt', kf, k(64)), big, general);
  return c.select(c.cmp('eq', x, k(0)), x, r);
}

/**
 * log(1 + f) + e ln2 for f ∈ [√½ − 1, √2 − 1] (or [0, 1] with `unit`): with s = f/(2 + f), z = s²,
 * log(1 + f) = 2s + s R(z) = f − (f²/2 − s (f²/2 + R(z))), which puts the rounding error of s in a small term.
 */
function logOf(c: VecCode32, ef: Arg32 | null, f: Arg32, coeffs: readonly number[]): number {
  const s = c.div(f, c.add(f, k(2)));
  const z = c.mul(s, s);
  const R = c.mul(z, c.horner(z, coeffs));
  const hfsq = c.mul(c.mul(f, f), k(0.5));
  const sR = c.mul(s, c.add(hfsq, R));
  if (ef === null) {
    // f = e an exp result with known rounding error ε: log(1 + e + ε) ≈ log(1 + e) + ε/(1 + e), and
    // 1/(1 + e) = (1 − s)/(1 + s) ≈ (1 − s)² within 11% (s ≤ 1/3), plenty for a term under half an ulp.
    const eps = residualOf(c, f);
    if (eps === null) return c.sub(f, c.sub(hfsq, sR));
    const w = c.sub(k(1), s);
    return c.sub(f, c.sub(hfsq, c.add(sR, c.mul(eps, c.mul(w, w)))));
  }
  const inner = c.sub(hfsq, c.add(sR, c.mul(ef, k(LN2_LO))));
  return c.add(c.mul(ef, k(LN2_HI)), c.sub(f, inner));
}

/** The integer exponent e (i32 lanes) and m − 1 for positive normal u = 2^e m, m ∈ [√½, √2). */
function splitLog(c: VecCode32, u: Arg32): { ei: number; f: number } {
  const ix = iOp(c, SIMD.i32x4Sub, u, SQRT_HALF_BITS);
  const ei = iShift(c, SIMD.i32x4ShrS, ix, 23);
  const m = iOp(c, SIMD.i32x4Add, iOp(c, SIMD.and, ix, 0x007fffff), SQRT_HALF_BITS);
  return { ei, f: c.sub(m, k(1)) };
}

/** The edge values of log at u: −inf at ±0, inf at inf, NaN below 0 or at NaN. */
function logEdges(c: VecCode32, u: Arg32, r: Arg32): number {
  const r1 = c.select(c.cmp('eq', u, k(0)), k(Number.NEGATIVE_INFINITY), r);
  const r2 = c.select(c.cmp('eq', u, k(Number.POSITIVE_INFINITY)), u, r1);
  return c.select(c.cmp('ge', u, k(0)), r2, k(Number.NaN));
}

/** Natural log: log(±0) = −inf, negative or NaN → NaN, log(inf) = inf; subnormals scaled by 2^23 first. */
export function log32(c: VecCode32, x: Arg32): number {
  const tiny = c.cmp('lt', x, k(2 ** -126));
  const xs = c.select(tiny, c.mul(x, k(2 ** 23)), x);
  const { ei, f } = splitLog(c, xs);
  const ef = c.sub(c.un(SIMD.f32x4ConvertI32x4S, ei), c.and(tiny, k(23)));
  return logEdges(c, x, logOf(c, ef, f, LOG_R));
}

/**
 * log(1 + x): ±0 kept, log1p(−1) = −inf, below −1 NaN. u = 1 + x is split as 2^e m; the rounding error of u
 * (x − (u − 1), exact for u < 2^24), scaled by 2^−e, is added to m − 1, so the argument of the log core is
 * 1 + x scaled, not its rounded value (for |x| small it is x itself).
 */
export function log1p32(c: VecCode32, x: Arg32): number {
  const u = c.add(x, k(1));
  const { ei, f } = splitLog(c, u);
  const err = c.sub(x, c.sub(u, k(1)));
  // 2^−e from the bits: ONE_BITS − (e << 23), valid for e ≤ 126; the term only matters for u < 2^24.
  c.pushI32(ONE_BITS);
  c.push(iShift(c, SIMD.i32x4Shl, ei, 23));
  c.b.simd(SIMD.i32x4Sub);
  const inv = c.store();
  const cs = c.and(c.mul(err, inv), c.cmp('lt', u, k(2 ** 24)));
  const ef = c.un(SIMD.f32x4ConvertI32x4S, ei);
  const r = logEdges(c, u, logOf(c, ef, c.add(f, cs), LOG_R));
  return c.select(c.cmp('eq', x, k(0)), x, r);
}

/** log(1 + e) for e ∈ [0, 1] (and NaN): no range reduction needed. */
export function log1pUnit32(c: VecCode32, e: Arg32): number {
  return logOf(c, null, e, LOG1P_UNIT_R);
}

/**
 * tanh x: an odd polynomial for |x| < 0.625, else 1 − 2 σ(−|2x|) with the sign of x (±0 kept; NaN stays
 * NaN; ±1 at ±inf, where σ(−|2x|) is 0). `s` is σ(−|2x|) ({@link sigmoidSmall32} of e^−|2x|) when a program
 * already has it — tanh's derivative 4 σ(2x) σ(−2x) uses the same one. Error: s ≤ 0.223 is accurate to a
 * fraction of its own ulp, 2s is exact, and 1 − 2s ∈ [0.55, 1) is rounded once, so the result stays within
 * one float32 step of the correctly rounded value.
 */
export function tanh32(c: VecCode32, x: Arg32, s?: Arg32): number {
  const ax = c.abs(x);
  const z = c.mul(ax, ax);
  const small = c.add(ax, c.mul(ax, c.mul(z, c.horner(z, TANH_C))));
  const s2 = s ?? sigmoidSmall32(c, expNegAbs32(c, c.add(x, x)));
  const big = c.sub(k(1), c.add(s2, s2));
  return c.copySign(c.select(c.cmp('lt', ax, k(TANH_SMALL)), small, big), x);
}

/** e^−|x|, the shared argument of sigmoid, softplus and logSigmoid. */
export function expNegAbs32(c: VecCode32, x: Arg32): number {
  return exp32(c, c.neg(c.abs(x)));
}

/**
 * σ(−|x|) = e/(1 + e) from e = e^−|x| ∈ [0, 1] (the smaller of σ(x) and σ(−x), in [0, ½]): q = e/u with
 * u = 1 + e rounded, corrected for the rounding error d = e − (u − 1) (exact) of u and, where e is an exp
 * result, for e's own rounding error ε: (e + ε)/(u + d + ε) ≈ q + (ε (1 − q) − q d)/u, with 1/u = 1 − q
 * (up to O(d)). NaN stays NaN; e = 0 gives +0.
 */
export function sigmoidSmall32(c: VecCode32, e: Arg32): number {
  const u = c.add(e, k(1));
  const d = c.sub(e, c.sub(u, k(1)));
  const q = c.div(e, u);
  const invU = c.sub(k(1), q);
  const eps = residualOf(c, e);
  if (eps === null) return c.sub(q, c.mul(q, c.mul(d, invU)));
  return c.add(q, c.mul(c.sub(c.mul(eps, invU), c.mul(q, d)), invU));
}

/**
 * 1/(1 + e^−x) from s = σ(−|x|) ({@link sigmoidSmall32}) and its complement 1 − s: s where x < 0, 1 − s
 * elsewhere. 1 − s ∈ [½, 1] is rounded once from an s accurate to a fraction of its own ulp (at most half
 * the ulp of 1 − s), so both are within one float32 step of the correctly rounded value — and σ(x) and
 * σ(−x) of one x share one division. sigmoid(+inf) = 1, sigmoid(−inf) = 0, sigmoid(±0) = ½, NaN stays NaN.
 */
export function sigmoid32(c: VecCode32, x: Arg32, s: Arg32, oneMinusS: Arg32): number {
  return c.select(c.cmp('lt', x, k(0)), s, oneMinusS);
}

/** The f64x2 lanes of a float32 vector: the low two (`high` false) or the high two, promoted. */
function promote(c: VecCode32, v: VecCode, a: Arg32, high: boolean): number {
  c.push(a);
  if (high) {
    c.push(a);
    c.b.simd(SIMD.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  }
  c.b.simd(SIMD.f64x2PromoteLowF32x4);
  return v.store();
}

/**
 * a^b with Math.pow's edge cases, computed in float64 (each half of the vector promoted to f64x2, VecCode's
 * pow, about 1e-10 relative for float32 arguments) and rounded once to float32.
 */
export function pow32(c: VecCode32, v: VecCode, a: Arg32, b: Arg32): number {
  const halves: Arg[] = [false, true].map((high) => v.pow(promote(c, v, a, high), promote(c, v, b, high)));
  v.push(halves[0]!);
  c.b.simd(SIMD.f32x4DemoteF64x2Zero);
  v.push(halves[1]!);
  c.b.simd(SIMD.f32x4DemoteF64x2Zero);
  c.b.simd(SIMD.i8x16Shuffle, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  return c.store();
}
