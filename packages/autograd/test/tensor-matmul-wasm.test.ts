/**
 * The WebAssembly SIMD matmul kernel called directly: every operand layout (A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ), both
 * precisions, accumulation into C, operand and output offsets, tile edges (m, n not multiples of the 4×8
 * or 4×4 register block), k beyond one 256-deep slice, n beyond one 512-wide block, and the row strides that
 * get a cache line of padding in WebAssembly memory — against a float64 triple loop. Then the tensor-level
 * float32 paths the MLP step takes (forward, grad_a = g·bᵀ, grad_b = aᵀ·g) on the same kernel.
 */
import { backward, fromArray, grad, linear, matmul, setMatmulKernel, type Tensor } from '@gradkit/autograd';
import { ARENA_MIN_ELEMENTS, allocateStorage, isArenaStorage, wasmSimdAvailable } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmGemm, type GemmOperand } from '../src/tensor/matmul-wasm.js';

const gemm = createWasmGemm();

/** Where `values` puts its arrays: ordinary typed arrays, or the kernels' arena (read in place by matmul). */
let inArena = false;

/** Deterministic values in [-1, 1) (a small LCG), so every case is reproducible. */
function values(n: number, seed: number, f64: boolean): Float32Array | Float64Array {
  const out =
    inArena && n >= ARENA_MIN_ELEMENTS
      ? allocateStorage(f64 ? 'float64' : 'float32', n)
      : f64
        ? new Float64Array(n)
        : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Case {
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  f64: boolean;
  beta: boolean;
  /** Leading elements before each operand and the output (offsets into the storage). */
  off: number;
}

/** Runs one case on the kernel and checks every output element against float64 sums (with an error bound). */
function check(c: Case, seed: number): void {
  const { m, n, k, ta, tb, f64, beta, off } = c;
  const A = values(off + m * k, seed, f64);
  const B = values(off + k * n, seed + 1, f64);
  const C = values(off + m * n + off, seed + 2, f64);
  const C0 = Float64Array.from(C);
  const a: GemmOperand = { data: A, off, t: ta };
  const b: GemmOperand = { data: B, off, t: tb };
  expect(gemm!(m, n, k, a, b, C, off, beta)).toBe(true);
  // op(A)[i, q] and op(B)[q, j] read from the stored (row-major) matrices.
  const opA = (i: number, q: number) => A[off + (ta ? q * m + i : i * k + q)]!;
  const opB = (q: number, j: number) => B[off + (tb ? j * k + q : q * n + j)]!;
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = beta ? C0[off + i * n + j]! : 0;
      let mag = Math.abs(s);
      for (let q = 0; q < k; q++) {
        s += opA(i, q) * opB(q, j);
        mag += Math.abs(opA(i, q) * opB(q, j));
      }
      // float32 accumulation: |error| <= (k + 2)·2^-24·sum|terms|; float64 far tighter.
      const tol = (k + 2) * (f64 ? 2 ** -52 : 2 ** -24) * mag;
      const err = Math.abs(C[off + i * n + j]! - s);
      worst = Math.max(worst, err / (tol || 1));
      if (!(err <= tol)) {
        expect.fail(`${JSON.stringify(c)}: C[${i},${j}] = ${C[off + i * n + j]} vs ${s} (tol ${tol})`);
      }
    }
  }
  // The elements around the output are untouched.
  for (let i = 0; i < off; i++) {
    expect(C[i]).toBe(C0[i]);
    expect(C[off + m * n + i]).toBe(C0[off + m * n + i]);
  }
  expect(worst).toBeLessThanOrEqual(1);
}

const LAYOUTS: ReadonlyArray<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe.skipIf(gemm === null)('the WebAssembly SIMD matmul kernel', () => {
  it('every layout and precision on tile edges, deep k, wide n and padded strides', () => {
    // [m, n, k]: register-block edges (m % 4, n % 8), k = 1, k beyond a 256-deep slice, n beyond 512,
    // strides of 256, 512 and 1024 bytes walked deeper than the L1 cache sets hold (padded in memory),
    // and the shapes of the MLP's 10-wide output layer (the wide ones are checked at the tensor level below).
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1],
      [5, 9, 3],
      [4, 8, 1],
      [7, 13, 300],
      [64, 256, 300],
      [128, 64, 520],
      [130, 520, 17],
      [64, 10, 256],
      [256, 10, 64],
      [33, 32, 513],
    ];
    let seed = 1;
    for (const [m, n, k] of shapes) {
      for (const [ta, tb] of LAYOUTS) {
        for (const f64 of [false, true]) {
          check({ m, n, k, ta, tb, f64, beta: false, off: 0 }, seed++);
        }
      }
    }
  });

  it('accumulates into C and reads operands and output at offsets', () => {
    let seed = 100;
    for (const [m, n, k] of [
      [6, 11, 5],
      [37, 45, 300],
      [9, 520, 40],
    ] as Array<[number, number, number]>) {
      for (const [ta, tb] of LAYOUTS) {
        for (const f64 of [false, true]) {
          check({ m, n, k, ta, tb, f64, beta: true, off: 3 }, seed++);
          check({ m, n, k, ta, tb, f64, beta: false, off: 5 }, seed++);
        }
      }
    }
  });

  it('random shapes, layouts, offsets and accumulation agree with the float64 reference', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 40 }),
          n: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 300 }),
          ta: fc.boolean(),
          tb: fc.boolean(),
          f64: fc.boolean(),
          beta: fc.boolean(),
          off: fc.integer({ min: 0, max: 7 }),
        }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (c, seed) => check(c, seed),
      ),
      propertyConfig({ numRuns: 60 }),
    );
  });

  it.runIf(typeof SharedArrayBuffer === 'function' && wasmSimdAvailable())(
    'operands and output in the kernels arena are read and written in place, at offsets, accumulating or not',
    () => {
      inArena = true;
      try {
        expect(isArenaStorage(values(4096, 1, false))).toBe(true);
        let seed = 500;
        // In place where m % 4 = 0, n % 8 = 0 and op(B) = B (both A layouts); the others copy as before.
        for (const [m, n, k] of [
          [64, 256, 300],
          [784, 256, 64],
          [128, 64, 520],
          [96, 520, 40],
          [36, 24, 700],
          [33, 32, 513],
        ] as Array<[number, number, number]>) {
          for (const [ta, tb] of LAYOUTS) {
            for (const off of [0, 3]) {
              check({ m, n, k, ta, tb, f64: false, beta: off > 0, off }, seed++);
            }
          }
        }
      } finally {
        inArena = false;
      }
    },
  );

  it('returns false for empty products without touching C', () => {
    const C = new Float32Array([7, 7]);
    const z = { data: new Float32Array(4), off: 0, t: false };
    expect(gemm!(0, 2, 2, z, z, C, 0, false)).toBe(false);
    expect(gemm!(2, 2, 0, z, z, C, 0, false)).toBe(false);
    expect(Array.from(C)).toEqual([7, 7]);
  });
});

describe.skipIf(gemm === null)('float32 MLP-shaped products on the WebAssembly kernel', () => {
  beforeAll(() => setMatmulKernel('wasm'));
  afterAll(() => setMatmulKernel('auto'));

  /** x·w and its gradients in float32, against the same computed in float64. */
  function compare(f32: Tensor, f64: Tensor, k: number): void {
    expect(f32.dtype).toBe('float32');
    expect(f32.shape).toEqual(f64.shape);
    let worst = 0;
    for (let i = 0; i < f64.size; i++) worst = Math.max(worst, Math.abs(f32.data[i]! - f64.data[i]!));
    // Terms in [-1, 1): |error| <= (k + 2)·2^-24·k, loosely.
    expect(worst).toBeLessThanOrEqual((k + 2) * 2 ** -24 * k);
  }

  it('forward, grad_a (g·bᵀ) and grad_b (aᵀ·g) of 64×784·784×256 and 64×256·256×10', () => {
    for (const [m, k, n] of [
      [64, 784, 256],
      [64, 256, 10],
    ] as Array<[number, number, number]>) {
      const aData = values(m * k, m + k, false);
      const bData = values(k * n, k + n, false);
      const gData = values(m * n, m + n, false);
      const run = (dtype: 'float32' | 'float64') => {
        const a = fromArray(aData, [m, k], { dtype, requiresGrad: true });
        const b = fromArray(bData, [k, n], { dtype, requiresGrad: true });
        const c = matmul(a, b);
        const [ga, gb] = grad(c, [a, b], { gradOutputs: [fromArray(gData, [m, n], { dtype })] });
        return [c, ga!, gb!] as const;
      };
      const [c32, ga32, gb32] = run('float32');
      const [c64, ga64, gb64] = run('float64');
      compare(c32, c64, k);
      compare(ga32, ga64, n);
      compare(gb32, gb64, m);
    }
  });

  it('linear (x·wᵀ + bias, the bias accumulated in the kernel) and its gradients', () => {
    const x = fromArray(values(64 * 784, 3, false), [64, 784], { requiresGrad: true });
    const w = fromArray(values(256 * 784, 4, false), [256, 784], { requiresGrad: true });
    const bias = fromArray(values(256, 5, false), [256], { requiresGrad: true });
    const y = linear(x, w, bias);
    const to64 = (t: Tensor) => fromArray(t.data, t.shape, { dtype: 'float64', requiresGrad: true });
    const [x64, w64, b64] = [to64(x), to64(w), to64(bias)];
    const y64 = linear(x64, w64, b64);
    compare(y, y64, 785);
    const g = values(64 * 256, 6, false);
    backward(y, fromArray(g, [64, 256]));
    backward(y64, fromArray(g, [64, 256], { dtype: 'float64' }));
    compare(x.grad!, x64.grad!, 256);
    compare(w.grad!, w64.grad!, 64);
    compare(bias.grad!, b64.grad!, 64);
  });
});
