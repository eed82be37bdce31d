/**
 * The WebAssembly backend's accuracy contract for float32: every vectorised transcendental (exp, log, log1p,
 * expm1, tanh, sigmoid, softplus, logSigmoid, pow) within 2 ulps of the correctly rounded float32 result
 * (reference: Math.fround of the primitive table's float64 definition), over 2^21 inputs per function (about
 * 1.9·10^7 in all) spanning each domain — uniform ranges, tiny and huge magnitudes, and random float32 bit
 * patterns (subnormals, ±inf and NaN included) — with NaN where the reference is NaN and the reference's ±0
 * and ±inf exactly. Every other primitive is checked bit for bit on a grid of edge values.
 */
import {
  apply,
  PRIMITIVE_NAMES,
  PRIMITIVES,
  type PrimitiveName,
  variable,
  wasmBackend,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const N = 1 << 21;

/** A deterministic xorshift32 stream. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const EDGES = [
  0,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  1,
  -1,
  0.5,
  -0.5,
  2,
  -2,
  3,
  -3,
  1e-7,
  -1e-7,
  1.4e-45,
  -1.4e-45,
  1.1754944e-38,
  88.72,
  -87.3,
  -103.9,
  3.4e38,
  -3.4e38,
];

/**
 * Inputs for one function: the edge values, then quarters of uniform values in `range`, tiny magnitudes
 * (±2^-k for k up to 149), and random float32 bit patterns.
 */
function inputs(seed: number, range: [number, number]): Float32Array {
  const next = rng(seed);
  const x = new Float32Array(N);
  const bits = new Int32Array(x.buffer);
  x.set(EDGES);
  const q = (N - EDGES.length) >> 2;
  let i = EDGES.length;
  for (let k = 0; k < 2 * q; k++, i++) x[i] = range[0] + (next() / 2 ** 32) * (range[1] - range[0]);
  for (let k = 0; k < q; k++, i++)
    x[i] = (next() & 1 ? -1 : 1) * 2 ** -(next() % 150) * (1 + next() / 2 ** 32);
  for (; i < N; i++) bits[i] = next() | 0;
  return x;
}

/** The float32 bits of `v` as an ordered integer (±0 are one point). */
function ordered(bits: number): number {
  return bits >= 0 ? bits : -(bits & 0x7fffffff);
}

interface Check {
  worst: number;
  at: number;
  bad: string[];
}

/** Compares `out` with the float32 rounding of `ref(i)` in ulps; NaN, ±0 and ±inf must match exactly. */
function judge(out: Float32Array, ref: (i: number) => number, show: (i: number) => string): Check {
  const want = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) want[i] = ref(i);
  const ob = new Int32Array(out.buffer, out.byteOffset, out.length);
  const wb = new Int32Array(want.buffer);
  const c: Check = { worst: 0, at: 0, bad: [] };
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    const r = want[i]!;
    if (Number.isNaN(o) || Number.isNaN(r)) {
      if (Number.isNaN(o) !== Number.isNaN(r)) {
        if (c.bad.length < 5) c.bad.push(`${show(i)}: ${o} vs ${r}`);
      }
      continue;
    }
    if ((r === 0 || o === 0 || r === Infinity || r === -Infinity) && !Object.is(o, r)) {
      if (c.bad.length < 5)
        c.bad.push(`${show(i)}: ${Object.is(o, -0) ? '-0' : o} vs ${Object.is(r, -0) ? '-0' : r}`);
      continue;
    }
    const d = Math.abs(ordered(ob[i]!) - ordered(wb[i]!));
    if (d > c.worst) {
      c.worst = d;
      c.at = i;
    }
  }
  return c;
}

const UNARY: ReadonlyArray<[PrimitiveName, [number, number]]> = [
  ['exp', [-104, 89]],
  ['log', [0, 10]],
  ['log1p', [-1, 10]],
  ['expm1', [-20, 89]],
  ['tanh', [-10, 10]],
  ['sigmoid', [-110, 110]],
  ['softplus', [-110, 110]],
  ['logSigmoid', [-110, 110]],
];

describe.runIf(wasmSimdAvailable())('WebAssembly float32 accuracy contract (≤ 2 ulps)', () => {
  it.each(UNARY)('%s over 2^21 inputs', (op, range) => {
    const x = inputs(op.length * 7919 + 17, range);
    const out = new Float32Array(N);
    const runs = wasmStats().runs;
    wasmBackend.elementwise([apply(op, variable('x'))], ['x'], ['array'])([x], [out], N);
    expect(wasmStats().runs).toBe(runs + 1);
    const f = PRIMITIVES[op].evaluate;
    const c = judge(
      out,
      (i) => f(x[i]!),
      (i) => `${op}(${x[i]})`,
    );
    expect(c.bad).toEqual([]);
    expect(c.worst, `worst at ${op}(${x[c.at]})`).toBeLessThanOrEqual(2);
  });

  it('pow over 2^21 input pairs', () => {
    const next = rng(4242);
    const a = inputs(99, [0, 100]);
    const b = new Float32Array(N);
    const q = N >> 2;
    for (let i = 0; i < N; i++) {
      const part = Math.floor(i / q);
      if (part === 0) b[i] = -20 + (next() / 2 ** 32) * 40;
      else if (part === 1)
        b[i] = (next() % 41) - 20; // integers: negative bases keep a sign
      else if (part === 2) b[i] = -3 + (next() / 2 ** 32) * 6;
      else b[i] = new Float32Array(new Int32Array([next() | 0]).buffer)[0]!;
    }
    // Edge pairs: every edge base with every edge exponent.
    let i = 0;
    for (const u of EDGES) {
      for (const v of EDGES) {
        a[i] = u;
        b[i++] = v;
      }
    }
    const out = new Float32Array(N);
    wasmBackend.elementwise([apply('pow', variable('a'), variable('b'))], ['a', 'b'], ['array', 'array'])(
      [a, b],
      [out],
      N,
    );
    const c = judge(
      out,
      (k) => a[k]! ** b[k]!,
      (k) => `pow(${a[k]}, ${b[k]})`,
    );
    expect(c.bad).toEqual([]);
    expect(c.worst, `worst at pow(${a[c.at]}, ${b[c.at]})`).toBeLessThanOrEqual(2);
  });

  it('every other primitive gives the float64 definition rounded once, bit for bit, on the edge grid', () => {
    const grid = EDGES;
    const transcendental = new Set<PrimitiveName>([...UNARY.map(([op]) => op), 'pow']);
    for (const op of PRIMITIVE_NAMES) {
      if (transcendental.has(op) || op === 'erf') continue;
      const p = PRIMITIVES[op];
      const names = ['a', 'b', 'c'].slice(0, p.arity);
      const cols = names.map(() => [] as number[]);
      const walk = (k: number, picked: number[]) => {
        if (k === p.arity) {
          picked.forEach((v, j) => {
            cols[j]!.push(v);
          });
          return;
        }
        for (const v of grid) walk(k + 1, [...picked, v]);
      };
      walk(0, []);
      const n = cols[0]!.length;
      const ins = cols.map((c) => Float32Array.from(c));
      const out = new Float32Array(n);
      wasmBackend.elementwise(
        [apply(op, ...names.map((v) => variable(v)))],
        names,
        names.map(() => 'array' as const),
      )(ins, [out], n);
      for (let i = 0; i < n; i++) {
        const args = ins.map((c) => c[i]!);
        const want = Math.fround(p.evaluate(...args));
        if (!Object.is(out[i], want)) {
          expect.fail(`${op}(${args.join(', ')}) = ${out[i]}, expected ${want}`);
        }
      }
    }
  });

  it('erf (not vectorised) runs on the JavaScript kernel, bit for bit', () => {
    const x = inputs(5, [-6, 6]).subarray(0, 4096);
    const out = new Float32Array(x.length);
    const runs = wasmStats().runs;
    wasmBackend.elementwise([apply('erf', variable('x'))], ['x'], ['array'])([x], [out], x.length);
    expect(wasmStats().runs).toBe(runs);
    for (let i = 0; i < x.length; i++)
      expect(Object.is(out[i], Math.fround(PRIMITIVES.erf.evaluate(x[i]!)))).toBe(true);
  });
});
