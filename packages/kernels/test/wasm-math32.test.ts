/**
 * The accuracy contract of the vectorised float32 elementary functions (VecCode32, src/wasm/math32-elementary.ts):
 * within 2 ulp of the correctly rounded float32 result (the float64 reference Math.* or the runtime's float64
 * formula, rounded by Math.fround) over ≥ 2·10^6 inputs per function — random float32 bit patterns over all
 * exponents, dense runs of consecutive floats at the hard places (0, −1, overflow and underflow thresholds,
 * subnormals, branch points) and uniform grids — and the exact edge values (±0, ±inf, NaN, ±1 results).
 * Ulp distance is counted in steps of the float32 grid (subnormal steps included), so it measures subnormal
 * results in subnormal ulps; NaN must match NaN.
 */
import { describe, expect, it } from 'vitest';
import { logSigmoid, sigmoid, softplus } from '../src/runtime.js';
import { BLOCK, Body, I32, LOOP, moduleBytes, OP, SIMD } from '../src/wasm/emit.js';
import { K32, VecCode32 } from '../src/wasm/math32.js';

type Lanes = (c: VecCode32, a: number, b: number) => number;

/** A module mapping f over float32 arrays (a, b) → out, four lanes at a time. */
function mapper(f: Lanes): (a: Float32Array, b?: Float32Array) => Float32Array {
  const body = new Body(4); // bytes, a, b, out
  const c = new VecCode32(body);
  const i = body.local(I32);
  body.op(...BLOCK, ...LOOP);
  body.get(i).get(0).op(OP.i32GeU, OP.brIf, 1);
  body
    .get(1)
    .get(i)
    .op(OP.i32Add)
    .simd(SIMD.load, ...Body.memarg(4, 0));
  const a = c.store();
  body
    .get(2)
    .get(i)
    .op(OP.i32Add)
    .simd(SIMD.load, ...Body.memarg(4, 0));
  const b = c.store();
  const r = f(c, a, b);
  body.get(3).get(i).op(OP.i32Add);
  c.push(r);
  body.simd(SIMD.store, ...Body.memarg(4, 0));
  body.get(i).i32(16).op(OP.i32Add).set(i);
  body.op(OP.br, 0, OP.end, OP.end);
  body.code.unshift(...c.prologue());
  const module = new WebAssembly.Module(moduleBytes([{ name: 'run', params: 4, body }]));
  return (xa, xb) => {
    const n = Math.ceil(xa.length / 4) * 4;
    const bytes = n * 4;
    const mem = new WebAssembly.Memory({ initial: Math.ceil((3 * bytes) / 65536) + 1 });
    const run = new WebAssembly.Instance(module, { m: { mem } }).exports.run as (...p: number[]) => void;
    new Float32Array(mem.buffer, 0, xa.length).set(xa);
    if (xb !== undefined) new Float32Array(mem.buffer, bytes, xb.length).set(xb);
    run(bytes, 0, bytes, 2 * bytes);
    return new Float32Array(mem.buffer, 2 * bytes, xa.length).slice();
  };
}

/** A seeded generator (mulberry32): the inputs are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const rand = rng(0x6a7b2c);

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
/** Ordered integer key of a float32: consecutive floats differ by 1, ±0 share key 0. */
function keyOf(x: number): number {
  f32[0] = x;
  const b = i32[0]!;
  return b < 0 ? -(b & 0x7fffffff) : b;
}
function fromKey(k: number): number {
  i32[0] = k < 0 ? -k | 0x80000000 : k;
  return f32[0]!;
}

/** n random float32 bit patterns (every exponent, NaNs and infinities included); `positive` clears the sign. */
function randomBits(n: number, positive = false): Float32Array {
  const bits = new Int32Array(n);
  for (let j = 0; j < n; j++) bits[j] = (rand() * 2 ** 32) | 0;
  if (positive) for (let j = 0; j < n; j++) bits[j]! &= 0x7fffffff;
  return new Float32Array(bits.buffer);
}
/** n consecutive float32 values centred on `x` (both sides, across 0 where x is 0). */
function around(x: number, n: number): Float32Array {
  const k = keyOf(Math.fround(x)) - (n >> 1);
  const bits = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const key = k + j;
    bits[j] = key < 0 ? -key | 0x80000000 : key;
  }
  return new Float32Array(bits.buffer);
}
function uniform(lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = lo + (hi - lo) * rand();
  return out;
}
/** The chunks laid end to end. */
function concat(chunks: ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(chunks.reduce((s, ch) => s + ch.length, 0));
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.length;
  }
  return out;
}

const MAX = 3.4028234663852886e38;
const EDGES = [
  0,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  MAX,
  -MAX,
  2 ** -149,
  -(2 ** -149),
  2 ** -126,
  -(2 ** -126),
  1,
  -1,
];
/** Exact-result edges: where the reference is ±0, ±inf, NaN or ±1, the result must be that (sign of 0 included). */
const special = (v: number) => v === 0 || !Number.isFinite(v) || Math.abs(v) === 1;

interface Report {
  maxUlp: number;
  worst: string;
  count: number;
}

/** The largest ulp distance of f over xs (and ys) from Math.fround(ref); edge mismatches are thrown. */
function measure(
  f: (a: Float32Array, b?: Float32Array) => Float32Array,
  ref: (a: number, b: number) => number,
  xs: Float32Array,
  ys?: Float32Array,
): Report {
  const got = f(xs, ys);
  const gotBits = new Int32Array(got.buffer);
  const want = new Float32Array(xs.length);
  for (let j = 0; j < xs.length; j++) want[j] = ref(xs[j]!, ys === undefined ? 0 : ys[j]!);
  const wantBits = new Int32Array(want.buffer);
  let maxUlp = 0;
  let worst = '';
  for (let j = 0; j < xs.length; j++) {
    const g = got[j]!;
    const w = want[j]!;
    let d: number;
    const gNaN = Number.isNaN(g);
    const wNaN = Number.isNaN(w);
    if (gNaN || wNaN) d = gNaN && wNaN ? 0 : Number.POSITIVE_INFINITY;
    else {
      const gb = gotBits[j]!;
      const wb = wantBits[j]!;
      d = Math.abs((gb < 0 ? -(gb & 0x7fffffff) : gb) - (wb < 0 ? -(wb & 0x7fffffff) : wb));
    }
    if (d > maxUlp) {
      maxUlp = d;
      worst = `x=${xs[j]}${ys === undefined ? '' : ` y=${ys[j]}`}: got ${g}, want ${w}`;
    }
  }
  return { maxUlp, worst, count: xs.length };
}

function edgeMismatches(
  f: (a: Float32Array, b?: Float32Array) => Float32Array,
  ref: (a: number, b: number) => number,
  xs: readonly number[],
  ys?: readonly number[],
): string[] {
  const got = f(Float32Array.from(xs), ys === undefined ? undefined : Float32Array.from(ys));
  const bad: string[] = [];
  xs.forEach((x, j) => {
    const w = Math.fround(ref(Math.fround(x), ys === undefined ? 0 : Math.fround(ys[j]!)));
    if (special(w) && !Object.is(got[j], w))
      bad.push(`x=${x}${ys === undefined ? '' : ` y=${ys[j]}`}: ${got[j]} ≠ ${w}`);
  });
  return bad;
}

const LN_MAX = Math.log(MAX); // overflow threshold of exp
const LN_MIN_NORMAL = Math.log(2 ** -126);
const LN_MIN_SUB = Math.log(2 ** -149);
const LN_HALF_MIN_SUB = Math.log(2 ** -150);
/** Dense runs at the thresholds where e^x overflows, turns subnormal and underflows to 0. */
const expThresholds = (sign: number, n: number) =>
  [LN_MAX, LN_MIN_NORMAL, LN_MIN_SUB, LN_HALF_MIN_SUB].map((t) => around(sign * t, n));

const cases: Array<{
  name: string;
  lanes: Lanes;
  ref: (a: number) => number;
  inputs: () => ArrayLike<number>[];
}> = [
  {
    name: 'exp',
    lanes: (c, a) => c.exp(a),
    ref: Math.exp,
    inputs: () => [
      uniform(-104, 89, 600_000),
      ...expThresholds(1, 50_000),
      around(0, 100_000),
      uniform(-1, 1, 100_000),
    ],
  },
  {
    name: 'expm1',
    lanes: (c, a) => c.expm1(a),
    ref: Math.expm1,
    inputs: () => [
      uniform(-20, 89, 500_000),
      around(0, 200_000),
      uniform(-1.1, 1.1, 200_000),
      around(LN_MAX, 50_000),
      around(Math.LN2 / 2, 25_000),
      around(-Math.LN2 / 2, 25_000),
    ],
  },
  {
    name: 'log',
    lanes: (c, a) => c.log(a),
    ref: Math.log,
    inputs: () => [
      randomBits(500_000, true),
      around(1, 200_000),
      Array.from({ length: 200_000 }, (_, j) => fromKey(1 + Math.floor((j * 0x7fffff) / 200_000))),
      uniform(0.5, 2, 100_000),
    ],
  },
  {
    name: 'log1p',
    lanes: (c, a) => c.log1p(a),
    ref: Math.log1p,
    inputs: () => [
      around(0, 200_000),
      around(-1, 100_000),
      uniform(-1, 1, 300_000),
      uniform(-1, 20, 200_000),
      randomBits(200_000, true),
      around(2 ** 24, 20_000),
      around(Math.SQRT2 - 1, 20_000),
      around(Math.SQRT1_2 - 1, 20_000),
    ],
  },
  {
    name: 'tanh',
    lanes: (c, a) => c.tanh(a),
    ref: Math.tanh,
    inputs: () => [
      uniform(-10, 10, 500_000),
      around(0.625, 50_000),
      around(-0.625, 50_000),
      around(0, 100_000),
      uniform(-1, 1, 300_000),
      around(9, 50_000),
    ],
  },
  {
    name: 'sigmoid',
    lanes: (c, a) => c.sigmoid(a),
    ref: sigmoid,
    inputs: () => [
      uniform(-110, 20, 600_000),
      around(0, 100_000),
      ...expThresholds(-1, 50_000),
      uniform(-20, 20, 200_000),
    ],
  },
  {
    name: 'softplus',
    lanes: (c, a) => c.softplus(a),
    ref: softplus,
    inputs: () => [
      uniform(-110, 110, 600_000),
      around(0, 100_000),
      ...expThresholds(-1, 50_000),
      uniform(-20, 20, 200_000),
    ],
  },
  {
    name: 'logSigmoid',
    lanes: (c, a) => c.logSigmoid(a),
    ref: logSigmoid,
    inputs: () => [
      uniform(-110, 110, 600_000),
      around(0, 100_000),
      ...expThresholds(1, 50_000),
      uniform(-20, 20, 200_000),
    ],
  },
];

describe('VecCode32 elementary functions: ≤ 2 ulp of the correctly rounded float32 result', () => {
  it.each(cases)('$name', ({ name, lanes, ref, inputs }) => {
    const f = mapper(lanes);
    const xs = concat([randomBits(1_000_000), ...inputs(), EDGES]);
    expect(xs.length).toBeGreaterThanOrEqual(2_000_000);
    const r = measure(f, ref, xs);
    console.log(`${name}: max ${r.maxUlp} ulp over ${r.count} inputs (${r.worst})`);
    expect(r.maxUlp, r.worst).toBeLessThanOrEqual(2);
    expect(edgeMismatches(f, ref, EDGES)).toEqual([]);
  });

  it('sigmoid, softplus and logSigmoid of x and −x sharing one e^−|x| and one log1p stay within the contract', () => {
    const xs = concat([uniform(-110, 110, 200_000), around(0, 50_000), EDGES]);
    const shared = (
      pick: (c: VecCode32, a: number, e: number, l: number, s: readonly [number, number]) => number,
    ): Lanes => {
      return (c, a) => {
        const e = c.expNegAbs(a);
        const l = c.log1pUnit(e);
        const small = c.sigmoidSmall(e);
        const s = [small, c.sub(K32(1), small)] as const;
        c.sigmoid(a, ...s); // emitted first: the later users reuse what it emitted
        return pick(c, a, e, l, s);
      };
    };
    const checks: Array<[Lanes, (x: number) => number]> = [
      [shared((c, a, _e, _l, s) => c.sigmoid(c.neg(a), ...s)), (x) => sigmoid(-x)],
      [shared((c, a, _e, _l, s) => c.sigmoid(a, ...s)), sigmoid],
      [shared((c, a, _, l) => c.softplus(a, l)), softplus],
      [shared((c, a, _, l) => c.logSigmoid(c.neg(a), l)), (x) => logSigmoid(-x)],
    ];
    for (const [lanes, ref] of checks) {
      const f = mapper(lanes);
      const r = measure(f, ref, xs);
      expect(r.maxUlp, r.worst).toBeLessThanOrEqual(2);
      expect(edgeMismatches(f, ref, EDGES)).toEqual([]);
    }
  });

  it('pow (Math.pow edge cases exact)', () => {
    const f = mapper((c, a, b) => c.pow(a, b));
    const xc: ArrayLike<number>[] = [];
    const yc: ArrayLike<number>[] = [];
    const add = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      xc.push(a);
      yc.push(b);
    };
    add(randomBits(500_000), randomBits(500_000));
    // Results over the whole float32 range, subnormals included: b = t / log a, t ∈ [−105, 90].
    const as = randomBits(500_000, true).map((a) =>
      a === 1 || !(a > 0) || a === Number.POSITIVE_INFINITY ? 2 : a,
    );
    const ts = uniform(-105, 90, as.length);
    add(
      as,
      as.map((a, j) => ts[j]! / Math.log(a)),
    );
    add(uniform(0, 4, 500_000), uniform(-30, 30, 500_000));
    add(uniform(-4, 0, 200_000), uniform(-60, 60, 200_000).map(Math.round));
    add(around(1, 200_000), uniform(-1e7, 1e7, 200_000));
    add(around(-1, 100_000), uniform(-1e7, 1e7, 100_000).map(Math.round));
    const bs = [...EDGES, 0.5, -0.5, 2, 3, -2, -3, 1 / 3, 2 ** 24, 2 ** 24 + 2];
    const grid = [...EDGES, 0.5, -0.5, 2, -2, 3, -3];
    const ex: number[] = [];
    const ey: number[] = [];
    for (const a of grid)
      for (const b of bs) {
        ex.push(a);
        ey.push(b);
      }
    add(ex, ey);
    const xs = concat(xc);
    const ys = concat(yc);
    expect(xs.length).toBeGreaterThanOrEqual(2_000_000);
    const r = measure(f, Math.pow, xs, ys);
    console.log(`pow: max ${r.maxUlp} ulp over ${r.count} inputs (${r.worst})`);
    expect(r.maxUlp, r.worst).toBeLessThanOrEqual(2);
    expect(edgeMismatches(f, Math.pow, ex, ey)).toEqual([]);
  });
});
