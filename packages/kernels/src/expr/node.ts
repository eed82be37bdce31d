import { ArgumentError } from '../errors.js';

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

  /** A readable infix-ish rendering, for messages and debugging. */
  toString(): string {
    return render(this);
  }
}

let nextId = 1;
const table = new Map<string, WeakRef<Expr>>();
// Entries whose node was garbage-collected are swept in bulk once the table has grown by half since the
// last sweep: cheaper than a FinalizationRegistry callback per node, and the table stays proportional to
// the live nodes.
let sweepAt = 1 << 16;

function sweep(): void {
  for (const [key, ref] of table) if (ref.deref() === undefined) table.delete(key);
  sweepAt = Math.max(1 << 16, table.size * 2);
}

/** @internal Returns the interned node for `key`, creating it when absent. */
export function intern(op: string, args: readonly Expr[], value: number, name: string, key: string): Expr {
  const found = table.get(key)?.deref();
  if (found !== undefined) return found;
  const node = new Expr(nextId++, op, args, value, name, key);
  table.set(key, new WeakRef(node));
  if (table.size >= sweepAt) sweep();
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
      `argument 'value' must be a number that is not NaN, got ${String(v)}`,
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
      `argument 'name' must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  return intern('var', [], Number.NaN, name, `v:${name}`);
}

/** Every node reachable from `roots`, each once, arguments before their users. */
export function topoSort(roots: readonly Expr[]): Expr[] {
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

/** The names of the variables an expression depends on, sorted. */
export function freeVariables(roots: Expr | readonly Expr[]): string[] {
  const list = Array.isArray(roots) ? (roots as readonly Expr[]) : [roots as Expr];
  const names = new Set<string>();
  for (const n of topoSort(list)) if (n.isVar) names.add(n.name);
  return [...names].sort();
}

const INFIX: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/' };

function render(e: Expr): string {
  if (e.isConst) return Object.is(e.value, -0) ? '-0' : String(e.value);
  if (e.isVar) return e.name;
  const infix = INFIX[e.op];
  if (infix !== undefined && e.args.length === 2)
    return `(${render(e.args[0]!)} ${infix} ${render(e.args[1]!)})`;
  return `${e.op}(${e.args.map(render).join(', ')})`;
}
