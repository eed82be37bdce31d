import { ArgumentError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import { checkOptionKeys, describeValue, ownValue } from '../util/own.js';
import { checkKinds, type InputKind, indexVariables, type NumericArray } from './js.js';
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

/** What a fused reduce kernel does with each of its output expressions. */
export interface FusedReduceOptions {
  /** For each output: write its value per element into `outputs[k]` (default false). */
  readonly store?: readonly boolean[];
  /** For each output: add its values up (in float64) into `sums[k]` (default false). */
  readonly sum?: readonly boolean[];
}

/**
 * A fused elementwise loop over `n` elements that stores some outputs per element and sums others, in ONE
 * pass: `outputs[k]` receives output `k` where it is stored (pass null for the others) and `sums[k]` the
 * float64 sum of output `k` where it is summed.
 */
export type FusedReduceKernel = (
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: ReadonlyArray<NumericArray | null>,
  n: number,
  sums: Float64Array,
) => void;

/**
 * {@link FusedReduceKernel} over broadcast inputs: the element at multi-index `idx` (row-major over `shape`)
 * reads input `k` at `sum_d idx[d] * strides[k][d]` (stride 0 repeats an input along a dimension).
 */
export type StridedReduceKernel = (
  inputs: readonly NumericArray[],
  strides: readonly (readonly number[])[],
  outputs: ReadonlyArray<NumericArray | null>,
  shape: readonly number[],
  sums: Float64Array,
) => void;

type GenericFused = (
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: ReadonlyArray<NumericArray | null>,
  n: number,
  sums: Float64Array,
  P: Float64Array,
) => void;

type GenericStridedReduce = (
  inputs: readonly NumericArray[],
  strides: readonly (readonly number[])[],
  outputs: ReadonlyArray<NumericArray | null>,
  shape: readonly number[],
  sums: Float64Array,
  P: Float64Array,
) => void;

function flags(op: string, options: FusedReduceOptions, name: 'store' | 'sum', n: number): boolean[] {
  const given = ownValue(options, name);
  if (given === undefined) return new Array<boolean>(n).fill(false);
  if (!Array.isArray(given)) {
    throw new ArgumentError(op, `option '${name}' must be an array of booleans, got ${describeValue(given)}`);
  }
  if (given.length !== n) {
    throw new ArgumentError(op, `option '${name}' has ${given.length} entries for ${n} output expression(s)`);
  }
  return given.map((f: unknown, i) => {
    if (typeof f !== 'boolean') {
      throw new ArgumentError(op, `option '${name}[${i}]' must be a boolean, got ${describeValue(f)}`);
    }
    return f;
  });
}

/** Validates the options and returns the store and sum flags. */
function readOptions(op: string, options: FusedReduceOptions, n: number): [boolean[], boolean[]] {
  checkOptionKeys(op, 'options', options, ['store', 'sum']);
  return [flags(op, options, 'store', n), flags(op, options, 'sum', n)];
}

function outputCode(flagsStore: boolean[], flagsSum: boolean[], results: string[], index: string): string[] {
  const lines: string[] = [];
  results.forEach((r, j) => {
    if (flagsStore[j] && flagsSum[j]) lines.push(`{ const r = ${r}; o${j}[${index}] = r; s${j} += r; }`);
    else if (flagsStore[j]) lines.push(`o${j}[${index}] = ${r};`);
    else if (flagsSum[j]) lines.push(`s${j} += ${r};`);
  });
  return lines;
}

/** The kernel's opening lines: `o<j>` for each stored output's array, an `s<j>` accumulator per summed one. */
function declareOutputs(st: boolean[], sm: boolean[]): string[] {
  return [
    ...st.flatMap((f, j) => (f ? [`  const o${j} = outs[${j}];`] : [])),
    ...sm.flatMap((f, j) => (f ? [`  let s${j} = 0;`] : [])),
  ];
}

/** The kernel's closing lines: each accumulator `s<j>` into `sums[j]`. */
function writeSums(sm: boolean[]): string[] {
  return sm.flatMap((f, j) => (f ? [`  sums[${j}] = s${j};`] : []));
}

/** The kernel variant: generator, variables, input kinds (or strided) and the store/sum flags. */
function variantKey(
  family: string,
  variables: readonly string[],
  extra: string,
  st: boolean[],
  sm: boolean[],
): string {
  return `${family}\u0000${namesKey(variables)}\u0000${extra}\u0000${st.map(Number).join('')}\u0000${sm.map(Number).join('')}`;
}

/**
 * Generic fused-reduce kernels (constants as parameters), by structure and variant. Capacity: 512 — the
 * distinct loss programs and their variants (stored/summed outputs, input kinds) of a program.
 */
const REDUCE_CAPACITY = 512;
const cache = new LruCache<string, GenericFused | GenericStridedReduce>(REDUCE_CAPACITY);

function generic<T extends GenericFused | GenericStridedReduce>(
  lowered: Lowered,
  variant: string,
  make: () => T,
): T {
  const key = `${lowered.key}\u0000${variant}`;
  let g = cache.get(key) as T | undefined;
  if (g === undefined) {
    g = make();
    cache.set(key, g);
  }
  return g;
}

/**
 * Compiles expressions into ONE loop over `n` elements that writes the outputs marked `store` and adds up
 * (in float64, one accumulator per output) the outputs marked `sum` — e.g. an elementwise loss and its sum
 * for a 'mean' reduction, plus per-element gradients, in a single pass. `sigmoid`/`softplus`/`logSigmoid` of
 * the same operand share one exponential (see {@link fusedStraightLine}). Cached by expression structure,
 * variables, input kinds and options: numeric literals are kernel parameters, as in `compileElementwise`.
 *
 * @param variables - the variable names, in the order of the kernel's `inputs`
 * @param kinds - for each variable, whether it is read per element or as one scalar
 * @throws ArgumentError when `outputs` is not an array of Expr, `variables` is not a list of distinct names,
 *   `kinds` does not give one valid kind per variable, an expression uses a variable that is not listed, or
 *   an option is unknown or has the wrong length
 * @throws CompileError when the expressions are too large for the JavaScript engine
 */
export function compileFusedReduce(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  options: FusedReduceOptions = {},
): FusedReduceKernel {
  const op = 'compileFusedReduce';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  checkKinds(op, kinds, variables);
  const [st, sm] = readOptions(op, options, outputs.length);
  const variant = variantKey('fused', variables, kinds.join(','), st, sm);
  return boundKernel(lowered, variant, () => {
    const kernel = generic(lowered, variant, () => generateFused(op, lowered, variables, kinds, st, sm));
    const P = lowered.params;
    return (ins, outs, n, sums) => kernel(ins, outs, n, sums, P);
  });
}

function generateFused(
  op: string,
  lowered: Lowered,
  variables: readonly string[],
  kinds: readonly InputKind[],
  st: boolean[],
  sm: boolean[],
): GenericFused {
  const outputs = lowered.outputs;
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`, paramCode(lowered));
  const src = [
    'return function fusedReduce(ins, outs, n, sums, P) {',
    ...paramPrologue(lowered, '  ', body.scratch),
    ...variables.map((_, i) =>
      kinds[i] === 'scalar' ? `  const v${i} = +ins[${i}];` : `  const a${i} = ins[${i}];`,
    ),
    ...declareOutputs(st, sm),
    '  for (let i = 0; i < n; i++) {',
    ...variables
      .map((_, i) => (kinds[i] === 'array' ? `    const v${i} = a${i}[i];` : ''))
      .filter((s) => s !== ''),
    ...body.statements.map((s) => `    ${s}`),
    ...outputCode(st, sm, body.results, 'i').map((s) => `    ${s}`),
    '  }',
    ...writeSums(sm),
    '};',
  ].join('\n');
  return buildKernel<GenericFused>(op, src);
}

/**
 * {@link compileFusedReduce} for inputs broadcast to a common `shape` (read through strides, 0 where an
 * input repeats): the odometer walks every dimension but the last, the inner loop steps each input by its
 * last stride. Outputs are written contiguously over `shape`.
 *
 * @throws ArgumentError when `outputs` is not an array of Expr, `variables` is not a list of distinct names,
 *   an expression uses a variable that is not listed, or an option is unknown or has the wrong length
 * @throws CompileError when the expressions are too large for the JavaScript engine
 */
export function compileStridedReduce(
  outputs: readonly Expr[],
  variables: readonly string[],
  options: FusedReduceOptions = {},
): StridedReduceKernel {
  const op = 'compileStridedReduce';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  const [st, sm] = readOptions(op, options, outputs.length);
  const variant = variantKey('strided', variables, '', st, sm);
  return boundKernel(lowered, variant, () => {
    const kernel = generic(lowered, variant, () => generateStrided(op, lowered, variables, st, sm));
    const P = lowered.params;
    return (ins, strides, outs, shape, sums) => kernel(ins, strides, outs, shape, sums, P);
  });
}

function generateStrided(
  op: string,
  lowered: Lowered,
  variables: readonly string[],
  st: boolean[],
  sm: boolean[],
): GenericStridedReduce {
  const outputs = lowered.outputs;
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`, paramCode(lowered));
  const ks = [...variables.keys()];
  const src = [
    'return function stridedReduce(ins, strides, outs, shape, sums, P) {',
    ...paramPrologue(lowered, '  ', body.scratch),
    '  const rank = shape.length;',
    '  let total = 1; for (let d = 0; d < rank; d++) total *= shape[d];',
    ...declareOutputs(st, sm),
    '  if (total > 0) {',
    '    const inner = rank === 0 ? 1 : shape[rank - 1];',
    '    const rows = total / inner;',
    '    const idx = new Int32Array(Math.max(rank - 1, 1));',
    ...ks.map(
      (i) =>
        `    const a${i} = ins[${i}]; const z${i} = strides[${i}]; const l${i} = rank === 0 ? 0 : z${i}[rank - 1];`,
    ),
    '    let o = 0;',
    '    for (let r = 0; r < rows; r++) {',
    ...ks.map((i) => `      let b${i} = 0; for (let d = 0; d < rank - 1; d++) b${i} += idx[d] * z${i}[d];`),
    '      for (let j = 0; j < inner; j++, o++) {',
    ...ks.map((i) => `        const v${i} = a${i}[b${i}]; b${i} += l${i};`),
    ...body.statements.map((s) => `        ${s}`),
    ...outputCode(st, sm, body.results, 'o').map((s) => `        ${s}`),
    '      }',
    '      for (let d = rank - 2; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }',
    '    }',
    '  }',
    ...writeSums(sm),
    '};',
  ].join('\n');
  return buildKernel<GenericStridedReduce>(op, src);
}
