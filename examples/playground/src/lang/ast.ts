/**
 * The syntax tree of the factor language: numbers, names (quantities and parameters), unary minus, binary
 * operators and calls of the functions of {@link FUNCTIONS}. Every node keeps the half-open source range
 * `[from, to)` it was parsed from (for error underlines); printing ignores it.
 */

/** The binary operators, from loosest to tightest: comparisons, `+ -`, `* /`, `^` (right-associative). */
export type BinaryOp = '<' | '<=' | '>' | '>=' | '==' | '!=' | '+' | '-' | '*' | '/' | '^';

/** A source range `[from, to)` in characters. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** A non-negative finite number literal (a minus sign is a {@link Neg} node). */
export interface Num extends Span {
  readonly kind: 'num';
  readonly value: number;
}

/** A quantity (`x, y, p, pt, logPt, log1mPt`) or a parameter. */
export interface Name extends Span {
  readonly kind: 'name';
  readonly name: string;
}

/** `-arg`. */
export interface Neg extends Span {
  readonly kind: 'neg';
  readonly arg: Node;
}

/** `left op right`. */
export interface Binary extends Span {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Node;
  readonly right: Node;
}

/** `fn(args…)`; `fn` is a key of {@link FUNCTIONS}. */
export interface Call extends Span {
  readonly kind: 'call';
  readonly fn: string;
  readonly args: readonly Node[];
}

/** A node of the factor language. */
export type Node = Num | Name | Neg | Binary | Call;

/** The quantities a factor may read (those `defineModulatedLoss` offers). */
export const QUANTITIES = ['x', 'y', 'p', 'pt', 'logPt', 'log1mPt'] as const;

/** One of {@link QUANTITIES}. */
export type QuantityName = (typeof QUANTITIES)[number];

/** Whether `name` is a quantity. */
export function isQuantity(name: string): name is QuantityName {
  return (QUANTITIES as readonly string[]).includes(name);
}

/** Whether two trees are the same expression (source ranges are ignored). */
export function sameTree(a: Node, b: Node): boolean {
  switch (a.kind) {
    case 'num':
      return b.kind === 'num' && Object.is(a.value, b.value);
    case 'name':
      return b.kind === 'name' && a.name === b.name;
    case 'neg':
      return b.kind === 'neg' && sameTree(a.arg, b.arg);
    case 'binary':
      return b.kind === 'binary' && a.op === b.op && sameTree(a.left, b.left) && sameTree(a.right, b.right);
    case 'call':
      return (
        b.kind === 'call' &&
        a.fn === b.fn &&
        a.args.length === b.args.length &&
        a.args.every((arg, i) => sameTree(arg, b.args[i]!))
      );
  }
}

/** The names a tree reads that are not quantities (its parameters), in order of first appearance. */
export function parameterNames(node: Node): string[] {
  const out: string[] = [];
  const visit = (n: Node): void => {
    if (n.kind === 'name') {
      if (!isQuantity(n.name) && !out.includes(n.name)) out.push(n.name);
    } else if (n.kind === 'neg') visit(n.arg);
    else if (n.kind === 'binary') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'call') n.args.forEach(visit);
  };
  visit(node);
  return out;
}

/** The quantities a tree reads, in the order of {@link QUANTITIES}. */
export function quantityNames(node: Node): QuantityName[] {
  const seen = new Set<string>();
  const visit = (n: Node): void => {
    if (n.kind === 'name') seen.add(n.name);
    else if (n.kind === 'neg') visit(n.arg);
    else if (n.kind === 'binary') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'call') n.args.forEach(visit);
  };
  visit(node);
  return QUANTITIES.filter((q) => seen.has(q));
}
