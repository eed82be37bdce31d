/**
 * A WebGPU device seen through a wrapper, for the limits and life-cycle tests: it can report other limits than
 * the real device (so gradkit's own checks, or the device's validation, are what stops a call), tamper with
 * bind groups (to force a validation error), and counts the buffers made through it that are not destroyed.
 */
import type { WebGpuBufferLike, WebGpuDeviceLike } from '@gradkit/kernels';

type Limits = WebGpuDeviceLike['limits'];
type BindGroupDescriptor = Parameters<WebGpuDeviceLike['createBindGroup']>[0];

/** The wrapper and its live-buffer count. */
export interface WrappedDevice {
  readonly device: WebGpuDeviceLike;
  /** Buffers created through the wrapper and not yet destroyed. */
  readonly live: Set<WebGpuBufferLike>;
}

/** Wraps `real`; `limits` replace the reported limits, `bindGroup` may rewrite bind group descriptors. */
export function wrapDevice(
  real: WebGpuDeviceLike,
  options: {
    readonly limits?: Partial<Limits>;
    readonly bindGroup?: (d: BindGroupDescriptor) => BindGroupDescriptor;
  } = {},
): WrappedDevice {
  const live = new Set<WebGpuBufferLike>();
  const limits: Limits = {
    maxComputeWorkgroupsPerDimension: real.limits.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: real.limits.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: real.limits.maxStorageBufferBindingSize,
    maxBufferSize: real.limits.maxBufferSize,
    ...options.limits,
  };
  const device: WebGpuDeviceLike = {
    limits,
    queue: real.queue,
    lost: real.lost,
    createBuffer(d) {
      const b = real.createBuffer(d);
      live.add(b);
      const destroy = b.destroy.bind(b);
      Object.defineProperty(b, 'destroy', {
        value: () => {
          live.delete(b);
          destroy();
        },
      });
      return b;
    },
    createShaderModule: (d) => real.createShaderModule(d),
    createComputePipeline: (d) => real.createComputePipeline(d),
    createComputePipelineAsync: (d) => real.createComputePipelineAsync(d),
    createBindGroup: (d) => real.createBindGroup(options.bindGroup ? options.bindGroup(d) : d),
    createCommandEncoder: () => real.createCommandEncoder(),
    pushErrorScope: (f) => real.pushErrorScope(f),
    popErrorScope: () => real.popErrorScope(),
    destroy: () => undefined,
  };
  return { device, live };
}
