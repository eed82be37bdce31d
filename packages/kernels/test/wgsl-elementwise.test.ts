/**
 * The expression IR emitted as WGSL: every primitive's template, the fused multi-output elementwise shader
 * (forward and derived backward expressions), and the edge values of sigmoid / softplus / logSigmoid / tanh,
 * run on webgpu and judged against float64 evaluation; the cpu runner must equal Math.fround of it exactly.
 */
import {
  add,
  apply,
  compileElementwiseWgsl,
  derive,
  type Expr,
  evaluateAll,
  GPU,
  gradient,
  type InputKind,
  logSigmoid,
  mul,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  pow,
  sigmoid,
  sub,
  variable,
  wgslLiteral,
  wgslSupport,
} from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu } = await setupWebGpu('wgsl-elementwise.test.ts');
const cpu = new GPU({ mode: 'cpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
});

const X = variable('x');
const Y = variable('y');
const Z = variable('z');

/** Float32 values in [min, max], subnormals flushed to 0 (GPUs may flush them). */
const f32 = (min: number, max: number) =>
  fc
    .float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
    .map((v) => (Math.abs(v) < 1.1754943508222875e-38 ? 0 : v));
const pool = (...vs: number[]) => fc.constantFrom(...vs);

/** Argument domains and webgpu tolerance [rtol, atol] per primitive. */
const DOMAINS: Record<PrimitiveName, { args: fc.Arbitrary<number>[]; tol: [number, number] }> = {
  add: { args: [f32(-100, 100), f32(-100, 100)], tol: [1e-6, 1e-5] },
  sub: { args: [f32(-100, 100), f32(-100, 100)], tol: [1e-6, 1e-5] },
  // Products and quotients below the float32 normal range may be flushed to zero.
  mul: { args: [f32(-100, 100), f32(-100, 100)], tol: [1e-6, 1.2e-38] },
  div: { args: [f32(-100, 100), fc.oneof(f32(0.1, 100), f32(-100, -0.1))], tol: [1e-6, 1.2e-38] },
  neg: { args: [f32(-100, 100)], tol: [0, 0] },
  exp: { args: [f32(-80, 80)], tol: [1e-5, 0] },
  log: { args: [f32(1e-3, 1e4)], tol: [1e-5, 1e-6] },
  log1p: { args: [f32(-0.99, 1e4)], tol: [1e-5, 0] },
  expm1: { args: [f32(-80, 80)], tol: [1e-5, 0] },
  sqrt: { args: [f32(0, 1e4)], tol: [1e-6, 0] },
  pow: { args: [f32(0.01, 10), f32(-5, 5)], tol: [1e-5, 0] },
  abs: { args: [f32(-100, 100)], tol: [0, 0] },
  sign: { args: [fc.oneof(f32(-100, 100), pool(0))], tol: [0, 0] },
  min: { args: [f32(-100, 100), f32(-100, 100)], tol: [0, 0] },
  max: { args: [f32(-100, 100), f32(-100, 100)], tol: [0, 0] },
  where: { args: [pool(0, -0, 1, 2, -3), f32(-100, 100), f32(-100, 100)], tol: [0, 0] },
  lt: { args: [pool(-1, 0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  le: { args: [pool(-1, 0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  gt: { args: [pool(-1, 0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  ge: { args: [pool(-1, 0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  eq: { args: [pool(-1, 0, -0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  ne: { args: [pool(-1, 0, -0, 1, 2.5), pool(-1, 0, 1, 2.5)], tol: [0, 0] },
  and: { args: [pool(-1, 0, -0, 2.5), pool(-1, 0, 2.5)], tol: [0, 0] },
  or: { args: [pool(-1, 0, -0, 2.5), pool(-1, 0, 2.5)], tol: [0, 0] },
  not: { args: [pool(-1, 0, -0, 2.5)], tol: [0, 0] },
  sigmoid: { args: [f32(-200, 200)], tol: [1e-5, 1e-37] },
  softplus: { args: [f32(-200, 200)], tol: [1e-5, 1e-37] },
  logSigmoid: { args: [f32(-200, 200)], tol: [1e-5, 1e-37] },
  tanh: { args: [f32(-30, 30)], tol: [1e-5, 1e-37] },
  erf: { args: [f32(-6, 6)], tol: [1e-6, 1e-37] },
  relu: { args: [f32(-100, 100)], tol: [0, 0] },
  detach: { args: [f32(-100, 100)], tol: [0, 0] },
};

/** Evaluates `outputs` in float64 for each element (the truth). */
function truth(
  outputs: readonly Expr[],
  names: readonly string[],
  columns: ReadonlyArray<ArrayLike<number> | number>,
  n: number,
) {
  const res = outputs.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const b: Record<string, number> = {};
    names.forEach((name, k) => {
      const c = columns[k]!;
      b[name] = typeof c === 'number' ? c : c[i]!;
    });
    evaluateAll(outputs, b).forEach((v, k) => {
      res[k]![i] = v;
    });
  }
  return res;
}

describe('WGSL generation (no device needed)', () => {
  it('every primitive has a WGSL template', () => {
    for (const name of PRIMITIVE_NAMES) {
      const args = ['a', 'b', 'c'].slice(0, PRIMITIVES[name].arity);
      expect(typeof PRIMITIVES[name].wgsl(...args)).toBe('string');
    }
  });

  it('literals: float32 rounding, signed zero, and run-time inf / NaN', () => {
    expect(wgslLiteral(0.5)).toBe('0.5f');
    expect(wgslLiteral(0.1)).toBe('0.10000000149011612f');
    expect(wgslLiteral(-2)).toBe('(-2f)');
    expect(wgslLiteral(-0)).toBe('(-0.0f)');
    expect(wgslLiteral(1e300)).toBe('gk_inf()');
    expect(wgslLiteral(Number.NEGATIVE_INFINITY)).toBe('(-gk_inf())');
    expect(wgslLiteral(Number.NaN)).toBe('gk_nan()');
  });

  it('a fused shader writes every output and carries only the helpers it uses', () => {
    const loss = sub(mul(sub(1, Y), X), logSigmoid(X));
    const [dx] = gradient(loss, [X]);
    const s = compileElementwiseWgsl([loss, dx!], ['x', 'y'], ['array', 'array']);
    expect(s.code).toContain('gk_out0[i]');
    expect(s.code).toContain('gk_out1[i]');
    expect(s.code).toContain('fn gk_logSigmoid');
    expect(s.code).toContain('fn gk_sigmoid');
    expect(s.code).not.toContain('fn gk_tanh');
    expect(wgslSupport('gk_softplus(x)')).toContain('fn gk_log1p');
    expect(() => compileElementwiseWgsl([X], ['y'], ['array'])).toThrow(/variable 'x'/);
  });
});

describe('primitives on the cpu runner: exactly Math.fround of float64 evaluation', () => {
  for (const name of PRIMITIVE_NAMES) {
    it(name, () => {
      const { args } = DOMAINS[name];
      const vars = [X, Y, Z].slice(0, args.length);
      const names = ['x', 'y', 'z'].slice(0, args.length);
      const e = apply(name, ...vars);
      const run = cpu.createElementwise(
        [e],
        names,
        names.map(() => 'array'),
      );
      fc.assert(
        fc.property(
          fc
            .integer({ min: 1, max: 100 })
            .chain((n) => fc.tuple(...args.map((a) => fc.array(a, { minLength: n, maxLength: n })))),
          (cols) => {
            const n = cols[0]!.length;
            const [got] = run(cols, n);
            const want = Float64Array.from(truth([e], names, cols, n)[0]!, (v) => Math.fround(v));
            expectClose(got!, want, 0, 0, name);
          },
        ),
        propertyConfig({ numRuns: 30 }),
      );
    });
  }
});

describe.skipIf(webgpu === null)('primitives on webgpu: float64 evaluation within float32 tolerance', () => {
  for (const name of PRIMITIVE_NAMES) {
    it(name, async () => {
      const { args, tol } = DOMAINS[name];
      const vars = [X, Y, Z].slice(0, args.length);
      const names = ['x', 'y', 'z'].slice(0, args.length);
      const e = apply(name, ...vars);
      const run = webgpu!.createElementwise(
        [e],
        names,
        names.map(() => 'array'),
      );
      await fc.assert(
        fc.asyncProperty(
          fc
            .integer({ min: 1, max: 200 })
            .chain((n) => fc.tuple(...args.map((a) => fc.array(a, { minLength: n, maxLength: n })))),
          async (cols) => {
            const n = cols[0]!.length;
            const [got] = await run(cols, n);
            expectClose(got!, truth([e], names, cols, n)[0]!, tol[0], tol[1], name);
          },
        ),
        propertyConfig({ numRuns: 10 }),
      );
    });
  }

  it('pow with negative bases and integer exponents, and zero bases', async () => {
    const e = pow(X, Y);
    const run = webgpu!.createElementwise([e], ['x', 'y'], ['array', 'array']);
    const xs = [-3, -2, -0.5, -1, 0, 0, 2, 1.5, -7, 0];
    const ys = [2, 3, -1, 7, 2, 0, 10, -2, 0.5, 3];
    const [got] = await run([xs, ys], xs.length);
    expectClose(got!, truth([e], ['x', 'y'], [xs, ys], xs.length)[0]!, 1e-6, 0, 'pow');
  });
});

describe.skipIf(webgpu === null)(
  'edge values on webgpu: finite, correct results without relying on inf',
  () => {
    const xs = [
      -3.4e38, -1e30, -1e4, -1000, -104, -100, -88.8, -50, -20, -17, -1, -1e-6, -1e-30, 0, 1e-30, 1e-6, 1, 17,
      20, 50, 88.8, 100, 104, 1000, 1e4, 1e30, 3.4e38,
    ].map(Math.fround);

    for (const name of ['sigmoid', 'softplus', 'logSigmoid', 'tanh'] as const) {
      it(`${name} and its first and second derivatives`, async () => {
        const f = apply(name, X);
        const d1 = derive(f, X);
        const d2 = derive(d1, X);
        const outputs = [f, d1, d2];
        const run = webgpu!.createElementwise(outputs, ['x'], ['array']);
        const got = await run([xs], xs.length);
        const want = truth(outputs, ['x'], [xs], xs.length);
        got.forEach((g, k) => {
          for (let i = 0; i < xs.length; i++) {
            // Every value whose float64 truth is finite must be finite (no inf - inf, no 0 * inf).
            if (Number.isFinite(want[k]![i]!))
              expect(Number.isFinite(g[i]!), `${name} #${k} at ${xs[i]}`).toBe(true);
          }
          // The second derivatives subtract O(1) products (e.g. s(x)s'(-x) - s'(x)s(-x)), so near 0 their float32
          // error is absolute, about eps times those products.
          expectClose(g, want[k]!, 2e-5, k === 2 ? 1e-7 : 1e-37, `${name} derivative ${k}`);
        });
      });
    }
  },
);

describe('a fused loss and its gradient: the same numbers on cpu and webgpu', () => {
  // BCE with logits and a positive weight, a focal-style modulation, their gradients and one second derivative.
  const x = variable('x');
  const t = variable('t');
  const pw = variable('pw');
  const lw = add(mul(sub(pw, 1), t), 1);
  const bce = sub(mul(sub(1, t), x), mul(lw, logSigmoid(x)));
  const p = sigmoid(x);
  const oneMinusPt = add(mul(t, sub(1, p)), mul(sub(1, t), p));
  const focal = mul(pow(oneMinusPt, 2), bce);
  const [dx, dt] = gradient(focal, [x, t]);
  const outputs = [bce, focal, dx!, dt!, derive(dx!, x)];
  const names = ['x', 't', 'pw'];
  const kinds: InputKind[] = ['array', 'array', 'scalar'];
  const gen = fc
    .integer({ min: 1, max: 300 })
    .chain((n) =>
      fc.tuple(
        fc.array(fc.oneof(f32(-60, 60), pool(-1e4, -100, 0, 100, 1e4)), { minLength: n, maxLength: n }),
        fc.array(fc.oneof(f32(0, 1), pool(0, 1)), { minLength: n, maxLength: n }),
        f32(0.5, 3),
      ),
    );

  it('cpu: exactly Math.fround of float64 evaluation', () => {
    const run = cpu.createElementwise(outputs, names, kinds);
    fc.assert(
      fc.property(gen, ([xs, ts, w]) => {
        const got = run([xs, ts, w], xs.length);
        const want = truth(outputs, names, [xs, ts, w], xs.length);
        got.forEach((g, k) => {
          expectClose(g, Float64Array.from(want[k]!, Math.fround), 0, 0, `output ${k}`);
        });
      }),
      propertyConfig({ numRuns: 30 }),
    );
  });

  it.skipIf(webgpu === null)('webgpu: float64 evaluation within float32 tolerance', async () => {
    const run = webgpu!.createElementwise(outputs, names, kinds);
    await fc.assert(
      fc.asyncProperty(gen, async ([xs, ts, w]) => {
        const got = await run([xs, ts, w], xs.length);
        const want = truth(outputs, names, [xs, ts, w], xs.length);
        got.forEach((g, k) => {
          // Terms of size |x| cancel in these losses: judge the error against |x| + 1.
          const scale = Float64Array.from(xs, (v) => Math.abs(v) + 1);
          for (let i = 0; i < g.length; i++) {
            const err = Math.abs(g[i]! - want[k]![i]!);
            if (!(err <= 2e-5 * Math.abs(want[k]![i]!) + 1e-6 * scale[i]!)) {
              throw new Error(
                `output ${k} at x=${xs[i]}, t=${ts[i]}, pw=${w}: got ${g[i]}, want ${want[k]![i]}`,
              );
            }
          }
        });
      }),
      propertyConfig({ numRuns: 15 }),
    );
  });
});
