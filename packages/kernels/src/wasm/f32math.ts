/**
 * The float32 elementary functions of float32 programs, in one dispatch: {@link F32Math.call}. Each is
 * computed today by promoting the two halves of the f32x4 operand to f64x2 (`f64x2.promote_low_f32x4`, an
 * `i8x16.shuffle` bringing the high half down), running the float64-lane function of math.ts (`VecCode`,
 * within about 1e-12 relative) and demoting back (`f32x4.demote_f64x2_zero`, a shuffle recombining): so the
 * result is the float64 value rounded once to float32, within 1 float32 ulp of the correctly rounded result.
 *
 * This file is the one place to swap in native f32x4 implementations (VecCode32 methods of the same names):
 * replace a `case` of {@link F32Math.call} by the VecCode32 call.
 */
import { type Body, SIMD } from './emit.js';
import { type Arg, K, VecCode } from './math.js';
import type { Arg32, VecCode32 } from './math32.js';

/** The float32 transcendentals dispatched here. */
export type F32MathName =
  | 'exp'
  | 'log'
  | 'log1p'
  | 'expm1'
  | 'tanh'
  | 'sigmoid'
  | 'softplus'
  | 'logSigmoid'
  | 'pow';

/** Bytes 8–15 then 0–7: the high two float32 lanes moved to the low half. */
const HIGH_DOWN = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** The low halves of two vectors: lanes 0, 1 of the first, then lanes 0, 1 of the second. */
const LOW_PAIR = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** Float32 elementary functions over f32x4 operands (see the file comment). */
export class F32Math {
  readonly #b: Body;
  readonly #c32: VecCode32;
  /** The float64-lane code (its constant pool has its own prologue: see {@link F32Math.prologue}). */
  readonly #c64: VecCode;
  /** Promoted halves of f32 locals, and e^(−|a|), log1p(e^(−|a|)) halves shared by key. */
  readonly #halves = new Map<number, [number, number]>();
  readonly #expNegAbs = new Map<string, number>();
  readonly #log1pExp = new Map<string, number>();

  constructor(c32: VecCode32) {
    this.#b = c32.b;
    this.#c32 = c32;
    this.#c64 = new VecCode(c32.b);
  }

  /**
   * Forgets every shared value: call at the start of each straight-line body (values computed in another
   * body, e.g. the main loop's, are not defined in this one).
   */
  reset(): void {
    this.#halves.clear();
    this.#expNegAbs.clear();
    this.#log1pExp.clear();
  }

  /** The constant-pool initialisation of the float64-lane code (put it before the function body). */
  prologue(): number[] {
    return this.#c64.prologue();
  }

  /** The two f64x2 halves of an f32x4 operand. */
  #split(a: Arg32): [number, number] {
    const hit = typeof a === 'number' ? this.#halves.get(a) : undefined;
    if (hit !== undefined) return hit;
    const b = this.#b;
    this.#c32.push(a);
    b.simd(SIMD.f64x2PromoteLowF32x4);
    const lo = this.#c64.store();
    this.#c32.push(a);
    this.#c32.push(a);
    b.simd(SIMD.i8x16Shuffle, ...HIGH_DOWN).simd(SIMD.f64x2PromoteLowF32x4);
    const hi = this.#c64.store();
    const r: [number, number] = [lo, hi];
    if (typeof a === 'number') this.#halves.set(a, r);
    return r;
  }

  /** The f32x4 of two f64x2 halves, each rounded once. */
  #join(lo: number, hi: number): number {
    const b = this.#b;
    b.get(lo).simd(SIMD.f32x4DemoteF64x2Zero);
    b.get(hi).simd(SIMD.f32x4DemoteF64x2Zero);
    b.simd(SIMD.i8x16Shuffle, ...LOW_PAIR);
    return this.#c32.store();
  }

  /** `f` on the float64 halves of `args` (half 0: lanes 0–1, half 1: lanes 2–3), rounded back. */
  #each(args: readonly Arg32[], f: (v: VecCode, x: readonly number[], half: 0 | 1) => number): number {
    const hs = args.map((a) => this.#split(a));
    const lo = f(
      this.#c64,
      hs.map((h) => h[0]),
      0,
    );
    const hi = f(
      this.#c64,
      hs.map((h) => h[1]),
      1,
    );
    return this.#join(lo, hi);
  }

  /** e^(−|x|) of one half, shared by `key` (the operand's or its negation's local). */
  #e(x: Arg, key: string): number {
    let r = this.#expNegAbs.get(key);
    if (r === undefined) {
      const v = this.#c64;
      r = v.exp(v.neg(v.abs(x)));
      this.#expNegAbs.set(key, r);
    }
    return r;
  }

  /** log1p(e^(−|x|)) of one half, shared by `key`. */
  #l1p(x: Arg, key: string): number {
    let r = this.#log1pExp.get(key);
    if (r === undefined) {
      r = this.#c64.log1p(this.#e(x, key));
      this.#log1pExp.set(key, r);
    }
    return r;
  }

  /**
   * `name(args)` per lane in float32. `share` names the value whose |·| is the operand's (for sigmoid,
   * softplus and logSigmoid of `a` and of `−a`, which then share one e^(−|a|) and one log1p of it, as the
   * JavaScript generator shares them); by default the operand itself.
   */
  call(name: F32MathName, args: readonly Arg32[], share?: number): number {
    const key = (half: 0 | 1) => `${share ?? (typeof args[0] === 'number' ? args[0] : 'k')}:${half}`;
    switch (name) {
      case 'exp':
        return this.#each(args, (v, [x]) => v.exp(x!));
      case 'log':
        return this.#each(args, (v, [x]) => v.log(x!));
      case 'log1p':
        return this.#each(args, (v, [x]) => v.log1p(x!));
      case 'expm1':
        return this.#each(args, (v, [x]) => v.expm1(x!));
      case 'tanh':
        return this.#each(args, (v, [x]) => v.tanh(x!));
      case 'pow':
        return this.#each(args, (v, [x, y]) => v.pow(x!, y!));
      case 'sigmoid':
        return this.#each(args, (v, [x], h) => {
          const e = this.#e(x!, key(h));
          return v.div(v.select(v.cmp('ge', x!, K(0)), K(1), e), v.add(e, K(1)));
        });
      case 'softplus':
        return this.#each(args, (v, [x], h) => v.add(v.max(x!, K(0)), this.#l1p(x!, key(h))));
      case 'logSigmoid':
        return this.#each(args, (v, [x], h) => v.sub(v.min(x!, K(0)), this.#l1p(x!, key(h))));
    }
  }
}
