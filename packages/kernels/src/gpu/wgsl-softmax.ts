/**
 * Softmax and logSoftmax along one dimension on WebGPU, and their backward passes. One workgroup per slice
 * (`[outer, length, inner]`: the slice `(o, i)` is elements `o * length * inner + i + j * inner`); its threads
 * stride over the slice and combine through a tree in workgroup memory, in a fixed order (deterministic).
 * Forward is numerically stable: the slice maximum first (NaN-ignoring, like the cpu), then the sum of
 * `exp(x − max)`, all in float32.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { dispatchSize } from './webgpu.js';
import { uniformU32 } from './wgsl-common.js';

/** Threads per slice. */
const THREADS = 64;

/** What {@link deviceSoftmax} computes. */
export type SoftmaxKind = 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'logSoftmaxBackward';

const TREE = (op: string, result = 'total') => `
  red[lid.x] = v;
  workgroupBarrier();
  for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { let a = red[lid.x]; let b = red[lid.x + s]; red[lid.x] = ${op}; }
    workgroupBarrier();
  }
  let ${result} = red[0];
  workgroupBarrier();`;

function body(kind: SoftmaxKind): string {
  switch (kind) {
    case 'softmax':
    case 'logSoftmax':
      return `
  var v = bitcast<f32>(p.neginf); // -inf (a constant -inf is not valid WGSL)
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { let e = x[base + j * p.inner]; if (e > v) { v = e; } }
  ${TREE('select(a, b, b > a)', 'mx')}
  v = 0.0;
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { v += exp(x[base + j * p.inner] - mx); }
  ${TREE('a + b')}
  ${
    kind === 'softmax'
      ? `for (var j = lid.x; j < p.len; j += ${THREADS}u) { let at = base + j * p.inner; out[at] = exp(x[at] - mx) / total; }`
      : `let shift = mx + log(total);
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { let at = base + j * p.inner; out[at] = x[at] - shift; }`
  }`;
    case 'softmaxBackward':
      return `
  var v = 0.0;
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { let at = base + j * p.inner; v += g[at] * x[at]; }
  ${TREE('a + b')}
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { let at = base + j * p.inner; out[at] = x[at] * (g[at] - total); }`;
    case 'logSoftmaxBackward':
      return `
  var v = 0.0;
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { v += g[base + j * p.inner]; }
  ${TREE('a + b')}
  for (var j = lid.x; j < p.len; j += ${THREADS}u) { let at = base + j * p.inner; out[at] = g[at] - exp(x[at]) * total; }`;
  }
}

function softmaxWgsl(kind: SoftmaxKind): string {
  const backward = kind.endsWith('Backward');
  return `
struct P { slices: u32, len: u32, inner: u32, neginf: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${backward ? '@group(0) @binding(2) var<storage, read> g: array<f32>;' : ''}
@group(0) @binding(${backward ? 3 : 2}) var<storage, read_write> out: array<f32>;
var<workgroup> red: array<f32, ${THREADS}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let slice = wg.y * nwg.x + wg.x;
  if (slice >= p.slices) { return; }
  let base = (slice / p.inner) * p.len * p.inner + slice % p.inner;
  ${body(kind)}
}`;
}

const CODE = new Map<SoftmaxKind, string>(
  (['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'] as const).map((k) => [
    k,
    softmaxWgsl(k),
  ]),
);

/**
 * Softmax or logSoftmax of `x` (`[outer, length, inner]`, softmax along the middle), or their backward:
 * for `'softmaxBackward'` `x` is the softmax output y and the result is `y · (g − Σ g·y)`; for
 * `'logSoftmaxBackward'` `x` is the logSoftmax output y and the result is `g − exp(y) · Σ g`.
 *
 * @throws ArgumentError for an unknown kind or a missing `g`; ShapeError when the sizes do not fit the arrays
 */
export function deviceSoftmax(
  rt: WebGpuArrays,
  op: string,
  kind: SoftmaxKind,
  x: DeviceArray,
  layout: { readonly outer: number; readonly length: number; readonly inner: number },
  g?: DeviceArray,
): DeviceArray {
  const code = CODE.get(kind);
  if (code === undefined) throw new ArgumentError(op, `unknown softmax kind ${String(kind)}`);
  const backward = kind.endsWith('Backward');
  if (backward !== (g !== undefined)) {
    throw new ArgumentError(op, `'${kind}' ${backward ? 'needs' : 'takes no'} gradient array`);
  }
  const { outer, length, inner } = layout;
  const n = outer * length * inner;
  if (x.length !== n || (g !== undefined && g.length !== n)) {
    throw new ShapeError(op, `[${outer}, ${length}, ${inner}] does not fit arrays of ${x.length} values`);
  }
  const slices = outer * inner;
  const grid: [number, number] =
    n === 0 ? [0, 1] : dispatchSize(slices, rt.device.limits.maxComputeWorkgroupsPerDimension, op);
  return rt.compute(op, {
    code,
    inputs: g === undefined ? [x] : [x, g],
    outputs: [n],
    params: uniformU32([slices, length, inner, 0xff800000]),
    workgroups: grid,
  })[0]!;
}
