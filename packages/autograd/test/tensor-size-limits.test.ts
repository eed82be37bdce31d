/**
 * Sizes: results with more than 2^31 − 1 elements are refused with a ShapeError naming the op and the shape
 * before anything is allocated (broadcasts, expand, matmul, linear, concat, reshape), and an allocation the
 * engine refuses becomes a ShapeError too.
 */
import {
  add,
  allocate,
  concat,
  linear,
  MAX_ELEMENTS,
  matmul,
  ShapeError,
  Tensor,
  tensor,
  where,
  zeros,
} from '@gradkit/autograd';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectOpError } from './helpers.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('result sizes are checked before allocating', () => {
  it('broadcasting to a huge shape', () => {
    const col = zeros([65536, 1]);
    const row = zeros([1, 65536]);
    expectOpError(() => add(col, row), ShapeError, 'add', 'the broadcast shape [65536, 65536]', 'elements');
    expectOpError(() => col.mul(row), ShapeError, 'mul', 'elements');
    expectOpError(() => where(col, row, 0), ShapeError, 'where', 'elements');
    // A broadcast with a 0 holds no elements, whatever the other sizes.
    expect(add(zeros([0, 1]), zeros([1, 2 ** 20])).shape).toEqual([0, 2 ** 20]);
  });

  it('expand / broadcastTo / reshape', () => {
    expectOpError(() => zeros([1]).expand(2 ** 31), ShapeError, 'broadcastTo', 'elements');
    expectOpError(() => zeros([1, 1]).expand([2 ** 31, 2 ** 31]), ShapeError, 'broadcastTo', 'elements');
    expectOpError(() => zeros([0]).reshape([2 ** 53, 0]), ShapeError, 'reshape', 'non-negative integers');
    expect(zeros([0]).reshape(2 ** 31, 2 ** 31, 0).shape).toEqual([2 ** 31, 2 ** 31, 0]);
    expectOpError(() => zeros([2]).reshape(Number.NaN, 2), ShapeError, 'reshape');
    expectOpError(() => zeros([2]).reshape('2' as never), ShapeError, 'reshape', 'string');
  });

  it('matmul, linear and concat results', () => {
    expectOpError(
      () => matmul(zeros([2 ** 16, 1]), zeros([1, 2 ** 16])),
      ShapeError,
      'matmul',
      'result shape [65536, 65536]',
    );
    expectOpError(
      () => matmul(zeros([2 ** 11, 2 ** 10, 1]), zeros([1, 2 ** 10])),
      ShapeError,
      'matmul',
      'elements',
    );
    expectOpError(() => linear(zeros([2 ** 16, 1]), zeros([2 ** 16, 1])), ShapeError, 'linear', 'elements');
    const big = zeros([2 ** 16, 0]);
    expect(concat([big, big]).shape).toEqual([2 ** 17, 0]);
  });

  it('the Tensor constructor refuses malformed shapes', () => {
    expectOpError(() => new Tensor(new Float32Array(1), [-1] as never), ShapeError, 'Tensor');
    expectOpError(() => new Tensor(new Float32Array(1), 'x' as never), ShapeError, 'Tensor');
    expectOpError(() => new Tensor(new Float32Array(2), [1]), ShapeError, 'Tensor', '2 elements');
  });

  it('allocate refuses impossible counts; an engine RangeError becomes a ShapeError naming op and shape', () => {
    expectOpError(() => allocate('float32', MAX_ELEMENTS + 1), ShapeError, 'allocate');
    expectOpError(() => allocate('float32', -1), ShapeError, 'allocate');
    expectOpError(() => allocate('float32', 1.5), ShapeError, 'allocate');
    const t = tensor([1]);
    vi.stubGlobal(
      'Float64Array',
      class {
        constructor() {
          throw new RangeError('Array buffer allocation failed');
        }
      },
    );
    expectOpError(
      () => zeros([4096, 4096], { dtype: 'float64' }),
      ShapeError,
      'zeros',
      'float64 tensor of shape [4096, 4096]',
      '0.125 GiB',
      'Array buffer allocation failed',
    );
    vi.unstubAllGlobals();
    expect(t.item()).toBe(1);
  });
});
