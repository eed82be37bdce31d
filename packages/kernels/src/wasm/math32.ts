/**
 * Straight-line f32x4 code over locals: four float32 lanes per vector, for float32 programs. This file holds
 * the lane arithmetic (what every float32 kernel body is made of); the vectorised float32 elementary functions
 * are methods of the same class, each with its accuracy stated where it is defined. Comparison results are
 * lane masks (all ones or all zeros per 32-bit lane), as `select` expects.
 */
import { SIMD } from './emit.js';
import { LaneCode } from './lanes.js';
import { VecCode } from './math.js';
import {
  exp32,
  expm132,
  expNegAbs32,
  log1p32,
  log1pUnit32,
  log32,
  pow32,
  sigmoid32,
  sigmoidSmall32,
  tanh32,
} from './math32-elementary.js';

/** A kernel operand: a v128 local (its index) or a float32 constant splat into all four lanes. */
export type Arg32 = number | { readonly k32: number };

/** A float32 constant operand (rounded to float32). */
export const K32 = (k: number): Arg32 => ({ k32: Math.fround(k) });

/** f32x4 lane code: every operation stores its result in a new local. */
export class VecCode32 extends LaneCode<Arg32> {
  /** f64x2 code on the same body (pow computes in float64), created on first use. */
  #vec64: VecCode | undefined;

  /** The constant initialisation of this code and of {@link VecCode32.vec64}'s (put it before the body). */
  override prologue(): number[] {
    const own = super.prologue();
    return this.#vec64 === undefined ? own : [...own, ...this.#vec64.prologue()];
  }

  /** The f64x2 code generator sharing this body (its constants are initialised by {@link VecCode32.prologue}). */
  get vec64(): VecCode {
    this.#vec64 ??= new VecCode(this.b);
    return this.#vec64;
  }

  /** Pushes an operand. */
  push(a: Arg32): void {
    if (typeof a === 'number') this.b.get(a);
    else this.b.get(this.pooled(`f${Object.is(a.k32, -0) ? '-0' : a.k32}`, (b) => b.f32x4(a.k32)));
  }

  /** Pushes an i32x4 splat constant (from the pool). */
  pushI32(v: number): void {
    this.b.get(this.pooled(`i${v | 0}`, (b) => b.i32x4(v | 0)));
  }

  add = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Add, a, c);
  sub = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Sub, a, c);
  mul = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Mul, a, c);
  div = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Div, a, c);
  /** IEEE minimum (NaN if either is NaN; −0 < +0), as Math.min. */
  min = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Min, a, c);
  /** IEEE maximum (NaN if either is NaN; +0 > −0), as Math.max. */
  max = (a: Arg32, c: Arg32) => this.bin(SIMD.f32x4Max, a, c);
  abs = (a: Arg32) => this.un(SIMD.f32x4Abs, a);
  neg = (a: Arg32) => this.un(SIMD.f32x4Neg, a);
  sqrt = (a: Arg32) => this.un(SIMD.f32x4Sqrt, a);
  floor = (a: Arg32) => this.un(SIMD.f32x4Floor, a);
  trunc = (a: Arg32) => this.un(SIMD.f32x4Trunc, a);
  and = (a: Arg32, c: Arg32) => this.bin(SIMD.and, a, c);
  or = (a: Arg32, c: Arg32) => this.bin(SIMD.or, a, c);
  not = (a: Arg32) => this.un(SIMD.not, a);

  /** A lane mask: all ones where `a op c`. */
  cmp(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: Arg32, c: Arg32): number {
    const code = {
      eq: SIMD.f32x4Eq,
      ne: SIMD.f32x4Ne,
      lt: SIMD.f32x4Lt,
      le: SIMD.f32x4Le,
      gt: SIMD.f32x4Gt,
      ge: SIMD.f32x4Ge,
    }[op];
    return this.bin(code, a, c);
  }

  /** |m| with the sign bit of `s`. */
  copySign(m: Arg32, s: Arg32): number {
    this.push(s);
    this.push(m);
    this.pushI32(-0x80000000);
    this.b.simd(SIMD.bitselect);
    return this.store();
  }

  /** Horner: c[0] + x (c[1] + x (c[2] + …)), in float32. */
  horner(x: Arg32, c: readonly number[]): number {
    let acc: Arg32 = K32(c[c.length - 1]!);
    for (let i = c.length - 2; i >= 0; i--) acc = this.add(this.mul(acc, x), K32(c[i]!));
    return acc as number;
  }

  // The elementary functions (math32-elementary.ts): contract ≤ 2 ulp of the correctly rounded float32 result.
  // Measured max distance in float32 steps from the correctly rounded result, over test/wasm-math32.test.ts's
  // inputs (≥ 2·10^6 per function: all exponents, thresholds, subnormals, edges) and a 2·10^7-point random
  // sweep of each function's main range: exp 1, expm1 1, log 1, log1p 1, tanh 1, sigmoid 1, softplus 2,
  // logSigmoid 2, pow 0.

  /** e^x, ≤ 2 ulp: exp(−inf) = +0, exp(inf) = inf, NaN stays NaN; overflow and subnormal results rounded once. */
  exp = (x: Arg32): number => exp32(this, x);
  /** e^x − 1, ≤ 2 ulp, relative for tiny x: ±0 kept, expm1(−inf) = −1, expm1(inf) = inf. */
  expm1 = (x: Arg32): number => expm132(this, x);
  /** Natural log, ≤ 2 ulp: log(±0) = −inf, negative or NaN → NaN, log(inf) = inf, subnormals exact. */
  log = (x: Arg32): number => log32(this, x);
  /** log(1 + x), ≤ 2 ulp: ±0 kept, log1p(−1) = −inf, below −1 NaN, log1p(inf) = inf. */
  log1p = (x: Arg32): number => log1p32(this, x);
  /**
   * tanh x, ≤ 2 ulp: ±0 kept, ±1 at ±inf, NaN stays NaN; `s` = {@link VecCode32.sigmoidSmall} of e^−|2x| if
   * already computed.
   */
  tanh = (x: Arg32, s?: Arg32): number => tanh32(this, x, s);
  /**
   * e^−|x|, the argument the logistic functions share: pass it as `e` to {@link VecCode32.sigmoid},
   * {@link VecCode32.softplus} and {@link VecCode32.logSigmoid} of the same x (or of −x) to compute it once.
   */
  expNegAbs = (x: Arg32): number => expNegAbs32(this, x);
  /** log(1 + e) for e = e^−|x| ∈ [0, 1] (no range reduction): the shared term of softplus and logSigmoid. */
  log1pUnit = (e: Arg32): number => log1pUnit32(this, e);
  /** σ(−|x|) = e/(1 + e) for e = {@link VecCode32.expNegAbs} of x: the smaller of σ(x) and σ(−x). */
  sigmoidSmall = (e: Arg32): number => sigmoidSmall32(this, e);
  /**
   * 1/(1 + e^−x), ≤ 2 ulp, exact 1 / 0 at ±inf; `s` = {@link VecCode32.sigmoidSmall} of x (or of −x) and
   * `oneMinusS` = 1 − s if already computed (σ(x) and σ(−x) then share them: one division for both).
   */
  sigmoid = (
    x: Arg32,
    s: Arg32 = this.sigmoidSmall(this.expNegAbs(x)),
    oneMinusS: Arg32 = this.sub(K32(1), s),
  ): number => sigmoid32(this, x, s, oneMinusS);
  /**
   * log(1 + e^x) = max(x, 0) + log1p(e^−|x|), ≤ 2 ulp, never overflows; `l` = {@link VecCode32.log1pUnit}
   * of e^−|x| if already computed.
   */
  softplus = (x: Arg32, l: Arg32 = this.log1pUnit(this.expNegAbs(x))): number =>
    this.add(this.max(x, K32(0)), l);
  /** log(sigmoid(x)) = min(x, 0) − log1p(e^−|x|), ≤ 2 ulp, never overflows; `l` as for softplus. */
  logSigmoid = (x: Arg32, l: Arg32 = this.log1pUnit(this.expNegAbs(x))): number => {
    const r = this.sub(this.min(x, K32(0)), l);
    // The sign of a zero result as the table's (float64) definition gives it: −0 while e^−x is nonzero in
    // float64 (x < 745.13324, the smallest float32 where it underflows), +0 beyond (and at +inf).
    return this.select(this.cmp('lt', x, K32(745.1332397460938)), this.neg(this.abs(r)), r);
  };
  /**
   * a^b with Math.pow's edge cases, ≤ 2 ulp: computed in float64 (each half of the vector promoted to f64x2
   * and run through {@link VecCode.pow}) and rounded once.
   */
  pow = (a: Arg32, b: Arg32): number => pow32(this, this.vec64, a, b);
}
