import { ArgumentError } from '../errors.js';
import { describeValue, ownValue } from '../util/own.js';
import { checkExpr, checkExprs, type Expr, topoSort } from './node.js';
import { PRIMITIVES, type PrimitiveName } from './primitives.js';

/**
 * Variable bindings: a record or map from variable name to number. A record is read by its own properties
 * only, so a name inherited from a prototype (a polluted `Object.prototype`, `constructor`) is not a binding.
 */
export type Bindings = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

function lookup(bindings: Bindings, name: string): unknown {
  return bindings instanceof Map ? bindings.get(name) : ownValue(bindings, name);
}

function checkBindings(op: string, bindings: unknown): asserts bindings is Bindings {
  if (bindings === null || typeof bindings !== 'object') {
    throw new ArgumentError(
      op,
      `argument 'bindings' must be an object or a Map from variable name to number, got ${describeValue(bindings)}`,
    );
  }
}

/**
 * Interprets several expressions at once for one set of variable values, evaluating shared nodes once.
 * Works at any depth (no recursion).
 *
 * @param cache - values already known (node → value); filled with every node evaluated
 * @throws ArgumentError when `outputs` is not an array of Expr, `cache` is not a Map, or a variable has no
 *   numeric binding
 */
export function evaluateAll(
  outputs: readonly Expr[],
  bindings: Bindings,
  cache = new Map<Expr, number>(),
): number[] {
  checkExprs('evaluate', 'outputs', outputs);
  checkBindings('evaluate', bindings);
  if (!(cache instanceof Map)) {
    throw new ArgumentError('evaluate', `argument 'cache' must be a Map, got ${describeValue(cache)}`);
  }
  for (const node of topoSort(outputs)) {
    if (cache.has(node)) continue;
    let v: number;
    if (node.isConst) v = node.value;
    else if (node.isVar) {
      const b = lookup(bindings, node.name);
      if (typeof b !== 'number') {
        throw new ArgumentError(
          'evaluate',
          `variable '${node.name}' has no numeric binding (got ${describeValue(b)})`,
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
 * Interprets `expr` for one set of variable values. Works at any depth (no recursion).
 *
 * @throws ArgumentError when `expr` is not an Expr or a variable has no numeric binding
 */
export function evaluate(expr: Expr, bindings: Bindings): number {
  checkExpr('evaluate', 'expr', expr);
  return evaluateAll([expr], bindings)[0]!;
}
