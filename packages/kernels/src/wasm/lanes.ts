/**
 * What the f64x2 ({@link VecCode}, math.ts) and f32x4 ({@link VecCode32}, math32.ts) code generators share:
 * straight-line SIMD code over locals, where every operation stores its result in a new local, and a pool of
 * constant splats held in locals that a prologue initialises once, before the loop.
 */
import type { Body } from './emit.js';
import { SIMD } from './emit.js';

/** SIMD lane code over operands of type `A` (a local's index, or a constant the subclass knows how to splat). */
export abstract class LaneCode<A> {
  readonly b: Body;
  /** Constant splats held in locals, set once before the loop (see {@link LaneCode.prologue}). */
  readonly #pool = new Map<string, number>();
  readonly #poolInit: Array<() => void> = [];

  constructor(b: Body) {
    this.b = b;
  }

  /** The local holding a constant v128 (one per distinct `key`, initialised by the prologue with `emit`). */
  protected pooled(key: string, emit: (b: Body) => void): number {
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
  abstract push(a: A): void;

  /** A new local holding what is on the stack. */
  store(): number {
    const l = this.b.local();
    this.b.set(l);
    return l;
  }

  /** A unary SIMD instruction into a new local. */
  un(code: number, a: A): number {
    this.push(a);
    this.b.simd(code);
    return this.store();
  }

  /** A binary SIMD instruction into a new local. */
  bin(code: number, a: A, c: A): number {
    this.push(a);
    this.push(c);
    this.b.simd(code);
    return this.store();
  }

  /** `mask ? yes : no` per lane (mask lanes all ones or all zeros). */
  select(mask: A, yes: A, no: A): number {
    this.push(yes);
    this.push(no);
    this.push(mask);
    this.b.simd(SIMD.bitselect);
    return this.store();
  }
}
