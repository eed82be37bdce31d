/** GPU.js feature area: creating kernels, `setOutput` after creation, the setter surface, settings. */
import { ArgumentError, GPU, ShapeError } from '@gradkit/kernels';
import { expect } from 'vitest';
import { compatSuite, plainArrays } from './compat.js';

await compatSuite('gpujs-compat/output-and-settings.test.ts', {
  'createKernel(fn).setOutput([n]) (output not required at creation)': async (gpu) => {
    const k = gpu
      .createKernel(function (this: { thread: { x: number } }, a: number[]) {
        return a[this.thread.x] * 2;
      })
      .setOutput([4]);
    expect(plainArrays(await k([1, 2, 3, 4]))).toEqual([2, 4, 6, 8]);
  },
  'a call before setOutput is a ShapeError': async (gpu) => {
    const k = gpu.createKernel('function () { return 1; }');
    await expect(async () => await k()).rejects.toThrow(ShapeError);
  },
  'output as { x, y } and as [x, y, z]': async (gpu) => {
    const k = gpu.createKernel(
      'function () { return this.thread.x + 10 * this.thread.y + 100 * this.thread.z; }',
    );
    k.setOutput({ x: 2, y: 2 });
    expect(plainArrays(await k())).toEqual([
      [0, 1],
      [10, 11],
    ]);
    k.setOutput([1, 2, 2]);
    expect(plainArrays(await k())).toEqual([
      [[0], [10]],
      [[100], [110]],
    ]);
  },
  'every setter chains and returns the kernel': async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[this.thread.x] + this.constants.c; }');
    const same = k
      .setOutput([3])
      .setConstants({ c: 1 })
      .setPipeline(false)
      .setImmutable(true)
      .setLoopMaxIterations(100)
      .setDynamicOutput(true)
      .setDynamicArguments(true)
      .setArgumentTypes(['Array'])
      .setPrecision('single')
      .setTactic('speed')
      .setWarnVarUsage(false)
      .setOptimizeFloatMemory(true)
      .setStrictIntegers(false)
      .setFixIntegerDivisionAccuracy(true)
      .setUseLegacyEncoder(false)
      .setDebug(false)
      .setGraphical(false)
      .setFunctions([])
      .setNativeFunctions([]);
    expect(same).toBe(k);
    expect(plainArrays(await k([1, 2, 3]))).toEqual([2, 3, 4]);
  },
  'WebGL-only settings are accepted and change nothing': async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[this.thread.x] / 2; }', {
      output: [2],
      tactic: 'precision',
      optimizeFloatMemory: true,
      fixIntegerDivisionAccuracy: true,
      strictIntegers: true,
      useLegacyEncoder: true,
      warnVarUsage: false,
      debug: false,
      validate: true,
      immutable: true,
      dynamicOutput: true,
      dynamicArguments: true,
      hardcodeConstants: true,
      mode: 'gpu',
      graphical: false,
    });
    expect(plainArrays(await k([3, 5]))).toEqual([1.5, 2.5]);
  },
  'unknown settings are refused (createKernel and new GPU)': () => {
    expect(() => new GPU({ mode: 'cpu', nope: 1 } as never)).toThrow(ArgumentError);
    expect(() =>
      new GPU({ mode: 'cpu' }).createKernel('function () { return 1; }', { nope: 1 } as never),
    ).toThrow(/unknown setting 'nope'/);
  },
  'graphical: true is refused': (gpu) => {
    expect(() => gpu.createKernel('function () { return 1; }', { output: [1], graphical: true })).toThrow(
      /graphical/,
    );
  },
  'dynamic output: a kernel runs at several sizes': async (gpu) => {
    const k = gpu.createKernel('function (a) { return a[this.thread.x] + this.output.x; }', {
      dynamicOutput: true,
    });
    k.setOutput([2]);
    expect(plainArrays(await k([1, 2, 3]))).toEqual([3, 4]);
    k.setOutput([3]);
    expect(plainArrays(await k([1, 2, 3]))).toEqual([4, 5, 6]);
  },
  'dynamic arguments: argument sizes change between calls': async (gpu) => {
    const k = gpu.createKernel(
      'function (a, n) { let s = 0; for (let i = 0; i < n; i++) { s += a[i]; } return s; }',
      {
        output: [1],
        loopMaxIterations: 10,
        dynamicArguments: true,
      },
    );
    expect(plainArrays(await k([1, 2], 2))).toEqual([3]);
    expect(plainArrays(await k([1, 2, 3, 4], 4))).toEqual([10]);
  },
  'pipeline results chain into the next kernel (setPipeline)': async (gpu) => {
    const a = gpu
      .createKernel('function (v) { return v[this.thread.x] * 3; }')
      .setOutput([3])
      .setPipeline(true);
    const b = gpu.createKernel('function (v) { return v[this.thread.x] + 1; }').setOutput([3]);
    const r = a([1, 2, 3]) as never;
    expect(plainArrays(await b(r))).toEqual([4, 7, 10]);
  },
  'new GPU({ mode, functions, nativeFunctions })': async (gpu, mode) => {
    const g = new GPU({
      mode,
      ...(mode === 'webgpu' ? { device: gpu.device! } : {}),
      functions: [
        function twice(v: number) {
          return v * 2;
        },
      ],
      nativeFunctions: [{ name: 'plusOne', source: 'float plusOne(float v) { return v + 1.0; }' }],
    });
    try {
      await g.ready();
      const k = g.createKernel('function (a) { return plusOne(twice(a[this.thread.x])); }').setOutput([2]);
      expect(plainArrays(await k([1, 5]))).toEqual([3, 11]);
    } finally {
      g.destroy();
    }
  },
  'exec returns a Promise of the result': async (gpu) => {
    const k = gpu.createKernel('function () { return this.thread.x; }', { output: [3] });
    expect(plainArrays(await k.exec())).toEqual([0, 1, 2]);
  },
});
