/**
 * Straight-line f32x4 code over locals: four float32 lanes per vector, for float32 programs. This file holds
 * the lane arithmetic (what every float32 kernel body is made of); the vectorised float32 elementary functions
 * are methods of the same class, each with its accuracy stated where it is defined. Comparison results are
 * lane masks (all ones or all zeros per 32-bit lane), as `select` expects.
 */
import { type Body, SIMD } from './emit.js';

/** A kernel operand: a v128 local (its index) or a float32 constant splat into all four lanes. */
export type Arg32 = number | { readonly k32: number };

/** A float32 constant operand (rounded to float32). */
export const K32 = (k: number): Arg32 => ({ k32: Math.fround(k) });

/** f32x4 lane code: every operation stores its result in a new local. */
export class VecCode32 {
  readonly b: Body;
  /** Constant splats held in locals, set once before the loop (see {@link VecCode32.prologue}). */
  readonly #pool = new Map<string, number>();
  readonly #poolInit: Array<() => void> = [];

  constructor(b: Body) {
    this.b = b;
  }

  /** The local holding a constant v128 (one per distinct constant, initialised by the prologue). */
  #pooled(key: string, emit: (b: Body) => void): number {
    let l = this.#pool.get(key);
    if (l === undefined) {
      const local = this.b.local();
      l = local;
      this.#pool.set(key, l);
      this.#poolInit.push(() => {
        emit(this.b);
        this.b.set(local);
      });
    }
    return l;
  }

  /**
   * The code that initialises the constant locals: call after the function body is complete and put the
   * returned bytes first (loop-invariant constants are then materialised once, not per iteration).
   */
  prologue(): number[] {
    const start = this.b.code.length;
    for (const init of this.#poolInit) init();
    return this.b.code.splice(start);
  }

  /** Pushes an operand. */
  push(a: Arg32): void {
    if (typeof a === 'number') this.b.get(a);
    else this.b.get(this.#pooled(`f${Object.is(a.k32, -0) ? '-0' : a.k32}`, (b) => b.f32x4(a.k32)));
  }

  /** Pushes an i32x4 splat constant (from the pool). */
  pushI32(v: number): void {
    this.b.get(this.#pooled(`i${v | 0}`, (b) => b.i32x4(v | 0)));
  }

  /** A new local holding what is on the stack. */
  store(): number {
    const l = this.b.local();
    this.b.set(l);
    return l;
  }

  /** A unary SIMD instruction into a new local. */
  un(code: number, a: Arg32): number {
    this.push(a);
    this.b.simd(code);
    return this.store();
  }

  /** A binary SIMD instruction into a new local. */
  bin(code: number, a: Arg32, c: Arg32): number {
    this.push(a);
    this.push(c);
    this.b.simd(code);
    return this.store();
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

  /** `mask ? yes : no` per lane (mask lanes all ones or all zeros). */
  select(mask: Arg32, yes: Arg32, no: Arg32): number {
    this.push(yes);
    this.push(no);
    this.push(mask);
    this.b.simd(SIMD.bitselect);
    return this.store();
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
}
