import { ArgumentError } from '../errors.js';
import { describeValue } from '../util/own.js';
import { ruleBuilder } from './build.js';
import { checkExpr, constantUnchecked, Expr, topoSort } from './node.js';
import { PRIMITIVES, type PrimitiveName } from './primitives.js';

/**
 * Symbolic reverse mode: the adjoint expression of every node that `output` depends on, seeded with
 * `seed` (default the constant 1). Nodes with a structurally zero adjoint are absent from the map.
 * The adjoints are built from primitives only, so they can be differentiated again. Works at any depth.
 *
 * @throws ArgumentError when `output` or `seed` is not an Expr
 */
export function adjoints(output: Expr, seed: Expr = constantUnchecked(1)): Map<Expr, Expr> {
  checkExpr('adjoints', 'output', output);
  checkExpr('adjoints', 'seed', seed);
  const adj = new Map<Expr, Expr>();
  adj.set(output, seed);
  const order = topoSort([output]);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const g = adj.get(node);
    if (g === undefined || node.args.length === 0) continue;
    const parts = PRIMITIVES[node.op as PrimitiveName].derivative(node.args, node, g, ruleBuilder);
    for (let k = 0; k < node.args.length; k++) {
      const part = parts[k];
      const arg = node.args[k]!;
      if (part == null || arg.isConst) continue;
      if (part.isConst && part.value === 0) continue;
      const prev = adj.get(arg);
      adj.set(arg, prev === undefined ? part : ruleBuilder.add(prev, part));
    }
  }
  return adj;
}

function checkVariable(op: string, wrt: unknown, i?: number): void {
  if (!(wrt instanceof Expr) || !wrt.isVar) {
    const which = i === undefined ? "'wrt'" : `'wrt[${i}]'`;
    const got = wrt instanceof Expr ? `the ${wrt.op} expression ${shortText(wrt)}` : describeValue(wrt);
    throw new ArgumentError(op, `argument ${which} must be a variable, got ${got}`);
  }
}

/** An expression's text for a message, cut to 200 characters. */
function shortText(e: Expr): string {
  const s = e.toString();
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * The derivative of `expr` with respect to the variable `wrt`, as a new expression (0 if `expr` does not
 * depend on it). Call again on the result for second and third derivatives.
 *
 * @throws ArgumentError when `expr` is not an Expr or `wrt` is not a variable node
 */
export function derive(expr: Expr, wrt: Expr): Expr {
  checkExpr('derive', 'expr', expr);
  checkVariable('derive', wrt);
  return adjoints(expr).get(wrt) ?? constantUnchecked(0);
}

/**
 * The gradient of `expr` with respect to each variable in `wrt` (one reverse pass for all of them).
 *
 * @throws ArgumentError when `expr` is not an Expr, `wrt` is not an array or an entry is not a variable node
 */
export function gradient(expr: Expr, wrt: readonly Expr[]): Expr[] {
  checkExpr('gradient', 'expr', expr);
  if (!Array.isArray(wrt)) {
    throw new ArgumentError(
      'gradient',
      `argument 'wrt' must be an array of variables, got ${describeValue(wrt)}`,
    );
  }
  wrt.forEach((w, i) => {
    checkVariable('derive', w, i);
  });
  const adj = adjoints(expr);
  return wrt.map((w) => adj.get(w) ?? constantUnchecked(0));
}

/**
 * Replaces nodes of `expr` by other expressions (typically variables by expressions), rebuilding what
 * depends on them. Replacements are looked up by node identity. Works at any depth.
 *
 * @throws ArgumentError when `expr` is not an Expr, `replacements` is not a Map, or a replacement used is not
 *   an Expr
 */
export function substitute(expr: Expr, replacements: ReadonlyMap<Expr, Expr>): Expr {
  checkExpr('substitute', 'expr', expr);
  if (!(replacements instanceof Map)) {
    throw new ArgumentError(
      'substitute',
      `argument 'replacements' must be a Map from Expr to Expr, got ${describeValue(replacements)}`,
    );
  }
  const memo = new Map<Expr, Expr>();
  for (const node of topoSort([expr])) {
    const direct: unknown = replacements.get(node);
    if (direct !== undefined) {
      if (!(direct instanceof Expr)) {
        throw new ArgumentError(
          'substitute',
          `the replacement of ${shortText(node)} must be an Expr, got ${describeValue(direct)}`,
        );
      }
      memo.set(node, direct);
      continue;
    }
    if (node.args.length === 0) {
      memo.set(node, node);
      continue;
    }
    const args = node.args.map((a) => memo.get(a)!);
    const same = args.every((a, i) => a === node.args[i]);
    memo.set(node, same ? node : ruleBuilder.apply(node.op as PrimitiveName, ...args));
  }
  return memo.get(expr)!;
}
