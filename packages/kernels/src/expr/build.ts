import { ArgumentError, ArityError, UnknownOpError } from '../errors.js';
import { describeValue } from '../util/own.js';
import { constant, constantUnchecked, Expr, intern } from './node.js';
import {
  isPrimitive,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  type RuleBuilder,
} from './primitives.js';

/** An expression, or a number standing for a constant. */
export type ExprLike = Expr | number;

/** Turns a number into a constant node; passes nodes through. */
export function toExpr(x: ExprLike, op = 'expr', arg = 'argument'): Expr {
  if (x instanceof Expr) return x;
  if (typeof x === 'number') {
    if (Number.isNaN(x))
      throw new ArgumentError(op, `argument '${arg}' is NaN; NaN constants are not allowed`);
    return constant(x);
  }
  const u: unknown = x;
  const got = typeof u === 'string' ? `string ${u.length > 40 ? `${u.slice(0, 40)}…` : u}` : describeValue(u);
  throw new ArgumentError(op, `argument '${arg}' must be an Expr or a number, got ${got}`);
}

/**
 * The canonical order of the two arguments of a commutative primitive: constants last, then by id. Keeping
 * constants in the second place makes `x * 2` and `2 * x` one node, and gives every `x * c` the same
 * structure whatever the constant's id, so they share one compiled kernel. (Other arguments keep the id
 * order: it decides the order in which derivative terms are summed, which gradients rely on bit for bit.)
 */
function outOfOrder(a: Expr, b: Expr): boolean {
  if (a.isConst !== b.isConst) return a.isConst;
  return a.id > b.id;
}

/**
 * Applies primitive `op` to `args`. Arguments that are all constants are folded to a constant (with the
 * primitive's own numeric definition, so folding never changes a value); arguments of commutative primitives
 * are put in a canonical order so equal subexpressions are shared. Nothing else is rewritten.
 *
 * @throws UnknownOpError when `op` is not in the primitive table
 * @throws ArityError when the number of arguments is wrong
 */
export function apply(op: string, ...args: ExprLike[]): Expr {
  if (typeof op !== 'string' || !isPrimitive(op)) {
    const name = typeof op === 'string' ? op : describeValue(op);
    throw new UnknownOpError(
      name,
      `unknown primitive ${typeof op === 'string' ? `'${op}'` : name}; known primitives: ${PRIMITIVE_NAMES.join(', ')}`,
    );
  }
  const prim = PRIMITIVES[op];
  if (args.length !== prim.arity) {
    throw new ArityError(op, `expects ${prim.arity} argument(s), got ${args.length}`);
  }
  const nodes = args.map((a, i) => toExpr(a, op, `#${i}`));
  if (nodes.every((n) => n.isConst)) {
    return constantUnchecked(prim.evaluate(...nodes.map((n) => n.value)));
  }
  if (prim.commutative && outOfOrder(nodes[0]!, nodes[1]!)) nodes.reverse();
  return intern(op, nodes, Number.NaN, '', `${op}(${nodes.map((n) => n.id).join(',')})`);
}

const isZero = (e: Expr) => e.isConst && e.value === 0;
const isOne = (e: Expr) => e.isConst && e.value === 1;

/**
 * The simplifying builder used by derivative rules: it drops additions of 0, multiplications by 1, and
 * folds multiplications by 0 to 0 (a structural zero). These rewrites are applied only to derivatives,
 * never to a user's own expression.
 */
export const ruleBuilder: RuleBuilder = {
  c: (v) => constantUnchecked(v),
  apply(op: PrimitiveName, ...args: Expr[]) {
    // a^1 = a and a^0 = 1 hold bit for bit (also for NaN, ±inf and -0), so derivatives of powers stay short.
    if (op === 'pow' && args[1]!.isConst) {
      if (args[1]!.value === 1) return args[0]!;
      if (args[1]!.value === 0) return constantUnchecked(1);
    }
    return apply(op, ...args);
  },
  add(a, b) {
    if (isZero(a)) return b;
    if (isZero(b)) return a;
    return apply('add', a, b);
  },
  sub(a, b) {
    if (isZero(b)) return a;
    if (isZero(a)) return ruleBuilder.neg(b);
    return apply('sub', a, b);
  },
  mul(a, b) {
    if (isZero(a) || isZero(b)) return constantUnchecked(0);
    if (isOne(a)) return b;
    if (isOne(b)) return a;
    if (a.isConst && a.value === -1) return ruleBuilder.neg(b);
    if (b.isConst && b.value === -1) return ruleBuilder.neg(a);
    return apply('mul', a, b);
  },
  div(a, b) {
    if (isZero(a)) return constantUnchecked(0);
    if (isOne(b)) return a;
    return apply('div', a, b);
  },
  neg(a) {
    if (a.op === 'neg') return a.args[0]!;
    return apply('neg', a);
  },
};

/** a + b */
export const add = (a: ExprLike, b: ExprLike): Expr => apply('add', a, b);
/** a - b */
export const sub = (a: ExprLike, b: ExprLike): Expr => apply('sub', a, b);
/** a * b */
export const mul = (a: ExprLike, b: ExprLike): Expr => apply('mul', a, b);
/** a / b */
export const div = (a: ExprLike, b: ExprLike): Expr => apply('div', a, b);
/** -a */
export const neg = (a: ExprLike): Expr => apply('neg', a);
/** e^a */
export const exp = (a: ExprLike): Expr => apply('exp', a);
/** natural logarithm */
export const log = (a: ExprLike): Expr => apply('log', a);
/** log(1 + a) */
export const log1p = (a: ExprLike): Expr => apply('log1p', a);
/** e^a - 1 */
export const expm1 = (a: ExprLike): Expr => apply('expm1', a);
/** square root */
export const sqrt = (a: ExprLike): Expr => apply('sqrt', a);
/** a^b, tensor or constant exponent (see the `pow` row's documentation for its derivative at a = 0) */
export const pow = (a: ExprLike, b: ExprLike): Expr => apply('pow', a, b);
/** |a| */
export const abs = (a: ExprLike): Expr => apply('abs', a);
/** sign(a) */
export const sign = (a: ExprLike): Expr => apply('sign', a);
/** elementwise minimum */
export const min = (a: ExprLike, b: ExprLike): Expr => apply('min', a, b);
/** elementwise maximum */
export const max = (a: ExprLike, b: ExprLike): Expr => apply('max', a, b);
/** where(cond, a, b): a where cond != 0, else b */
export const where = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr => apply('where', cond, a, b);
/** 1 if a < b else 0 */
export const lt = (a: ExprLike, b: ExprLike): Expr => apply('lt', a, b);
/** 1 if a <= b else 0 */
export const le = (a: ExprLike, b: ExprLike): Expr => apply('le', a, b);
/** 1 if a > b else 0 */
export const gt = (a: ExprLike, b: ExprLike): Expr => apply('gt', a, b);
/** 1 if a >= b else 0 */
export const ge = (a: ExprLike, b: ExprLike): Expr => apply('ge', a, b);
/** 1 if a == b else 0 */
export const eq = (a: ExprLike, b: ExprLike): Expr => apply('eq', a, b);
/** 1 if a != b else 0 */
export const ne = (a: ExprLike, b: ExprLike): Expr => apply('ne', a, b);
/** logical and of two conditions (non-zero is true) */
export const and = (a: ExprLike, b: ExprLike): Expr => apply('and', a, b);
/** logical or of two conditions (non-zero is true) */
export const or = (a: ExprLike, b: ExprLike): Expr => apply('or', a, b);
/** logical not of a condition (non-zero is true) */
export const not = (a: ExprLike): Expr => apply('not', a);
/** logistic sigmoid, stable */
export const sigmoid = (a: ExprLike): Expr => apply('sigmoid', a);
/** log(1 + e^a), stable */
export const softplus = (a: ExprLike): Expr => apply('softplus', a);
/** log(sigmoid(a)), stable */
export const logSigmoid = (a: ExprLike): Expr => apply('logSigmoid', a);
/** hyperbolic tangent */
export const tanh = (a: ExprLike): Expr => apply('tanh', a);
/** max(a, 0) */
export const relu = (a: ExprLike): Expr => apply('relu', a);
/** erf(a), the error function. */
export const erf = (a: ExprLike): Expr => apply('erf', a);
/** identity with a zero derivative (stop_gradient) */
export const detach = (a: ExprLike): Expr => apply('detach', a);
