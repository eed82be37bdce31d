/**
 * Hostile kernel sources, constants and sizes: every case either compiles and (where meaningful) gives exactly
 * Math.fround of running the function as plain JavaScript on the cpu backend, or throws a GradkitError —
 * never a crash, a hang (loops are capped), a RangeError or a TypeError, and never code from data.
 */
import { GPU, type GPUMode, GradkitError, type KernelOutput } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expectFround, flat, plain } from './gpu-harness.js';

const cpu = new GPU({ mode: 'cpu' });
// No device is awaited: createKernel's own checks run, nothing is dispatched.
const webgpuMode = new GPU({ mode: 'webgpu' });
afterAll(() => {
  cpu.destroy();
  webgpuMode.destroy();
});

const g = globalThis as { __gkPwned?: unknown };

/** Runs `f`; returns what it threw (undefined when it did not), failing on anything but a GradkitError. */
function onlyTyped(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof GradkitError)) {
      throw new Error(
        `expected a GradkitError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
    }
    return e;
  }
}

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  'length',
];

const TOKENS = [
  'a',
  'b',
  'n',
  'i',
  's',
  'let',
  'const',
  'var',
  'if',
  'else',
  'for',
  'while',
  'do',
  'return',
  'break',
  'continue',
  'function',
  'this',
  '.',
  'thread',
  'output',
  'constants',
  'x',
  'y',
  'z',
  ...HOSTILE_KEYS,
  'Math',
  'PI',
  'sqrt',
  'max',
  'random',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ';',
  ',',
  '=',
  '+=',
  '++',
  '--',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '<',
  '<=',
  '>',
  '===',
  '!==',
  '==',
  '&&',
  '||',
  '??',
  '!',
  '~',
  '?',
  ':',
  '0',
  '1',
  '2.5',
  '1e30',
  '1e-300',
  '0x10',
  '10n',
  'Infinity',
  'NaN',
  'true',
  'false',
  'null',
  'undefined',
  '"s"',
  '`t`',
  '/re/',
  'new',
  'Object',
  'globalThis',
  'eval',
  'arguments',
  'typeof',
  'delete',
  'in',
  'instanceof',
  'f',
  '=>',
  '...',
  'async',
  'await',
  'yield',
  'class',
  'switch',
  'case',
  'throw',
  'try',
];

/** A constants object, possibly with hostile keys and values. */
const constantsArb: fc.Arbitrary<Record<string, unknown>> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...HOSTILE_KEYS, 'k', 'scale'), fc.string({ maxLength: 4 })),
      fc.oneof(
        { weight: 6, arbitrary: fc.double() },
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom('(globalThis.__gkPwned = 1, 2)', true, null, 10n, [1, 2], new Float32Array(2), {}),
      ),
    ),
    { maxLength: 4 },
  )
  .map((entries) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries)
      Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true });
    return o;
  });

/** Output sizes, mostly small and valid, some hostile. */
const outputArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom([3], [4, 2], [2, 2, 2]) },
  fc.constantFrom(
    [0],
    [-1],
    [2.5],
    [Number.NaN],
    [2 ** 31, 2 ** 31],
    [2 ** 16, 2 ** 16],
    [1, 1, 1, 1],
    [],
    { x: 3, __proto__: 1 },
    '3',
    null,
  ),
);

describe('random token soups compile or throw a GradkitError', () => {
  it('cpu: compile and call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }),
        fc.constantFrom(0, 1, 2),
        constantsArb,
        outputArb,
        (tokens, wrap, constants, output) => {
          const body = tokens.join(' ');
          const src =
            wrap === 0
              ? `function (a, b, n) { ${body} }`
              : wrap === 1
                ? `function (a, b, n) { ${body}; return 0; }`
                : body;
          onlyTyped(() => {
            const k = cpu.createKernel(src, {
              output: output as [number],
              constants: constants as never,
              loopMaxIterations: 50,
            });
            (k as (...args: unknown[]) => unknown)(
              [1, 2, 3, 4],
              [
                [1, 2],
                [3, 4],
              ],
              2,
            );
          });
          onlyTyped(() => webgpuMode.createKernel(src, { output: [2], constants: constants as never }));
          expect(g.__gkPwned).toBeUndefined();
        },
      ),
      propertyConfig({ numRuns: 400 }),
    );
  });
});

// ---------------------------------------------------------------- valid-ish kernels

interface Gen {
  readonly src: string;
  readonly constants: Record<string, number>;
}

const LEN = 8;
const constNames = ['k', 'scale', ...HOSTILE_KEYS.filter((k) => k !== 'length')];

/** Expressions over the kernel's arguments (a: LEN numbers, n: a number), constants and thread indices. */
function exprArb(names: readonly string[]): fc.Arbitrary<string> {
  const { e } = fc.letrec((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(
        fc.integer({ min: -9, max: 9 }).map((v) => `(${v})`),
        fc.constantFrom('0.5', '1e30', '1e-30', 'Infinity', 'NaN', '(-0)'),
        fc.constantFrom(
          'a[this.thread.x]',
          `a[${LEN - 1}]`,
          'n',
          'this.thread.x',
          'this.thread.y',
          'this.output.x',
        ),
        fc.constantFrom('1', ...names.map((c) => `this.constants[${JSON.stringify(c)}]`)),
        fc.constantFrom('Math.PI', 'Math.E'),
      ),
      fc
        .tuple(
          tie('e'),
          fc.constantFrom('+', '-', '*', '/', '%', '**', '<', '<=', '>', '>=', '==', '!='),
          tie('e'),
        )
        .map(([l, op, r]) => `(${l} ${op} ${r})`),
      tie('e').map((x) => `(-(${x}))`),
      tie('e').map((x) => `(!${x} ? 1 : 0)`),
      fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, x, y]) => `(${c} ? ${x} : ${y})`),
      fc
        .tuple(
          fc.constantFrom('abs', 'sqrt', 'floor', 'exp', 'log', 'sin', 'tanh', 'sign', 'round'),
          tie('e'),
        )
        .map(([f, x]) => `Math.${f}(${x})`),
      fc
        .tuple(fc.constantFrom('max', 'min', 'pow', 'atan2', 'hypot'), tie('e'), tie('e'))
        .map(([f, x, y]) => `Math.${f}(${x}, ${y})`),
    ),
  }));
  return e as fc.Arbitrary<string>;
}

/** Statements exercising var/let scoping, loops and branches; `s` is the accumulator. */
function kernelArb(): fc.Arbitrary<Gen> {
  return fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...constNames), { maxLength: 3 }),
      fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 3, maxLength: 3 }),
    )
    .chain(([names, values]) => {
      const e = exprArb(names);
      const constants: Record<string, number> = {};
      names.forEach((k, i) => {
        Object.defineProperty(constants, k, { value: values[i]!, enumerable: true, configurable: true });
      });
      const stmt = fc.oneof(
        e.map((x) => `s += ${x};`),
        fc.tuple(e, e).map(([x, y]) => `var t = ${x}; if (${y} > 0) { var t = ${y}; } s += t;`),
        fc.tuple(e, e).map(([x, y]) => `let u = ${x}; { let u = ${y}; s += u; } s -= u;`),
        fc.tuple(e, e).map(([x, y]) => `if (${x} < ${y}) { s = s * 0.5; } else { s = s + 1; }`),
        fc
          .tuple(fc.integer({ min: 0, max: 6 }), e, fc.boolean())
          .map(([k, x, useVar]) =>
            useVar
              ? `for (var j = 0; j < ${k}; j++) { s += ${x} * j; } s += j;`
              : `for (let j = ${k}; j > 0; j -= 2) { if (j === 3) continue; s += ${x}; }`,
          ),
        fc.tuple(e, e).map(([x, y]) => `let w = 0; while (w < 3) { w++; s += ${x}; if (${y} > 2) break; }`),
      );
      return fc.array(stmt, { minLength: 1, maxLength: 4 }).map((stmts) => ({
        // Each statement in its own block so that their let/var names do not clash.
        src: `function (a, n) { let s = 0; ${stmts.map((x) => `{ ${x} }`).join(' ')} return s; }`,
        constants,
      }));
    });
}

describe('random valid-ish kernels agree with plain JavaScript on cpu (or throw a GradkitError)', () => {
  it('cpu', () => {
    let compared = 0;
    fc.assert(
      fc.property(
        kernelArb(),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: LEN, maxLength: LEN }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.constantFrom([LEN], [LEN, 2], [3, 2, 2]),
        ({ src, constants }, a, n, output) => {
          let got: Float64Array | undefined;
          onlyTyped(() => {
            const k = cpu.createKernel(src, {
              output: output as [number],
              constants,
              loopMaxIterations: 1000,
            });
            got = flat(k(a, n) as KernelOutput);
          });
          if (got === undefined) return;
          compared++;
          expectFround(got, plain(src, output, [a, n], constants), src);
        },
      ),
      propertyConfig({ numRuns: 300 }),
    );
    // Most generated kernels are in the language: the comparison really ran.
    expect(compared).toBeGreaterThan(100);
  });

  it('webgpu mode: createKernel compiles or throws a GradkitError', () => {
    fc.assert(
      fc.property(kernelArb(), ({ src, constants }) => {
        onlyTyped(() =>
          (webgpuMode as GPU<GPUMode>).createKernel(src, { output: [2], constants, loopMaxIterations: 100 }),
        );
      }),
      propertyConfig({ numRuns: 100 }),
    );
  });
});

describe('hostile settings and sizes', () => {
  it('random settings objects never escape as anything but a GradkitError', () => {
    const valueArb = fc.oneof(
      fc.anything({ maxDepth: 1 }),
      fc.constantFrom(0, -1, 2 ** 31, Number.NaN, 'double', 'single', true, [1], [2 ** 31, 2 ** 31]),
    );
    const keyArb = fc.oneof(
      fc.constantFrom(
        'output',
        'constants',
        'pipeline',
        'precision',
        'loopMaxIterations',
        'functions',
        'tactic',
        'graphical',
        ...HOSTILE_KEYS,
      ),
      fc.string({ maxLength: 5 }),
    );
    fc.assert(
      fc.property(fc.dictionary(keyArb, valueArb, { maxKeys: 4 }), outputArb, (settings, output) => {
        const s = { output, ...settings };
        onlyTyped(() => {
          const k = cpu.createKernel('function (a) { return a[this.thread.x] + this.thread.y; }', s as never);
          (k as (...args: unknown[]) => unknown)([1, 2, 3]);
        });
        onlyTyped(() => new GPU(settings as never).destroy());
        expect(g.__gkPwned).toBeUndefined();
      }),
      propertyConfig({ numRuns: 300 }),
    );
  });
});
