/**
 * @gradkit/kernels — the primitive table, the expression IR built on it, symbolic differentiation over it,
 * and code generation from it. Everything elementwise in gradkit is an expression of these primitives.
 *
 * @packageDocumentation
 */

export {
  AUTO_WASM_MIN_ELEMENTS,
  autoBackend,
  type ElementwiseBackendName,
  type ExpressionBackend,
  elementwiseBackend,
  expressionBackend,
  jsBackend,
  runsOnWasm,
  setElementwiseBackend,
  wasmBackend,
  wasmSimdAvailable,
} from './codegen/backend.js';
export {
  type CompiledExpression,
  compile,
  compileElementwise,
  type ElementwiseKernel,
  evaluateBatch,
  type InputKind,
  type NumericArray,
} from './codegen/js.js';
export { compiledKernelCount } from './codegen/lowering.js';
export {
  compileFusedReduce,
  compileStridedReduce,
  type FusedReduceKernel,
  type FusedReduceOptions,
  type StridedReduceKernel,
} from './codegen/reduce.js';
export {
  type Dialect,
  fusedStraightLine,
  jsDialect,
  jsLiteral,
  MAX_INLINE_DEPTH,
  type StraightLine,
  straightLine,
} from './codegen/schedule.js';
export { compileStrided, type StridedKernel } from './codegen/strided.js';
export {
  compileElementwiseWgsl,
  WGSL_HELPER_NAMES,
  type WgslElementwise,
  WORKGROUP_SIZE as WGSL_WORKGROUP_SIZE,
  wgslDialect,
  wgslIntLiteral,
  wgslLiteral,
  wgslSupport,
} from './codegen/wgsl.js';
export {
  coalesceDims,
  compileStridedWgsl,
  type MergedDims,
  type WgslStrided,
} from './codegen/wgsl-strided.js';
export {
  ArgumentError,
  ArityError,
  CompileError,
  DeviceError,
  DomainError,
  DtypeError,
  FormatError,
  GradkitError,
  type GradkitErrorCode,
  ShapeError,
  StateError,
  sourceExcerpt,
  UnknownOpError,
} from './errors.js';
export {
  abs,
  add,
  and,
  apply,
  detach,
  div,
  type ExprLike,
  eq,
  erf,
  exp,
  expm1,
  ge,
  gt,
  le,
  log,
  log1p,
  logSigmoid,
  lt,
  max,
  min,
  mul,
  ne,
  neg,
  not,
  or,
  pow,
  relu,
  ruleBuilder,
  sigmoid,
  sign,
  softplus,
  sqrt,
  sub,
  tanh,
  toExpr,
  where,
} from './expr/build.js';
export { adjoints, derive, gradient, substitute } from './expr/derive.js';
export { type Bindings, evaluate, evaluateAll } from './expr/evaluate.js';
export { constant, Expr, freeVariables, topoSort, variable } from './expr/node.js';
export {
  type DerivativeRule,
  isPrimitive,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type Primitive,
  type PrimitiveName,
  type RuleBuilder,
} from './expr/primitives.js';
// GPU.js-style kernels (cpu: generated JavaScript; webgpu: generated WGSL).
export { Input, input, type KernelArgument } from './gpu/args.js';
export {
  type ComputeSpec,
  DEFAULT_POOL_BYTES,
  DeviceArray,
  type DeviceMemory,
  poolBucket,
  WebGpuArrays,
} from './gpu/device-arrays.js';
export {
  type DeviceFusedCall,
  deviceFusedMap,
  deviceFusedSum,
  type FusedOperand,
  sumPartials,
} from './gpu/device-fused.js';
export type { ElementwiseInputs, ElementwiseRunner } from './gpu/elementwise.js';
export { type AnyKernel, GPU, type GPUSettings, type KernelMap, type KernelMapOutput } from './gpu/gpu.js';
export {
  alias,
  type HelperFunction,
  type Kernel,
  type KernelConstants,
  type KernelFunction,
  type KernelJSON,
  type KernelMethods,
  type KernelSettings,
  type KernelSource,
  type KernelThis,
  type NativeFunction,
  type OutputSize,
  type PipelineKernel,
} from './gpu/kernel.js';
export {
  type Backend,
  type GPUMode,
  type KernelOutput,
  KernelResult,
  type ModeResult,
} from './gpu/result.js';
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
} from './gpu/webgpu.js';
export { deviceZeros } from './gpu/wgsl-common.js';
export {
  compileFusedWgsl,
  type FusedKernel,
  type FusedKernelSpec,
  type FusedOperandKind,
  fusedKernelsGenerated,
} from './gpu/wgsl-fused.js';
export { deviceGatherRows, deviceScatterAddRows, type RowGather } from './gpu/wgsl-gather.js';
export { type DeviceMatmulBias, type DeviceMatmulSpec, deviceMatmul } from './gpu/wgsl-matmul.js';
export {
  indicesToFloat,
  type Reduced,
  type ReduceKind,
  type ReducePlan,
  reduceArray,
  reducePlan,
  selectionMask,
} from './gpu/wgsl-reduce.js';
export { deviceSoftmax, type SoftmaxKind } from './gpu/wgsl-softmax.js';
export {
  type DeviceWindow,
  deviceStridedRead,
  deviceStridedWrite,
  MAX_STRIDED_RANK,
} from './gpu/wgsl-strided.js';
export {
  erf as erfNumber,
  logSigmoid as logSigmoidNumber,
  type Runtime,
  runtime,
  sigmoid as sigmoidNumber,
  softplus as softplusNumber,
} from './runtime.js';
export { LruCache } from './util/lru.js';
export { checkOptionKeys, describeValue, ownValue } from './util/own.js';
/**
 * The kernels' WebAssembly memory arena, for gradkit's other WebAssembly modules (the tensor engine's
 * matmul reads and writes arena storage in place): the memory (`wasmMemory`), the type a module must
 * declare to import it (`memoryImport`), and where an array lives in it (`arenaAddress`).
 *
 * @internal plumbing between gradkit's packages, not a public API
 */
export * as wasmArena from './wasm/arena.js';
export {
  ARENA_MIN_ELEMENTS,
  type ArenaStats,
  allocateStorage,
  arenaCapacity,
  arenaStats,
  DEFAULT_ARENA_CAPACITY,
  isArenaStorage,
  releaseStorage,
  setArenaCapacity,
} from './wasm/arena.js';
/**
 * The WebAssembly binary emitter the expression kernels use, shared with the tensor engine's matmul kernel.
 *
 * @internal plumbing between gradkit's packages, not a public API
 */
export * as wasmEmit from './wasm/emit.js';
export { transcendentalCount } from './wasm/generate.js';
export { wasmStats } from './wasm/runtime.js';
/**
 * The parallel runner of generated WebAssembly programs (runParallel, splitRange, warmThreads), shared with
 * the tensor engine and the benchmarks.
 *
 * @internal plumbing between gradkit's packages, not a public API
 */
export * as wasmThreads from './wasm/threads.js';
export { getNumThreads, setNumThreads } from './wasm/threads.js';
