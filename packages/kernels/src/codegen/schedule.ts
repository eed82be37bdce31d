import type { Expr } from '../expr/node.js';
import { topoSort } from '../expr/node.js';
import { PRIMITIVES, type PrimitiveName } from '../expr/primitives.js';

/** How a backend spells one node: a literal for constants, a name for variables, or a template call. */
export interface Dialect {
  /** Code for a constant. */
  literal(v: number): string;
  /** Code for a variable (usually the name of a local holding the current element). */
  variable(name: string): string;
  /** Code for a primitive applied to argument code strings. */
  primitive(op: PrimitiveName, args: string[]): string;
  /** A statement declaring `name` as `code`. */
  declare(name: string, code: string): string;
}

/** Straight-line code for a set of outputs: one statement per shared node, and each output's code. */
export interface StraightLine {
  /** Declarations, in dependency order. */
  readonly statements: string[];
  /** The code of each output (a temporary, a literal or a variable). */
  readonly results: string[];
  /**
   * How many temporaries live in a scratch array `T` instead of locals (0 for all but huge expressions, over
   * `MAX_TEMP_LOCALS` temporaries): code that uses the statements must declare `const T = new Float64Array(scratch)`
   * before them when this is positive.
   */
  readonly scratch?: number;
}

/**
 * The most temporaries {@link fusedStraightLine} declares as locals; the rest are elements of a scratch
 * `Float64Array` `T`. A JavaScript function with hundreds of thousands of locals overflows the stack when it
 * is called, so huge expressions spill (a Float64Array holds every double exactly, so values do not change).
 */
export const MAX_TEMP_LOCALS = 4096;

/**
 * The deepest nesting of inlined subexpressions in generated code. A node whose inlined code would nest
 * deeper becomes a temporary, so a chain of 20,000 operations compiles to short statements instead of one
 * expression with 20,000 nested parentheses (which a JavaScript or WGSL parser refuses).
 */
export const MAX_INLINE_DEPTH = 24;

/** The nesting depth of a node's code when it is inlined: one more than its deepest inlined argument. */
function inlineDepth(n: Expr, depth: ReadonlyMap<Expr, number>): number {
  let d = 0;
  for (const a of n.args) d = Math.max(d, depth.get(a) ?? 0);
  return d + 1;
}

/**
 * Lowers expressions to straight-line code in a backend's dialect. Each primitive node used more than once
 * becomes one temporary (nodes are hash-consed, so this is common-subexpression elimination); nodes used
 * once are inlined into their user, unless that would nest code deeper than {@link MAX_INLINE_DEPTH}.
 * Works at any depth (no recursion).
 */
export function straightLine(outputs: readonly Expr[], dialect: Dialect, prefix = 't'): StraightLine {
  const order = topoSort(outputs);
  const uses = new Map<Expr, number>();
  for (const n of order) for (const a of n.args) uses.set(a, (uses.get(a) ?? 0) + 1);
  for (const o of outputs) uses.set(o, (uses.get(o) ?? 0) + 2);
  const code = new Map<Expr, string>();
  const depth = new Map<Expr, number>();
  const statements: string[] = [];
  let k = 0;
  for (const n of order) {
    let c: string;
    if (n.isConst) c = dialect.literal(n.value);
    else if (n.isVar) c = dialect.variable(n.name);
    else {
      c = dialect.primitive(
        n.op as PrimitiveName,
        n.args.map((a) => code.get(a)!),
      );
      const d = inlineDepth(n, depth);
      if ((uses.get(n) ?? 0) > 1 || d >= MAX_INLINE_DEPTH) {
        const name = `${prefix}${k++}`;
        statements.push(dialect.declare(name, c));
        c = name;
      } else depth.set(n, d);
    }
    code.set(n, c);
  }
  return { statements, results: outputs.map((o) => code.get(o)!) };
}

/** The JavaScript dialect: `R` is the runtime object, numbers are written so they round-trip exactly. */
export function jsDialect(variable: (name: string) => string): Dialect {
  return {
    literal: jsLiteral,
    variable,
    primitive: (op, args) => PRIMITIVES[op].js(...args),
    declare: (name, code) => `const ${name} = ${code};`,
  };
}

/** A JavaScript literal for `v` that evaluates to exactly `v` (including -0, ±Infinity and NaN). */
export function jsLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${v})` : String(v);
}

const SHARED = new Set<string>(['sigmoid', 'softplus', 'logSigmoid']);

/**
 * Lowers expressions to straight-line JavaScript like `straightLine`, with one extra optimization:
 * `sigmoid`, `softplus` and `logSigmoid` of `a` and of `-a` share ONE `Math.exp(-Math.abs(a))` (and one
 * `Math.log1p` of it), computed exactly as the runtime functions compute them, so results are bit-for-bit
 * those of the interpreter. Nodes used more than once become temporaries; others are inlined, up to
 * {@link MAX_INLINE_DEPTH} levels. Works at any depth (no recursion).
 *
 * @param variable - the code of a variable (given its name)
 * @param constant - the code of a constant node (default: its value as a literal; the kernel generators
 *   pass a parameter local instead, so kernels do not depend on constant values)
 */
export function fusedStraightLine(
  outputs: readonly Expr[],
  variable: (name: string) => string,
  constant: (node: Expr) => string = (node) => jsLiteral(node.value),
): StraightLine {
  const order = topoSort(outputs);
  const uses = new Map<Expr, number>();
  const bump = (e: Expr, k: number) => uses.set(e, (uses.get(e) ?? 0) + k);
  for (const n of order) {
    if (SHARED.has(n.op)) {
      // The shared code reads the base operand several times: make it a temporary.
      const a = n.args[0]!;
      bump(a.op === 'neg' ? a.args[0]! : a, 2);
    } else for (const a of n.args) bump(a, 1);
  }
  for (const o of outputs) bump(o, 2);
  const code = new Map<Expr, string>();
  const statements: string[] = [];
  const expOf = new Map<Expr, string>();
  const logOf = new Map<Expr, string>();
  const denOf = new Map<Expr, string>();
  let k = 0;
  let scratch = 0;
  const temp = (c: string): string => {
    if (k < MAX_TEMP_LOCALS) {
      const name = `t${k++}`;
      statements.push(`const ${name} = ${c};`);
      return name;
    }
    const name = `T[${scratch++}]`;
    statements.push(`${name} = ${c};`);
    return name;
  };
  const shared = (cache: Map<Expr, string>, base: Expr, make: () => string): string => {
    let s = cache.get(base);
    if (s === undefined) {
      s = temp(make());
      cache.set(base, s);
    }
    return s;
  };
  const e = (base: Expr): string => shared(expOf, base, () => `Math.exp(-Math.abs(${code.get(base)!}))`);
  const l = (base: Expr): string => shared(logOf, base, () => `Math.log1p(${e(base)})`);
  const d = (base: Expr): string => shared(denOf, base, () => `1 + ${e(base)}`);
  const depth = new Map<Expr, number>();
  for (const n of order) {
    let c: string;
    let nest = 0;
    if (n.isConst) c = constant(n);
    else if (n.isVar) c = variable(n.name);
    else if (SHARED.has(n.op)) {
      const arg = n.args[0]!;
      const negated = arg.op === 'neg';
      const base = negated ? arg.args[0]! : arg;
      const b = code.get(base)!;
      // The value the runtime function receives, and its sign test, written on the base operand.
      const a = negated ? `(-${b})` : b;
      const nonNeg = negated ? `${b} <= 0` : `${b} >= 0`;
      // One division with a selected numerator: the same operations as the runtime's two branches.
      if (n.op === 'sigmoid') c = `((${nonNeg} ? 1 : ${e(base)}) / ${d(base)})`;
      else if (n.op === 'softplus') c = `(Math.max(${a}, 0) + ${l(base)})`;
      else c = `(Math.min(${a}, 0) - ${l(base)})`;
      nest = 2;
    } else {
      c = PRIMITIVES[n.op as PrimitiveName].js(...n.args.map((x) => code.get(x)!));
      nest = inlineDepth(n, depth);
    }
    if (!n.isConst && !n.isVar && ((uses.get(n) ?? 0) > 1 || nest >= MAX_INLINE_DEPTH)) c = temp(c);
    else if (nest > 0) depth.set(n, nest);
    code.set(n, c);
  }
  return { statements, results: outputs.map((o) => code.get(o)!), scratch };
}
