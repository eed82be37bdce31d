/**
 * Reductions on WebGPU: sum, product, maximum and minimum (with the index of the first extreme) over any set
 * of axes of a contiguous float32 array, as workgroup tree reductions.
 *
 * Accuracy: each of a workgroup's 256 threads accumulates at most {@link CHUNK_PER_THREAD} strided elements
 * of its chunk, then the 256 partial results are combined pairwise in a balanced tree in workgroup memory,
 * and the chunks' results again by the same kernel (a second pass, more for very large groups). A float32
 * sum of R elements thus has an error bound of about (8 + log2 R) ulps of the sum of magnitudes, like a
 * pairwise sum, instead of R ulps for a serial loop. Groups of at most {@link SERIAL_MAX} elements are
 * summed by one thread each (no workgroup memory; the serial error of ≤ 16 terms).
 *
 * Extremes follow the cpu backend: the first NaN wins over numbers, and among equal values the smallest
 * (row-major) index wins, so argmax/argmin and the gradient of max/min select the same element on both
 * devices.
 */

import { WORKGROUP_SIZE } from '../codegen/wgsl.js';
import { coalesceDims, uniformWord } from '../codegen/wgsl-strided.js';
import { DomainError } from '../errors.js';
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { dispatchSize } from './webgpu.js';

/** A reduction: the combined value of a group. */
export type ReduceKind = 'sum' | 'prod' | 'max' | 'min';

/** Threads per workgroup of the tree reduction. */
const THREADS = 256;
/** Elements one thread accumulates serially per chunk (so a chunk is THREADS × CHUNK_PER_THREAD). */
export const CHUNK_PER_THREAD = 8;
/** The largest group reduced by one thread per output instead of a workgroup. */
export const SERIAL_MAX = 16;
/** "No element" for the index of an extreme. */
const NONE = 0xffffffff;

/** What {@link reduceArray} returns. */
export interface Reduced {
  /** One value per output, row-major over the kept dimensions. */
  readonly values: DeviceArray;
  /**
   * For `max`/`min`: per output, the row-major index (over the reduced axes) of the selected element, as
   * u32 words (declare the binding `array<u32>`); null for `sum`/`prod`.
   */
  readonly index: DeviceArray | null;
}

/** How a reduction walks its input: the kept and the reduced dimensions, merged, with the input strides. */
export interface ReducePlan {
  /** Number of outputs. */
  readonly groups: number;
  /** Elements per group. */
  readonly count: number;
  /** The kept dimensions (merged; `[1]` when none), in output order. */
  readonly keptShape: number[];
  /** Their strides in the input. */
  readonly keptStrides: number[];
  /** The reduced dimensions (merged; `[1]` when none), in member order. */
  readonly redShape: number[];
  /** Their strides in the input. */
  readonly redStrides: number[];
}

/**
 * The plan of reducing `axes` (sorted, distinct) of a contiguous array of `shape`.
 */
export function reducePlan(shape: readonly number[], axes: readonly number[]): ReducePlan {
  const strides: number[] = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d]!;
  }
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const k = coalesceDims(
    kept.map((d) => shape[d]!),
    [kept.map((d) => strides[d]!)],
  );
  const r = coalesceDims(
    axes.map((d) => shape[d]!),
    [axes.map((d) => strides[d]!)],
  );
  let groups = 1;
  for (const d of kept) groups *= shape[d]!;
  let count = 1;
  for (const d of axes) count *= shape[d]!;
  return {
    groups,
    count,
    keptShape: k.shape,
    keptStrides: k.strides[0]!,
    redShape: r.shape,
    redStrides: r.strides[0]!,
  };
}

/** Statements that set `name` to the offset of flat index `flat` over (shape, strides) words from `word`. */
function offsetCode(name: string, flat: string, rank: number, word: number): string[] {
  const out = [`var ${name}_r = ${flat};`, `var ${name} = 0u;`];
  for (let d = rank - 1; d >= 0; d--) {
    const size = uniformWord(word + d);
    const stride = uniformWord(word + rank + d);
    if (d === 0) out.push(`${name} = ${name} + ${name}_r * ${stride};`);
    else {
      out.push(`${name} = ${name} + (${name}_r % ${size}) * ${stride};`, `${name}_r = ${name}_r / ${size};`);
    }
  }
  return out;
}

const COMBINE_HELPERS = `fn gk_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// Whether (w, k) beats (v, i): NaN first, then the larger (smaller) value, then the smaller index.
fn gk_beats(v: f32, i: u32, w: f32, k: u32) -> bool {
  if (k == ${NONE}u) { return false; }
  if (i == ${NONE}u) { return true; }
  let nv = gk_isnan(v);
  let nw = gk_isnan(w);
  if (nv || nw) {
    if (nv && nw) { return k < i; }
    return nw;
  }
  if (w CMP v) { return true; }
  return w == v && k < i;
}`;

/**
 * The WGSL of one reduction pass. Modes: `'tree'` (a workgroup of 256 threads per (output, chunk)),
 * `'serial'` (one thread per output). `partials`: the input is a previous pass's [outputs, chunks] values
 * (and indices), contiguous.
 */
function reduceShader(
  kind: ReduceKind,
  mode: 'tree' | 'serial',
  partials: boolean,
  keptRank: number,
  redRank: number,
): string {
  const indexed = kind === 'max' || kind === 'min';
  const identity = kind === 'sum' ? '0.0f' : kind === 'prod' ? '1.0f' : '0.0f';
  const decls = [
    `@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, ${Math.ceil((4 + 2 * (keptRank + redRank)) / 4)}>;`,
    '@group(0) @binding(1) var<storage, read> gk_x: array<f32>;',
  ];
  let binding = 2;
  if (partials && indexed)
    decls.push(`@group(0) @binding(${binding++}) var<storage, read> gk_xi: array<u32>;`);
  decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_out: array<f32>;`);
  if (indexed) decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_oi: array<u32>;`);
  // Uniform words: 0 groups, 1 count, 2 chunks, 3 chunk length, then kept (shape, strides), reduced (shape, strides).
  const keptWord = 4;
  const redWord = 4 + 2 * keptRank;
  const member = (j: string) => [
    ...offsetCode('m', j, redRank, redWord),
    `let v = gk_x[base + m];`,
    `let vi = ${partials && indexed ? 'gk_xi[base + m]' : j};`,
  ];
  const fold =
    kind === 'sum'
      ? ['acc = acc + v;']
      : kind === 'prod'
        ? ['acc = acc * v;']
        : ['if (gk_beats(acc, ai, v, vi)) { acc = v; ai = vi; }'];
  const helpers = indexed ? COMBINE_HELPERS.replace('CMP', kind === 'max' ? '>' : '<') : '';
  const body: string[] = [];
  if (mode === 'serial') {
    body.push(
      `@compute @workgroup_size(${WORKGROUP_SIZE})`,
      'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
      `  let o = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;`,
      '  if (o >= gk_p[0].x) { return; }',
      ...offsetCode('base', 'o', keptRank, keptWord).map((s) => `  ${s}`),
      `  var acc = ${identity};`,
      `  var ai = ${NONE}u;`,
      '  for (var j = 0u; j < gk_p[0].y; j = j + 1u) {',
      ...member('j').map((s) => `    ${s}`),
      ...fold.map((s) => `    ${s}`),
      '  }',
      '  gk_out[o] = acc;',
      ...(indexed ? ['  gk_oi[o] = ai;'] : []),
      '}',
    );
  } else {
    decls.push(`var<workgroup> gk_sv: array<f32, ${THREADS}>;`);
    if (indexed) decls.push(`var<workgroup> gk_si: array<u32, ${THREADS}>;`);
    const merge = indexed
      ? [
          `if (gk_beats(gk_sv[lid], gk_si[lid], gk_sv[lid + s], gk_si[lid + s])) {`,
          '  gk_sv[lid] = gk_sv[lid + s];',
          '  gk_si[lid] = gk_si[lid + s];',
          '}',
        ]
      : [`gk_sv[lid] = gk_sv[lid] ${kind === 'sum' ? '+' : '*'} gk_sv[lid + s];`];
    body.push(
      `@compute @workgroup_size(${THREADS})`,
      'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {',
      '  let g = wid.x + wid.y * nwg.x;',
      '  if (g >= gk_p[0].x * gk_p[0].z) { return; }',
      '  let o = g / gk_p[0].z;',
      '  let c = g % gk_p[0].z;',
      ...offsetCode('base', 'o', keptRank, keptWord).map((s) => `  ${s}`),
      '  let start = c * gk_p[0].w;',
      '  let end = min(start + gk_p[0].w, gk_p[0].y);',
      `  var acc = ${identity};`,
      `  var ai = ${NONE}u;`,
      `  for (var j = start + lid; j < end; j = j + ${THREADS}u) {`,
      ...member('j').map((s) => `    ${s}`),
      ...fold.map((s) => `    ${s}`),
      '  }',
      '  gk_sv[lid] = acc;',
      ...(indexed ? ['  gk_si[lid] = ai;'] : []),
      '  workgroupBarrier();',
      `  for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {`,
      '    if (lid < s) {',
      ...merge.map((s) => `      ${s}`),
      '    }',
      '    workgroupBarrier();',
      '  }',
      '  if (lid == 0u) {',
      '    gk_out[g] = gk_sv[0];',
      ...(indexed ? ['    gk_oi[g] = gk_si[0];'] : []),
      '  }',
      '}',
    );
  }
  return `${helpers}\n${decls.join('\n')}\n\n${body.join('\n')}\n`;
}

function params(
  groups: number,
  count: number,
  chunks: number,
  chunkLen: number,
  dims: ReadonlyArray<readonly number[]>,
): ArrayBuffer {
  const words = [groups, count, chunks, chunkLen, ...dims.flat()];
  const buf = new ArrayBuffer(Math.ceil(words.length / 4) * 16);
  new Uint32Array(buf).set(words);
  return buf;
}

/**
 * Reduces `axes` (sorted, distinct, each < rank) of `x`, a contiguous array of `shape`: one value per output
 * (row-major over the kept dimensions), and for `max`/`min` the index of the selected element. An empty
 * group gives the identity (0 for sum, 1 for prod); `max`/`min` refuse empty groups.
 *
 * @throws DomainError for `max`/`min` over empty groups
 */
export function reduceArray(
  rt: WebGpuArrays,
  op: string,
  kind: ReduceKind,
  x: DeviceArray,
  shape: readonly number[],
  axes: readonly number[],
): Reduced {
  const p = reducePlan(shape, axes);
  const indexed = kind === 'max' || kind === 'min';
  if (indexed && p.count === 0 && p.groups > 0) {
    throw new DomainError(op, `cannot reduce over zero elements (shape [${shape.join(', ')}])`);
  }
  const limit = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (p.groups === 0 || p.count <= SERIAL_MAX) {
    const code = reduceShader(kind, 'serial', false, p.keptShape.length, p.redShape.length);
    const [wx, wy] = dispatchSize(Math.ceil(p.groups / WORKGROUP_SIZE), limit, op);
    const outs = rt.compute(op, {
      code,
      inputs: [x],
      outputs: indexed ? [p.groups, p.groups] : [p.groups],
      params: params(p.groups, p.count, 1, p.count, [p.keptShape, p.keptStrides, p.redShape, p.redStrides]),
      workgroups: p.groups === 0 ? [0] : [wx, wy],
    });
    return { values: outs[0]!, index: outs[1] ?? null };
  }
  // Pass 1 over the input, then passes over [groups, chunks] partials until one chunk is left.
  const chunkLen = THREADS * CHUNK_PER_THREAD;
  let inputs: DeviceArray[] = [x];
  let partials = false;
  let count = p.count;
  let dims: number[][] = [p.keptShape, p.keptStrides, p.redShape, p.redStrides];
  for (;;) {
    const chunks = Math.ceil(count / chunkLen);
    const code = reduceShader(kind, 'tree', partials, dims[0]!.length, dims[2]!.length);
    const [wx, wy] = dispatchSize(p.groups * chunks, limit, op);
    const outs = rt.compute(op, {
      code,
      inputs,
      outputs: indexed ? [p.groups * chunks, p.groups * chunks] : [p.groups * chunks],
      params: params(p.groups, count, chunks, chunkLen, dims),
      workgroups: [wx, wy],
    });
    if (partials) for (const a of inputs) a.dispose();
    if (chunks === 1) return { values: outs[0]!, index: outs[1] ?? null };
    inputs = outs;
    partials = true;
    count = chunks;
    dims = [[p.groups], [chunks], [chunks], [1]];
  }
}

const TO_FLOAT = `@group(0) @binding(0) var<uniform> gk_p: vec4<u32>;
@group(0) @binding(1) var<storage, read> gk_i: array<u32>;
@group(0) @binding(2) var<storage, read_write> gk_out: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;
  if (i >= gk_p.x) { return; }
  gk_out[i] = f32(gk_i[i]);
}
`;

/** u32 indices (as {@link Reduced.index} holds them) as float32 values (exact below 2^24). */
export function indicesToFloat(rt: WebGpuArrays, op: string, index: DeviceArray): DeviceArray {
  const n = index.length;
  const [wx, wy] = dispatchSize(
    Math.ceil(n / WORKGROUP_SIZE),
    rt.device.limits.maxComputeWorkgroupsPerDimension,
    op,
  );
  return rt.compute(op, {
    code: TO_FLOAT,
    inputs: [index],
    outputs: [n],
    params: new Uint32Array([n, 0, 0, 0]).buffer,
    workgroups: n === 0 ? [0] : [wx, wy],
  })[0]!;
}

/**
 * The one-hot mask of the elements a `max`/`min` selected: an array of `shape` (the reduced input's),
 * zero except 1 at each output's selected element (the gradient mask of max/min).
 */
export function selectionMask(
  rt: WebGpuArrays,
  op: string,
  index: DeviceArray,
  shape: readonly number[],
  axes: readonly number[],
): DeviceArray {
  const p = reducePlan(shape, axes);
  const keptRank = p.keptShape.length;
  const redRank = p.redShape.length;
  const code = `@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, ${Math.ceil((4 + 2 * (keptRank + redRank)) / 4)}>;
@group(0) @binding(1) var<storage, read> gk_i: array<u32>;
@group(0) @binding(2) var<storage, read_write> gk_out: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;
  if (o >= gk_p[0].x) { return; }
${[...offsetCode('base', 'o', keptRank, 4), ...offsetCode('m', 'gk_i[o]', redRank, 4 + 2 * keptRank)].map((s) => `  ${s}`).join('\n')}
  gk_out[base + m] = 1.0f;
}
`;
  let n = 1;
  for (const d of shape) n *= d;
  const [wx, wy] = dispatchSize(
    Math.ceil(p.groups / WORKGROUP_SIZE),
    rt.device.limits.maxComputeWorkgroupsPerDimension,
    op,
  );
  return rt.compute(op, {
    code,
    inputs: [index],
    outputs: [n],
    params: params(p.groups, p.count, 1, p.count, [p.keptShape, p.keptStrides, p.redShape, p.redStrides]),
    workgroups: p.groups === 0 || p.count === 0 ? [0] : [wx, wy],
  })[0]!;
}
