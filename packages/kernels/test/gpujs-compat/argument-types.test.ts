/** GPU.js feature area: argument types (argumentTypes, vector arrays Array(n)/Array1D(n)/Array2D(n), input()). */
import { ArgumentError, input } from '@gradkit/kernels';
import { expect } from 'vitest';
import { compatSuite, plainArrays } from './compat.js';

const rows = (n: number, w: number) =>
  Array.from({ length: n }, (_, i) => Float32Array.from({ length: w }, (_, c) => i * w + c + 1));

await compatSuite('gpujs-compat/argument-types.test.ts', {
  "argumentTypes { value: 'Array(2)' }: one vector read by component": async (gpu) => {
    const k = gpu.createKernel('function (v) { return v[0] * 10 + v[1]; }', {
      output: [1],
      argumentTypes: { v: 'Array(2)' },
    });
    expect(plainArrays(await k(new Float32Array([3, 4])))).toEqual([34]);
  },
  'Array(3) and Array(4) arguments': async (gpu) => {
    const k3 = gpu.createKernel('function (v) { return v[0] + v[1] + v[2]; }', {
      output: [1],
      argumentTypes: ['Array(3)'],
    });
    expect(plainArrays(await k3([1, 2, 3]))).toEqual([6]);
    const k4 = gpu.createKernel('function (v) { return v[3] - v[0]; }', {
      output: [1],
      argumentTypes: ['Array(4)'],
    });
    expect(plainArrays(await k4([1, 2, 3, 9]))).toEqual([8]);
  },
  'Array1D(2), Array1D(3), Array1D(4): return value[this.thread.x] gives the rows back': async (gpu) => {
    for (const w of [2, 3, 4]) {
      const k = gpu.createKernel('function (value) { return value[this.thread.x]; }', {
        output: [4],
        argumentTypes: { value: `Array1D(${w})` },
      });
      const value = rows(4, w);
      expect(plainArrays(await k(value))).toEqual(plainArrays(value));
    }
  },
  'Array1D(2) read into a vector local': async (gpu) => {
    const k = gpu.createKernel('function (value) { const v = value[this.thread.x]; return v[0] * v[1]; }', {
      output: [3],
      argumentTypes: ['Array1D(2)'],
    });
    expect(plainArrays(await k(rows(3, 2)))).toEqual([2, 12, 30]);
  },
  'Array2D(2): value[y][x] rows of two': async (gpu) => {
    const value = [rows(2, 2), rows(2, 2)];
    const k = gpu.createKernel('function (value) { return value[this.thread.y][this.thread.x]; }', {
      output: [2, 2],
      argumentTypes: { value: 'Array2D(2)' },
    });
    expect(plainArrays(await k(value))).toEqual(plainArrays(value));
  },
  'Integer, Float, Number and Boolean arguments': async (gpu) => {
    const k = gpu.createKernel('function (i, f, n, b) { return b ? i + f + n : -1; }', {
      output: [1],
      argumentTypes: ['Integer', 'Float', 'Number', 'Boolean'],
    });
    expect(plainArrays(await k(2, 0.5, 3, true))).toEqual([5.5]);
    expect(plainArrays(await k(2, 0.5, 3, false))).toEqual([-1]);
  },
  'an argument of the wrong kind for its declared type is an ArgumentError': async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[0]; }', {
      output: [1],
      argumentTypes: { a: 'Array1D(2)' },
    });
    await expect(async () => await k([1, 2])).rejects.toThrow(ArgumentError);
  },
  'unknown argument types and image types are refused': (gpu) => {
    expect(() =>
      gpu.createKernel('function (a) { return 1; }', { output: [1], argumentTypes: ['Nope'] }),
    ).toThrow(ArgumentError);
    expect(() =>
      gpu.createKernel('function (a) { return 1; }', { output: [1], argumentTypes: ['HTMLImage'] }),
    ).toThrow(/image/);
    expect(() =>
      gpu.createKernel('function (a) { return 1; }', { output: [1], argumentTypes: { b: 'Number' } }),
    ).toThrow(/not a parameter/);
  },
  'input(flat, [x, y]) with Input argument type': async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[this.thread.y][this.thread.x]; }', {
      output: [3, 2],
      argumentTypes: ['Input'],
    });
    expect(plainArrays(await k(input(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2])))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  },
  '2-D and 3-D array arguments (Array2D, Array3D)': async (gpu) => {
    const k = gpu.createKernel(
      'function (a, b) { return a[this.thread.y][this.thread.x] + b[1][this.thread.y][this.thread.x]; }',
      {
        output: [2, 2],
        argumentTypes: ['Array2D', 'Array3D'],
      },
    );
    const a = [
      [1, 2],
      [3, 4],
    ];
    const b = [a, a.map((r) => r.map((v) => v * 10))];
    expect(plainArrays(await k(a, b))).toEqual([
      [11, 22],
      [33, 44],
    ]);
  },
});
