/**
 * splitRange: contiguous ranges covering 0 … n, boundaries on multiples of 16, no more ranges than threads or
 * than the work is worth, sizes as even as whole blocks allow; typed errors for bad arguments.
 */
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors.js';
import { MIN_WORK_PER_THREAD, SPLIT_ALIGN, splitRange } from '../src/wasm/split.js';

describe('splitRange', () => {
  it('splits 4M elements of a cheap op into equal quarters, and small loops not at all', () => {
    expect(splitRange(4 * 2 ** 20, 4)).toEqual([
      [0, 2 ** 20],
      [2 ** 20, 2 ** 21],
      [2 ** 21, 3 * 2 ** 20],
      [3 * 2 ** 20, 4 * 2 ** 20],
    ]);
    expect(splitRange(100_000, 4)).toEqual([[0, 100_000]]);
    expect(splitRange(2 * MIN_WORK_PER_THREAD, 4)).toEqual([
      [0, MIN_WORK_PER_THREAD],
      [MIN_WORK_PER_THREAD, 2 * MIN_WORK_PER_THREAD],
    ]);
    expect(splitRange(1, 8)).toEqual([[0, 1]]);
    expect(splitRange(0, 8)).toEqual([]);
  });

  it('spreads costlier work over more threads', () => {
    expect(splitRange(100_000, 4, 1)).toHaveLength(1);
    expect(splitRange(100_000, 4, 4)).toHaveLength(4);
    expect(splitRange(50, 4, 1e9)).toEqual([
      [0, 16],
      [16, 32],
      [32, 50],
    ]);
    expect(splitRange(50, 2, 1e9)).toEqual([
      [0, 32],
      [32, 50],
    ]);
  });

  it('covers 0 … n with aligned, balanced, large-enough ranges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e8 }),
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        (n, threads, cost) => {
          const r = splitRange(n, threads, cost);
          const minElements = Math.max(SPLIT_ALIGN, Math.ceil(MIN_WORK_PER_THREAD / cost));
          expect(r.length).toBeGreaterThanOrEqual(1);
          expect(r.length).toBeLessThanOrEqual(threads);
          expect(r[0]![0]).toBe(0);
          expect(r[r.length - 1]![1]).toBe(n);
          for (let t = 0; t < r.length; t++) {
            const [start, end] = r[t]!;
            expect(end).toBeGreaterThan(start);
            if (t > 0) expect(start).toBe(r[t - 1]![1]);
            expect(start % SPLIT_ALIGN).toBe(0);
            if (t < r.length - 1) expect(end % SPLIT_ALIGN).toBe(0);
            // Ranges may be smaller than the minimum only when there is a single one (by under a block; the
            // last, ending on a partial block, by under two).
            if (r.length > 1) expect(end - start).toBeGreaterThan(minElements - 2 * SPLIT_ALIGN);
            if (r.length > 1 && t < r.length - 1)
              expect(end - start).toBeGreaterThan(minElements - SPLIT_ALIGN);
          }
          // Fewer threads than asked only when the work is too small for more.
          if (r.length < threads) expect(n).toBeLessThan((r.length + 1) * minElements);
          const sizes = r.map(([s, e]) => e - s);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(2 * SPLIT_ALIGN);
        },
      ),
      propertyConfig({ numRuns: 300 }),
    );
  });

  it('refuses bad arguments with an ArgumentError naming the argument', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => splitRange(n, 2)).toThrow(ArgumentError);
    }
    expect(() => splitRange('8' as unknown as number, 2)).toThrow(/splitRange: n must be/);
    for (const t of [0, -2, 2.5, Number.NaN]) expect(() => splitRange(100, t)).toThrow(/threads must be/);
    for (const c of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => splitRange(100, 2, c)).toThrow(/cost must be/);
    }
    for (const a of [0, 8, 24, -16, 1.5, Number.NaN, '16']) {
      expect(() => splitRange(100, 2, 1, a as number)).toThrow(ArgumentError);
    }
    expect(() => splitRange(100, 2, 1, 8)).toThrow(
      /splitRange: alignment must be a positive multiple of 16, got number 8/,
    );
  });

  it('with an alignment (the sum block), every inner boundary is a multiple of it', () => {
    expect(splitRange(3 * 4096 + 5, 4, 1e6, 4096)).toEqual([
      [0, 4096],
      [4096, 8192],
      [8192, 3 * 4096 + 5],
    ]);
    expect(splitRange(4096, 4, 1e6, 4096)).toEqual([[0, 4096]]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e8 }),
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 512 }),
        (n, threads, cost, k) => {
          const alignment = k * SPLIT_ALIGN;
          const r = splitRange(n, threads, cost, alignment);
          const minElements = Math.max(alignment, Math.ceil(MIN_WORK_PER_THREAD / cost));
          expect(r.length).toBeGreaterThanOrEqual(1);
          expect(r.length).toBeLessThanOrEqual(threads);
          expect(r[0]![0]).toBe(0);
          expect(r[r.length - 1]![1]).toBe(n);
          for (let t = 0; t < r.length; t++) {
            const [start, end] = r[t]!;
            expect(end).toBeGreaterThan(start);
            if (t > 0) expect(start).toBe(r[t - 1]![1]);
            expect(start % alignment).toBe(0);
          }
          if (r.length < threads) expect(n).toBeLessThan((r.length + 1) * minElements);
          const sizes = r.map(([s, e]) => e - s);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(2 * alignment);
        },
      ),
      propertyConfig({ numRuns: 300 }),
    );
  });
});
