import type { Value } from '@gradkit/autograd';

/**
 * The functions of the factor language: each is a method of `Value` (so an entry of the primitive table);
 * `where(c, a, b)` is `whereValue`. The name is the method's name, so the exported TypeScript reads the same.
 */
export const FUNCTIONS = {
  exp: 1,
  log: 1,
  log1p: 1,
  expm1: 1,
  sqrt: 1,
  abs: 1,
  sign: 1,
  sigmoid: 1,
  softplus: 1,
  logSigmoid: 1,
  tanh: 1,
  erf: 1,
  relu: 1,
  detach: 1,
  min: 2,
  max: 2,
  pow: 2,
  where: 3,
} as const satisfies Record<string, 1 | 2 | 3>;

/** A function name of {@link FUNCTIONS}. */
export type FunctionName = keyof typeof FUNCTIONS;

/** Whether `name` is a function of the language. */
export function isFunction(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTIONS, name);
}

/** The unary functions: `Value` methods without arguments. */
export type UnaryMethod = {
  [K in FunctionName]: (typeof FUNCTIONS)[K] extends 1 ? K : never;
}[FunctionName];

/** Calls the `Value` method of a unary function. */
export function callUnary(fn: UnaryMethod, v: Value): Value {
  return v[fn]();
}

/**
 * Names a parameter may not take: the functions, and the option names of the modulated losses
 * (`defineModulatedLoss` refuses them).
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...Object.keys(FUNCTIONS),
  'weight',
  'posWeight',
  'reduction',
  'detachWeight',
]);
