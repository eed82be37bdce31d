/** Helpers shared by the autograd test files: arbitraries, naive references, gradient checks, expected errors. */
import { Generator, type GradkitError, randn, type Tensor } from '@gradkit/autograd';
import { describeWorst, gradcheckTensor, gradgradcheckTensor, type TensorFunction } from '@gradkit/testing';
import fc from 'fast-check';
import { expect } from 'vitest';

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** Shapes with `minRank…maxRank` dims of size 0…maxDim (0 and 1 included) and at most `maxSize` elements. */
export function shapeArb(minRank = 0, maxRank = 4, maxDim = 4, maxSize = 48): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: maxDim }), { minLength: minRank, maxLength: maxRank })
    .filter((s) => sizeOf(s) <= maxSize);
}

/** A float64 leaf of `shape` requiring grad, with standard normal values drawn from `seed`. */
export function leaf(shape: readonly number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', requiresGrad: true, generator: new Generator(seed) });
}

/** Calls `fn` with every multi-index of `shape`, row-major. */
export function forEachIndex(shape: readonly number[], fn: (idx: number[]) => void): void {
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    fn([...idx]);
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** The element of `t` at a multi-index (naively, through row-major strides). */
export function at(t: Tensor, idx: readonly number[]): number {
  let off = 0;
  let stride = 1;
  for (let d = t.ndim - 1; d >= 0; d--) {
    off += idx[d]! * stride;
    stride *= t.shape[d]!;
  }
  return t.data[off]!;
}

/** Expects `t` to have `shape` and `t[idx] === value(idx)` everywhere. */
export function expectElements(t: Tensor, shape: readonly number[], value: (idx: number[]) => number): void {
  expect(t.shape).toEqual(shape);
  const want: number[] = [];
  forEachIndex(shape, (idx) => want.push(value(idx)));
  expect(Array.from(t.data)).toEqual(want);
}

/**
 * gradcheck of `fn` and gradgradcheck of `fn` followed by an elementwise square (so the second derivative
 * runs through the backward of `fn`'s backward).
 */
export function checkGrads(fn: TensorFunction, inputs: readonly Tensor[]): void {
  const r1 = gradcheckTensor(fn, inputs);
  expect(r1.ok, describeWorst(r1)).toBe(true);
  const squared: TensorFunction = (...xs) => fn(...xs).square();
  const r2 = gradgradcheckTensor(squared, inputs, { seed: 7 });
  expect(r2.ok, describeWorst(r2)).toBe(true);
}

/**
 * Expects `fn` to throw an error of class `cls` whose message contains every fragment; returns the error.
 */
export function expectError<E extends Error>(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => E,
  ...fragments: string[]
): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${cls.name}`).toBeInstanceOf(cls);
  const err = caught as E;
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

/** {@link expectError} that also expects the error to name `op` as the op that raised it. */
export function expectOpError(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => GradkitError,
  op: string,
  ...fragments: string[]
): void {
  expect(expectError(fn, cls, ...fragments).op).toBe(op);
}
