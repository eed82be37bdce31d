/**
 * Issue 12: CompileErrors show the offending source line with a caret under the column, so the location stays
 * useful when a transpiler (tsx/esbuild) has put the whole kernel on one line.
 */
import { CompileError, GPU, sourceExcerpt } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const cpu = new GPU({ mode: 'cpu' });

function compileError(src: string, args: unknown[] = []): CompileError {
  try {
    const k = cpu.createKernel(src, { output: [1] });
    (k as unknown as (...a: unknown[]) => unknown)(...args);
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  throw new Error('expected a CompileError');
}

describe('CompileError source excerpt', () => {
  it('a multi-line kernel: the line and a caret under the column', () => {
    const e = compileError('function () {\n  let x = 1;\n  return x + y;\n}');
    expect(e.line).toBe(3);
    expect(e.column).toBe(13);
    expect(e.excerpt).toBe('    return x + y;\n               ^');
    expect(e.message).toContain('(line 3, column 13)\n    return x + y;\n               ^');
  });

  it('a transpiled one-line kernel: a window of about 60 characters around the column', () => {
    const pad = Array.from({ length: 40 }, (_, i) => `let v${i} = ${i};`).join(' ');
    const src = `function (a) { ${pad} return a[this.thread.x] + undefinedName; }`;
    const e = compileError(src, [[1]]);
    const [line, caret] = e.excerpt!.split('\n') as [string, string];
    expect(line.length).toBeLessThanOrEqual(2 + 60 + 2);
    expect(line.startsWith('  …')).toBe(true);
    // The caret points at the start of the offending name.
    expect(line.slice(caret.indexOf('^'))).toMatch(/^undefinedName/);
    expect(src.slice(e.column!)).toMatch(/^undefinedName/);
  });

  it('errors found when typing for the arguments also carry the excerpt', () => {
    const e = compileError('function (a) {\n  return a[0][1];\n}', [[1, 2]]);
    expect(e.message).toMatch(/is a 1-D array but is read with 2 index/);
    expect(e.excerpt).toBe('    return a[0][1];\n           ^');
  });

  it('sourceExcerpt: missing lines give undefined; tabs count as one column', () => {
    expect(sourceExcerpt('one line', { line: 3, column: 0 })).toBeUndefined();
    expect(sourceExcerpt('\tx', { line: 1, column: 1 })).toBe('   x\n   ^');
  });
});
