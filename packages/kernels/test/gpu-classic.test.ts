/**
 * The classic GPU.js examples (matrix multiply, element-wise ops with constants, a 2-D output, pipeline
 * chaining and combineKernels) give the same numbers as plain JavaScript on cpu and webgpu; pipeline handles,
 * setOutput / setConstants / addFunction, input(), precision and the GPU's life cycle behave as documented.
 */
import {
  GPU,
  type GPUMode,
  input,
  type KernelOutput,
  KernelResult,
  type KernelThis,
  StateError,
} from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectFround, flat, plain, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu } = await setupWebGpu('gpu-classic.test.ts');
const cpu = new GPU({ mode: 'cpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
});

const matmulFn = function (this: KernelThis, a: number[][], b: number[][]) {
  let sum = 0;
  for (let i = 0; i < this.constants.size; i++) {
    sum += a[this.thread.y][i] * b[i][this.thread.x];
  }
  return sum;
};

const rand = (seed: number) => {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround((s / 2 ** 32) * 2 - 1);
  };
};
const matrix = (rows: number, cols: number, r: () => number) =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, r));

const dims = fc.tuple(
  fc.integer({ min: 1, max: 40 }),
  fc.integer({ min: 1, max: 30 }),
  fc.integer({ min: 1, max: 70 }),
);

/** Runs on each backend that exists here; `read` awaits in every mode. */
const BACKENDS: Array<[string, () => GPU<GPUMode> | null]> = [
  ['cpu', () => cpu],
  ['webgpu', () => webgpu],
];

for (const [label, get] of BACKENDS) {
  const run = get() === null ? describe.skip : describe;
  run(`classic GPU.js examples on ${label}`, () => {
    const gpu = () => get()!;
    const check = (
      got: ArrayLike<number>,
      want: ArrayLike<number>,
      rtol: number,
      atol: number,
      what: string,
    ) => (label === 'cpu' ? expectFround(got, want, what) : expectClose(got, want, rtol, atol, what));

    it('matrix multiply (m×k by k×n, sizes not multiples of 64)', async () => {
      const mul = gpu().createKernel(matmulFn, { output: [1, 1], constants: { size: 1 } });
      await fc.assert(
        fc.asyncProperty(dims, fc.integer(), async ([m, k, n], seed) => {
          const r = rand(seed);
          const a = matrix(m, k, r);
          const b = matrix(k, n, r);
          mul.setOutput([n, m]).setConstants({ size: k });
          const got = flat(await mul.run(a, b));
          check(got, plain(matmulFn, [n, m], [a, b], { size: k }), 1e-5, 1e-5 * k, 'matmul');
        }),
        propertyConfig({ numRuns: label === 'cpu' ? 40 : 12 }),
      );
    });

    it('element-wise ops with constants', async () => {
      const fn = function (this: KernelThis, a: number[], b: number[]) {
        return a[this.thread.x] * this.constants.scale + b[this.thread.x] - this.constants.shift;
      };
      const k = gpu().createKernel(fn, { output: [1], constants: { scale: 2.5, shift: 1 } });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 300 }), fc.integer(), async (n, seed) => {
          const r = rand(seed);
          const a = Array.from({ length: n }, r);
          const b = Array.from({ length: n }, r);
          k.setOutput([n]);
          check(flat(await k.run(a, b)), plain(fn, [n], [a, b], { scale: 2.5, shift: 1 }), 1e-6, 1e-6, 'ew');
        }),
        propertyConfig({ numRuns: label === 'cpu' ? 40 : 12 }),
      );
      k.setConstants({ scale: -1, shift: 0 });
      k.setOutput([3]);
      check(flat(await k.run([1, 2, 3], [1, 1, 1])), [0, -1, -2], 0, 0, 'setConstants');
    });

    it('a 2-D output (result[y][x])', async () => {
      const fn = function (this: KernelThis) {
        return this.thread.x * 0.5 + this.thread.y * 100 + Math.sin(this.thread.x);
      };
      const k = gpu().createKernel(fn, { output: [70, 3] });
      const out = (await k.run()) as Float32Array[];
      expect(out).toHaveLength(3);
      expect(out[2]).toHaveLength(70);
      check(flat(out), plain(fn, [70, 3], []), 1e-6, 1e-6, '2-D');
      expect(out[1]![4]).toBeCloseTo(102 + Math.sin(4), 5);
    });

    it('pipeline chaining: a result stays on the backend and feeds the next kernel', async () => {
      const g = gpu();
      await g.ready();
      const add = g.createKernel(
        function (this: KernelThis, a: number[], b: number[]) {
          return a[this.thread.x] + b[this.thread.x];
        },
        { output: [5], pipeline: true },
      );
      const mulK = g.createKernel(
        function (this: KernelThis, a: number[], c: number) {
          return a[this.thread.x] * c;
        },
        { output: [5], pipeline: true },
      );
      const h1 = add([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]);
      expect(h1).toBeInstanceOf(KernelResult);
      expect(h1.backend).toBe(label);
      const h2 = mulK(h1, 2);
      expect(Array.from((await h2.read()) as Float32Array)).toEqual([22, 44, 66, 88, 110]);
      expect(Array.from(await h2.readFlat())).toEqual([22, 44, 66, 88, 110]);
      h1.delete();
      expect(h1.deleted).toBe(true);
      expect(() => mulK(h1, 2)).toThrow(StateError);
      await expect(h1.read()).rejects.toThrow(StateError);
      h1.delete(); // idempotent
      h2.delete();
    });

    it('combineKernels keeps intermediates on the backend and frees them', async () => {
      const g = gpu();
      const add = g.createKernel(
        function (this: KernelThis, a: number[], b: number[]) {
          return a[this.thread.x] + b[this.thread.x];
        },
        { output: [4], pipeline: true },
      );
      const times = g.createKernel(
        function (this: KernelThis, a: number[], b: number[]) {
          return a[this.thread.x] * b[this.thread.x];
        },
        { output: [4], pipeline: true },
      );
      const superKernel = g.combineKernels(add, times, (a: number[], b: number[], c: number[]) =>
        times(add(a, b), c),
      );
      const out = await superKernel([1, 2, 3, 4], [1, 1, 1, 1], [2, 3, 4, 5]);
      expect(Array.from(out as Float32Array)).toEqual([4, 9, 16, 25]);
    });

    it('3-D output and input(data, [x, y, z]) for flat data', async () => {
      const fn = function (this: KernelThis, v: number[][][]) {
        return v[this.thread.z][this.thread.y][this.thread.x] * 2 + this.thread.z;
      };
      const k = gpu().createKernel(fn, { output: [3, 2, 2] });
      const data = Float32Array.from({ length: 12 }, (_, i) => i);
      const out = (await k.run(input(data, [3, 2, 2]))) as KernelOutput;
      const nested = [
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        [
          [6, 7, 8],
          [9, 10, 11],
        ],
      ];
      check(flat(out), plain(fn, [3, 2, 2], [nested]), 0, 0, '3-D');
      expect((out as Float32Array[][])[1]![0]![2]).toBe(17);
    });

    it('helpers added to the GPU after the kernel was made, and helpers reading this.thread', async () => {
      const g = gpu();
      const k = g.createKernel('function (a) { return twice(a[this.thread.x]) + threadId(); }', {
        output: [3],
      });
      g.addFunction(function twice(v: number) {
        return v * 2;
      });
      g.addFunction(function threadId(this: KernelThis) {
        return this.thread.x * 1000;
      });
      expect(Array.from((await k.run([1, 2, 3])) as Float32Array)).toEqual([2, 1004, 2006]);
      g.addFunction('function twice(v) { return v * 3; }');
      expect(Array.from((await k.run([1, 2, 3])) as Float32Array)).toEqual([3, 1006, 2009]);
    });
  });
}

describe('cpu specifics', () => {
  it('calls are synchronous in cpu mode; run() returns a Promise', async () => {
    const k = cpu.createKernel('function (a) { return a[this.thread.x] + 1; }', { output: [2] });
    const direct = k([1, 2]);
    expect(direct).toBeInstanceOf(Float32Array);
    const viaRun = k.run([1, 2]);
    expect(viaRun).toBeInstanceOf(Promise);
    expect(Array.from((await viaRun) as Float32Array)).toEqual([2, 3]);
  });

  it("precision 'double' gives Float64Array results computed in float64", () => {
    const k = cpu.createKernel('function (a) { return a[this.thread.x] / 3; }', {
      output: [1],
      precision: 'double',
    });
    const out = k([1]) as Float64Array;
    expect(out).toBeInstanceOf(Float64Array);
    expect(out[0]).toBe(1 / 3);
  });

  it('the matmul kernel takes the loop-interchanged path and equals the plain loop bit for bit', () => {
    const mul = cpu.createKernel(matmulFn, { output: [33, 17], constants: { size: 29 } });
    const r = rand(7);
    const a = matrix(17, 29, r);
    const b = matrix(29, 33, r);
    const got = flat(mul(a, b));
    expect(mul.getSource().javascript).toContain('gk_acc');
    expectFround(got, plain(matmulFn, [33, 17], [a, b], { size: 29 }), 'interchanged matmul');
    // A reduction whose reads are contiguous along the counter keeps the plain loop order.
    const rowSum = cpu.createKernel(
      function (this: KernelThis, m: number[][]) {
        let s = 0;
        for (let i = 0; i < this.constants.n; i++) s += m[this.thread.x][i];
        return s;
      },
      { output: [17], constants: { n: 29 } },
    );
    rowSum(a);
    expect(rowSum.getSource().javascript).not.toContain('gk_acc');
  });

  it('the fast paths fall back to checked reads where a row is out of range', () => {
    // Reduction: b has fewer columns than the output, and a has fewer rows.
    const mul = cpu.createKernel(matmulFn, { output: [4, 3], constants: { size: 2 } });
    const a = [
      [1, 2],
      [3, 4],
    ];
    const b = [
      [1, 0, 1],
      [0, 1, 1],
    ];
    const out = mul(a, b) as Float32Array[];
    expect(mul.getSource().javascript).toContain('gk_acc');
    expect(Array.from(out[0]!)).toEqual([1, 2, 3, Number.NaN]);
    expect(Array.from(out[1]!)).toEqual([3, 4, 7, Number.NaN]);
    expect(Array.from(out[2]!).every(Number.isNaN)).toBe(true);
    // Plain path: the row index runs past the first dimension on the last output row.
    const shifted = cpu.createKernel(
      function (this: KernelThis, m: number[][]) {
        return m[this.thread.y + 1][this.thread.x];
      },
      { output: [2, 2] },
    );
    const s = shifted([
      [1, 2],
      [3, 4],
    ]) as Float32Array[];
    expect(Array.from(s[0]!)).toEqual([3, 4]);
    expect(Array.from(s[1]!).every(Number.isNaN)).toBe(true);
  });

  it('a pipeline result of cpu mode reads synchronously; gpu.destroy() deletes live results', () => {
    const g = new GPU({ mode: 'cpu' });
    const k = g.createKernel('function () { return this.thread.x; }', { output: [3], pipeline: true });
    const h = k();
    expect(Array.from(h.toArray() as Float32Array)).toEqual([0, 1, 2]);
    expect(Array.from(h.toFlatArray())).toEqual([0, 1, 2]);
    g.destroy();
    expect(h.deleted).toBe(true);
    expect(() => h.toArray()).toThrow(StateError);
  });

  it('auto mode resolves to a backend and returns Promises', async () => {
    const g = new GPU();
    const k = g.createKernel('function () { return this.thread.x * 2; }', { output: [3] });
    const out = k();
    expect(out).toBeInstanceOf(Promise);
    expect(Array.from((await out) as Float32Array)).toEqual([0, 2, 4]);
    expect(['cpu', 'webgpu']).toContain(g.backend);
    g.destroy();
  });

  it('a pipeline call before the backend is chosen is a StateError', () => {
    const g = new GPU({ mode: 'auto' });
    const k = g.createKernel('function () { return 1; }', { output: [1], pipeline: true });
    expect(() => k()).toThrow(/await gpu\.ready\(\)/);
    g.destroy();
  });
});

describe.skipIf(webgpu === null)('webgpu specifics', () => {
  it('destroy() releases results; a destroyed GPU refuses calls', async () => {
    const g = await GPU.create({ mode: 'webgpu' });
    const k = g.createKernel('function () { return this.thread.x; }', { output: [100], pipeline: true });
    const h = k();
    expect(h.backend).toBe('webgpu');
    expect(() => h.toArray()).not.toThrow(); // a Promise in webgpu mode
    expect(((await h.toArray()) as Float32Array)[99]).toBe(99);
    g.destroy();
    expect(h.deleted).toBe(true);
    expect(() => k()).toThrow(StateError);
  });

  it('large 1-D outputs span several dispatch rows (more than 65535 workgroups)', async () => {
    const n = 65535 * 64 + 100;
    const k = webgpu!.createKernel('function () { return this.thread.x % 1000; }', { output: [n] });
    const out = (await k()) as Float32Array;
    expect(out[n - 1]).toBe((n - 1) % 1000);
    expect(out[123456]).toBe(123456 % 1000);
    k.destroy();
  });
});
