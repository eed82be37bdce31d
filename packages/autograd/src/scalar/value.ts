import {
  ArgumentError,
  adjoints,
  apply,
  constant,
  describeValue,
  type Expr,
  evaluateAll,
  PRIMITIVES,
  type PrimitiveName,
  StateError,
  variable,
} from '@gradkit/kernels';

/** A {@link Value} or a plain number (a constant). */
export type ValueLike = Value | number;

let leafCounter = 0;

/**
 * The prefix of the variable names of {@link value} leaves (`%1`, `%2:w`). {@link symbol} refuses names
 * that start with it, so a symbol can never alias (and silently share the number and gradient of) a leaf.
 */
const LEAF_PREFIX = '%';

/**
 * @internal The prefix of the variables that stand for the inputs of fused tensor functions (`%x0`, `%x1`, …;
 * `fuse`, `fuseInPlace`, elementwise specs). It starts with {@link LEAF_PREFIX}, which {@link symbol} refuses,
 * so a user's own `symbol('x0')` captured by a fused function stays a free symbol (an error) instead of
 * silently becoming input 0.
 */
export const INPUT_PREFIX = `${LEAF_PREFIX}x`;

/** @internal `n` symbolic Values standing for the inputs of a fused function (labelled `x0`, `x1`, …). */
export function tracedInputs(n: number): Value[] {
  return Array.from(
    { length: n },
    (_, i) => new Value(variable(`${INPUT_PREFIX}${i}`), undefined, [], `x${i}`),
  );
}

/**
 * A scalar in the micrograd style: every operation records an expression node of the primitive table, so
 * the same graph serves numeric backpropagation ({@link Value.backward}) and symbolic work
 * ({@link valueGrad}, `derive`, `compile`).
 *
 * A Value is either a *leaf* made with {@link value} (a number you can train), a *symbolic variable* made
 * with {@link symbol} (no number: everything computed from it is a pure expression), or the result of an
 * operation. Results know their number eagerly when all their leaves have one.
 *
 * A Value is not a number to JavaScript: `+v`, `v * 2`, `v > 0.5 ? a : b`, `Math.max(v, 0)` would read a
 * number and drop it from the graph (and a symbolic Value, as traced by `fuse` or `defineModulatedLoss`,
 * has no number at all), so they throw a StateError — use the methods (`v.mul(2)`, `v.gt(0.5)`) and
 * {@link whereValue} for data-dependent choices, as JAX refuses to concretize a tracer; read the number
 * explicitly with `v.item()` or `v.data`. Template strings (`${v}`) print a concrete Value and throw for
 * a symbolic one. (`if (v)` cannot be intercepted by JavaScript: an object is always truthy — write
 * `whereValue(v, a, b)` or `if (v.item())`.)
 */
export class Value {
  /** The expression this value stands for. */
  readonly expr: Expr;
  /** The values this one was computed from (empty for leaves and symbols). */
  readonly parents: readonly Value[];
  /** Accumulated gradient, filled by {@link Value.backward}. */
  grad = 0;
  /** Optional label for printing. */
  label: string;
  #data: number | undefined;

  /** @internal use {@link value}, {@link symbol} or the operations. */
  constructor(expr: Expr, data: number | undefined, parents: readonly Value[], label = '') {
    this.expr = expr;
    this.#data = data;
    this.parents = parents;
    this.label = label;
  }

  /**
   * The number this value holds, or `undefined` for a symbolic value. Setting it is allowed on leaves only
   * (that is how optimizers update parameters); results computed earlier keep their old number.
   */
  get data(): number | undefined {
    return this.#data;
  }

  /** Sets the number of a leaf (a StateError on the result of an operation). */
  set data(v: number | undefined) {
    if (this.parents.length > 0 || !this.expr.isVar) {
      throw new StateError(
        'Value.data',
        'only a leaf value can be assigned; this value is the result of an operation',
      );
    }
    if (v !== undefined && typeof v !== 'number') {
      throw new ArgumentError('Value.data', `must be a number (or undefined), got ${describeValue(v)}`);
    }
    this.#data = v;
  }

  /** True for values made by {@link value} or {@link symbol}. */
  get isLeaf(): boolean {
    return this.parents.length === 0 && this.expr.isVar;
  }

  /** The number, or an error for symbolic values. */
  item(): number {
    if (this.#data === undefined) {
      throw new StateError('Value.item', `value ${this.expr.toString()} is symbolic: it has no number`);
    }
    return this.#data;
  }

  /**
   * Refuses implicit conversion to a number (see the class documentation); a concrete Value converts to its
   * description for strings.
   *
   * @throws StateError for number conversions, and for any conversion of a symbolic Value
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === 'string' && this.#data !== undefined) return this.toString();
    throw this.#primitiveError(hint === 'string' ? 'a string' : 'a number');
  }

  /**
   * Refuses implicit conversion to a number (see the class documentation).
   *
   * @throws StateError always; use `item()` or `data` for the number
   */
  valueOf(): never {
    throw this.#primitiveError('a number');
  }

  #primitiveError(to: string): StateError {
    const what =
      this.#data === undefined
        ? `the symbolic Value ${this.expr.toString()} (traced by symbol(), fuse or defineModulatedLoss) has no number`
        : 'a Value used as a number would be dropped from the graph';
    return new StateError(
      'Value',
      `cannot convert a Value to ${to}: ${what}. In a condition, comparison or arithmetic (\`v > 0.5 ? a : b\`, ` +
        `\`+v\`, \`v * 2\`) use the methods — v.gt(0.5), v.mul(2) — and whereValue(cond, a, b) for ` +
        'data-dependent choices; read a concrete number explicitly with v.item() or v.data',
    );
  }

  /** this + other */ add(other: ValueLike): Value {
    return op('add', this, other);
  }
  /** this - other */ sub(other: ValueLike): Value {
    return op('sub', this, other);
  }
  /** this * other */ mul(other: ValueLike): Value {
    return op('mul', this, other);
  }
  /** this / other */ div(other: ValueLike): Value {
    return op('div', this, other);
  }
  /** this ** exponent (a number, or a Value for a variable exponent) */ pow(exponent: ValueLike): Value {
    return op('pow', this, exponent);
  }
  /** -this */ neg(): Value {
    return op('neg', this);
  }
  /** e^this */ exp(): Value {
    return op('exp', this);
  }
  /** natural log */ log(): Value {
    return op('log', this);
  }
  /** log(1 + this) */ log1p(): Value {
    return op('log1p', this);
  }
  /** e^this - 1 */ expm1(): Value {
    return op('expm1', this);
  }
  /** square root */ sqrt(): Value {
    return op('sqrt', this);
  }
  /** |this| */ abs(): Value {
    return op('abs', this);
  }
  /** sign(this) */ sign(): Value {
    return op('sign', this);
  }
  /** min(this, other) */ min(other: ValueLike): Value {
    return op('min', this, other);
  }
  /** max(this, other) */ max(other: ValueLike): Value {
    return op('max', this, other);
  }
  /** 1 if this < other else 0 */ lt(other: ValueLike): Value {
    return op('lt', this, other);
  }
  /** 1 if this <= other else 0 */ le(other: ValueLike): Value {
    return op('le', this, other);
  }
  /** 1 if this > other else 0 */ gt(other: ValueLike): Value {
    return op('gt', this, other);
  }
  /** 1 if this >= other else 0 */ ge(other: ValueLike): Value {
    return op('ge', this, other);
  }
  /** 1 if this == other else 0 */ eq(other: ValueLike): Value {
    return op('eq', this, other);
  }
  /** 1 if this != other else 0 */ ne(other: ValueLike): Value {
    return op('ne', this, other);
  }
  /** logistic sigmoid (stable) */ sigmoid(): Value {
    return op('sigmoid', this);
  }
  /** log(1 + e^this) (stable) */ softplus(): Value {
    return op('softplus', this);
  }
  /** log(sigmoid(this)) (stable) */ logSigmoid(): Value {
    return op('logSigmoid', this);
  }
  /** hyperbolic tangent */ tanh(): Value {
    return op('tanh', this);
  }
  /** the error function erf(this) */ erf(): Value {
    return op('erf', this);
  }
  /** max(this, 0) */ relu(): Value {
    return op('relu', this);
  }
  /** the same number with no gradient flowing back (stop_gradient) */ detach(): Value {
    return op('detach', this);
  }

  /**
   * Backpropagates from this value: adds d(this)/d(v) to `v.grad` for every value `v` it was computed from
   * (and sets this value's own gradient contribution to 1). Like PyTorch, gradients ACCUMULATE: calling
   * `backward()` twice adds the gradient twice; call {@link Value.zeroGrad} (or zero the parameters) in between.
   * The derivative rules are those of the primitive table, evaluated numerically.
   * Expressions are shared: two Values that compute the same expression from the same leaves are one node of
   * the graph, and each reports that node's whole gradient (leaf gradients are unaffected).
   *
   * @throws StateError when the value is symbolic (has no number)
   */
  backward(): void {
    if (this.#data === undefined) {
      throw new StateError('Value.backward', `value ${this.expr.toString()} is symbolic: bind numbers first`);
    }
    const nodes = collect(this);
    const adj = adjoints(this.expr);
    const bindings = new Map<string, number>();
    for (const v of nodes) if (v.isLeaf) bindings.set(v.expr.name, v.#data!);
    const targets: Value[] = [];
    const exprs: Expr[] = [];
    for (const v of nodes) {
      const a = adj.get(v.expr);
      if (a !== undefined) {
        targets.push(v);
        exprs.push(a);
      }
    }
    // The forward numbers are already known: seed the interpreter's cache with them (as autograd saves them).
    const cache = new Map<Expr, number>();
    for (const v of nodes) if (v.#data !== undefined) cache.set(v.expr, v.#data);
    const grads = evaluateAll(exprs, bindings, cache);
    // A node shared by several Values (hash-consing) gets its full adjoint once, on each of those Values.
    targets.forEach((v, i) => {
      v.grad += grads[i]!;
    });
  }

  /** Sets `grad` to 0 on this value and every value it was computed from. */
  zeroGrad(): void {
    for (const v of collect(this)) v.grad = 0;
  }

  /** A short description: data, grad and the expression. */
  toString(): string {
    const d = this.#data === undefined ? 'symbolic' : String(this.#data);
    return `Value(${this.label ? `${this.label}, ` : ''}data=${d}, grad=${this.grad}, expr=${this.expr.toString()})`;
  }
}

function toValue(x: ValueLike, opName: string): Value {
  if (x instanceof Value) return x;
  if (typeof x !== 'number') {
    throw new ArgumentError(opName, `argument must be a Value or a number, got ${typeof x}`);
  }
  return new Value(constant(x), x, []);
}

function op(name: PrimitiveName, ...args: ValueLike[]): Value {
  const vals = args.map((a) => toValue(a, name));
  const expr = apply(name, ...vals.map((v) => v.expr));
  let data: number | undefined;
  if (vals.every((v) => v.data !== undefined)) {
    const nums = vals.map((v) => v.data!);
    data = PRIMITIVES[name].evaluate(...nums);
  }
  return new Value(
    expr,
    data,
    vals.filter((v) => !v.expr.isConst || v.parents.length > 0),
  );
}

/** Every Value reachable from `root` through `parents`, each once. */
function collect(root: Value): Value[] {
  const out: Value[] = [];
  const seen = new Set<Value>();
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    out.push(v);
    for (const p of v.parents) stack.push(p);
  }
  return out;
}

/**
 * A trainable scalar leaf holding `data`.
 *
 * @param label - optional name shown when printing
 * @throws ArgumentError when `data` is not a number
 */
export function value(data: number, label = ''): Value {
  if (typeof data !== 'number')
    throw new ArgumentError('value', `argument 'data' must be a number, got ${typeof data}`);
  if (typeof label !== 'string')
    throw new ArgumentError('value', `argument 'label' must be a string, got ${describeValue(label)}`);
  return new Value(variable(`${LEAF_PREFIX}${++leafCounter}${label ? `:${label}` : ''}`), data, [], label);
}

/**
 * A symbolic scalar variable named `name`, with no number: operations on it build an expression
 * (`.expr`) that can be derived, evaluated for many inputs and compiled. Two symbols of the same name are
 * the same variable. Names starting with `%` are reserved for {@link value} leaves, so a symbol never
 * aliases a leaf.
 *
 * @throws ArgumentError when `name` is not a non-empty string, or starts with `%`
 */
export function symbol(name: string): Value {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError(
      'symbol',
      `argument 'name' must be a non-empty string, got ${describeValue(name)}`,
    );
  }
  if (name.startsWith(LEAF_PREFIX)) {
    throw new ArgumentError(
      'symbol',
      `name ${JSON.stringify(name)} starts with '${LEAF_PREFIX}', which is reserved for the leaves made by value()`,
    );
  }
  return new Value(variable(name), undefined, [], name);
}

/** where(cond, a, b) on Values: a where cond != 0, else b; no gradient flows to `cond`. */
export function whereValue(cond: ValueLike, a: ValueLike, b: ValueLike): Value {
  return op('where', cond, a, b);
}

/**
 * Gradients of `output` with respect to `inputs`, as new Values that are themselves differentiable
 * (the equivalent of `torch.autograd.grad(..., create_graph=True)`): call `backward()` on one of them,
 * or `valueGrad` again, for second and third derivatives.
 */
export function valueGrad(output: Value, inputs: readonly Value[]): Value[] {
  if (!(output instanceof Value)) {
    throw new ArgumentError('valueGrad', `argument 'output' must be a Value, got ${describeValue(output)}`);
  }
  if (!Array.isArray(inputs)) {
    throw new ArgumentError(
      'valueGrad',
      `argument 'inputs' must be a list of Values, got ${describeValue(inputs)}`,
    );
  }
  const adj = adjoints(output.expr);
  const nodes = collect(output);
  const bindings = new Map<string, number>();
  let numeric = true;
  for (const v of nodes) {
    if (v.isLeaf) {
      if (v.data === undefined) numeric = false;
      else bindings.set(v.expr.name, v.data);
    }
  }
  const leaves = nodes.filter((v) => v.isLeaf);
  return inputs.map((inp, i) => {
    if (!(inp instanceof Value))
      throw new ArgumentError('valueGrad', `argument 'inputs[${i}]' is not a Value`);
    const g = adj.get(inp.expr) ?? constant(0);
    const data = numeric ? evaluateAll([g], bindings)[0] : undefined;
    return new Value(g, data, leaves);
  });
}
