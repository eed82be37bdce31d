/**
 * The WebAssembly SIMD code generator for float32 expression programs: one exported function
 * `run(ctrl, start, end)` computing every output of a lowered program over elements [start, end), four
 * float32 lanes per v128 (f32x4), and storing or summing it. Where the data is, and the program's
 * parameters, are read from a control block at byte address `ctrl` (see {@link controlLayout}); no buffer
 * is baked into the module, so one compiled module serves every call, range and (shared) memory.
 *
 * ## Float32 contract
 * Float32 programs compute in float32, as PyTorch's float32 CPU kernels do, not in float64 as the
 * JavaScript kernels do, so their values are NOT bit for bit the JavaScript kernels'. Precisely:
 * - constants and scalar inputs are rounded to float32 once — except that a nonzero finite constant of the
 *   program which float32 rounds to ±0 becomes the smallest float32 of its sign (2^-149) and one it rounds
 *   to ±inf the largest finite float32, so that guards such as `where(q < 1e-100, 1e-100, q)` keep q
 *   positive (runtime.ts `saturate32`); scalar inputs are rounded to nearest as PyTorch rounds a Python
 *   scalar;
 * - add, sub, mul, div, sqrt are IEEE float32 operations (correctly rounded; no fused multiply-add), and
 *   neg, abs, sign, min, max, relu, comparisons, and/or/not, where and detach are exact — so each of these
 *   primitives gives the float64 interpreter's value of its (float32) operands rounded once to float32,
 *   and a program of them gives exactly what evaluating it with a rounding to float32 after every primitive
 *   gives;
 * - exp, log, log1p, expm1, tanh, sigmoid, softplus, logSigmoid and pow are within 2 float32 ulps of the
 *   correctly rounded float32 result of their float32 operands (see f32math.ts), with the primitive
 *   table's values at ±0, ±inf and NaN;
 * - summed outputs are accumulated in float64 (each float32 value exactly), in blocks of
 *   {@link SUM_BLOCK} elements: the sum of each block is one partial, and the caller adds the partials in
 *   block order — so a sum does not depend on how [0, n) is split into calls (see {@link controlLayout}).
 * Relative to the float64 interpreter, a program's error is that of float32 arithmetic: about one float32
 * rounding (6e-8 relative) per primitive, amplified as float32 arithmetic amplifies it (cancellation).
 */
import type { Expr } from '../expr/node.js';
import { topoSort } from '../expr/node.js';
import type { PrimitiveName } from '../expr/primitives.js';
import { BLOCK, Body, I32, LOOP, type MemoryImport, moduleBytes, OP, SIMD } from './emit.js';
import { F32Math, type F32MathName } from './f32math.js';
import { type Arg32, K32, VecCode32 } from './math32.js';

/** log2 of {@link SUM_BLOCK}. */
export const SUM_BLOCK_LOG2 = 12;

/**
 * Elements per sum block: a program with summed outputs writes one float64 partial per block of this many
 * elements (block b holds elements [b·SUM_BLOCK, (b+1)·SUM_BLOCK)); calls of one run must split [0, n) at
 * multiples of it.
 */
export const SUM_BLOCK = 1 << SUM_BLOCK_LOG2;

/** The primitives the WebAssembly generator implements (programs using others run on JavaScript). */
export const WASM_PRIMITIVES: ReadonlySet<PrimitiveName> = new Set<PrimitiveName>([
  'add',
  'sub',
  'mul',
  'div',
  'neg',
  'exp',
  'log',
  'log1p',
  'expm1',
  'sqrt',
  'pow',
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
  'sigmoid',
  'softplus',
  'logSigmoid',
  'tanh',
  'relu',
  'detach',
]);

/**
 * The control block of one call of `run(ctrl, start, end)`: byte offsets from `ctrl` (4-byte aligned; the
 * block is `bytes` long and 16-byte alignment of `ctrl` is recommended). With V variables and J outputs:
 *
 * | offset | type | content |
 * |---|---|---|
 * | `vars` = 0 | i32 × V | byte address of variable k's float32 elements (element i at `ptr + 4 i`); unused for scalar variables |
 * | `outs` = 4 V | i32 × J | byte address of stored output j's float32 elements; unused for outputs not stored |
 * | `parts` = 4 (V + J) | i32 × J | byte address of summed output j's float64 partials (see below); unused for outputs not summed |
 * | `params` = align8(4 (V + 2 J)) | f64 × (P + S) | the program's P constants by slot, then the value of each of the S scalar variables, in variable order |
 *
 * Addresses are taken modulo 2^32 (i32 arithmetic wraps), so `base − 4·start` makes element `start` the
 * first of a buffer at `base`. `run` reads [start, end) of every variable, writes [start, end) of every
 * stored output and, for each summed output j and each block b of {@link SUM_BLOCK} elements that
 * [start, end) meets, writes (not adds) `parts[j][b]` (the f64 at `parts[j] + 8 b`) = the float64 sum of
 * output j over the block's elements in [start, end). It reads nothing past element end − 1 and writes
 * nothing else. Calls on disjoint ranges may run concurrently (each with its own control block or the same
 * one, read only); for summed programs every call's `start` must be a multiple of SUM_BLOCK (or the calls
 * must not share a block), and the caller adds the partials of blocks 0, 1, … in order, which makes the
 * sum independent of the split.
 */
export interface ControlLayout {
  readonly vars: number;
  readonly outs: number;
  readonly parts: number;
  readonly params: number;
  /** Bytes of the block (a multiple of 16). */
  readonly bytes: number;
}

/** What to generate: the program, how each variable is read, and what happens to each output. */
export interface WasmProgramSpec {
  readonly outputs: readonly Expr[];
  /** The parameter slot of each constant node. */
  readonly slots: ReadonlyMap<Expr, number>;
  readonly paramCount: number;
  readonly variables: readonly string[];
  /** Per variable: read per element, or one scalar. */
  readonly scalar: readonly boolean[];
  readonly store: readonly boolean[];
  readonly sum: readonly boolean[];
}

/** True when every node of the program is a primitive the generator implements. */
export function wasmSupports(outputs: readonly Expr[]): boolean {
  for (const n of topoSort(outputs)) {
    if (!n.isConst && !n.isVar && !WASM_PRIMITIVES.has(n.op as PrimitiveName)) return false;
  }
  return true;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** The control block layout of a program (see {@link ControlLayout}). */
export function controlLayout(spec: WasmProgramSpec): ControlLayout {
  const v = spec.variables.length;
  const j = spec.outputs.length;
  const scalars = spec.scalar.filter((s) => s).length;
  const params = align(4 * (v + 2 * j), 8);
  return {
    vars: 0,
    outs: 4 * v,
    parts: 4 * (v + j),
    params,
    bytes: align(params + 8 * (spec.paramCount + scalars), 16),
  };
}

/**
 * f32x4 bodies per main-loop iteration (16 elements), emitted interleaved: measured on the 2-core x86-64 CI
 * machine (BCE fwd+bwd kernel, 1M elements): 1 body 5.8 ms, 2 bodies 4.8 ms, 4 bodies 3.5 ms, 6 bodies
 * 3.7 ms, 8 bodies 4.2 ms (register spills beyond 4).
 */
const UNROLL = 4;

/** The lane mask keeping float32 lane 0 only. */
const LANE0 = [0xff, 0xff, 0xff, 0xff, ...new Array<number>(12).fill(0)];
/** Bytes 8–15 then 0–7: the high two float32 lanes moved to the low half. */
const HIGH_DOWN = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

const TRANSCENDENTAL = new Set<PrimitiveName>([
  'exp',
  'log',
  'log1p',
  'expm1',
  'tanh',
  'sigmoid',
  'softplus',
  'logSigmoid',
  'pow',
]);

/**
 * How many transcendental nodes (exp, log, log1p, expm1, tanh, sigmoid, softplus, logSigmoid, pow) the
 * expressions evaluate per element, each shared node once: a measure of what recomputing them costs.
 */
export function transcendentalCount(outputs: readonly Expr[]): number {
  let count = 0;
  for (const n of topoSort(outputs)) if (TRANSCENDENTAL.has(n.op as PrimitiveName)) count++;
  return count;
}

/**
 * A per-element cost hint of a program for splitting it between threads (see `splitRange`), in units of one
 * cheap elementwise op: a quarter per arithmetic node, two per transcendental (a vectorised exp or log is
 * about eight times an add), at least 1.
 */
export function programCost(spec: WasmProgramSpec): number {
  let units = 0;
  for (const n of topoSort(spec.outputs)) {
    if (n.isConst || n.isVar) continue;
    units += TRANSCENDENTAL.has(n.op as PrimitiveName) ? 8 : 1;
  }
  return Math.max(1, units / 4);
}

/**
 * Generates the module of a float32 program: it imports memory `m.mem` of type `memory` and exports
 * `run(ctrl, start, end)` (see {@link ControlLayout}). The main loop computes 16 elements per iteration
 * ({@link UNROLL} f32x4 groups, their code interleaved node by node); the last 0–15 elements of a range (or of
 * a sum block) are computed one at a time (lane 0, read with `v128.load32_zero`, stored with
 * `v128.store32_lane`).
 */
export function generateWasm(spec: WasmProgramSpec, memory: MemoryImport = {}): Uint8Array<ArrayBuffer> {
  const L = controlLayout(spec);
  const b = new Body(3);
  const CTRL = 0;
  const START = 1;
  const END = 2;
  const v = new VecCode32(b);
  const i = b.local(I32);
  const o = b.local(I32);
  const bend = b.local(I32);
  const blk = b.local(I32);
  const summing = spec.sum.some((x) => x);
  const pointer = (at: number): number => {
    const l = b.local(I32);
    b.get(CTRL)
      .op(OP.i32Load, ...Body.memarg(2, at))
      .set(l);
    return l;
  };
  const ptr = spec.variables.map((_, k) => (spec.scalar[k] ? -1 : pointer(L.vars + 4 * k)));
  const out = spec.store.map((s, j) => (s ? pointer(L.outs + 4 * j) : -1));
  const part = spec.sum.map((s, j) => (s ? pointer(L.parts + 4 * j) : -1));
  // Parameters and scalar inputs: rounded to float32 and splat once.
  const param = (slot: number): number => {
    b.get(CTRL)
      .op(OP.f64Load, ...Body.memarg(3, L.params + 8 * slot))
      .op(OP.f32DemoteF64)
      .simd(SIMD.f32x4Splat);
    return v.store();
  };
  const paramLocal = Array.from({ length: spec.paramCount }, (_, p) => param(p));
  const scalarLocal = new Map<string, number>();
  let s = spec.paramCount;
  spec.variables.forEach((name, k) => {
    if (spec.scalar[k]) scalarLocal.set(name, param(s++));
  });
  // Per summed output, float64 accumulators of lanes 0–1 and 2–3.
  const acc = spec.sum.map((summed) => (summed ? [b.local(), b.local()] : null));
  const index = new Map(spec.variables.map((name, k) => [name, k] as const));
  const order = topoSort(spec.outputs);

  /**
   * The code of one straight-line body — 4 elements at byte offset `o + at`, or (single) one element at `o` —
   * emitted node by node (`node`), then its outputs stored and summed (`finish`). Each body has its own
   * values and shared-function caches, so several bodies can be emitted interleaved (see `emitBodies`).
   */
  const bodyEmitter = (at: number, single: boolean) => {
    const fm = new F32Math(v);
    const value = new Map<Expr, Arg32>();
    const loaded = new Map<string, number>();
    const address = (base: number) => b.get(base).get(o).op(OP.i32Add);
    const load = (name: string): number => {
      const hit = scalarLocal.get(name) ?? loaded.get(name);
      if (hit !== undefined) return hit;
      address(ptr[index.get(name)!]!);
      if (single) b.simd(SIMD.load32Zero, ...Body.memarg(2, 0));
      else b.simd(SIMD.load, ...Body.memarg(2, at));
      const l = v.store();
      loaded.set(name, l);
      return l;
    };
    // Comparisons and logic are kept as lane masks (all ones / all zeros), and turned into 1 / 0 only where
    // a value is read as a number: `where`, `and`, `or`, `not` consume the masks directly.
    const masks = new Map<Expr, number>();
    const numberOf = (n: Expr): Arg32 => {
      let r = value.get(n);
      if (r === undefined) {
        r = v.and(masks.get(n)!, K32(1));
        value.set(n, r);
      }
      return r;
    };
    const maskOf = (n: Expr): number => masks.get(n) ?? v.cmp('ne', numberOf(n), K32(0));
    // A key naming |n| in this body: neg(a) has a's key, a + a has "2*" + a's key (F32Math shares by it).
    const shareKeys = new Map<Expr, string>();
    const shareKey = (n: Expr): string => {
      let key = shareKeys.get(n);
      if (key === undefined) {
        if (n.op === 'neg') key = shareKey(n.args[0]!);
        else if (n.op === 'add' && n.args[0] === n.args[1]) key = `2*${shareKey(n.args[0]!)}`;
        else {
          const l = numberOf(n);
          key = typeof l === 'number' ? `l${l}` : `k${l.k32}`;
        }
        shareKeys.set(n, key);
      }
      return key;
    };
    const node = (n: Expr): void => {
      if (n.isConst) {
        value.set(n, paramLocal[spec.slots.get(n)!]!);
        return;
      }
      if (n.isVar) {
        value.set(n, load(n.name));
        return;
      }
      const logic = n.op as PrimitiveName;
      if (logic === 'and' || logic === 'or') {
        masks.set(n, v[logic](maskOf(n.args[0]!), maskOf(n.args[1]!)));
        return;
      }
      if (logic === 'not') {
        masks.set(n, v.not(maskOf(n.args[0]!)));
        return;
      }
      if (logic === 'where') {
        value.set(n, v.select(maskOf(n.args[0]!), numberOf(n.args[1]!), numberOf(n.args[2]!)));
        return;
      }
      const a = n.args.map(numberOf);
      const [x, y] = a as [Arg32, Arg32];
      const op = n.op as PrimitiveName;
      if (TRANSCENDENTAL.has(op)) {
        // sigmoid, softplus, logSigmoid of a and of −a share one e^(−|a|), one log1p and one σ(−|a|) of it;
        // tanh(a) shares e^(−|2a|) and σ(−|2a|) with sigmoids of a + a (see F32Math.call).
        value.set(n, fm.call(op as F32MathName, a, shareKey(n.args[0]!)));
        return;
      }
      let r: Arg32;
      switch (op) {
        case 'add':
          r = v.add(x, y);
          break;
        case 'sub':
          r = v.sub(x, y);
          break;
        case 'mul':
          r = v.mul(x, y);
          break;
        case 'div':
          r = v.div(x, y);
          break;
        case 'neg':
          r = v.neg(x);
          break;
        case 'sqrt':
          r = v.sqrt(x);
          break;
        case 'abs':
          r = v.abs(x);
          break;
        case 'sign':
          r = v.select(v.cmp('gt', x, K32(0)), K32(1), v.select(v.cmp('lt', x, K32(0)), K32(-1), x));
          break;
        case 'min':
          r = v.min(x, y);
          break;
        case 'max':
          r = v.max(x, y);
          break;
        case 'relu':
          r = v.max(x, K32(0));
          break;
        case 'lt':
        case 'le':
        case 'gt':
        case 'ge':
        case 'eq':
        case 'ne':
          masks.set(n, v.cmp(op, x, y));
          return;
        case 'detach':
          r = x;
          break;
        default:
          throw new Error(`wasm generator: unsupported primitive ${n.op}`);
      }
      value.set(n, r);
    };
    const finish = () =>
      spec.outputs.forEach((outExpr, j) => {
        const val = numberOf(outExpr);
        if (spec.store[j]) {
          address(out[j]!);
          v.push(val);
          if (single) b.simd(SIMD.store32Lane, ...Body.memarg(2, 0), 0);
          else b.simd(SIMD.store, ...Body.memarg(2, at));
        }
        const pair = acc[j];
        if (pair) {
          const [lo, hi] = pair as [number, number];
          b.get(lo);
          v.push(val);
          if (single) b.simd(SIMD.const, ...LANE0).simd(SIMD.and);
          b.simd(SIMD.f64x2PromoteLowF32x4).simd(SIMD.f64x2Add).set(lo);
          if (!single) {
            b.get(hi);
            v.push(val);
            v.push(val);
            b.simd(SIMD.i8x16Shuffle, ...HIGH_DOWN)
              .simd(SIMD.f64x2PromoteLowF32x4)
              .simd(SIMD.f64x2Add)
              .set(hi);
          }
        }
      });
    return { node, finish };
  };

  /**
   * Bodies at byte offsets `ats` (or one single-element body), emitted interleaved node by node: the
   * bodies' dependency chains (a transcendental is a few dozen dependent instructions) are independent, so
   * putting them side by side lets the processor overlap them (the engine keeps the emitted order closely).
   */
  const emitBodies = (ats: readonly number[], single: boolean) => {
    const bodies = ats.map((at) => bodyEmitter(at, single));
    for (const n of order) for (const e of bodies) e.node(n);
    for (const e of bodies) e.finish();
  };

  b.get(START).set(i);
  b.op(...BLOCK, ...LOOP); // blocks (one pass when nothing is summed)
  b.get(i).get(END).op(OP.i32GeU, OP.brIf, 1);
  if (summing) {
    // bend = min(end, (blk + 1) · SUM_BLOCK); accumulators zeroed.
    b.get(i).i32(SUM_BLOCK_LOG2).op(OP.i32ShrU).set(blk);
    b.get(blk).i32(1).op(OP.i32Add).i32(SUM_BLOCK_LOG2).op(OP.i32Shl).set(bend);
    b.get(bend).get(END).get(bend).get(END).op(OP.i32LtU, OP.select).set(bend);
    for (const pair of acc) {
      if (pair === null) continue;
      b.simd(SIMD.const, ...new Array<number>(16).fill(0)).set(pair[0]!);
      b.simd(SIMD.const, ...new Array<number>(16).fill(0)).set(pair[1]!);
    }
  } else b.get(END).set(bend);
  b.get(i).i32(2).op(OP.i32Shl).set(o);
  // Main loop: while bend − i ≥ 8.
  b.op(...BLOCK, ...LOOP);
  b.get(bend)
    .get(i)
    .op(OP.i32Sub)
    .i32(4 * UNROLL)
    .op(OP.i32LtS, OP.brIf, 1);
  emitBodies(
    Array.from({ length: UNROLL }, (_, u) => 16 * u),
    false,
  );
  b.get(i)
    .i32(4 * UNROLL)
    .op(OP.i32Add)
    .set(i);
  b.get(o)
    .i32(16 * UNROLL)
    .op(OP.i32Add)
    .set(o);
  b.op(OP.br, 0, OP.end, OP.end);
  // Tail: one element at a time.
  b.op(...BLOCK, ...LOOP);
  b.get(i).get(bend).op(OP.i32GeU, OP.brIf, 1);
  emitBodies([0], true);
  b.get(i).i32(1).op(OP.i32Add).set(i);
  b.get(o).i32(4).op(OP.i32Add).set(o);
  b.op(OP.br, 0, OP.end, OP.end);
  if (summing) {
    spec.sum.forEach((summed, j) => {
      if (!summed) return;
      const [lo, hi] = acc[j] as [number, number];
      b.get(part[j]!).get(blk).i32(3).op(OP.i32Shl).op(OP.i32Add);
      b.get(lo).get(hi).simd(SIMD.f64x2Add).set(lo);
      b.get(lo).simd(SIMD.f64x2ExtractLane, 0);
      b.get(lo).simd(SIMD.f64x2ExtractLane, 1);
      b.op(OP.f64Add, OP.f64Store, ...Body.memarg(3, 0));
    });
  }
  b.op(OP.br, 0, OP.end, OP.end);
  b.code.unshift(...v.prologue());
  return moduleBytes([{ name: 'run', params: 3, body: b }], memory);
}
