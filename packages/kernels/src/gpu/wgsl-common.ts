/**
 * Helpers shared by the hand-written WGSL kernels of the tensor ops on WebGPU (wgsl-matmul, wgsl-strided,
 * wgsl-gather, wgsl-softmax): the 2-D dispatch grid of element kernels, u32 tables uploaded as device
 * arrays, and zero-filled arrays.
 */
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { dispatchSize } from './webgpu.js';

/** Threads per workgroup of the element kernels (one thread per output element). */
export const ELEMENT_WORKGROUP = 256;

/**
 * WGSL declaring `fn flatId(wg, nwg, lid) -> u32`: the global thread index of an element kernel dispatched
 * on the grid of {@link elementGrid} (workgroups spread over x and y).
 */
export const FLAT_ID_WGSL = `
fn flatId(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * nwg.x + wg.x) * ${ELEMENT_WORKGROUP}u + lid.x;
}`;

/**
 * Workgroups (x, y) covering `threads` threads of {@link ELEMENT_WORKGROUP}, or `[0, 1]` for none.
 *
 * @throws ShapeError when even a 2-D grid within the adapter's maxComputeWorkgroupsPerDimension is too small
 */
export function elementGrid(rt: WebGpuArrays, op: string, threads: number, perGroup = ELEMENT_WORKGROUP) {
  if (threads === 0) return [0, 1] as [number, number];
  return dispatchSize(Math.ceil(threads / perGroup), rt.device.limits.maxComputeWorkgroupsPerDimension, op);
}

/**
 * A device array holding the bits of `values` (read in WGSL as `array<u32>`): index and offset tables.
 * Dispose it after the dispatch that reads it.
 */
export function uploadU32(rt: WebGpuArrays, op: string, values: Uint32Array): DeviceArray {
  const words = values.length === 0 ? new Uint32Array(1) : values;
  return rt.upload(new Float32Array(words.buffer, words.byteOffset, words.length), op);
}

const ZEROS_WGSL = `
@group(0) @binding(0) var<uniform> p: vec4<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1)
fn main() { out[0] = f32(p.x); }`;

/** A new device array of `length` zeros (WebGPU zero-fills new buffers; nothing is dispatched). */
export function deviceZeros(rt: WebGpuArrays, op: string, length: number): DeviceArray {
  return rt.compute(op, { code: ZEROS_WGSL, inputs: [], outputs: [length], workgroups: [0] })[0]!;
}

/** Packs u32 values into a uniform buffer (zero-padded to a multiple of 16 bytes). */
export function uniformU32(values: readonly number[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  new Uint32Array(buf).set(values);
  return buf;
}
