/**
 * Loops never hang: with `loopMaxIterations` every loop is capped on both backends (bounded-looking ones too),
 * and without it the webgpu backend runs only loops whose trip count is finite for every input — a
 * compile-time limit, an integer counter that cannot wrap, a float counter that always advances. Everything
 * else is a CompileError saying to set the cap.
 */
import { CompileError, GPU, type GPUMode, type KernelOutput } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { flat, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu, skip } = await setupWebGpu('gpu-loops.test.ts');
const cpu = new GPU({ mode: 'cpu' });
// Created without awaiting a device: createKernel checks what does not depend on argument types at once.
const webgpuMode = new GPU({ mode: 'webgpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
  webgpuMode.destroy();
});

interface Hostile {
  readonly what: string;
  readonly src: string;
  readonly args?: unknown[];
  readonly constants?: Record<string, number>;
  /** The result with loopMaxIterations = CAP, for thread x = 0 and 1. */
  readonly capped: number[];
  /** The CompileError on webgpu without a cap: at createKernel (no device needed) or at the first call. */
  readonly refused: RegExp;
  readonly atCall?: boolean;
  /** Refused on webgpu even with a cap: the i32 counter would wrap where JavaScript's does not. */
  readonly wraps?: boolean;
}

const CAP = 50;

const HOSTILE: Hostile[] = [
  {
    what: 'while (true)-like loop',
    src: 'function () { let x = 0; while (x >= 0) { x = x + 1; } return x + this.thread.x; }',
    capped: [50, 51],
    refused: /no bound known before it starts/,
  },
  {
    what: 'do-while that never ends',
    src: 'function () { let x = 0; do { x += 2; } while (x !== 1); return x + this.thread.x; }',
    capped: [100, 101],
    refused: /no bound known before it starts/,
  },
  {
    what: 'an Infinity limit',
    src: 'function () { let s = 0; for (let i = 0; i < Infinity; i++) s += 1; return s + this.thread.x; }',
    capped: [50, 51],
    refused: /no bound known before it starts/,
  },
  {
    what: 'an Infinity constant as the limit',
    src: 'function () { let s = 0; for (let i = 0; i < this.constants.n; i++) s += 1; return s + this.thread.x; }',
    constants: { n: Number.POSITIVE_INFINITY },
    capped: [50, 51],
    refused: /limit is Infinity, not a finite number/,
  },
  {
    what: 'a NaN constant as the limit (ends at once)',
    src: 'function () { let s = 0; for (let i = 0; i < this.constants.n; i++) s += 1; return s + this.thread.x; }',
    constants: { n: Number.NaN },
    capped: [0, 1],
    refused: /limit is NaN, not a finite number/,
  },
  {
    what: 'a limit from an argument (1e30)',
    src: 'function (n) { let s = 0; for (let i = 0; i < n; i++) s += 1; return s + this.thread.x; }',
    args: [1e30],
    capped: [50, 51],
    refused: /limit is not known when the kernel is compiled/,
  },
  {
    what: 'a limit from an array element',
    src: 'function (a) { let s = 0; for (let i = 0; i < a[0]; i++) s += 1; return s + this.thread.x; }',
    args: [[1e30]],
    capped: [50, 51],
    refused: /limit is not known when the kernel is compiled/,
  },
  {
    what: 'a limit from this.output',
    src: 'function () { let s = 0; for (let i = 0; i < this.output.x * 100; i++) s += 1; return s + this.thread.x; }',
    capped: [50, 51],
    refused: /limit is not known when the kernel is compiled/,
  },
  {
    what: 'an integer counter up to 1e30 (would wrap in i32 uncapped; capped at 50 from 0 it cannot)',
    src: 'function () { let s = 0; for (let i = 0; i < 1e30; i++) s += 1; return s + this.thread.x; }',
    capped: [50, 51],
    refused: /integer counter could pass the 32-bit range/,
    atCall: true,
  },
  {
    what: 'an integer counter to 2^31 - 1 inclusive (never ends in i32)',
    src: 'function () { let s = 0; for (let i = 2147483640; i <= 2147483647; i++) s += 1; return s + this.thread.x; }',
    capped: [8, 9],
    refused: /integer counter could pass the 32-bit range/,
    atCall: true,
    wraps: true,
  },
  {
    what: 'a float counter stepping by 1e-300',
    src: 'function () { let s = 0; for (let x = 0; x < 1; x += 1e-300) s += 1; return s + this.thread.x; }',
    capped: [50, 51],
    refused: /float counter cannot advance reliably in float32/,
    atCall: true,
  },
  {
    what: 'a float counter past 2^24',
    src: 'function () { let s = 0; for (let x = 0.5; x < 1e9; x += 1) s += 1; return s + this.thread.x; }',
    capped: [50, 51],
    refused: /float counter cannot advance reliably in float32/,
    atCall: true,
  },
  {
    what: 'a float counter starting at an argument',
    src: 'function (n) { let s = 0; for (let x = n; x < 10; x += 0.5) s += 1; return s + this.thread.x; }',
    args: [-1e30],
    capped: [50, 51],
    refused: /limit|float whose start is not known/,
    atCall: true,
  },
  {
    what: 'a helper with a loop over a parameter',
    src: 'function (n) { return count(n) + this.thread.x; }',
    args: [1e30],
    capped: [50, 51],
    refused: /limit is not known when the kernel is compiled.*in helper 'count'/,
    atCall: true,
  },
  {
    what: 'nested loops, each capped',
    src: 'function (n) { let s = 0; for (let i = 0; i < n; i++) { let j = 0; while (j >= 0) { j++; s++; } } return s + this.thread.x; }',
    args: [1e30],
    capped: [2500, 2501],
    refused: /limit is not known/,
  },
];

const HELPER = 'function count(n) { let s = 0; for (let i = 0; i < n; i++) s += 1; return s; }';

function make<M extends GPUMode>(gpu: GPU<M>, h: Hostile, cap?: number) {
  return gpu.createKernel(h.src, {
    output: [2],
    constants: h.constants ?? {},
    functions: [HELPER],
    ...(cap !== undefined ? { loopMaxIterations: cap } : {}),
  });
}

describe('with loopMaxIterations every hostile loop stops, on cpu', () => {
  for (const h of HOSTILE) {
    it(h.what, () => {
      const k = make(cpu, h, CAP);
      expect(Array.from(k(...((h.args ?? []) as never[])) as Float32Array)).toEqual(h.capped);
    });
  }
});

describe.skipIf(webgpu === null)(
  `with loopMaxIterations every hostile loop stops, on webgpu${skip ? ' (skipped)' : ''}`,
  () => {
    for (const h of HOSTILE) {
      it(h.what, async () => {
        const k = make(webgpu!, h, CAP);
        if (h.wraps) {
          await expect(k(...((h.args ?? []) as never[]))).rejects.toThrow(CompileError);
          await expect(k(...((h.args ?? []) as never[]))).rejects.toThrow(
            /use a float counter or a smaller limit/,
          );
          return;
        }
        expect(Array.from(flat(await k(...((h.args ?? []) as never[]))))).toEqual(h.capped);
        expect(k.getSource().wgsl).toMatch(new RegExp(`>= ${CAP}i\\) \\{ break; \\}`));
      });
    }
  },
);

describe('without loopMaxIterations, webgpu refuses every loop that is not finite for every input', () => {
  for (const h of HOSTILE) {
    const gpu = h.atCall ? webgpu : webgpuMode;
    it.skipIf(gpu === null)(h.what, async () => {
      let err: unknown;
      try {
        const k = make(gpu!, h);
        await k(...((h.args ?? []) as never[]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CompileError);
      expect((err as Error).message).toMatch(h.refused);
      expect((err as Error).message).toMatch(/loopMaxIterations/);
    });
  }
});

describe('loopMaxIterations caps loops judged bounded too, identically on both backends', () => {
  const src =
    'function () { let s = 0; for (let i = 0; i < 10; i++) { for (let j = 0; j < 4; j++) s += 1; } return s + this.thread.x; }';
  it('cpu', () => {
    const k = cpu.createKernel(src, { output: [2], loopMaxIterations: 3 });
    expect(Array.from(k() as Float32Array)).toEqual([9, 10]);
    k.setLoopMaxIterations(100);
    expect(Array.from(k() as Float32Array)).toEqual([40, 41]);
  });
  it('cpu, on the loop-interchanged reduction path', () => {
    const k = cpu.createKernel(
      'function (m) { let s = 0; for (let i = 0; i < 8; i++) s += m[i][this.thread.x]; return s; }',
      { output: [3], loopMaxIterations: 5 },
    );
    const m = Array.from({ length: 8 }, () => [1, 2, 3]);
    expect(Array.from(k(m) as Float32Array)).toEqual([5, 10, 15]);
    expect(k.getSource().javascript).toContain('gk_acc');
  });
  it.skipIf(webgpu === null)('webgpu', async () => {
    const k = webgpu!.createKernel(src, { output: [2], loopMaxIterations: 3 });
    expect(Array.from(flat((await k()) as KernelOutput))).toEqual([9, 10]);
  });
});

describe('loops webgpu runs uncapped: finite compile-time trip counts', () => {
  const OK = [
    'function () { let s = 0; for (let i = 0; i < 100; i++) s += i; return s + this.thread.x; }',
    'function () { let s = 0; for (let i = this.thread.x; i < this.constants.n; i += 3) s += i; return s; }',
    'function () { let s = 0; for (let i = 10; i > -5; i -= 2) s += i; return s + this.thread.x; }',
    'function () { let s = 0; for (let x = 0; x < 2; x += 0.25) s += x; return s + this.thread.x; }',
    'function () { let s = 0; for (let i = 0; i < Math.floor(this.constants.n / 2) + 1; i++) s += i; return s; }',
  ];
  for (const src of OK) {
    it.skipIf(webgpu === null)(src, async () => {
      const k = webgpu!.createKernel(src, { output: [3], constants: { n: 20 } });
      const c = cpu.createKernel(src, { output: [3], constants: { n: 20 } });
      expect(Array.from(flat((await k()) as KernelOutput))).toEqual(Array.from(c() as Float32Array));
      expect(k.getSource().wgsl).not.toMatch(/gk_it\d+ >= /);
    });
  }
});
