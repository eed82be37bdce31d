// Tests of the fused elementwise+sum code generator (packages/kernels/src/codegen/reduce.ts), which the losses
// are built on.
import {
  ArgumentError,
  add,
  compileFusedReduce,
  compileStridedReduce,
  evaluate,
  logSigmoid,
  lt,
  mul,
  neg,
  sigmoid,
  softplus,
  sub,
  variable,
  where,
} from '@gradkit/kernels';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const a = variable('a');
const b = variable('b');
const exprs = [
  add(mul(sigmoid(a), b), sigmoid(neg(a))),
  sub(softplus(a), mul(b, softplus(neg(a)))),
  add(logSigmoid(a), logSigmoid(neg(a))),
  where(lt(a, 0), softplus(mul(a, b)), sigmoid(mul(a, b))),
];

const values = fc.oneof(
  fc.double({ min: -800, max: 800, noNaN: true }),
  fc.constantFrom(0, -0, Infinity, -Infinity, Number.NaN, 37, -37, 745, -745),
);

describe('compileFusedReduce / compileStridedReduce', () => {
  test('shared exponentials give results bit-for-bit equal to the interpreter, stored and summed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(values, values), { minLength: 1, maxLength: 20 }), (rows) => {
        const n = rows.length;
        const av = Float64Array.from(rows, (r) => r[0]);
        const bv = Float64Array.from(rows, (r) => r[1]);
        const outs = exprs.map(() => new Float64Array(n));
        const sums = new Float64Array(exprs.length);
        const kernel = compileFusedReduce(exprs, ['a', 'b'], ['array', 'array'], {
          store: [true, true, true, true],
          sum: [true, false, true, false],
        });
        kernel([av, bv], outs, n, sums);
        exprs.forEach((e, k) => {
          let total = 0;
          for (let i = 0; i < n; i++) {
            const want = evaluate(e, { a: av[i]!, b: bv[i]! });
            expect(Object.is(outs[k]![i], want) || (Number.isNaN(want) && Number.isNaN(outs[k]![i]!))).toBe(
              true,
            );
            total += want;
          }
          if (k === 0 || k === 2)
            expect(Object.is(sums[k], total) || (Number.isNaN(total) && Number.isNaN(sums[k]!))).toBe(true);
        });
      }),
      { seed: 401, numRuns: 100 },
    );
  });

  test('scalar inputs and summing without storing', () => {
    const av = Float32Array.from([1, -2, 3.5]);
    const sums = new Float64Array(1);
    compileFusedReduce([mul(softplus(a), b)], ['a', 'b'], ['array', 'scalar'], { sum: [true] })(
      [av, 2],
      [null],
      3,
      sums,
    );
    const want = [1, -2, 3.5].reduce((s, v) => s + 2 * evaluate(softplus(a), { a: v }), 0);
    expect(sums[0]).toBe(want);
  });

  test('the strided loop broadcasts like the flat one', () => {
    // a: [2, 3], b: [3] broadcast over rows
    const av = Float64Array.from([0.5, -1, 2, -3, 4, 0]);
    const bv = Float64Array.from([1, 2, 3]);
    const e = exprs[0]!;
    const out = new Float64Array(6);
    const sums = new Float64Array(1);
    compileStridedReduce([e], ['a', 'b'], { store: [true], sum: [true] })(
      [av, bv],
      [
        [3, 1],
        [0, 1],
      ],
      [out],
      [2, 3],
      sums,
    );
    let total = 0;
    for (let i = 0; i < 6; i++) {
      const want = evaluate(e, { a: av[i]!, b: bv[i % 3]! });
      expect(out[i]).toBe(want);
      total += want;
    }
    expect(sums[0]).toBe(total);
    // An empty shape does nothing and sums to 0.
    compileStridedReduce([e], ['a', 'b'], { sum: [true] })(
      [av, bv],
      [
        [3, 1],
        [0, 1],
      ],
      [null],
      [0, 3],
      sums,
    );
    expect(sums[0]).toBe(0);
  });

  test('errors name the problem', () => {
    expect(() => compileFusedReduce([mul(a, b)], ['a'], ['array'])).toThrow(ArgumentError);
    expect(() =>
      compileFusedReduce([mul(a, b)], ['a', 'b'], ['array', 'array'], { sum: [true, false] }),
    ).toThrow(/option 'sum' has 2 entries for 1/);
  });
});
