/**
 * @gradkit/autograd — reverse-mode automatic differentiation: a micrograd-style scalar engine whose graph is
 * an expression of the primitive table (so it can also be derived symbolically and compiled).
 *
 * @packageDocumentation
 */
export { symbol, Value, type ValueLike, value, valueGrad, whereValue } from './scalar/value.js';
export {
  ArgumentError,
  ArityError,
  CompileError,
  compile,
  type CompiledExpression,
  DomainError,
  DtypeError,
  derive,
  evaluate,
  evaluateBatch,
  Expr,
  FormatError,
  GradkitError,
  gradient,
  ShapeError,
  StateError,
  UnknownOpError,
} from '@gradkit/kernels';
export * from './tensor/index.js';
