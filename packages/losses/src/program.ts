import { inputVariable } from '@gradkit/autograd';
import {
  abs,
  add,
  adjoints,
  and,
  constant,
  detach,
  type Expr,
  eq,
  gt,
  lt,
  mul,
  ne,
  neg,
  softplus,
  sub,
  substitute,
  variable,
  where,
} from '@gradkit/kernels';
import { mulOrZero } from './quantities.js';

/**
 * A loss as data: its per-element value and the per-element gradient of each tensor input, all expressions
 * of the primitive table over positional variables `x0 … x{arity-1}` (the call's tensors, in order: input,
 * target, then the optional ones) and `x{arity}` (the upstream gradient).
 */
export interface LossProgram {
  /** The op name used in messages and in the graph. */
  readonly name: string;
  /** Number of tensor inputs. */
  readonly arity: number;
  /** The elementwise loss (weighted), as computed by the forward pass. */
  readonly value: Expr;
  /** For each input: upstream gradient times d(loss)/d(input), or null where that is structurally zero. */
  readonly grads: ReadonlyArray<Expr | null>;
  /**
   * Optional cheaper expressions with the same values as `grads` (not meant to be differentiated), used when
   * the gradients are computed numerically during the forward pass.
   */
  readonly gradValues?: ReadonlyArray<Expr | null>;
  /**
   * For losses on logits: the value, exact also where the logit x0 is ±inf (the limit). It is slower, so it
   * is only evaluated when `value` summed to NaN and some logit is infinite; then a gradient that is NaN at an
   * infinite logit (a product like 0·softplus(inf) inside it) is also taken at ±Number.MAX_VALUE instead.
   */
  readonly valueAtInfinity?: Expr;
  /**
   * Where set, every target (input 1) must lie in this inclusive range (up to `TARGET_TOLERANCE`, 1e-5), NaN
   * refused: `runLoss` checks it in the fused forward loop and throws a DomainError naming the first
   * offending element.
   */
  readonly targetRange?: readonly [number, number];
  /**
   * Further inclusive domains of inputs, checked on the cpu by the loss before `runLoss` (a DomainError). On
   * webgpu, where a check would need a read-back, an element outside its domain (or NaN) makes the loss and
   * the gradients NaN at that element instead; the target range is handled the same way there.
   */
  readonly domains?: ReadonlyArray<{
    /** The input's position among the program's inputs. */
    readonly index: number;
    /** Its inclusive domain `[min, max]`. */
    readonly range: readonly [number, number];
  }>;
}

/** The positional variable of input `i`. */
export const arg = (i: number): Expr => variable(inputVariable(i));

/** The parts a logit-based loss is assembled from (all over positional variables). */
export interface LogitLossParts {
  /** The op name. */
  readonly name: string;
  /** Number of tensor inputs (the upstream gradient is `x{arity}`). */
  readonly arity: number;
  /** The modulating factor (null: 1). */
  readonly factor: Expr | null;
  /** An additive term (null: none). */
  readonly additive: Expr | null;
  /** The class-balance alpha (null: no alpha_t factor). */
  readonly alpha: Expr | null;
  /** The posWeight variable (null: none). */
  readonly posWeight: Expr | null;
  /** The index of the weight input (null: none). */
  readonly weightIndex: number | null;
}

/**
 * Assembles `w · (alpha_t · factor · ce + additive)` with the binary cross entropy on logits written in its
 * cancellation-free form `ce = (1 − y)·softplus(x) + pw·y·softplus(−x)` (equal to PyTorch's
 * `(1 − y)·x − lw·logSigmoid(x)`, `lw = (pw − 1)·y + 1`, but exact also where PyTorch's loses digits), and
 * `alpha_t = y·alpha + (1 − y)·(1 − alpha)`. A factor of constant 0 leaves out the cross-entropy term (the
 * loss is then the additive term alone). The gradient of every input is derived symbolically from that
 * expression.
 *
 * At infinite logits the forward value is the limit: a coefficient of exactly 0 removes its cross-entropy
 * term, and where the expression still gives NaN (0·inf inside a factor or additive term) it is evaluated at
 * ±Number.MAX_VALUE instead; so x = −inf, y = 0 gives 0 where PyTorch gives NaN, and a loss that tends to
 * infinity gives +inf. The weight's gradient is that value.
 */
export function logitProgram(parts: LogitLossParts): LossProgram {
  const x = arg(0);
  const y = arg(1);
  const g = arg(parts.arity);
  const oneMinusY = sub(1, y);
  const withCe = !(parts.factor?.isConst && parts.factor.value === 0);
  let lossDiff: Expr | null = null;
  let lossLimit: Expr | null = null;
  if (withCe) {
    const posCoef = parts.posWeight === null ? y : mul(parts.posWeight, y);
    const spPos = softplus(x);
    const spNeg = softplus(neg(x));
    const ceDiff = add(mul(oneMinusY, spPos), mul(posCoef, spNeg));
    const ceValue = add(mulOrZero(oneMinusY, spPos), mulOrZero(posCoef, spNeg));
    let m: Expr | null = parts.factor;
    if (parts.alpha !== null) {
      const alphaT = add(mul(y, parts.alpha), mul(oneMinusY, sub(1, parts.alpha)));
      m = m === null ? alphaT : mul(alphaT, m);
    }
    lossDiff = m === null ? ceDiff : mul(m, ceDiff);
    lossLimit = m === null ? ceValue : mulOrZero(m, ceValue);
  }
  if (parts.additive !== null) {
    lossDiff = lossDiff === null ? parts.additive : add(lossDiff, parts.additive);
    lossLimit = lossLimit === null ? parts.additive : add(lossLimit, parts.additive);
  }
  if (lossDiff === null || lossLimit === null) {
    lossDiff = constant(0);
    lossLimit = constant(0);
  }
  const w = parts.weightIndex === null ? null : arg(parts.weightIndex);
  // 0·inf only arises at infinite logits: one well-predicted test picks the guarded form there.
  const finite = lt(abs(x), Number.POSITIVE_INFINITY);
  const weighted = (e: Expr, guarded: boolean) => (w === null ? e : guarded ? mulOrZero(w, e) : mul(w, e));
  // The plain form: at an infinite logit it may give NaN (0·inf), which makes runLoss use valueAtInfinity.
  const value = weighted(lossDiff, false);
  // Where the guarded form is still NaN at an infinite logit (0·inf inside a factor or additive term),
  // evaluate it at the largest finite logit instead. Only run when infinite logits occur (see runLoss).
  const proxy = substitute(lossLimit, new Map([[x, where(gt(x, 0), Number.MAX_VALUE, -Number.MAX_VALUE)]]));
  const limit = where(and(ne(lossLimit, lossLimit), eq(x, x)), proxy, lossLimit);
  const valueAtInfinity = where(finite, weighted(lossDiff, false), weighted(limit, true));
  // The weight's gradient is the loss value; its limit form is detached so that differentiating it again
  // never multiplies a zero adjoint by an infinite intermediate (at finite logits nothing changes).
  const lossValue = where(finite, lossDiff, detach(lossLimit));
  const adj = adjoints(mul(w === null ? g : mul(g, w), lossDiff));
  const grads = Array.from({ length: parts.arity }, (_, i) => {
    if (i === parts.weightIndex) return mul(g, lossValue);
    return adj.get(arg(i)) ?? null;
  });
  return { name: parts.name, arity: parts.arity, value, grads, valueAtInfinity };
}
