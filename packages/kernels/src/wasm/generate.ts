/**
 * The WebAssembly SIMD code generator for expression programs: one exported function `run(len)` that walks
 * `len` elements of chunk buffers in the module's memory two at a time (f64x2 lanes), computing every output
 * of a lowered program and storing or summing it. Float32 storage is widened to float64 on load and rounded
 * once on store, exactly as the JavaScript kernels compute, so programs of arithmetic, comparisons and
 * selections give the JavaScript kernels' values bit for bit; the transcendental functions are the
 * vectorised ones of math.ts (within 1 float32 ulp, see there).
 */
import type { Expr } from '../expr/node.js';
import { topoSort } from '../expr/node.js';
import type { PrimitiveName } from '../expr/primitives.js';
import { BLOCK, Body, I32, IF, LOOP, moduleBytes, OP, SIMD } from './emit.js';
import { type Arg, K, VecCode } from './math.js';

/** Elements per chunk: every array input and stored output has a buffer of this many (plus padding). */
export const CHUNK = 8192;

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

/** Where a program's data lives in memory (byte addresses). */
export interface WasmLayout {
  /** Parameters (f64): the program's constants by slot, then each scalar input's value. */
  readonly params: number;
  /** One f64 accumulator per output (read and added to by `run`). */
  readonly sums: number;
  /** The chunk buffer of each variable read per element (-1 for scalars). */
  readonly inputs: readonly number[];
  /** The chunk buffer of each stored output (-1 for the others). */
  readonly outputs: readonly number[];
  /** Bytes of memory the program needs. */
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
  /** Element size of the stored arrays: 4 (float32) or 8 (float64). */
  readonly elementBytes: 4 | 8;
}

/** True when every node of the program is a primitive the generator implements. */
export function wasmSupports(outputs: readonly Expr[]): boolean {
  for (const n of topoSort(outputs)) {
    if (!n.isConst && !n.isVar && !WASM_PRIMITIVES.has(n.op as PrimitiveName)) return false;
  }
  return true;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** The memory layout of a program. */
export function layoutOf(spec: WasmProgramSpec): WasmLayout {
  const scalars = spec.scalar.filter((s) => s).length;
  const params = 0;
  const sums = align16((spec.paramCount + scalars) * 8);
  let at = align16(sums + spec.outputs.length * 8);
  const buffer = align16((CHUNK + 2) * spec.elementBytes);
  const inputs = spec.scalar.map((s) => {
    if (s) return -1;
    const a = at;
    at += buffer;
    return a;
  });
  const outputs = spec.store.map((s) => {
    if (!s) return -1;
    const a = at;
    at += buffer;
    return a;
  });
  return { params, sums, inputs, outputs, bytes: at };
}

/** Generates the module of a program; its `run(len)` processes `len ≤ CHUNK` elements of the buffers. */
export function generateWasm(spec: WasmProgramSpec, layout: WasmLayout): Uint8Array<ArrayBuffer> {
  const b = new Body(1);
  const v = new VecCode(b);
  const es = spec.elementBytes;
  const f32 = es === 4;
  const LEN = 0;
  const o = b.local(I32);
  const end = b.local(I32);
  // Parameters and scalar inputs, splat once.
  const paramLocal: number[] = [];
  for (let i = 0; i < spec.paramCount; i++) {
    b.i32(0).simd(SIMD.load64Splat, ...Body.memarg(3, layout.params + 8 * i));
    paramLocal.push(v.store());
  }
  const scalarLocal = new Map<string, number>();
  let s = spec.paramCount;
  spec.variables.forEach((name, k) => {
    if (!spec.scalar[k]) return;
    b.i32(0).simd(SIMD.load64Splat, ...Body.memarg(3, layout.params + 8 * s++));
    scalarLocal.set(name, v.store());
  });
  const acc = spec.sum.map((summed) => {
    if (!summed) return -1;
    b.f64x2(0);
    return v.store();
  });
  const index = new Map(spec.variables.map((name, k) => [name, k] as const));
  const order = topoSort(spec.outputs);

  const emitBody = (masked: boolean) => {
    const value = new Map<Expr, Arg>();
    const loaded = new Map<string, number>();
    const load = (name: string): number => {
      const hit = scalarLocal.get(name) ?? loaded.get(name);
      if (hit !== undefined) return hit;
      const k = index.get(name)!;
      b.get(o);
      if (f32) {
        b.simd(SIMD.load64Zero, ...Body.memarg(3, layout.inputs[k]!));
        b.simd(SIMD.f64x2PromoteLowF32x4);
      } else b.simd(SIMD.load, ...Body.memarg(3, layout.inputs[k]!));
      const l = v.store();
      loaded.set(name, l);
      return l;
    };
    const expOf = new Map<Arg, number>();
    const logOf = new Map<Arg, number>();
    const e = (base: Arg) => {
      let r = expOf.get(base);
      if (r === undefined) {
        r = v.exp(v.neg(v.abs(base)));
        expOf.set(base, r);
      }
      return r;
    };
    const l1p = (base: Arg) => {
      let r = logOf.get(base);
      if (r === undefined) {
        r = v.log1p(e(base));
        logOf.set(base, r);
      }
      return r;
    };
    const bool = (mask: number) => v.and(mask, K(1));
    const nz = (a: Arg) => v.cmp('ne', a, K(0));
    for (const n of order) {
      if (n.isConst) {
        value.set(n, paramLocal[spec.slots.get(n)!]!);
        continue;
      }
      if (n.isVar) {
        value.set(n, load(n.name));
        continue;
      }
      const a = n.args.map((x) => value.get(x)!);
      const [x, y, z] = a as [Arg, Arg, Arg];
      let r: number;
      switch (n.op as PrimitiveName) {
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
        case 'exp':
          r = v.exp(x);
          break;
        case 'log':
          r = v.log(x);
          break;
        case 'log1p':
          r = v.log1p(x);
          break;
        case 'expm1':
          r = v.expm1(x);
          break;
        case 'sqrt':
          r = v.un(SIMD.f64x2Sqrt, x);
          break;
        case 'pow':
          r = v.pow(x, y);
          break;
        case 'abs':
          r = v.abs(x);
          break;
        case 'sign':
          r = v.select(v.cmp('gt', x, K(0)), K(1), v.select(v.cmp('lt', x, K(0)), K(-1), x));
          break;
        case 'min':
          r = v.min(x, y);
          break;
        case 'max':
          r = v.max(x, y);
          break;
        case 'relu':
          r = v.max(x, K(0));
          break;
        case 'where':
          r = v.select(nz(x), y, z);
          break;
        case 'lt':
        case 'le':
        case 'gt':
        case 'ge':
        case 'eq':
        case 'ne':
          r = bool(v.cmp(n.op as 'lt', x, y));
          break;
        case 'and':
          r = bool(v.and(nz(x), nz(y)));
          break;
        case 'or':
          r = bool(v.or(nz(x), nz(y)));
          break;
        case 'not':
          r = bool(v.cmp('eq', x, K(0)));
          break;
        case 'tanh':
          r = v.tanh(x);
          break;
        case 'sigmoid':
        case 'softplus':
        case 'logSigmoid': {
          // Of a and of −a: one exp(−|a|) and one log1p of it, as the JavaScript generator shares them.
          const arg = n.args[0]!;
          const negated = arg.op === 'neg';
          const base = negated ? value.get(arg.args[0]!)! : x;
          if (n.op === 'sigmoid') {
            const nonNeg = negated ? v.cmp('le', base, K(0)) : v.cmp('ge', base, K(0));
            r = v.div(v.select(nonNeg, K(1), e(base)), v.add(e(base), K(1)));
          } else if (n.op === 'softplus') r = v.add(v.max(x, K(0)), l1p(base));
          else r = v.sub(v.min(x, K(0)), l1p(base));
          break;
        }
        case 'detach':
          value.set(n, x);
          continue;
        default:
          throw new Error(`wasm generator: unsupported primitive ${n.op}`);
      }
      value.set(n, r);
    }
    spec.outputs.forEach((out, j) => {
      const val = value.get(out)!;
      if (spec.store[j]) {
        b.get(o);
        v.push(val);
        if (f32) {
          b.simd(SIMD.f32x4DemoteF64x2Zero);
          b.simd(SIMD.store64Lane, ...Body.memarg(3, layout.outputs[j]!), 0);
        } else b.simd(SIMD.store, ...Body.memarg(3, layout.outputs[j]!));
      }
      if (spec.sum[j]) {
        b.get(acc[j]!);
        v.push(val);
        if (masked)
          b.simd(SIMD.const, ...new Array<number>(8).fill(0xff), ...new Array<number>(8).fill(0)).simd(
            SIMD.and,
          );
        b.simd(SIMD.f64x2Add).set(acc[j]!);
      }
    });
  };

  // end = (len >> 1) · 2 · es bytes
  b.get(LEN)
    .i32(1)
    .op(OP.i32ShrU)
    .i32(f32 ? 3 : 4)
    .op(OP.i32Shl)
    .set(end);
  b.i32(0).set(o);
  b.op(...BLOCK, ...LOOP);
  b.get(o).get(end).op(OP.i32GeU, OP.brIf, 1);
  emitBody(false);
  b.get(o)
    .i32(2 * es)
    .op(OP.i32Add)
    .set(o);
  b.op(OP.br, 0, OP.end, OP.end);
  b.get(LEN)
    .i32(1)
    .op(OP.i32And, ...IF);
  emitBody(true);
  b.op(OP.end);
  spec.sum.forEach((summed, j) => {
    if (!summed) return;
    const at = Body.memarg(3, layout.sums + 8 * j);
    b.i32(0);
    b.i32(0).op(OP.f64Load, ...at);
    b.get(acc[j]!).simd(SIMD.f64x2ExtractLane, 0).op(OP.f64Add);
    b.get(acc[j]!).simd(SIMD.f64x2ExtractLane, 1).op(OP.f64Add);
    b.op(OP.f64Store, ...at);
  });
  b.code.unshift(...v.prologue());
  return moduleBytes([{ name: 'run', params: 1, body: b }]);
}
