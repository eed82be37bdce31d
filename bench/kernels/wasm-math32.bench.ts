/**
 * The vectorised float32 elementary functions (issue 10): ns per element of each function over 1M float32
 * elements, computed four lanes at a time in f32x4 (VecCode32, src/wasm/math32-elementary.ts) against the
 * float64-lane maths (VecCode, src/wasm/math.ts) run on the same float32 data as float32 programs did before
 * — each half of a vector promoted to f64x2, computed, demoted. Both are one WebAssembly loop mapping an
 * input array to an output array in the same memory; rounds alternate between the two and each row reports
 * the median. A script, not a test: nothing is asserted.
 *
 * Usage: pnpm bench wasm-math32 [-- --quick]
 *    or: tsx --conditions=source bench/kernels/wasm-math32.bench.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { BLOCK, Body, I32, LOOP, moduleBytes, OP, SIMD } from '../../packages/kernels/src/wasm/emit.js';
import { type Arg, K, VecCode } from '../../packages/kernels/src/wasm/math.js';
import { VecCode32 } from '../../packages/kernels/src/wasm/math32.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const ROUNDS = values.quick ? 7 : 25;
const N = 1 << 20;

type F32 = (c: VecCode32, a: number, b: number) => number;
type F64 = (v: VecCode, a: number, b: number) => number;

/** The loop over the arrays: `lanes` emits the body for one 16-byte vector of each input and returns the result. */
function loopModule(lanes: (b: Body, a: number, bb: number) => number, prologue: () => number[]) {
  return (body: Body) => {
    const i = body.local(I32);
    body.op(...BLOCK, ...LOOP);
    body.get(i).get(0).op(OP.i32GeU, OP.brIf, 1);
    body
      .get(1)
      .get(i)
      .op(OP.i32Add)
      .simd(SIMD.load, ...Body.memarg(4, 0));
    const a = body.local();
    body.set(a);
    body
      .get(2)
      .get(i)
      .op(OP.i32Add)
      .simd(SIMD.load, ...Body.memarg(4, 0));
    const b = body.local();
    body.set(b);
    const r = lanes(body, a, b);
    body
      .get(3)
      .get(i)
      .op(OP.i32Add)
      .get(r)
      .simd(SIMD.store, ...Body.memarg(4, 0));
    body.get(i).i32(16).op(OP.i32Add).set(i);
    body.op(OP.br, 0, OP.end, OP.end);
    body.code.unshift(...prologue());
  };
}

function instantiate(build: (body: Body) => void): (bytes: number) => void {
  const body = new Body(4);
  build(body);
  const module = new WebAssembly.Module(moduleBytes([{ name: 'run', params: 4, body }]));
  const run = new WebAssembly.Instance(module, { m: { mem } }).exports.run as (...p: number[]) => void;
  return (bytes) => run(bytes, 0, bytes, 2 * bytes);
}

function f32Kernel(f: F32): (bytes: number) => void {
  return instantiate((body) => {
    const c = new VecCode32(body);
    loopModule(
      (_, a, b) => f(c, a, b),
      () => c.prologue(),
    )(body);
  });
}

/** The same through f64x2: promote each half, compute, demote, recombine. */
function f64Kernel(f: F64): (bytes: number) => void {
  return instantiate((body) => {
    const v = new VecCode(body);
    const half = (x: number, high: boolean) => {
      body.get(x);
      if (high)
        body.get(x).simd(SIMD.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
      body.simd(SIMD.f64x2PromoteLowF32x4);
      return v.store();
    };
    loopModule(
      (b, a, bb) => {
        const lo = f(v, half(a, false), half(bb, false));
        const hi = f(v, half(a, true), half(bb, true));
        b.get(lo).simd(SIMD.f32x4DemoteF64x2Zero).get(hi).simd(SIMD.f32x4DemoteF64x2Zero);
        b.simd(SIMD.i8x16Shuffle, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        return v.store();
      },
      () => v.prologue(),
    )(body);
  });
}

const e64 = (v: VecCode, x: Arg) => v.exp(v.neg(v.abs(x)));
const cases: Array<{ name: string; f32: F32; f64: F64; lo: number; hi: number; b?: [number, number] }> = [
  { name: 'exp', f32: (c, a) => c.exp(a), f64: (v, a) => v.exp(a), lo: -80, hi: 80 },
  { name: 'expm1', f32: (c, a) => c.expm1(a), f64: (v, a) => v.expm1(a), lo: -10, hi: 10 },
  { name: 'log', f32: (c, a) => c.log(a), f64: (v, a) => v.log(a), lo: 0, hi: 100 },
  { name: 'log1p', f32: (c, a) => c.log1p(a), f64: (v, a) => v.log1p(a), lo: -0.9, hi: 10 },
  { name: 'tanh', f32: (c, a) => c.tanh(a), f64: (v, a) => v.tanh(a), lo: -5, hi: 5 },
  {
    name: 'sigmoid',
    f32: (c, a) => c.sigmoid(a),
    f64: (v, a) => {
      const e = e64(v, a);
      return v.div(v.select(v.cmp('ge', a, K(0)), K(1), e), v.add(e, K(1)));
    },
    lo: -20,
    hi: 20,
  },
  {
    name: 'softplus',
    f32: (c, a) => c.softplus(a),
    f64: (v, a) => v.add(v.max(a, K(0)), v.log1p(e64(v, a))),
    lo: -20,
    hi: 20,
  },
  {
    name: 'logSigmoid',
    f32: (c, a) => c.logSigmoid(a),
    f64: (v, a) => v.sub(v.min(a, K(0)), v.log1p(e64(v, a))),
    lo: -20,
    hi: 20,
  },
  {
    name: 'sigmoid+softplus (shared e)',
    f32: (c, a) => {
      const e = c.expNegAbs(a);
      return c.add(c.sigmoid(a, e), c.softplus(a, c.log1pUnit(e)));
    },
    f64: (v, a) => {
      const e = e64(v, a);
      const s = v.div(v.select(v.cmp('ge', a, K(0)), K(1), e), v.add(e, K(1)));
      return v.add(s, v.add(v.max(a, K(0)), v.log1p(e)));
    },
    lo: -20,
    hi: 20,
  },
  { name: 'pow', f32: (c, a, b) => c.pow(a, b), f64: (v, a, b) => v.pow(a, b), lo: 0, hi: 4, b: [-3, 3] },
];

const mem = new WebAssembly.Memory({ initial: Math.ceil((3 * 4 * N) / 65536) });
const view = new Float32Array(mem.buffer);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

console.log(`wasm-math32: ns per element over ${N} float32 elements, median of ${ROUNDS} alternating rounds`);
console.log(
  `${'function'.padEnd(28)} ${'f32x4'.padStart(8)} ${'f64x2'.padStart(8)} ${'speed-up'.padStart(9)}`,
);
for (const c of cases) {
  for (let j = 0; j < N; j++) {
    view[j] = c.lo + ((c.hi - c.lo) * ((j * 2654435761) % N)) / N;
    view[N + j] = c.b === undefined ? 0 : c.b[0] + ((c.b[1] - c.b[0]) * ((j * 40503) % N)) / N;
  }
  const k32 = f32Kernel(c.f32);
  const k64 = f64Kernel(c.f64);
  const t32: number[] = [];
  const t64: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [k, t] of [
      [k32, t32],
      [k64, t64],
    ] as const) {
      const t0 = performance.now();
      k(4 * N);
      const dt = performance.now() - t0;
      if (r >= 2) t.push((dt * 1e6) / N); // the first two rounds warm up (tier-up)
    }
  }
  const a = median(t32);
  const b = median(t64);
  console.log(
    `${c.name.padEnd(28)} ${a.toFixed(2).padStart(8)} ${b.toFixed(2).padStart(8)} ${`${(b / a).toFixed(2)}×`.padStart(9)}`,
  );
}
