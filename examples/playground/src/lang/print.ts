import type { Node } from './ast.js';

/** Binding strength of a node when printed: comparisons 1, `+ -` 2, `* /` 3, unary minus 4, `^` 5, atoms 6. */
function precedence(n: Node): number {
  if (n.kind === 'neg') return 4;
  if (n.kind !== 'binary') return 6;
  switch (n.op) {
    case '+':
    case '-':
      return 2;
    case '*':
    case '/':
      return 3;
    case '^':
      return 5;
    default:
      return 1;
  }
}

/** Prints `n`, in parentheses when it binds looser than `min`. */
function wrap(n: Node, min: number): string {
  const s = printFactor(n);
  return precedence(n) < min ? `(${s})` : s;
}

/**
 * Prints a tree in the factor language with the fewest parentheses that parse back to the same tree
 * (`parseFactor(printFactor(t))` equals `t` up to source ranges).
 */
export function printFactor(n: Node): string {
  switch (n.kind) {
    case 'num':
      return String(n.value);
    case 'name':
      return n.name;
    case 'neg':
      return `-${wrap(n.arg, 4)}`;
    case 'call':
      return `${n.fn}(${n.args.map(printFactor).join(', ')})`;
    case 'binary': {
      const p = precedence(n);
      // Left-associative levels take an equal level on the left; `^` is right-associative and takes an
      // atom as its base and a unary expression (or another power) as its exponent.
      if (n.op === '^') return `${wrap(n.left, 6)}^${wrap(n.right, 4)}`;
      const left = wrap(n.left, p === 1 ? 2 : p);
      const right = wrap(n.right, p === 1 ? 2 : p === 2 ? 3 : 4);
      return `${left} ${n.op} ${right}`;
    }
  }
}
