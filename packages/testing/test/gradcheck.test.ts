/**
 * The checkers check: gradcheck and gradgradcheck pass on correct functions and fail, pointing at the worst
 * element, on functions whose derivatives are deliberately wrong; the arbitraries stay within their options;
 * propertyConfig seeds from GRADKIT_SEED.
 */
import { ArgumentError, DtypeError, type Value } from '@gradkit/autograd';
import {
  checkJacobian,
  DEFAULT_SEED,
  describeWorst,
  EDGE_VALUES,
  GradcheckFailure,
  gradcheck,
  gradgradcheck,
  type JacobianProblem,
  propertyConfig,
  scalar,
  smoothScalar,
} from '@gradkit/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

const cfg = propertyConfig({ numRuns: 100 });

/** A correct smooth function of two inputs. */
const good = (x: Value, y: Value) => x.mul(y).add(x.tanh()).sub(y.pow(2).div(3));
/** Gradient wrong: x · detach(x) has the value x², but its gradient is x instead of 2x. */
const badGrad = (x: Value, y: Value) => x.mul(x.detach()).add(y);
/**
 * First derivative right, second wrong: x·d + x·d − d·d equals x² (d = detach(x)), its gradient 2d equals 2x
 * as a number, but the gradient of that gradient is 0 instead of 2.
 */
const badHessian = (x: Value, y: Value) => {
  const d = x.detach();
  return x.mul(d).add(x.mul(d)).sub(d.mul(d)).add(y.exp());
};

describe('gradcheck', () => {
  it('passes on correct functions', () => {
    fc.assert(
      fc.property(smoothScalar(-3, 3), smoothScalar(-3, 3), (a, b) => {
        const r = gradcheck(good, [a, b]);
        return r.ok && r.checked === 2 && r.worst !== undefined && r.worst.excess <= 0;
      }),
      cfg,
    );
  });

  it('fails on a wrong gradient and reports the worst element', () => {
    const r = gradcheck(badGrad, [1.5, 0.25]);
    expect(r.ok).toBe(false);
    expect(r.worst).toMatchObject({ input: 0, element: 0, output: 0 });
    expect(r.worst!.analytical).toBe(1.5);
    expect(r.worst!.numerical).toBeCloseTo(3, 6);
    expect(r.worst!.excess).toBeGreaterThan(0);
    expect(describeWorst(r)).toMatch(
      /^FAILED: worst at input 0 element 0 output 0: analytical 1\.5, numerical 2\.99/,
    );
  });

  it('fails on wrong gradients at any point away from x = 0 (property)', () => {
    fc.assert(
      fc.property(smoothScalar(0.1, 10), fc.boolean(), smoothScalar(-3, 3), (m, s, b) => {
        const a = s ? -m : m;
        const r = gradcheck(badGrad, [a, b]);
        return !r.ok && r.worst!.input === 0;
      }),
      cfg,
    );
  });

  it('throws GradcheckFailure carrying the report with raiseException', () => {
    let err: unknown;
    try {
      gradcheck(badGrad, [2, 0], { raiseException: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradcheckFailure);
    const failure = err as GradcheckFailure;
    expect(failure.report.ok).toBe(false);
    expect(failure.message).toMatch(/^gradcheck: FAILED: worst at input 0/);
    // And returns normally on success.
    expect(gradcheck(good, [0.5, -1], { raiseException: true }).ok).toBe(true);
  });

  it('honours its tolerances', () => {
    // The error of badGrad at x = 1 is |1 - 2| = 1: within atol 2, outside atol 0.5.
    expect(gradcheck(badGrad, [1, 0], { atol: 2, rtol: 0 }).ok).toBe(true);
    expect(gradcheck(badGrad, [1, 0], { atol: 0.5, rtol: 0 }).ok).toBe(false);
    expect(gradcheck(badGrad, [1, 0], { atol: 0, rtol: 0.6 }).ok).toBe(true);
    const r = gradcheck(good, [1, 1], { eps: 1e-4, atol: 1e-4, rtol: 1e-2 });
    expect([r.eps, r.atol, r.rtol]).toEqual([1e-4, 1e-4, 1e-2]);
  });

  it('float32 inputs raise DtypeError naming the check and the dtype', () => {
    for (const check of [gradcheck, gradgradcheck]) {
      let err: unknown;
      try {
        check(good, [1, 2], { dtype: 'float32' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DtypeError);
      expect((err as DtypeError).code).toBe('E_DTYPE');
      expect((err as DtypeError).message).toMatch(/^grad(grad)?check: inputs must be float64, got float32/);
    }
  });

  it('NaN inputs raise ArgumentError naming the input', () => {
    expect(() => gradcheck(good, [1, Number.NaN])).toThrow(ArgumentError);
    expect(() => gradcheck(good, [1, Number.NaN])).toThrow(/'inputs\[1\]'/);
    expect(() => gradgradcheck(good, [Number.NaN, 1])).toThrow(/'inputs\[0\]'/);
  });
});

describe('gradgradcheck', () => {
  it('passes on correct functions, for any direction seed', () => {
    fc.assert(
      fc.property(smoothScalar(-3, 3), smoothScalar(-3, 3), fc.nat(), (a, b, seed) => {
        return gradgradcheck(good, [a, b], { seed }).ok;
      }),
      cfg,
    );
  });

  it('fails on a function whose gradient is right but whose second derivative is wrong', () => {
    expect(gradcheck(badHessian, [1.5, 0.5]).ok).toBe(true);
    const r = gradgradcheck(badHessian, [1.5, 0.5]);
    expect(r.ok).toBe(false);
    expect(r.worst!.input).toBe(0);
    expect(() => gradgradcheck(badHessian, [1.5, 0.5], { raiseException: true })).toThrow(GradcheckFailure);
    expect(() => gradgradcheck(badHessian, [1.5, 0.5], { raiseException: true })).toThrow(
      /^gradgradcheck: FAILED/,
    );
  });
});

describe('checkJacobian', () => {
  /** f(x0, x1) = [x0·x1, x0 + 2·x1] with an analytical Jacobian that is optionally wrong in one entry. */
  function problem(wrong: boolean): JacobianProblem {
    const x = [1.5, -2];
    return {
      inputCount: 2,
      inputSize: () => 1,
      evaluate: () => [x[0]! * x[1]!, x[0]! + 2 * x[1]!],
      get: (i) => x[i]!,
      set: (i, _j, v) => {
        x[i] = v;
      },
      analyticalRow: (o) => (o === 0 ? [[x[1]!], [x[0]!]] : [[1], [wrong ? 3 : 2]]),
    };
  }

  it('compares every (input, output) pair and finds the wrong entry', () => {
    const ok = checkJacobian(problem(false));
    expect(ok.ok).toBe(true);
    expect(ok.checked).toBe(4);
    const bad = checkJacobian(problem(true));
    expect(bad.ok).toBe(false);
    expect(bad.worst).toMatchObject({ input: 1, element: 0, output: 1, analytical: 3 });
  });
});

describe('arbitraries', () => {
  const inRange = (x: number, min: number, max: number) => x >= min && x <= max;

  it('scalar() stays within [min, max], never NaN, no infinities unless asked', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.double({ min: -1e10, max: 1e10, noNaN: true }),
          fc.double({ min: -1e10, max: 1e10, noNaN: true }),
        ),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        ([p, q], seed) => {
          const [min, max] = p <= q ? [p, q] : [q, p];
          const xs = fc.sample(scalar({ min, max }), { seed, numRuns: 50 });
          return xs.every((x) => !Number.isNaN(x) && inRange(x, min, max));
        },
      ),
      propertyConfig({ numRuns: 50 }),
    );
  });

  it('scalar() mixes in the edge values that lie in range, and ±inf only when asked', () => {
    const xs = fc.sample(scalar({ min: -1e301, max: 1e301 }), { seed: 1, numRuns: 2000 });
    for (const e of EDGE_VALUES.filter((v) => Math.abs(v) <= 1e301))
      expect(xs.some((x) => Object.is(x, e))).toBe(true);
    expect(xs.some((x) => Math.abs(x) === Number.MAX_VALUE)).toBe(false);
    const withInf = fc.sample(scalar({ infinities: true }), { seed: 1, numRuns: 2000 });
    expect(withInf).toContain(Number.POSITIVE_INFINITY);
    expect(withInf).toContain(Number.NEGATIVE_INFINITY);
    expect(withInf.every((x) => !Number.isNaN(x) && (inRange(x, -1e6, 1e6) || !Number.isFinite(x)))).toBe(
      true,
    );
    const noEdges = fc.sample(scalar({ min: -1, max: 1, edges: false }), { seed: 1, numRuns: 500 });
    expect(noEdges.every((x) => inRange(x, -1, 1))).toBe(true);
  });

  it('scalar({ nonZero }) never produces 0 or -0', () => {
    const xs = fc.sample(scalar({ nonZero: true }), { seed: 2, numRuns: 3000 });
    expect(xs.some((x) => x === 0)).toBe(false);
  });

  it('smoothScalar(min, max) stays within range, finite, never NaN', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.nat(), (hi, seed) => {
        const xs = fc.sample(smoothScalar(-hi, hi), { seed, numRuns: 50 });
        return xs.every((x) => Number.isFinite(x) && inRange(x, -hi, hi));
      }),
      propertyConfig({ numRuns: 50 }),
    );
  });
});

describe('propertyConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('defaults to a fixed seed and 100 runs; explicit options win', () => {
    vi.stubEnv('GRADKIT_SEED', '');
    expect(propertyConfig()).toEqual({ seed: DEFAULT_SEED, numRuns: 100 });
    expect(propertyConfig({ numRuns: 7, seed: 3 })).toEqual({ seed: 3, numRuns: 7 });
  });

  it('takes the seed from GRADKIT_SEED when set', () => {
    vi.stubEnv('GRADKIT_SEED', '12345');
    expect(propertyConfig({ numRuns: 10 })).toEqual({ seed: 12345, numRuns: 10 });
    expect(propertyConfig({ seed: 9 }).seed).toBe(9);
  });

  it('refuses a GRADKIT_SEED that is not an integer, and a bad numRuns', () => {
    vi.stubEnv('GRADKIT_SEED', 'abc');
    expect(() => propertyConfig()).toThrow(ArgumentError);
    expect(() => propertyConfig()).toThrow(/GRADKIT_SEED must be an integer, got 'abc'/);
    vi.stubEnv('GRADKIT_SEED', '');
    expect(() => propertyConfig({ numRuns: 0 })).toThrow(/'numRuns'/);
  });

  it('makes a property reproducible: the same seed draws the same inputs', () => {
    const draw = () => fc.sample(scalar(), { ...propertyConfig({ seed: 42 }), numRuns: 20 });
    expect(draw()).toEqual(draw());
  });
});
