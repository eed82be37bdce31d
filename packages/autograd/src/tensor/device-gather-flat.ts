/**
 * The flat gather / scatter pair `prod` is built from, on webgpu: `out[i] = x[idx[i]]` (or a fill value
 * where `idx[i] < 0`) and its adjoint `out[idx[i]] = g[i]` into zeros. The index maps `prod` uses are
 * injective (every source element appears at most once), so the scatter needs no atomics: it writes.
 */
import type { DeviceArray } from '@gradkit/kernels';
import { webgpuRuntime } from './device.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';
import { record1, type Tensor } from './tensor.js';

const WG = 64;

const GATHER = `@group(0) @binding(0) var<uniform> gk_p: vec4<u32>;
@group(0) @binding(1) var<storage, read> gk_x: array<f32>;
@group(0) @binding(2) var<storage, read> gk_idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> gk_out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= gk_p.x) { return; }
  let j = gk_idx[i];
  if (j == 0xffffffffu) { gk_out[i] = bitcast<f32>(gk_p.y); } else { gk_out[i] = gk_x[j]; }
}
`;

const SCATTER = `@group(0) @binding(0) var<uniform> gk_p: vec4<u32>;
@group(0) @binding(1) var<storage, read> gk_g: array<f32>;
@group(0) @binding(2) var<storage, read> gk_idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> gk_out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= gk_p.x) { return; }
  let j = gk_idx[i];
  if (j != 0xffffffffu) { gk_out[j] = gk_g[i]; }
}
`;

/** A device copy of an index map: its int32 bits as u32 words (-1 becomes 0xffffffff, "none"). */
export function uploadIndices(op: string, idx: Int32Array): DeviceArray {
  return webgpuRuntime(op).upload(new Float32Array(idx.buffer, idx.byteOffset, idx.length), op);
}

function run(op: string, code: string, src: DeviceArray, idx: DeviceArray, n: number, out: number, fill = 0) {
  const rt = webgpuRuntime(op);
  const params = new ArrayBuffer(16);
  new Uint32Array(params)[0] = n;
  new Float32Array(params)[1] = fill;
  const groups = Math.ceil(n / WG);
  const limit = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const wy = Math.ceil(groups / limit);
  return rt.compute(op, {
    code,
    inputs: [src, idx],
    outputs: [out],
    params,
    workgroups: n === 0 ? [0] : [Math.ceil(groups / wy), wy],
  })[0]!;
}

/**
 * @internal `out[i] = x[idx[i]]` (or `fill` where the index is none) for a webgpu tensor, shaped `shape`
 * (`idx` holds `sizeOf(shape)` indices, see {@link uploadIndices}); differentiable (the adjoint scatter).
 */
export function deviceGatherFlat(x: Tensor, idx: DeviceArray, shape: Shape, fill: number): Tensor {
  const op = 'prod_gather';
  const n = sizeOf(shape);
  const out = run(op, GATHER, x.deviceArray!, idx, n, n, fill);
  const inShape = x.shape;
  return record1(op, [x], out, [...shape], (g) => [deviceScatterFlat(g, idx, inShape)]);
}

/** @internal `out[idx[i]] = g[i]` into zeros of `shape` (an injective index map); the adjoint of the gather. */
export function deviceScatterFlat(g: Tensor, idx: DeviceArray, shape: Shape): Tensor {
  const op = 'prod_scatter';
  const out = run(op, SCATTER, g.deviceArray!, idx, g.size, sizeOf(shape));
  const gShape = g.shape;
  return record1(op, [g], out, [...shape], (gg) => [deviceGatherFlat(gg, idx, gShape, 0)]);
}
