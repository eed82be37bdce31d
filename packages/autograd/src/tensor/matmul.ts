import { ArgumentError, ShapeError, StateError } from '@gradkit/kernels';
import { toDtype } from './cast.js';
import { linearDevice, mmDevice } from './device-matmul.js';
import { anyOnDevice, deviceRuntime } from './device-ops.js';
import { allocateOutput, type DType, promoteTypes, type Storage } from './dtype.js';
import { createWasmGemm, type GemmOperand } from './matmul-wasm.js';
import type { Grads } from './node.js';
import { sumTo } from './reduce-sum.js';
import { broadcastStrides, checkSize, fmt, type Shape, show, sizeOf } from './shape.js';
import { checkTensor, record1, type Tensor } from './tensor.js';
import { reshape } from './view.js';

// ---------------------------------------------------------------------------------------------------------
// Forward kernel: C (+)= op(A) · op(B) on one matrix pair, op = identity or transpose.
//
// Large products run on the WebAssembly SIMD kernel of matmul-wasm.ts where it is available. The JavaScript
// kernel below is the fallback (and `setMatmulKernel('js')`); it follows the same GotoBLAS/BLIS scheme: B is
// packed (converted to float64) into panels of NR columns, A into panels of MR rows, both cut into KC-deep
// slices so a B micro-panel stays in L1 and the packed A block in L2; an MR×NR register-blocked
// micro-kernel keeps 32 accumulators in locals. The JavaScript paths accumulate in float64 and round once
// when storing. Small or skinny products (fewer than 4 rows or columns, or few multiply-adds) always take
// the simpler JavaScript loops below, which need no packing.
// ---------------------------------------------------------------------------------------------------------

const MR = 8;
const NR = 4;
const KC = 256;
const MC = 128; // a multiple of MR
const NC = 512; // a multiple of NR
/** Below this many multiply-adds the packing does not pay off. */
const SMALL = 4096;

const packA = new Float64Array(MC * KC);
const packB = new Float64Array(NC * KC);
let rowAcc = new Float64Array(256);
const edgeTile = new Float64Array(MR * NR);

type Operand = GemmOperand;

/** The WebAssembly SIMD kernel, or null where it cannot run. */
const wasmGemm = createWasmGemm();
let useWasm = wasmGemm !== null;

/** The forward kernels large products can run on (see {@link setMatmulKernel}). */
export type MatmulKernel = 'wasm' | 'js';

/**
 * Chooses the forward kernel of large matrix products: `'wasm'` (WebAssembly SIMD, the default wherever it
 * is available; float32 products accumulate in float32, like BLAS), `'js'` (packed, register-blocked
 * JavaScript loops accumulating in float64 — the fallback where WebAssembly or its SIMD extension is
 * unavailable), or `'auto'` (the default choice). Small and skinny products always use JavaScript loops.
 *
 * @throws StateError when `'wasm'` is asked for where it cannot run
 * @throws ArgumentError on an unknown kernel name
 */
export function setMatmulKernel(kernel: MatmulKernel | 'auto'): void {
  if (kernel === 'auto') useWasm = wasmGemm !== null;
  else if (kernel === 'js') useWasm = false;
  else if (kernel === 'wasm') {
    if (wasmGemm === null) {
      throw new StateError(
        'setMatmulKernel',
        'WebAssembly SIMD is not available in this environment; use "js"',
      );
    }
    useWasm = true;
  } else {
    throw new ArgumentError(
      'setMatmulKernel',
      `unknown kernel ${typeof kernel === 'string' ? JSON.stringify(kernel) : show(kernel)}; expected 'wasm', 'js' or 'auto'`,
    );
  }
}

/** The forward kernel large matrix products currently run on. */
export function matmulKernel(): MatmulKernel {
  return useWasm ? 'wasm' : 'js';
}

/** The MR×NR micro-kernel over packed panels; stores a full tile, or the h×w corner of an edge tile. */
// biome-ignore format: hand-unrolled register block
function microKernel(
  ap: Float64Array, pa: number, bp: Float64Array, pb: number, kc: number,
  C: Storage, co: number, ldc: number, h: number, w: number, accumulate: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0,
    c10 = 0, c11 = 0, c12 = 0, c13 = 0,
    c20 = 0, c21 = 0, c22 = 0, c23 = 0,
    c30 = 0, c31 = 0, c32 = 0, c33 = 0,
    c40 = 0, c41 = 0, c42 = 0, c43 = 0,
    c50 = 0, c51 = 0, c52 = 0, c53 = 0,
    c60 = 0, c61 = 0, c62 = 0, c63 = 0,
    c70 = 0, c71 = 0, c72 = 0, c73 = 0;
  for (let k = 0; k < kc; k++, pa += MR, pb += NR) {
    const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
    let a = ap[pa]!;
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = ap[pa + 1]!;
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    a = ap[pa + 2]!;
    c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
    a = ap[pa + 3]!;
    c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
    a = ap[pa + 4]!;
    c40 += a * b0; c41 += a * b1; c42 += a * b2; c43 += a * b3;
    a = ap[pa + 5]!;
    c50 += a * b0; c51 += a * b1; c52 += a * b2; c53 += a * b3;
    a = ap[pa + 6]!;
    c60 += a * b0; c61 += a * b1; c62 += a * b2; c63 += a * b3;
    a = ap[pa + 7]!;
    c70 += a * b0; c71 += a * b1; c72 += a * b2; c73 += a * b3;
  }
  if (h === MR && w === NR) {
    if (accumulate) {
      C[co] += c00; C[co + 1] += c01; C[co + 2] += c02; C[co + 3] += c03; co += ldc;
      C[co] += c10; C[co + 1] += c11; C[co + 2] += c12; C[co + 3] += c13; co += ldc;
      C[co] += c20; C[co + 1] += c21; C[co + 2] += c22; C[co + 3] += c23; co += ldc;
      C[co] += c30; C[co + 1] += c31; C[co + 2] += c32; C[co + 3] += c33; co += ldc;
      C[co] += c40; C[co + 1] += c41; C[co + 2] += c42; C[co + 3] += c43; co += ldc;
      C[co] += c50; C[co + 1] += c51; C[co + 2] += c52; C[co + 3] += c53; co += ldc;
      C[co] += c60; C[co + 1] += c61; C[co + 2] += c62; C[co + 3] += c63; co += ldc;
      C[co] += c70; C[co + 1] += c71; C[co + 2] += c72; C[co + 3] += c73;
    } else {
      C[co] = c00; C[co + 1] = c01; C[co + 2] = c02; C[co + 3] = c03; co += ldc;
      C[co] = c10; C[co + 1] = c11; C[co + 2] = c12; C[co + 3] = c13; co += ldc;
      C[co] = c20; C[co + 1] = c21; C[co + 2] = c22; C[co + 3] = c23; co += ldc;
      C[co] = c30; C[co + 1] = c31; C[co + 2] = c32; C[co + 3] = c33; co += ldc;
      C[co] = c40; C[co + 1] = c41; C[co + 2] = c42; C[co + 3] = c43; co += ldc;
      C[co] = c50; C[co + 1] = c51; C[co + 2] = c52; C[co + 3] = c53; co += ldc;
      C[co] = c60; C[co + 1] = c61; C[co + 2] = c62; C[co + 3] = c63; co += ldc;
      C[co] = c70; C[co + 1] = c71; C[co + 2] = c72; C[co + 3] = c73;
    }
    return;
  }
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  t[16] = c40; t[17] = c41; t[18] = c42; t[19] = c43;
  t[20] = c50; t[21] = c51; t[22] = c52; t[23] = c53;
  t[24] = c60; t[25] = c61; t[26] = c62; t[27] = c63;
  t[28] = c70; t[29] = c71; t[30] = c72; t[31] = c73;

  for (let i = 0; i < h; i++, co += ldc) {
    for (let j = 0; j < w; j++) {
      if (accumulate) C[co + j] += t[i * NR + j]!;
      else C[co + j] = t[i * NR + j]!;
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels (each kc × NR, row-major), zero-padding the edge. */
function packBPanels(b: Operand, K: number, N: number, pc: number, kc: number, jc: number, nc: number): void {
  const B = b.data;
  const dst = packB;
  for (let j0 = jc, p = 0; j0 < jc + nc; j0 += NR, p += kc * NR) {
    const w = Math.min(NR, jc + nc - j0);
    if (!b.t) {
      let src = b.off + pc * N + j0;
      if (w === NR) {
        for (let k = 0, d = p; k < kc; k++, src += N, d += NR) {
          dst[d] = B[src]!;
          dst[d + 1] = B[src + 1]!;
          dst[d + 2] = B[src + 2]!;
          dst[d + 3] = B[src + 3]!;
        }
      } else {
        for (let k = 0, d = p; k < kc; k++, src += N, d += NR) {
          for (let jj = 0; jj < NR; jj++) dst[d + jj] = jj < w ? B[src + jj]! : 0;
        }
      }
    } else {
      for (let jj = 0; jj < NR; jj++) {
        if (jj < w) {
          const src = b.off + (j0 + jj) * K + pc;
          for (let k = 0, d = p + jj; k < kc; k++, d += NR) dst[d] = B[src + k]!;
        } else {
          for (let k = 0, d = p + jj; k < kc; k++, d += NR) dst[d] = 0;
        }
      }
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels (each kc × MR, k-major), zero-padding the edge. */
function packABlock(a: Operand, M: number, K: number, ic: number, mc: number, pc: number, kc: number): void {
  const A = a.data;
  const dst = packA;
  for (let i0 = ic, p = 0; i0 < ic + mc; i0 += MR, p += kc * MR) {
    const h = Math.min(MR, ic + mc - i0);
    if (!a.t) {
      for (let ii = 0; ii < MR; ii++) {
        if (ii < h) {
          const src = a.off + (i0 + ii) * K + pc;
          for (let k = 0, d = p + ii; k < kc; k++, d += MR) dst[d] = A[src + k]!;
        } else {
          for (let k = 0, d = p + ii; k < kc; k++, d += MR) dst[d] = 0;
        }
      }
    } else {
      let src = a.off + pc * M + i0;
      for (let k = 0, d = p; k < kc; k++, src += M, d += MR) {
        for (let ii = 0; ii < MR; ii++) dst[d + ii] = ii < h ? A[src + ii]! : 0;
      }
    }
  }
}

function rowScratch(n: number): Float64Array {
  if (rowAcc.length < n) rowAcc = new Float64Array(Math.max(n, 2 * rowAcc.length));
  return rowAcc;
}

/**
 * C[cOff …] (+)= op(A) · op(B) for one M×K by K×N pair (C row-major M×N). `beta` adds into C instead of
 * overwriting it.
 */
function gemm(
  M: number,
  N: number,
  K: number,
  a: Operand,
  b: Operand,
  C: Storage,
  cOff: number,
  beta: boolean,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!beta) C.fill(0, cOff, cOff + M * N);
    return;
  }
  const A = a.data;
  const B = b.data;
  if (M < 4 && !(N === 1 && a.t)) {
    // Row by row: a row of op(A) times op(B), reading B with unit stride.
    const ars = a.t ? 1 : K;
    const acs = a.t ? M : 1;
    for (let i = 0; i < M; i++) {
      const ai = a.off + i * ars;
      const co = cOff + i * N;
      if (b.t) {
        for (let j = 0; j < N; j++) {
          const bj = b.off + j * K;
          let s = 0;
          for (let k = 0; k < K; k++) s += A[ai + k * acs]! * B[bj + k]!;
          C[co + j] = beta ? C[co + j]! + s : s;
        }
      } else {
        const acc = rowScratch(N);
        acc.fill(0, 0, N);
        for (let k = 0; k < K; k++) {
          const aik = A[ai + k * acs]!;
          const bk = b.off + k * N;
          for (let j = 0; j < N; j++) acc[j] += aik * B[bk + j]!;
        }
        for (let j = 0; j < N; j++) C[co + j] = beta ? C[co + j]! + acc[j]! : acc[j]!;
      }
    }
    return;
  }
  if (N === 1 && a.t) {
    // op(A) is stored K×M: accumulate scaled rows of it (unit stride) instead of strided dot products.
    const acc = rowScratch(M);
    acc.fill(0, 0, M);
    for (let k = 0; k < K; k++) {
      const bk = B[b.off + k]!;
      const ak = a.off + k * M;
      for (let i = 0; i < M; i++) acc[i] += A[ak + i]! * bk;
    }
    for (let i = 0; i < M; i++) C[cOff + i] = beta ? C[cOff + i]! + acc[i]! : acc[i]!;
    return;
  }
  if (N < NR || M * N * K <= SMALL) {
    const ars = a.t ? 1 : K;
    const acs = a.t ? M : 1;
    const brs = b.t ? 1 : N;
    const bcs = b.t ? K : 1;
    for (let i = 0; i < M; i++) {
      const ai = a.off + i * ars;
      for (let j = 0; j < N; j++) {
        const bj = b.off + j * bcs;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[ai + k * acs]! * B[bj + k * brs]!;
        const o = cOff + i * N + j;
        C[o] = beta ? C[o]! + s : s;
      }
    }
    return;
  }
  if (useWasm && wasmGemm!(M, N, K, a, b, C, cOff, beta)) return;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const accumulate = beta || pc > 0;
      packBPanels(b, K, N, pc, kc, jc, nc);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packABlock(a, M, K, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const h = Math.min(MR, mc - ir);
            microKernel(
              packA,
              ir * kc,
              packB,
              jr * kc,
              kc,
              C,
              cOff + (ic + ir) * N + jc + jr,
              N,
              h,
              w,
              accumulate,
            );
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tensor level
// ---------------------------------------------------------------------------------------------------------

/** The (rows, cols) of op(x) for a tensor of rank >= 2. */
function matDims(x: Tensor, t: boolean): [number, number] {
  const r = x.shape[x.ndim - 2]!;
  const c = x.shape[x.ndim - 1]!;
  return t ? [c, r] : [r, c];
}

/**
 * Broadcasts the batch dimensions (all but the last two) of two shapes of rank >= 2.
 *
 * @throws ShapeError naming both (user-facing) shapes
 */
function batchShape(op: string, aBatch: Shape, bBatch: Shape, shown: readonly [Shape, Shape]): number[] {
  const rank = Math.max(aBatch.length, bBatch.length);
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = aBatch[aBatch.length - rank + d] ?? 1;
    const y = bBatch[bBatch.length - rank + d] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError(
        op,
        `batch dimensions of shapes ${fmt(shown[0])} and ${fmt(shown[1])} cannot be broadcast: size ${x} vs ${y} at batch dimension ${d - rank}`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Runs gemm over every (broadcast) batch entry of a and b into `out` (shape [...batch, m, n]). */
function batchedGemm(
  a: Tensor,
  ta: boolean,
  b: Tensor,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  batch: Shape,
  out: Storage,
): void {
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const count = sizeOf(batch);
  if (!ta && sizeOf(bBatch) === 1) {
    // One B for every batch entry: the batch of A folds into its rows (one large product).
    gemm(count * m, n, k, { data: a.data, off: 0, t: false }, { data: b.data, off: 0, t: tb }, out, 0, false);
    return;
  }
  const as = broadcastStrides(aBatch, batch);
  const bs = broadcastStrides(bBatch, batch);
  const rank = batch.length;
  const idx = new Array<number>(rank).fill(0);
  const opA: Operand = { data: a.data, off: 0, t: ta };
  const opB: Operand = { data: b.data, off: 0, t: tb };
  for (let e = 0; e < count; e++) {
    let ao = 0;
    let bo = 0;
    for (let d = 0; d < rank; d++) {
      ao += idx[d]! * as[d]!;
      bo += idx[d]! * bs[d]!;
    }
    opA.off = ao * m * k;
    opB.off = bo * k * n;
    gemm(m, n, k, opA, opB, out, e * m * n, false);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * The differentiable core: op(a) · op(b) for tensors of rank >= 2 with broadcast batch dimensions, where
 * op transposes the last two dimensions when its flag is set. Its backward is built from mmCore itself (so
 * every order of derivative works) and reduced over broadcast batch dimensions with sumTo.
 */
function mmCore(
  a: Tensor,
  b: Tensor,
  ta: boolean,
  tb: boolean,
  dtype: DType = promoteTypes(a.dtype, b.dtype),
): Tensor {
  const [m, k] = matDims(a, ta);
  const n = matDims(b, tb)[1];
  const batch = batchShape('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2), [a.shape, b.shape]);
  const shape = [...batch, m, n];
  // gemm writes every element of C (zeros for K = 0): no clearing pass.
  const data = allocateOutput(dtype, checkSize('matmul', shape, 'result shape'), 'matmul', shape);
  batchedGemm(a, ta, b, tb, m, n, k, batch, data);
  return record1('matmul', [a, b], data, shape, (g) => [
    a.requiresGrad ? gradOfA(a, b, ta, tb, g) : null,
    b.requiresGrad ? gradOfB(a, b, ta, tb, g) : null,
  ]);
}

/** d/dA of <G, op(A)·op(B)>: G·op(B)ᵀ, transposed back when A was read transposed. */
function gradOfA(a: Tensor, b: Tensor, ta: boolean, tb: boolean, g: Tensor): Tensor {
  const ga = ta ? mmCore(b, g, tb, true, a.dtype) : mmCore(g, b, false, !tb, a.dtype);
  return sumTo(ga, a.shape);
}

/** d/dB of <G, op(A)·op(B)>: op(A)ᵀ·G, transposed back when B was read transposed. */
function gradOfB(a: Tensor, b: Tensor, ta: boolean, tb: boolean, g: Tensor): Tensor {
  if (!ta && a.ndim > 2 && sizeOf(b.shape.slice(0, -2)) === 1) {
    // B is shared by every batch entry: fold A's batch into its rows, one product instead of a sum of many.
    const k = a.shape[a.ndim - 1]!;
    const rows = sizeOf(a.shape.slice(0, -1));
    const a2 = reshape(a, [rows, k]);
    const g2 = reshape(g, [rows, g.shape[g.ndim - 1]!]);
    const gb = tb ? mmCore(g2, a2, true, false, b.dtype) : mmCore(a2, g2, true, false, b.dtype);
    return reshape(gb, b.shape);
  }
  const gb = tb ? mmCore(g, a, true, ta, b.dtype) : mmCore(a, g, !ta, false, b.dtype);
  return sumTo(gb, b.shape);
}

/**
 * Matrix product with PyTorch's `torch.matmul` semantics:
 * - 1-D · 1-D: the dot product (a 0-d tensor);
 * - 2-D · 2-D: the matrix product;
 * - 1-D · N-D: `a` is read as a row [1, k] and the prepended dimension is removed from the result;
 * - N-D · 1-D: `b` is read as a column [k, 1] and the appended dimension is removed;
 * - N-D · N-D (N > 2): a batched product over the last two dimensions, the batch (leading) dimensions
 *   broadcasting NumPy-style, e.g. [j, 1, n, k] · [l, k, m] → [j, l, n, m].
 *
 * The result's dtype is `promoteTypes(a.dtype, b.dtype)`. The forward pass runs a cache-blocked,
 * register-blocked kernel over packed operands: WebAssembly SIMD where available (float32 products then
 * accumulate in float32, as in BLAS and PyTorch; float64 in float64), else JavaScript loops accumulating in
 * float64 (see {@link setMatmulKernel}); small products always use the JavaScript loops. Gradients are
 * `grad_a = g·bᵀ`, `grad_b = aᵀ·g` (summed over broadcast batch dimensions), computed with matmul itself, so
 * gradients of any order work.
 *
 * @throws ShapeError when an argument is 0-d, when the inner dimensions differ, or when the batch dimensions
 *   do not broadcast; the message names both shapes
 * @throws ArgumentError when an argument is not a Tensor
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'a', a);
  checkTensor('matmul', 'b', b);
  const onDevice = anyOnDevice([a, b]);
  if (onDevice) deviceRuntime('matmul', [a, b], ['a', 'b']);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      'matmul',
      `both arguments need at least one dimension, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  const k = a.shape[a.ndim - 1]!;
  const kb = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (k !== kb) {
    const where = b.ndim === 1 ? `the length of b (${kb})` : `the second-to-last dimension of b (${kb})`;
    throw new ShapeError(
      'matmul',
      `shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied: the last dimension of a (${k}) must equal ${where}`,
    );
  }
  const a2 = a.ndim === 1 ? reshape(a, [1, k]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [k, 1]) : b;
  // Validate the batch dimensions against the user's shapes before any work.
  batchShape('matmul', a2.shape.slice(0, -2), b2.shape.slice(0, -2), [a.shape, b.shape]);
  const out = onDevice ? mmDevice(a2, b2, false, false) : mmCore(a2, b2, false, false);
  if (a.ndim > 1 && b.ndim > 1) return out;
  const shape = out.shape.slice();
  if (b.ndim === 1) shape.splice(shape.length - 1, 1);
  if (a.ndim === 1) shape.splice(shape.length - (b.ndim === 1 ? 1 : 2), 1);
  return reshape(out, shape);
}

/**
 * The affine map of a fully connected layer, `x · weightᵀ + bias`, with PyTorch's layout
 * (`torch.nn.functional.linear`): `weight` is [outFeatures, inFeatures], `x` is [..., inFeatures] (any number
 * of leading dimensions, or 1-D), `bias` (optional) is [outFeatures] (or a single element). The result is
 * [..., outFeatures] with dtype promoted over all arguments. One graph node: the bias is added inside the
 * product kernel; its backward uses matmul, so gradients of any order work.
 *
 * @throws ShapeError when `weight` is not 2-D, `x` is 0-d, the feature sizes differ, or `bias` does not
 *   have outFeatures elements; the message names the shapes
 * @throws ArgumentError when an argument is not a Tensor
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor('linear', 'x', x);
  checkTensor('linear', 'weight', weight);
  const hasBias = bias !== undefined && bias !== null;
  if (hasBias) checkTensor('linear', 'bias', bias);
  const inputs = hasBias ? [x, weight, bias] : [x, weight];
  const onDevice = anyOnDevice(inputs);
  if (onDevice) deviceRuntime('linear', inputs, hasBias ? ['x', 'weight', 'bias'] : ['x', 'weight']);
  if (weight.ndim !== 2) {
    throw new ShapeError(
      'linear',
      `weight must be 2-D [outFeatures, inFeatures], got shape ${fmt(weight.shape)}`,
    );
  }
  const [outF, inF] = weight.shape as [number, number];
  if (x.ndim === 0)
    throw new ShapeError('linear', `input must have at least one dimension, got shape ${fmt(x.shape)}`);
  if (x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(
      'linear',
      `input shape ${fmt(x.shape)} does not fit weight shape ${fmt(weight.shape)}: the input's last dimension (${x.shape[x.ndim - 1]}) must equal inFeatures (${inF})`,
    );
  }
  if (hasBias && (bias.ndim > 1 || (bias.size !== outF && bias.size !== 1))) {
    throw new ShapeError(
      'linear',
      `bias shape ${fmt(bias.shape)} does not fit weight shape ${fmt(weight.shape)}: expected [${outF}] (outFeatures)`,
    );
  }
  if (onDevice) return linearDevice(x, weight, hasBias ? bias : null);
  let dtype = promoteTypes(x.dtype, weight.dtype);
  if (hasBias) dtype = promoteTypes(dtype, bias.dtype);
  const rows = sizeOf(x.shape.slice(0, -1));
  const shape = [...x.shape.slice(0, -1), outF];
  // Every element is written: the bias rows below (then added to), or gemm's product.
  const data = allocateOutput(dtype, checkSize('linear', shape, 'result shape'), 'linear', shape);
  if (hasBias) {
    const bd = bias.data;
    if (bias.size === 1) data.fill(bd[0]!);
    else for (let r = 0; r < rows; r++) data.set(bd, r * outF);
  }
  gemm(
    rows,
    outF,
    inF,
    { data: x.data, off: 0, t: false },
    { data: weight.data, off: 0, t: true },
    data,
    0,
    hasBias,
  );
  return record1('linear', inputs, data, shape, (g) => {
    const g2 = reshape(g, [rows, outF]);
    const grads: Grads = [
      x.requiresGrad ? reshape(mmCore(g2, weight, false, false, x.dtype), x.shape) : null,
      weight.requiresGrad ? mmCore(g2, reshape(x, [rows, inF]), true, false, weight.dtype) : null,
    ];
    if (hasBias) grads.push(bias.requiresGrad ? toDtype(sumTo(g2, bias.shape), bias.dtype) : null);
    return grads;
  });
}
