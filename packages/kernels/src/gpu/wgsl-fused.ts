import { lower } from '../codegen/lowering.js';
import { straightLine } from '../codegen/schedule.js';
import { wgslDialect, wgslSupport } from '../codegen/wgsl.js';
import { ArgumentError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';

/**
 * How one variable of a fused device kernel is read:
 * - `'array'`: a device array with one element per output element (index `i`);
 * - `'splat'`: a one-element device array every thread reads at index 0;
 * - `'broadcast'`: a device array broadcast to the output's shape by per-dimension strides (uniforms);
 * - `'scalar'`: one f32 uniform (a hyperparameter or a loss parameter: one pipeline serves every value).
 */
export type FusedOperandKind = 'array' | 'splat' | 'broadcast' | 'scalar';

/** The structure of one fused kernel: everything that changes the generated WGSL. */
export interface FusedKernelSpec {
  /** The expressions, over `variables`; constants become f32 literals. */
  readonly outputs: readonly Expr[];
  /** Variable names, in operand order. */
  readonly variables: readonly string[];
  /** How each variable is read. */
  readonly kinds: readonly FusedOperandKind[];
  /**
   * For each output: the index of the (array) variable it is written into in place, `null` for a new output
   * array, or `'none'` for an output that is only used by a guard or the reduction. In `'sum'` mode output 0
   * is summed and nothing is stored.
   */
  readonly targets: ReadonlyArray<number | null | 'none'>;
  /**
   * NaN guards: `[k, alt]` replaces output `k` by output `alt` wherever output `k` is NaN (tested on the bits,
   * so no compiler may fold it away) — how the losses take a limit at infinite logits on the device.
   */
  readonly guards?: ReadonlyArray<readonly [number, number]>;
  /** The output's rank (for broadcast operands; 0 when there is none). */
  readonly rank: number;
  /** `'map'`: one thread per element, results stored; `'sum'`: output 0 summed into one partial per workgroup. */
  readonly mode: 'map' | 'sum';
}

/** A generated fused kernel and how to bind and parameterise it. */
export interface FusedKernel {
  /** The WGSL module (entry point `main`). */
  readonly code: string;
  /** Workgroup size along x. */
  readonly workgroupSize: number;
  /** Variable indices bound as read-only inputs, in binding order (after the uniform). */
  readonly inputs: readonly number[];
  /** Variable indices bound as in-place (read-write) arrays, after the inputs. */
  readonly inOut: readonly number[];
  /** Output indices stored into new arrays, bound last. */
  readonly fresh: readonly number[];
  /** Uniform word (u32) where scalar operand `k` (in scalar order) goes, as f32 bits. */
  readonly scalarWord: (k: number) => number;
  /** Uniform word of dimension `d` of the output's shape. */
  readonly shapeWord: (d: number) => number;
  /** Uniform word of stride `d` of broadcast operand `b` (in broadcast order). */
  readonly strideWord: (b: number, d: number) => number;
  /** The uniform buffer's size in u32 words (a multiple of 4). */
  readonly words: number;
}

/** Threads per workgroup of the `'map'` kernels. */
export const FUSED_MAP_WORKGROUP = 64;
/** Threads per workgroup of the `'sum'` kernels and of the reductions of their partials. */
export const FUSED_SUM_WORKGROUP = 256;

/**
 * Generated kernels by structure (expression, variables, kinds, targets, guards, rank, mode). Capacity: 256
 * kernels — a training step uses a handful per loss and optimizer.
 */
const CACHE_CAPACITY = 256;
const cache = new LruCache<string, FusedKernel>(CACHE_CAPACITY);

/**
 * How many fused kernels were generated (not found in the cache) so far: a test can check that new
 * parameter values (uniforms) generate nothing new.
 */
export function fusedKernelsGenerated(): number {
  return generated;
}
let generated = 0;

const word = (k: number) => `gk_p[${k >> 2}u][${k & 3}u]`;

/**
 * Compiles a fused elementwise kernel with broadcast operands, in-place targets and an optional workgroup
 * tree reduction into WGSL, from the same expression IR and WGSL dialect as `compileElementwiseWgsl`.
 *
 * Uniform layout (`array<vec4<u32>, W/4>`): word 0 is the element count `n`; then the scalar operands (f32
 * bits), the output shape, and the strides of each broadcast operand. `'sum'` mode: each workgroup of
 * `FUSED_SUM_WORKGROUP` (256) threads walks the elements with a grid stride (a compensated float32 sum per
 * thread), then adds its threads' sums pairwise in workgroup memory and writes one partial per workgroup
 * (a new output array, bound last).
 *
 * @throws ArgumentError when the spec is inconsistent (a variable the expressions use but do not list, an
 *   in-place target that is not an array operand, a sum kernel with stores)
 */
export function compileFusedWgsl(spec: FusedKernelSpec): FusedKernel {
  const op = 'compileFusedWgsl';
  const lowered = lower(op, spec.outputs);
  const guards = spec.guards ?? [];
  const key = [
    lowered.key,
    JSON.stringify(spec.variables),
    spec.kinds.join(','),
    JSON.stringify(spec.targets),
    JSON.stringify(guards),
    spec.rank,
    spec.mode,
    Array.from(lowered.params, (v) => (Object.is(v, -0) ? '-0' : String(v))).join(','),
  ].join('\u0000');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const made = generate(op, spec, guards);
  generated++;
  cache.set(key, made);
  return made;
}

function generate(
  op: string,
  spec: FusedKernelSpec,
  guards: ReadonlyArray<readonly [number, number]>,
): FusedKernel {
  const { variables, kinds, targets, rank, mode } = spec;
  if (kinds.length !== variables.length) {
    throw new ArgumentError(op, `${variables.length} variables but ${kinds.length} kinds`);
  }
  if (targets.length !== spec.outputs.length) {
    throw new ArgumentError(op, `${spec.outputs.length} outputs but ${targets.length} targets`);
  }
  const index = new Map(variables.map((v, i) => [v, i] as const));
  const inPlace = new Set<number>();
  targets.forEach((t, k) => {
    if (typeof t === 'number') {
      if (kinds[t] !== 'array') {
        throw new ArgumentError(
          op,
          `output ${k} is written into variable #${t}, which is not an array operand`,
        );
      }
      inPlace.add(t);
    }
    if (mode === 'sum' && t !== 'none') throw new ArgumentError(op, 'a sum kernel stores no output');
  });
  const body = straightLine(
    spec.outputs,
    wgslDialect((name) => {
      const i = index.get(name);
      if (i === undefined) {
        throw new ArgumentError(op, `variable '${name}' appears in the expression but not in 'variables'`);
      }
      return `v${i}`;
    }),
  );
  const scalarCount = kinds.filter((k) => k === 'scalar').length;
  const broadcastCount = kinds.filter((k) => k === 'broadcast').length;
  const shapeBase = 4 + scalarCount;
  const strideBase = shapeBase + rank;
  const words = Math.ceil((strideBase + broadcastCount * rank) / 4) * 4;
  const scalarWord = (k: number) => 4 + k;
  const shapeWord = (d: number) => shapeBase + d;
  const strideWord = (b: number, d: number) => strideBase + b * rank + d;

  const decls = [`@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, ${words / 4}>;`];
  const inputs: number[] = [];
  const inOut: number[] = [];
  let binding = 1;
  variables.forEach((_, i) => {
    if (kinds[i] !== 'scalar' && !inPlace.has(i)) {
      inputs.push(i);
      decls.push(`@group(0) @binding(${binding++}) var<storage, read> gk_in${i}: array<f32>;`);
    }
  });
  variables.forEach((_, i) => {
    if (inPlace.has(i)) {
      inOut.push(i);
      decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_in${i}: array<f32>;`);
    }
  });
  const fresh: number[] = [];
  targets.forEach((t, k) => {
    if (t === null) {
      fresh.push(k);
      decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_out${k}: array<f32>;`);
    }
  });
  if (mode === 'sum') {
    decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_partial: array<f32>;`);
    decls.push(`var<workgroup> gk_acc: array<f32, ${FUSED_SUM_WORKGROUP}>;`);
  }

  // Loads: the broadcast offsets share one walk over the output's dimensions.
  const loads: string[] = [];
  const broadcasts = variables.map((_, i) => i).filter((i) => kinds[i] === 'broadcast');
  if (broadcasts.length > 0) {
    loads.push('var gk_rem = i;');
    for (const b of broadcasts) loads.push(`var gk_off${b} = 0u;`);
    for (let d = rank - 1; d >= 0; d--) {
      loads.push(`{ let gk_d = ${word(shapeWord(d))}; let gk_k = gk_rem % gk_d; gk_rem = gk_rem / gk_d;`);
      broadcasts.forEach((b, bi) => {
        loads.push(`  gk_off${b} = gk_off${b} + gk_k * ${word(strideWord(bi, d))};`);
      });
      loads.push('}');
    }
  }
  let scalar = 0;
  variables.forEach((_, i) => {
    const kind = kinds[i]!;
    if (kind === 'scalar') loads.push(`let v${i} = bitcast<f32>(${word(scalarWord(scalar++))});`);
    else if (kind === 'splat') loads.push(`let v${i} = gk_in${i}[0u];`);
    else if (kind === 'broadcast') loads.push(`let v${i} = gk_in${i}[gk_off${i}];`);
    else loads.push(`let v${i} = gk_in${i}[i];`);
  });
  const results = body.results.map((r, k) => {
    const g = guards.find(([target]) => target === k);
    return g === undefined ? r : `select(${r}, ${body.results[g[1]]!}, gk_isnan(${r}))`;
  });
  const perElement = [...loads, ...body.statements];
  let main: string[];
  if (mode === 'map') {
    const stores: string[] = [];
    targets.forEach((t, k) => {
      if (t === null) stores.push(`gk_out${k}[i] = ${results[k]};`);
      else if (typeof t === 'number') stores.push(`gk_in${t}[i] = ${results[k]};`);
    });
    main = [
      `@compute @workgroup_size(${FUSED_MAP_WORKGROUP})`,
      'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
      `  let i = gid.x + gid.y * nwg.x * ${FUSED_MAP_WORKGROUP}u;`,
      '  if (i >= gk_p[0u][0u]) { return; }',
      ...[...perElement, ...stores].map((s) => `  ${s}`),
      '}',
    ];
  } else {
    main = [
      `@compute @workgroup_size(${FUSED_SUM_WORKGROUP})`,
      'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
      '  let gk_n = gk_p[0u][0u];',
      `  let gk_stride = nwg.x * ${FUSED_SUM_WORKGROUP}u;`,
      '  var gk_s = 0.0f;',
      '  var gk_c = 0.0f;',
      `  for (var i = wid.x * ${FUSED_SUM_WORKGROUP}u + lid.x; i < gk_n; i = i + gk_stride) {`,
      ...perElement.map((s) => `    ${s}`),
      `    let gk_y = ${results[0]} - gk_c;`,
      '    let gk_t = gk_s + gk_y;',
      '    gk_c = (gk_t - gk_s) - gk_y;',
      '    gk_s = gk_t;',
      '  }',
      ...treeSum('gk_s'),
      '  if (lid.x == 0u) { gk_partial[wid.x] = gk_acc[0]; }',
      '}',
    ];
  }
  const module = `${decls.join('\n')}\n\n${main.join('\n')}`;
  const support = wgslSupport(module);
  return Object.freeze({
    code: support ? `${support}\n\n${module}\n` : `${module}\n`,
    workgroupSize: mode === 'map' ? FUSED_MAP_WORKGROUP : FUSED_SUM_WORKGROUP,
    inputs: Object.freeze(inputs),
    inOut: Object.freeze(inOut),
    fresh: Object.freeze(fresh),
    scalarWord,
    shapeWord,
    strideWord,
    words,
  });
}

/** WGSL lines adding each thread's `value` pairwise across the workgroup into `gk_acc[0]`. */
function treeSum(value: string): string[] {
  return [
    `  gk_acc[lid.x] = ${value};`,
    '  workgroupBarrier();',
    `  for (var w = ${FUSED_SUM_WORKGROUP / 2}u; w > 0u; w = w >> 1u) {`,
    '    if (lid.x < w) { gk_acc[lid.x] = gk_acc[lid.x] + gk_acc[lid.x + w]; }',
    '    workgroupBarrier();',
    '  }',
  ];
}

/**
 * The second pass of a sum: ONE workgroup adds `count` partials (uniform word 0; a compensated sum per
 * thread, then pairwise across the workgroup) and writes `total · scale` (word 1, f32 bits) to element 0 of
 * its output. Bindings: 0 uniform, 1 the partials (read), 2 the one-element result.
 */
export const SUM_PARTIALS_WGSL = `@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, 1>;
@group(0) @binding(1) var<storage, read> gk_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> gk_out: array<f32>;
var<workgroup> gk_acc: array<f32, ${FUSED_SUM_WORKGROUP}>;

@compute @workgroup_size(${FUSED_SUM_WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let gk_n = gk_p[0u][0u];
  var gk_s = 0.0f;
  var gk_c = 0.0f;
  for (var i = lid.x; i < gk_n; i = i + ${FUSED_SUM_WORKGROUP}u) {
    let gk_y = gk_in[i] - gk_c;
    let gk_t = gk_s + gk_y;
    gk_c = (gk_t - gk_s) - gk_y;
    gk_s = gk_t;
  }
${treeSum('gk_s').join('\n')}
  if (lid.x == 0u) { gk_out[0] = gk_acc[0] * bitcast<f32>(gk_p[0u][1u]); }
}
`;
