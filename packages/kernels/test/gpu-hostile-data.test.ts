/**
 * No code from data: kernel settings, constants, helper names and `this.*` members are read by own keys only
 * and validated, so a polluted `Object.prototype` or a hostile value never changes a kernel or reaches the
 * generated code; everything that is refused is a typed GradkitError naming what was wrong.
 */
import {
  ArgumentError,
  CompileError,
  GPU,
  type GPUMode,
  GradkitError,
  type KernelOutput,
  ShapeError,
} from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { flat } from './gpu-harness.js';

const cpu = new GPU({ mode: 'cpu' });
const webgpuMode = new GPU({ mode: 'webgpu' });
afterAll(() => {
  cpu.destroy();
  webgpuMode.destroy();
});

const g = globalThis as { __gkPwned?: unknown };

/** Runs `f` with `Object.prototype[key] = value`, restoring the prototype afterwards. */
function polluted<T>(entries: Record<string, unknown>, f: () => T): T {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [k, v] of Object.entries(entries)) {
    Object.defineProperty(proto, k, { value: v, configurable: true, writable: true, enumerable: true });
  }
  try {
    return f();
  } finally {
    for (const k of Object.keys(entries)) delete proto[k];
  }
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('a polluted Object.prototype never reaches a kernel', () => {
  it('an inherited constant is not a constant, and its text never runs (issue 8)', () => {
    const err = polluted({ scale: '(globalThis.__gkPwned = 1, 2)' }, () =>
      thrown(() => cpu.createKernel('function () { return this.constants.scale; }', { output: [2] })()),
    );
    expect(g.__gkPwned).toBeUndefined();
    expect(err).toBeInstanceOf(CompileError);
    expect((err as Error).message).toMatch(/this\.constants\.scale is not set \(constants: none\)/);
  });

  it('inherited settings are ignored: output, loopMaxIterations, precision, pipeline, constants', () => {
    const k = polluted(
      {
        loopMaxIterations: 3,
        precision: 'double',
        pipeline: true,
        constants: { c: 9 },
        functions: ['function evil() { return 1; }'],
      },
      () =>
        cpu.createKernel('function () { let n = 0; while (n < 10) n++; return n + this.thread.x; }', {
          output: [2],
        }),
    );
    const out = k() as Float32Array;
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual([10, 11]);
    expect(k.pipeline).toBe(false);
  });

  it('an inherited output is not an output', () => {
    // Output may be set after creation (GPU.js's createKernel(fn).setOutput(...)): the kernel has none, and
    // calling it is a ShapeError.
    const k = polluted({ output: [4] }, () => cpu.createKernel('function () { return 1; }', {} as never));
    expect(k.output).toBeNull();
    expect(thrown(() => k())).toBeInstanceOf(ShapeError);
  });

  it('inherited GPU settings are ignored', () => {
    const gpu = polluted({ mode: 'webgpu', device: {} }, () => new GPU({ mode: 'cpu' }));
    expect(gpu.backend).toBe('cpu');
    gpu.destroy();
  });
});

describe('this.thread / this.output / this.constants: own members only', () => {
  const BAD: Array<[string, RegExp]> = [
    ['this.thread.__proto__', /this\.thread has only the members x, y and z/],
    ['this.thread.constructor', /this\.thread has only the members x, y and z/],
    ['this.output.toString', /this\.output has only the members x, y and z/],
    ["this.output['valueOf']", /this\.output has only the members x, y and z/],
    ['this.thread.hasOwnProperty', /this\.thread has only the members x, y and z/],
    ['this.constants.__proto__', /this\.constants\.__proto__ is not set/],
    ['this.constants.constructor', /this\.constants\.constructor is not set/],
    ["this.constants['toString']", /this\.constants\.toString is not set/],
  ];
  for (const [member, message] of BAD) {
    it(member, () => {
      const err = thrown(() =>
        cpu.createKernel(`function () { return ${member}; }`, { output: [1], constants: { a: 1 } })(),
      );
      expect(err).toBeInstanceOf(CompileError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('an own constant named __proto__ (from JSON.parse) is that constant', () => {
    const constants = JSON.parse('{"__proto__": 3, "constructor": 4}') as Record<string, number>;
    const k = cpu.createKernel(
      'function () { return this.constants.__proto__ * 10 + this.constants.constructor; }',
      {
        output: [1],
        constants,
      },
    );
    expect(Array.from(k() as Float32Array)).toEqual([34]);
  });
});

describe('constants must be numbers; anything else is a CompileError naming the constant', () => {
  const sym = Symbol('s');
  const BAD: Array<[string, Record<string | symbol, unknown>, RegExp]> = [
    ['a string', { scale: '(globalThis.__gkPwned = 1, 2)' }, /constant "scale" must be a number, got string/],
    ['a boolean', { flag: true }, /constant "flag" must be a number, got boolean true/],
    ['a bigint', { big: 10n }, /constant "big" must be a number, got bigint 10/],
    ['an object with valueOf', { o: { valueOf: () => 2 } }, /constant "o" must be a number, got Object/],
    ['a function', { f: () => 1 }, /constant "f" must be a number, got function/],
    ['an array', { arr: [1, 2] }, /constant "arr" must be a number, got array of length 2.*kernel arguments/],
    ['a typed array', { t: new Float32Array(2) }, /constant "t" must be a number, got Float32Array/],
    ['a Number object', { n: Object(3) }, /constant "n" must be a number, got Number/],
    ['null', { z: null }, /constant "z" must be a number, got null/],
    ['a symbol key', { [sym]: 1 }, /constant names must be strings/],
  ];
  for (const [what, constants, message] of BAD) {
    it(what, () => {
      const src = 'function () { return 1; }';
      for (const make of [
        () => cpu.createKernel(src, { output: [1], constants: constants as never }),
        () => cpu.createKernel(src, { output: [1] }).setConstants(constants as never),
      ]) {
        const err = thrown(make);
        expect(err).toBeInstanceOf(CompileError);
        expect((err as Error).message).toMatch(message);
      }
      expect(g.__gkPwned).toBeUndefined();
    });
  }

  it('a getter constant is refused without being called', () => {
    let called = false;
    const constants = {
      get c() {
        called = true;
        return 1;
      },
    };
    const err = thrown(() => cpu.createKernel('function () { return 1; }', { output: [1], constants }));
    expect(err).toBeInstanceOf(CompileError);
    expect((err as Error).message).toMatch(/constant "c" is a getter/);
    expect(called).toBe(false);
  });

  it('non-finite numbers are constants', () => {
    const k = cpu.createKernel('function () { return this.constants.a + this.constants.b; }', {
      output: [1],
      constants: { a: Number.POSITIVE_INFINITY, b: 1 },
    });
    expect(Array.from(k() as Float32Array)).toEqual([Number.POSITIVE_INFINITY]);
    k.setConstants({ a: Number.NaN, b: 1 });
    expect(Number.isNaN((k() as Float32Array)[0])).toBe(true);
  });

  it('constants that are not an object', () => {
    for (const c of ['x', 3, [1], null]) {
      expect(
        thrown(() => cpu.createKernel('function () { return 1; }', { output: [1], constants: c as never })),
      ).toBeInstanceOf(CompileError);
    }
  });
});

describe('settings are read by own keys and checked', () => {
  const src = 'function () { return 1; }';

  it('GPU.js settings that only tune WebGL code are accepted and ignored', () => {
    const k = cpu.createKernel(src, {
      output: [2],
      tactic: 'speed',
      optimizeFloatMemory: true,
      fixIntegerDivisionAccuracy: true,
      strictIntegers: false,
      useLegacyEncoder: false,
      warnVarUsage: false,
      debug: false,
      validate: true,
      argumentTypes: {},
    });
    expect(Array.from(k() as Float32Array)).toEqual([1, 1]);
    const gpu = new GPU({ mode: 'cpu', canvas: {}, context: {} });
    gpu.destroy();
  });

  it('other keys are ArgumentErrors listing the valid ones', () => {
    const err = thrown(() => cpu.createKernel(src, { output: [1], subKernels: [] } as never));
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toMatch(/unknown setting 'subKernels' \(a GPU\.js setting: sub-kernels/);
    expect((err as Error).message).toMatch(/supported: output, constants, pipeline/);
    expect(thrown(() => cpu.createKernel(src, { output: [1], outptu: [1] } as never))).toBeInstanceOf(
      ArgumentError,
    );
    const sym = thrown(() => cpu.createKernel(src, { output: [1], [Symbol('x')]: 1 } as never));
    expect(sym).toBeInstanceOf(ArgumentError);
    expect(thrown(() => new GPU({ mode: 'cpu', modee: 'cpu' } as never))).toBeInstanceOf(ArgumentError);
    expect((thrown(() => new GPU({ mode: 'cpu', modee: 'cpu' } as never)) as Error).message).toMatch(
      /unknown setting 'modee'.*supported: mode, device/,
    );
  });

  it('getters in settings are refused without being called', () => {
    let called = false;
    const settings = {
      get output() {
        called = true;
        return [1];
      },
    };
    expect(thrown(() => cpu.createKernel(src, settings as never))).toBeInstanceOf(ArgumentError);
    expect(called).toBe(false);
  });

  it('values that would make JSON.stringify or String() run user code or throw', () => {
    const evil = {
      toJSON() {
        throw new Error('toJSON ran');
      },
      toString() {
        throw new Error('toString ran');
      },
    };
    for (const f of [
      () => new GPU({ mode: 1n } as never),
      () => new GPU({ mode: evil } as never),
      () => cpu.createKernel(src, { output: [1], precision: evil } as never),
      () => cpu.createKernel(src, { output: evil } as never),
      () => cpu.createKernel(src, { output: [evil] } as never),
      () => cpu.createKernel(src, { output: [1n] } as never),
      () => cpu.createKernel(src, { output: [1], loopMaxIterations: evil } as never),
      () => cpu.createKernel(src, { output: [1], functions: evil } as never),
      () => cpu.createKernel(src, { output: [1], functions: [undefined] } as never),
      () => cpu.addFunction(undefined as never),
      () => cpu.addFunction('function f() { return 1; }', { name: evil } as never),
      () => cpu.addFunction('function f() { return 1; }', { nmae: 'g' } as never),
    ]) {
      const err = thrown(f);
      expect(err).toBeInstanceOf(GradkitError);
    }
  });
});

describe('helper names and sources', () => {
  it('a function whose name property is not an identifier cannot smuggle code', () => {
    const f = (x: number) => x + 1;
    Object.defineProperty(f, 'name', { value: 'a(){}; globalThis.__gkPwned = 1; function b' });
    const err = thrown(() => cpu.addFunction(f));
    expect(err).toBeInstanceOf(ArgumentError);
    expect(g.__gkPwned).toBeUndefined();
  });

  it('an overridden toString is not the source that is compiled', () => {
    const f = function plusOne(x: number) {
      return x + 1;
    };
    f.toString = () => 'function plusOne(x) { return globalThis.__gkPwned = 1; }';
    const gpu = new GPU({ mode: 'cpu' });
    gpu.addFunction(f);
    const kernel = function (this: { thread: { x: number } }) {
      return 0;
    };
    kernel.toString = () => 'function () { return 99; }';
    const k = gpu.createKernel(kernel as never, { output: [1] });
    expect(Array.from(k() as Float32Array)).toEqual([0]);
    const k2 = gpu.createKernel('function () { return plusOne(this.thread.x); }', { output: [2] });
    expect(Array.from(flat(k2() as KernelOutput))).toEqual([1, 2]);
    expect(g.__gkPwned).toBeUndefined();
    gpu.destroy();
  });

  it('helper names never reach generated code unsanitised', () => {
    const gpu: GPU<GPUMode> = new GPU({ mode: 'cpu' });
    gpu.addFunction('function (x) { return x * 2; }', { name: '$dbl' });
    const k = gpu.createKernel('function () { return $dbl(this.thread.x); }', { output: [3] });
    expect(Array.from(k() as Float32Array)).toEqual([0, 2, 4]);
    expect(thrown(() => gpu.addFunction('function (x) { return x; }', { name: 'a-b' }))).toBeInstanceOf(
      ArgumentError,
    );
    gpu.destroy();
  });
});

describe('the webgpu-mode GPU checks the same at createKernel', () => {
  it('constants and members', () => {
    expect(
      thrown(() =>
        webgpuMode.createKernel('function () { return 1; }', { output: [1], constants: { s: 'x' } as never }),
      ),
    ).toBeInstanceOf(CompileError);
  });
});
