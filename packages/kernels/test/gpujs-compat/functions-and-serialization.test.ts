/**
 * GPU.js feature areas: helper functions (addFunction, { name, source }, setFunctions, functions setting),
 * native functions (the GLSL subset), precision (single, unsigned, double), toString, toJSON, combineKernels.
 */
import { CompileError, GPU } from '@gradkit/kernels';
import { expect } from 'vitest';
import { compatSuite, plainArrays } from './compat.js';

await compatSuite('gpujs-compat/functions-and-serialization.test.ts', {
  'addFunction: function, source text, { name, source }': async (gpu) => {
    gpu.addFunction(function triple(v: number) {
      return v * 3;
    });
    gpu.addFunction('function plus(a, b) { return a + b; }');
    gpu.addFunction({ name: 'neg', source: 'function (v) { return -v; }' });
    const k = gpu
      .createKernel('function (a) { return neg(plus(triple(a[this.thread.x]), 1)); }')
      .setOutput([2]);
    expect(plainArrays(await k([1, 2]))).toEqual([-4, -7]);
  },
  'addFunction with GPU.js function settings (argumentTypes, returnType)': async (gpu) => {
    gpu.addFunction(
      function sq(v: number) {
        return v * v;
      },
      { argumentTypes: { v: 'Number' }, returnType: 'Number' },
    );
    const k = gpu.createKernel('function () { return sq(this.thread.x); }', { output: [3] });
    expect(plainArrays(await k())).toEqual([0, 1, 4]);
  },
  'kernel setFunctions / functions setting / setNativeFunctions': async (gpu) => {
    const k = gpu
      .createKernel('function (a) { return f(a) + g(a); }')
      .setOutput([1])
      .setFunctions([
        function f(v: number) {
          return v + 1;
        },
      ])
      .setNativeFunctions([{ name: 'g', source: 'float g(float v) { return v * 2.0; }' }]);
    expect(plainArrays(await k(5))).toEqual([16]);
    const k2 = gpu.createKernel('function (a) { return h(a); }', {
      output: [1],
      functions: ['function h(x) { return x - 1; }'],
    });
    expect(plainArrays(await k2(5))).toEqual([4]);
  },
  'native functions: int/float conversions and GLSL built-ins': async (gpu) => {
    gpu.addNativeFunction('combine', 'float combine(int a, float b) { return float(a + int(b)); }');
    gpu.addNativeFunction(
      'shape',
      `float shape(float x) {
        float y = clamp(x, 0.0, 1.0);
        return mix(2.0, 4.0, y) + mod(x, 3.0) + fract(1.25) + step(0.5, y);
      }`,
    );
    const k = gpu.createKernel('function (a, b) { return combine(a, b) * 100 + shape(b); }', { output: [1] });
    const b = 2.5;
    const y = Math.min(Math.max(b, 0), 1);
    const shape = 2 * (1 - y) + 4 * y + (b - 3 * Math.floor(b / 3)) + 0.25 + (y < 0.5 ? 0 : 1);
    expect(plainArrays(await k(3, b))).toEqual([Math.fround(5 * 100 + shape)]);
  },
  'native functions outside the scalar subset are a CompileError': () => {
    const g = new GPU({ mode: 'cpu' });
    expect(() => g.addNativeFunction('v', 'vec2 v(float a) { return vec2(a, a); }')).toThrow(CompileError);
    expect(() => g.addNativeFunction('d', 'int d(int a, int b) { return a / b; }')).toThrow(
      /integer division/,
    );
    expect(() => g.addNativeFunction('x', 'float y(float a) { return a; }')).toThrow(/registered as 'x'/);
    g.destroy();
  },
  "precision 'unsigned' computes like 'single'": async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[this.thread.x] / 3; }', {
      output: [2],
      precision: 'unsigned',
    });
    const r = await k([1, 2]);
    expect(r).toBeInstanceOf(Float32Array);
    expect(plainArrays(r)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3)]);
  },
  'toString(args) gives a standalone function that runs without gradkit': async (gpu) => {
    const k = gpu.createKernel('function (a, s) { return [a[this.thread.x] * s, this.thread.x]; }', {
      output: [3],
    });
    const source = k.toString([1, 2, 3], 2);
    const standalone = new Function(`return ${source}`)()({}) as (...args: unknown[]) => Float32Array[];
    expect(plainArrays(standalone([1, 2, 3], 2))).toEqual([
      [2, 0],
      [4, 1],
      [6, 2],
    ]);
    expect(plainArrays(standalone([4, 5, 6], 10))).toEqual([
      [40, 0],
      [50, 1],
      [60, 2],
    ]);
  },
  'toString of a 2-D kernel with a helper and constants': async (gpu) => {
    const k = gpu.createKernel(
      function (this: { thread: { x: number; y: number }; constants: { c: number } }, m: number[][]) {
        function inc(v: number) {
          return v + 1;
        }
        return inc(m[this.thread.y][this.thread.x]) * this.constants.c;
      },
      { output: [2, 2], constants: { c: 3 } },
    );
    const m = [
      [1, 2],
      [3, 4],
    ];
    const standalone = new Function(`return ${k.toString(m)}`)()() as (m: number[][]) => Float32Array[];
    expect(plainArrays(standalone(m))).toEqual(plainArrays(await k(m)));
  },
  'toJSON round-trips through createKernel(json)': async (gpu) => {
    const k = gpu.createKernel('function (v) { return v + this.constants.k; }', {
      output: [2],
      constants: { k: 1 },
    });
    const json = JSON.parse(JSON.stringify(k.toJSON()));
    const again = gpu.createKernel(json);
    expect(plainArrays(await again(3))).toEqual([4, 4]);
  },
  'combineKernels keeps intermediates on the device': async (gpu) => {
    const add = gpu.createKernel('function (a, b) { return a[this.thread.x] + b[this.thread.x]; }', {
      output: [3],
      pipeline: true,
    });
    const mul = gpu.createKernel('function (a, b) { return a[this.thread.x] * b[this.thread.x]; }', {
      output: [3],
      pipeline: true,
    });
    const both = gpu.combineKernels(add, mul, (a: number[], b: number[], c: number[]) => mul(add(a, b), c));
    expect(plainArrays(await both([1, 2, 3], [1, 1, 1], [2, 2, 2]))).toEqual([4, 6, 8]);
  },
});
