/**
 * The WebAssembly SIMD forward kernel of matmul: C (+)= op(A) · op(B) for one matrix pair, where op reads a
 * stored matrix as is or transposed.
 *
 * JavaScript packs both operands into the module's linear memory — A into panels of MR rows, B into panels
 * of NR columns, each panel k-major and zero-padded, one cache block at a time (NC columns of B, MC rows of
 * A, so memory stays bounded by K) — and one exported function runs an MR×NR register-blocked micro-kernel
 * of 128-bit SIMD multiply-adds (4×8 with f32x4 lanes, 4×4 with f64x2 lanes) over every panel pair of a
 * KC-deep slice, into a padded block of C that is copied out once the block is complete.
 * Float32 products accumulate in float32 (as in BLAS, PyTorch and TensorFlow.js); anything involving a
 * float64 operand runs in float64.
 *
 * The module (a few hundred bytes) is emitted here, byte by byte, and compiled synchronously once. Where
 * WebAssembly or its SIMD extension is unavailable (or compilation is refused, e.g. by a Content Security
 * Policy without 'wasm-unsafe-eval'), {@link createWasmGemm} returns null and matmul uses its JavaScript
 * kernel.
 */
import { wasmEmit } from '@gradkit/kernels';
import type { Storage } from './dtype.js';

const { Body, I32, moduleBytes, OP, SIMD, sleb, uleb, V128 } = wasmEmit;
/** The empty block type (an `if` without results). */
const VOID = 0x40;

/** One matrix operand of a product: a row-major matrix at `data[off …]`, read transposed when `t` is set. */
export interface GemmOperand {
  data: Storage;
  off: number;
  t: boolean;
}

/**
 * C[cOff …] (+)= op(A) · op(B) for an M×K by K×N pair (C row-major M×N; `beta` adds into C). Returns false
 * (having done nothing) when the operands do not fit in WebAssembly memory.
 */
export type WasmGemm = (
  M: number,
  N: number,
  K: number,
  a: GemmOperand,
  b: GemmOperand,
  C: Storage,
  cOff: number,
  beta: boolean,
) => boolean;

/** Register block rows. */
const MR = 4;
/** B vectors (of 16 bytes) per register block row. */
const NV = 2;
const KC = 256;
const MC = 96; // a multiple of MR
const NC = 512; // a multiple of NR for both precisions

/**
 * The module: imports memory `m.mem`, exports
 * `block(aPtr, bPtr, cPtr, mPanels, nPanels, kc, aStride, bStride, ldc, accumulate)`, which runs the
 * micro-kernel for every (B panel, A panel) pair of one cache block (all addresses in bytes; kc >= 1).
 */
function kernelModule(f64: boolean): Uint8Array<ArrayBuffer> {
  const es = f64 ? 8 : 4;
  const nr = NV * (16 / es);
  const add = f64 ? SIMD.f64x2Add : SIMD.f32x4Add;
  const mul = f64 ? SIMD.f64x2Mul : SIMD.f32x4Mul;
  const splat = f64 ? SIMD.load64Splat : SIMD.load32Splat;
  const P = {
    aPtr: 0,
    bPtr: 1,
    cPtr: 2,
    mPanels: 3,
    nPanels: 4,
    kc: 5,
    aStride: 6,
    bStride: 7,
    ldc: 8,
    acc: 9,
  };
  const nParams = 10;
  let next = nParams;
  const L = { jp: next++, ip: next++, k: next++, pa: next++, pb: next++, pc: next++, b0: next++ };
  const i32Locals = next - nParams;
  const firstVector = next;
  const acc = Array.from({ length: MR * NV }, () => next++);
  const bv = Array.from({ length: NV }, () => next++);
  const av = next++;
  const vectorLocals = next - firstVector;

  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...uleb(l));
  const set = (l: number) => c.push(OP.localSet, ...uleb(l));
  const i32 = (v: number) => c.push(OP.i32Const, ...sleb(v));
  const simd = (code: number, ...imm: number[]) => c.push(0xfd, ...uleb(code), ...imm);
  const memarg = (alignLog2: number, offset: number) => [...uleb(alignLog2), ...uleb(offset)];
  const incr = (l: number, by: number) => {
    get(l);
    i32(by);
    c.push(OP.i32Add);
    set(l);
  };
  /** `for (; l < limit; l++) { body }` as block/loop. */
  const countedLoop = (l: number, limit: number, body: () => void) => {
    i32(0);
    set(l);
    c.push(OP.block, VOID, OP.loop, VOID);
    get(l);
    get(limit);
    c.push(OP.i32LtS, OP.i32Eqz, OP.brIf, 1);
    body();
    incr(l, 1);
    c.push(OP.br, 0, OP.end, OP.end);
  };

  countedLoop(L.jp, P.nPanels, () => {
    get(P.bPtr);
    get(L.jp);
    get(P.bStride);
    c.push(OP.i32Mul, OP.i32Add);
    set(L.b0);
    countedLoop(L.ip, P.mPanels, () => {
      get(P.aPtr);
      get(L.ip);
      get(P.aStride);
      c.push(OP.i32Mul, OP.i32Add);
      set(L.pa);
      get(L.b0);
      set(L.pb);
      // pc = cPtr + ip·MR·ldc + jp·NR·es
      get(P.cPtr);
      get(L.ip);
      i32(MR);
      c.push(OP.i32Mul);
      get(P.ldc);
      c.push(OP.i32Mul, OP.i32Add);
      get(L.jp);
      i32(nr * es);
      c.push(OP.i32Mul, OP.i32Add);
      set(L.pc);
      for (const l of acc) {
        simd(SIMD.const, ...new Array<number>(16).fill(0));
        set(l);
      }
      get(P.kc);
      set(L.k);
      // do { …; k-- } while (k != 0)
      c.push(OP.loop, VOID);
      for (let j = 0; j < NV; j++) {
        get(L.pb);
        simd(SIMD.load, ...memarg(4, 16 * j));
        set(bv[j]!);
      }
      for (let i = 0; i < MR; i++) {
        get(L.pa);
        simd(splat, ...memarg(f64 ? 3 : 2, es * i));
        set(av);
        for (let j = 0; j < NV; j++) {
          get(acc[i * NV + j]!);
          get(av);
          get(bv[j]!);
          simd(mul);
          simd(add);
          set(acc[i * NV + j]!);
        }
      }
      incr(L.pa, MR * es);
      incr(L.pb, nr * es);
      get(L.k);
      i32(1);
      c.push(OP.i32Sub);
      set(L.k);
      get(L.k);
      c.push(OP.brIf, 0, OP.end);
      // Store the tile: C = acc, or C += acc.
      const store = (accumulate: boolean) => {
        for (let i = 0; i < MR; i++) {
          for (let j = 0; j < NV; j++) {
            get(L.pc);
            if (accumulate) {
              get(L.pc);
              simd(SIMD.load, ...memarg(4, 16 * j));
              get(acc[i * NV + j]!);
              simd(add);
            } else {
              get(acc[i * NV + j]!);
            }
            simd(SIMD.store, ...memarg(4, 16 * j));
          }
          get(L.pc);
          get(P.ldc);
          c.push(OP.i32Add);
          set(L.pc);
        }
      };
      get(P.acc);
      c.push(OP.if, VOID);
      store(true);
      c.push(OP.else);
      store(false);
      c.push(OP.end);
    });
  });
  c.push(OP.end);

  // The locals in the order their indices were given above: the i32 ones, then the vectors.
  const body = new Body(nParams);
  for (let i = 0; i < i32Locals; i++) body.local(I32);
  for (let i = 0; i < vectorLocals; i++) body.local(V128);
  // `c` ends with the function's own `end`, which Body.encode adds.
  body.op(...c.slice(0, -1));
  return moduleBytes([{ name: 'block', params: nParams, body }]);
}

// ---------------------------------------------------------------------------------------------------------
// The driver: packing, blocking, copy-out.
// ---------------------------------------------------------------------------------------------------------

type BlockFn = (
  aPtr: number,
  bPtr: number,
  cPtr: number,
  mPanels: number,
  nPanels: number,
  kc: number,
  aStride: number,
  bStride: number,
  ldc: number,
  accumulate: number,
) => void;

/** Largest linear memory the driver asks for (addresses must stay below 2^31). */
const MAX_BYTES = 2 ** 31 - 2 ** 16;

/**
 * Packs rows i0 … i0+mc−1 of op(A) (M×K) into MR-row panels at `w[base …]`, each panel k-major (K × MR);
 * rows beyond M are zero.
 */
function packA(w: Storage, base: number, a: GemmOperand, M: number, K: number, i0: number, mc: number): void {
  const A = a.data;
  const panel = K * MR;
  if (!a.t) {
    for (let r = 0; r < mc; r++) {
      const i = i0 + r;
      const d0 = base + ((r / MR) | 0) * panel + (r % MR);
      if (i < M) {
        const src = a.off + i * K;
        for (let k = 0, d = d0; k < K; k++, d += MR) w[d] = A[src + k]!;
      } else {
        for (let k = 0, d = d0; k < K; k++, d += MR) w[d] = 0;
      }
    }
  } else {
    // Stored K×M: row k of the storage is column k of op(A).
    for (let p = 0; p < mc; p += MR) {
      const h = Math.min(MR, M - i0 - p);
      const d0 = base + (p / MR) * panel;
      for (let k = 0, d = d0, src = a.off + i0 + p; k < K; k++, d += MR, src += M) {
        for (let r = 0; r < MR; r++) w[d + r] = r < h ? A[src + r]! : 0;
      }
    }
  }
}

/**
 * Packs columns j0 … j0+nc−1 of op(B) (K×N) into nr-column panels at `w[base …]`, each panel k-major
 * (K × nr); columns beyond N are zero.
 */
function packB(
  w: Storage,
  base: number,
  b: GemmOperand,
  K: number,
  N: number,
  j0: number,
  nc: number,
  nr: number,
): void {
  const B = b.data;
  const panel = K * nr;
  if (!b.t) {
    for (let p = 0; p < nc; p += nr) {
      const wd = Math.min(nr, N - j0 - p);
      const d0 = base + (p / nr) * panel;
      for (let k = 0, d = d0, src = b.off + j0 + p; k < K; k++, d += nr, src += N) {
        for (let c = 0; c < nr; c++) w[d + c] = c < wd ? B[src + c]! : 0;
      }
    }
  } else {
    // Stored N×K: row j of the storage is column j of op(B).
    for (let c = 0; c < nc; c++) {
      const j = j0 + c;
      const d0 = base + ((c / nr) | 0) * panel + (c % nr);
      if (j < N) {
        const src = b.off + j * K;
        for (let k = 0, d = d0; k < K; k++, d += nr) w[d] = B[src + k]!;
      } else {
        for (let k = 0, d = d0; k < K; k++, d += nr) w[d] = 0;
      }
    }
  }
}

/**
 * Compiles the kernel (float32 and float64 variants over one shared memory) and returns the product
 * function, or null where WebAssembly SIMD cannot be used.
 */
export function createWasmGemm(): WasmGemm | null {
  if (typeof WebAssembly !== 'object') return null;
  let memory: WebAssembly.Memory;
  let block32: BlockFn;
  let block64: BlockFn;
  let view32: Float32Array;
  let view64: Float64Array;
  try {
    memory = new WebAssembly.Memory({ initial: 1 });
    view32 = new Float32Array(memory.buffer);
    view64 = new Float64Array(memory.buffer);
    const instance = (f64: boolean) =>
      new WebAssembly.Instance(new WebAssembly.Module(kernelModule(f64)), { m: { mem: memory } }).exports
        .block as BlockFn;
    block32 = instance(false);
    block64 = instance(true);
    // Self-test once: [1 2; 3 4]·[5 6; 7 8] padded to one block.
    const probe = new Float64Array(4);
    const ok = (f64: boolean) => {
      const data = f64 ? new Float64Array([1, 2, 3, 4]) : new Float32Array([1, 2, 3, 4]);
      const other = f64 ? new Float64Array([5, 6, 7, 8]) : new Float32Array([5, 6, 7, 8]);
      gemm(2, 2, 2, { data, off: 0, t: false }, { data: other, off: 0, t: false }, probe, 0, false, f64);
      return probe[0] === 19 && probe[1] === 22 && probe[2] === 43 && probe[3] === 50;
    };
    if (!ok(false) || !ok(true)) return null;
  } catch {
    return null;
  }

  function reserve(bytes: number): boolean {
    const have = memory.buffer.byteLength;
    if (bytes <= have) return true;
    if (bytes > MAX_BYTES) return false;
    try {
      memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return false;
    }
    view32 = new Float32Array(memory.buffer);
    view64 = new Float64Array(memory.buffer);
    return true;
  }

  function gemm(
    M: number,
    N: number,
    K: number,
    a: GemmOperand,
    b: GemmOperand,
    C: Storage,
    cOff: number,
    beta: boolean,
    f64: boolean,
  ): boolean {
    const es = f64 ? 8 : 4;
    const nr = NV * (16 / es);
    const Mp = Math.ceil(M / MR) * MR;
    const Np = Math.ceil(N / nr) * nr;
    // Memory holds one column block of B (K × NC), one row block of A (MC × K) and one block of C (MC × NC),
    // so it stays bounded by K whatever M and N are.
    const ncMax = Math.min(NC, Np);
    const mcMax = Math.min(MC, Mp);
    const bLen = K * ncMax;
    const aLen = mcMax * K;
    const cLen = mcMax * ncMax;
    if (!reserve((aLen + bLen + cLen) * es)) return false;
    const w = f64 ? view64 : view32;
    const block = f64 ? block64 : block32;
    const bBase = 0;
    const aBase = bLen;
    const cBase = bLen + aLen;
    const ldc = ncMax * es;
    for (let jc = 0; jc < Np; jc += NC) {
      const nc = Math.min(NC, Np - jc);
      const ncReal = Math.min(nc, N - jc);
      packB(w, bBase, b, K, N, jc, nc, nr);
      for (let ic = 0; ic < Mp; ic += MC) {
        const mc = Math.min(MC, Mp - ic);
        const mcReal = Math.min(mc, M - ic);
        packA(w, aBase, a, M, K, ic, mc);
        if (beta) {
          for (let r = 0; r < mcReal; r++) {
            const src = cOff + (ic + r) * N + jc;
            w.set(C.subarray(src, src + ncReal), cBase + r * ncMax);
          }
        }
        for (let pc = 0; pc < K; pc += KC) {
          block(
            (aBase + pc * MR) * es,
            (bBase + pc * nr) * es,
            cBase * es,
            mc / MR,
            nc / nr,
            Math.min(KC, K - pc),
            K * MR * es,
            K * nr * es,
            ldc,
            beta || pc > 0 ? 1 : 0,
          );
        }
        for (let r = 0; r < mcReal; r++) {
          const src = cBase + r * ncMax;
          C.set(w.subarray(src, src + ncReal), cOff + (ic + r) * N + jc);
        }
      }
    }
    return true;
  }

  return (M, N, K, a, b, C, cOff, beta) => {
    if (M === 0 || N === 0 || K === 0) return false;
    const f64 = a.data instanceof Float64Array || b.data instanceof Float64Array || C instanceof Float64Array;
    return gemm(M, N, K, a, b, C, cOff, beta, f64);
  };
}
