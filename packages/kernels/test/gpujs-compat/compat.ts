/**
 * The GPU.js compatibility suite's harness: each case runs on a cpu GPU and, when an adapter exists (always
 * under CI=true), on a webgpu GPU, awaiting results so one body serves both.
 */
import { GPU, type GPUMode } from '@gradkit/kernels';
import { afterAll, describe, it } from 'vitest';
import { setupWebGpu } from '../gpu-harness.js';

/** A GPU of either mode, as the cases use it. */
// biome-ignore lint/suspicious/noExplicitAny: the cases call kernels of both modes through one body
export type AnyGPU = GPU<any>;

/**
 * Registers `body` as one test per backend (`cpu`, and `webgpu` when available), each with its own GPU that
 * is destroyed afterwards.
 */
export async function compatSuite(
  file: string,
  cases: Record<string, (gpu: AnyGPU, mode: Exclude<GPUMode, 'auto'>) => Promise<void> | void>,
): Promise<void> {
  const { gpu: webgpu } = await setupWebGpu(file);
  afterAll(() => webgpu?.destroy());
  for (const mode of ['cpu', 'webgpu'] as const) {
    const d = mode === 'webgpu' && webgpu === null ? describe.skip : describe;
    d(mode, () => {
      for (const [name, body] of Object.entries(cases)) {
        it(name, async () => {
          const gpu: AnyGPU =
            mode === 'cpu' ? new GPU({ mode: 'cpu' }) : new GPU({ mode: 'webgpu', device: webgpu!.device! });
          try {
            await gpu.ready();
            await body(gpu, mode);
          } finally {
            gpu.destroy();
          }
        });
      }
    });
  }
}

/** A (nested) result as plain arrays of numbers. */
export function plainArrays(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as Float32Array);
  if (Array.isArray(v)) return v.map(plainArrays);
  return v;
}
