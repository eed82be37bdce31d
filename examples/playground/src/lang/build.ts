import { Value, whereValue } from '@gradkit/autograd';
import { constant } from '@gradkit/kernels';
import type { BinaryOp, Node } from './ast.js';
import { FactorSyntaxError } from './error.js';
import { callUnary, type UnaryMethod } from './functions.js';

/** The Values a factor's names stand for: the quantities and the parameters. */
export type Scope = Readonly<Record<string, Value>>;

/** A number as a constant `Value` (what `Value` methods make of a number argument). */
export function num(c: number): Value {
  return new Value(constant(c), c, []);
}

/** The `Value` method of each binary operator. */
export const BINARY_METHODS = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '^': 'pow',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
} as const satisfies Record<BinaryOp, keyof Value>;

/**
 * Builds a factor's tree into a `Value` expression over `scope`, by the same `Value` method calls that
 * {@link factorCode} prints: `a op b` is `a.method(b)` (a number on the left becomes a constant Value first),
 * `-a` is `a.neg()`, `f(a)` is `a.f()`, `min(a, b)` is `a.min(b)`, `pow(a, b)` is `a.pow(b)` and
 * `where(c, a, b)` is `whereValue(c, a, b)`. The expression is built from the primitive table's ops only.
 *
 * @throws FactorSyntaxError at a name that `scope` does not hold
 */
export function buildFactor(node: Node, scope: Scope): Value | number {
  switch (node.kind) {
    case 'num':
      return node.value;
    case 'name': {
      if (!Object.hasOwn(scope, node.name)) {
        throw new FactorSyntaxError(node.from, node.to, `unknown name '${node.name}'`);
      }
      return scope[node.name]!;
    }
    case 'neg':
      return asValue(buildFactor(node.arg, scope)).neg();
    case 'binary': {
      const left = asValue(buildFactor(node.left, scope));
      const right = buildFactor(node.right, scope);
      return left[BINARY_METHODS[node.op]](right);
    }
    case 'call': {
      const args = node.args.map((a) => buildFactor(a, scope));
      if (node.fn === 'where') return whereValue(args[0]!, args[1]!, args[2]!);
      if (node.fn === 'min' || node.fn === 'max' || node.fn === 'pow') {
        return asValue(args[0]!)[node.fn](args[1]!);
      }
      return callUnary(node.fn as UnaryMethod, asValue(args[0]!));
    }
  }
}

function asValue(v: Value | number): Value {
  return typeof v === 'number' ? num(v) : v;
}
