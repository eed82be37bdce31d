import { erf, logSigmoid, sigmoid, softplus, where } from '../runtime.js';
import type { Expr } from './node.js';

/** The names of all elementwise primitives. */
export type PrimitiveName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'neg'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'expm1'
  | 'sqrt'
  | 'pow'
  | 'abs'
  | 'sign'
  | 'min'
  | 'max'
  | 'where'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'eq'
  | 'ne'
  | 'and'
  | 'or'
  | 'not'
  | 'sigmoid'
  | 'softplus'
  | 'logSigmoid'
  | 'tanh'
  | 'erf'
  | 'relu'
  | 'detach';

/**
 * The expression builder handed to derivative rules, so that rules are written in terms of other primitives
 * (and their results can be differentiated again). It simplifies structural zeros and ones.
 */
export interface RuleBuilder {
  /** A constant node. */
  c(v: number): Expr;
  /** Applies a primitive. */
  apply(op: PrimitiveName, ...args: Expr[]): Expr;
  /** `a + b` */
  add(a: Expr, b: Expr): Expr;
  /** `a - b` */
  sub(a: Expr, b: Expr): Expr;
  /** `a * b` */
  mul(a: Expr, b: Expr): Expr;
  /** `a / b` */
  div(a: Expr, b: Expr): Expr;
  /** `-a` */
  neg(a: Expr): Expr;
}

/**
 * A derivative rule: given the primitive's arguments, its own node `out` and the adjoint `g` flowing into
 * it, returns each argument's contribution to its adjoint (`null` where the primitive has no derivative with
 * respect to that argument, e.g. a condition).
 */
export type DerivativeRule = (
  args: readonly Expr[],
  out: Expr,
  g: Expr,
  b: RuleBuilder,
) => ReadonlyArray<Expr | null>;

/** One row of the primitive table. */
export interface Primitive {
  /** The primitive's name, as used in expressions and generated code. */
  readonly name: PrimitiveName;
  /** Number of arguments. */
  readonly arity: 1 | 2 | 3;
  /** Whether the argument order does not matter (used to canonicalize for sharing). */
  readonly commutative: boolean;
  /** The numeric definition, in float64. */
  readonly evaluate: (...args: number[]) => number;
  /** The derivative rule, in terms of other primitives. */
  readonly derivative: DerivativeRule;
  /** JavaScript template: given the argument code strings, the code of the result (`R` is the runtime). */
  readonly js: (...args: string[]) => string;
  /**
   * WGSL template (f32): given the argument code strings, the code of the result. It may call the `gk_*`
   * helpers of `codegen/wgsl.ts` (which never rely on inf/NaN propagation).
   */
  readonly wgsl: (...args: string[]) => string;
  /** One line on meaning, edge values and what the derivative returns at its unstable points. */
  readonly doc: string;
}

const none: DerivativeRule = (args) => args.map(() => null);
const bool = (v: boolean): number => (v ? 1 : 0);

function row(
  name: PrimitiveName,
  arity: 1 | 2 | 3,
  evaluate: (...args: number[]) => number,
  js: (...args: string[]) => string,
  derivative: DerivativeRule,
  doc: string,
  commutative = false,
): Primitive {
  return { name, arity, commutative, evaluate, derivative, js, wgsl: WGSL[name], doc };
}

const f32Bool = (cond: string): string => `select(0.0f, 1.0f, ${cond})`;

/**
 * The WGSL template of each primitive (float32 only; see `codegen/wgsl.ts` for the `gk_*` helpers). Comparisons
 * give 1.0 / 0.0 like the JavaScript templates; `!==` is written `!(a == b)` so a NaN operand still counts as
 * different, and `c !== 0` tests the bits (gk_nz) so a NaN condition still selects like JavaScript.
 */
const WGSL: Readonly<Record<PrimitiveName, (...args: string[]) => string>> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  neg: (a) => `(-${a})`,
  exp: (a) => `gk_exp(${a})`,
  log: (a) => `gk_log(${a})`,
  log1p: (a) => `gk_log1p(${a})`,
  expm1: (a) => `gk_expm1(${a})`,
  sqrt: (a) => `sqrt(${a})`,
  pow: (a, b) => `gk_pow(${a}, ${b})`,
  abs: (a) => `abs(${a})`,
  sign: (a) => `sign(${a})`,
  min: (a, b) => `min(${a}, ${b})`,
  max: (a, b) => `max(${a}, ${b})`,
  where: (c, a, b) => `select(${b}, ${a}, gk_nz(${c}))`,
  lt: (a, b) => f32Bool(`${a} < ${b}`),
  le: (a, b) => f32Bool(`${a} <= ${b}`),
  gt: (a, b) => f32Bool(`${a} > ${b}`),
  ge: (a, b) => f32Bool(`${a} >= ${b}`),
  eq: (a, b) => f32Bool(`${a} == ${b}`),
  ne: (a, b) => f32Bool(`!(${a} == ${b})`),
  and: (a, b) => f32Bool(`gk_nz(${a}) && gk_nz(${b})`),
  or: (a, b) => f32Bool(`gk_nz(${a}) || gk_nz(${b})`),
  not: (a) => f32Bool(`!gk_nz(${a})`),
  sigmoid: (a) => `gk_sigmoid(${a})`,
  softplus: (a) => `gk_softplus(${a})`,
  logSigmoid: (a) => `gk_logSigmoid(${a})`,
  tanh: (a) => `gk_tanh(${a})`,
  erf: (a) => `gk_erf(${a})`,
  relu: (a) => `max(${a}, 0.0f)`,
  detach: (a) => a,
};

const rows: Primitive[] = [
  row(
    'add',
    2,
    (a, b) => a + b,
    (a, b) => `(${a} + ${b})`,
    (_, __, g) => [g, g],
    'a + b.',
    true,
  ),
  row(
    'sub',
    2,
    (a, b) => a - b,
    (a, b) => `(${a} - ${b})`,
    (_, __, g, B) => [g, B.neg(g)],
    'a - b.',
  ),
  row(
    'mul',
    2,
    (a, b) => a * b,
    (a, b) => `(${a} * ${b})`,
    ([a, b], __, g, B) => [B.mul(g, b!), B.mul(g, a!)],
    'a * b. A constant 0 factor folds the product to 0 symbolically (so derivatives stay small).',
    true,
  ),
  row(
    'div',
    2,
    (a, b) => a / b,
    (a, b) => `(${a} / ${b})`,
    ([, b], out, g, B) => [B.div(g, b!), B.neg(B.div(B.mul(g, out), b!))],
    'a / b; d/db = -(a/b)/b.',
  ),
  row(
    'neg',
    1,
    (a) => -a,
    (a) => `(-${a})`,
    (_, __, g, B) => [B.neg(g)],
    '-a.',
  ),
  row(
    'exp',
    1,
    Math.exp,
    (a) => `Math.exp(${a})`,
    (_, out, g, B) => [B.mul(g, out)],
    'e^a; d/da = e^a.',
  ),
  row(
    'log',
    1,
    Math.log,
    (a) => `Math.log(${a})`,
    ([a], __, g, B) => [B.div(g, a!)],
    'natural log; log(0) = -inf, NaN below 0; d/da = 1/a (+inf at 0).',
  ),
  row(
    'log1p',
    1,
    Math.log1p,
    (a) => `Math.log1p(${a})`,
    ([a], __, g, B) => [B.div(g, B.add(B.c(1), a!))],
    'log(1 + a), exact for tiny a; d/da = 1/(1 + a).',
  ),
  row(
    'expm1',
    1,
    Math.expm1,
    (a) => `Math.expm1(${a})`,
    ([a], __, g, B) => [B.mul(g, B.apply('exp', a!))],
    'e^a - 1, exact for tiny a; d/da = e^a.',
  ),
  row(
    'sqrt',
    1,
    Math.sqrt,
    (a) => `Math.sqrt(${a})`,
    (_, out, g, B) => [B.div(g, B.mul(B.c(2), out))],
    'square root; d/da = 1/(2 sqrt(a)), which is +inf at a = 0 (as in PyTorch).',
  ),
  row(
    'pow',
    2,
    Math.pow,
    (a, b) => `Math.pow(${a}, ${b})`,
    ([a, e], out, g, B) => {
      // d/da = e * a^(e-1). For a constant exponent c this is c * a^(c-1) with c-1 folded; c = 0 gives 0.
      if (e!.isConst) return [B.mul(g, B.mul(e!, B.apply('pow', a!, B.c(e!.value - 1)))), null];
      // A variable exponent that is 0 at run time must give 0 too, not 0 * a^-1 = NaN where a^-1 overflows
      // (a = 0 or subnormal). Only those points are masked, so derivatives of this one stay right elsewhere;
      // the masked branch reads a safe base (1), so differentiating the where again gives 0, not 0 * inf.
      const em1 = B.sub(e!, B.c(1));
      const overflow = B.apply(
        'and',
        B.apply('eq', e!, B.c(0)),
        B.apply('eq', B.apply('abs', B.apply('pow', a!, em1)), B.c(Number.POSITIVE_INFINITY)),
      );
      const pSafe = B.apply('pow', B.apply('where', overflow, B.c(1), a!), em1);
      const da = B.apply('where', overflow, B.c(0), B.mul(g, B.mul(e!, pSafe)));
      // d/de = a^e * log(a), defined as 0 where a = 0 and e >= 0 (the limit; PyTorch does the same). The log
      // reads a safe base there, so second derivatives through the where stay finite.
      const zeroBase = B.apply('and', B.apply('eq', a!, B.c(0)), B.apply('ge', e!, B.c(0)));
      const logSafe = B.apply('log', B.apply('where', zeroBase, B.c(1), a!));
      const de = B.apply('where', zeroBase, B.c(0), B.mul(g, B.mul(out, logSafe)));
      return [da, de];
    },
    'a^b (Math.pow). d/da = b a^(b-1): at a = 0 with 0 < b < 1 that is +inf (b times 0^(b-1) = +inf), with b = 0 it is 0; ' +
      'd/db = a^b log(a), taken as 0 where a = 0 and b >= 0. Negative a with non-integer b gives NaN.',
  ),
  row(
    'abs',
    1,
    Math.abs,
    (a) => `Math.abs(${a})`,
    ([a], __, g, B) => [B.mul(g, B.apply('sign', a!))],
    '|a|; d/da = sign(a), 0 at a = 0.',
  ),
  row(
    'sign',
    1,
    Math.sign,
    (a) => `Math.sign(${a})`,
    none,
    'sign(a) in {-1, 0, 1} (NaN for NaN); derivative 0.',
  ),
  row(
    'min',
    2,
    Math.min,
    (a, b) => `Math.min(${a}, ${b})`,
    ([a, b], __, g, B) => minMaxRule('lt', a!, b!, g, B),
    'minimum, NaN if either is NaN; the gradient goes to the smaller argument, split in half on ties (PyTorch).',
    true,
  ),
  row(
    'max',
    2,
    Math.max,
    (a, b) => `Math.max(${a}, ${b})`,
    ([a, b], __, g, B) => minMaxRule('gt', a!, b!, g, B),
    'maximum, NaN if either is NaN; the gradient goes to the larger argument, split in half on ties (PyTorch).',
    true,
  ),
  row(
    'where',
    3,
    where,
    (c, a, b) => `(${c} !== 0 ? ${a} : ${b})`,
    ([c], __, g, B) => [null, B.apply('where', c!, g, B.c(0)), B.apply('where', c!, B.c(0), g)],
    'where(c, a, b): a where c != 0, else b (a NaN condition selects a); no derivative through c.',
  ),
  row(
    'lt',
    2,
    (a, b) => bool(a < b),
    (a, b) => `(${a} < ${b} ? 1 : 0)`,
    none,
    '1 if a < b else 0.',
  ),
  row(
    'le',
    2,
    (a, b) => bool(a <= b),
    (a, b) => `(${a} <= ${b} ? 1 : 0)`,
    none,
    '1 if a <= b else 0.',
  ),
  row(
    'gt',
    2,
    (a, b) => bool(a > b),
    (a, b) => `(${a} > ${b} ? 1 : 0)`,
    none,
    '1 if a > b else 0.',
  ),
  row(
    'ge',
    2,
    (a, b) => bool(a >= b),
    (a, b) => `(${a} >= ${b} ? 1 : 0)`,
    none,
    '1 if a >= b else 0.',
  ),
  row(
    'eq',
    2,
    (a, b) => bool(a === b),
    (a, b) => `(${a} === ${b} ? 1 : 0)`,
    none,
    '1 if a == b else 0.',
    true,
  ),
  row(
    'ne',
    2,
    (a, b) => bool(a !== b),
    (a, b) => `(${a} !== ${b} ? 1 : 0)`,
    none,
    '1 if a != b else 0.',
    true,
  ),
  row(
    'and',
    2,
    (a, b) => bool(a !== 0 && b !== 0),
    (a, b) => `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`,
    none,
    '1 if both are non-zero else 0.',
    true,
  ),
  row(
    'or',
    2,
    (a, b) => bool(a !== 0 || b !== 0),
    (a, b) => `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`,
    none,
    '1 if either is non-zero else 0.',
    true,
  ),
  row(
    'not',
    1,
    (a) => bool(a === 0),
    (a) => `(${a} === 0 ? 1 : 0)`,
    none,
    '1 if a == 0 else 0.',
  ),
  row(
    'sigmoid',
    1,
    sigmoid,
    (a) => `R.sigmoid(${a})`,
    ([a], out, g, B) => [B.mul(g, B.mul(out, B.apply('sigmoid', B.neg(a!))))],
    '1/(1 + e^-a), finite and exact at ±inf; d/da = sigmoid(a) sigmoid(-a), exact also where sigmoid rounds to 1.',
  ),
  row(
    'softplus',
    1,
    softplus,
    (a) => `R.softplus(${a})`,
    ([a], __, g, B) => [B.mul(g, B.apply('sigmoid', a!))],
    'log(1 + e^a) = max(a, 0) + log1p(e^-|a|), never overflows; d/da = sigmoid(a).',
  ),
  row(
    'logSigmoid',
    1,
    logSigmoid,
    (a) => `R.logSigmoid(${a})`,
    ([a], __, g, B) => [B.mul(g, B.apply('sigmoid', B.neg(a!)))],
    'log(sigmoid(a)) = min(a, 0) - log1p(e^-|a|), never overflows; d/da = sigmoid(-a).',
  ),
  row(
    'tanh',
    1,
    Math.tanh,
    (a) => `Math.tanh(${a})`,
    ([a], __, g, B) => {
      // 2a as a + a (exact, like 2·a): no constant, so kernels can see that it doubles `a` (the WebAssembly
      // float32 tanh shares its e^−|2a| and σ(−|2a|) with these two sigmoids).
      const two = B.add(a!, a!);
      const sech2 = B.mul(B.c(4), B.mul(B.apply('sigmoid', two), B.apply('sigmoid', B.neg(two))));
      return [B.mul(g, sech2)];
    },
    'hyperbolic tangent; d/da = sech²(a) = 4 sigmoid(2a) sigmoid(-2a), exact also where tanh rounds to ±1.',
  ),
  row(
    'erf',
    1,
    erf,
    (a) => `R.erf(${a})`,
    ([a], __, g, B) => {
      // 2/√π e^(−a²), read through a safe argument where it underflows to 0 anyway (|a| ≥ 27.5), so that the
      // next derivative is 0 there instead of 0 · inf; NaN still propagates (the condition is true for NaN).
      const live = B.apply('not', B.apply('ge', B.apply('abs', a!), B.c(27.5)));
      const safe = B.apply('where', live, a!, B.c(0));
      const density = B.mul(B.c(2 / Math.sqrt(Math.PI)), B.apply('exp', B.neg(B.mul(safe, safe))));
      return [B.mul(g, B.apply('where', live, density, B.c(0)))];
    },
    'the error function (for exact GELU); odd, erf(±inf) = ±1, within 5 ulps; d/da = 2/√π e^(−a²) (0 from |a| = 27.5, where it underflows).',
  ),
  row(
    'relu',
    1,
    (a) => Math.max(a, 0),
    (a) => `Math.max(${a}, 0)`,
    ([a], __, g, B) => [B.apply('where', B.apply('gt', a!, B.c(0)), g, B.c(0))],
    'max(a, 0) (NaN stays NaN); d/da = 1 where a > 0, else 0 (0 at a = 0, as in PyTorch).',
  ),
  row(
    'detach',
    1,
    (a) => a,
    (a) => a,
    none,
    'identity in value, zero derivative: stops gradients (stop_gradient / detach).',
  ),
];

function minMaxRule(pick: 'lt' | 'gt', a: Expr, b: Expr, g: Expr, B: RuleBuilder): Array<Expr | null> {
  const half = B.mul(g, B.c(0.5));
  const tie = B.apply('eq', a, b);
  const ga = B.apply('where', B.apply(pick, a, b), g, B.apply('where', tie, half, B.c(0)));
  const gb = B.apply('where', B.apply(pick, b, a), g, B.apply('where', tie, half, B.c(0)));
  return [ga, gb];
}

/** The primitive table: every elementwise primitive, defined once, keyed by name. */
export const PRIMITIVES: Readonly<Record<PrimitiveName, Primitive>> = Object.freeze(
  Object.fromEntries(rows.map((r) => [r.name, Object.freeze(r)])) as Record<PrimitiveName, Primitive>,
);

/** The names of all primitives, in table order. */
export const PRIMITIVE_NAMES: readonly PrimitiveName[] = Object.freeze(rows.map((r) => r.name));

/** True when `name` is a primitive of the table. */
export function isPrimitive(name: string): name is PrimitiveName {
  return Object.hasOwn(PRIMITIVES, name);
}
