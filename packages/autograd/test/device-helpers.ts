/**
 * Helpers of the WebGPU tensor tests: whether an adapter is there (mandatory under `CI=true`), float32
 * comparisons against the cpu backend, and random host values for a shape.
 */
import { fromArray, Generator, randn, type Tensor } from '@gradkit/autograd';
import { webgpuAvailability } from '@gradkit/kernels';

/**
 * Whether WebGPU tests can run; logs one line when they are skipped, and throws under `CI=true` (where
 * WebGPU is mandatory).
 */
export async function haveWebGpu(file: string): Promise<boolean> {
  const availability = await webgpuAvailability();
  if (!availability.available) {
    const line = `WebGPU tests skipped (${file}): ${availability.reason}.`;
    if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
    console.warn(line);
  }
  return availability.available;
}

/**
 * Indices where |got - want| > atol + rtol |want| (NaN matches NaN; ±inf must match exactly); `[-1]` when
 * the lengths differ.
 */
export function mismatches(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
): number[] {
  if (got.length !== want.length) return [-1];
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(g === w || Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      bad.push(i);
    }
  }
  return bad;
}

/** A float64 cpu tensor of `shape` with standard normal values drawn from `seed`. */
export function normal(shape: readonly number[], seed: number, requiresGrad = false): Tensor {
  return randn(shape, { dtype: 'float64', requiresGrad, generator: new Generator(seed) });
}

/** `x`'s values (rounded to float32) as a webgpu tensor, detached from any graph. */
export function onDevice(x: Tensor, requiresGrad = false): Tensor {
  const t = fromArray(Array.from(x.data), [...x.shape], { dtype: 'float32' }).to('webgpu');
  if (requiresGrad) t.requiresGrad = true;
  return t;
}
