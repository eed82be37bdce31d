import { ArgumentError } from '../errors.js';
import { describeValue } from '../util/own.js';

/**
 * One node of the expression IR: a constant, a variable, or a primitive applied to other nodes.
 *
 * Nodes are immutable and hash-consed: building the same primitive over the same arguments twice returns the
 * same object, so common subexpressions are shared automatically (the table is weak, so unused nodes are
 * garbage-collected). Build nodes with {@link constant}, {@link variable} and the builders in `build.ts`.
 */
export class Expr {
  /** Unique id; also orders commutative arguments. */
  readonly id: number;
  /** `'const'`, `'var'`, or the name of a primitive. */
  readonly op: string;
  /** The argument nodes (empty for constants and variables). */
  readonly args: readonly Expr[];
  /** The value of a constant node (NaN for other nodes). */
  readonly value: number;
  /** The name of a variable node (empty for other nodes). */
  readonly name: string;
  /** Structural key used for hash-consing. */
  readonly key: string;

  /** @internal use the builders; the constructor does not intern. */
  constructor(id: number, op: string, args: readonly Expr[], value: number, name: string, key: string) {
    this.id = id;
    this.op = op;
    this.args = args;
    this.value = value;
    this.name = name;
    this.key = key;
  }

  /** True for constant nodes. */
  get isConst(): boolean {
    return this.op === 'const';
  }

  /** True for variable nodes. */
  get isVar(): boolean {
    return this.op === 'var';
  }

  /**
   * A readable infix-ish rendering, for messages and debugging. Shared subexpressions are written out at each
   * use, so the text of a deeply shared graph can be exponentially long: it is cut after about a million
   * characters and ends with `…` then. Deep expressions render without recursion.
   */
  toString(): string {
    return render(this);
  }
}

let nextId = 1;
/**
 * The intern table: structural key → the live node. Entries are removed by a FinalizationRegistry callback
 * when their node is garbage-collected, so the table holds (about) the live nodes only — a program that
 * builds millions of short-lived nodes (a new constant per training step) keeps it flat. A bulk sweep would
 * not do: nodes created during one synchronous job stay reachable (WeakRef keeps its target alive until the
 * job ends), so a sweep inside a long loop finds nothing and the stale entries would stay until a later one.
 */
const table = new Map<string, WeakRef<Expr>>();
const finalizer = new FinalizationRegistry<string>((key) => {
  const ref = table.get(key);
  if (ref !== undefined && ref.deref() === undefined) table.delete(key);
});

/** @internal The number of entries in the intern table (for memory tests). */
export function internTableSize(): number {
  return table.size;
}

/** @internal Returns the interned node for `key`, creating it when absent. */
export function intern(op: string, args: readonly Expr[], value: number, name: string, key: string): Expr {
  const found = table.get(key)?.deref();
  if (found !== undefined) return found;
  const node = new Expr(nextId++, op, args, value, name, key);
  table.set(key, new WeakRef(node));
  finalizer.register(node, key);
  return node;
}

function constKey(v: number): string {
  return Object.is(v, -0) ? 'c:-0' : `c:${v}`;
}

/** @internal A constant node without the NaN check (derivative rules may fold to NaN legitimately). */
export function constantUnchecked(v: number): Expr {
  return intern('const', [], v, '', constKey(v));
}

/**
 * A constant node. NaN is refused: a NaN literal in an expression is almost always a bug, and it would
 * poison every value and derivative built on it.
 *
 * @throws ArgumentError when `v` is NaN or not a number
 */
export function constant(v: number): Expr {
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new ArgumentError(
      'constant',
      `argument 'value' must be a number that is not NaN, got ${describeValue(v)}`,
    );
  }
  return constantUnchecked(v);
}

/**
 * A variable node. Variables are identified by name: `variable('x')` twice is the same node.
 *
 * @throws ArgumentError when `name` is empty
 */
export function variable(name: string): Expr {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError(
      'variable',
      `argument 'name' must be a non-empty string, got ${describeValue(name)}`,
    );
  }
  return intern('var', [], Number.NaN, name, `v:${name}`);
}

/**
 * Checks that `roots` is an array of expression nodes.
 *
 * @internal
 * @throws ArgumentError naming `op` and `arg` otherwise
 */
export function checkExprs(op: string, arg: string, roots: unknown): asserts roots is readonly Expr[] {
  if (!Array.isArray(roots)) {
    throw new ArgumentError(op, `argument '${arg}' must be an array of Expr, got ${describeValue(roots)}`);
  }
  for (let i = 0; i < roots.length; i++) {
    if (!(roots[i] instanceof Expr)) {
      throw new ArgumentError(op, `argument '${arg}[${i}]' must be an Expr, got ${describeValue(roots[i])}`);
    }
  }
}

/**
 * Checks that `e` is an expression node.
 *
 * @internal
 * @throws ArgumentError naming `op` and `arg` otherwise
 */
export function checkExpr(op: string, arg: string, e: unknown): asserts e is Expr {
  if (!(e instanceof Expr)) {
    throw new ArgumentError(op, `argument '${arg}' must be an Expr, got ${describeValue(e)}`);
  }
}

/**
 * Every node reachable from `roots`, each once, arguments before their users (iterative: any depth).
 *
 * @throws ArgumentError when `roots` is not an array of Expr
 */
export function topoSort(roots: readonly Expr[]): Expr[] {
  checkExprs('topoSort', 'roots', roots);
  const order: Expr[] = [];
  const seen = new Set<Expr>();
  const stack: Array<[Expr, number]> = [];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    stack.push([root, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.args.length) {
        top[1] = i + 1;
        const child = node.args[i]!;
        if (!seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order;
}

/**
 * The names of the variables an expression depends on, sorted.
 *
 * @throws ArgumentError when `roots` is not an Expr or an array of Expr
 */
export function freeVariables(roots: Expr | readonly Expr[]): string[] {
  const list = Array.isArray(roots) ? (roots as readonly Expr[]) : [roots as Expr];
  checkExprs('freeVariables', 'roots', list);
  const names = new Set<string>();
  for (const n of topoSort(list)) if (n.isVar) names.add(n.name);
  return [...names].sort();
}

const INFIX: Readonly<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** About how many characters {@link Expr.toString} writes before it cuts the text with `…`. */
const RENDER_LIMIT = 1_000_000;

/** Renders without recursion (a work stack of nodes and text pieces), cut after {@link RENDER_LIMIT}. */
function render(root: Expr): string {
  const parts: string[] = [];
  let length = 0;
  const stack: Array<Expr | string> = [root];
  while (stack.length > 0) {
    if (length > RENDER_LIMIT) {
      parts.push('…');
      break;
    }
    const item = stack.pop()!;
    if (typeof item === 'string') {
      parts.push(item);
      length += item.length;
    } else if (item.isConst) {
      stack.push(Object.is(item.value, -0) ? '-0' : String(item.value));
    } else if (item.isVar) {
      stack.push(item.name);
    } else {
      const infix = Object.hasOwn(INFIX, item.op) ? INFIX[item.op] : undefined;
      const args = item.args;
      if (infix !== undefined && args.length === 2) {
        stack.push(')', args[1]!, ` ${infix} `, args[0]!, '(');
      } else {
        stack.push(')');
        for (let k = args.length - 1; k >= 0; k--) {
          stack.push(args[k]!);
          if (k > 0) stack.push(', ');
        }
        stack.push(`${item.op}(`);
      }
    }
  }
  return parts.join('');
}
