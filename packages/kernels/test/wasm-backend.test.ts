/**
 * The WebAssembly backend against its float32 contract (wasm/generate.ts): random expression trees over
 * random broadcast shapes (fast-check), judged against the float64 interpreter's primitive definitions
 * rounded to float32 after every primitive. Programs of arithmetic, comparisons and selections match that
 * reference bit for bit; programs with transcendentals within 4 ulps; sums are the float64 sums of the
 * stored float32 values. Also: chunking (sizes past the chunk, odd tails), scalar and broadcast inputs, and
 * the backend switch.
 */
import {
  ArgumentError,
  apply,
  autoBackend,
  constant,
  type Expr,
  elementwiseBackend,
  expressionBackend,
  jsBackend,
  PRIMITIVES,
  type PrimitiveName,
  StateError,
  setElementwiseBackend,
  variable,
  wasmBackend,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { broadcastShapes, EDGE_VALUES, propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const NAMES = ['x', 'y', 'z'];
const VARS = NAMES.map((n) => variable(n));

const EXACT_OPS: PrimitiveName[] = [
  'add',
  'sub',
  'mul',
  'div',
  'neg',
  'sqrt',
  'abs',
  'sign',
  'min',
  'max',
  'where',
  'lt',
  'le',
  'gt',
  'ge',
  'eq',
  'ne',
  'and',
  'or',
  'not',
  'relu',
  'detach',
];
const ALL_OPS: PrimitiveName[] = [
  ...EXACT_OPS,
  'exp',
  'log',
  'log1p',
  'expm1',
  'tanh',
  'sigmoid',
  'softplus',
  'logSigmoid',
  'pow',
];

type Recipe =
  | { readonly v: number }
  | { readonly c: number }
  | { readonly op: PrimitiveName; readonly args: Recipe[] };

function recipes(ops: readonly PrimitiveName[], depth: number): fc.Arbitrary<Recipe> {
  const leaf = fc.oneof(
    { arbitrary: fc.nat(NAMES.length - 1).map((v): Recipe => ({ v })), weight: 3 },
    { arbitrary: fc.constantFrom(0, 1, -1, 0.5, 2, 3, 1e-3, 100).map((c): Recipe => ({ c })), weight: 1 },
  );
  if (depth <= 1) return leaf;
  const sub = recipes(ops, depth - 1);
  const node = fc
    .constantFrom(...ops)
    .chain((op) =>
      fc
        .tuple(...Array.from({ length: PRIMITIVES[op].arity }, () => sub))
        .map((args): Recipe => ({ op, args })),
    );
  return fc.oneof({ arbitrary: leaf, weight: 1 }, { arbitrary: node, weight: 2 });
}

function build(r: Recipe): Expr {
  if ('v' in r) return VARS[r.v]!;
  if ('c' in r) return constant(r.c);
  return apply(r.op, ...r.args.map(build));
}

const value = fc.oneof(
  { arbitrary: fc.float({ min: -50, max: 50, noNaN: true }), weight: 6 },
  { arbitrary: fc.constantFrom(...EDGE_VALUES), weight: 1 },
);

function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(0);
  let k = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = k;
    k *= shape[d]!;
  }
  return s;
}

function broadcastStrides(from: readonly number[], to: readonly number[]): number[] {
  const own = contiguous(from);
  const lead = to.length - from.length;
  return to.map((_, d) => (d < lead || from[d - lead] === 1 ? 0 : own[d - lead]!));
}

const case_ = (ops: readonly PrimitiveName[]) =>
  fc
    .record({
      outs: fc.array(recipes(ops, 4), { minLength: 1, maxLength: 3 }),
      shapes: broadcastShapes(3, { maxRank: 3, maxDim: 6 }),
    })
    .chain(({ outs, shapes }) =>
      fc
        .tuple(...shapes.map((s) => fc.array(value, { minLength: size(s), maxLength: size(s) })))
        .map((data) => ({ outs, shapes, data })),
    );

function size(s: readonly number[]): number {
  return s.reduce((a, d) => a * d, 1);
}

function outShape(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, d) =>
    Math.max(...shapes.map((s) => s[d - (rank - s.length)] ?? 1)),
  );
}

/**
 * The float32 contract's reference: the float64 interpreter's definition of each primitive (the primitive
 * table) applied to float32 operands and rounded to float32 after every primitive; constants rounded once.
 */
function eval32(r: Recipe, vars: readonly number[]): number {
  if ('v' in r) return vars[r.v]!;
  if ('c' in r) return Math.fround(r.c);
  return Math.fround(PRIMITIVES[r.op].evaluate(...r.args.map((a) => eval32(a, vars))));
}

/**
 * Runs the WebAssembly backend's strided and fused-reduce kernels; calls `same(w, ref, where)` on every
 * element against {@link eval32}, and checks each sum against the float64 sum of the stored float32 values.
 */
function compare(
  c: { outs: Recipe[]; shapes: number[][]; data: number[][] },
  same: (w: number, ref: number, where: string) => void,
): void {
  const outputs = c.outs.map(build);
  const shape = outShape(c.shapes);
  const n = size(shape);
  const ins = c.data.map((d) => Float32Array.from(d));
  const strides = c.shapes.map((s) => broadcastStrides(s, shape));
  const ref = c.outs.map(() => new Float32Array(n));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let r = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    const vars = ins.map((a, k) => a[idx.reduce((t, x, d) => t + x * strides[k]![d]!, 0)]!);
    c.outs.forEach((o, k) => {
      ref[k]![i] = eval32(o, vars);
    });
  }
  const ow = outputs.map(() => new Float32Array(n));
  wasmBackend.strided(outputs, NAMES)(ins, strides, ow, shape);
  outputs.forEach((o, k) => {
    for (let i = 0; i < n; i++) same(ow[k]![i]!, ref[k]![i]!, `${o} at ${i} (strided)`);
  });
  // The same program as a strided reduce: every output stored and summed.
  const flags = { store: outputs.map(() => true), sum: outputs.map(() => true) };
  const sw = new Float64Array(outputs.length);
  const rw = outputs.map(() => new Float32Array(n));
  wasmBackend.stridedReduce(outputs, NAMES, flags)(ins, strides, rw, shape, sw);
  outputs.forEach((o, k) => {
    for (let i = 0; i < n; i++) same(rw[k]![i]!, ref[k]![i]!, `${o} at ${i} (reduce)`);
    // Sums: float64 accumulation of the stored float32 values (in a different order).
    let mag = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      mag += Math.abs(rw[k]![i]!);
      b += rw[k]![i]!;
    }
    const a = sw[k]!;
    if (Number.isNaN(b) || !Number.isFinite(mag)) return;
    expect(Math.abs(a - b), `sum of ${o}`).toBeLessThanOrEqual(1e-12 * mag + 1e-300);
  });
}

describe.runIf(wasmSimdAvailable())('WebAssembly backend: the float32 contract', () => {
  it('arithmetic, comparisons and selections: float32 rounding after every primitive, bit for bit, random broadcasts', () => {
    const runs = wasmStats().runs;
    fc.assert(
      fc.property(case_(EXACT_OPS), (c) => {
        compare(c, (w, j, where) => {
          if (!Object.is(w, j)) throw new Error(`${where}: wasm ${w}, float32 reference ${j}`);
        });
      }),
      propertyConfig(),
    );
    expect(wasmStats().runs).toBeGreaterThan(runs);
  });

  it('every primitive: within 4 ulps (or 1e-6 relative) of the float32 reference, NaN where NaN', () => {
    const f32 = new Float32Array(2);
    const bits = new Int32Array(f32.buffer);
    const ordered = (b: number) => (b >= 0 ? b : -(b & 0x7fffffff));
    fc.assert(
      fc.property(case_(ALL_OPS), (c) => {
        compare(c, (w, j, where) => {
          if (Object.is(w, j)) return;
          if (Number.isNaN(w) || Number.isNaN(j)) throw new Error(`${where}: wasm ${w}, js ${j}`);
          f32[0] = w;
          f32[1] = j;
          const ulps = Math.abs(ordered(bits[0]!) - ordered(bits[1]!));
          if (ulps > 4 && Math.abs(w - j) > 1e-6 * Math.max(1, Math.abs(j))) {
            throw new Error(`${where}: wasm ${w}, js ${j} (${ulps} ulps)`);
          }
        });
      }),
      propertyConfig(),
    );
  });

  it('runs past the chunk size with odd tails, scalars and stride-0 rows; sums accumulate in float64', () => {
    const x = variable('x');
    const s = variable('s');
    const outs = [apply('mul', apply('sigmoid', x), s), apply('sub', x, s)];
    for (const n of [1, 2, 3, 8191, 8192, 8193, 3 * 8192 + 5]) {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.sin(i) * 10;
      const flags = { store: [true, false], sum: [true, true] };
      const w = [new Float32Array(n), null];
      const j = [new Float32Array(n), null];
      const sw = new Float64Array(2);
      const sj = new Float64Array(2);
      wasmBackend.fusedReduce(outs, ['x', 's'], ['array', 'scalar'], flags)([a, 0.25], w, n, sw);
      jsBackend.fusedReduce(outs, ['x', 's'], ['array', 'scalar'], flags)([a, 0.25], j, n, sj);
      for (let i = 0; i < n; i++) expect(Math.abs(w[0]![i]! - j[0]![i]!)).toBeLessThanOrEqual(3e-8);
      // The sum is the float64 sum of the float32 values the program computes (those stored): within float64
      // rounding of it, and (each element within 3e-8 of the JavaScript one) within 3e-8·n of the JS sum.
      let stored = 0;
      for (let i = 0; i < n; i++) stored += w[0]![i]!;
      expect(Math.abs(sw[0]! - stored)).toBeLessThanOrEqual(1e-12 * n);
      expect(Math.abs(sw[0]! - sj[0]!)).toBeLessThanOrEqual(3e-8 * n);
      expect(Math.abs(sw[1]! - sj[1]!)).toBeLessThanOrEqual(1e-9 * n);
    }
    // A [rows, cols] + [cols] bias broadcast (stride-0 rows) past the chunk.
    const rows = 300;
    const cols = 97;
    const m = new Float32Array(rows * cols).map((_, i) => i % 13);
    const bias = new Float32Array(cols).map((_, i) => i / 7);
    const prog = [apply('add', x, variable('b'))];
    const ow = new Float32Array(rows * cols);
    wasmBackend.strided(prog, ['x', 'b'])(
      [m, bias],
      [
        [cols, 1],
        [0, 1],
      ],
      [ow],
      [rows, cols],
    );
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) expect(ow[r * cols + c]).toBe(Math.fround(m[r * cols + c]! + bias[c]!));
  });

  it('float64 programs run on JavaScript, bit for bit', () => {
    const runs = wasmStats().runs;
    const a = new Float64Array(5000).map((_, i) => i / 100 - 25);
    const out = new Float64Array(5000);
    wasmBackend.elementwise([apply('exp', variable('x'))], ['x'], ['array'])([a], [out], 5000);
    expect(wasmStats().runs).toBe(runs);
    for (let i = 0; i < a.length; i++) expect(out[i]).toBe(Math.exp(a[i]!));
  });
});

describe('backend selection', () => {
  it('auto by default; js and wasm on request; bad names refused with a typed error', () => {
    expect(elementwiseBackend()).toBe('auto');
    expect(expressionBackend()).toBe(autoBackend);
    setElementwiseBackend('js');
    expect(expressionBackend()).toBe(jsBackend);
    if (wasmSimdAvailable()) {
      setElementwiseBackend('wasm');
      expect(expressionBackend()).toBe(wasmBackend);
    } else {
      expect(() => setElementwiseBackend('wasm')).toThrow(StateError);
    }
    expect(() => setElementwiseBackend('gpu' as never)).toThrow(ArgumentError);
    setElementwiseBackend('auto');
    expect(elementwiseBackend()).toBe('auto');
  });

  it('auto runs small float32 calls on JavaScript and large ones on WebAssembly', () => {
    const k = autoBackend.elementwise([apply('exp', variable('x'))], ['x'], ['array']);
    const before = wasmStats().runs;
    k([new Float32Array(16)], [new Float32Array(16)], 16);
    expect(wasmStats().runs).toBe(before);
    k([new Float32Array(4096)], [new Float32Array(4096)], 4096);
    expect(wasmStats().runs).toBe(wasmSimdAvailable() ? before + 1 : before);
  });
});
