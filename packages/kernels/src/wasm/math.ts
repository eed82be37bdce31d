/**
 * Vectorised elementary functions on f64x2 lanes, emitted inline into a kernel body. The kernels compute in
 * float64 (float32 storage is widened on load and rounded once on store, as the JavaScript kernels do), so
 * these need only be accurate to well under half a float32 ulp: each is within about 1e-12 relative of the
 * exact value (exp/expm1: Taylor polynomials of degree 10 on |r| ≤ ln2/2 after Cody–Waite reduction; log:
 * the atanh series to s^15 on [√½, √2]), and so within 1 ulp of the correctly rounded float32 result. They
 * are NOT float64-accurate to the last bit, which is why float64 programs with transcendentals stay on
 * JavaScript's Math.* (see backend.ts). Edge values (±0, ±inf, NaN) follow the primitive table.
 */
import { SIMD } from './emit.js';
import { LaneCode } from './lanes.js';

/** A kernel operand: a v128 local (its index) or an f64 constant splat into both lanes. */
export type Arg = number | { readonly k: number };

/** An f64 constant operand. */
export const K = (k: number): Arg => ({ k });

const LN2_HI = 0.6931471803691238; // 0x3fe62e42fee00000: 21 trailing zero bits, so k·LN2_HI is exact
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = Math.LOG2E;
const SQRT2 = Math.SQRT2;
const SIGN = -0x8000000000000000n;
const TWO52_MAGIC = 0x4330000000000000n; // the bits of 2^52
const MAGIC = 6755399441055744; // 1.5·2^52: v + MAGIC rounds v to an integer held in the low bits

/** Straight-line f64x2 code over locals: every operation stores its result in a new local. */
export class VecCode extends LaneCode<Arg> {
  push(a: Arg): void {
    if (typeof a === 'number') this.b.get(a);
    else this.b.get(this.pooled(`f${Object.is(a.k, -0) ? '-0' : a.k}`, (b) => b.f64x2(a.k)));
  }

  /** Pushes an i64x2 splat constant (from the pool). */
  pushI64(v: bigint): void {
    this.b.get(this.pooled(`i${v}`, (b) => b.i64x2(v)));
  }

  add = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Add, a, c);
  sub = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Sub, a, c);
  mul = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Mul, a, c);
  div = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Div, a, c);
  min = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Min, a, c);
  max = (a: Arg, c: Arg) => this.bin(SIMD.f64x2Max, a, c);
  abs = (a: Arg) => this.un(SIMD.f64x2Abs, a);
  neg = (a: Arg) => this.un(SIMD.f64x2Neg, a);
  and = (a: Arg, c: Arg) => this.bin(SIMD.and, a, c);
  or = (a: Arg, c: Arg) => this.bin(SIMD.or, a, c);
  not = (a: Arg) => this.un(SIMD.not, a);

  /** A lane mask: all ones where `a op c`. */
  cmp(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: Arg, c: Arg): number {
    const code = {
      eq: SIMD.f64x2Eq,
      ne: SIMD.f64x2Ne,
      lt: SIMD.f64x2Lt,
      le: SIMD.f64x2Le,
      gt: SIMD.f64x2Gt,
      ge: SIMD.f64x2Ge,
    }[op];
    return this.bin(code, a, c);
  }

  /** |m| with the sign bit of `s`. */
  copySign(m: Arg, s: Arg): number {
    this.push(s);
    this.push(m);
    this.pushI64(SIGN);
    this.b.simd(SIMD.bitselect);
    return this.store();
  }

  /** Horner: c[0] + x (c[1] + x (c[2] + …)). */
  horner(x: Arg, c: readonly number[]): number {
    let acc: Arg = K(c[c.length - 1]!);
    for (let i = c.length - 2; i >= 0; i--) acc = this.add(this.mul(acc, x), K(c[i]!));
    return acc as number;
  }

  /**
   * The shared core of exp and expm1: x clamped to [-800, 800], x = k ln2 + r (|r| ≤ ln2/2), q = e^r − 1,
   * and 2^k as the product of two powers of two s1·s2 (so k may exceed the float64 exponent range). Integers
   * are taken from the low bits of `v + 1.5·2^52` (exact for |v| < 2^51), which needs no conversions.
   */
  expCore(x: Arg): { kf: number; q: number; s1: number; s2: number } {
    // pmax/pmin with x first keep a NaN x.
    const xc = this.bin(SIMD.f64x2Pmin, this.bin(SIMD.f64x2Pmax, x, K(-800)), K(800));
    const t = this.add(this.mul(xc, K(INV_LN2)), K(MAGIC));
    const kf = this.sub(t, K(MAGIC));
    const r = this.sub(this.sub(xc, this.mul(kf, K(LN2_HI))), this.mul(kf, K(LN2_LO)));
    // q = r (1 + r/2 + r²/6 + … + r^9/10!): the next term is below 1e-12 relative
    const coeffs: number[] = [];
    let f = 1;
    for (let n = 1; n <= 10; n++) {
      f *= n;
      coeffs.push(1 / f);
    }
    const q = this.mul(r, this.horner(r, coeffs));
    // k = h + l with h = floor(k/2): each 2^h, 2^l is a normal power of two for |k| ≤ 1155.
    const hf = this.un(SIMD.f64x2Floor, this.mul(kf, K(0.5)));
    const lf = this.sub(kf, hf);
    const pow2 = (e: number): number => {
      // bits(e + MAGIC) = bits(MAGIC) + e; (that + 1023) << 52 = (e + 1023) << 52 (the magic shifts out).
      this.push(this.add(e, K(MAGIC)));
      this.pushI64(1023n);
      this.b.simd(SIMD.i64x2Add).i32(52).simd(SIMD.i64x2Shl);
      return this.store();
    };
    return { kf, q, s1: pow2(hf), s2: pow2(lf) };
  }

  /** e^x: exp(±inf) = inf / 0, NaN stays NaN; subnormal results are rounded once. */
  exp(x: Arg): number {
    const { q, s1, s2 } = this.expCore(x);
    return this.mul(this.mul(this.add(q, K(1)), s1), s2);
  }

  /** e^x − 1, accurate for tiny x (−0 stays −0); expm1(+inf) = inf, expm1(−inf) = −1. */
  expm1(x: Arg): number {
    const { kf, q, s1, s2 } = this.expCore(x);
    const s = this.mul(s1, s2);
    const general = this.add(this.mul(s, q), this.sub(s, K(1)));
    // Past 700, e^x − 1 is e^x (and s·q + (s − 1) could be inf − inf).
    const big = this.mul(this.mul(this.add(q, K(1)), s1), s2);
    const far = this.select(this.cmp('gt', x, K(700)), big, general);
    const r = this.select(this.cmp('eq', kf, K(0)), q, far);
    return this.select(this.cmp('eq', x, K(0)), x, r);
  }

  /** Natural log: log(±0) = −inf, negative or NaN → NaN, log(inf) = inf. */
  log(x: Arg): number {
    const b = this.b;
    // Subnormals: scale by 2^54 first.
    const tiny = this.cmp('lt', x, K(2 ** -1022));
    const xs = this.select(tiny, this.mul(x, K(2 ** 54)), x);
    b.get(xs).i32(52).simd(SIMD.i64x2ShrU);
    this.pushI64(TWO52_MAGIC);
    b.simd(SIMD.or);
    const eRaw = this.sub(this.store(), K(2 ** 52 + 1023));
    b.get(xs);
    this.pushI64(0x000fffffffffffffn);
    b.simd(SIMD.and);
    this.pushI64(0x3ff0000000000000n);
    b.simd(SIMD.or);
    const m0 = this.store();
    const big = this.cmp('gt', m0, K(SQRT2));
    const m = this.select(big, this.mul(m0, K(0.5)), m0);
    const e1 = this.select(big, this.add(eRaw, K(1)), eRaw);
    const e = this.sub(e1, this.select(tiny, K(54), K(0)));
    const s = this.div(this.sub(m, K(1)), this.add(m, K(1)));
    const z = this.mul(s, s);
    // log m = 2 atanh s = 2s (1 + z/3 + z²/5 + … + z^7/15)
    const series = this.horner(z, [1, 1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13, 1 / 15]);
    const logm = this.mul(this.add(s, s), series);
    const r = this.add(this.mul(e, K(LN2_HI)), this.add(this.mul(e, K(LN2_LO)), logm));
    const r1 = this.select(this.cmp('eq', x, K(0)), K(Number.NEGATIVE_INFINITY), r);
    const r2 = this.select(this.cmp('eq', x, K(Number.POSITIVE_INFINITY)), x, r1);
    return this.select(this.cmp('ge', x, K(0)), r2, K(Number.NaN));
  }

  /** log(1 + x), accurate for tiny x (±0 kept); log1p(−1) = −inf, below −1 NaN. */
  log1p(x: Arg): number {
    const u = this.add(x, K(1));
    const lu = this.log(u);
    // The rounding error of 1 + x, corrected to first order (c is NaN only where u is 0 or inf: drop it).
    const c = this.div(this.sub(this.sub(u, K(1)), x), u);
    const cSafe = this.select(this.cmp('eq', c, c), c, K(0));
    const r = this.sub(lu, cSafe);
    return this.select(this.cmp('eq', x, K(0)), x, r);
  }

  /** tanh x = expm1(2|x|) / (expm1(2|x|) + 2) with the sign of x (|x| clamped to 20, where tanh is 1). */
  tanh(x: Arg): number {
    const ax = this.min(this.abs(x), K(20));
    const t = this.expm1(this.add(ax, ax));
    return this.copySign(this.div(t, this.add(t, K(2))), x);
  }

  /**
   * a^b with Math.pow's edge cases: e^(b log|a|), negative for negative a and odd integer b, NaN for finite
   * negative a and non-integer b, 1 for b = ±0 (even for NaN a).
   */
  pow(a: Arg, e: Arg): number {
    const m = this.exp(this.mul(e, this.log(this.abs(a))));
    const isInt = this.cmp('eq', this.un(SIMD.f64x2Trunc, e), e);
    const half = this.mul(e, K(0.5));
    const odd = this.and(isInt, this.cmp('ne', this.un(SIMD.f64x2Trunc, half), half));
    const signed = this.select(odd, this.copySign(m, a), m);
    const finiteNeg = this.and(this.cmp('lt', a, K(0)), this.cmp('ne', a, K(Number.NEGATIVE_INFINITY)));
    const bad = this.and(finiteNeg, this.not(isInt));
    const r = this.select(bad, K(Number.NaN), signed);
    return this.select(this.cmp('eq', e, K(0)), K(1), r);
  }
}
