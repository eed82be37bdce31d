import { ArgumentError } from '../errors.js';
import { checkExpr, type Expr, freeVariables } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import { checkOptionKeys, describeValue, ownValue } from '../util/own.js';
import {
  boundKernel,
  buildKernel,
  checkVariables,
  type Lowered,
  lower,
  namesKey,
  paramCode,
  paramPrologue,
} from './lowering.js';
import { fusedStraightLine } from './schedule.js';

/** A number array that elementwise kernels read and write. */
export type NumericArray = Float64Array | Float32Array;

/** An expression compiled to a plain JavaScript function of named inputs. */
export interface CompiledExpression {
  /** Evaluates the expression; `inputs` maps each variable name to its value. */
  (inputs: Readonly<Record<string, number>>): number;
  /** The same function with positional arguments, in the order of {@link CompiledExpression.variables}. */
  readonly positional: (...args: number[]) => number;
  /** The variable names, in positional order. */
  readonly variables: readonly string[];
  /**
   * The generated JavaScript source: a function of the parameter array `P` (the expression's constants, in
   * the locals `p0, p1, …`) returning the positional function.
   */
  readonly source: string;
}

const ident = (i: number) => `v${i}`;

/**
 * The position of each variable name, after checking that `variables` is an array of distinct non-empty
 * names and that every variable the expressions use is listed.
 *
 * @throws ArgumentError naming `op` and the offending name
 */
export function indexVariables(
  op: string,
  outputs: readonly Expr[],
  variables: readonly string[],
): Map<string, number> {
  checkVariables(op, variables);
  const index = new Map(variables.map((v, i) => [v, i] as const));
  for (const name of freeVariables(outputs)) {
    if (!index.has(name)) {
      throw new ArgumentError(op, `variable '${name}' appears in the expression but not in 'variables'`);
    }
  }
  return index;
}

/**
 * Checks one input kind per variable.
 *
 * @internal
 * @throws ArgumentError naming `op` otherwise
 */
export function checkKinds(
  op: string,
  kinds: unknown,
  variables: readonly string[],
): asserts kinds is readonly InputKind[] {
  if (!Array.isArray(kinds)) {
    throw new ArgumentError(
      op,
      `argument 'kinds' must be an array of 'array' | 'scalar', got ${describeValue(kinds)}`,
    );
  }
  if (kinds.length !== variables.length) {
    throw new ArgumentError(
      op,
      `argument 'kinds' has ${kinds.length} entries but 'variables' has ${variables.length}; ` +
        'give one kind per variable',
    );
  }
  for (let i = 0; i < kinds.length; i++) {
    const k: unknown = kinds[i];
    if (k !== 'array' && k !== 'scalar') {
      throw new ArgumentError(
        op,
        `argument 'kinds[${i}]' must be 'array' or 'scalar', got ${describeValue(k)}`,
      );
    }
  }
}

/** Generic compiled expressions (constants as parameters), by structure and variables. */
const COMPILE_CAPACITY = 256;
const compileCache = new LruCache<string, (P: Float64Array) => (...args: number[]) => number>(
  COMPILE_CAPACITY,
);

/**
 * Compiles an expression to a JavaScript function `(inputs) => number`. The generated code calls the same
 * numeric definitions as {@link evaluate}, so results are bit-for-bit identical to the interpreter's.
 * Numeric literals are parameters of the generated code (see `source`), so expressions that differ only in
 * their constants share one compilation. The named form reads `inputs` by own properties only.
 *
 * @param options.variables - positional order of the variables (default: the free variables, sorted)
 * @throws ArgumentError when `expr` is not an Expr, an option is unknown, `variables` is not a list of
 *   distinct names, or the expression uses a variable that is not listed
 * @throws CompileError when the expression is too large for the JavaScript engine
 */
export function compile(expr: Expr, options: { variables?: readonly string[] } = {}): CompiledExpression {
  checkExpr('compile', 'expr', expr);
  checkOptionKeys('compile', 'options', options, ['variables']);
  const given = ownValue(options, 'variables');
  if (given !== undefined) checkVariables('compile', given);
  const variables = given === undefined ? freeVariables(expr) : [...given];
  const index = indexVariables('compile', [expr], variables);
  const lowered = lower('compile', [expr]);
  const key = `${lowered.key}\u0000${namesKey(variables)}`;
  let factory = compileCache.get(key);
  const body = fusedStraightLine([expr], (name) => ident(index.get(name)!), paramCode(lowered));
  const params = variables.map((_, i) => ident(i)).join(', ');
  const source = [
    'return function bind(P) {',
    ...paramPrologue(lowered, '  ', body.scratch),
    `  return function compiled(${params}) {`,
    ...body.statements.map((s) => `    ${s}`),
    `    return ${body.results[0]};`,
    '  };',
    '};',
  ].join('\n');
  if (factory === undefined) {
    factory = buildKernel<(P: Float64Array) => (...args: number[]) => number>('compile', source);
    compileCache.set(key, factory);
  }
  const positional = factory(lowered.params);
  const named = (inputs: Readonly<Record<string, number>>): number => {
    if (inputs === null || typeof inputs !== 'object') {
      throw new ArgumentError(
        'compiled expression',
        `argument 'inputs' must be an object, got ${describeValue(inputs)}`,
      );
    }
    const args = new Array<number>(variables.length);
    for (let i = 0; i < variables.length; i++) {
      const v = ownValue(inputs, variables[i]!);
      if (typeof v !== 'number') {
        throw new ArgumentError(
          'compiled expression',
          `input '${variables[i]}' is missing or not a number (got ${describeValue(v)})`,
        );
      }
      args[i] = v;
    }
    return positional(...args);
  };
  return Object.assign(named, { positional, variables: Object.freeze(variables), source });
}

/** How an elementwise kernel reads one input: element `i` of an array, or one scalar for every element. */
export type InputKind = 'array' | 'scalar';

/** An elementwise loop over typed arrays: writes `outputs[k][i]` for `i` in `[0, n)`. */
export type ElementwiseKernel = (
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: readonly NumericArray[],
  n: number,
) => void;

type GenericElementwise = (
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: readonly NumericArray[],
  n: number,
  P: Float64Array,
) => void;

/**
 * Generic elementwise kernels (constants as parameters), by structure, variables and kinds. Capacity: 512
 * structures — a model's distinct elementwise ops and their backward passes, with room to spare.
 */
const ELEMENTWISE_CAPACITY = 512;
const kernelCache = new LruCache<string, GenericElementwise>(ELEMENTWISE_CAPACITY);

/**
 * Compiles several expressions into ONE loop over typed arrays (fusion): each iteration reads element `i`
 * of every array input (or the scalar), computes all outputs sharing their common subexpressions, and
 * stores them. Kernels are cached by expression *structure*, variables and input kinds: numeric literals
 * are kernel parameters, so expressions that differ only in their constants share one compiled loop (the
 * returned function is that loop bound to this expression's constants).
 *
 * @param variables - the variable names, in the order of the kernel's `inputs`
 * @param kinds - for each variable, whether it is read per element or as one scalar
 * @throws ArgumentError when `outputs` is not an array of Expr, `variables` is not a list of distinct names,
 *   `kinds` does not give one valid kind per variable, or a variable is not listed
 * @throws CompileError when the expressions are too large for the JavaScript engine
 */
export function compileElementwise(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
): ElementwiseKernel {
  const op = 'compileElementwise';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  checkKinds(op, kinds, variables);
  const variant = `elementwise\u0000${namesKey(variables)}\u0000${kinds.join(',')}`;
  return boundKernel(lowered, variant, () => {
    const key = `${lowered.key}\u0000${variant}`;
    let generic = kernelCache.get(key);
    if (generic === undefined) {
      generic = generateElementwise(op, lowered, variables, kinds);
      kernelCache.set(key, generic);
    }
    const kernel = generic;
    const P = lowered.params;
    return (ins, outs, n) => kernel(ins, outs, n, P);
  });
}

function generateElementwise(
  op: string,
  lowered: Lowered,
  variables: readonly string[],
  kinds: readonly InputKind[],
): GenericElementwise {
  const outputs = lowered.outputs;
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => ident(index.get(name)!), paramCode(lowered));
  const lines: string[] = [...paramPrologue(lowered, '', body.scratch)];
  variables.forEach((_, i) => {
    lines.push(kinds[i] === 'scalar' ? `const ${ident(i)} = +ins[${i}];` : `const a${i} = ins[${i}];`);
  });
  for (let k = 0; k < outputs.length; k++) lines.push(`const o${k} = outs[${k}];`);
  const loads = variables
    .map((_, i) => (kinds[i] === 'array' ? `const ${ident(i)} = a${i}[i];` : ''))
    .filter((s) => s !== '');
  const stores = body.results.map((r, k) => `o${k}[i] = ${r};`);
  const source = `return function elementwise(ins, outs, n, P) {\n  ${lines.join('\n  ')}\n  for (let i = 0; i < n; i++) {\n    ${[...loads, ...body.statements, ...stores].join('\n    ')}\n  }\n};`;
  return buildKernel<GenericElementwise>(op, source);
}

/** A column of {@link evaluateBatch}: one number, a plain array of numbers, or a float typed array. */
function column(name: string, col: unknown): NumericArray | number {
  if (typeof col === 'number') return col;
  if (col instanceof Float64Array || col instanceof Float32Array) return col;
  if (Array.isArray(col) || (ArrayBuffer.isView(col) && !(col instanceof DataView))) {
    const values = col as ArrayLike<unknown>;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number') {
        throw new ArgumentError(
          'evaluateBatch',
          `variable '${name}': element ${i} must be a number, got ${describeValue(v)}`,
        );
      }
      out[i] = v;
    }
    return out;
  }
  throw new ArgumentError(
    'evaluateBatch',
    `variable '${name}' must be bound to a number or an array of numbers, got ${describeValue(col)}`,
  );
}

/**
 * Evaluates an expression for many inputs at once through a compiled, fused loop. Each variable is bound to
 * an array (all of the same length) or a single number; `columns` is read by own properties only.
 *
 * @throws ArgumentError when arrays differ in length or a variable has no binding
 */
export function evaluateBatch(
  expr: Expr,
  columns: Readonly<Record<string, ArrayLike<number> | number>>,
): Float64Array {
  checkExpr('evaluateBatch', 'expr', expr);
  if (columns === null || typeof columns !== 'object') {
    throw new ArgumentError(
      'evaluateBatch',
      `argument 'columns' must be an object, got ${describeValue(columns)}`,
    );
  }
  const variables = freeVariables(expr);
  let n = -1;
  const inputs: Array<NumericArray | number> = [];
  const kinds: InputKind[] = [];
  for (const name of variables) {
    const raw = ownValue(columns, name);
    if (raw === undefined) {
      throw new ArgumentError('evaluateBatch', `variable '${name}' has no binding`);
    }
    const col = column(name, raw);
    if (typeof col === 'number') {
      inputs.push(col);
      kinds.push('scalar');
      continue;
    }
    if (n >= 0 && col.length !== n) {
      throw new ArgumentError(
        'evaluateBatch',
        `variable '${name}' has ${col.length} values, others have ${n}`,
      );
    }
    n = col.length;
    inputs.push(col);
    kinds.push('array');
  }
  if (n < 0) n = 1;
  const out = new Float64Array(n);
  compileElementwise([expr], variables, kinds)(inputs, [out], n);
  return out;
}
