import {
  concat,
  fromArray,
  Generator,
  gather,
  indexAdd,
  indexSelect,
  permute,
  randn,
  scatterAdd,
  slice,
  split,
  stack,
  type Tensor,
} from '@gradkit/autograd';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { shapeArb, sizeOf } from './helpers.js';

/**
 * Applies `op` to float32 inputs and to float64 copies of the same (float32-representable) values: the float32
 * result must be the float64 result rounded once — exact for copies, and for sums accumulated in float64.
 */
function agree(inputs: readonly Tensor[], op: (...xs: Tensor[]) => Tensor): void {
  const x32 = inputs.map((t) => fromArray(t.data, t.shape, { dtype: 'float32' }));
  const x64 = x32.map((t) => fromArray(t.data, t.shape, { dtype: 'float64' }));
  const y32 = op(...x32);
  const y64 = op(...x64);
  expect(y32.dtype).toBe('float32');
  expect(y64.dtype).toBe('float64');
  expect(Array.from(y32.data)).toEqual(Array.from(y64.data, Math.fround));
}

test('float32 results equal float64 results rounded once', () => {
  const arb = shapeArb(2, 3, 4, 48)
    .filter((s) => s.every((d) => d > 0))
    .chain((shape) => fc.tuple(fc.constant(shape), fc.integer()));
  fc.assert(
    fc.property(arb, ([shape, seed]) => {
      const g = new Generator(seed);
      const x = randn(shape, { dtype: 'float64', generator: g });
      const last = shape.length - 1;
      const idx = [0, shape[0]! - 1, 0];
      const rows = [...shape];
      rows[0] = idx.length;
      const src = randn(rows, { dtype: 'float64', generator: g });
      const index = fromArray(
        Array.from({ length: sizeOf(shape) }, (_, i) => (i * 7) % shape[last]!),
        shape,
      );
      const other = randn(shape, { dtype: 'float64', generator: g });
      agree([x], (v) => permute(v, [...shape.keys()].reverse()));
      agree([x], (v) => slice(v, last, 1, undefined, 2));
      agree([x], (v) => indexSelect(v, 0, idx));
      agree([x, other], (v, w) => concat([v, w], last));
      agree([x, other], (v, w) => stack([v, w], 1));
      agree([x], (v) => split(v, 1, 0)[0]!);
      agree([x], (v) => gather(v, last, index));
      agree([x, src], (v, s) => indexAdd(v, 0, idx, s));
      agree([x, other], (v, s) => scatterAdd(v, last, index, s));
    }),
    { seed: 341, numRuns: 50 },
  );
});
