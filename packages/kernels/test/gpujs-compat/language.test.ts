/**
 * GPU.js feature areas: bitwise operators, switch, assignment operators and ++/-- inside expressions, nested
 * functions, Math (random, imul, clz32, the rest), ternaries, if/else, loops, Infinity, booleans.
 */
import { CompileError } from '@gradkit/kernels';
import { expect } from 'vitest';
import { compatSuite, plainArrays } from './compat.js';

const one = async (
  gpu: Parameters<Parameters<typeof compatSuite>[1][string]>[0],
  src: string,
  ...args: number[]
) => (plainArrays(await gpu.createKernel(src, { output: [1] })(...args)) as number[])[0];

await compatSuite('gpujs-compat/language.test.ts', {
  'bitwise & | ^ ~ << >> >>> on 32-bit integers': async (gpu) => {
    expect(await one(gpu, 'function (a, b) { return a & b; }', 6, 3)).toBe(2);
    expect(await one(gpu, 'function (a, b) { return a | b; }', 6, 3)).toBe(7);
    expect(await one(gpu, 'function (a, b) { return a ^ b; }', 6, 3)).toBe(5);
    expect(await one(gpu, 'function (a) { return ~a; }', 5)).toBe(-6);
    expect(await one(gpu, 'function (a, b) { return a << b; }', 3, 4)).toBe(48);
    expect(await one(gpu, 'function (a, b) { return a >> b; }', -64, 2)).toBe(-16);
    expect(await one(gpu, 'function (a, b) { return a >>> b; }', -64, 28)).toBe(15);
    expect(await one(gpu, 'function (a) { return a | 0; }', -7.9)).toBe(-7);
    expect(await one(gpu, 'function (a) { return (a << 1) >> 1; }', 2 ** 30 + 128)).toBe(-(2 ** 30) + 128);
    expect(await one(gpu, 'function (a) { return a | 0; }', 2 ** 32 + 512)).toBe(512);
    expect(
      await one(gpu, 'function (a) { let x = a; x &= 12; x |= 1; x ^= 3; x <<= 2; x >>= 1; return x; }', 13),
    ).toBe(((((13 & 12) | 1) ^ 3) << 2) >> 1);
  },
  'bitwise operators over the thread index': async (gpu) => {
    const k = gpu.createKernel(
      'function () { return (this.thread.x & 1) === 1 ? this.thread.x >> 1 : this.thread.x << 1; }',
      {
        output: [6],
      },
    );
    expect(plainArrays(await k())).toEqual([0, 0, 4, 1, 8, 2]);
  },
  'switch: cases, default, grouped cases, default in the middle': async (gpu) => {
    const src = `function (v) {
      switch (v) {
        case 1: return 10;
        case 2:
        case 3: { let t = v * 100; return t; }
        default: return -1;
        case 4: return 40;
      }
    }`;
    for (const [v, want] of [
      [1, 10],
      [2, 200],
      [3, 300],
      [4, 40],
      [5, -1],
    ] as const) {
      expect(await one(gpu, src, v)).toBe(want);
    }
    const withBreak =
      'function (v) { let r = 0; switch (v) { case 1: r = 5; break; case 2: r = 6; break; } return r; }';
    expect(await one(gpu, withBreak, 1)).toBe(5);
    expect(await one(gpu, withBreak, 2)).toBe(6);
    expect(await one(gpu, withBreak, 3)).toBe(0);
    expect(await one(gpu, 'function (v) { switch (v) { default: return 3; } }', 9)).toBe(3);
  },
  'switch fall-through into the next case is a CompileError': (gpu) => {
    expect(() =>
      gpu.createKernel(
        'function (v) { let r = 0; switch (v) { case 1: r = 1; case 2: r += 2; break; } return r; }',
        { output: [1] },
      ),
    ).toThrow(CompileError);
  },
  'assignment operators += -= *= /= %= **=': async (gpu) => {
    expect(
      await one(
        gpu,
        'function (a) { let x = a; x += 3; x -= 1; x *= 4; x /= 2; x %= 7; x **= 2; return x; }',
        5,
      ),
    ).toBe(((((5 + 3 - 1) * 4) / 2) % 7) ** 2);
  },
  '++ and -- and assignments inside expressions': async (gpu) => {
    const k = gpu.createKernel(
      'function (n) { let i = 0; let s = 0; while (i++ < n) { s += i; } let j = 10; const a = j--; const b = --j; let c = 0; let d = c = 4; return s * 1000 + a * 100 + b * 10 + d + c; }',
      { output: [1], loopMaxIterations: 100 },
    );
    expect(plainArrays(await k(4))).toEqual([10 * 1000 + 10 * 100 + 8 * 10 + 8]);
    expect(
      await one(gpu, 'function (a) { let x = 0; let y = (x = a + 1) * 2; return x * 100 + y; }', 3),
    ).toBe(408);
  },
  'an assignment read out of order is refused': (gpu) => {
    expect(() => gpu.createKernel('function (a) { let i = a; return i + i++; }', { output: [1] })).toThrow(
      /read here and assigned later/,
    );
    expect(() =>
      gpu.createKernel('function (a) { let i = a; return a > 0 && (i++ > 1) ? 1 : 0; }', { output: [1] }),
    ).toThrow(/might not run/);
  },
  'nested function declarations': async (gpu) => {
    const k = gpu.createKernel(
      function (this: { thread: { x: number } }, a: number[], b: number[]) {
        function add(x: number, y: number) {
          return x + y;
        }
        return add(a[this.thread.x], b[this.thread.x]);
      },
      { output: [3] },
    );
    expect(plainArrays(await k([1, 2, 3], [10, 20, 30]))).toEqual([11, 22, 33]);
  },
  'Math.random: in [0, 1), varies per thread, repeats with a seed': async (gpu) => {
    const k = gpu.createKernel('function () { return Math.random(); }', { output: [256], seed: 7 });
    const a = plainArrays(await k()) as number[];
    for (const v of a) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    expect(new Set(a).size).toBeGreaterThan(200);
    const again = gpu.createKernel('function () { return Math.random(); }', { output: [256], seed: 7 });
    expect(plainArrays(await again())).toEqual(a);
    expect(plainArrays(await again())).not.toEqual(a);
  },
  'Math.imul and Math.clz32': async (gpu) => {
    expect(await one(gpu, 'function (a, b) { return Math.imul(a, b); }', 0xffff, 0xffff)).toBe(
      Math.imul(0xffff, 0xffff),
    );
    expect(await one(gpu, 'function (a, b) { return Math.imul(a, b); }', -5, 12)).toBe(-60);
    expect(await one(gpu, 'function (a) { return Math.clz32(a); }', 1)).toBe(31);
    expect(await one(gpu, 'function (a) { return Math.clz32(a); }', 0)).toBe(32);
    expect(await one(gpu, 'function (a) { return Math.clz32(a); }', -1)).toBe(0);
  },
  'Math functions and constants': async (gpu) => {
    const k = gpu.createKernel(
      'function (x) { return [Math.floor(x) + Math.ceil(x), Math.round(x) + Math.abs(-x), Math.sqrt(16) + Math.max(x, 3), Math.min(x, 1) + Math.PI]; }',
      { output: [1] },
    );
    const r = (plainArrays(await k(2.5)) as number[][])[0]!;
    expect(r[0]).toBe(5);
    expect(r[1]).toBe(5.5);
    expect(r[2]).toBe(7);
    expect(r[3]).toBeCloseTo(1 + Math.PI, 5);
  },
  'ternary, if / else if / else, Infinity, booleans from expressions': async (gpu) => {
    const k = gpu.createKernel(
      'function (a) { const big = a[this.thread.x] > 2; if (big) { return 1; } else if (a[this.thread.x] === 2) { return a[this.thread.x] < Infinity ? 2 : 0; } else { return big ? 5 : 3; } }',
      { output: [3] },
    );
    expect(plainArrays(await k([1, 2, 3]))).toEqual([3, 2, 1]);
  },
  'for, while and do...while loops with constants and break / continue': async (gpu) => {
    const k = gpu.createKernel(
      'function () { let s = 0; for (let i = 0; i < this.constants.n; i++) { if (i === 2) { continue; } s += i; } let j = 0; do { j++; if (j > 3) { break; } } while (j < 10); return s * 10 + j; }',
      { output: [1], constants: { n: 5 }, loopMaxIterations: 20 },
    );
    expect(plainArrays(await k())).toEqual([84]);
  },
});
