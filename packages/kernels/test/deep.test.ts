/**
 * Deep programs: every public function of the expression API works on chains 5,000 and 20,000 deep (no
 * RangeError from recursion, and no generated code nested so deep that the JavaScript parser refuses it).
 */
import {
  add,
  adjoints,
  compile,
  compileElementwise,
  compileElementwiseWgsl,
  compileFusedReduce,
  compileStrided,
  compileStridedReduce,
  derive,
  type Expr,
  evaluate,
  evaluateAll,
  evaluateBatch,
  freeVariables,
  fusedStraightLine,
  gradient,
  jsDialect,
  MAX_INLINE_DEPTH,
  mul,
  straightLine,
  substitute,
  tanh,
  topoSort,
  variable,
} from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const x = variable('x');
const y = variable('y');

/** x + 1 + 2 + … (a chain of additions with distinct constants), `depth` deep. */
function addChain(depth: number): Expr {
  let e: Expr = x;
  for (let i = 0; i < depth; i++) e = add(e, (i % 13) * 0.25 + 1);
  return e;
}

/** tanh(tanh(… tanh(x * y) …)), `depth` deep: a chain whose derivative is a long product. */
function tanhChain(depth: number): Expr {
  let e: Expr = mul(x, y);
  for (let i = 0; i < depth; i++) e = tanh(e);
  return e;
}

/** The add chain's value, computed in the same order as the expression. */
function addChainValue(depth: number, v: number): number {
  let s = v;
  for (let i = 0; i < depth; i++) s += (i % 13) * 0.25 + 1;
  return s;
}

for (const depth of [5_000, 20_000]) {
  describe(`a chain ${depth} deep`, () => {
    const chain = addChain(depth);
    const want = addChainValue(depth, 0.5);

    it('toString, topoSort and freeVariables', () => {
      const s = chain.toString();
      expect(s.startsWith('('.repeat(depth))).toBe(true);
      expect(s.includes('x + 1)')).toBe(true);
      expect(topoSort([chain])).toHaveLength(depth + 1 + 13);
      expect(freeVariables(chain)).toEqual(['x']);
    });

    it('evaluate, evaluateAll and evaluateBatch', () => {
      expect(evaluate(chain, { x: 0.5 })).toBe(want);
      expect(evaluateAll([chain, x], new Map([['x', 0.5]]))).toEqual([want, 0.5]);
      expect(evaluateBatch(chain, { x: [0.5, 0.5] })[1]).toBe(want);
    });

    it('derive, gradient, adjoints and substitute', () => {
      expect(evaluate(derive(chain, x), { x: 0 })).toBe(1);
      expect(gradient(chain, [x])[0]!.isConst).toBe(true);
      expect(adjoints(chain).get(x)!.value).toBe(1);
      const moved = substitute(chain, new Map([[x, mul(y, 2)]]));
      expect(evaluate(moved, { y: 0.25 })).toBe(want);
    });

    it('compile and every kernel generator', () => {
      expect(compile(chain)({ x: 0.5 })).toBe(want);
      const xs = Float64Array.of(0.5, 0.5, 0.5);
      const out = new Float64Array(3);
      compileElementwise([chain], ['x'], ['array'])([xs], [out], 3);
      expect(out[2]).toBe(want);
      const so = new Float64Array(3);
      compileStrided([chain], ['x'])([xs], [[1]], [so], [3]);
      expect(so[1]).toBe(want);
      const sums = new Float64Array(1);
      compileFusedReduce([chain], ['x'], ['scalar'], { sum: [true] })([0.5], [null], 2, sums);
      expect(sums[0]).toBe(want + want);
      const rs = new Float64Array(1);
      compileStridedReduce([chain], ['x'], { sum: [true] })([xs], [[1]], [null], [3], rs);
      expect(rs[0]).toBe(want + want + want);
    });

    it('straightLine, fusedStraightLine and the WGSL generator nest at most MAX_INLINE_DEPTH levels', () => {
      const maxParens = (code: string) => {
        let d = 0;
        let m = 0;
        for (const ch of code) {
          if (ch === '(') m = Math.max(m, ++d);
          else if (ch === ')') d--;
        }
        return m;
      };
      const js = straightLine(
        [chain],
        jsDialect(() => 'v0'),
      );
      for (const s of [...js.statements, ...js.results])
        expect(maxParens(s)).toBeLessThanOrEqual(2 * MAX_INLINE_DEPTH);
      const fused = fusedStraightLine([chain], () => 'v0');
      for (const s of [...fused.statements, ...fused.results])
        expect(maxParens(s)).toBeLessThanOrEqual(2 * MAX_INLINE_DEPTH);
      const wgsl = compileElementwiseWgsl([chain], ['x'], ['array']);
      for (const line of wgsl.code.split('\n'))
        expect(maxParens(line)).toBeLessThanOrEqual(2 * MAX_INLINE_DEPTH + 4);
    });

    it('a nested tanh chain: derivative compiled and interpreted agree bit for bit', () => {
      const t = tanhChain(depth);
      const d = derive(t, x);
      const b = { x: 0.3, y: 0.7 };
      const v = evaluate(d, b);
      expect(Number.isFinite(v)).toBe(true);
      expect(Object.is(compile(d, { variables: ['x', 'y'] })(b), v)).toBe(true);
      const out = new Float64Array(1);
      compileElementwise([t, d], ['x', 'y'], ['scalar', 'scalar'])([0.3, 0.7], [new Float64Array(1), out], 1);
      expect(Object.is(out[0], v)).toBe(true);
    });
  });
}

describe('huge expressions', () => {
  it('60,000-deep chain of distinct constants compiles and runs (parameters and temporaries spill)', () => {
    let e: Expr = x;
    for (let i = 0; i < 60_000; i++) e = add(mul(e, 1 + i * 1e-9), i + 0.5);
    const out = new Float64Array(1);
    compileElementwise([e], ['x'], ['scalar'])([0.3], [out], 1);
    expect(Object.is(out[0], evaluate(e, { x: 0.3 }))).toBe(true);
  });

  it('toString of an exponentially shared graph is cut, not a hang', () => {
    let e: Expr = x;
    for (let i = 0; i < 200; i++) e = add(e, mul(e, 2));
    const s = e.toString();
    expect(s.endsWith('…')).toBe(true);
    expect(s.length).toBeLessThan(2_000_000);
  });
});
