/**
 * Deep programs never overflow the compiler's call stack: long helper chains are typed iteratively, and
 * nesting deeper than the language's limit (or than acorn or the WGSL compiler accept) is a CompileError — never
 * a RangeError.
 */
import { CompileError, GPU, type GPUMode, GradkitError } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { flat, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu } = await setupWebGpu('gpu-deep.test.ts');
const cpu = new GPU({ mode: 'cpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
});

/** Adds f0 ... f{n-1} where f_i(x) = f_{i+1}(x) + 1 and the last is x + 1. */
function chain(gpu: GPU<GPUMode>, n: number): void {
  for (let i = 0; i < n; i++) {
    gpu.addFunction(
      i === n - 1 ? `function f${i}(x) { return x + 1; }` : `function f${i}(x) { return f${i + 1}(x) + 1; }`,
    );
  }
}

async function outcome(f: () => unknown): Promise<unknown> {
  try {
    return await f();
  } catch (e) {
    return e;
  }
}

describe('helper chains', () => {
  it('f0 calls f1 ... calls f999 works on cpu', () => {
    const gpu = new GPU({ mode: 'cpu' });
    chain(gpu, 1000);
    const k = gpu.createKernel('function () { return f0(this.thread.x); }', { output: [3] });
    expect(Array.from(k() as Float32Array)).toEqual([1000, 1001, 1002]);
    gpu.destroy();
  });

  it('a chain longer than 2000 is a CompileError naming the limit', () => {
    const gpu = new GPU({ mode: 'cpu' });
    chain(gpu, 2100);
    const err = (() => {
      try {
        gpu.createKernel('function () { return f0(this.thread.x); }', { output: [1] })();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CompileError);
    expect((err as Error).message).toMatch(/more than 2000 levels deep/);
    gpu.destroy();
  });

  it('recursion through a long chain is still found', () => {
    const gpu = new GPU({ mode: 'cpu' });
    for (let i = 0; i < 500; i++) gpu.addFunction(`function g${i}(x) { return g${(i + 1) % 500}(x) + 1; }`);
    expect(() => gpu.createKernel('function () { return g0(1); }', { output: [1] })()).toThrow(
      /calls itself/,
    );
    gpu.destroy();
  });

  it.skipIf(webgpu === null)('a chain of 200 helpers on webgpu', async () => {
    const gpu = await GPU.create({ mode: 'webgpu' });
    chain(gpu, 200);
    const k = gpu.createKernel('function () { return f0(this.thread.x); }', { output: [3] });
    expect(Array.from(flat(await k()))).toEqual([200, 201, 202]);
    gpu.destroy();
  });

  it('many helpers, each with a deep expression', () => {
    const gpu = new GPU({ mode: 'cpu' });
    const n = 50;
    const mean = `(${Array(400).fill('x').join(' + ')}) / 400`;
    for (let i = 0; i < n; i++) {
      gpu.addFunction(
        i === n - 1
          ? `function d${i}(x) { return ${mean}; }`
          : `function d${i}(x) { return d${i + 1}(${mean}) + 1; }`,
      );
    }
    const k = gpu.createKernel('function () { return d0(this.thread.x); }', { output: [2] });
    expect(Array.from(k() as Float32Array)).toEqual([49, 50]);
    gpu.destroy();
  });
});

describe('deep nesting is a CompileError, never a RangeError', () => {
  const DEEP: Array<[string, string]> = [
    ['5,000 nested parentheses', `function (a) { return ${'('.repeat(5000)}a${')'.repeat(5000)}; }`],
    ['a + a + ... (5,000 terms)', `function (a) { return ${Array(5000).fill('a').join(' + ')}; }`],
    ['a + a + ... (100,000 terms)', `function (a) { return ${Array(100000).fill('a').join('+')}; }`],
    ['5,000 unary minus', `function (a) { return ${'- '.repeat(5000)}a; }`],
    ['3,000 nested blocks', `function (a) { ${'{'.repeat(3000)} a = a + 1; ${'}'.repeat(3000)} return a; }`],
    ['3,000 nested ifs', `function (a) { ${'if (a > 0) '.repeat(3000)} a = a + 1; return a; }`],
    ['1,500 nested Math.abs', `function (a) { return ${'Math.abs('.repeat(1500)}a${')'.repeat(1500)}; }`],
    ['2,000 nested ternaries', `function (a) { return ${'a > 0 ? a : '.repeat(2000)}0; }`],
  ];
  for (const [what, src] of DEEP) {
    it(what, async () => {
      for (const gpu of [cpu, webgpu]) {
        if (gpu === null) continue;
        const err = await outcome(() => (gpu as GPU<GPUMode>).createKernel(src, { output: [1] })(1 as never));
        expect(err).toBeInstanceOf(CompileError);
        expect((err as Error).message).toMatch(/nested too deeply/);
      }
    });
  }

  it('nesting below the limit (1,000 levels) compiles on cpu; webgpu gives a typed error', async () => {
    const src = `function (a) { return ${Array(900).fill('a').join(' + ')}; }`;
    const k = cpu.createKernel(src, { output: [1] });
    expect(Array.from(k(1) as Float32Array)).toEqual([900]);
    if (webgpu !== null) {
      // The WGSL compiler has a much smaller nesting limit than JavaScript engines.
      const err = await outcome(() => webgpu.createKernel(src, { output: [1] })(1));
      expect(err).toBeInstanceOf(GradkitError);
    }
  });
});
