/**
 * Numeric literals are kernel parameters: expressions that differ only in their constants share ONE compiled
 * kernel (counted by compiledKernelCount), with results bit for bit those of the interpreter. Cache keys
 * cannot collide (variable lists are validated before any lookup), and user objects are read by own keys.
 */
import {
  ArgumentError,
  abs,
  add,
  apply,
  compile,
  compiledKernelCount,
  compileElementwise,
  compileFusedReduce,
  compileStrided,
  compileStridedReduce,
  type Expr,
  evaluate,
  evaluateAll,
  evaluateBatch,
  log,
  mul,
  pow,
  sqrt,
  sub,
  tanh,
  variable,
} from '@gradkit/kernels';
import { afterEach, describe, expect, it } from 'vitest';

const same = (a: number, b: number) => Object.is(a, b);

/** 100 distinct constants, including edge values (-0, ±inf, tiny, huge). */
const CONSTANTS = [
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MIN_VALUE,
  -Number.MAX_VALUE,
  ...Array.from({ length: 95 }, (_, i) => (i - 47) * 1.0001 + 0.37),
];
const XS = Float64Array.of(-2, -0.5, -0, 0, 0.25, 1, 3.5, 1e300, -1e-300, Number.POSITIVE_INFINITY);

describe('constants are kernel parameters', () => {
  // A variable name of its own, so no other test compiled these structures before.
  const x = variable('paramsCacheX');

  it('100 distinct constants compile ONE elementwise kernel, bit for bit the interpreter', () => {
    const before = compiledKernelCount();
    for (const c of CONSTANTS) {
      const e = add(tanh(mul(x, c)), sqrt(abs(sub(x, c))));
      const out = new Float64Array(XS.length);
      compileElementwise([e], ['paramsCacheX'], ['array'])([XS], [out], XS.length);
      XS.forEach((v, i) => {
        expect(same(out[i]!, evaluate(e, { paramsCacheX: v })), `c=${c} x=${v}`).toBe(true);
      });
    }
    expect(compiledKernelCount() - before).toBe(1);
  });

  it('a NaN constant (folded from log(-1)) and -0 are parameters too', () => {
    const nan = log(-1);
    expect(Number.isNaN(nan.value)).toBe(true);
    const before = compiledKernelCount();
    for (const c of [nan, -0, 0, 5]) {
      const e = add(mul(x, c), 1.5);
      const out = new Float64Array(XS.length);
      compileElementwise([e], ['paramsCacheX'], ['array'])([XS], [out], XS.length);
      XS.forEach((v, i) => {
        expect(same(out[i]!, evaluate(e, { paramsCacheX: v }))).toBe(true);
      });
    }
    expect(compiledKernelCount() - before).toBe(1);
  });

  it('x * c and c * x are one node, whatever was created first', () => {
    const c = 123.456789;
    expect(mul(c, x)).toBe(mul(x, c));
  });

  it('compileStrided, compileFusedReduce, compileStridedReduce and compile share one kernel each', () => {
    const y = variable('paramsCacheY');
    const names = ['paramsCacheX', 'paramsCacheY'];
    const before = compiledKernelCount();
    for (const c of CONSTANTS.slice(0, 40)) {
      const e = sub(mul(x, c), pow(y, 2));
      const want = (a: number, b: number) => evaluate(e, { paramsCacheX: a, paramsCacheY: b });
      // strided: x over [2, 3], y broadcast along the rows
      const xa = Float64Array.of(1, 2, 3, 4, 5, 6);
      const ya = Float64Array.of(-1, 0.5, 2);
      const so = new Float64Array(6);
      compileStrided([e], names)(
        [xa, ya],
        [
          [3, 1],
          [0, 1],
        ],
        [so],
        [2, 3],
      );
      for (let i = 0; i < 6; i++) expect(same(so[i]!, want(xa[i]!, ya[i % 3]!))).toBe(true);
      // fused reduce: store and sum
      const fo = new Float64Array(3);
      const sums = new Float64Array(1);
      compileFusedReduce([e], names, ['array', 'scalar'], { store: [true], sum: [true] })(
        [xa.subarray(0, 3), 0.75],
        [fo],
        3,
        sums,
      );
      let total = 0;
      for (let i = 0; i < 3; i++) {
        expect(same(fo[i]!, want(xa[i]!, 0.75))).toBe(true);
        total += want(xa[i]!, 0.75);
      }
      expect(same(sums[0]!, total)).toBe(true);
      // strided reduce
      const rs = new Float64Array(1);
      compileStridedReduce([e], names, { sum: [true] })(
        [xa, ya],
        [
          [3, 1],
          [0, 1],
        ],
        [null],
        [2, 3],
        rs,
      );
      let rt = 0;
      for (let i = 0; i < 6; i++) rt += want(xa[i]!, ya[i % 3]!);
      expect(same(rs[0]!, rt)).toBe(true);
      // compile
      const f = compile(e, { variables: names });
      expect(same(f.positional(1.5, -2), want(1.5, -2))).toBe(true);
    }
    expect(compiledKernelCount() - before).toBe(4);
  });

  it('the same constant node used twice is one parameter; two different ones make another structure', () => {
    const y = variable('paramsCacheY');
    const names = ['paramsCacheX', 'paramsCacheY'];
    const run = (e: Expr) => {
      const out = new Float64Array(1);
      compileElementwise([e], names, ['scalar', 'scalar'])([1.25, -3], [out], 1);
      return out[0]!;
    };
    const shared = add(mul(x, 2.5), mul(y, 2.5));
    const split = add(mul(x, 2.5), mul(y, 3.5));
    expect(same(run(shared), evaluate(shared, { paramsCacheX: 1.25, paramsCacheY: -3 }))).toBe(true);
    expect(same(run(split), evaluate(split, { paramsCacheX: 1.25, paramsCacheY: -3 }))).toBe(true);
  });
});

describe('cache keys cannot collide; arguments are checked before the cache', () => {
  const a = variable('a');
  const b = variable('b');
  const e = add(a, b);

  it("['a,b'] is not ['a', 'b'] for any generator", () => {
    compileStrided([e], ['a', 'b']);
    expect(() => compileStrided([e], ['a,b'])).toThrow(ArgumentError);
    compileFusedReduce([e], ['a', 'b'], ['array', 'array'], { sum: [true] });
    expect(() => compileFusedReduce([e], ['a,b'], ['array', 'array'], { sum: [true] })).toThrow(
      ArgumentError,
    );
    compileStridedReduce([e], ['a', 'b'], { sum: [true] });
    expect(() => compileStridedReduce([e], ['a,b'], { sum: [true] })).toThrow(ArgumentError);
    compileElementwise([e], ['a', 'b'], ['array', 'array']);
    expect(() => compileElementwise([e], ['a,b'], ['array,array' as 'array'])).toThrow(ArgumentError);
  });

  it('a variable named with a comma is its own variable', () => {
    const ab = variable('a,b');
    const k = compileElementwise([mul(ab, 2)], ['a,b'], ['scalar']);
    const out = new Float64Array(1);
    k([4], [out], 1);
    expect(out[0]).toBe(8);
  });

  it('duplicate, empty and non-string names are refused by every generator', () => {
    for (const vars of [['a', 'a'], ['a', ''], ['a', 3], 'ab', null] as unknown as string[][]) {
      expect(() => compileStrided([a], vars)).toThrow(ArgumentError);
      expect(() => compileStridedReduce([a], vars)).toThrow(ArgumentError);
      expect(() => compileElementwise([a], vars, ['array', 'array'])).toThrow(ArgumentError);
      expect(() => compileFusedReduce([a], vars, ['array', 'array'])).toThrow(ArgumentError);
      expect(() => compile(a, { variables: vars })).toThrow(ArgumentError);
    }
  });

  it('names that are not identifiers never reach generated code', () => {
    const names = ['__proto__', 'constructor', 'a"b', "c'd", 'e\nf', '}); throw 1; ({', 'toString'];
    const vars = names.map((n) => variable(n));
    const e = vars.reduce((acc: Expr, v, i) => add(acc, mul(v, i + 1)), variable('z0'));
    const all = ['z0', ...names];
    const values = all.map((_, i) => i * 0.5 + 1);
    const bindings = new Map(all.map((n, i) => [n, values[i]!]));
    const want = evaluate(e, bindings);
    const f = compile(e, { variables: all });
    expect(f.source).not.toContain('throw 1');
    expect(f.positional(...values)).toBe(want);
    const out = new Float64Array(1);
    compileElementwise(
      [e],
      all,
      all.map(() => 'scalar'),
    )(values, [out], 1);
    expect(out[0]).toBe(want);
  });
});

describe('bindings are read by own keys only', () => {
  const x = variable('x');
  const proto = Object.prototype as Record<string, unknown>;
  afterEach(() => {
    delete proto.x;
  });

  it('a polluted Object.prototype does not bind a variable', () => {
    proto.x = 5;
    expect(() => evaluate(add(x, 1), {})).toThrow(ArgumentError);
    expect(() => evaluateAll([add(x, 1)], {})).toThrow(ArgumentError);
    expect(() => evaluateBatch(add(x, 1), {})).toThrow(ArgumentError);
    expect(() => compile(add(x, 1))({})).toThrow(ArgumentError);
  });

  it('a variable named like an inherited property needs its own binding', () => {
    const c = variable('constructor');
    expect(() => evaluate(c, {})).toThrow(ArgumentError);
    const own = Object.defineProperty({}, 'constructor', { value: 2, enumerable: true });
    expect(evaluate(mul(c, 3), own)).toBe(6);
    expect(evaluateBatch(mul(c, 3), own)[0]).toBe(6);
  });

  it('evaluateBatch refuses columns that are not numbers or arrays of numbers', () => {
    const e = mul(x, 2);
    expect(() => evaluateBatch(e, { x: '12' as unknown as number })).toThrow(ArgumentError);
    expect(() => evaluateBatch(e, { x: ['1', 2] as unknown as number[] })).toThrow(ArgumentError);
    expect(() => evaluateBatch(e, { x: BigInt64Array.of(1n) as unknown as number[] })).toThrow(ArgumentError);
    expect([...evaluateBatch(e, { x: Int16Array.of(1, -2) })]).toEqual([2, -4]);
  });
});

describe('apply with a hostile op name', () => {
  it('a symbol or an object is an UnknownOpError, not a TypeError', () => {
    expect(() => apply(Symbol('add') as unknown as string, 1)).toThrow(/unknown primitive/);
    const evil = { toString: () => 'add' };
    expect(() => apply(evil as unknown as string, variable('x'), 1)).toThrow(/unknown primitive/);
  });
});
