/**
 * Shared by the tensor-device-ops*.test.ts files: WebGPU setup (skipped with one line without an adapter,
 * mandatory under CI=true), deterministic random tensors, moving them to the device, and float32
 * comparisons scaled to the magnitudes involved.
 */
import { fromArray, initWebGPU, noGrad, type Tensor } from '@gradkit/autograd';
import { webgpuAvailability } from '@gradkit/kernels';
import { expect } from 'vitest';

/** Whether WebGPU tests run in `file` (throws under CI=true without an adapter). */
export async function haveWebGpu(file: string): Promise<boolean> {
  const a = await webgpuAvailability();
  if (!a.available) {
    const line = `WebGPU tests skipped (${file}): ${a.reason}.`;
    if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
    console.warn(line);
    return false;
  }
  await initWebGPU();
  return true;
}

/** `n` float32 values in [-1, 1) from a small LCG seeded with `seed` (reproducible, no fast-check arrays). */
export function values(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A float32 cpu tensor of `shape` with values from {@link values}. */
export function randomTensor(shape: readonly number[], seed: number, requiresGrad = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return fromArray(values(n, seed), [...shape], { dtype: 'float32', requiresGrad });
}

/** `t` copied to webgpu (as a leaf, requiring grad when asked). */
export function toGpu(t: Tensor, requiresGrad = false): Tensor {
  const d = noGrad(() => t.to('webgpu'));
  if (requiresGrad) d.requiresGrad = true;
  return d;
}

/**
 * Expects a webgpu tensor to hold `want`'s shape and values within `atol` (absolute; callers scale it to
 * the magnitudes of the computation) plus a float32 relative tolerance.
 */
export async function expectClose(got: Tensor, want: Tensor, atol = 1e-5, what = ''): Promise<void> {
  expect([what, got.device]).toEqual([what, 'webgpu']);
  expect([what, [...got.shape]]).toEqual([what, [...want.shape]]);
  const g = await got.dataAsync();
  const w = want.data;
  const bad: string[] = [];
  for (let i = 0; i < w.length && bad.length < 5; i++) {
    const tol = atol + 1e-5 * Math.abs(w[i]!);
    if (!(Math.abs(g[i]! - w[i]!) <= tol)) bad.push(`#${i}: got ${g[i]} want ${w[i]}`);
  }
  expect([what, bad]).toEqual([what, []]);
}
