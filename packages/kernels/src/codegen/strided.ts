import type { Expr } from '../expr/node.js';
import { runtime } from '../runtime.js';
import { indexVariables, type NumericArray } from './js.js';
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

const stridedCache = new Map<string, StridedKernel>();
const LIMIT = 1024;

/**
 * Compiles expressions over `variables` into one broadcasting loop (the odometer walks every dimension
 * but the last; the innermost loop steps each input by its last stride). Cached by expression and arity.
 */
export function compileStrided(outputs: readonly Expr[], variables: readonly string[]): StridedKernel {
  const key = `${outputs.map((o) => o.id).join(',')}|${variables.join(',')}`;
  const hit = stridedCache.get(key);
  if (hit !== undefined) return hit;
  const index = indexVariables('compileStrided', outputs, variables);
  const body = fusedStraightLine(outputs, (name) => `v${index.get(name)!}`);
  const n = variables.length;
  const ks = [...Array(n).keys()];
  const src = [
    'return function strided(ins, strides, outs, shape) {',
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
  const kernel = new Function('R', src)(runtime) as StridedKernel;
  if (stridedCache.size >= LIMIT) stridedCache.delete(stridedCache.keys().next().value!);
  stridedCache.set(key, kernel);
  return kernel;
}
