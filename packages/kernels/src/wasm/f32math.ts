/**
 * The float32 elementary functions of float32 programs, in one dispatch: {@link F32Math.call}. Each runs in
 * f32x4 lanes with the float32 maths of {@link VecCode32} (math32-elementary.ts: ≤ 2 ulp of the correctly
 * rounded float32 result, measured maxima there), except `pow`, which VecCode32 computes in float64 on the
 * promoted halves and rounds once. sigmoid, softplus and logSigmoid of `a` and of `−a` in one program share
 * one e^(−|a|) and one log(1 + e^(−|a|)).
 */
import { type Arg32, K32, type VecCode32 } from './math32.js';

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

/** Float32 elementary functions over f32x4 operands (see the file comment). */
export class F32Math {
  readonly #c32: VecCode32;
  /** e^(−|a|) and log(1 + e^(−|a|)) shared by key (the operand's local, or its negation's). */
  readonly #expNegAbs = new Map<string, number>();
  readonly #log1pExp = new Map<string, number>();
  /** σ(−|a|) and 1 − σ(−|a|), shared by the same keys: σ(a) and σ(−a) cost one division together. */
  readonly #sigmoid = new Map<string, readonly [number, number]>();

  constructor(c32: VecCode32) {
    this.#c32 = c32;
  }

  /**
   * Forgets every shared value: call at the start of each straight-line body (values computed in another
   * body, e.g. the main loop's, are not defined in this one).
   */
  reset(): void {
    this.#expNegAbs.clear();
    this.#log1pExp.clear();
    this.#sigmoid.clear();
  }

  /** Nothing to initialise beyond VecCode32's own prologue (kept for the generator's call order). */
  prologue(): number[] {
    return [];
  }

  #e(x: Arg32 | (() => Arg32), key: string): number {
    let r = this.#expNegAbs.get(key);
    if (r === undefined) {
      r = this.#c32.expNegAbs(typeof x === 'function' ? x() : x);
      this.#expNegAbs.set(key, r);
    }
    return r;
  }

  #l(x: Arg32, key: string): number {
    let r = this.#log1pExp.get(key);
    if (r === undefined) {
      r = this.#c32.log1pUnit(this.#e(x, key));
      this.#log1pExp.set(key, r);
    }
    return r;
  }

  #s(x: Arg32 | (() => Arg32), key: string): readonly [number, number] {
    let r = this.#sigmoid.get(key);
    if (r === undefined) {
      const c = this.#c32;
      const small = c.sigmoidSmall(this.#e(x, key));
      r = [small, c.sub(K32(1), small)];
      this.#sigmoid.set(key, r);
    }
    return r;
  }

  /**
   * `name(args)` per lane in float32. `key` names |operand| within the current body: operands with equal
   * keys have equal magnitudes (`a` and `−a`), so sigmoid, softplus and logSigmoid of them share one
   * e^(−|a|), one log1p of it and one σ(−|a|); and tanh of `a` shares e^(−|2a|) and σ(−|2a|) with the
   * sigmoids of an operand keyed `2*` + key (its derivative, 4 σ(2a) σ(−2a)). By default the operand's local.
   */
  call(name: F32MathName, args: readonly Arg32[], key?: string): number {
    const c = this.#c32;
    const x = args[0]!;
    key ??= typeof x === 'number' ? `l${x}` : `k${x.k32}`;
    switch (name) {
      case 'exp':
        return c.exp(x);
      case 'log':
        return c.log(x);
      case 'log1p':
        return c.log1p(x);
      case 'expm1':
        return c.expm1(x);
      case 'tanh':
        return c.tanh(x, this.#s(() => c.add(x, x), `2*${key}`)[0]);
      case 'pow':
        return c.pow(x, args[1]!);
      case 'sigmoid': {
        const [small, big] = this.#s(x, key);
        return c.sigmoid(x, small, big);
      }
      case 'softplus':
        return c.softplus(x, this.#l(x, key));
      case 'logSigmoid':
        return c.logSigmoid(x, this.#l(x, key));
    }
  }
}
