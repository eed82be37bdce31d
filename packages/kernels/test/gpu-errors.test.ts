/**
 * Everything outside the kernel language is a CompileError naming the construct, with the line and column
 * in the kernel's source (these tests need no WebGPU adapter: parsing and typing happen before any device).
 */
import {
  ArgumentError,
  CompileError,
  DtypeError,
  GPU,
  type GPUMode,
  type KernelThis,
  ShapeError,
  StateError,
} from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const cpu = new GPU({ mode: 'cpu' });
// Created without awaiting a device: createKernel checks the webgpu-only rules at once.
const webgpuMode = new GPU({ mode: 'webgpu' });

interface Bad {
  readonly what: string;
  readonly src: string;
  readonly message: RegExp;
  /** [line, column] of the offending construct. */
  readonly at: [number, number];
  /** Arguments for a call, when the error only shows once argument types are known. */
  readonly args?: unknown[];
  readonly gpu?: GPU<GPUMode>;
}

const BAD: Bad[] = [
  {
    what: 'a closure over an outer variable',
    src: 'function (a) {\n  return a[this.thread.x] * scale;\n}',
    message: /'scale' is not defined inside the kernel.*closures/,
    at: [2, 28],
  },
  {
    what: 'a string literal',
    src: "function (a) {\n  const s = 'x';\n  return 1;\n}",
    message: /strings are not supported/,
    at: [2, 12],
  },
  {
    what: 'a template literal',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the kernel source contains a template literal
    src: 'function () { return `${1}`; }',
    message: /strings are not supported/,
    at: [1, 21],
  },
  {
    what: 'an object literal',
    src: 'function () {\n  const o = { x: 1 };\n  return 1;\n}',
    message: /objects cannot be created inside a kernel/,
    at: [2, 12],
  },
  {
    what: 'an array literal of more than 4 numbers',
    src: 'function () { const o = [1, 2, 3, 4, 5]; return o[0]; }',
    message: /must have 2, 3 or 4 numbers/,
    at: [1, 24],
  },
  {
    what: 'property access on an argument',
    src: 'function (a) { return a.length; }',
    message: /`\.length` is not supported/,
    at: [1, 22],
  },
  {
    what: 'this.foo',
    src: 'function () {\n  return this.foo;\n}',
    message: /this\.foo is not part of the kernel language/,
    at: [2, 9],
  },
  {
    what: 'this.foo.x',
    src: 'function () { return this.foo.x; }',
    message: /this\.foo is not part of the kernel language/,
    at: [1, 21],
  },
  {
    what: 'this.thread.w',
    src: 'function () { return this.thread.w; }',
    message: /this\.thread has only the members x, y and z/,
    at: [1, 21],
  },
  {
    what: 'direct recursion of a helper',
    src: 'function (n) { return fact(n); }',
    message: /'fact' calls itself.*recursion is not supported.*\(in helper 'fact'\)/,
    at: [2, 26], // the recursive call, in the helper's source
    args: [5],
  },
  {
    what: 'a call of an unknown function',
    src: 'function (n) {\n  return foo(n);\n}',
    message: /'foo' is not a known function; add it with gpu\.addFunction/,
    at: [2, 9],
    args: [1],
  },
  {
    what: 'Math.random with an argument',
    src: 'function () { return Math.random(1); }',
    message: /Math\.random takes 0 argument\(s\), got 1/,
    at: [1, 21],
  },
  {
    what: 'an unknown Math function',
    src: 'function () { return Math.f16round(1); }',
    message: /Math\.f16round is not supported/,
    at: [1, 21],
  },
  {
    what: 'wrong Math arity',
    src: 'function () { return Math.exp(1, 2); }',
    message: /Math\.exp takes 1 argument\(s\), got 2/,
    at: [1, 21],
  },
  {
    what: 'writing to an argument',
    src: 'function (a) {\n  a[0] = 1;\n  return 1;\n}',
    message: /array arguments are read-only/,
    at: [2, 2],
  },
  {
    what: 'assigning to a const',
    src: 'function () { const c = 1; c = 2; return c; }',
    message: /cannot assign to const 'c'/,
    at: [1, 27],
  },
  {
    what: 'an assignment inside an expression that might not run',
    src: 'function () { let i = 0; return i > 0 && i++ > 0 ? 1 : 0; }',
    message: /might not run/,
    at: [1, 41],
  },
  {
    what: 'a missing return on some path',
    src: 'function (a) {\n  if (a > 0) return 1;\n}',
    message: /must end with a `return` of a number on every path/,
    at: [3, 1],
  },
  {
    what: 'a bare return',
    src: 'function () { return; }',
    message: /`return` needs a number/,
    at: [1, 14],
  },
  {
    what: 'a switch case falling through',
    src: 'function (a) { let r = 0; switch (a) { case 1: r = 1; case 2: r = 2; } return r; }',
    message: /falls through into the next one/,
    at: [1, 39],
  },
  {
    what: 'for...of',
    src: 'function (a) { let s = 0; for (const v of a) s += v; return s; }',
    message: /'for\.\.\.of' is not supported/,
    at: [1, 26],
  },
  {
    what: 'a nested function expression',
    src: 'function () { const f = function () { return 1; }; return 1; }',
    message: /functions cannot be created inside a kernel/,
    at: [1, 24],
  },
  {
    what: 'an arrow function inside',
    src: 'function () { const f = () => 1; return 1; }',
    message: /functions cannot be created inside a kernel/,
    at: [1, 24],
  },
  {
    what: 'new',
    src: 'function () { return new Date(); }',
    message: /`new` creates objects/,
    at: [1, 21],
  },
  {
    what: 'logical assignment operators',
    src: 'function (a) { let b = a; b ||= 1; return b; }',
    message: /the operator '\|\|=' is not supported/,
    at: [1, 26],
  },
  {
    what: 'try / throw',
    src: 'function () { throw 1; }',
    message: /exceptions \(throw \/ try\) are not supported/,
    at: [1, 14],
  },
  {
    what: 'a labelled break',
    src: 'function () { outer: for (let i = 0; i < 2; i++) { break outer; } return 1; }',
    message: /labels are not supported/,
    at: [1, 14],
  },
  {
    what: '&& used as a number',
    src: 'function (a, b) { return a && b; }',
    message: /'&&' on numbers gives one of the numbers/,
    at: [1, 25],
    args: [1, 2],
  },
  {
    what: 'null',
    src: 'function () { return null; }',
    message: /`null` is not a number/,
    at: [1, 21],
  },
  {
    what: 'an undeclared local (destructuring)',
    src: 'function (a) { const [x] = a; return x; }',
    message: /destructuring is not supported/,
    at: [1, 21],
  },
  {
    what: 'a missing constant',
    src: 'function () { return this.constants.k; }',
    message: /this\.constants\.k is not set \(constants: none\)/,
    at: [1, 21],
    args: [],
  },
  {
    what: 'indexing a number argument',
    src: 'function (n) {\n  return n[0];\n}',
    message: /'n' is a number argument but is indexed/,
    at: [1, 10],
    args: [3],
  },
  {
    what: 'reading an array argument as a number',
    src: 'function (a) { return a + 1; }',
    message: /'a' is an array argument; read its elements/,
    at: [1, 22],
    args: [[1, 2]],
  },
  {
    what: 'indexing a 2-D argument with one index',
    src: 'function (m) { return m[this.thread.x] + 1; }',
    message: /'m' is a 2-D array but is read with 1 index\(es\)/,
    at: [1, 22],
    args: [[[1, 2]]],
  },
  {
    what: 'an unbounded while loop on webgpu',
    src: 'function (a) {\n  let x = a;\n  while (x > 1) x = x / 2;\n  return x;\n}',
    message: /no bound known before it starts.*loopMaxIterations/,
    at: [3, 2],
    gpu: webgpuMode,
  },
  {
    what: 'a for loop whose counter changes in the body, on webgpu',
    src: 'function (n) {\n  let s = 0;\n  for (let i = 0; i < n; i++) { i = i + s; s++; }\n  return s;\n}',
    message: /no bound known before it starts/,
    at: [3, 2],
    gpu: webgpuMode,
  },
  {
    what: 'a for loop whose limit changes in the body, on webgpu',
    src: 'function (n) {\n  let m = n;\n  for (let i = 0; i < m; i++) { m = m + 1; }\n  return m;\n}',
    message: /no bound known before it starts/,
    at: [3, 2],
    gpu: webgpuMode,
  },
  {
    what: 'strict equality between a boolean and a number (always false in JavaScript)',
    src: 'function (a) {\n  return (a > 1) === 1 ? 1 : 0;\n}',
    message: /'===' between a boolean and a number is always false in JavaScript/,
    at: [2, 9],
    args: [2],
  },
  {
    what: 'a syntax error',
    src: 'function (a) {\n  return a +;\n}',
    message: /could not be parsed/,
    at: [2, 12],
  },
];

describe('unsupported constructs are CompileErrors with line and column', () => {
  cpu.addFunction('function fact(n) {\n  return n <= 1 ? 1 : n * fact(n - 1);\n}');
  for (const bad of BAD) {
    it(bad.what, () => {
      const gpu: GPU<GPUMode> = bad.gpu ?? cpu;
      let err: unknown;
      try {
        const k = gpu.createKernel(bad.src, { output: [2] });
        if (bad.args) (k as (...a: unknown[]) => unknown)(...bad.args);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CompileError);
      const c = err as CompileError;
      expect(c.code).toBe('E_COMPILE');
      expect(c.message).toMatch(bad.message);
      expect([c.line, c.column]).toEqual(bad.at);
      expect(c.message).toContain(`(line ${bad.at[0]}, column ${bad.at[1]})`);
    });
  }

  it('a kernel written in TypeScript reports positions in its transpiled source', () => {
    const outer = 3;
    let err: unknown;
    try {
      cpu.createKernel(
        function (this: KernelThis, a: number[]) {
          return a[this.thread.x] * outer;
        },
        { output: [1] },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).message).toMatch(/'outer' is not defined inside the kernel/);
    expect((err as CompileError).line).toBe(2);
  });

  it('a while loop is fine on cpu, and on webgpu with loopMaxIterations', () => {
    const src = 'function (a) { let x = a; while (x > 1) x = x / 2; return x; }';
    expect(() => cpu.createKernel(src, { output: [1] })).not.toThrow();
    expect(() => webgpuMode.createKernel(src, { output: [1], loopMaxIterations: 100 })).not.toThrow();
  });
});

describe('settings and arguments are checked', () => {
  it('output sizes', () => {
    expect(() =>
      cpu.createKernel('function () { return 1; }', { output: [0] as unknown as [number] }),
    ).toThrow(ShapeError);
    expect(() =>
      cpu.createKernel('function () { return 1; }', { output: [1, 2, 3, 4] as unknown as [number] }),
    ).toThrow(/1 to 3 positive integers/);
    expect(() => cpu.createKernel('function () { return 1; }', { output: { x: 2, y: 3 } })).not.toThrow();
  });

  it('unknown settings, non-number constants, bad loopMaxIterations', () => {
    const src = 'function () { return 1; }';
    expect(() => cpu.createKernel(src, { output: [1], graphical: true } as never)).toThrow(
      /'graphical' output \(rendering to a canvas\) is not supported/,
    );
    expect(() => cpu.createKernel(src, { output: [1], subKernels: [] } as never)).toThrow(
      /unknown setting 'subKernels'.*createKernelMap/,
    );
    // Issue 8: a constant that is not a number is a CompileError naming the constant.
    expect(() => cpu.createKernel(src, { output: [1], constants: { a: 'x' } as never })).toThrow(
      CompileError,
    );
    expect(() => cpu.createKernel(src, { output: [1], constants: { a: 'x' } as never })).toThrow(
      /constant "a" must be a number, got string "x"/,
    );
    expect(() => cpu.createKernel(src, { output: [1], loopMaxIterations: 0 })).toThrow(/positive integer/);
  });

  it("precision 'double' needs cpu", () => {
    expect(() =>
      webgpuMode.createKernel('function () { return 1; }', { output: [1], precision: 'double' }),
    ).toThrow(DtypeError);
  });

  it('argument count, ragged and non-numeric arrays', () => {
    const k = cpu.createKernel('function (a) { return a[this.thread.y][this.thread.x]; }', {
      output: [2, 2],
    });
    expect(() => k()).toThrow(/takes 1 argument\(s\) \(a\), got 0/);
    expect(() => k([[1, 2], [3]])).toThrow(ShapeError);
    expect(() =>
      k([
        [1, 2],
        [3, 'x'],
      ] as never),
    ).toThrow(/holds string at \[1\]\[1\]/);
    expect(() => k({} as never)).toThrow(ArgumentError);
  });

  it('helpers need a name', () => {
    expect(() => cpu.addFunction((x: number) => x)).toThrow(/needs a name/);
    expect(() => cpu.addFunction('function (x) { return x; }', { name: 'ident' })).not.toThrow();
  });

  it('a destroyed GPU refuses further use', () => {
    const g = new GPU({ mode: 'cpu' });
    const k = g.createKernel('function () { return 1; }', { output: [1] });
    g.destroy();
    expect(() => k()).toThrow(StateError);
    expect(() => g.createKernel('function () { return 1; }', { output: [1] })).toThrow(/destroyed/);
  });
});
