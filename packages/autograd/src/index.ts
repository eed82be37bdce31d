/**
 * @gradkit/autograd — reverse-mode automatic differentiation: a micrograd-style scalar engine whose graph is
 * an expression of the primitive table (so it can also be derived symbolically and compiled).
 *
 * @packageDocumentation
 */

export {
  ArgumentError,
  ArityError,
  type CompiledExpression,
  CompileError,
  compile,
  DomainError,
  DtypeError,
  derive,
  Expr,
  evaluate,
  evaluateBatch,
  FormatError,
  GradkitError,
  gradient,
  ShapeError,
  StateError,
  UnknownOpError,
} from '@gradkit/kernels';
export { symbol, Value, type ValueLike, value, valueGrad, whereValue } from './scalar/value.js';
export * from './tensor/index.js';
