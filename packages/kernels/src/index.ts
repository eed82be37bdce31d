/**
 * @gradkit/kernels — the primitive table, the expression IR built on it, symbolic differentiation over it,
 * and code generation from it. Everything elementwise in gradkit is an expression of these primitives.
 *
 * @packageDocumentation
 */

export {
  type CompiledExpression,
  compile,
  compileElementwise,
  type ElementwiseKernel,
  evaluateBatch,
  type InputKind,
  type NumericArray,
} from './codegen/js.js';
export {
  compileFusedReduce,
  compileStridedReduce,
  type FusedReduceKernel,
  type FusedReduceOptions,
  fusedStraightLine,
  type StridedReduceKernel,
} from './codegen/reduce.js';
export { type Dialect, jsDialect, jsLiteral, type StraightLine, straightLine } from './codegen/schedule.js';
export { compileStrided, type StridedKernel } from './codegen/strided.js';
export {
  ArgumentError,
  ArityError,
  CompileError,
  DomainError,
  DtypeError,
  FormatError,
  GradkitError,
  type GradkitErrorCode,
  ShapeError,
  StateError,
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
// ---------------------------------------------------------------------------------------------------------
// GPU.js-style kernels (cpu: generated JavaScript; webgpu: generated WGSL) and WGSL for the expression IR,
// gathered in gpu/index.ts and re-exported here in this one statement.
// ---------------------------------------------------------------------------------------------------------
export {
  type Backend,
  compileElementwiseWgsl,
  type ElementwiseInputs,
  type ElementwiseRunner,
  GPU,
  type GPUMode,
  type GPUSettings,
  type HelperFunction,
  HOW_TO_ENABLE_WEBGPU,
  Input,
  input,
  type Kernel,
  type KernelArgument,
  type KernelConstants,
  type KernelFunction,
  type KernelMethods,
  type KernelOutput,
  KernelResult,
  type KernelSettings,
  type KernelSource,
  type KernelThis,
  type ModeResult,
  type OutputSize,
  type PipelineKernel,
  type WebGpuAvailability,
  type WebGpuBufferLike,
  type WebGpuComputePassLike,
  type WebGpuDeviceLike,
  type WebGpuEncoderLike,
  type WebGpuPipelineLike,
  type WebGpuShaderModuleLike,
  WGSL_HELPER_NAMES,
  WGSL_WORKGROUP_SIZE,
  type WgslElementwise,
  webgpuAvailability,
  wgslDialect,
  wgslIntLiteral,
  wgslLiteral,
  wgslSupport,
} from './gpu/index.js';
export {
  logSigmoid as logSigmoidNumber,
  type Runtime,
  runtime,
  sigmoid as sigmoidNumber,
  softplus as softplusNumber,
} from './runtime.js';
