/** GPU.js feature area: kernels returning Array(2), Array(3), Array(4) (array literals and vector rows). */
import { CompileError } from '@gradkit/kernels';
import { expect } from 'vitest';
import { compatSuite, plainArrays } from './compat.js';

await compatSuite('gpujs-compat/return-arrays.test.ts', {
  'Array(2), Array(3), Array(4) literals on a 1-D output': async (gpu) => {
    for (const items of [
      [5, 6],
      [5, 6, 7],
      [5, 6, 7, 8],
    ]) {
      const k = gpu.createKernel(`function () { return [${items.join(', ')}]; }`, { output: [2] });
      expect(plainArrays(await k())).toEqual([items, items]);
    }
  },
  '2-D output of Array(2): res[y][x] = [x, y]': async (gpu) => {
    const k = gpu.createKernel('function () { return [this.thread.x, this.thread.y]; }', { output: [3, 2] });
    expect(plainArrays(await k())).toEqual([
      [
        [0, 0],
        [1, 0],
        [2, 0],
      ],
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
    ]);
  },
  '3-D output of Array(4)': async (gpu) => {
    const k = gpu.createKernel(
      'function () { return [this.thread.x, this.thread.y, this.thread.z, this.thread.x * this.thread.y * this.thread.z]; }',
      { output: [2, 2, 2] },
    );
    const r = plainArrays(await k()) as number[][][][];
    expect(r[1]![1]![1]).toEqual([1, 1, 1, 1]);
    expect(r[1]![0]![1]).toEqual([1, 0, 1, 0]);
  },
  'components computed from arguments of several typed-array kinds': async (gpu) => {
    const values = Array.from({ length: 33 }, (_, i) => i + 1);
    const k = gpu.createKernel(
      'function (a, b, c) { return [a[this.thread.x], b[this.thread.x], c[this.thread.x] * 2]; }',
      {
        output: [33],
      },
    );
    const r = plainArrays(await k(new Float32Array(values), new Uint16Array(values), new Uint8Array(values)));
    expect(r).toEqual(values.map((v) => [v, v, 2 * v]));
  },
  'a vector local returned (const v = [..]; v[1] = ...; return v)': async (gpu) => {
    const k = gpu.createKernel('function () { const v = [1, 2, 3]; v[1] = this.thread.x; return v; }', {
      output: [2],
    });
    expect(plainArrays(await k())).toEqual([
      [1, 0, 3],
      [1, 1, 3],
    ]);
  },
  'returnType Array(2) is checked against what the kernel returns': async (gpu) => {
    const k = gpu.createKernel('function () { return 1; }', { output: [1], returnType: 'Array(2)' });
    await expect(async () => await k()).rejects.toThrow(CompileError);
  },
  'returns of different widths are a CompileError': async (gpu) => {
    const k = gpu.createKernel('function (a) { if (a > 0) { return [1, 2]; } return [1, 2, 3]; }', {
      output: [1],
    });
    await expect(async () => await k(1)).rejects.toThrow(/every return must give the same/);
  },
  'a vector result passed to the next kernel is a 2-D array [n][2]': async (gpu) => {
    const a = gpu.createKernel('function () { return [this.thread.x, 10 * this.thread.x]; }', {
      output: [3],
      pipeline: true,
    });
    const b = gpu.createKernel('function (v) { return v[this.thread.x][0] + v[this.thread.x][1]; }', {
      output: [3],
    });
    expect(plainArrays(await b(a()))).toEqual([0, 11, 22]);
  },
});
