/**
 * Fuzzing the expression API and the code generators: random expression trees over every primitive, with
 * random constants (edge values included, NaN excluded) and random depth, compiled with constants as
 * parameters, equal the interpreter bit for bit — also when many distinct constant vectors share one kernel.
 * Malformed arguments to every public expression/codegen function give a typed error or a correct result,
 * never a TypeError or a RangeError.
 */
import {
  adjoints,
  apply,
  compile,
  compiledKernelCount,
  compileElementwise,
  compileElementwiseWgsl,
  compileFusedReduce,
  compileStrided,
  compileStridedReduce,
  constant,
  derive,
  type Expr,
  evaluate,
  evaluateAll,
  evaluateBatch,
  freeVariables,
  fusedStraightLine,
  GradkitError,
  gradient,
  jsDialect,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  straightLine,
  substitute,
  toExpr,
  topoSort,
  variable,
} from '@gradkit/kernels';
import { EDGE_VALUES, propertyConfig, scalar } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Variable names, including ones that are not identifiers. */
const NAMES = ['x', '__proto__', 'a,b', 'q"\n'] as const;
const VARS = NAMES.map((n) => variable(n));

/** A plain-data expression tree whose constants are slots into a vector. */
type Recipe =
  | { readonly v: number }
  | { readonly c: number }
  | { readonly op: PrimitiveName; readonly args: Recipe[] };

function recipes(depth: number, slots: number): fc.Arbitrary<Recipe> {
  const leaf = fc.oneof(
    { arbitrary: fc.nat(NAMES.length - 1).map((v): Recipe => ({ v })), weight: 3 },
    { arbitrary: fc.nat(slots - 1).map((c): Recipe => ({ c })), weight: 2 },
  );
  if (depth <= 1) return leaf;
  const sub = recipes(depth - 1, slots);
  const node = fc
    .constantFrom(...PRIMITIVE_NAMES)
    .chain((op) =>
      fc
        .tuple(...Array.from({ length: PRIMITIVES[op].arity }, () => sub))
        .map((args): Recipe => ({ op, args })),
    );
  return fc.oneof({ arbitrary: leaf, weight: 1 }, { arbitrary: node, weight: 3 });
}

function build(r: Recipe, constants: readonly number[]): Expr {
  if ('v' in r) return VARS[r.v]!;
  if ('c' in r) return constant(constants[r.c]!);
  return apply(r.op, ...r.args.map((a) => build(a, constants)));
}

const finiteEdges = EDGE_VALUES.filter((v) => !Number.isNaN(v));
const constantValue = fc.oneof(
  { arbitrary: fc.constantFrom(...finiteEdges), weight: 1 },
  { arbitrary: fc.double({ noNaN: true }), weight: 2 },
);
const inputValue = fc.oneof(
  { arbitrary: scalar({ min: -1e300, max: 1e300, infinities: true }), weight: 4 },
  { arbitrary: fc.constantFrom(...EDGE_VALUES), weight: 2 },
);
const SLOTS = 6;
const N = 4;
const columns = fc.array(fc.array(inputValue, { minLength: N, maxLength: N }), {
  minLength: NAMES.length,
  maxLength: NAMES.length,
});

/** Runs `e` through compileElementwise over the columns and checks every element against evaluate. */
function checkElementwise(e: Expr, cols: readonly number[][]): void {
  const out = new Float64Array(N);
  const ins = cols.map((c) => Float64Array.from(c));
  compileElementwise(
    [e],
    [...NAMES],
    NAMES.map(() => 'array'),
  )(ins, [out], N);
  for (let i = 0; i < N; i++) {
    const bindings = new Map(NAMES.map((n, k) => [n, cols[k]![i]!] as const));
    const want = evaluate(e, bindings);
    if (!Object.is(out[i], want))
      throw new Error(`${e} at element ${i}: compiled ${out[i]}, interpreted ${want}`);
  }
}

describe('compiled equals interpreted, constants as parameters', () => {
  it('random trees with random (edge) constants, every primitive, random depth', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((d) => recipes(d, SLOTS)),
        fc.array(constantValue, { minLength: SLOTS, maxLength: SLOTS }),
        columns,
        (r, constants, cols) => {
          const e = build(r, constants);
          checkElementwise(e, cols);
          const f = compile(e, { variables: [...NAMES] });
          const b = new Map(NAMES.map((n, k) => [n, cols[k]![0]!] as const));
          expect(Object.is(f.positional(...cols.map((c) => c[0]!)), evaluate(e, b))).toBe(true);
        },
      ),
      propertyConfig({ numRuns: 150 }),
    );
  });

  it('many distinct constant vectors of one tree share one kernel (after the first build)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }).chain((d) => recipes(d, SLOTS)),
        fc.array(fc.double({ min: 0.5, max: 4, noNaN: true }), { minLength: SLOTS, maxLength: SLOTS }),
        columns,
        (r, base, cols) => {
          // Slot j of vector k: distinct across slots and vectors, away from 0 and ±1 (whose folding and
          // derivative rewrites are structure), and moving so little that folded comparisons keep their value.
          const vector = (k: number) =>
            base.map((b, j) => (j % 2 === 0 ? 1 : -1) * (b + 5 * j + k * 2 ** -20));
          const held: Expr[] = [build(r, vector(0))];
          checkElementwise(held[0]!, cols);
          const before = compiledKernelCount();
          for (let k = 1; k <= 12; k++) {
            const e = build(r, vector(k));
            held.push(e);
            checkElementwise(e, cols);
          }
          // Commutative arguments are ordered by id: the first build may order a constant-free argument
          // after a new one; every later build orders alike, so at most one more kernel.
          expect(compiledKernelCount() - before).toBeLessThanOrEqual(1);
        },
      ),
      propertyConfig({ numRuns: 80 }),
    );
  });
});

/** Values no public function expects. */
const HOSTILE: unknown[] = [
  undefined,
  null,
  0,
  Number.NaN,
  '',
  'x',
  '__proto__',
  'constructor',
  'a,b',
  '"); throw 1; ("',
  'line\nbreak',
  true,
  10n,
  Symbol('s'),
  {},
  [],
  [undefined],
  [null, 3],
  ['x', 'x'],
  Object.create(null),
  { __proto__: { x: 1 } },
  { toString: () => 'x', valueOf: () => 1 },
  () => 1,
  new Map([[1, 2]]),
  new Date(0),
  Float64Array.of(1),
];

/** A call that must return normally or throw a GradkitError. */
function typedOrOk(what: string, call: () => unknown): void {
  try {
    call();
  } catch (e) {
    if (!(e instanceof GradkitError)) {
      throw new Error(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
}

describe('malformed arguments give typed errors', () => {
  const x = variable('x');
  const e = apply('add', apply('mul', x, 2), 1);
  const ok = { x: 1 };
  const calls: Array<[string, (h: never) => unknown]> = [
    ['constant', (h) => constant(h)],
    ['variable', (h) => variable(h)],
    ['apply op', (h) => apply(h, x, x)],
    ['apply arg', (h) => apply('add', x, h)],
    ['toExpr', (h) => toExpr(h)],
    ['derive expr', (h) => derive(h, x)],
    ['derive wrt', (h) => derive(e, h)],
    ['gradient expr', (h) => gradient(h, [x])],
    ['gradient wrt', (h) => gradient(e, h)],
    ['adjoints output', (h) => adjoints(h)],
    ['adjoints seed', (h) => adjoints(e, h)],
    ['substitute expr', (h) => substitute(h, new Map())],
    ['substitute map', (h) => substitute(e, h)],
    ['substitute value', (h) => substitute(e, new Map([[x, h]]))],
    ['evaluate expr', (h) => evaluate(h, ok)],
    ['evaluate bindings', (h) => evaluate(e, h)],
    ['evaluate binding value', (h) => evaluate(e, { x: h })],
    ['evaluateAll outputs', (h) => evaluateAll(h, ok)],
    ['evaluateAll cache', (h) => evaluateAll([e], ok, h)],
    ['evaluateBatch expr', (h) => evaluateBatch(h, ok)],
    ['evaluateBatch columns', (h) => evaluateBatch(e, h)],
    ['evaluateBatch column', (h) => evaluateBatch(e, { x: h })],
    ['topoSort', (h) => topoSort(h)],
    ['freeVariables', (h) => freeVariables(h)],
    [
      'straightLine',
      (h) =>
        straightLine(
          h,
          jsDialect(() => 'v'),
        ),
    ],
    ['fusedStraightLine', (h) => fusedStraightLine(h, () => 'v')],
    ['compile expr', (h) => compile(h)],
    ['compile options', (h) => compile(e, h)],
    ['compile variables', (h) => compile(e, { variables: h })],
    ['compiled inputs', (h) => compile(e)(h)],
    ['compileElementwise outputs', (h) => compileElementwise(h, ['x'], ['array'])],
    ['compileElementwise variables', (h) => compileElementwise([e], h, ['array'])],
    ['compileElementwise kinds', (h) => compileElementwise([e], ['x'], h)],
    ['compileStrided outputs', (h) => compileStrided(h, ['x'])],
    ['compileStrided variables', (h) => compileStrided([e], h)],
    ['compileFusedReduce outputs', (h) => compileFusedReduce(h, ['x'], ['array'])],
    ['compileFusedReduce kinds', (h) => compileFusedReduce([e], ['x'], h)],
    ['compileFusedReduce options', (h) => compileFusedReduce([e], ['x'], ['array'], h)],
    ['compileFusedReduce store', (h) => compileFusedReduce([e], ['x'], ['array'], { store: h })],
    ['compileStridedReduce variables', (h) => compileStridedReduce([e], h)],
    ['compileStridedReduce options', (h) => compileStridedReduce([e], ['x'], h)],
    ['compileStridedReduce sum', (h) => compileStridedReduce([e], ['x'], { sum: h })],
    ['compileElementwiseWgsl outputs', (h) => compileElementwiseWgsl(h, ['x'], ['array'])],
    ['compileElementwiseWgsl variables', (h) => compileElementwiseWgsl([e], h, ['array'])],
    ['compileElementwiseWgsl kinds', (h) => compileElementwiseWgsl([e], ['x'], h)],
  ];

  for (const [what, call] of calls) {
    it(`${what}: typed error or a correct result for every hostile value`, () => {
      HOSTILE.forEach((h, i) => {
        typedOrOk(`${what} with hostile #${i}`, () => call(h as never));
      });
    });
  }

  it('a hostile value that is accepted gives the right answer', () => {
    // A Map is valid bindings, an own property is read, inherited ones are not.
    expect(evaluate(e, new Map([['x', 2]]))).toBe(5);
    const inherited = Object.create({ x: 1 }) as Record<string, number>;
    expect(() => evaluate(e, inherited)).toThrow(GradkitError);
    expect(evaluateBatch(e, { x: Float64Array.of(1) })[0]).toBe(3);
  });
});
