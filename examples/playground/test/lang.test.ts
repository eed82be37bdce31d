/**
 * The factor language: printing a random tree and parsing it back gives the same tree (fast-check), errors
 * carry the offending range, and trees build the same expressions as the exported TypeScript.
 */
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BinaryOp, type Node, parameterNames, QUANTITIES, sameTree } from '../src/lang/ast.js';
import { FactorSyntaxError } from '../src/lang/error.js';
import { FUNCTIONS } from '../src/lang/functions.js';
import { MAX_DEPTH, parseFactor } from '../src/lang/parse.js';
import { printFactor } from '../src/lang/print.js';

const OPS: BinaryOp[] = ['<', '<=', '>', '>=', '==', '!=', '+', '-', '*', '/', '^'];
const R = { from: 0, to: 0 };

const number = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.5, 1e-7, 5e-324, 1e21, 123.456),
);
const name = fc.constantFrom<string>(...QUANTITIES, 'gamma', 'beta', 'k_2', 'Alpha');

const { tree } = fc.letrec<{ tree: Node }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    number.map((value): Node => ({ kind: 'num', value, ...R })),
    name.map((n): Node => ({ kind: 'name', name: n, ...R })),
    tie('tree').map((arg): Node => ({ kind: 'neg', arg, ...R })),
    fc
      .tuple(fc.constantFrom(...OPS), tie('tree'), tie('tree'))
      .map(([op, left, right]): Node => ({ kind: 'binary', op, left, right, ...R })),
    fc
      .constantFrom(...(Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]))
      .chain((fn) =>
        fc
          .array(tie('tree'), { minLength: FUNCTIONS[fn], maxLength: FUNCTIONS[fn] })
          .map((args): Node => ({ kind: 'call', fn, args, ...R })),
      ),
  ),
}));

/** The nesting depth the parser counts (parentheses are added by the printer where needed). */
function depth(n: Node): number {
  switch (n.kind) {
    case 'num':
    case 'name':
      return 0;
    case 'neg':
      return 1 + depth(n.arg);
    case 'binary':
      return 1 + Math.max(depth(n.left), depth(n.right));
    case 'call':
      return 1 + Math.max(...n.args.map(depth));
  }
}

/** Where parsing `text` fails. */
function errorAt(text: string): { from: number; to: number; reason: string } {
  try {
    parseFactor(text);
  } catch (e) {
    if (e instanceof FactorSyntaxError) return { from: e.from, to: e.to, reason: e.reason };
    throw e;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('factor language', () => {
  it('printing a random expression and parsing it back gives the same expression', () => {
    fc.assert(
      fc.property(
        tree.filter((t) => depth(t) < MAX_DEPTH / 2),
        (t) => {
          const text = printFactor(t);
          const back = parseFactor(text);
          expect(sameTree(back, t), `${text} parsed as ${printFactor(back)}`).toBe(true);
          expect(printFactor(back)).toBe(text);
        },
      ),
      propertyConfig({ numRuns: 300 }),
    );
  });

  it('parses precedence and associativity as documented', () => {
    const cases: [string, string][] = [
      ['-x^2', '-x^2'],
      ['(-x)^2', '(-x)^2'],
      ['a^b^c', 'a^b^c'],
      ['(a^b)^c', '(a^b)^c'],
      ['a - b - c', 'a - b - c'],
      ['a - (b - c)', 'a - (b - c)'],
      ['a / b * c', 'a / b * c'],
      ['a / (b * c)', 'a / (b * c)'],
      ['2 ** -x', '2^-x'],
      ['(1 - pt)^gamma * exp(-beta * pt)', '(1 - pt)^gamma * exp(-beta * pt)'],
      ['((p)) < (y + 1)', 'p < y + 1'],
      ['1.e3 + .5', '1000 + 0.5'],
    ];
    for (const [text, printed] of cases) expect(printFactor(parseFactor(text))).toBe(printed);
    const t = parseFactor('a - b * c ^ d');
    expect(t.kind === 'binary' && t.op === '-' && t.right.kind === 'binary' && t.right.op === '*').toBe(true);
    expect(parameterNames(parseFactor('(1 - pt)^gamma * exp(-beta * pt) + gamma'))).toEqual([
      'gamma',
      'beta',
    ]);
  });

  it('keeps the source range of every node', () => {
    const t = parseFactor('  (1 - pt)^gamma * exp(-beta)');
    expect(t).toMatchObject({ from: 2, to: 29 });
    if (t.kind !== 'binary' || t.right.kind !== 'call') throw new Error('unexpected tree');
    expect(t.right).toMatchObject({ from: 19, to: 29 });
    expect(t.right.args[0]).toMatchObject({ kind: 'neg', from: 23, to: 28 });
  });

  it('reports errors at the offending range', () => {
    expect(errorAt('(1 - pt)^gamma * exp(-beta * )')).toMatchObject({ from: 29, to: 30 });
    expect(errorAt('(1 - pt)^gamma * exp(-beta * )').reason).toMatch(/expected a number.*found '\)'/);
    expect(errorAt('(1 - pt')).toMatchObject({
      from: 6,
      to: 7,
      reason: "expected ')', found the end of the factor",
    });
    expect(errorAt('1 - pt)')).toMatchObject({ from: 6, to: 7 });
    expect(errorAt('pt # 2')).toMatchObject({ from: 3, to: 4, reason: 'unexpected character "#"' });
    expect(errorAt('foo(pt)')).toMatchObject({ from: 0, to: 3 });
    expect(errorAt('foo(pt)').reason).toMatch(/unknown function 'foo'; functions: exp, log/);
    expect(errorAt('1 + exp * 2')).toMatchObject({
      from: 4,
      to: 7,
      reason: "'exp' is a function: write exp(…)",
    });
    expect(errorAt('2 * min(p)')).toMatchObject({ from: 4, to: 10, reason: 'min takes 2 arguments, got 1' });
    expect(errorAt('where(p, 1, 2, 3)')).toMatchObject({ from: 0, to: 17 });
    expect(errorAt('p * weight')).toMatchObject({ from: 4, to: 10 });
    expect(errorAt('p < y < 1')).toMatchObject({ from: 6, to: 7 });
    expect(errorAt('2pt')).toMatchObject({ from: 0, to: 2, reason: "malformed number '2p'" });
    expect(errorAt('+p')).toMatchObject({ from: 0, to: 1 });
    expect(errorAt('1e999')).toMatchObject({ from: 0, to: 5 });
    expect(errorAt('   ')).toMatchObject({ from: 0, to: 0 });
    expect(errorAt('p ∗ 2')).toMatchObject({ from: 2, to: 3 });
    expect(errorAt('😀')).toMatchObject({ from: 0, to: 2 });
    const deep = `${'('.repeat(MAX_DEPTH + 1)}p${')'.repeat(MAX_DEPTH + 1)}`;
    expect(errorAt(deep).reason).toMatch(/nests deeper than 64/);
    expect(errorAt(`-${'-'.repeat(5000)}p`).reason).toMatch(/longer than 2000/);
    expect(() => parseFactor(`${'-'.repeat(MAX_DEPTH - 2)}p`)).not.toThrow();
  });

  it('a FactorSyntaxError is a FormatError whose message names the column', () => {
    try {
      parseFactor('p +');
      throw new Error('parsed');
    } catch (e) {
      expect(e).toBeInstanceOf(FactorSyntaxError);
      expect((e as FactorSyntaxError).code).toBe('E_FORMAT');
      expect((e as Error).message).toBe(
        "factor: column 3: expected a number, a name, a function or '(', found the end of the factor",
      );
    }
  });
});
