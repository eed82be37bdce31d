/**
 * Fuzz: every public function of @gradkit/testing (enumerated from the module, so new exports are covered
 * unless listed below with a reason) and the GradcheckFailure constructor, called with malformed inputs:
 * wrong types, NaN/inf, holes, hostile objects (`__proto__` keys, throwing getters, Proxies), huge sizes and
 * ranks, functions that return the wrong thing, Jacobian problems that lie about their sizes. Each call must
 * return a well-formed result or throw a typed GradkitError — never a crash, a hang, a RangeError, a
 * TypeError or a fast-check error about its own bounds. Arbitraries are also sampled: drawing from an
 * arbitrary that was accepted gives well-formed values (tensors of a valid shape, shapes of non-negative
 * integers, numbers inside the asked range) or a typed error.
 *
 * Policy: an exception raised by the user's own code (a getter, a Proxy trap, the checked function itself)
 * may propagate unchanged; a GradcheckFailure is the documented outcome of `raiseException: true`.
 */
import * as AG from '@gradkit/autograd';
import { GradkitError, Tensor } from '@gradkit/autograd';
import * as T from '@gradkit/testing';
import { GradcheckFailure, propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostileError, hostileProxy, throwingGetter } from './hostile.js';

/** Exports not fuzzed, with the reason. */
const NOT_FUZZED: Record<string, string> = {
  measureHeapGrowth:
    'starts a child Node process per call (seconds each); its argument checks are in the heap tests',
};

const proxy = hostileProxy([1, 2]);

/**
 * The checked functions of the pool are user code: called with the wrong number of arguments (inputs of
 * the wrong length), they fail on their own, and that failure is theirs — it is wrapped as a HostileError.
 */
const userFn =
  <A extends unknown[]>(f: (...a: A) => unknown) =>
  (...a: A): unknown => {
    try {
      return f(...a);
    } catch (e) {
      if (e instanceof GradkitError) throw e;
      throw new HostileError(`user function: ${String(e)}`);
    }
  };

const f64 = (values: number[], shape: number[], requiresGrad = true): Tensor =>
  AG.fromArray(values, shape, { dtype: 'float64', requiresGrad });

/** A well-formed Jacobian problem: y = [x0², x0·x1] with the right Jacobian. */
function goodProblem(): T.JacobianProblem {
  const x = [0.5, -1.5];
  return {
    inputCount: 1,
    inputSize: () => 2,
    evaluate: () => [x[0]! * x[0]!, x[0]! * x[1]!],
    get: (_i, j) => x[j]!,
    set: (_i, j, v) => {
      x[j] = v;
    },
    analyticalRow: (o) => [o === 0 ? [2 * x[0]!, 0] : [x[1]!, x[0]!]],
  };
}

const report = (): T.GradcheckReport => T.gradcheck((a) => a.mul(a), [1.5]);

const POOL: Record<string, () => unknown> = {
  // numbers
  zero: () => 0,
  one: () => 1,
  two: () => 2,
  minusOne: () => -1,
  half: () => 0.5,
  nan: () => Number.NaN,
  inf: () => Number.POSITIVE_INFINITY,
  negInf: () => Number.NEGATIVE_INFINITY,
  negZero: () => -0,
  huge31: () => 2 ** 31,
  huge53: () => 2 ** 53,
  e300: () => 1e300,
  maxValue: () => Number.MAX_VALUE,
  // other primitives
  str: () => 'abc',
  numStr: () => '2',
  f32Str: () => 'float32',
  nul: () => null,
  undef: () => undefined,
  yes: () => true,
  big: () => 3n,
  sym: () => Symbol('s'),
  // functions
  square: () => userFn((x: AG.Value) => x.mul(x)),
  twoArgs: () => userFn((x: AG.Value, y: AG.Value) => x.mul(y).add(x.tanh())),
  tensorSum: () => userFn((x: Tensor) => x.mul(x).sum()),
  tensorSame: () => userFn((x: Tensor) => x.tanh()),
  returnsNumber: () => () => 1,
  returnsString: () => () => 'abc',
  returnsNull: () => () => null,
  throws: () => () => {
    throw new HostileError('fn');
  },
  // option objects
  obj: () => ({}),
  protoKey: () => JSON.parse('{"__proto__": {"min": 5, "max": 1, "eps": -1}}'),
  unknownKey: () => ({ epss: 1e-3 }),
  getterEps: throwingGetter('eps'),
  getterMin: throwingGetter('min'),
  optsEps: () => ({ eps: 1e-4, atol: 1e-4, rtol: 1e-2 }),
  optsEpsBad: () => ({ eps: 0, atol: -1, rtol: Number.NaN }),
  optsEpsHuge: () => ({ eps: Number.MAX_VALUE }),
  optsRaise: () => ({ raiseException: true, atol: 0, rtol: 0 }),
  optsRaiseStr: () => ({ raiseException: 'yes' }),
  optsF32: () => ({ dtype: 'float32' }),
  optsSeed: () => ({ seed: 7 }),
  optsSeedBad: () => ({ seed: 'abc', numRuns: 1.5 }),
  optsNumRuns: () => ({ numRuns: 50 }),
  optsRange: () => ({ min: -1, max: 1, edges: true, infinities: true, nonZero: true }),
  optsRangeBad: () => ({ min: 5, max: 1 }),
  optsRangeNaN: () => ({ min: Number.NaN, max: Number.POSITIVE_INFINITY }),
  optsRangeStr: () => ({ min: '0', max: '1' }),
  optsRangeTiny: () => ({ min: 0, max: 0, nonZero: true }),
  optsShape: () => ({ minRank: 1, maxRank: 3, maxDim: 4, allowZero: true, maxSize: 10 }),
  optsShapeHuge: () => ({ maxRank: 2 ** 31, maxDim: 2 ** 53 }),
  optsShapeBigDim: () => ({ minRank: 3, maxRank: 3, maxDim: 2 ** 20 }),
  optsShapeBad: () => ({ minRank: 3, maxRank: 1, maxDim: 0.5 }),
  optsTensor: () => ({ dtype: 'float32', min: -2, max: 2, minAbs: 0.5, requiresGrad: true, edges: true }),
  optsTensorBad: () => ({ dtype: 'int32', min: 1, max: -1, minAbs: -1 }),
  optsTensorGap: () => ({ min: -0.1, max: 0.1, minAbs: 1 }),
  optsTensorTiny: () => ({ dtype: 'float32', min: 1e-50, max: 2e-50 }),
  optsTensorValues: () => ({ values: fc.constant(Number.NaN) }),
  optsTensorValuesBad: () => ({ values: 3 }),
  optsList: () => [{ dtype: 'float32' }, {}],
  // arbitraries
  arbShape: () => fc.constant([2, 3]),
  arbShapes: () => fc.constant([[2], [1, 2]]),
  arbHugeShape: () => fc.constant([2 ** 31, 2 ** 31]),
  arbBadShape: () => fc.constant([-1, 'a']),
  arbInt: () => fc.integer(),
  // arrays and shapes
  empty: () => [],
  inputs: () => [0.5, -1.25],
  inputsNaN: () => [Number.NaN, 1],
  inputsInf: () => [Number.POSITIVE_INFINITY],
  holes: () => {
    const a = [1, 2, 3];
    delete a[1];
    return a;
  },
  strings: () => ['a', 'b'],
  shape23: () => [2, 3],
  shapeNeg: () => [2, -1],
  shapeHuge: () => [2 ** 31, 2 ** 31],
  shapeRank: () => Array.from({ length: 100 }, () => 1),
  proxy,
  typed: () => new Float64Array([1, 2]),
  // tensors
  t64: () => f64([0.5, -1.5, 2], [3]),
  t64s: () => [f64([0.5, -1.5], [2]), f64([1], [1])],
  t64NoGrad: () => [f64([0.5], [1], false)],
  t32s: () => [AG.fromArray([1, 2], [2], { requiresGrad: true })],
  tEmpty: () => [f64([], [0])],
  t0: () => [AG.scalarTensor(2, { dtype: 'float64', requiresGrad: true })],
  tNaN: () => [f64([Number.NaN, 1], [2])],
  tensorsMixed: () => [f64([1], [1]), 'x'],
  // reports and problems
  report,
  reportEmpty: () => ({ ok: true, worst: undefined, checked: 0, eps: 1e-6, atol: 1e-5, rtol: 1e-3 }),
  reportBad: () => ({ ok: false, worst: 3 }),
  problem: goodProblem,
  problemLies: () => ({ ...goodProblem(), inputCount: 3 }),
  problemBadRow: () => ({ ...goodProblem(), analyticalRow: () => 'row' }),
  problemBadEval: () => ({ ...goodProblem(), evaluate: () => 5 }),
  problemHuge: () => ({ ...goodProblem(), inputCount: 2 ** 53 }),
  problemBadSize: () => ({ ...goodProblem(), inputSize: () => Number.NaN }),
  problemNoFns: () => ({ inputCount: 1 }),
};
const POOL_NAMES = Object.keys(POOL);
const argNames = fc.array(fc.constantFrom(...POOL_NAMES), { minLength: 0, maxLength: 3 });

function wellFormed(x: unknown, where: string, depth = 0): void {
  if (depth > 3) return;
  if (x instanceof Tensor) {
    for (const d of x.shape)
      expect(Number.isSafeInteger(d) && d >= 0, `${where}: shape ${x.shape}`).toBe(true);
    expect(x.data.length, `${where}: data length vs shape ${x.shape}`).toBe(
      x.shape.reduce((a, d) => a * d, 1),
    );
  } else if (Array.isArray(x)) {
    x.forEach((y, i) => {
      wellFormed(y, `${where}[${i}]`, depth + 1);
    });
  } else if (x instanceof fc.Arbitrary) {
    // An accepted arbitrary must draw well-formed values (or refuse with a typed error while drawing).
    let drawn: unknown[];
    try {
      drawn = fc.sample(x, { numRuns: 4, seed: 1 });
    } catch (e) {
      accept(`${where}, drawing`, e);
      return;
    }
    wellFormed(drawn, `${where}, drawn`, depth + 1);
  }
}

function accept(where: string, e: unknown): void {
  if (e instanceof GradkitError || e instanceof HostileError || e instanceof GradcheckFailure) return;
  const err = e as Error;
  throw new Error(`${where} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`);
}

function expectTypedOutcome(where: string, f: () => unknown, check: (r: unknown) => void = () => {}): void {
  let r: unknown;
  try {
    r = f();
  } catch (e) {
    accept(where, e);
    return;
  }
  wellFormed(r, where);
  check(r);
}

/** Checks specific to some exports (the shapes and value ranges they promise). */
function checkResult(name: string, args: unknown[], r: unknown, where: string): void {
  if (name === 'propertyConfig') {
    const c = r as T.PropertyConfig;
    expect(Number.isSafeInteger(c.seed) && Number.isSafeInteger(c.numRuns) && c.numRuns >= 1, where).toBe(
      true,
    );
  }
  if ((name === 'gradcheck' || name === 'gradgradcheck' || name === 'checkJacobian') && r !== undefined) {
    const rep = r as T.GradcheckReport;
    expect(typeof rep.ok === 'boolean' && Number.isSafeInteger(rep.checked), where).toBe(true);
  }
  if (name === 'describeWorst') expect(typeof r, where).toBe('string');
  if ((name === 'scalar' || name === 'smoothScalar') && r instanceof fc.Arbitrary) {
    let drawn: unknown[] = [];
    try {
      drawn = fc.sample(r, { numRuns: 20, seed: 2 });
    } catch (e) {
      accept(`${where}, drawing`, e);
    }
    for (const v of drawn) {
      expect(typeof v === 'number' && !Number.isNaN(v), `${where} drew ${String(v)}`).toBe(true);
      if (name === 'smoothScalar') {
        const [lo, hi] = args as [number, number];
        expect((v as number) >= lo && (v as number) <= hi, `${where} drew ${String(v)}`).toBe(true);
      }
    }
  }
  if (name === 'shape' && r instanceof fc.Arbitrary) {
    for (const s of fc.sample(r, { numRuns: 10, seed: 3 }) as number[][]) {
      expect(s.length <= AG.MAX_RANK, where).toBe(true);
      for (const d of s) expect(Number.isSafeInteger(d) && d >= 0, `${where} drew [${s}]`).toBe(true);
    }
  }
}

const functions = Object.entries(T)
  .filter(([name, v]) => typeof v === 'function' && !(name in NOT_FUZZED))
  .filter(([, v]) => !/^class\b/.test(Function.prototype.toString.call(v)));

describe('fuzz: exported functions', () => {
  it('enumerates the exports (new ones are fuzzed by default)', () => {
    expect(functions.length).toBeGreaterThan(10);
    for (const name of Object.keys(NOT_FUZZED)) expect(name in T, name).toBe(true);
  });
  for (const [name, fn] of functions) {
    it(`${name}(...) gives a typed error or a well-formed result`, () => {
      fc.assert(
        fc.property(argNames, (names) => {
          const args = names.map((n) => POOL[n]!());
          const where = `${name}(${names.join(', ')})`;
          expectTypedOutcome(
            where,
            () => (fn as (...a: unknown[]) => unknown)(...args),
            (r) => checkResult(name, args, r, where),
          );
        }),
        propertyConfig({ numRuns: 150 }),
      );
    });
  }
  it('new GradcheckFailure(...) gives a typed error or an error carrying its report', () => {
    fc.assert(
      fc.property(argNames, (names) => {
        const args = names.map((n) => POOL[n]!());
        expectTypedOutcome(`new GradcheckFailure(${names.join(', ')})`, () => {
          const e = new GradcheckFailure(...(args as [string, T.GradcheckReport]));
          expect(typeof e.message).toBe('string');
          return undefined;
        });
      }),
      propertyConfig({ numRuns: 150 }),
    );
  });
});
