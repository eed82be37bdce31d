import { ArgumentError } from '../errors.js';
import { type Expr, freeVariables } from '../expr/node.js';
import { type Runtime, runtime } from '../runtime.js';
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
  /** The generated JavaScript source of the positional function. */
  readonly source: string;
}

const ident = (i: number) => `v${i}`;

/**
 * The position of each variable name, after checking that every variable the expressions use is listed.
 *
 * @throws ArgumentError naming `op` and the first unlisted variable
 */
export function indexVariables(
  op: string,
  outputs: readonly Expr[],
  variables: readonly string[],
): Map<string, number> {
  const index = new Map(variables.map((v, i) => [v, i] as const));
  for (const name of freeVariables(outputs)) {
    if (!index.has(name)) {
      throw new ArgumentError(op, `variable '${name}' appears in the expression but not in 'variables'`);
    }
  }
  return index;
}

function build<T>(source: string): T {
  return new Function('R', source)(runtime satisfies Runtime) as T;
}

/**
 * Compiles an expression to a JavaScript function `(inputs) => number`. The generated code calls the same
 * numeric definitions as {@link evaluate}, so results are bit-for-bit identical to the interpreter's.
 *
 * @param options.variables - positional order of the variables (default: the free variables, sorted)
 * @throws ArgumentError when the expression uses a variable that is not listed
 */
export function compile(expr: Expr, options: { variables?: readonly string[] } = {}): CompiledExpression {
  const variables = options.variables ?? freeVariables(expr);
  const index = indexVariables('compile', [expr], variables);
  const body = fusedStraightLine([expr], (name) => ident(index.get(name)!));
  const params = variables.map((_, i) => ident(i)).join(', ');
  const source = `return function compiled(${params}) {\n  ${body.statements.join('\n  ')}\n  return ${body.results[0]};\n};`;
  const positional = build<(...args: number[]) => number>(source);
  const named = (inputs: Readonly<Record<string, number>>): number => {
    const args = new Array<number>(variables.length);
    for (let i = 0; i < variables.length; i++) {
      const v = inputs[variables[i]!];
      if (typeof v !== 'number') {
        throw new ArgumentError('compiled expression', `input '${variables[i]}' is missing or not a number`);
      }
      args[i] = v;
    }
    return positional(...args);
  };
  return Object.assign(named, { positional, variables, source });
}

/** How an elementwise kernel reads one input: element `i` of an array, or one scalar for every element. */
export type InputKind = 'array' | 'scalar';

/** An elementwise loop over typed arrays: writes `outputs[k][i]` for `i` in `[0, n)`. */
export type ElementwiseKernel = (
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: readonly NumericArray[],
  n: number,
) => void;

const kernelCache = new Map<string, ElementwiseKernel>();
const KERNEL_CACHE_LIMIT = 1024;

/**
 * Compiles several expressions into ONE loop over typed arrays (fusion): each iteration reads element `i`
 * of every array input (or the scalar), computes all outputs sharing their common subexpressions, and
 * stores them. Kernels are cached by expression and input kinds.
 *
 * @param variables - the variable names, in the order of the kernel's `inputs`
 * @param kinds - for each variable, whether it is read per element or as one scalar
 * @throws ArgumentError when `kinds` does not give one valid kind per variable, or a variable is not listed
 */
export function compileElementwise(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
): ElementwiseKernel {
  if (kinds.length !== variables.length) {
    throw new ArgumentError(
      'compileElementwise',
      `argument 'kinds' has ${kinds.length} entries but 'variables' has ${variables.length}; ` +
        'give one kind per variable',
    );
  }
  kinds.forEach((k, i) => {
    if (k !== 'array' && k !== 'scalar') {
      const what = `argument 'kinds[${i}]' must be 'array' or 'scalar', got ${String(k)}`;
      throw new ArgumentError('compileElementwise', what);
    }
  });
  const key = `${outputs.map((o) => o.id).join(',')}|${variables.join(',')}|${kinds.join(',')}`;
  const hit = kernelCache.get(key);
  if (hit !== undefined) return hit;
  const index = indexVariables('compileElementwise', outputs, variables);
  const body = fusedStraightLine(outputs, (name) => ident(index.get(name)!));
  const lines: string[] = [];
  variables.forEach((_, i) => {
    lines.push(kinds[i] === 'scalar' ? `const ${ident(i)} = +ins[${i}];` : `const a${i} = ins[${i}];`);
  });
  for (let k = 0; k < outputs.length; k++) lines.push(`const o${k} = outs[${k}];`);
  const loads = variables
    .map((_, i) => (kinds[i] === 'array' ? `const ${ident(i)} = a${i}[i];` : ''))
    .filter((s) => s !== '');
  const stores = body.results.map((r, k) => `o${k}[i] = ${r};`);
  const source = `return function elementwise(ins, outs, n) {\n  ${lines.join('\n  ')}\n  for (let i = 0; i < n; i++) {\n    ${[...loads, ...body.statements, ...stores].join('\n    ')}\n  }\n};`;
  const kernel = build<ElementwiseKernel>(source);
  if (kernelCache.size >= KERNEL_CACHE_LIMIT) kernelCache.delete(kernelCache.keys().next().value!);
  kernelCache.set(key, kernel);
  return kernel;
}

/**
 * Evaluates an expression for many inputs at once through a compiled, fused loop. Each variable is bound to
 * an array (all of the same length) or a single number.
 *
 * @throws ArgumentError when arrays differ in length or a variable has no binding
 */
export function evaluateBatch(
  expr: Expr,
  columns: Readonly<Record<string, ArrayLike<number> | number>>,
): Float64Array {
  const variables = freeVariables(expr);
  let n = -1;
  const inputs: Array<NumericArray | number> = [];
  const kinds: InputKind[] = [];
  for (const name of variables) {
    const col = columns[name];
    if (col === undefined) throw new ArgumentError('evaluateBatch', `variable '${name}' has no binding`);
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
    inputs.push(col instanceof Float64Array || col instanceof Float32Array ? col : Float64Array.from(col));
    kinds.push('array');
  }
  if (n < 0) n = 1;
  const out = new Float64Array(n);
  compileElementwise([expr], variables, kinds)(inputs, [out], n);
  return out;
}
