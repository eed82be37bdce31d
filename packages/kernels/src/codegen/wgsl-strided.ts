import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import { checkKinds, type InputKind, indexVariables } from './js.js';
import { checkVariables, lower, namesKey } from './lowering.js';
import { straightLine } from './schedule.js';
import { WORKGROUP_SIZE, wgslDialect, wgslSupport } from './wgsl.js';

/**
 * WGSL for fused elementwise expressions over BROADCAST inputs: every array input is read through its own
 * strides (0 along a broadcast dimension), like the cpu's `compileStrided`. The rank is part of the shader
 * (the index arithmetic is unrolled); the shape and the strides are uniforms, so one shader serves every
 * shape of that rank.
 */

/** A WGSL compute shader for a strided elementwise expression, and how to bind it. */
export interface WgslStrided {
  /** The complete WGSL module; entry point `main`. */
  readonly code: string;
  /** The rank the index arithmetic is unrolled for. */
  readonly rank: number;
  /**
   * Binding layout (group 0): binding 0 is a uniform `array<vec4<u32>, paramVec4s>` whose u32 words are, in
   * order: the element count, then (from word 4) the scalar inputs as f32 bits, then (from word
   * {@link WgslStrided.metaWord}) the output shape (`rank` words) and the strides of each array input
   * (`rank` words each, in input order). Bindings 1.. are the array inputs, then the outputs.
   */
  readonly paramVec4s: number;
  /** The first u32 word of the shape and strides in the uniform. */
  readonly metaWord: number;
}

/** Generated shaders by structure, variables, kinds, rank and constants. Capacity: 256 shaders. */
const STRIDED_CAPACITY = 256;
const stridedCache = new LruCache<string, WgslStrided>(STRIDED_CAPACITY);

/** `gk_p[w / 4][w % 4]`: u32 word `w` of the uniform. */
export function uniformWord(w: number): string {
  return `gk_p[${Math.floor(w / 4)}][${w % 4}]`;
}

/**
 * Compiles expressions over strided inputs into ONE WGSL compute shader: thread `i` computes output element
 * `i` (row-major over the output shape), reading each array input at `Σ_d coord_d · stride_d`. Dispatch as
 * {@link compileElementwiseWgsl}'s shaders (`ceil(n / 64)` workgroups over x, spread over y).
 *
 * @param rank - the number of dimensions (at least 1) of the output shape
 * @throws ArgumentError when the expression uses a variable that is not listed
 */
export function compileStridedWgsl(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  rank: number,
): WgslStrided {
  const op = 'compileStridedWgsl';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  checkKinds(op, kinds, variables);
  let values = '';
  for (let i = 0; i < lowered.params.length; i++) {
    const v = lowered.params[i]!;
    values += `${i > 0 ? ',' : ''}${Object.is(v, -0) ? '-0' : String(v)}`;
  }
  const key = `${lowered.key}\u0000${namesKey(variables)}\u0000${kinds.join(',')}\u0000${values}\u0000${rank}`;
  const hit = stridedCache.get(key);
  if (hit !== undefined) return hit;
  const made = generate(op, lowered.outputs, variables, kinds, rank);
  stridedCache.set(key, made);
  return made;
}

function generate(
  op: string,
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  rank: number,
): WgslStrided {
  const index = indexVariables(op, outputs, variables);
  const body = straightLine(
    outputs,
    wgslDialect((name) => `v${index.get(name)!}`),
  );
  const scalars = kinds.filter((k) => k === 'scalar').length;
  const arrays = kinds.length - scalars;
  const metaWord = 4 + Math.ceil(scalars / 4) * 4;
  const paramVec4s = Math.ceil((metaWord + rank * (1 + arrays)) / 4);
  const decls: string[] = [`@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, ${paramVec4s}>;`];
  const loads: string[] = [];
  // The coordinates of element i, innermost dimension first; each array input's offset accumulates them.
  const offsets: string[] = [];
  let binding = 1;
  let scalar = 0;
  let array = 0;
  variables.forEach((_, i) => {
    if (kinds[i] === 'array') {
      decls.push(`@group(0) @binding(${binding++}) var<storage, read> gk_in${i}: array<f32>;`);
      const strides = metaWord + rank * (1 + array++);
      const terms = Array.from({ length: rank }, (_, d) => `c${d} * ${uniformWord(strides + d)}`);
      offsets.push(`let o${i} = ${terms.join(' + ')};`);
      loads.push(`let v${i} = gk_in${i}[o${i}];`);
    } else {
      loads.push(`let v${i} = bitcast<f32>(${uniformWord(4 + scalar++)});`);
    }
  });
  outputs.forEach((_, k) => {
    decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_out${k}: array<f32>;`);
  });
  const coords: string[] = ['var r = i;'];
  for (let d = rank - 1; d >= 0; d--) {
    const size = uniformWord(metaWord + d);
    coords.push(d === 0 ? `let c0 = r;` : `let c${d} = r % ${size};`, ...(d > 0 ? [`r = r / ${size};`] : []));
  }
  const stores = body.results.map((r, k) => `gk_out${k}[i] = ${r};`);
  const main = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    `  let i = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;`,
    '  if (i >= gk_p[0].x) { return; }',
    ...[...coords, ...offsets, ...loads, ...body.statements, ...stores].map((s) => `  ${s}`),
    '}',
  ].join('\n');
  const module = `${decls.join('\n')}\n\n${main}`;
  const support = wgslSupport(module);
  return Object.freeze({
    code: support ? `${support}\n\n${module}\n` : `${module}\n`,
    rank,
    paramVec4s,
    metaWord,
  });
}

/** A strided loop after {@link coalesceDims}. */
export interface MergedDims {
  /** The merged sizes (at least one dimension). */
  shape: number[];
  /** Each input's strides over the merged dimensions. */
  strides: number[][];
}

/**
 * Merges the dimensions of a strided loop that can be walked as one (dropping size-1 dimensions and joining
 * a dimension with the next where every input's strides continue it), so the shader's rank is as small as
 * the layout allows. Returns the merged shape and each input's merged strides (at least one dimension).
 */
export function coalesceDims(shape: readonly number[], strides: readonly (readonly number[])[]): MergedDims {
  const dims: number[] = [];
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) dims.push(d);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of dims) {
    const last = outShape.length - 1;
    const joins = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!);
    if (joins) {
      outShape[last] = outShape[last]! * shape[d]!;
      strides.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(shape[d]!);
      strides.forEach((s, k) => {
        outStrides[k]!.push(s[d]!);
      });
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: outShape, strides: outStrides };
}
