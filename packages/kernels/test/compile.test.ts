/**
 * The JavaScript code generator agrees with the interpreter bit for bit: random expression trees over three
 * variables, built from every primitive and differentiated up to three times, compiled to a function and to
 * fused elementwise loops over typed arrays.
 */
import {
  apply,
  compile,
  compileElementwise,
  constant,
  derive,
  type Expr,
  evaluate,
  evaluateBatch,
  freeVariables,
  mul,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  sigmoid,
  variable,
} from '@gradkit/kernels';
import { propertyConfig, scalar } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const NAMES = ['x', 'y', 'z'] as const;
type VarName = (typeof NAMES)[number];

/** A plain-data description of an expression, so fast-check can print and shrink it. */
type Recipe =
  | { readonly v: VarName }
  | { readonly c: number }
  | { readonly op: PrimitiveName; readonly args: Recipe[] };

const constants = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2, 0.5, 3, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.double({ noNaN: true }),
);

const leaf: fc.Arbitrary<Recipe> = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES).map((v): Recipe => ({ v })), weight: 3 },
  { arbitrary: constants.map((c): Recipe => ({ c })), weight: 1 },
);

const VARS = { x: variable('x'), y: variable('y'), z: variable('z') };

/** Primitives with a non-zero derivative rule for some argument (the others make derivatives vanish). */
const DIFFERENTIABLE = PRIMITIVE_NAMES.filter((op) => {
  const args = [VARS.x, VARS.y, VARS.z].slice(0, PRIMITIVES[op].arity);
  const e = apply(op, ...args);
  return args.some((a) => !derive(e, a).isConst);
});
const OTHERS = PRIMITIVE_NAMES.filter((op) => !DIFFERENTIABLE.includes(op));
const primitive = fc.oneof(
  { arbitrary: fc.constantFrom(...DIFFERENTIABLE), weight: 5 },
  { arbitrary: fc.constantFrom(...OTHERS), weight: 1 },
);

/** A tree whose root is a primitive; below it, each node is a primitive (3 in 4) or a leaf, down to `depth`. */
function recipes(depth: number): fc.Arbitrary<Recipe> {
  const sub =
    depth <= 1
      ? leaf
      : fc.oneof({ arbitrary: leaf, weight: 1 }, { arbitrary: recipes(depth - 1), weight: 3 });
  return primitive.chain((op) =>
    fc
      .tuple(...Array.from({ length: PRIMITIVES[op].arity }, () => sub))
      .map((args): Recipe => ({ op, args })),
  );
}

function build(r: Recipe): Expr {
  if ('v' in r) return VARS[r.v];
  if ('c' in r) return constant(r.c);
  return apply(r.op, ...r.args.map(build));
}

/** An expression built from a random tree, then differentiated along random variables that it uses. */
function expressions(maxDepth: number, minDerivs: number, maxDerivs: number): fc.Arbitrary<Expr> {
  return fc
    .tuple(recipes(maxDepth), fc.array(fc.nat(), { minLength: minDerivs, maxLength: maxDerivs }))
    .map(([r, picks]) => {
      const e = build(r);
      const free = freeVariables(e) as VarName[];
      if (free.length === 0) return e;
      return picks.reduce((d, k) => derive(d, VARS[free[k % free.length]!]), e);
    });
}

/** Inputs: finite values of every scale, edge values, ±inf and NaN. */
const input = fc.oneof(
  { arbitrary: scalar({ min: -1e300, max: 1e300, infinities: true }), weight: 6 },
  { arbitrary: fc.constantFrom(-2, -1, 0, 0.5, 1, 2, 3), weight: 2 },
  { arbitrary: fc.constant(Number.NaN), weight: 1 },
);
const point = fc.tuple(input, input, input);
const bindings = ([x, y, z]: readonly number[]) => ({ x: x!, y: y!, z: z! });

function expectSame(got: number, want: number, what: string): void {
  if (!Object.is(got, want)) throw new Error(`${what}: compiled ${got}, interpreted ${want}`);
}

const cfg = propertyConfig({ numRuns: 200 });

describe('compile', () => {
  it('equals evaluate bit for bit on random expressions and their derivatives', () => {
    fc.assert(
      fc.property(expressions(4, 0, 2), point, (e, p) => {
        const b = bindings(p);
        expectSame(compile(e)(b), evaluate(e, b), `${e} at [${p}]`);
      }),
      cfg,
    );
  });

  it('compiles third derivatives, equal to the interpreter', () => {
    fc.assert(
      fc.property(
        expressions(3, 3, 3).filter((e) => !e.isConst),
        point,
        (e, p) => {
          const b = bindings(p);
          expectSame(compile(e)(b), evaluate(e, b), `${e} at [${p}]`);
        },
      ),
      propertyConfig({ numRuns: 60 }),
    );
  });

  it('takes positional arguments in the order of `variables`', () => {
    const { x, y } = VARS;
    const f = compile(apply('sub', x, mul(y, 3)), { variables: ['y', 'x'] });
    expect(f.variables).toEqual(['y', 'x']);
    expect(f.positional(2, 10)).toBe(4);
    expect(f({ x: 10, y: 2 })).toBe(4);
    expect(f.source).toContain('function compiled(v0, v1)');
  });

  it('compiles a constant expression to a function of nothing, keeping -0, ±inf and exact literals', () => {
    for (const c of [-0, 0.1, -1e-310, Number.MAX_VALUE, Number.NEGATIVE_INFINITY]) {
      const f = compile(constant(c));
      expect(f.variables).toEqual([]);
      expect(Object.is(f({}), c)).toBe(true);
    }
    // Constant folding can produce a NaN constant (0 * inf); it compiles to NaN like it evaluates to NaN.
    const folded = mul(VARS.x, mul(0, Number.POSITIVE_INFINITY));
    expect(compile(folded)({ x: 1 })).toBeNaN();
    expect(compile(derive(folded, VARS.x))({ x: 1 })).toBeNaN();
  });

  it('emits a shared subexpression once', () => {
    const s = sigmoid(mul(VARS.x, VARS.y));
    const f = compile(apply('add', mul(s, s), s));
    expect(f.source.match(/Math\.exp/g)).toHaveLength(1);
    expect(f({ x: 0, y: 1 })).toBe(0.75);
  });

  it('sigmoid, softplus and logSigmoid of a and of -a share one exponential, bit for bit with evaluate', () => {
    const a = mul(VARS.x, VARS.y);
    const na = apply('neg', a);
    const e = apply(
      'add',
      apply('mul', sigmoid(a), sigmoid(na)),
      apply('add', apply('softplus', na), apply('logSigmoid', a)),
    );
    const f = compile(e);
    expect(f.source.match(/Math\.exp/g)).toHaveLength(1);
    for (const [x, y] of [
      [0, 1],
      [3, 0.5],
      [-40, 2],
      [1e3, 1],
      [-1e3, 1],
      [Infinity, 1],
      [-Infinity, 1],
      [NaN, 1],
      [-0, 1],
    ]) {
      expect(Object.is(f({ x: x!, y: y! }), evaluate(e, { x: x!, y: y! })), `x=${x}, y=${y}`).toBe(true);
    }
  });
});

describe('compileElementwise and evaluateBatch', () => {
  const columns = fc
    .integer({ min: 1, max: 12 })
    .chain((n) => fc.tuple(...NAMES.map(() => fc.array(input, { minLength: n, maxLength: n }))));

  it('evaluateBatch over Float64Array columns equals evaluate elementwise, bit for bit', () => {
    fc.assert(
      fc.property(expressions(4, 0, 1), columns, (e, cols) => {
        const [xs, ys, zs] = cols.map((c) => Float64Array.from(c));
        const out = evaluateBatch(e, { x: xs!, y: ys!, z: zs! });
        const n = xs!.length;
        // An expression with no array variable is evaluated once.
        expect(out.length).toBe(freeVariables(e).length === 0 ? 1 : n);
        for (let i = 0; i < out.length; i++) {
          expectSame(out[i]!, evaluate(e, { x: xs![i]!, y: ys![i]!, z: zs![i]! }), `${e} at element ${i}`);
        }
      }),
      cfg,
    );
  });

  it('one fused loop writes several outputs; float64 outputs are exact, float32 ones are the rounded truth', () => {
    fc.assert(
      fc.property(
        expressions(3, 0, 0),
        fc.constantFrom(...NAMES),
        columns,
        input,
        (e, wrt, cols, yScalar) => {
          const d = derive(e, VARS[wrt]);
          const xs = Float64Array.from(cols[0]);
          const zs = Float32Array.from(cols[2]);
          const n = xs.length;
          const kernel = compileElementwise([e, d], ['x', 'y', 'z'], ['array', 'scalar', 'array']);
          const o64 = [new Float64Array(n), new Float64Array(n)];
          const o32 = [new Float32Array(n), new Float32Array(n)];
          kernel([xs, yScalar, zs], o64, n);
          kernel([xs, yScalar, zs], o32, n);
          for (let i = 0; i < n; i++) {
            const b = { x: xs[i]!, y: yScalar, z: zs[i]! };
            const [ve, vd] = [evaluate(e, b), evaluate(d, b)];
            expectSame(o64[0]![i]!, ve, `${e} at element ${i}`);
            expectSame(o64[1]![i]!, vd, `${d} at element ${i}`);
            expectSame(o32[0]![i]!, Math.fround(ve), `float32 ${e} at element ${i}`);
            expectSame(o32[1]![i]!, Math.fround(vd), `float32 ${d} at element ${i}`);
          }
        },
      ),
      cfg,
    );
  });

  it('caches kernels by expression, variables and input kinds', () => {
    const e = apply('mul', VARS.x, VARS.y);
    const k1 = compileElementwise([e], ['x', 'y'], ['array', 'array']);
    expect(compileElementwise([e], ['x', 'y'], ['array', 'array'])).toBe(k1);
    expect(compileElementwise([e], ['x', 'y'], ['array', 'scalar'])).not.toBe(k1);
  });

  it('evaluateBatch accepts plain arrays and scalars, and Float32Array inputs are read exactly', () => {
    const e = apply('add', VARS.x, mul(VARS.y, VARS.z));
    expect(Array.from(evaluateBatch(e, { x: [1, 2, 3], y: 10, z: [0.5, 0.25, 0] }))).toEqual([6, 4.5, 3]);
    const x32 = Float32Array.from([0.1, 1 / 3]);
    const out = evaluateBatch(sigmoid(VARS.x), { x: x32 });
    expect(Array.from(out)).toEqual(Array.from(x32, (v) => evaluate(sigmoid(VARS.x), { x: v })));
  });
});
