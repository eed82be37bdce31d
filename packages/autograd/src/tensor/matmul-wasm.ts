/**
 * The WebAssembly SIMD forward kernel of matmul: C (+)= op(A) · op(B) for one matrix pair, where op reads a
 * stored matrix as is or transposed.
 *
 * JavaScript copies both operands into the module's linear memory in bulk (TypedArray.set, a memcpy; only
 * op(B) = Bᵀ is transposed on the way, and a row stride that would thrash the L1 cache sets gets one cache
 * line of padding), and exported functions run a 4×8 (float32, f32x4 lanes) or 4×4 (float64, f64x2 lanes)
 * register-blocked micro-kernel of 128-bit SIMD multiply-adds over every tile of a cache block (KC deep, MC
 * rows, NC columns), reading A and B in place — no packing: op(A) = A and op(A) = Aᵀ are both strided reads
 * of the stored matrix — into a padded C that is copied out once at the end.
 * Float32 products accumulate in float32 (as in BLAS, PyTorch and TensorFlow.js); anything involving a
 * float64 operand runs in float64.
 *
 * Where every array already lives in the kernels' memory arena (tensor storage, `@gradkit/kernels`) and the
 * float32 shapes need no padding (m a multiple of 4, n of 8, op(B) = B), a second instance of the float32
 * kernel, on the arena's shared memory, reads A and B and writes C in place: no copy in or out (the MLP
 * step's 64×784·784×256 and its weight gradient 784×64·64×256 run this way).
 *
 * The module (a few hundred bytes) is emitted here, byte by byte, and compiled synchronously once. Where
 * WebAssembly or its SIMD extension is unavailable (or compilation is refused, e.g. by a Content Security
 * Policy without 'wasm-unsafe-eval'), {@link createWasmGemm} returns null and matmul uses its JavaScript
 * kernel.
 */
import { wasmArena, wasmEmit } from '@gradkit/kernels';
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

/** Register block rows, per precision. */
const MR32 = 4;
const MR64 = 4;
/** B vectors (of 16 bytes) per register block row. */
const NV = 2;
const KC = 256;
/** Rows of A per cache block (a multiple of both MRs). */
const MC = 96;
const NC = 512; // a multiple of NR for both precisions

/** Parameter indices of the exported `block` function. */
const P = {
  aPtr: 0,
  aRs: 1,
  aKs: 2,
  bPtr: 3,
  bKs: 4,
  cPtr: 5,
  ldc: 6,
  mTiles: 7,
  nTiles: 8,
  kc: 9,
  acc: 10,
} as const;
const N_PARAMS = 11;

/**
 * One exported function `(aPtr, aRs, aKs, bPtr, bKs, cPtr, ldc, mTiles, nTiles, kc, accumulate)`, which runs
 * the mr×nr micro-kernel over every (B column panel, A row panel) pair of one cache block: element (i, k)
 * of A is at `aPtr + i·aRs + k·aKs`, the nr columns of B's row k at `bPtr + k·bKs` (contiguous), and the C
 * tiles are stored (or added, when `accumulate` is set) at `cPtr` with row stride `ldc` (all in bytes;
 * kc >= 1). Reading A and B in place (strided, no packing) serves op(A) = A and op(A) = Aᵀ alike: the
 * `rows` variant is for A's k at unit stride (aKs = es: a pointer per row), the `cols` variant for A's
 * rows at unit stride (aRs = es: one pointer, the rows at constant offsets). (Unrolling the k loop by two
 * measured slower in V8.)
 */
function kernelBody(f64: boolean, mr: number, rows: boolean): InstanceType<typeof Body> {
  const es = f64 ? 8 : 4;
  const nr = NV * (16 / es);
  const add = f64 ? SIMD.f64x2Add : SIMD.f32x4Add;
  const mul = f64 ? SIMD.f64x2Mul : SIMD.f32x4Mul;
  const splat = f64 ? SIMD.load64Splat : SIMD.load32Splat;
  const alignLog2 = f64 ? 3 : 2;
  let next = N_PARAMS;
  const L = {
    jp: next++,
    ip: next++,
    k: next++,
    pb: next++,
    pc: next++,
    b0: next++,
  };
  // rows: one pointer per A row; otherwise pa[0] only.
  const pa = Array.from({ length: rows ? mr : 1 }, () => next++);
  const i32Locals = next - N_PARAMS;
  const firstVector = next;
  const acc = Array.from({ length: mr * NV }, () => next++);
  const bv = Array.from({ length: NV }, () => next++);
  const av = next++;
  const vectorLocals = next - firstVector;

  const c: number[] = [];
  const get = (l: number) => c.push(OP.localGet, ...uleb(l));
  const set = (l: number) => c.push(OP.localSet, ...uleb(l));
  const i32 = (v: number) => c.push(OP.i32Const, ...sleb(v));
  const simd = (code: number, ...imm: number[]) => c.push(0xfd, ...uleb(code), ...imm);
  const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];
  /** dst = a + b (locals) */
  const sum = (dst: number, a: number, b: number) => {
    get(a);
    get(b);
    c.push(OP.i32Add);
    set(dst);
  };
  /** dst = a + v (a local plus a constant) */
  const sumConst = (dst: number, a: number, v: number) => {
    get(a);
    i32(v);
    c.push(OP.i32Add);
    set(dst);
  };
  /** `for (l = 0; l < limit; l++) { body }` as block/loop. */
  const countedLoop = (l: number, limit: number, body: () => void) => {
    i32(0);
    set(l);
    c.push(OP.block, VOID, OP.loop, VOID);
    get(l);
    get(limit);
    c.push(OP.i32LtS, OP.i32Eqz, OP.brIf, 1);
    body();
    sumConst(l, l, 1);
    c.push(OP.br, 0, OP.end, OP.end);
  };
  /** One k step: B's row at `pb` times A's column (at pa[i], or pa[0] + i·es), into the tile. */
  const kStep = (pb: number) => {
    for (let j = 0; j < NV; j++) {
      get(pb);
      simd(SIMD.load, ...memarg(4, 16 * j));
      set(bv[j]!);
    }
    for (let i = 0; i < mr; i++) {
      get(pa[rows ? i : 0]!);
      simd(splat, ...memarg(alignLog2, rows ? 0 : i * es));
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
  };

  countedLoop(L.jp, P.nTiles, () => {
    // b0 = bPtr + jp·nr·es
    get(P.bPtr);
    get(L.jp);
    i32(nr * es);
    c.push(OP.i32Mul, OP.i32Add);
    set(L.b0);
    countedLoop(L.ip, P.mTiles, () => {
      // pa[0] = aPtr + ip·mr·aRs; pa[i] = pa[i-1] + aRs
      get(P.aPtr);
      get(L.ip);
      i32(mr);
      c.push(OP.i32Mul);
      get(P.aRs);
      c.push(OP.i32Mul, OP.i32Add);
      set(pa[0]!);
      for (let i = 1; i < pa.length; i++) sum(pa[i]!, pa[i - 1]!, P.aRs);
      get(L.b0);
      set(L.pb);
      // pc = cPtr + ip·mr·ldc + jp·nr·es
      get(P.cPtr);
      get(L.ip);
      i32(mr);
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
      // do { one k step } while (--k != 0)
      get(P.kc);
      set(L.k);
      c.push(OP.loop, VOID);
      kStep(L.pb);
      sum(L.pb, L.pb, P.bKs);
      if (rows) for (const p of pa) sumConst(p, p, es);
      else sum(pa[0]!, pa[0]!, P.aKs);
      get(L.k);
      i32(1);
      c.push(OP.i32Sub);
      set(L.k);
      get(L.k);
      c.push(OP.brIf, 0, OP.end);
      // Store the tile: C = acc, or C += acc.
      const store = (accumulate: boolean) => {
        for (let i = 0; i < mr; i++) {
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
          sum(L.pc, L.pc, P.ldc);
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

  // The locals in the order their indices were given above: the i32 ones, then the vectors.
  const body = new Body(N_PARAMS);
  for (let i = 0; i < i32Locals; i++) body.local(I32);
  for (let i = 0; i < vectorLocals; i++) body.local(V128);
  body.op(...c);
  return body;
}

/**
 * The module of one precision: exports `rows` and `cols`, the two variants of {@link kernelBody}, importing
 * a memory of type `memory` (by default the driver's own, non-shared).
 */
function kernelModule(f64: boolean, mr: number, memory?: wasmEmit.MemoryImport): Uint8Array<ArrayBuffer> {
  return moduleBytes(
    [
      { name: 'rows', params: N_PARAMS, body: kernelBody(f64, mr, true) },
      { name: 'cols', params: N_PARAMS, body: kernelBody(f64, mr, false) },
    ],
    memory,
  );
}

// ---------------------------------------------------------------------------------------------------------
// The driver: operands copied into WebAssembly memory, blocking, copy-out.
// ---------------------------------------------------------------------------------------------------------

type BlockFn = (
  aPtr: number,
  aRs: number,
  aKs: number,
  bPtr: number,
  bKs: number,
  cPtr: number,
  ldc: number,
  mTiles: number,
  nTiles: number,
  kc: number,
  accumulate: number,
) => void;

/** Where one product's operands are, in bytes of WebAssembly memory (see {@link runBlocks}). */
interface Layout {
  /** Byte address of op(A)[0, 0], and the byte steps between its rows and along k. */
  aBase: number;
  aRs: number;
  aKs: number;
  /** Byte address of B's row 0 (op(B) = B, row-major) and its row stride. */
  bBase: number;
  bKs: number;
  /** Byte address of C[0, 0] and its row stride. */
  cBase: number;
  ldc: number;
  /** Rows and columns the kernel computes (multiples of mr and nr), and the depth. */
  M: number;
  N: number;
  K: number;
  mr: number;
  nr: number;
  es: number;
  /** Whether C is added to (beta) rather than overwritten. */
  beta: boolean;
}

/**
 * Runs `block` over every cache block of a product: columns in NC-wide blocks, K in equal blocks of at most KC
 * (784 = 4 × 196, not 3 × 256 + 16: a short last block costs a load and a store of every C tile for a few k
 * steps), rows in MC-high blocks; every K block after the first (or all, with beta) accumulates into C.
 */
function runBlocks(block: BlockFn, p: Layout): void {
  const kcMax = Math.ceil(p.K / Math.ceil(p.K / KC));
  for (let jc = 0; jc < p.N; jc += NC) {
    const nc = Math.min(NC, p.N - jc);
    for (let pc = 0; pc < p.K; pc += kcMax) {
      for (let ic = 0; ic < p.M; ic += MC) {
        block(
          p.aBase + ic * p.aRs + pc * p.aKs,
          p.aRs,
          p.aKs,
          p.bBase + jc * p.es + pc * p.bKs,
          p.bKs,
          p.cBase + jc * p.es + ic * p.ldc,
          p.ldc,
          Math.min(MC, p.M - ic) / p.mr,
          nc / p.nr,
          Math.min(kcMax, p.K - pc),
          p.beta || pc > 0 ? 1 : 0,
        );
      }
    }
  }
}

/** Largest linear memory the driver asks for (addresses must stay below 2^31). */
const MAX_BYTES = 2 ** 31 - 2 ** 16;
/**
 * The shared memory keeps what it grew to; a product needing more than this many bytes runs in a memory of
 * its own, dropped after the call, so one huge product does not pin its size for the life of the process.
 */
const KEEP_BYTES = 64 * 2 ** 20;

/** One instantiated kernel pair over one memory, with views of it. */
interface Arena {
  memory: WebAssembly.Memory;
  /** The float32 kernels: [rows, cols]. */
  f32: [BlockFn, BlockFn];
  /** The float64 kernels: [rows, cols]. */
  f64: [BlockFn, BlockFn];
  view32: Float32Array;
  view64: Float64Array;
}

/**
 * The row stride (in elements) in WebAssembly memory of a matrix with rows of `cols` elements whose columns
 * the kernel walks `walked` rows deep: `cols`, or one cache line more where that stride maps so many rows
 * to the same cache sets (a multiple of a large power of two bytes) that a walk would not stay in a
 * 32 KiB 8-way L1 cache. Padding costs a copy per row, so only such strides get it.
 */
function strideFor(cols: number, es: number, walked: number): number {
  const bytes = cols * es;
  if (bytes % 64 !== 0) return cols;
  let lines = bytes / 64;
  let sets = 64;
  while (sets > 1 && lines % 2 === 0) {
    lines /= 2;
    sets /= 2;
  }
  return 8 * sets * 2 >= walked ? cols : cols + 64 / es;
}

/** Copies a rows×cols row-major matrix at src[off …] to w[base …] at row stride ld. */
function copyRows(
  w: Storage,
  base: number,
  ld: number,
  src: Storage,
  off: number,
  rows: number,
  cols: number,
): void {
  if (ld === cols) w.set(src.subarray(off, off + rows * cols), base);
  else
    for (let r = 0; r < rows; r++) w.set(src.subarray(off + r * cols, off + (r + 1) * cols), base + r * ld);
}

/** Writes op(B) for B stored N×K, i.e. its transpose, row-major (row stride ld) into w[base …]. */
function transposeInto(
  w: Storage,
  base: number,
  ld: number,
  B: Storage,
  off: number,
  K: number,
  N: number,
): void {
  // Strips of 4 columns keep both the reads and the writes within a few cache lines.
  for (let j0 = 0; j0 < N; j0 += 4) {
    const jn = Math.min(4, N - j0);
    for (let k = 0; k < K; k++) {
      const d = base + k * ld + j0;
      const s = off + j0 * K + k;
      for (let j = 0; j < jn; j++) w[d + j] = B[s + j * K]!;
    }
  }
}

/**
 * Compiles the kernel (float32 and float64 variants over one shared memory) and returns the product
 * function, or null where WebAssembly SIMD cannot be used.
 */
export function createWasmGemm(): WasmGemm | null {
  if (typeof WebAssembly !== 'object') return null;
  let shared: Arena;
  let modules: [WebAssembly.Module, WebAssembly.Module];
  const instantiate = (memory: WebAssembly.Memory): Arena => {
    const instance = (m: WebAssembly.Module): [BlockFn, BlockFn] => {
      const e = new WebAssembly.Instance(m, { m: { mem: memory } }).exports;
      return [e.rows as BlockFn, e.cols as BlockFn];
    };
    return {
      memory,
      f32: instance(modules[0]),
      f64: instance(modules[1]),
      view32: new Float32Array(memory.buffer),
      view64: new Float64Array(memory.buffer),
    };
  };
  try {
    modules = [
      new WebAssembly.Module(kernelModule(false, MR32)),
      new WebAssembly.Module(kernelModule(true, MR64)),
    ];
    shared = instantiate(new WebAssembly.Memory({ initial: 1 }));
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

  /**
   * The float32 kernels instantiated on the kernels' shared memory arena (where tensors' storage lives),
   * compiled on first use; null where the arena is not shared memory or compilation fails.
   */
  let onArena: [BlockFn, BlockFn] | null | undefined;
  function arenaKernels(): [BlockFn, BlockFn] | null {
    if (onArena !== undefined) return onArena;
    onArena = null;
    const memory = wasmArena.wasmMemory();
    if (memory === null || !wasmArena.memoryShared()) return null;
    try {
      const m = new WebAssembly.Module(kernelModule(false, MR32, wasmArena.memoryImport()));
      const e = new WebAssembly.Instance(m, { m: { mem: memory } }).exports;
      onArena = [e.rows as BlockFn, e.cols as BlockFn];
    } catch {
      onArena = null;
    }
    return onArena;
  }

  /**
   * The float32 product read and written in place, where every array lives in the kernels' arena and the
   * shapes need no padding (M a multiple of the register block's rows, N of its columns, op(B) = B): no copy
   * in, no copy out. False (nothing done) otherwise.
   */
  const gemmInPlace: WasmGemm = (M, N, K, a, b, C, cOff, beta) => {
    const es = 4;
    const nr = NV * 4;
    if (b.t || M % MR32 !== 0 || N % nr !== 0) return false;
    const aAt = wasmArena.arenaAddress(a.data);
    const bAt = wasmArena.arenaAddress(b.data);
    const cAt = wasmArena.arenaAddress(C);
    if (aAt < 0 || bAt < 0 || cAt < 0) return false;
    const kernels = arenaKernels();
    if (kernels === null) return false;
    const lda = a.t ? M : K;
    runBlocks(kernels[a.t ? 1 : 0], {
      aBase: aAt + a.off * es,
      aRs: (a.t ? 1 : lda) * es,
      aKs: (a.t ? lda : 1) * es,
      bBase: bAt + b.off * es,
      bKs: N * es,
      cBase: cAt + cOff * es,
      ldc: N * es,
      M,
      N,
      K,
      mr: MR32,
      nr,
      es,
      beta,
    });
    return true;
  };

  /** An arena with at least `bytes` of memory: the shared one (grown), or a fresh one for huge products. */
  function arenaFor(bytes: number): Arena | null {
    if (bytes > MAX_BYTES) return null;
    const have = shared.memory.buffer.byteLength;
    if (bytes <= have) return shared;
    const pages = Math.ceil((bytes - have) / 65536);
    try {
      if (bytes > KEEP_BYTES)
        return instantiate(new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) }));
      shared.memory.grow(pages);
    } catch {
      return null;
    }
    shared.view32 = new Float32Array(shared.memory.buffer);
    shared.view64 = new Float64Array(shared.memory.buffer);
    return shared;
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
    const mr = f64 ? MR64 : MR32;
    const nr = NV * (16 / es);
    const Mp = Math.ceil(M / mr) * mr;
    const Np = Math.ceil(N / nr) * nr;
    // Memory (in elements): A as stored (rows of length aCols, each at stride lda), then the rows (or
    // columns) its padding to Mp reads, zeroed; B as a row-major K×N matrix at row stride ldb and the columns
    // its padding to Np reads past the end; the padded Mp×Np C.
    const aRows = a.t ? K : M;
    const aCols = a.t ? M : K;
    const walked = Math.min(K, KC);
    const lda = a.t ? strideFor(aCols, es, walked) : aCols;
    const ldb = strideFor(N, es, walked);
    const aLen = aRows * lda;
    const aPad = (Mp - M) * (a.t ? 1 : lda);
    const bBase = aLen + aPad;
    const bLen = K * ldb + (Np - N);
    const cBase = bBase + bLen + ((-(bBase + bLen) & 3) as number);
    const arena = arenaFor((cBase + Mp * Np) * es);
    if (arena === null) return false;
    const w = f64 ? arena.view64 : arena.view32;
    const block = (f64 ? arena.f64 : arena.f32)[a.t ? 1 : 0];
    copyRows(w, 0, lda, a.data, a.off, aRows, aCols);
    if (aPad > 0) w.fill(0, aLen, bBase);
    if (b.t) transposeInto(w, bBase, ldb, b.data, b.off, K, N);
    else copyRows(w, bBase, ldb, b.data, b.off, K, N);
    if (Np > N) w.fill(0, bBase + K * ldb, bBase + bLen);
    const ldc = Np * es;
    if (beta) {
      if (Np === N) w.set(C.subarray(cOff, cOff + M * N), cBase);
      else for (let r = 0; r < M; r++) w.set(C.subarray(cOff + r * N, cOff + (r + 1) * N), cBase + r * Np);
    }
    runBlocks(block, {
      aBase: 0,
      aRs: (a.t ? 1 : lda) * es,
      aKs: (a.t ? lda : 1) * es,
      bBase: bBase * es,
      bKs: ldb * es,
      cBase: cBase * es,
      ldc,
      M: Mp,
      N: Np,
      K,
      mr,
      nr,
      es,
      beta,
    });
    if (Np === N) C.set(w.subarray(cBase, cBase + M * N), cOff);
    else for (let r = 0; r < M; r++) C.set(w.subarray(cBase + r * Np, cBase + r * Np + N), cOff + r * N);
    return true;
  }

  return (M, N, K, a, b, C, cOff, beta) => {
    if (M === 0 || N === 0 || K === 0) return false;
    const f64 = a.data instanceof Float64Array || b.data instanceof Float64Array || C instanceof Float64Array;
    if (!f64 && gemmInPlace(M, N, K, a, b, C, cOff, beta)) return true;
    return gemm(M, N, K, a, b, C, cOff, beta, f64);
  };
}
