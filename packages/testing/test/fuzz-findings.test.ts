/**
 * Regression tests for what the fuzz suite (fuzz-testing.test.ts) found: each input used to crash with a
 * TypeError, a fast-check error about its own bounds, an out-of-memory worker or a silently wrong report,
 * instead of giving a typed error.
 */
import {
  ArgumentError,
  DomainError,
  DtypeError,
  fromArray,
  GradkitError,
  ShapeError,
  scalarTensor,
  type Tensor,
  type Value,
  value,
} from '@gradkit/autograd';
import {
  broadcastShapes,
  checkJacobian,
  describeWorst,
  GradcheckFailure,
  gradcheck,
  gradcheckTensor,
  gradgradcheck,
  gradgradcheckTensor,
  type JacobianProblem,
  propertyConfig,
  scalar,
  shape,
  smoothScalar,
  tensorOf,
  tensorsOf,
} from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const draw = <T>(arb: fc.Arbitrary<T>): T[] => fc.sample(arb, { numRuns: 3, seed: 1 });
const square = (x: Value) => x.mul(x);
const x64 = (): Tensor => fromArray([0.5, -1], [2], { dtype: 'float64', requiresGrad: true });

describe('propertyConfig', () => {
  it('refuses options that are not an object, unknown keys and a seed that is not an integer', () => {
    expect(() => propertyConfig(null as never)).toThrow(ArgumentError);
    expect(() => propertyConfig({ numRun: 5 } as never)).toThrow(/unknown key "numRun"/);
    expect(() => propertyConfig({ seed: 'abc' as never })).toThrow(/option 'seed' must be an integer/);
    expect(() => propertyConfig({ seed: 1.5 })).toThrow(ArgumentError);
    expect(propertyConfig({ seed: 3, numRuns: 7 })).toEqual({ seed: 3, numRuns: 7 });
  });
});

describe('scalar arbitraries', () => {
  it('refuse bounds fast-check cannot draw from with a DomainError', () => {
    expect(() => scalar({ min: 5, max: 1 })).toThrow(DomainError);
    expect(() => scalar({ min: Number.NaN })).toThrow(DomainError);
    expect(() => scalar({ max: '1' as never })).toThrow(DomainError);
    expect(() => smoothScalar(Number.NaN, 1)).toThrow(DomainError);
    expect(() => smoothScalar(2, 1)).toThrow(DomainError);
  });

  it('refuse a range with no non-zero value and options of the wrong kind', () => {
    expect(() => scalar({ min: 0, max: 0, nonZero: true })).toThrow(/no value in \[0, 0\] is non-zero/);
    expect(() => scalar(null as never)).toThrow(ArgumentError);
    expect(() => scalar({ edges: 'yes' as never })).toThrow(/option 'edges' must be a boolean/);
    expect(() => scalar({ mni: 0 } as never)).toThrow(/unknown key/);
  });
});

describe('shape arbitraries', () => {
  it('refuse ranks and dimensions that cannot be drawn', () => {
    expect(() => shape({ maxRank: 2 ** 31 })).toThrow(ArgumentError);
    expect(() => shape({ maxRank: 65 })).toThrow(/maxRank/);
    expect(() => shape({ maxDim: 2 ** 53 })).toThrow(/maxDim/);
    expect(() => shape({ minRank: Symbol('r') as never })).toThrow(ArgumentError);
    expect(() => shape({ allowZero: 1 as never })).toThrow(ArgumentError);
    expect(() => broadcastShapes(2 ** 31)).toThrow(ArgumentError);
    // A large minRank lifts the default maxRank with it.
    for (const s of draw(shape({ minRank: 6 }))) expect(s.length).toBe(6);
  });
});

describe('tensorOf / tensorsOf', () => {
  it('refuse shapes that are not shapes or too large to draw, also when drawn', () => {
    expect(() => tensorOf([2 ** 31, 2 ** 31])).toThrow(ShapeError);
    expect(() => tensorOf([-1])).toThrow(ShapeError);
    expect(() => tensorOf('ab' as never)).toThrow(ShapeError);
    expect(() => draw(tensorOf(fc.constant([2 ** 16, 2 ** 16])))).toThrow(ShapeError);
  });

  it('refuse a float32 range with no float32 value in it, bad dtypes and bad values', () => {
    expect(() => tensorOf([2], { dtype: 'float32', min: 1e-50, max: 2e-50 })).toThrow(DomainError);
    expect(() => tensorOf([2], { dtype: 'int32' as never })).toThrow(DtypeError);
    expect(() => tensorOf([2], { values: 3 as never })).toThrow(ArgumentError);
    expect(() => tensorOf([2], { min: Number.NaN })).toThrow(ArgumentError);
    expect(() => tensorOf([2], { requiresGrad: 'yes' as never })).toThrow(ArgumentError);
    const t = draw(tensorOf([3], { dtype: 'float32', min: 1, max: 1.0000001, minAbs: 1 }));
    for (const x of t) for (const v of x.data) expect(v >= 1 && v <= 1.0000001).toBe(true);
  });

  it('tensorsOf refuses a non-arbitrary and checks its options at once', () => {
    expect(() => tensorsOf(3 as never)).toThrow(ArgumentError);
    expect(() => tensorsOf(broadcastShapes(2), { dtype: 'int8' as never })).toThrow(DtypeError);
  });
});

describe('gradcheck / gradgradcheck', () => {
  it('refuse a fn that is not a function or does not return a Value', () => {
    expect(() => gradcheck(3 as never, [1])).toThrow(ArgumentError);
    expect(() => gradcheck((() => 1) as never, [1])).toThrow(/'fn' must return a Value/);
    expect(() => gradgradcheck((() => 'x') as never, [1])).toThrow(/'fn' must return a Value/);
  });

  it('refuse inputs that are not an array of numbers (holes included)', () => {
    expect(() => gradcheck(square, 3 as never)).toThrow(ArgumentError);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the test
    expect(() => gradcheck(square, [1, , 2] as number[])).toThrow(/inputs\[1\]/);
  });

  it('refuse options out of range instead of returning a NaN report', () => {
    expect(() => gradcheck(square, [1], null as never)).toThrow(ArgumentError);
    expect(() => gradcheck(square, [1], { eps: 0 })).toThrow(DomainError);
    expect(() => gradcheck(square, [1], { atol: Number.NaN })).toThrow(DomainError);
    expect(() => gradcheck(square, [1], { rtol: -1 })).toThrow(DomainError);
    expect(() => gradcheck(square, [1], { raiseException: 'yes' as never })).toThrow(ArgumentError);
    expect(() => gradcheck(square, [1], { dtype: 'int32' as never })).toThrow(DtypeError);
  });

  it('gradgradcheck of a function of no inputs compares nothing (was a TypeError)', () => {
    const r = gradgradcheck(() => value(1), []);
    expect(r).toMatchObject({ ok: true, checked: 0 });
  });
});

describe('gradcheckTensor / gradgradcheckTensor', () => {
  it('refuse inputs that are not tensors, and a fn that does not return a Tensor', () => {
    expect(() => gradcheckTensor((x) => x, ['a' as never])).toThrow(ArgumentError);
    expect(() => gradcheckTensor((x) => x, 3 as never)).toThrow(ArgumentError);
    expect(() => gradcheckTensor((() => 1) as never, [x64()])).toThrow(/'fn' must return a Tensor/);
    expect(() => gradgradcheckTensor((() => null) as never, [x64()])).toThrow(/'fn' must return a Tensor/);
    expect(() => gradcheckTensor(3 as never, [x64()])).toThrow(ArgumentError);
    expect(() => gradcheckTensor((x) => x.square(), [x64()], { eps: -1 })).toThrow(DomainError);
  });

  it('gradgradcheckTensor of no inputs compares nothing (was a TypeError)', () => {
    const one = () => scalarTensor(1, { dtype: 'float64' });
    expect(gradgradcheckTensor(one, [])).toMatchObject({ ok: true, checked: 0 });
  });
});

describe('checkJacobian, describeWorst, GradcheckFailure', () => {
  const good = (): JacobianProblem => {
    const x = [0.5];
    return {
      inputCount: 1,
      inputSize: () => 1,
      evaluate: () => [x[0]! * x[0]!],
      get: () => x[0]!,
      set: (_i, _j, v) => {
        x[0] = v;
      },
      analyticalRow: () => [[2 * x[0]!]],
    };
  };

  it('refuses malformed problems with an ArgumentError', () => {
    expect(checkJacobian(good()).ok).toBe(true);
    for (const bad of [
      undefined,
      { inputCount: 1 },
      { ...good(), inputCount: 2 ** 53 },
      { ...good(), inputCount: -1 },
      { ...good(), inputSize: () => Number.NaN },
      { ...good(), evaluate: () => 5 },
      { ...good(), analyticalRow: () => 'row' },
      { ...good(), analyticalRow: () => [[1, 2]] },
    ]) {
      expect(() => checkJacobian(bad as never)).toThrow(ArgumentError);
    }
  });

  it('describeWorst and GradcheckFailure refuse a report that is not one', () => {
    expect(() => describeWorst(undefined as never)).toThrow(ArgumentError);
    expect(() => describeWorst({ worst: 3 } as never)).toThrow(ArgumentError);
    expect(() => new GradcheckFailure('x', null as never)).toThrow(GradkitError);
    expect(() => new GradcheckFailure(3 as never, gradcheck(square, [1]))).toThrow(ArgumentError);
    expect(new GradcheckFailure('x', gradcheck(square, [1])).message).toMatch(/^x: ok: worst/);
  });
});
