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
}

/**
 * Lowers expressions to straight-line code in a backend's dialect. Each primitive node used more than once
 * becomes one temporary (nodes are hash-consed, so this is common-subexpression elimination); nodes used
 * once are inlined into their user.
 */
export function straightLine(outputs: readonly Expr[], dialect: Dialect, prefix = 't'): StraightLine {
  const order = topoSort(outputs);
  const uses = new Map<Expr, number>();
  for (const n of order) for (const a of n.args) uses.set(a, (uses.get(a) ?? 0) + 1);
  for (const o of outputs) uses.set(o, (uses.get(o) ?? 0) + 2);
  const code = new Map<Expr, string>();
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
      if ((uses.get(n) ?? 0) > 1) {
        const name = `${prefix}${k++}`;
        statements.push(dialect.declare(name, c));
        c = name;
      }
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
