/**
 * @gradkit/kernels — the primitive table, the expression IR built on it, symbolic differentiation over it,
 * and code generation from it. Everything elementwise in gradkit is an expression of these primitives.
 *
 * @packageDocumentation
 */
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
export { logSigmoid as logSigmoidNumber, runtime, type Runtime, sigmoid as sigmoidNumber, softplus as softplusNumber } from './runtime.js';
export { constant, Expr, freeVariables, topoSort, variable } from './expr/node.js';
export {
  type DerivativeRule,
  isPrimitive,
  type Primitive,
  PRIMITIVE_NAMES,
  type PrimitiveName,
  PRIMITIVES,
  type RuleBuilder,
} from './expr/primitives.js';
export {
  abs,
  add,
  and,
  apply,
  detach,
  div,
  eq,
  type ExprLike,
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
export { type Dialect, jsDialect, jsLiteral, type StraightLine, straightLine } from './codegen/schedule.js';
export {
  type CompiledExpression,
  compile,
  compileElementwise,
  type ElementwiseKernel,
  evaluateBatch,
  type InputKind,
  type NumericArray,
} from './codegen/js.js';
export { compileStrided, type StridedKernel } from './codegen/strided.js';
