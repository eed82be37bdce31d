import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import { indexVariables, type NumericArray } from './js.js';
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

/**
 * A broadcasting elementwise loop: output element at multi-index `idx` (row-major over `shape`) reads input
 * `k` at offset `sum_d idx[d] * strides[k][d]` (a stride of 0 repeats the input along that dimension).
 */
export type StridedKernel = (
  inputs: readonly NumericArray[],
  strides: readonly (readonly number[])[],
  outputs: readonly NumericArray[],
  shape: readonly number[],
) => void;

type GenericStrided = (
  inputs: readonly NumericArray[],
  strides: readonly (readonly number[])[],
  outputs: readonly NumericArray[],
  shape: readonly number[],
  P: Float64Array,
) => void;

/** Generic strided kernels (constants as parameters), by structure and variables. Capacity: 512 structures. */
const STRIDED_CAPACITY = 512;
const stridedCache = new LruCache<string, GenericStrided>(STRIDED_CAPACITY);

/**
 * Compiles expressions over `variables` into one broadcasting loop (the odometer walks every dimension
 * but the last; the innermost loop steps each input by its last stride). Cached by expression structure
 * and variables: numeric literals are kernel parameters, as in `compileElementwise`.
 *
 * @throws ArgumentError when `outputs` is not an array of Expr, `variables` is not a list of distinct names,
 *   or a variable is not listed
 * @throws CompileError when the expressions are too large for the JavaScript engine
 */
export function compileStrided(outputs: readonly Expr[], variables: readonly string[]): StridedKernel {
  const op = 'compileStrided';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  const variant = `strided\u0000${namesKey(variables)}`;
  return boundKernel(lowered, variant, () => {
    const key = `${lowered.key}\u0000${variant}`;
    let generic = stridedCache.get(key);
    if (generic === undefined) {
      generic = generate(op, lowered, variables);
      stridedCache.set(key, generic);
    }
    const kernel = generic;
    const P = lowered.params;
    return (ins, strides, outs, shape) => kernel(ins, strides, outs, shape, P);
  });
}

function generate(op: string, lowered: Lowered, variables: readonly string[]): GenericStrided {
  const outputs = lowered.outputs;
  const index = indexVariables(op, outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`, paramCode(lowered));
  const n = variables.length;
  const ks = [...Array(n).keys()];
  const src = [
    'return function strided(ins, strides, outs, shape, P) {',
    ...paramPrologue(lowered, '  ', body.scratch),
    '  const rank = shape.length;',
    '  let total = 1; for (let d = 0; d < rank; d++) total *= shape[d];',
    '  if (total === 0) return;',
    '  const inner = rank === 0 ? 1 : shape[rank - 1];',
    '  const rows = total / inner;',
    '  const idx = new Int32Array(Math.max(rank - 1, 1));',
    ...ks.map(
      (k) =>
        `  const a${k} = ins[${k}]; const s${k} = strides[${k}]; const l${k} = rank === 0 ? 0 : s${k}[rank - 1];`,
    ),
    ...outputs.map((_, j) => `  const o${j} = outs[${j}];`),
    '  let o = 0;',
    '  for (let r = 0; r < rows; r++) {',
    ...ks.map((k) => `    let b${k} = 0; for (let d = 0; d < rank - 1; d++) b${k} += idx[d] * s${k}[d];`),
    '    for (let j = 0; j < inner; j++, o++) {',
    ...ks.map((k) => `      const v${k} = a${k}[b${k}]; b${k} += l${k};`),
    ...body.statements.map((s) => `      ${s}`),
    ...body.results.map((res, j) => `      o${j}[o] = ${res};`),
    '    }',
    '    for (let d = rank - 2; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }',
    '  }',
    '};',
  ].join('\n');
  return buildKernel<GenericStrided>(op, src);
}
