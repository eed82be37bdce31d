/**
 * Splitting a loop of `n` elements between threads: contiguous `[start, end)` ranges whose boundaries are
 * multiples of {@link SPLIT_ALIGN} elements (or of a larger alignment, e.g. the sum block of summed programs),
 * and no more ranges than the work is worth.
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../util/own.js';

/**
 * Every range but the last starts and ends on a multiple of this many elements: whole f32x4 / f64x2 vectors,
 * and 64-byte cache lines for float32 (128 bytes for float64), so two threads never write one line.
 */
export const SPLIT_ALIGN = 16;

/**
 * The least work a thread is given, in element-cost units (elements × the cost hint): 65 536 elements of a
 * cheap op (an add or a multiply) take tens of microseconds, about what waking a worker and waiting for it
 * costs, so below that a kernel runs on fewer threads.
 */
export const MIN_WORK_PER_THREAD = 65_536;

/**
 * Splits `n` elements into at most `threads` contiguous ranges `[start, end)` covering `0 … n` in order.
 *
 * Each range holds at least `max(alignment, ceil(65 536 / cost))` elements, so small loops get fewer ranges
 * (one below twice that); the elements go out in blocks of `alignment` (16 by default) as evenly as they
 * divide, so every boundary but the final `end = n` is a multiple of `alignment` and sizes differ by at most
 * one block (the larger ranges come last). Pure: same arguments, same ranges.
 *
 * @param n - the number of elements (a non-negative safe integer); 0 gives no ranges
 * @param threads - the most ranges wanted (a positive integer, normally `getNumThreads()`)
 * @param cost - the per-element cost relative to one cheap elementwise op (1 for an add or multiply chain, about
 *   10–40 for a transcendental or a long fused expression); higher cost spreads smaller loops over more threads
 * @param alignment - the block every inner boundary is a multiple of: a positive multiple of
 *   {@link SPLIT_ALIGN} (default 16; the sum block, 4096, for programs with summed outputs)
 * @throws ArgumentError when an argument is out of range
 */
export function splitRange(
  n: number,
  threads: number,
  cost = 1,
  alignment = SPLIT_ALIGN,
): Array<[number, number]> {
  const op = 'splitRange';
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ArgumentError(op, `n must be a non-negative integer, got ${describeValue(n)}`);
  }
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new ArgumentError(op, `threads must be a positive integer, got ${describeValue(threads)}`);
  }
  if (typeof cost !== 'number' || !(cost > 0) || cost === Number.POSITIVE_INFINITY) {
    throw new ArgumentError(op, `cost must be a positive finite number, got ${describeValue(cost)}`);
  }
  if (!Number.isSafeInteger(alignment) || alignment < SPLIT_ALIGN || alignment % SPLIT_ALIGN !== 0) {
    throw new ArgumentError(
      op,
      `alignment must be a positive multiple of ${SPLIT_ALIGN}, got ${describeValue(alignment)}`,
    );
  }
  if (n === 0) return [];
  const minElements = Math.max(alignment, Math.ceil(MIN_WORK_PER_THREAD / cost));
  const count = Math.max(1, Math.min(threads, Math.floor(n / minElements)));
  const blocks = Math.ceil(n / alignment);
  const each = Math.floor(blocks / count);
  const extra = blocks - each * count;
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let t = 0; t < count; t++) {
    // The last ranges take the extra blocks: the partial last block then does not leave a small last range.
    const end = Math.min(n, start + (each + (t >= count - extra ? 1 : 0)) * alignment);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}
