/**
 * matmul and linear: values against a naive reference (1-D/2-D mixes, broadcast batch dimensions, size-0
 * and size-1 dimensions, and products large enough to run the packed, blocked kernel on every operand
 * layout), gradients and second derivatives against finite differences, float32 against float64, dtype
 * promotion, and every error.
 */
import {
  ArgumentError,
  type DType,
  fromArray,
  grad,
  linear,
  manualSeed,
  matmul,
  matmulKernel,
  randn,
  ShapeError,
  setMatmulKernel,
  type Tensor,
  tensor,
} from '@gradkit/autograd';
import {
  broadcastShapes,
  describeWorst,
  gradcheckTensor,
  gradgradcheckTensor,
  tensorOf,
} from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './helpers.js';

const SEED = 0x3a7_3a7;

// ---------------------------------------------------------------------------------------------------------
// A naive reference, written independently of the kernel: one triple loop per output element.
// ---------------------------------------------------------------------------------------------------------

interface Dense {
  shape: number[];
  data: number[];
}

function dense(t: Tensor): Dense {
  return { shape: [...t.shape], data: Array.from(t.data) };
}

function at(x: Dense, idx: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < x.shape.length; d++) off = off * x.shape[d]! + (x.shape[d] === 1 ? 0 : idx[d]!);
  return x.data[off]!;
}

/** torch.matmul, the slow way. */
function refMatmul(a: Dense, b: Dense): Dense {
  const A = a.shape.length === 1 ? { shape: [1, a.shape[0]!], data: a.data } : a;
  const B = b.shape.length === 1 ? { shape: [b.shape[0]!, 1], data: b.data } : b;
  const ab = A.shape.slice(0, -2);
  const bb = B.shape.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const pa = pad(ab);
  const pb = pad(bb);
  const batch = pa.map((d, i) => (d === 1 ? pb[i]! : d));
  const Ap = { shape: [...pa, ...A.shape.slice(-2)], data: A.data };
  const Bp = { shape: [...pb, ...B.shape.slice(-2)], data: B.data };
  const [m, k] = A.shape.slice(-2) as [number, number];
  const n = B.shape[B.shape.length - 1]!;
  const out: number[] = [];
  const count = batch.reduce((x, y) => x * y, 1);
  for (let e = 0; e < count; e++) {
    const idx: number[] = [];
    let r = e;
    for (let d = rank - 1; d >= 0; d--) {
      idx.unshift(r % batch[d]!);
      r = Math.floor(r / batch[d]!);
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += at(Ap, [...idx, i, q]) * at(Bp, [...idx, q, j]);
        out.push(s);
      }
    }
  }
  const shape = [...batch, m, n];
  if (b.shape.length === 1) shape.splice(shape.length - 1, 1);
  if (a.shape.length === 1) shape.splice(shape.length - (b.shape.length === 1 ? 1 : 2), 1);
  return { shape, data: out };
}

/** The plain triple loop for 2-D operands (fast enough for the large cases). */
function ref2d(a: Dense, b: Dense): number[] {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a.data[i * k + q]! * b.data[q * n + j]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

function transpose2(x: Dense): Dense {
  const [r, c] = x.shape as [number, number];
  const data: number[] = [];
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) data.push(x.data[i * c + j]!);
  return { shape: [c, r], data };
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Shape arbitraries: every 1-D / N-D combination, broadcast batch dimensions, size 0 and size 1.
// ---------------------------------------------------------------------------------------------------------

type Kind = '1·1' | '1·N' | 'N·1' | 'N·N';

function matmulShapes(maxDim: number, maxBatch: number): fc.Arbitrary<[number[], number[]]> {
  return fc
    .record({
      kind: fc.constantFrom<Kind>('1·1', '1·N', 'N·1', 'N·N', 'N·N'),
      m: fc.integer({ min: 0, max: maxDim }),
      k: fc.integer({ min: 0, max: maxDim }),
      n: fc.integer({ min: 0, max: maxDim }),
      batch: broadcastShapes(2, { maxRank: 2, maxDim: 3, allowZero: true, maxSize: maxBatch }),
    })
    .map(({ kind, m, k, n, batch: [ba, bb] }): [number[], number[]] => {
      const a = kind.startsWith('1') ? [k] : [...ba!, m, k];
      const b = kind.endsWith('1') ? [k] : [...bb!, k, n];
      return [a, b];
    });
}

const pairOf = (shapes: fc.Arbitrary<[number[], number[]]>, dtype: DType = 'float64') =>
  shapes.chain(([sa, sb]) =>
    fc.tuple(
      tensorOf(sa, { dtype, min: -2, max: 2, requiresGrad: true }),
      tensorOf(sb, { dtype, min: -2, max: 2, requiresGrad: true }),
    ),
  );

describe('matmul values', () => {
  it('equals the naive reference for every 1-D/N-D mix with broadcast batch dims (incl. size 0 and 1)', () => {
    fc.assert(
      fc.property(pairOf(matmulShapes(5, 12)), ([a, b]) => {
        const c = matmul(a, b);
        const ref = refMatmul(dense(a), dense(b));
        expect(c.shape).toEqual(ref.shape);
        expect(c.dtype).toBe('float64');
        expect(maxAbsDiff(c.data, ref.data)).toBeLessThanOrEqual(1e-12);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('handles empty products: k = 0 gives zeros, m = 0 or n = 0 gives an empty result', () => {
    const a = tensor([[], []], { dtype: 'float64', requiresGrad: true }); // [2, 0]
    const b = fromArray([], [0, 3], { dtype: 'float64', requiresGrad: true });
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 3]);
    expect(Array.from(c.data)).toEqual([0, 0, 0, 0, 0, 0]);
    const [ga, gb] = grad(c.sum(), [a, b]);
    expect(ga!.shape).toEqual([2, 0]);
    expect(gb!.shape).toEqual([0, 3]);
    expect(matmul(fromArray([], [0, 4]), randn([4, 3])).shape).toEqual([0, 3]);
    expect(matmul(randn([5, 4]), fromArray([], [4, 0])).shape).toEqual([5, 0]);
    expect(matmul(fromArray([], [0]), fromArray([], [0])).item()).toBe(0);
  });

  it('dot of 1-D vectors is a 0-d tensor; 1-D operands drop their added dimension', () => {
    const v = tensor([1, 2, 3], { dtype: 'float64' });
    const d = matmul(v, v);
    expect(d.shape).toEqual([]);
    expect(d.item()).toBe(14);
    const m = tensor(
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      { dtype: 'float64' },
    );
    expect(matmul(v, m).tolist()).toEqual([4, 5]);
    expect(matmul(m.matmul(tensor([1, 2], { dtype: 'float64' })), v).item()).toBe(1 + 4 + 9);
    expect(matmul(randn([4]), randn([2, 3, 4, 5])).shape).toEqual([2, 3, 5]);
    expect(matmul(randn([2, 3, 4, 5]), randn([5])).shape).toEqual([2, 3, 4]);
  });
});

describe('matmul dtypes', () => {
  it('small products: float32 results are the float64 results rounded once (float64 accumulation)', () => {
    fc.assert(
      fc.property(pairOf(matmulShapes(5, 8), 'float32'), ([a, b]) => {
        const c32 = matmul(a, b);
        const a64 = fromArray(a.data, a.shape, { dtype: 'float64' });
        const b64 = fromArray(b.data, b.shape, { dtype: 'float64' });
        const c64 = matmul(a64, b64);
        expect(c32.dtype).toBe('float32');
        for (let i = 0; i < c64.size; i++) expect(c32.data[i]).toBe(Math.fround(c64.data[i]!));
      }),
      { seed: SEED + 1, numRuns: 100 },
    );
  });

  it('promotes float32 with float64 to float64, and each gradient keeps its input dtype', () => {
    manualSeed(6);
    const a = randn([3, 4], { requiresGrad: true });
    const b = randn([4, 2], { dtype: 'float64', requiresGrad: true });
    const c = matmul(a, b);
    expect(c.dtype).toBe('float64');
    const ref = matmul(fromArray(a.data, a.shape, { dtype: 'float64' }), b);
    expect(Array.from(c.data)).toEqual(Array.from(ref.data));
    const [ga, gb] = grad(c.sum(), [a, b]);
    expect(ga!.dtype).toBe('float32');
    expect(gb!.dtype).toBe('float64');
    expect(linear(randn([2, 3]), randn([4, 3], { dtype: 'float64' })).dtype).toBe('float64');
    expect(linear(randn([2, 3]), randn([4, 3]), randn([4], { dtype: 'float64' })).dtype).toBe('float64');
    const x = randn([2, 3], { requiresGrad: true });
    const w = randn([4, 3], { dtype: 'float64', requiresGrad: true });
    const bias = randn([4], { requiresGrad: true });
    const gs = grad(linear(x, w, bias).sum(), [x, w, bias]);
    expect(gs.map((t) => t!.dtype)).toEqual(['float32', 'float64', 'float32']);
  });
});

describe('matmul gradients', () => {
  it('gradcheck and gradgradcheck over random shapes with broadcast batch dims', () => {
    fc.assert(
      fc.property(pairOf(matmulShapes(3, 6)), ([a, b]) => {
        const f = (x: Tensor, y: Tensor) => matmul(x, y);
        const r1 = gradcheckTensor(f, [a, b]);
        expect(r1.ok, describeWorst(r1)).toBe(true);
        const r2 = gradgradcheckTensor(f, [a, b], { seed: 3 });
        expect(r2.ok, describeWorst(r2)).toBe(true);
      }),
      { seed: SEED + 2, numRuns: 60 },
    );
  });

  it('third derivatives: the gradient of a Hessian-vector product (a product of three matmuls)', () => {
    manualSeed(8);
    const a = randn([2, 3], { dtype: 'float64', requiresGrad: true });
    const b = randn([3, 3], { dtype: 'float64', requiresGrad: true });
    const v = randn([2, 3], { dtype: 'float64' });
    // f(a, b) = sum((a·b·b)²); the gradient check of its Hessian-vector product (in a) checks third derivatives.
    const hvp = (x: Tensor, y: Tensor) => {
      const out = matmul(matmul(x, y), y).square().sum();
      const [gx] = grad(out, [x], { createGraph: true });
      const [hx] = grad(gx!.mul(v).sum(), [x], { createGraph: true });
      return hx!;
    };
    const r = gradcheckTensor(hvp, [a, b]);
    expect(r.ok, describeWorst(r)).toBe(true);
  });
});

describe('linear', () => {
  const linearCase = fc
    .record({
      lead: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
      inF: fc.integer({ min: 0, max: 3 }),
      outF: fc.integer({ min: 0, max: 3 }),
      bias: fc.constantFrom<'none' | 'full' | 'one' | 'scalar'>('none', 'full', 'one', 'scalar'),
    })
    .chain(({ lead, inF, outF, bias }) =>
      fc.tuple(
        tensorOf([...lead, inF], { min: -2, max: 2, requiresGrad: true }),
        tensorOf([outF, inF], { min: -2, max: 2, requiresGrad: true }),
        bias === 'none'
          ? fc.constant(null)
          : tensorOf(bias === 'full' ? [outF] : bias === 'one' ? [1] : [], {
              min: -2,
              max: 2,
              requiresGrad: true,
            }),
      ),
    );

  it('equals x·weightᵀ + bias (x of any rank >= 1)', () => {
    fc.assert(
      fc.property(linearCase, ([x, w, b]) => {
        const y = linear(x, w, b);
        const wt = transpose2(dense(w));
        const ref = refMatmul(dense(x), wt);
        expect(y.shape).toEqual(ref.shape);
        const outF = w.shape[0]!;
        const expected = ref.data.map((v, i) => (b === null ? v : v + b.data[b.size === 1 ? 0 : i % outF]!));
        expect(maxAbsDiff(y.data, expected)).toBeLessThanOrEqual(1e-12);
      }),
      { seed: SEED + 3, numRuns: 150 },
    );
  });

  it('gradcheck and gradgradcheck with and without bias', () => {
    fc.assert(
      fc.property(linearCase, ([x, w, b]) => {
        const inputs = b === null ? [x, w] : [x, w, b];
        const f = (...t: Tensor[]) => linear(t[0]!, t[1]!, t[2] ?? null);
        const r1 = gradcheckTensor(f, inputs);
        expect(r1.ok, describeWorst(r1)).toBe(true);
        const r2 = gradgradcheckTensor(f, inputs, { seed: 4 });
        expect(r2.ok, describeWorst(r2)).toBe(true);
      }),
      { seed: SEED + 4, numRuns: 60 },
    );
  });
});

describe.each(['wasm', 'js'] as const)('large products on the %s kernel', (kernel) => {
  beforeAll(() => setMatmulKernel(kernel));
  afterAll(() => setMatmulKernel('auto'));

  it('runs the blocked kernel and the skinny paths correctly on every operand layout (forward and both grads)', () => {
    manualSeed(11);
    // [m, k, n]: edges of the 8×4 register block, k beyond one 256-deep slice, n beyond one 512-wide panel,
    // skinny products (m < 4, n < 4, n = 1), and the small unpacked path.
    const cases: Array<[number, number, number]> = [
      [70, 130, 37],
      [9, 257, 33],
      [129, 300, 6],
      [8, 600, 530],
      [3, 300, 50],
      [40, 300, 1],
      [300, 40, 1],
      [5, 3, 2],
      [2, 2, 2],
      [1, 70, 90],
    ];
    for (const [m, k, n] of cases) {
      const a = randn([m, k], { dtype: 'float64', requiresGrad: true });
      const b = randn([k, n], { dtype: 'float64', requiresGrad: true });
      const c = matmul(a, b);
      const A = dense(a);
      const B = dense(b);
      const tol = 1e-12 * k;
      expect(maxAbsDiff(c.data, ref2d(A, B)), `forward ${m}x${k}x${n}`).toBeLessThanOrEqual(tol);
      const g = randn([m, n], { dtype: 'float64' });
      const [ga, gb] = grad(c, [a, b], { gradOutputs: [g] });
      // grad_a = g·bᵀ reads b transposed; grad_b = aᵀ·g reads a transposed.
      expect(
        maxAbsDiff(ga!.data, ref2d(dense(g), transpose2(B))),
        `grad a ${m}x${k}x${n}`,
      ).toBeLessThanOrEqual(1e-12 * n);
      expect(
        maxAbsDiff(gb!.data, ref2d(transpose2(A), dense(g))),
        `grad b ${m}x${k}x${n}`,
      ).toBeLessThanOrEqual(1e-12 * m);
    }
  });

  it('folds a shared right operand over the batch (forward and grad_b summed over the batch)', () => {
    manualSeed(12);
    const a = randn([2, 3, 20, 17], { dtype: 'float64', requiresGrad: true });
    const b = randn([1, 17, 9], { dtype: 'float64', requiresGrad: true });
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 3, 20, 9]);
    expect(maxAbsDiff(c.data, refMatmul(dense(a), dense(b)).data)).toBeLessThanOrEqual(1e-12);
    const g = randn(c.shape, { dtype: 'float64' });
    const gb = grad(c, b, { gradOutputs: [g] })[0]!;
    expect(gb.shape).toEqual([1, 17, 9]);
    // Reference: sum over the 6 batch entries of aᵢᵀ·gᵢ.
    const ref = new Float64Array(17 * 9);
    for (let e = 0; e < 6; e++) {
      const ai = { shape: [20, 17], data: Array.from(a.data.slice(e * 340, (e + 1) * 340)) };
      const gi = { shape: [20, 9], data: Array.from(g.data.slice(e * 180, (e + 1) * 180)) };
      refMatmul(transpose2(ai), gi).data.forEach((v, i) => {
        ref[i] += v;
      });
    }
    expect(maxAbsDiff(gb.data, ref)).toBeLessThanOrEqual(1e-12);
  });

  it('batched products with broadcast batch dims read every entry at its offset (forward and grads)', () => {
    manualSeed(13);
    const a = randn([2, 1, 20, 30], { dtype: 'float64', requiresGrad: true });
    const b = randn([3, 30, 12], { dtype: 'float64', requiresGrad: true });
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 3, 20, 12]);
    expect(maxAbsDiff(c.data, refMatmul(dense(a), dense(b)).data)).toBeLessThanOrEqual(1e-12);
    const g = randn(c.shape, { dtype: 'float64' });
    const [ga, gb] = grad(c, [a, b], { gradOutputs: [g] });
    // grad_a[i] = sum_j g[i, j]·b[j]ᵀ; grad_b[j] = sum_i a[i]ᵀ·g[i, j].
    const slice = (t: Tensor, e: number, r: number, q: number) => ({
      shape: [r, q],
      data: Array.from(t.data.slice(e * r * q, (e + 1) * r * q)),
    });
    const refA = new Float64Array(2 * 600);
    const refB = new Float64Array(3 * 360);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const gij = slice(g, i * 3 + j, 20, 12);
        ref2d(gij, transpose2(slice(b, j, 30, 12))).forEach((v, e) => {
          refA[i * 600 + e] += v;
        });
        ref2d(transpose2(slice(a, i, 20, 30)), gij).forEach((v, e) => {
          refB[j * 360 + e] += v;
        });
      }
    }
    expect(maxAbsDiff(ga!.data, refA)).toBeLessThanOrEqual(1e-12);
    expect(maxAbsDiff(gb!.data, refB)).toBeLessThanOrEqual(1e-12);
  });

  it('float32 agrees with float64 within float32 rounding (js: exactly one rounding)', () => {
    manualSeed(5);
    const to64 = (t: Tensor) => fromArray(t.data, t.shape, { dtype: 'float64' });
    const abs = (t: Tensor) => fromArray(Float64Array.from(t.data, Math.abs), t.shape, { dtype: 'float64' });
    // Products with several k slices; linear adds its bias inside the kernel.
    const a = randn([37, 300]);
    const b = randn([300, 45]);
    const x = randn([4, 5, 70]);
    const w = randn([33, 70]);
    const bias = randn([33]);
    // Several row and column cache blocks, with the bias accumulated into each.
    const x2 = randn([130, 40]);
    const w2 = randn([530, 40]);
    const bias2 = randn([530]);
    const pairs: Array<[Tensor, Tensor, Tensor, number]> = [
      [matmul(a, b), matmul(to64(a), to64(b)), matmul(abs(a), abs(b)), 300],
      [linear(x, w, bias), linear(to64(x), to64(w), to64(bias)), linear(abs(x), abs(w), abs(bias)), 71],
      [
        linear(x2, w2, bias2),
        linear(to64(x2), to64(w2), to64(bias2)),
        linear(abs(x2), abs(w2), abs(bias2)),
        41,
      ],
    ];
    for (const [c32, c64, scale, k] of pairs) {
      expect(c32.dtype).toBe('float32');
      for (let i = 0; i < c64.size; i++) {
        if (kernel === 'js' && k <= 256) expect(c32.data[i]).toBe(Math.fround(c64.data[i]!));
        // float32 accumulation: |error| <= (k + 1)·2^-24·sum|a||b|
        else
          expect(Math.abs(c32.data[i]! - c64.data[i]!)).toBeLessThanOrEqual(
            (k + 1) * 2 ** -24 * scale.data[i]!,
          );
      }
    }
  });
});

describe('errors', () => {
  it('matmul names the op and both shapes', () => {
    expectError(
      () => matmul(tensor(2), randn([3])),
      ShapeError,
      'matmul',
      '[]',
      '[3]',
      'at least one dimension',
    );
    expectError(() => matmul(randn([3]), tensor(2)), ShapeError, 'matmul', '[3]', '[]');
    expectError(
      () => matmul(randn([2, 3]), randn([4, 5])),
      ShapeError,
      'matmul',
      '[2, 3]',
      '[4, 5]',
      '(3)',
      '(4)',
    );
    expectError(() => matmul(randn([3]), randn([4])), ShapeError, 'matmul', '[3]', '[4]');
    expectError(
      () => matmul(randn([2, 3]), randn([4])),
      ShapeError,
      'matmul',
      '[2, 3]',
      '[4]',
      'length of b',
    );
    expectError(
      () => matmul(randn([2, 3, 4]), randn([5, 4, 2])),
      ShapeError,
      'matmul',
      '[2, 3, 4]',
      '[5, 4, 2]',
      'batch',
    );
    expectError(() => matmul(randn([2, 3]), [1, 2] as unknown as Tensor), ArgumentError, 'matmul', "'b'");
    expectError(() => (randn([2]) as Tensor).matmul(null as unknown as Tensor), ArgumentError, 'matmul');
  });

  it('setMatmulKernel rejects unknown kernels; the default here is WebAssembly SIMD', () => {
    expect(matmulKernel()).toBe('wasm');
    expectError(() => setMatmulKernel('gpu' as 'js'), ArgumentError, 'setMatmulKernel', '"gpu"');
    setMatmulKernel('js');
    expect(matmulKernel()).toBe('js');
    setMatmulKernel('auto');
    expect(matmulKernel()).toBe('wasm');
  });

  it('linear names the op and the shapes', () => {
    expectError(() => linear(randn([2, 3]), randn([3])), ShapeError, 'linear', 'weight', '[3]', '2-D');
    expectError(() => linear(tensor(1), randn([2, 1])), ShapeError, 'linear', '[]');
    expectError(
      () => linear(randn([2, 3]), randn([4, 5])),
      ShapeError,
      'linear',
      '[2, 3]',
      '[4, 5]',
      'inFeatures',
    );
    expectError(
      () => linear(randn([2, 3]), randn([4, 3]), randn([3])),
      ShapeError,
      'linear',
      'bias',
      '[3]',
      '[4]',
    );
    expectError(
      () => linear(randn([2, 3]), randn([4, 3]), randn([4, 1])),
      ShapeError,
      'linear',
      'bias',
      '[4, 1]',
    );
    expectError(() => linear(randn([2, 3]), 'w' as unknown as Tensor), ArgumentError, 'linear', "'weight'");
    expectError(
      () => linear(randn([2, 3]), randn([4, 3]), 5 as unknown as Tensor),
      ArgumentError,
      'linear',
      "'bias'",
    );
  });
});
