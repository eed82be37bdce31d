/**
 * Misuse of the expression layer fails loudly, with the typed error class, its stable code, the op, and the
 * offending argument named in the message.
 */
import {
  ArgumentError,
  ArityError,
  add,
  apply,
  compile,
  compileElementwise,
  constant,
  derive,
  type Expr,
  evaluate,
  evaluateAll,
  evaluateBatch,
  GradkitError,
  type GradkitErrorCode,
  gradient,
  mul,
  toExpr,
  UnknownOpError,
  variable,
} from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

type ErrorClass = new (...args: never[]) => GradkitError;

/** Runs `fn`, expecting an error of `cls` with `code`, raised by `op`, whose message contains every fragment. */
function expectError(
  fn: () => unknown,
  cls: ErrorClass,
  code: GradkitErrorCode,
  op: string,
  fragments: string[],
) {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(cls);
  const err = thrown as GradkitError;
  expect(err).toBeInstanceOf(GradkitError);
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe(cls.name);
  expect(err.code).toBe(code);
  expect(err.op).toBe(op);
  expect(err.message.startsWith(`${op}: `)).toBe(true);
  for (const f of fragments) expect(err.message).toContain(f);
}

const x = variable('x');
const y = variable('y');

describe('building expressions', () => {
  it('an unknown primitive raises UnknownOpError naming it and listing the known ones', () => {
    expectError(() => apply('sin', x), UnknownOpError, 'E_UNKNOWN_OP', 'sin', ["'sin'", 'sigmoid', 'tanh']);
    expectError(() => apply('', x), UnknownOpError, 'E_UNKNOWN_OP', '', ['unknown primitive']);
    // Names of Object.prototype members are not primitives either.
    expectError(() => apply('toString', x), UnknownOpError, 'E_UNKNOWN_OP', 'toString', ["'toString'"]);
  });

  it('the wrong number of arguments raises ArityError naming the op and both counts', () => {
    expectError(() => apply('add', x), ArityError, 'E_ARITY', 'add', ['expects 2', 'got 1']);
    expectError(() => apply('exp', x, y), ArityError, 'E_ARITY', 'exp', ['expects 1', 'got 2']);
    expectError(() => apply('where', x, y), ArityError, 'E_ARITY', 'where', ['expects 3', 'got 2']);
    expectError(() => apply('neg'), ArityError, 'E_ARITY', 'neg', ['expects 1', 'got 0']);
  });

  it('NaN constants are refused, whether explicit or passed as numbers to a builder', () => {
    expectError(() => constant(Number.NaN), ArgumentError, 'E_ARGUMENT', 'constant', ["'value'", 'NaN']);
    expectError(() => add(x, Number.NaN), ArgumentError, 'E_ARGUMENT', 'add', ["'#1'", 'NaN']);
    expectError(() => apply('where', Number.NaN, x, y), ArgumentError, 'E_ARGUMENT', 'where', [
      "'#0'",
      'NaN',
    ]);
    expectError(() => toExpr(Number.NaN, 'myOp', 'gamma'), ArgumentError, 'E_ARGUMENT', 'myOp', [
      "'gamma'",
      'NaN',
    ]);
  });

  it('arguments that are neither expressions nor numbers are refused, naming what they are', () => {
    const bad = (v: unknown) => v as Expr;
    expectError(() => mul(x, bad('2')), ArgumentError, 'E_ARGUMENT', 'mul', ["'#1'", 'string 2']);
    expectError(() => mul(bad(null), x), ArgumentError, 'E_ARGUMENT', 'mul', ["'#0'", 'null']);
    expectError(() => mul(x, bad(new Date(0))), ArgumentError, 'E_ARGUMENT', 'mul', ['Date']);
  });

  it('variables need a non-empty name', () => {
    expectError(() => variable(''), ArgumentError, 'E_ARGUMENT', 'variable', ["'name'", '""']);
  });
});

describe('differentiating', () => {
  const f = mul(x, y);

  it("deriving with respect to a non-variable raises ArgumentError naming 'wrt' and what it got", () => {
    expectError(() => derive(f, add(x, y)), ArgumentError, 'E_ARGUMENT', 'derive', [
      "'wrt'",
      'add',
      '(x + y)',
    ]);
    expectError(() => derive(f, constant(2)), ArgumentError, 'E_ARGUMENT', 'derive', ["'wrt'", 'const']);
    expectError(() => derive(f, 3 as unknown as Expr), ArgumentError, 'E_ARGUMENT', 'derive', ["'wrt'", '3']);
  });

  it('gradient names the offending entry of wrt', () => {
    expectError(() => gradient(f, [x, mul(x, 2)]), ArgumentError, 'E_ARGUMENT', 'derive', [
      "'wrt[1]'",
      'mul',
    ]);
  });
});

describe('evaluating and compiling', () => {
  const f = add(mul(x, y), 1);

  it('evaluate names the variable that has no numeric binding', () => {
    expectError(() => evaluate(f, { x: 1 }), ArgumentError, 'E_ARGUMENT', 'evaluate', ["'y'", 'undefined']);
    expectError(() => evaluate(f, new Map([['y', 1]])), ArgumentError, 'E_ARGUMENT', 'evaluate', ["'x'"]);
    const text = { x: 1, y: '2' } as unknown as Record<string, number>;
    expectError(() => evaluate(f, text), ArgumentError, 'E_ARGUMENT', 'evaluate', ["'y'", '2']);
    expectError(() => evaluateAll([x, y], { y: 1 }), ArgumentError, 'E_ARGUMENT', 'evaluate', ["'x'"]);
  });

  it('a NaN binding is a value, not an error', () => {
    expect(evaluate(f, { x: Number.NaN, y: 1 })).toBeNaN();
  });

  it('compile refuses a variable list that misses a variable of the expression', () => {
    expectError(() => compile(f, { variables: ['x'] }), ArgumentError, 'E_ARGUMENT', 'compile', [
      "'y'",
      "'variables'",
    ]);
  });

  it('a compiled expression names the missing input', () => {
    const g = compile(f);
    expectError(() => g({ x: 1 }), ArgumentError, 'E_ARGUMENT', 'compiled expression', ["'y'", 'missing']);
  });

  it('compileElementwise refuses a missing variable and a kinds list of the wrong length', () => {
    expectError(
      () => compileElementwise([f], ['y'], ['array']),
      ArgumentError,
      'E_ARGUMENT',
      'compileElementwise',
      ["'x'", "'variables'"],
    );
    expectError(
      () => compileElementwise([f], ['x', 'y'], ['array']),
      ArgumentError,
      'E_ARGUMENT',
      'compileElementwise',
      ["'kinds'", '1', '2'],
    );
    const odd = ['array', 'vector'] as unknown as ('array' | 'scalar')[];
    expectError(
      () => compileElementwise([f], ['x', 'y'], odd),
      ArgumentError,
      'E_ARGUMENT',
      'compileElementwise',
      ["'kinds[1]'", 'vector'],
    );
  });

  it('evaluateBatch names a missing column and columns of different lengths', () => {
    expectError(() => evaluateBatch(f, { x: [1, 2] }), ArgumentError, 'E_ARGUMENT', 'evaluateBatch', ["'y'"]);
    expectError(
      () => evaluateBatch(f, { x: [1, 2], y: [1, 2, 3] }),
      ArgumentError,
      'E_ARGUMENT',
      'evaluateBatch',
      ["'y'", '3', '2'],
    );
  });
});
