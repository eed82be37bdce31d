import { ArgumentError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { runtime } from '../runtime.js';
import { type InputKind, indexVariables, type NumericArray } from './js.js';
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

function flags(op: string, name: string, given: readonly boolean[] | undefined, n: number): boolean[] {
  if (given === undefined) return new Array<boolean>(n).fill(false);
  if (given.length !== n) {
    throw new ArgumentError(op, `option '${name}' has ${given.length} entries for ${n} output expression(s)`);
  }
  return [...given];
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

function key(
  outputs: readonly Expr[],
  variables: readonly string[],
  extra: string,
  st: boolean[],
  sm: boolean[],
) {
  return `${outputs.map((o) => o.id).join(',')}|${variables.join(',')}|${extra}|${st.map(Number).join('')}|${sm.map(Number).join('')}`;
}

const cache = new Map<string, FusedReduceKernel | StridedReduceKernel>();
const LIMIT = 1024;

function remember<T extends FusedReduceKernel | StridedReduceKernel>(k: string, kernel: T): T {
  if (cache.size >= LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(k, kernel);
  return kernel;
}

/**
 * Compiles expressions into ONE loop over `n` elements that writes the outputs marked `store` and adds up
 * (in float64, one accumulator per output) the outputs marked `sum` — e.g. an elementwise loss and its sum
 * for a 'mean' reduction, plus per-element gradients, in a single pass. `sigmoid`/`softplus`/`logSigmoid` of
 * the same operand share one exponential (see {@link fusedStraightLine}). Cached by expressions, variables,
 * input kinds and options.
 *
 * @param variables - the variable names, in the order of the kernel's `inputs`
 * @param kinds - for each variable, whether it is read per element or as one scalar
 * @throws ArgumentError when an expression uses a variable that is not listed, or an option has the wrong length
 */
export function compileFusedReduce(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  options: FusedReduceOptions = {},
): FusedReduceKernel {
  const op = 'compileFusedReduce';
  const st = flags(op, 'store', options.store, outputs.length);
  const sm = flags(op, 'sum', options.sum, outputs.length);
  const k = key(outputs, variables, `flat:${kinds.join(',')}`, st, sm);
  const hit = cache.get(k);
  if (hit !== undefined) return hit as FusedReduceKernel;
  if (kinds.length !== variables.length) {
    throw new ArgumentError(op, `got ${kinds.length} input kinds for ${variables.length} variables`);
  }
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`);
  const src = [
    'return function fusedReduce(ins, outs, n, sums) {',
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
  return remember(k, new Function('R', src)(runtime) as FusedReduceKernel);
}

/**
 * {@link compileFusedReduce} for inputs broadcast to a common `shape` (read through strides, 0 where an
 * input repeats): the odometer walks every dimension but the last, the inner loop steps each input by its
 * last stride. Outputs are written contiguously over `shape`.
 *
 * @throws ArgumentError when an expression uses a variable that is not listed, or an option has the wrong length
 */
export function compileStridedReduce(
  outputs: readonly Expr[],
  variables: readonly string[],
  options: FusedReduceOptions = {},
): StridedReduceKernel {
  const op = 'compileStridedReduce';
  const st = flags(op, 'store', options.store, outputs.length);
  const sm = flags(op, 'sum', options.sum, outputs.length);
  const k = key(outputs, variables, 'strided', st, sm);
  const hit = cache.get(k);
  if (hit !== undefined) return hit as StridedReduceKernel;
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`);
  const ks = [...variables.keys()];
  const src = [
    'return function stridedReduce(ins, strides, outs, shape, sums) {',
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
  return remember(k, new Function('R', src)(runtime) as StridedReduceKernel);
}
