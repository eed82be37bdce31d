/**
 * Variable scoping in kernels follows JavaScript on both backends: `var` is function-scoped (one variable per
 * name; a second `var` is an assignment; reading a `var` before it has a value is refused), `let`/`const` are
 * block-scoped and may shadow outer variables, and reading a `let`/`const` in its temporal dead zone is a
 * CompileError rather than a read of the outer variable.
 */
import { CompileError, GPU, type GPUMode, type KernelOutput } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectFround, flat, plain, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu } = await setupWebGpu('gpu-scoping.test.ts');
const cpu = new GPU({ mode: 'cpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
});

interface Case {
  readonly what: string;
  readonly src: string;
  readonly args?: unknown[];
  readonly output?: number[];
}

const OK: Case[] = [
  {
    what: 'a var redeclared in a block is the same variable (issue 8)',
    src: 'function () { var r = 0; if (this.thread.x > 0) { var r = 5; } return r; }',
  },
  {
    what: 'a var first declared in a branch and assigned in the other',
    src: 'function () { if (this.thread.x > 1) { var r = 5; } else { r = 2; } return r; }',
  },
  {
    what: 'a var declared in both branches',
    src: 'function () { if (this.thread.x % 2 === 0) { var r = this.thread.x; } else { var r = -1; } return r * 3; }',
  },
  {
    what: 'a var of a parameter name is the parameter',
    src: 'function (a) { if (this.thread.x > 0) { var a = 3; } return a + this.thread.x; }',
    args: [7],
  },
  {
    what: 'var counters and a var in a loop body live on after the loop',
    src: 'function () { var s = 0; for (var i = 0; i < this.thread.x; i++) { var t = i * 2; s += t; } return s + i * 100; }',
  },
  {
    what: 'a var assigned before its declaration statement',
    src: 'function () { x = 3; var x = x + this.thread.x; return x; }',
  },
  {
    what: 'var without a value, assigned later on every path',
    src: 'function () { var x; if (this.thread.x > 2) x = 1; else x = 2; return x; }',
  },
  {
    what: 'a var first given a value inside a do-while body and read in its test',
    src: 'function () { var n = 0; do { var k = n * 2; n++; } while (k < this.thread.x); return n + k; }',
  },
  {
    what: 'a let in a block shadows an outer let',
    src: 'function () { let x = 1; { let x = 2 + this.thread.x; x = x * 2; } return x; }',
  },
  {
    what: 'a let in a loop body shadows the outer one on every iteration',
    src: 'function () { let x = 10; let s = 0; for (let i = 0; i < 4; i++) { let x = i + this.thread.x; s += x; } return s * 100 + x; }',
  },
  {
    what: 'a const in an if shadows a parameter',
    src: 'function (a) { let s = a; if (this.thread.x > 1) { const a = 5; s = s + a; } return s + a; }',
    args: [2],
  },
  {
    what: 'a loop counter shadows an outer variable of the same name',
    src: 'function () { let i = 100; let s = 0; for (let i = 0; i < 3; i++) { s += i; } return s + i + this.thread.x; }',
  },
  {
    what: 'sibling blocks declare the same name independently',
    src: 'function () { let s = 0; { let t = 1; s += t; } { let t = 2 + this.thread.x; s += t; } return s; }',
  },
  {
    what: 'a var and a block-scoped let of the same name in another block',
    src: 'function () { { let x = 7; } var x = 2 + this.thread.x; return x; }',
  },
];

const BAD: Array<Case & { readonly message: RegExp }> = [
  {
    what: 'a var read where it may have no value (JavaScript: undefined)',
    src: 'function () { if (this.thread.x > 0) { var r = 5; } return r; }',
    message: /'r' \(a var\) may be read here before/,
  },
  {
    what: 'a var read in its own loop before it is assigned in the body',
    src: 'function () { let s = 0; for (let i = 0; i < 3; i++) { if (i > 0) s += t; var t = i; } return s; }',
    message: /'t' \(a var\) may be read here before/,
  },
  {
    what: 'a var updated before it has a value',
    src: 'function () { if (this.thread.x > 0) { var r = 5; } r += 1; return 0; }',
    message: /'r' \(a var\) may be read here before/,
  },
  {
    what: 'a let read before its declaration in the same block (temporal dead zone)',
    src: 'function () { let x = 1; { let y = x; let x = 2; } return x; }',
    message: /'x' is used before its let\/const declaration/,
  },
  {
    what: 'a let read in its own initialiser while an outer one exists',
    src: 'function () { let x = 1; { let x = x + 1; } return x; }',
    message: /'x' is used before its let\/const declaration/,
  },
  {
    what: 'a loop counter read in its own initialiser',
    src: 'function () { let i = 1; for (let i = i; i < 3; i++) {} return i; }',
    message: /'i' is used before its let\/const declaration/,
  },
];

const BACKENDS: Array<[string, () => GPU<GPUMode> | null]> = [
  ['cpu', () => cpu],
  ['webgpu', () => webgpu],
];

for (const [label, get] of BACKENDS) {
  const run = get() === null ? describe.skip : describe;
  run(`scoping on ${label} matches plain JavaScript`, () => {
    for (const c of OK) {
      it(c.what, async () => {
        const output = c.output ?? [5];
        const args = c.args ?? [];
        const k = get()!.createKernel(c.src, { output: output as [number], loopMaxIterations: 1000 });
        const got = flat((await k(...(args as never[]))) as KernelOutput);
        const want = plain(c.src, output, args);
        if (label === 'cpu') expectFround(got, want, c.what);
        else expectClose(got, want, 0, 0, c.what);
      });
    }
    for (const c of BAD) {
      it(`refused: ${c.what}`, () => {
        let err: unknown;
        try {
          get()!.createKernel(c.src, { output: [2] });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(CompileError);
        expect((err as Error).message).toMatch(c.message);
      });
    }
  });
}

describe('var semantics in helpers', () => {
  it('a helper redeclaring a var in a block', async () => {
    const helper = 'function pick(v) { var r = 1; if (v > 2) { var r = v * 10; } return r; }';
    for (const gpu of [cpu, webgpu]) {
      if (gpu === null) continue;
      const k = (gpu as GPU<GPUMode>).createKernel('function () { return pick(this.thread.x); }', {
        output: [5],
        functions: [helper],
      });
      expect(Array.from(flat((await k()) as KernelOutput))).toEqual([1, 1, 1, 30, 40]);
    }
  });
});
