import { Value } from '@gradkit/autograd';
import {
  abs,
  add,
  apply,
  constant,
  type Expr,
  eq,
  exp,
  log,
  logSigmoid,
  lt,
  mul,
  neg,
  sigmoid,
  sqrt,
  sub,
  substitute,
  topoSort,
  variable,
  where,
} from '@gradkit/kernels';

/**
 * The per-element quantities a modulating factor is written in, as symbolic scalars (`Value`s: use their
 * methods, `.add`, `.pow`, `.logSigmoid`, `.detach`, ...). `p` is the predicted probability sigmoid(x),
 * `pt` the probability of the target class `y·p + (1 − y)·(1 − p)`, `logPt` = log(pt) and `log1mPt` =
 * log(1 − pt), both computed stably in logit space.
 */
export interface Quantities {
  /** The logit. */
  readonly x: Value;
  /** The target (hard 0/1 or soft in [0, 1]). */
  readonly y: Value;
  /** sigmoid(x). */
  readonly p: Value;
  /** y·p + (1 − y)·(1 − p). */
  readonly pt: Value;
  /** log(pt), stable. */
  readonly logPt: Value;
  /** log(1 − pt), stable. */
  readonly log1mPt: Value;
}

/** Names of the placeholder variables the quantities stand for while a factor is being built. */
const NAMES = {
  x: '§x',
  y: '§y',
  p: '§p',
  pt: '§pt',
  logPt: '§logPt',
  log1mPt: '§log1mPt',
  /** 1 − p = sigmoid(−x) */
  p1: '§1-p',
  /** 1 − pt */
  q: '§1-pt',
  /** y − p */
  d: '§y-p',
} as const;

const V = {
  x: variable(NAMES.x),
  y: variable(NAMES.y),
  p: variable(NAMES.p),
  pt: variable(NAMES.pt),
  logPt: variable(NAMES.logPt),
  log1mPt: variable(NAMES.log1mPt),
  p1: variable(NAMES.p1),
  q: variable(NAMES.q),
  d: variable(NAMES.d),
};

/** The quantities as symbolic Values, ready to hand to a factor function. */
export function quantityValues(): Quantities {
  const sym = (e: Expr, label: string) => new Value(e, undefined, [], label);
  return {
    x: sym(V.x, 'x'),
    y: sym(V.y, 'y'),
    p: sym(V.p, 'p'),
    pt: sym(V.pt, 'pt'),
    logPt: sym(V.logPt, 'logPt'),
    log1mPt: sym(V.log1mPt, 'log1mPt'),
  };
}

/** A parameter of a factor as a symbolic Value: a constant for a number, a variable for a tensor. */
export function parameterValue(name: string, v: number | Expr): Value {
  return typeof v === 'number' ? new Value(constant(v), v, [], name) : new Value(v, undefined, [], name);
}

const isOne = (e: Expr) => e.isConst && e.value === 1;

/** `1 - z` written as sub(1, z), add(1, neg(z)) or add(neg(z), 1): returns z, else undefined. */
function oneMinus(e: Expr): Expr | undefined {
  if (e.op === 'sub' && isOne(e.args[0]!)) return e.args[1]!;
  if (e.op === 'add') {
    const [a, b] = e.args as [Expr, Expr];
    if (isOne(a) && b.op === 'neg') return b.args[0]!;
    if (isOne(b) && a.op === 'neg') return a.args[0]!;
  }
  return undefined;
}

/** The complement of a probability placeholder: 1 − p, 1 − (1 − p), 1 − pt, 1 − (1 − pt). */
const COMPLEMENT = new Map<Expr, Expr>([
  [V.p, V.p1],
  [V.p1, V.p],
  [V.pt, V.q],
  [V.q, V.pt],
]);

/** log of a probability placeholder, in logit space. */
function logOf(z: Expr): Expr | undefined {
  if (z === V.p) return logSigmoid(V.x);
  if (z === V.p1) return logSigmoid(neg(V.x));
  if (z === V.pt) return V.logPt;
  if (z === V.q) return V.log1mPt;
  return undefined;
}

/** y − p (or −(y − p) for p − y) written as sub or as add of a negation. */
function targetMinusP(e: Expr): Expr | undefined {
  if (e.op === 'sub') {
    if (e.args[0] === V.y && e.args[1] === V.p) return V.d;
    if (e.args[0] === V.p && e.args[1] === V.y) return neg(V.d);
  }
  if (e.op === 'add') {
    const [a, b] = e.args as [Expr, Expr];
    if (
      (a === V.y && b.op === 'neg' && b.args[0] === V.p) ||
      (b === V.y && a.op === 'neg' && a.args[0] === V.p)
    )
      return V.d;
  }
  return undefined;
}

/** One rewrite step at a node whose arguments are already rewritten; returns the node when nothing applies. */
function rewriteNode(e: Expr): Expr {
  // sigmoid(x) and sigmoid(−x) are the probabilities themselves.
  if (e.op === 'sigmoid') {
    if (e.args[0] === V.x) return V.p;
    if (e.args[0]!.op === 'neg' && e.args[0]!.args[0] === V.x) return V.p1;
  }
  const z = oneMinus(e);
  if (z !== undefined) {
    const c = COMPLEMENT.get(z);
    if (c !== undefined) return c;
  }
  const d = targetMinusP(e);
  if (d !== undefined) return d;
  if (e.op === 'log') {
    const l = logOf(e.args[0]!);
    if (l !== undefined) return l;
  }
  if (e.op === 'log1p' && e.args[0]!.op === 'neg') {
    const c = COMPLEMENT.get(e.args[0]!.args[0]!);
    const l = c === undefined ? undefined : logOf(c);
    if (l !== undefined) return l;
  }
  // |−z| = |z|
  if (e.op === 'abs' && e.args[0]!.op === 'neg') return apply('abs', e.args[0]!.args[0]!);
  if (e.op === 'pow') {
    const [base, k] = e.args as [Expr, Expr];
    const l = logOf(base);
    const absDiff = base.op === 'abs' && base.args[0] === V.d;
    if (l !== undefined || absDiff) {
      if (k.isConst && k.value === 0) return constant(1);
      if (k.isConst && k.value === 1) return base;
      if (k.isConst && k.value > 0 && k.value <= MAX_FAST_POWER && Number.isInteger(2 * k.value)) {
        return fastPower(base, k.value);
      }
      return exp(mul(k, l ?? log(where(lt(base, POWER_FLOOR), POWER_FLOOR, base))));
    }
  }
  return e;
}

/** Largest half-integer exponent computed by multiplications and one square root. */
export const MAX_FAST_POWER = 16;

/** Probabilities below this are raised to half-integer powers as if they were this (see {@link fastPower}). */
const POWER_FLOOR = 1e-100;

/**
 * z^k for a probability placeholder z and a half-integer k in (0, 16]: repeated multiplication and one
 * sqrt (about 10x faster than exp(k·log z)), on z floored at 1e-100 so that the power and its first
 * derivatives never overflow or divide by 0 (beyond the floor, the power's value is below 1e-50 and its
 * derivative is taken as 0).
 */
function fastPower(z: Expr, k: number): Expr {
  const zc = where(lt(z, POWER_FLOOR), POWER_FLOOR, z);
  let n = Math.floor(k);
  let result: Expr | null = k - n === 0.5 ? sqrt(zc) : null;
  let square = zc;
  while (n > 0) {
    if (n & 1) result = result === null ? square : mul(result, square);
    n >>= 1;
    if (n > 0) square = mul(square, square);
  }
  return result!;
}

/**
 * Rewrites a factor built from the placeholder quantities into stable forms, bottom-up, until nothing changes:
 * - `1 − p` → sigmoid(−x); `1 − pt` → the accurate 1 − pt (no cancellation); `1 − (1 − z)` → z;
 * - `sigmoid(x)` → p, `sigmoid(−x)` → 1 − p;
 * - `log(p)` → logSigmoid(x), `log(1 − p)` → logSigmoid(−x), `log(pt)` → logPt, `log(1 − pt)` → log1mPt (also
 *   when written `log1p(−z)`);
 * - `z^k` for z in {p, 1 − p, pt, 1 − pt}: k = 0 → 1, k = 1 → z; a half-integer k in (0, 16] →
 *   multiplications and one sqrt of z floored at 1e-100 (fast; see `fastPower`); any other k (also a
 *   per-class tensor) → exp(k·log z) with the stable log above; in every case the factor and its derivatives
 *   stay finite where z underflows;
 * - `y − p` (and `p − y`) → y·sigmoid(−x) − (1 − y)·sigmoid(x), exact for hard targets; `|y − p|^k` like a
 *   probability power, on |y − p| floored at 1e-100 (at y = p exactly, the kink, its derivative is then 0 for
 *   every k; PyTorch gives 0 for k ≥ 1 and NaN for k < 1).
 * Anything else is kept as written (e.g. `1 − sigmoid(x)·y`, powers of other expressions).
 */
export function stabilize(expr: Expr): Expr {
  const memo = new Map<Expr, Expr>();
  for (const node of topoSort([expr])) {
    if (node.args.length === 0) {
      memo.set(node, node);
      continue;
    }
    const args = node.args.map((a) => memo.get(a)!);
    let e = args.every((a, i) => a === node.args[i]) ? node : apply(node.op, ...args);
    for (let i = 0; i < 8; i++) {
      const r = rewriteNode(e);
      if (r === e) break;
      e = r;
    }
    memo.set(node, e);
  }
  return memo.get(expr)!;
}

/** Below this, pt or 1 − pt are treated as underflowed: their log is taken as −|x| (exact to e^-690). */
const TINY = 1e-300;

/** log(z) of a probability z ≥ 0 that is below TINY only for a hard target on the saturated side. */
function stableLog(z: Expr, x: Expr): Expr {
  const small = lt(z, TINY);
  return where(small, neg(abs(x)), log(where(small, 1, z)));
}

/** The stable per-element expressions of the quantities, in terms of the logit `x` and the target `y`. */
export function quantityExpressions(x: Expr, y: Expr): Map<Expr, Expr> {
  const p = sigmoid(x);
  const p1 = sigmoid(neg(x));
  const oneMinusY = sub(1, y);
  const pt = add(mul(y, p), mul(oneMinusY, p1));
  const q = add(mul(y, p1), mul(oneMinusY, p));
  return new Map<Expr, Expr>([
    [V.x, x],
    [V.y, y],
    [V.p, p],
    [V.p1, p1],
    [V.pt, pt],
    [V.q, q],
    [V.logPt, stableLog(pt, x)],
    [V.log1mPt, stableLog(q, x)],
    [V.d, sub(mul(y, p1), mul(oneMinusY, p))],
  ]);
}

/**
 * Turns a factor over the placeholders into an expression of `x` and `y`: {@link stabilize}, then every
 * placeholder replaced by its stable expression.
 */
export function realize(expr: Expr, x: Expr, y: Expr): Expr {
  return substitute(stabilize(expr), quantityExpressions(x, y));
}

/** `a·b`, except that it is 0 where `a` is 0 even when `b` is ±inf or NaN (a factor of exactly 0 removes a term). */
export function mulOrZero(a: Expr, b: Expr): Expr {
  return where(eq(a, 0), 0, mul(a, b));
}

/** The placeholder names (internal; exported for tests). */
export const PLACEHOLDERS: Readonly<Record<string, string>> = NAMES;
