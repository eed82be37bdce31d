/** GPU.js feature area: createKernelMap (object and array forms, alias, 3-D output, pipeline). */
import { alias, KernelResult } from '@gradkit/kernels';
import { expect } from 'vitest';
import { type AnyGPU, compatSuite, plainArrays } from './compat.js';

function objectMap(gpu: AnyGPU) {
  const scaled = alias('scaled', function scale(v: number, s: number) {
    return v * s;
  });
  function minus(a: number, b: number) {
    return a - b;
  }
  return gpu.createKernelMap(
    { scaledOut: scaled, minusOut: minus },
    function (this: { thread: { x: number } }, a: number[], b: number[]) {
      return minus(scaled(a[this.thread.x], 3), b[this.thread.x]) * 2;
    },
  );
}

await compatSuite('gpujs-compat/kernel-map.test.ts', {
  'object form with alias: result and each subkernel output': async (gpu) => {
    const k = objectMap(gpu).setOutput([3]);
    const out = (await k([1, 2, 3], [1, 1, 1])) as Record<string, unknown>;
    expect(plainArrays(out.result)).toEqual([4, 10, 16]);
    expect(plainArrays(out.scaledOut)).toEqual([3, 6, 9]);
    expect(plainArrays(out.minusOut)).toEqual([2, 5, 8]);
  },
  'array form: outputs under 0, 1': async (gpu) => {
    function inc(v: number) {
      return v + 1;
    }
    function half(v: number) {
      return v / 2;
    }
    const k = gpu.createKernelMap([inc, half], 'function (a) { return half(inc(a[this.thread.x])) + 100; }', {
      output: [2],
    });
    const out = (await k([1, 5])) as Record<string, unknown>;
    expect(plainArrays(out[0])).toEqual([2, 6]);
    expect(plainArrays(out[1])).toEqual([1, 3]);
    expect(plainArrays(out.result)).toEqual([101, 103]);
  },
  'a subkernel output feeds another kernel (3-D)': async (gpu) => {
    function keep(v: number) {
      return v;
    }
    const k = gpu
      .createKernelMap({ kept: keep }, 'function (v) { return keep(v + this.thread.z); }')
      .setOutput([2, 2, 2]);
    const out = (await k(1)) as Record<string, unknown>;
    const read = gpu
      .createKernel('function (a) { return a[this.thread.z][this.thread.y][this.thread.x] * 10; }')
      .setOutput([2, 2, 2]);
    expect(plainArrays(await read(out.kept as never))).toEqual([
      [
        [10, 10],
        [10, 10],
      ],
      [
        [20, 20],
        [20, 20],
      ],
    ]);
  },
  'pipeline kernel maps return KernelResults': async (gpu) => {
    const k = objectMap(gpu).setOutput([2]).setPipeline(true);
    const out = k([1, 2], [0, 0]) as unknown as Record<string, KernelResult>;
    expect(out.result).toBeInstanceOf(KernelResult);
    expect(plainArrays(await out.scaledOut!.read())).toEqual([3, 6]);
    for (const r of Object.values(out)) r.delete();
  },
});
