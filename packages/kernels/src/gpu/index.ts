/**
 * The public surface of the GPU.js-style kernel compiler and of the WGSL code generator, gathered here so that
 * the package index re-exports it in one statement.
 */
export {
  compileElementwiseWgsl,
  WGSL_HELPER_NAMES,
  type WgslElementwise,
  WORKGROUP_SIZE as WGSL_WORKGROUP_SIZE,
  wgslDialect,
  wgslIntLiteral,
  wgslLiteral,
  wgslSupport,
} from '../codegen/wgsl.js';
export { Input, input, type KernelArgument } from './args.js';
export type { ElementwiseInputs, ElementwiseRunner } from './elementwise.js';
export { GPU, type GPUSettings } from './gpu.js';
export type {
  HelperFunction,
  Kernel,
  KernelConstants,
  KernelFunction,
  KernelMethods,
  KernelSettings,
  KernelSource,
  KernelThis,
  OutputSize,
  PipelineKernel,
} from './kernel.js';
export { type Backend, type GPUMode, type KernelOutput, KernelResult, type ModeResult } from './result.js';
export {
  HOW_TO_ENABLE_WEBGPU,
  type WebGpuAvailability,
  type WebGpuBufferLike,
  type WebGpuComputePassLike,
  type WebGpuDeviceLike,
  type WebGpuEncoderLike,
  type WebGpuPipelineLike,
  type WebGpuShaderModuleLike,
  webgpuAvailability,
} from './webgpu.js';
