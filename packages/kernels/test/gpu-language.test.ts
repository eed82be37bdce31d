/**
 * Every feature of the kernel language, run on cpu and on webgpu and compared with evaluating the original
 * function in plain JavaScript, over fast-check inputs and output sizes (many not multiples of the workgroup
 * size, 64). The cpu backend must give exactly Math.fround of plain JavaScript; webgpu (float32 throughout)
 * must agree within float32 tolerance.
 */
import { GPU, type GPUMode, type HelperFunction, type KernelOutput, type KernelThis } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectFround, flat, plain, setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu, skip } = await setupWebGpu('gpu-language.test.ts');
const cpu = new GPU({ mode: 'cpu' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
});

type Fn = ((this: KernelThis, ...args: never[]) => number | boolean) | string;

interface Case {
  readonly output: number[];
  readonly args: unknown[];
}

interface Feature {
  readonly name: string;
  readonly fn: Fn;
  readonly gen: fc.Arbitrary<Case>;
  readonly constants?: Record<string, number>;
  readonly loopMaxIterations?: number;
  readonly functions?: HelperFunction[];
  /** webgpu tolerance */
  readonly rtol?: number;
  readonly atol?: number;
}

/** Float32 values; subnormals become 0 (GPUs may flush them to zero, which is allowed by WGSL). */
const f32 = (min: number, max: number) =>
  fc
    .float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
    .map((v) => (Math.abs(v) < 1.1754943508222875e-38 ? 0 : v));
const ints = (min: number, max: number) => fc.integer({ min, max });
const vec = <T>(n: number, v: fc.Arbitrary<T>): fc.Arbitrary<T[]> =>
  fc.array(v, { minLength: n, maxLength: n });
const size = fc.integer({ min: 1, max: 150 });

/** One 1-D array of `n` values (plain array or Float32Array), optionally followed by a number argument. */
function oneArray(v: fc.Arbitrary<number>, extra?: fc.Arbitrary<number>): fc.Arbitrary<Case> {
  return size.chain((n) =>
    fc.tuple(vec(n, v), fc.boolean(), extra ?? fc.constant(Number.NaN)).map(([a, typed, e]) => ({
      output: [n],
      args: extra ? [typed ? Float32Array.from(a) : a, e] : [typed ? Float32Array.from(a) : a],
    })),
  );
}

function twoArrays(va: fc.Arbitrary<number>, vb: fc.Arbitrary<number>): fc.Arbitrary<Case> {
  return size.chain((n) => fc.tuple(vec(n, va), vec(n, vb)).map(([a, b]) => ({ output: [n], args: [a, b] })));
}

function square(v: number): number {
  return v * v;
}

function rowDot(m: number[][], r: number, k: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) s += m[r][j] * square(j);
  return s;
}

const FEATURES: Feature[] = [
  {
    name: 'this.thread.x/y/z and this.output.x/y/z on a 3-D output',
    fn: function (this: KernelThis) {
      return (
        this.thread.x +
        1000 * this.thread.y +
        100000 * this.thread.z +
        0.5 * this.output.x -
        this.output.y +
        this.output.z
      );
    },
    gen: fc.tuple(ints(1, 130), ints(1, 4), ints(1, 3)).map(([x, y, z]) => ({ output: [x, y, z], args: [] })),
  },
  {
    name: 'a 1-D array or typed array and a number argument',
    fn: function (this: KernelThis, a: number[], s: number) {
      return a[this.thread.x] * s + s;
    },
    gen: oneArray(f32(-100, 100), f32(-10, 10)),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'a 2-D argument (arrays or typed rows) on a 2-D output',
    fn: function (this: KernelThis, m: number[][]) {
      return m[this.thread.y][this.thread.x] - m[0][this.thread.x] * 0.5;
    },
    gen: fc.tuple(ints(1, 90), ints(1, 5)).chain(([x, y]) =>
      fc.tuple(vec(y, vec(x, f32(-100, 100))), fc.boolean()).map(([m, typed]) => ({
        output: [x, y],
        args: [typed ? m.map((r) => Float32Array.from(r)) : m],
      })),
    ),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'a 3-D argument on a 3-D output',
    fn: function (this: KernelThis, v: number[][][]) {
      return v[this.thread.z][this.thread.y][this.thread.x] + v[0][0][0];
    },
    gen: fc
      .tuple(ints(1, 70), ints(1, 3), ints(1, 3))
      .chain(([x, y, z]) =>
        vec(z, vec(y, vec(x, f32(-100, 100)))).map((v) => ({ output: [x, y, z], args: [v] })),
      ),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'arithmetic: + - * / % ** and unary - +',
    fn: function (this: KernelThis, a: number[], b: number[]) {
      const x = a[this.thread.x];
      const y = b[this.thread.x];
      return (
        ((x + y) * (x - y)) / (1 + y * y) + (x % 3.5) + -x + +y + 2 ** 3 + x ** 2 + (this.thread.x % 7) * 0.25
      );
    },
    gen: twoArrays(
      f32(-50, 50).map((v) => Math.round(v * 4) / 4),
      f32(-20, 20),
    ),
    rtol: 2e-6,
    atol: 1e-3,
  },
  {
    name: 'comparisons < <= > >= === !== == != (with NaN operands)',
    fn: function (this: KernelThis, a: number[], b: number[]) {
      const x = a[this.thread.x];
      const y = b[this.thread.x];
      let r = 0;
      if (x < y) r += 1;
      if (x <= y) r += 2;
      if (x > y) r += 4;
      if (x >= y) r += 8;
      if (x === y) r += 16;
      if (x !== y) r += 32;
      // biome-ignore lint/suspicious/noDoubleEquals: the kernel language treats == like ===
      if (x == y) r += 64;
      // biome-ignore lint/suspicious/noDoubleEquals: the kernel language treats != like !==
      if (x != y) r += 128;
      return r;
    },
    gen: twoArrays(fc.constantFrom(-1, 0, 1, 2.5, Number.NaN), fc.constantFrom(-1, 0, 1, 2.5, Number.NaN)),
  },
  {
    name: 'booleans as numbers and numbers as conditions (string source)',
    fn: 'function (a, b) { const x = a[this.thread.x]; const y = b[this.thread.x]; const t = x < y; return t * 3 + (x >= y) + (t === true ? 10 : 0) + (x ? 100 : 0) + !y; }',
    gen: twoArrays(fc.constantFrom(-1, 0, 1, 2.5, Number.NaN), fc.constantFrom(-1, 0, 1, 2.5)),
  },
  {
    name: '&& || and ! in conditions, on comparisons and on numbers',
    fn: function (this: KernelThis, a: number[], b: number[]) {
      const x = a[this.thread.x];
      const y = b[this.thread.x];
      let r = 0;
      if ((x > 0 && y > 0) || !(x < -0.5)) r += 1;
      if (x && y) r += 2;
      if (x || !y) r += 4;
      const both = x > 0 && y > 0;
      return r + (both ? 8 : 0) + (!both || x === y ? 16 : 0);
    },
    gen: twoArrays(
      fc.constantFrom(-1, 0, -0, 1, 2.5, Number.NaN),
      fc.constantFrom(-1, 0, 1, 2.5, Number.NaN),
    ),
  },
  {
    name: 'ternaries, nested',
    fn: function (this: KernelThis, a: number[], b: number[]) {
      const x = a[this.thread.x];
      const y = b[this.thread.x];
      return x > 0 ? (y > 0 ? x * y : x - y) : y > 0 ? -1 : this.thread.x > 3 ? y : 0.5;
    },
    gen: twoArrays(f32(-10, 10), f32(-10, 10)),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'if / else if / else with early returns',
    fn: function (this: KernelThis, a: number[]) {
      const x = a[this.thread.x];
      if (x < -50) return -1;
      else if (x < 0) {
        return x * 2;
      } else if (x === 0) return 100;
      if (x > 50) {
        return 3;
      } else {
        return x + 1;
      }
    },
    gen: oneArray(fc.oneof(f32(-100, 100), fc.constant(0))),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'for loops: counting up by a number argument, down by 2, nested',
    fn: function (this: KernelThis, a: number[], n: number) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[k] * (k + this.thread.x);
      for (let k = n - 1; k >= 0; k -= 2) {
        for (let j = 0; j <= 2; j++) s -= a[k] * j;
      }
      return s;
    },
    gen: size.chain((n) =>
      fc
        .tuple(vec(Math.max(n, 30), f32(-10, 10)), ints(0, 30))
        .map(([a, k]) => ({ output: [n], args: [a, k] })),
    ),
    // The limit n is an argument: the webgpu backend needs a cap for loops whose limit is not a compile-time
    // number (issue 8); n <= 30 stays far below it.
    loopMaxIterations: 1000,
    rtol: 1e-5,
    atol: 5e-3,
  },
  {
    name: 'while and do-while loops (capped by loopMaxIterations)',
    fn: function (this: KernelThis, a: number[]) {
      let x = Math.abs(a[this.thread.x]) + 1;
      let steps = 0;
      while (x > 1) {
        x = x / 2;
        steps++;
      }
      let j = 0;
      do {
        j += 3;
      } while (j < steps);
      return steps * 100 + j;
    },
    gen: oneArray(ints(-100000, 100000)),
    loopMaxIterations: 1000,
  },
  {
    name: 'break and continue',
    fn: function (this: KernelThis, a: number[]) {
      let s = 0;
      for (let k = 0; k < 20; k++) {
        if (k % 3 === 0) continue;
        if (k > a[this.thread.x]) break;
        s += k;
      }
      return s;
    },
    gen: oneArray(ints(-5, 25)),
  },
  {
    name: 'early return from inside a loop',
    fn: function (this: KernelThis, a: number[], t: number[]) {
      for (let k = 0; k < 40; k++) {
        if (a[k] > t[this.thread.x]) return k;
      }
      return -1;
    },
    gen: size.chain((n) =>
      fc
        .tuple(vec(40, ints(-100, 100)), vec(n, ints(-100, 110)))
        .map(([a, t]) => ({ output: [n], args: [a, t] })),
    ),
  },
  {
    name: 'let / const, reassignment, += -= *= /= %= **= ++ --, boolean locals',
    fn: function (this: KernelThis, a: number[]) {
      let v = a[this.thread.x];
      const w = 2;
      v += w;
      v -= 0.5;
      v *= 3;
      v /= 4;
      v %= 5;
      let c = 0;
      c++;
      c++;
      c--;
      ++c;
      let p = c;
      p **= 3;
      let flag = false;
      if (v > 1) flag = true;
      return v + c + p + (flag ? 10 : 0);
    },
    gen: oneArray(ints(-100, 100)),
  },
  {
    name: 'helper functions: nested helpers, an array parameter, int and float specialisations',
    fn: function (this: KernelThis, m: number[][], k: number) {
      return rowDot(m, this.thread.x, k) + square(2) + square(0.5) + square(m[this.thread.x][0]);
    },
    functions: [square, rowDot],
    loopMaxIterations: 1000, // rowDot's limit is a parameter (see above)
    gen: size.chain((n) =>
      fc.tuple(vec(n, vec(6, f32(-10, 10))), ints(0, 6)).map(([m, k]) => ({ output: [n], args: [m, k] })),
    ),
    rtol: 1e-5,
    atol: 1e-3,
  },
  {
    name: 'constants',
    fn: function (this: KernelThis, a: number[]) {
      let s = this.constants.offset;
      for (let k = 0; k < this.constants.n; k++) s += a[this.thread.x] * this.constants.scale;
      return s;
    },
    constants: { scale: 0.5, offset: 3, n: 3 },
    gen: oneArray(f32(-100, 100)),
    rtol: 1e-6,
    atol: 1e-4,
  },
  {
    name: 'fractional and out-of-range indices read NaN (as undefined does in JavaScript)',
    fn: function (this: KernelThis, a: number[]) {
      return a[this.thread.x / 2] + a[Math.floor(this.thread.x / 2)] + a[this.thread.x + 1];
    },
    gen: oneArray(f32(-100, 100)),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'reads along this.thread.x past the end of a row read NaN (outputs wider than the arrays)',
    fn: function (this: KernelThis, a: number[], m: number[][]) {
      return a[this.thread.x] + m[this.thread.y][this.thread.x] * 2;
    },
    gen: fc
      .tuple(ints(1, 80), ints(0, 3), ints(1, 4))
      .chain(([n, extra, y]) =>
        fc
          .tuple(vec(n + (extra === 0 ? 0 : 3), f32(-10, 10)), vec(y, vec(n, f32(-10, 10))))
          .map(([a, m]) => ({ output: [n + extra, y], args: [a, m] })),
      ),
    rtol: 1e-6,
    atol: 1e-5,
  },
  {
    name: 'a counting loop whose reads run past an array (checked and unchecked loop versions)',
    fn: function (this: KernelThis, a: number[], m: number[][], n: number) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[k] * m[this.thread.x][k];
      return s;
    },
    gen: fc.tuple(ints(1, 70), ints(1, 12), ints(0, 3)).chain(([rows, len, over]) =>
      fc.tuple(vec(len, ints(-8, 8)), vec(rows, vec(len, ints(-8, 8))), fc.boolean()).map(([a, m, past]) => ({
        output: [rows],
        args: [a, m, past ? len + 1 + over : Math.max(0, len - over)],
      })),
    ),
    loopMaxIterations: 1000, // n is an argument (see above)
  },
];

/** Math functions: name, arity, input domain and webgpu tolerance. */
const MATH: Array<[string, number, fc.Arbitrary<number>, number, number]> = [
  ['abs', 1, f32(-100, 100), 0, 0],
  ['acos', 1, f32(-0.99, 0.99), 1e-5, 1e-6],
  ['acosh', 1, f32(1, 50), 1e-5, 1e-6],
  ['asin', 1, f32(-0.99, 0.99), 1e-5, 1e-6],
  ['asinh', 1, f32(-50, 50), 1e-5, 1e-6],
  ['atan', 1, f32(-50, 50), 1e-5, 1e-6],
  ['atanh', 1, f32(-0.99, 0.99), 1e-5, 1e-6],
  ['cbrt', 1, f32(-100, 100), 1e-6, 1e-7],
  ['ceil', 1, f32(-100, 100), 0, 0],
  ['cos', 1, f32(-3.14, 3.14), 1e-5, 1e-6],
  ['cosh', 1, f32(-10, 10), 1e-5, 1e-6],
  ['exp', 1, f32(-20, 20), 1e-5, 1e-30],
  ['expm1', 1, f32(-20, 20), 1e-5, 1e-30],
  ['floor', 1, f32(-100, 100), 0, 0],
  ['fround', 1, f32(-100, 100), 0, 0],
  ['log', 1, f32(0.001, 100), 1e-5, 1e-6],
  ['log10', 1, f32(0.001, 100), 1e-5, 1e-6],
  ['log1p', 1, f32(-0.9, 100), 1e-5, 1e-30],
  ['log2', 1, f32(0.001, 100), 1e-5, 1e-6],
  [
    'round',
    1,
    fc.oneof(
      f32(-100, 100),
      ints(-100, 100).map((v) => v + 0.5),
    ),
    0,
    0,
  ],
  ['sign', 1, fc.oneof(f32(-100, 100), fc.constant(0)), 0, 0],
  ['sin', 1, f32(-3.14, 3.14), 1e-5, 1e-6],
  ['sinh', 1, f32(-10, 10), 1e-5, 1e-6],
  ['sqrt', 1, f32(0, 100), 1e-6, 1e-7],
  ['tan', 1, f32(-1.4, 1.4), 1e-5, 1e-6],
  ['tanh', 1, f32(-20, 20), 1e-5, 1e-30],
  ['trunc', 1, f32(-100, 100), 0, 0],
  ['atan2', 2, f32(-50, 50), 1e-5, 1e-6],
  ['hypot', 2, f32(-50, 50), 1e-6, 1e-6],
  ['max', 3, f32(-50, 50), 0, 0],
  ['min', 3, f32(-50, 50), 0, 0],
  ['pow', 2, f32(0.1, 10), 1e-5, 1e-30],
];

for (const [name, arity, domain, rtol, atol] of MATH) {
  const args = ['a', 'b', 'c'].slice(0, arity);
  const call = args.map((p) => `${p}[this.thread.x]`).join(', ');
  FEATURES.push({
    name: `Math.${name}`,
    fn: `function (${args.join(', ')}) { return Math.${name}(${call}); }`,
    gen: size.chain((n) =>
      fc.tuple(...args.map(() => vec(n, domain))).map((arrs) => ({ output: [n], args: arrs })),
    ),
    rtol,
    atol,
  });
}
FEATURES.push(
  {
    name: 'Math.pow with negative bases and integer exponents, and **',
    fn: 'function (a, b) { const x = a[this.thread.x], e = b[this.thread.x]; return Math.pow(x, e) + x ** 2; }',
    gen: twoArrays(
      f32(-10, 10).map((v) => (Math.abs(v) < 0.01 ? 0 : v)),
      ints(-6, 6),
    ),
    rtol: 1e-5,
    atol: 1e-30,
  },
  {
    name: 'Math constants',
    fn: 'function () { return Math.PI * this.thread.x + Math.E + Math.LN2 + Math.LN10 + Math.LOG2E + Math.LOG10E + Math.SQRT2 + Math.SQRT1_2; }',
    gen: size.map((n) => ({ output: [n], args: [] })),
    rtol: 1e-6,
    atol: 1e-6,
  },
);

function makeKernel<M extends GPUMode>(gpu: GPU<M>, f: Feature) {
  return gpu.createKernel(f.fn, {
    output: [1],
    constants: f.constants ?? {},
    ...(f.loopMaxIterations !== undefined ? { loopMaxIterations: f.loopMaxIterations } : {}),
    functions: f.functions ?? [],
  });
}

describe('kernel language on cpu: exactly Math.fround of plain JavaScript', () => {
  for (const f of FEATURES) {
    it(f.name, () => {
      const k = makeKernel(cpu, f);
      fc.assert(
        fc.property(f.gen, ({ output, args }) => {
          k.setOutput(output as [number]);
          const got = flat(k(...(args as never[])) as KernelOutput);
          expectFround(got, plain(f.fn, output, args, f.constants), f.name);
        }),
        propertyConfig({ numRuns: 50 }),
      );
    });
  }
});

describe.skipIf(webgpu === null)(
  `kernel language on webgpu: plain JavaScript within float32 tolerance${skip ? ' (skipped)' : ''}`,
  () => {
    for (const f of FEATURES) {
      it(f.name, async () => {
        const k = makeKernel(webgpu!, f);
        await fc.assert(
          fc.asyncProperty(f.gen, async ({ output, args }) => {
            k.setOutput(output as [number]);
            const got = flat(await k(...(args as never[])));
            expectClose(got, plain(f.fn, output, args, f.constants), f.rtol ?? 0, f.atol ?? 0, f.name);
          }),
          propertyConfig({ numRuns: 15 }),
        );
        expect(k.getSource().wgsl).toContain('@compute');
      });
    }
  },
);
