import { ArgumentError } from '../errors.js';
import type { Expr } from './node.js';
import { topoSort } from './node.js';
import { PRIMITIVES, type PrimitiveName } from './primitives.js';

/** Variable bindings: a record or map from variable name to number. */
export type Bindings = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

function lookup(bindings: Bindings, name: string): number | undefined {
  return bindings instanceof Map ? bindings.get(name) : (bindings as Record<string, number>)[name];
}

/**
 * Interprets several expressions at once for one set of variable values, evaluating shared nodes once.
 *
 * @throws ArgumentError when a variable has no binding or its binding is not a number
 */
export function evaluateAll(
  outputs: readonly Expr[],
  bindings: Bindings,
  cache = new Map<Expr, number>(),
): number[] {
  for (const node of topoSort(outputs)) {
    if (cache.has(node)) continue;
    let v: number;
    if (node.isConst) v = node.value;
    else if (node.isVar) {
      const b = lookup(bindings, node.name);
      if (typeof b !== 'number') {
        throw new ArgumentError(
          'evaluate',
          `variable '${node.name}' has no numeric binding (got ${String(b)})`,
        );
      }
      v = b;
    } else {
      const prim = PRIMITIVES[node.op as PrimitiveName];
      const a = node.args;
      v =
        a.length === 1
          ? prim.evaluate(cache.get(a[0]!)!)
          : a.length === 2
            ? prim.evaluate(cache.get(a[0]!)!, cache.get(a[1]!)!)
            : prim.evaluate(cache.get(a[0]!)!, cache.get(a[1]!)!, cache.get(a[2]!)!);
    }
    cache.set(node, v);
  }
  return outputs.map((o) => cache.get(o)!);
}

/**
 * Interprets `expr` for one set of variable values.
 *
 * @throws ArgumentError when a variable has no binding
 */
export function evaluate(expr: Expr, bindings: Bindings): number {
  return evaluateAll([expr], bindings)[0]!;
}
