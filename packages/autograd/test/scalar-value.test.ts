/**
 * The scalar Value engine: micrograd-style hand-computed gradients, accumulation and zeroing, leaf updates,
 * symbolic values (derive / compile), higher derivatives with valueGrad, and gradcheck / gradgradcheck over
 * every Value method (the list is read from the class, so a new method without a spec fails here).
 */
import {
  compile,
  derive,
  evaluate,
  evaluateBatch,
  StateError,
  symbol,
  Value,
  type ValueLike,
  value,
  valueGrad,
  whereValue,
} from '@gradkit/autograd';
import { gradcheck, gradgradcheck, propertyConfig, smoothScalar } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** |a - b| <= rel * |b| (+ a tiny absolute floor). */
function expectRel(a: number | undefined, b: number, rel = 1e-12): void {
  expect(a).toBeTypeOf('number');
  expect(Math.abs(a! - b)).toBeLessThanOrEqual(rel * Math.abs(b) + 1e-300);
}

describe('micrograd-style gradients', () => {
  it('a small expression graph (hand-computed)', () => {
    const a = value(2, 'a');
    const b = value(-3, 'b');
    const c = value(10, 'c');
    const e = a.mul(b);
    const d = e.add(c);
    const f = value(-2, 'f');
    const L = d.mul(f);
    L.backward();
    expect(L.data).toBe(-8);
    expect([a.grad, b.grad, c.grad, f.grad]).toEqual([6, -4, -2, 4]);
    expect([e.grad, d.grad, L.grad]).toEqual([-2, -2, 1]);
  });

  it('a tanh neuron (hand-computed: do/dn = 1 - tanh² = 0.5)', () => {
    const x1 = value(2);
    const x2 = value(0);
    const w1 = value(-3);
    const w2 = value(1);
    const b = value(6.881373587019543);
    const o = x1.mul(w1).add(x2.mul(w2)).add(b).tanh();
    o.backward();
    expectRel(o.data, Math.SQRT1_2, 1e-15);
    expectRel(x1.grad, -1.5, 1e-14);
    expectRel(w1.grad, 1, 1e-14);
    expectRel(x2.grad, 0.5, 1e-14);
    expect(w2.grad).toBe(0);
  });

  it('the sanity check of micrograd: y = -20, dy/dx = 46 at x = -4', () => {
    const x = value(-4);
    const z = x.mul(2).add(2).add(x);
    const q = z.relu().add(z.mul(x));
    const h = z.mul(z).relu();
    const y = h.add(q).add(q.mul(x));
    y.backward();
    expect(y.data).toBe(-20);
    expect(x.grad).toBe(46);
  });

  it('the "more ops" check of micrograd (reference values from PyTorch)', () => {
    const a = value(-4);
    const b = value(2);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(c.add(1).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(d.mul(3).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2);
    g = g.add(value(10).div(f));
    g.backward();
    expectRel(g.data, 24.70408163265306);
    expectRel(a.grad, 138.83381924198252);
    expectRel(b.grad, 645.5772594752186);
  });

  it('reusing an intermediate value accumulates both paths', () => {
    const a = value(3);
    a.add(a).backward();
    expect(a.grad).toBe(2);
    const x = value(1.5);
    const s = x.mul(x);
    const t = s.add(s).mul(s); // 2 x^4
    t.backward();
    expect(x.grad).toBe(8 * 1.5 ** 3);
    // Two separately built but identical results: the leaf still gets both contributions.
    const w = value(5);
    w.mul(3).add(w.mul(3)).backward();
    expect(w.grad).toBe(6);
  });

  it('backward twice accumulates (as documented); zeroGrad resets the whole graph', () => {
    const x = value(2);
    const y = value(-1);
    const out = x.mul(y).add(x.exp());
    out.backward();
    const once = [x.grad, y.grad];
    out.backward();
    expect([x.grad, y.grad]).toEqual([2 * once[0]!, 2 * once[1]!]);
    out.zeroGrad();
    expect([x.grad, y.grad, out.grad]).toEqual([0, 0, 0]);
    out.backward();
    expect([x.grad, y.grad]).toEqual(once);
  });

  it('constants (numbers) mix with Values and get no gradient', () => {
    const x = value(4);
    const y = x.mul(3).sub(1).div(2);
    y.backward();
    expect(y.data).toBe(5.5);
    expect(x.grad).toBe(1.5);
    expect(y.parents.every((p) => p instanceof Value)).toBe(true);
  });

  it('detach: same number, no gradient through it', () => {
    const x = value(3);
    const y = x.mul(x.detach());
    y.backward();
    expect(y.data).toBe(9);
    expect(x.grad).toBe(3);
  });

  it('whereValue: gradient to the selected branch only, none to the condition', () => {
    const c = value(1);
    const a = value(2);
    const b = value(5);
    const y = whereValue(c.gt(0), a.mul(a), b.mul(b));
    y.backward();
    expect(y.data).toBe(4);
    expect([c.grad, a.grad, b.grad]).toEqual([0, 4, 0]);
  });
});

describe('leaves, results and symbols', () => {
  it('a leaf can be assigned (as an optimizer does); results keep their old number', () => {
    const w = value(2);
    const y = w.mul(w);
    w.data = 3;
    expect(w.data).toBe(3);
    expect(y.data).toBe(4);
    expect(w.mul(w).data).toBe(9);
    expect(w.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
  });

  it('assigning to a result raises StateError', () => {
    const y = value(2).mul(3);
    let err: unknown;
    try {
      y.data = 1;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).code).toBe('E_STATE');
    expect((err as StateError).message).toMatch(/^Value\.data: only a leaf/);
  });

  it('a symbolic value has no number: item() and backward() raise StateError naming the expression', () => {
    const x = symbol('x');
    const f = x.mul(x);
    expect(f.data).toBeUndefined();
    expect(() => f.item()).toThrow(StateError);
    expect(() => f.item()).toThrow(/Value\.item: value \(x \* x\) is symbolic/);
    expect(() => f.backward()).toThrow(/Value\.backward: .* symbolic/);
    expect(value(2.5).item()).toBe(2.5);
  });

  it('an expression built with symbol() derives, evaluates and compiles', () => {
    const x = symbol('x');
    const f = x.pow(3).add(x.tanh()).sub(x.mul(2).sigmoid());
    const df = derive(f.expr, x.expr);
    const sech2 = (t: number) => 1 - Math.tanh(t) ** 2;
    const s = (t: number) => 1 / (1 + Math.exp(-t));
    const exact = (t: number) => 3 * t * t + sech2(t) - 2 * s(2 * t) * (1 - s(2 * t));
    for (const t of [-2, -0.5, 0, 0.7, 3]) {
      expectRel(evaluate(df, { x: t }), exact(t), 1e-14);
      expect(compile(df)({ x: t })).toBe(evaluate(df, { x: t }));
    }
    const batch = evaluateBatch(df, { x: Float64Array.from([-2, 0, 3]) });
    expect(Array.from(batch)).toEqual([-2, 0, 3].map((t) => evaluate(df, { x: t })));
    // The same graph, bound to numbers, backpropagates to the same derivative.
    const xv = value(0.7);
    const fv = xv.pow(3).add(xv.tanh()).sub(xv.mul(2).sigmoid());
    fv.backward();
    expect(xv.grad).toBe(evaluate(df, { x: 0.7 }));
  });

  it('toString shows the label, data, grad and expression', () => {
    const a = value(2, 'a');
    expect(a.toString()).toContain('a, data=2, grad=0');
    expect(symbol('t').exp().toString()).toContain('data=symbolic');
  });
});

describe('valueGrad: differentiable gradients', () => {
  // f = x³ eˣ and its closed-form derivatives.
  const f = (x: Value) => x.pow(3).mul(x.exp());
  const d1 = (x: number) => (3 * x * x + x ** 3) * Math.exp(x);
  const d2 = (x: number) => (6 * x + 6 * x * x + x ** 3) * Math.exp(x);
  const d3 = (x: number) => (6 + 18 * x + 9 * x * x + x ** 3) * Math.exp(x);

  it('second and third derivatives, as numbers and by backward', () => {
    for (const t of [-1.3, 0.4, 2]) {
      const x = value(t);
      const [g1] = valueGrad(f(x), [x]);
      const [g2] = valueGrad(g1!, [x]);
      const [g3] = valueGrad(g2!, [x]);
      expectRel(g1!.data, d1(t));
      expectRel(g2!.data, d2(t));
      expectRel(g3!.data, d3(t));
      g2!.backward();
      expectRel(x.grad, d3(t));
    }
  });

  it('mixed partial derivatives of x² y³', () => {
    const x = value(1.5);
    const y = value(-2);
    const out = x.pow(2).mul(y.pow(3));
    const [gx, gy] = valueGrad(out, [x, y]);
    expect([gx!.data, gy!.data]).toEqual([2 * 1.5 * -8, 2.25 * 3 * 4]);
    const [gxx, gxy] = valueGrad(gx!, [x, y]);
    expect([gxx!.data, gxy!.data]).toEqual([2 * -8, 2 * 1.5 * 3 * 4]);
  });

  it('an input the output does not depend on gets 0; symbolic inputs give symbolic gradients', () => {
    const x = value(2);
    const unused = value(7);
    const [g] = valueGrad(x.mul(x), [unused]);
    expect(g!.data).toBe(0);
    const s = symbol('s');
    const [gs] = valueGrad(s.pow(3), [s]);
    expect(gs!.data).toBeUndefined();
    expect(evaluate(derive(gs!.expr, s.expr), { s: 2 })).toBe(12);
  });
});

/** How a Value method is checked: its inputs' domain and whether finite differences can judge it. */
interface MethodSpec {
  readonly domains: readonly fc.Arbitrary<number>[];
  /** Extra condition on the inputs (away from kinks and ties). */
  readonly where?: (xs: number[]) => boolean;
  /** 'fd': gradcheck and gradgradcheck pass; 'zero': the gradient is 0 by definition (detach). */
  readonly kind: 'fd' | 'zero';
}

const u = (lo: number, hi: number) => smoothScalar(lo, hi);
const signed = (lo: number, hi: number) => fc.tuple(u(lo, hi), fc.boolean()).map(([m, s]) => (s ? -m : m));
const awayFromZero = (xs: number[]) => Math.abs(xs[0]!) > 1e-2;
const noTie = (xs: number[]) => Math.abs(xs[0]! - xs[1]!) > 1e-2;
const two = [u(-10, 10), u(-10, 10)];

const METHOD_SPECS: Record<string, MethodSpec> = {
  add: { domains: two, kind: 'fd' },
  sub: { domains: two, kind: 'fd' },
  mul: { domains: two, kind: 'fd' },
  div: { domains: [u(-10, 10), signed(0.5, 10)], kind: 'fd' },
  pow: { domains: [u(0.5, 5), u(-3, 3)], kind: 'fd' },
  neg: { domains: [u(-10, 10)], kind: 'fd' },
  exp: { domains: [u(-5, 5)], kind: 'fd' },
  log: { domains: [u(0.1, 100)], kind: 'fd' },
  log1p: { domains: [u(-0.9, 100)], kind: 'fd' },
  expm1: { domains: [u(-5, 5)], kind: 'fd' },
  sqrt: { domains: [u(0.1, 100)], kind: 'fd' },
  abs: { domains: [u(-10, 10)], where: awayFromZero, kind: 'fd' },
  sign: { domains: [u(-10, 10)], where: awayFromZero, kind: 'fd' },
  min: { domains: two, where: noTie, kind: 'fd' },
  max: { domains: two, where: noTie, kind: 'fd' },
  lt: { domains: two, where: noTie, kind: 'fd' },
  le: { domains: two, where: noTie, kind: 'fd' },
  gt: { domains: two, where: noTie, kind: 'fd' },
  ge: { domains: two, where: noTie, kind: 'fd' },
  eq: { domains: two, where: noTie, kind: 'fd' },
  ne: { domains: two, where: noTie, kind: 'fd' },
  sigmoid: { domains: [u(-10, 10)], kind: 'fd' },
  softplus: { domains: [u(-10, 10)], kind: 'fd' },
  logSigmoid: { domains: [u(-10, 10)], kind: 'fd' },
  tanh: { domains: [u(-10, 10)], kind: 'fd' },
  erf: { domains: [u(-5, 5)], kind: 'fd' },
  relu: { domains: [u(-10, 10)], where: awayFromZero, kind: 'fd' },
  detach: { domains: [u(-10, 10)], kind: 'zero' },
};

/** The operation methods of Value: everything on the prototype but the accessors and the engine's own. */
const NOT_OPS = new Set([
  'constructor',
  'data',
  'isLeaf',
  'item',
  'backward',
  'zeroGrad',
  'toString',
  'valueOf',
]);
const METHODS = Object.getOwnPropertyNames(Value.prototype).filter((m) => !NOT_OPS.has(m));

type Method = (this: Value, ...args: ValueLike[]) => Value;
const call = (name: string, self: Value, ...args: ValueLike[]): Value =>
  (Value.prototype as unknown as Record<string, Method>)[name]!.call(self, ...args);

describe('gradcheck and gradgradcheck over every Value method', () => {
  it('has a spec for every method and no spec without a method', () => {
    expect(METHODS.filter((m) => METHOD_SPECS[m] === undefined)).toEqual([]);
    expect(Object.keys(METHOD_SPECS).filter((m) => !METHODS.includes(m))).toEqual([]);
  });

  for (const name of METHODS) {
    const spec = METHOD_SPECS[name];
    if (spec === undefined) continue;
    const fn = (...xs: Value[]) => call(name, xs[0]!, ...xs.slice(1));
    const inputs = fc.tuple(...spec.domains).filter((xs) => spec.where?.(xs) ?? true);

    if (spec.kind === 'zero') {
      it(`${name}: identity in value, zero gradient`, () => {
        fc.assert(
          fc.property(inputs, (xs) => {
            const x = value(xs[0]!);
            const y = fn(x);
            y.backward();
            return y.data === xs[0] && x.grad === 0;
          }),
          propertyConfig({ numRuns: 50 }),
        );
      });
      continue;
    }

    it(`${name}: gradcheck and gradgradcheck pass`, () => {
      fc.assert(
        fc.property(inputs, (xs) => {
          const r1 = gradcheck(fn, xs);
          const r2 = gradgradcheck(fn, xs);
          if (!r1.ok || !r2.ok) throw new Error(`${name} at [${xs}]: ${JSON.stringify({ r1, r2 })}`);
        }),
        propertyConfig({ numRuns: 50 }),
      );
    });

    if (spec.domains.length === 2) {
      it(`${name}: with a number as the other operand`, () => {
        fc.assert(
          fc.property(inputs, (xs) => {
            const r = gradcheck((x) => call(name, x, xs[1]!), [xs[0]!]);
            if (!r.ok) throw new Error(`${name}(x, ${xs[1]}) at ${xs[0]}: ${JSON.stringify(r.worst)}`);
          }),
          propertyConfig({ numRuns: 30 }),
        );
      });
    }
  }

  it('whereValue: gradcheck and gradgradcheck pass for either condition', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), u(-10, 10), u(-10, 10), (c, a, b) => {
        const fn = (x: Value, y: Value) => whereValue(c, x.mul(x), y.exp());
        return gradcheck(fn, [a, b]).ok && gradgradcheck(fn, [a, b]).ok;
      }),
      propertyConfig({ numRuns: 50 }),
    );
  });
});
