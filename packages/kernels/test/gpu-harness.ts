/**
 * Shared by the gpu-* and wgsl-* tests: one WebGPU device per test file (or a clear skip), evaluation of a
 * kernel function in plain JavaScript, and float comparisons.
 */
import { GPU, type KernelOutput, webgpuAvailability } from '@gradkit/kernels';

/** The WebGPU GPU of a test file, or null with the reason it is skipped. */
export interface WebGpuSetup {
  readonly gpu: GPU<'webgpu'> | null;
  readonly skip: string | null;
}

/**
 * Makes one webgpu-mode GPU for the file. Without an adapter the file's WebGPU tests are skipped with one line
 * saying why, except in CI (`CI=true`), where WebGPU tests must run: then this throws.
 */
export async function setupWebGpu(file: string): Promise<WebGpuSetup> {
  const a = await webgpuAvailability();
  if (!a.available) {
    const how = a.reason.includes('install-webgpu.sh')
      ? ''
      : '; to enable them on Debian 12, run .ci/install-webgpu.sh as root';
    const line = `WebGPU tests skipped (${file}): ${a.reason}${how}.`;
    if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
    console.warn(line);
    return { gpu: null, skip: line };
  }
  return { gpu: await GPU.create({ mode: 'webgpu' }), skip: null };
}

type AnyKernelFn = (...args: never[]) => number | boolean;

/**
 * Runs a kernel function in plain JavaScript: `this` holds thread, output and constants; returns the flat
 * results (x fastest), each converted with Number() as a typed array store would.
 */
export function plain(
  fn: AnyKernelFn | string,
  output: readonly number[],
  args: readonly unknown[],
  constants: Record<string, number> = {},
): Float64Array {
  const f = (typeof fn === 'string' ? new Function(`return (${fn});`)() : fn) as (...a: unknown[]) => unknown;
  const [X, Y = 1, Z = 1] = output;
  const out = new Float64Array(X! * Y * Z);
  const outSize = { x: X!, y: Y, z: Z };
  let k = 0;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X!; x++) {
        out[k++] = Number(f.apply({ thread: { x, y, z }, output: outSize, constants }, args as unknown[]));
      }
    }
  }
  return out;
}

/** Flattens a kernel output (1-3-D, GPU.js shape) into one Float64Array. */
export function flat(out: KernelOutput): Float64Array {
  if (out instanceof Float32Array || out instanceof Float64Array) return Float64Array.from(out);
  const parts: number[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array || v instanceof Float64Array) parts.push(...v);
    else for (const x of v as unknown[]) walk(x);
  };
  walk(out);
  return Float64Array.from(parts);
}

/** Index of the first element where `got` differs from `want` beyond |d| <= atol + rtol |want| (NaN = NaN). */
export function firstMismatch(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
): number {
  if (got.length !== want.length) return -2;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      return i;
    }
    if (g === w) continue;
    if (!Number.isFinite(w) || !Number.isFinite(g)) return i;
    if (Math.abs(g - w) > atol + rtol * Math.abs(w)) return i;
  }
  return -1;
}

/** Throws a readable error when `got` and `want` differ beyond the tolerance. */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
  label = '',
): void {
  const i = firstMismatch(got, want, rtol, atol);
  if (i === -2) throw new Error(`${label}: length ${got.length} != ${want.length}`);
  if (i >= 0) {
    throw new Error(`${label}: element ${i}: got ${got[i]}, want ${want[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The cpu backend stores float64 arithmetic rounded to float32: exactly Math.fround of plain JavaScript. */
export function expectFround(got: ArrayLike<number>, want: ArrayLike<number>, label = ''): void {
  const rounded = Float64Array.from(want, (v) => Math.fround(v));
  expectClose(got, rounded, 0, 0, label);
}
