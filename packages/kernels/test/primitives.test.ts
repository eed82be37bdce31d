/**
 * Every row of the primitive table, checked against numbers: symbolic first and second derivatives against
 * central finite differences over the primitive's smooth domain, and the values and derivatives its
 * documentation promises at the edges (0, ±tiny, ±huge, ±inf, NaN). The specs are keyed by primitive name
 * and the tests iterate the table, so a new row without a spec fails here.
 */
import {
  apply,
  constant,
  derive,
  type Expr,
  evaluate,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  pow,
  variable,
} from '@gradkit/kernels';
import { EDGE_VALUES, propertyConfig, scalar, smoothScalar } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** How an argument is judged: against finite differences, or as having an identically zero derivative. */
type ArgMode = 'fd' | 'zero';

interface DomainSpec {
  /** Points of the smooth domain (away from kinks, ties and singularities by more than the FD step). */
  readonly points: fc.Arbitrary<number[]>;
  /** Per argument: finite-difference checked, or a derivative that is 0 by definition. */
  readonly modes: readonly ArgMode[];
  /**
   * On the grid of edge values (EDGE_VALUES and ±inf), where the value and the first derivatives must not be
   * NaN. Omitted: everywhere.
   */
  readonly nanFree?: (xs: readonly number[]) => boolean;
  /**
   * Where the second derivatives must not be NaN either (default: `nanFree`). Narrower only where a true
   * singularity or an overflow to inf meets a 0 (0 * inf), as at a zero or subnormal base of pow.
   */
  readonly nanFree2?: (xs: readonly number[]) => boolean;
}

const HUGE = 1e100;
const u = (lo: number, hi: number): fc.Arbitrary<number> => smoothScalar(lo, hi);
/** Magnitudes in [lo, hi] with either sign. */
const signed = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.tuple(u(lo, hi), fc.boolean()).map(([m, s]) => (s ? -m : m));
const args = (...arbs: fc.Arbitrary<number>[]): fc.Arbitrary<number[]> => fc.tuple(...arbs);
/** The FD step used for an argument: relative where values are large. */
const stepFor = (x: number): number => 1e-6 * Math.max(1, Math.abs(x));
/** Away from a kink at 0 by much more than the FD step. */
const awayFromZero = (xs: number[]) => xs.every((x) => Math.abs(x) > 1e-3);
/** Away from ties by much more than the FD step. */
const noTie = ([a, b]: number[]) => Math.abs(a! - b!) > 1e-3 * Math.max(1, Math.abs(a!), Math.abs(b!));
const finite = (xs: readonly number[]) => xs.every(Number.isFinite);
const anyValue = fc.oneof(scalar({ min: -HUGE, max: HUGE, infinities: true }), fc.constantFrom(-1, 0, 1, 2));
const ZERO2: readonly ArgMode[] = ['zero', 'zero'];

/** One spec per primitive. Adding a primitive to the table without adding it here fails the suite. */
const SPECS: Record<string, DomainSpec> = {
  add: { points: args(u(-HUGE, HUGE), u(-HUGE, HUGE)), modes: ['fd', 'fd'], nanFree: finite },
  sub: { points: args(u(-HUGE, HUGE), u(-HUGE, HUGE)), modes: ['fd', 'fd'], nanFree: finite },
  mul: { points: args(u(-1e100, 1e100), u(-1e100, 1e100)), modes: ['fd', 'fd'], nanFree: finite },
  div: {
    points: args(u(-HUGE, HUGE), signed(1e-3, HUGE)),
    modes: ['fd', 'fd'],
    nanFree: ([a, b]) => finite([a!, b!]) && b !== 0,
    // 1/b² overflows for a subnormal b, and meets a = 0.
    nanFree2: ([a, b]) => finite([a!, b!]) && Math.abs(b!) >= 1e-300,
  },
  neg: { points: args(u(-HUGE, HUGE)), modes: ['fd'] },
  exp: { points: args(u(-700, 700)), modes: ['fd'] },
  log: { points: args(u(1e-3, 1e6)), modes: ['fd'], nanFree: ([x]) => x! >= 0 },
  log1p: { points: args(u(-1 + 1e-3, 1e6)), modes: ['fd'], nanFree: ([x]) => x! >= -1 },
  expm1: { points: args(u(-700, 700)), modes: ['fd'] },
  sqrt: { points: args(u(1e-3, 1e6)), modes: ['fd'], nanFree: ([x]) => x! >= 0 },
  pow: {
    points: args(u(1e-2, 1e3), u(-4, 4)),
    modes: ['fd', 'fd'],
    // A positive finite base with any finite exponent, or a zero base with a non-negative exponent.
    nanFree: ([a, b]) => Number.isFinite(b) && ((a! > 0 && Number.isFinite(a)) || (a === 0 && b! >= 0)),
    // Below that, a^(b-2) overflows; at a = 0, d²/da db is singular for 0 < b < 1.
    nanFree2: ([a, b]) =>
      Number.isFinite(b) && ((a! > 1e-300 && Number.isFinite(a)) || (a === 0 && (b === 0 || b! >= 1))),
  },
  abs: { points: args(u(-HUGE, HUGE)).filter(awayFromZero), modes: ['fd'] },
  sign: { points: args(u(-HUGE, HUGE)).filter(awayFromZero), modes: ['fd'] },
  min: { points: args(u(-HUGE, HUGE), u(-HUGE, HUGE)).filter(noTie), modes: ['fd', 'fd'] },
  max: { points: args(u(-HUGE, HUGE), u(-HUGE, HUGE)).filter(noTie), modes: ['fd', 'fd'] },
  where: {
    points: args(
      fc.constantFrom(0, -0, 1, -2, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
      u(-1e6, 1e6),
      u(-1e6, 1e6),
    ),
    modes: ['zero', 'fd', 'fd'],
  },
  lt: { points: args(anyValue, anyValue), modes: ZERO2 },
  le: { points: args(anyValue, anyValue), modes: ZERO2 },
  gt: { points: args(anyValue, anyValue), modes: ZERO2 },
  ge: { points: args(anyValue, anyValue), modes: ZERO2 },
  eq: { points: args(anyValue, anyValue), modes: ZERO2 },
  ne: { points: args(anyValue, anyValue), modes: ZERO2 },
  and: { points: args(anyValue, anyValue), modes: ZERO2 },
  or: { points: args(anyValue, anyValue), modes: ZERO2 },
  not: { points: args(anyValue), modes: ['zero'] },
  sigmoid: { points: args(u(-HUGE, HUGE)), modes: ['fd'] },
  softplus: { points: args(u(-HUGE, HUGE)), modes: ['fd'] },
  logSigmoid: { points: args(u(-HUGE, HUGE)), modes: ['fd'] },
  tanh: { points: args(u(-HUGE, HUGE)), modes: ['fd'] },
  erf: { points: args(u(-30, 30)), modes: ['fd'] },
  relu: { points: args(u(-HUGE, HUGE)).filter(awayFromZero), modes: ['fd'] },
  detach: { points: args(u(-HUGE, HUGE)), modes: ['zero'] },
};

const VARS = [variable('x0'), variable('x1'), variable('x2')];

function bind(xs: readonly number[]): Record<string, number> {
  const b: Record<string, number> = {};
  xs.forEach((x, i) => {
    b[`x${i}`] = x;
  });
  return b;
}

/** The primitive applied to variables, with its symbolic first and second derivatives. */
interface Derived {
  readonly f: Expr;
  readonly d1: Expr[];
  readonly d2: Expr[][];
}

function derived(name: PrimitiveName): Derived {
  const vars = VARS.slice(0, PRIMITIVES[name].arity);
  const f = apply(name, ...vars);
  const d1 = vars.map((v) => derive(f, v));
  const d2 = d1.map((d) => vars.map((v) => derive(d, v)));
  return { f, d1, d2 };
}

/**
 * Central difference of `g` along argument `i` at `xs`, with the bound on its rounding error
 * (a generous multiple of machine epsilon times |g| over the step).
 */
function centralDifference(g: Expr, xs: readonly number[], i: number): { fd: number; roundoff: number } {
  const h = stepFor(xs[i]!);
  const plus = [...xs];
  const minus = [...xs];
  plus[i] = xs[i]! + h;
  minus[i] = xs[i]! - h;
  const fp = evaluate(g, bind(plus));
  const fm = evaluate(g, bind(minus));
  const fd = (fp - fm) / (2 * h);
  const roundoff = (1e3 * Number.EPSILON * (Math.abs(fp) + Math.abs(fm))) / (2 * h);
  return { fd, roundoff };
}

function expectClose(what: string, analytical: number, fd: number, roundoff: number): void {
  const allowed = 1e-5 * Math.max(Math.abs(analytical), Math.abs(fd)) + roundoff + 1e-300;
  const err = Math.abs(analytical - fd);
  if (!(err <= allowed)) {
    throw new Error(
      `${what}: analytical ${analytical}, finite difference ${fd}, |diff| ${err} > allowed ${allowed}`,
    );
  }
}

const cfg = propertyConfig({ numRuns: 150 });

describe('the primitive table', () => {
  it('has a domain spec here for every row, and no spec without a row', () => {
    expect(PRIMITIVE_NAMES.filter((n) => SPECS[n] === undefined)).toEqual([]);
    expect(Object.keys(SPECS).filter((n) => !(PRIMITIVE_NAMES as readonly string[]).includes(n))).toEqual([]);
    for (const n of PRIMITIVE_NAMES) expect(SPECS[n]!.modes).toHaveLength(PRIMITIVES[n].arity);
  });

  it('documents every row and names it consistently', () => {
    for (const n of PRIMITIVE_NAMES) {
      expect(PRIMITIVES[n].name).toBe(n);
      expect(PRIMITIVES[n].doc.length).toBeGreaterThan(0);
    }
  });
});

describe.each(PRIMITIVE_NAMES.map((n) => [n] as const))('primitive %s', (name) => {
  const spec = SPECS[name];

  it('has a domain spec', () => {
    expect(spec, `no domain spec for primitive '${name}' in primitives.test.ts`).toBeDefined();
  });
  if (spec === undefined) return;
  const { f, d1, d2 } = derived(name);

  it('first derivatives match central finite differences (or are identically 0)', () => {
    fc.assert(
      fc.property(spec.points, (xs) => {
        const b = bind(xs);
        const v = evaluate(f, b);
        if (!Object.is(v, PRIMITIVES[name].evaluate(...xs))) throw new Error(`${name}(${xs}) = ${v}`);
        spec.modes.forEach((mode, i) => {
          const d = evaluate(d1[i]!, b);
          if (mode === 'zero') {
            if (d !== 0) throw new Error(`d${name}/dx${i} at ${xs} is ${d}, expected 0`);
            return;
          }
          const { fd, roundoff } = centralDifference(f, xs, i);
          expectClose(`d${name}/dx${i} at [${xs}]`, d, fd, roundoff);
        });
      }),
      cfg,
    );
  });

  it('second derivatives match finite differences of the first', () => {
    fc.assert(
      fc.property(spec.points, (xs) => {
        const b = bind(xs);
        spec.modes.forEach((mi, i) => {
          spec.modes.forEach((mj, j) => {
            const d = evaluate(d2[i]![j]!, b);
            if (mi === 'zero' || mj === 'zero') {
              if (d !== 0) throw new Error(`d²${name}/dx${i}dx${j} at ${xs} is ${d}, expected 0`);
              return;
            }
            const { fd, roundoff } = centralDifference(d1[i]!, xs, j);
            expectClose(`d²${name}/dx${i}dx${j} at [${xs}]`, d, fd, roundoff);
          });
        });
      }),
      cfg,
    );
  });

  it('is NaN-free in value, first and second derivatives on the edge-value grid of its domain', () => {
    const edges = [...EDGE_VALUES, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const arity = PRIMITIVES[name].arity;
    const grid: number[][] = [[]];
    for (let k = 0; k < arity; k++) {
      const next: number[][] = [];
      for (const g of grid) for (const e of edges) next.push([...g, e]);
      grid.splice(0, grid.length, ...next);
    }
    const bad: string[] = [];
    const all = () => true;
    const first = spec.nanFree ?? all;
    const second = spec.nanFree2 ?? first;
    for (const xs of grid) {
      const b = bind(xs);
      const outs = [...(first(xs) ? [f, ...d1] : []), ...(second(xs) ? d2.flat() : [])].map((e) =>
        evaluate(e, b),
      );
      if (outs.some(Number.isNaN)) bad.push(`[${xs}] -> [${outs}]`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

/** Value and first derivatives of `name` at `xs`, through the expression IR. */
function at(name: PrimitiveName, ...xs: number[]): { value: number; d: number[] } {
  const { f, d1 } = derived(name);
  const b = bind(xs);
  return { value: evaluate(f, b), d: d1.map((e) => evaluate(e, b)) };
}

/** |a - b| within `ulps` units in the last place of b. */
function expectUlps(a: number, b: number, ulps = 4): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(ulps * Number.EPSILON * Math.abs(b));
}

const INF = Number.POSITIVE_INFINITY;
const MAX = Number.MAX_VALUE;

describe('edge values promised by the documentation', () => {
  it('sigmoid: exact 1 and 0 at ±inf and ±MAX_VALUE, derivative 0 there', () => {
    for (const [x, v] of [
      [INF, 1],
      [-INF, 0],
      [MAX, 1],
      [-MAX, 0],
    ] as const) {
      const r = at('sigmoid', x);
      expect(r.value).toBe(v);
      expect(r.d[0]).toBe(0);
    }
    expect(at('sigmoid', 0)).toEqual({ value: 0.5, d: [0.25] });
  });

  it('sigmoid: the derivative is finite and exact (≈ e^-|x|) where sigmoid rounds to 1 or 0', () => {
    for (const x of [37, 40, 100, 700]) {
      expect(at('sigmoid', x).value).toBe(1);
      const e = Math.exp(-x);
      const exact = e / (1 + e) ** 2;
      expectUlps(at('sigmoid', x).d[0]!, exact);
      expectUlps(at('sigmoid', -x).d[0]!, exact);
      expectUlps(at('sigmoid', -x).value, e / (1 + e));
    }
  });

  it('softplus: finite up to ±MAX_VALUE and exact for large |x|', () => {
    expect(at('softplus', MAX).value).toBe(MAX);
    expect(at('softplus', -MAX).value).toBe(0);
    expect(at('softplus', 1e300).value).toBe(1e300);
    expect(at('softplus', -1e300).value).toBe(0);
    expect(at('softplus', 40).value).toBe(40);
    expectUlps(at('softplus', -40).value, Math.exp(-40));
    expect(at('softplus', INF).value).toBe(INF);
    expect(at('softplus', -INF).value).toBe(0);
    expect(at('softplus', MAX).d[0]).toBe(1);
    expect(at('softplus', -MAX).d[0]).toBe(0);
    expectUlps(at('softplus', -40).d[0]!, Math.exp(-40));
    expectUlps(at('softplus', 0).value, Math.LN2);
  });

  it('logSigmoid: finite up to ±MAX_VALUE and exact for large |x|', () => {
    expect(at('logSigmoid', -MAX).value).toBe(-MAX);
    expect(at('logSigmoid', MAX).value).toBe(0);
    expect(at('logSigmoid', -1e300).value).toBe(-1e300);
    expect(at('logSigmoid', -40).value).toBe(-40);
    expectUlps(at('logSigmoid', 40).value, -Math.exp(-40));
    expect(at('logSigmoid', -INF).value).toBe(-INF);
    expect(at('logSigmoid', INF).value).toBe(0);
    expect(at('logSigmoid', -MAX).d[0]).toBe(1);
    expect(at('logSigmoid', MAX).d[0]).toBe(0);
    expectUlps(at('logSigmoid', 40).d[0]!, Math.exp(-40));
  });

  it('tanh: the derivative is exact (≈ 4e^-2|x|) where tanh rounds to ±1, and 0 at ±inf', () => {
    for (const x of [19.5, 20, 100, 300]) {
      expect(at('tanh', x).value).toBe(1);
      expect(at('tanh', -x).value).toBe(-1);
      const e = Math.exp(-2 * x);
      const exact = (4 * e) / (1 + e) ** 2;
      expectUlps(at('tanh', x).d[0]!, exact);
      expectUlps(at('tanh', -x).d[0]!, exact);
    }
    expect(at('tanh', INF).d[0]).toBe(0);
    expect(at('tanh', -INF).d[0]).toBe(0);
    expect(at('tanh', 0).d[0]).toBe(1);
  });

  it('pow: the documented derivatives at a zero base', () => {
    // Variable exponent.
    expect(at('pow', 0, 0.5).d[0]).toBe(INF);
    expect(at('pow', 0, 0).d[0]).toBe(0);
    expect(at('pow', 0, 0).value).toBe(1);
    expect(at('pow', 0, 1).d[0]).toBe(1);
    expect(at('pow', 0, 2).d[0]).toBe(0);
    for (const b of [0, -0, 5e-324, 0.5, 1, 2, 3.7, 1e300]) expect(at('pow', 0, b).d[1]).toBe(0);
    // A zero exponent gives 0 even where a^-1 overflows, and the mixed second derivative stays 1/a elsewhere.
    expect(at('pow', 5e-324, 0).d[0]).toBe(0);
    expect(at('pow', -0, 0).d[0]).toBe(0);
    const { d2 } = derived('pow');
    expect(evaluate(d2[0]![1]!, { x0: 0.25, x1: 0 })).toBe(4);
    // pow(0, b) = 0 for b > 0, so its second derivatives there are 0, not 0 * log(0) = NaN.
    expect(evaluate(d2[1]![1]!, { x0: 0, x1: 2 })).toBe(0);
    expect(evaluate(d2[1]![0]!, { x0: 0, x1: 2 })).toBe(0);
    expect(evaluate(d2[0]![1]!, { x0: 0, x1: 2 })).toBe(0);
    // Constant exponent.
    const x = VARS[0]!;
    const dConst = (e: number, a: number) => evaluate(derive(pow(x, constant(e)), x), { x0: a });
    expect(dConst(0.5, 0)).toBe(INF);
    expect(dConst(0, 0)).toBe(0);
    expect(dConst(1, 0)).toBe(1);
    expect(dConst(2, 0)).toBe(0);
    expect(dConst(3, -2)).toBe(12);
  });

  it('pow: a negative base with a non-integer exponent gives NaN, with an integer exponent a number', () => {
    expect(at('pow', -8, 1 / 3).value).toBeNaN();
    const r = at('pow', -2, 3);
    expect(r.value).toBe(-8);
    expect(r.d[0]).toBe(12);
  });

  it('sqrt and log: +inf derivative at 0, -inf log(0), NaN below 0', () => {
    expect(at('sqrt', 0)).toEqual({ value: 0, d: [INF] });
    expect(at('sqrt', -1).value).toBeNaN();
    expect(at('log', 0)).toEqual({ value: -INF, d: [INF] });
    expect(at('log', -1).value).toBeNaN();
    expect(at('log', INF)).toEqual({ value: INF, d: [0] });
  });

  it('log1p and expm1 are exact for tiny arguments', () => {
    for (const x of [1e-300, -1e-300, 5e-324, 1e-20]) {
      expect(at('log1p', x)).toEqual({ value: x, d: [1] });
      expect(at('expm1', x)).toEqual({ value: x, d: [1] });
    }
    expect(at('log1p', -1).value).toBe(-INF);
    expect(at('log1p', -1).d[0]).toBe(INF);
  });

  it('exp: overflows to inf and underflows to 0, derivative alike', () => {
    expect(at('exp', INF)).toEqual({ value: INF, d: [INF] });
    expect(at('exp', -INF)).toEqual({ value: 0, d: [0] });
    expect(at('exp', 1000).value).toBe(INF);
  });

  it('abs, relu and sign: derivative 0 at 0; sign and relu propagate NaN', () => {
    expect(at('abs', 0).d[0]).toBe(0);
    expect(at('abs', -3).d[0]).toBe(-1);
    expect(at('abs', 3).d[0]).toBe(1);
    expect(at('relu', 0).d[0]).toBe(0);
    expect(at('relu', -0).d[0]).toBe(0);
    expect(at('relu', 2).d[0]).toBe(1);
    expect(at('relu', -2)).toEqual({ value: 0, d: [0] });
    expect(at('relu', Number.NaN).value).toBeNaN();
    expect(at('sign', Number.NaN).value).toBeNaN();
    expect(at('sign', -5).value).toBe(-1);
    expect(at('sign', 0).d[0]).toBe(0);
  });

  it('min and max: the gradient goes to the selected argument, split in half on ties; NaN propagates', () => {
    for (const name of ['min', 'max'] as const) {
      expect(at(name, 2, 2)).toEqual({ value: 2, d: [0.5, 0.5] });
      expect(at(name, -INF, -INF).d).toEqual([0.5, 0.5]);
      expect(at(name, Number.NaN, 1).value).toBeNaN();
      expect(at(name, 1, Number.NaN).value).toBeNaN();
    }
    expect(at('min', 1, 2)).toEqual({ value: 1, d: [1, 0] });
    expect(at('min', 3, 2)).toEqual({ value: 2, d: [0, 1] });
    expect(at('max', 1, 2)).toEqual({ value: 2, d: [0, 1] });
    expect(at('max', 3, 2)).toEqual({ value: 3, d: [1, 0] });
  });

  it('where: a non-zero (or NaN) condition selects a and its gradient; no gradient to the condition', () => {
    expect(at('where', 1, 5, 7)).toEqual({ value: 5, d: [0, 1, 0] });
    expect(at('where', 0, 5, 7)).toEqual({ value: 7, d: [0, 0, 1] });
    expect(at('where', -0, 5, 7)).toEqual({ value: 7, d: [0, 0, 1] });
    expect(at('where', Number.NaN, 5, 7)).toEqual({ value: 5, d: [0, 1, 0] });
  });

  it('comparisons and logic give 0/1 with derivative 0; NaN compares false', () => {
    const nan = Number.NaN;
    expect([at('lt', 1, 2).value, at('le', 2, 2).value, at('gt', 1, 2).value, at('ge', 2, 2).value]).toEqual([
      1, 1, 0, 1,
    ]);
    expect([
      at('eq', 0, -0).value,
      at('ne', 0, -0).value,
      at('eq', nan, nan).value,
      at('ne', nan, nan).value,
    ]).toEqual([1, 0, 0, 1]);
    expect([at('lt', nan, 1).value, at('ge', nan, 1).value]).toEqual([0, 0]);
    expect([
      at('and', 2, nan).value,
      at('and', 2, 0).value,
      at('or', 0, -0).value,
      at('not', 0).value,
    ]).toEqual([1, 0, 0, 1]);
    for (const n of ['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or'] as const)
      expect(at(n, 1, 1).d).toEqual([0, 0]);
  });

  it('detach: identity in value, derivative 0', () => {
    for (const x of [...EDGE_VALUES, INF]) expect(at('detach', x)).toEqual({ value: x, d: [0] });
  });
});
