/**
 * Creation from user data: holes, non-numbers, ragged nesting and hostile objects get a typed error naming
 * the position; booleans and every typed array convert like PyTorch; shapes and options of every creation
 * function are validated.
 */
import {
  ArgumentError,
  arange,
  DomainError,
  DtypeError,
  eye,
  fromArray,
  full,
  Generator,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  ShapeError,
  scalarTensor,
  type TensorData,
  tensor,
  zeros,
  zerosLike,
} from '@gradkit/autograd';
import { describe, expect, it } from 'vitest';
import { expectOpError } from './helpers.js';

const bad = (x: unknown) => x as TensorData;

describe('tensor(): holes and non-numbers', () => {
  it('refuses holes (sparse arrays) naming the position, instead of filling zeros', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
    expectOpError(() => tensor(bad([1, , 3])), ShapeError, 'tensor', 'data[1]', 'hole');
    const inner = [4, 5, 6];
    delete inner[1];
    expectOpError(() => tensor([[1, 2, 3], inner]), ShapeError, 'tensor', 'data[1][1]', 'hole');
    expectOpError(() => tensor(new Array(3)), ShapeError, 'tensor', 'data[0]', 'hole');
    expectOpError(() => fromArray(bad(new Array(2)), [2]), ShapeError, 'fromArray', '[0]', 'hole');
  });

  it('a polluted Array.prototype cannot fill a hole', () => {
    const proto = Array.prototype as unknown as Record<number, unknown>;
    proto[1] = 7;
    try {
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
      expectOpError(() => tensor(bad([1, , 3])), ShapeError, 'tensor', 'data[1]', 'hole');
    } finally {
      delete proto[1];
    }
  });

  it('refuses strings, null, undefined, objects, bigint, symbols, functions, naming the position', () => {
    for (const v of ['a', null, undefined, {}, 1n, Symbol('s'), () => 1, new Date(0)]) {
      expectOpError(
        () =>
          tensor(
            bad([
              [1, 2],
              [3, v],
            ]),
          ),
        ShapeError,
        'tensor',
        'data[1][1]',
        'not a number',
      );
      expectOpError(() => fromArray(bad([1, v]), [2]), ShapeError, 'fromArray', '[1]', 'not a number');
    }
    for (const v of ['a', null, undefined, {}, 1n, () => 1, new DataView(new ArrayBuffer(4))]) {
      expectOpError(() => tensor(bad(v)), ArgumentError, 'tensor', "'data'");
    }
    expectOpError(() => fromArray(bad('ab'), [2]), ArgumentError, 'fromArray', "'data'");
  });

  it('refuses ragged nesting, naming the row', () => {
    expectOpError(
      () =>
        tensor([
          [1, 2, 3],
          [4, 5],
        ]),
      ShapeError,
      'tensor',
      'ragged',
      'data[1]',
      '3 entries',
    );
    expectOpError(() => tensor(bad([[1, 2], 5])), ShapeError, 'tensor', 'ragged', 'data[1]');
    expectOpError(() => tensor(bad([[1, 2], new Float32Array(3)])), ShapeError, 'tensor', 'data[1]');
  });

  it('refuses self-containing and over-deep nesting (no stack overflow)', () => {
    const a: unknown[] = [];
    a.push(a);
    expectOpError(() => tensor(bad(a)), ShapeError, 'tensor', 'nested more than 64');
    let deep: unknown = 1;
    for (let i = 0; i < 100000; i++) deep = [deep];
    expectOpError(() => tensor(bad(deep)), ShapeError, 'tensor', 'nested more than 64');
  });

  it('getters and Proxy traps that throw become an ArgumentError', () => {
    const g = [1, 2];
    Object.defineProperty(g, 1, {
      get() {
        throw new Error('boom');
      },
    });
    expectOpError(() => tensor(g), ArgumentError, 'tensor', 'boom');
    expectOpError(() => fromArray(g, [2]), ArgumentError, 'fromArray', 'boom');
    const p = new Proxy([1, 2], {
      get(t, k) {
        if (k === '0') throw new TypeError('trap');
        return Reflect.get(t, k);
      },
    });
    expectOpError(() => tensor(p), ArgumentError, 'tensor', 'trap');
    // A getter that answers a number the first time and a string the second is still checked.
    let calls = 0;
    const flip = [0];
    Object.defineProperty(flip, 0, {
      get() {
        calls++;
        return calls === 1 ? 1 : 'x';
      },
    });
    expectOpError(() => tensor(bad(flip)), ShapeError, 'tensor', 'not a number');
  });
});

describe('tensor(): booleans, typed arrays, dtype conversion', () => {
  it('reads booleans as 0/1 and keeps NaN and infinities', () => {
    expect(tensor([true, false, true]).tolist()).toEqual([1, 0, 1]);
    expect(tensor(true).tolist()).toBe(1);
    expect(fromArray([false, true], [2]).tolist()).toEqual([0, 1]);
    const t = tensor([Number.NaN, Number.POSITIVE_INFINITY, -0]);
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is(t.data[2], -0)).toBe(true);
  });

  it('accepts every numeric typed array, with the smallest exact float dtype by default', () => {
    const cases: Array<[ArrayLike<number | bigint>, string]> = [
      [new Int8Array([-128, 127]), 'float32'],
      [new Uint8Array([0, 255]), 'float32'],
      [new Uint8ClampedArray([0, 255]), 'float32'],
      [new Int16Array([-32768, 32767]), 'float32'],
      [new Uint16Array([0, 65535]), 'float32'],
      [new Int32Array([-(2 ** 31), 2 ** 31 - 1]), 'float64'],
      [new Uint32Array([0, 2 ** 32 - 1]), 'float64'],
      [new Float32Array([0.5, -1.5]), 'float32'],
      [new Float64Array([0.1, 2 ** 53]), 'float64'],
      [new BigInt64Array([-(2n ** 53n), 2n ** 53n]), 'float64'],
      [new BigUint64Array([0n, 2n ** 53n]), 'float64'],
    ];
    for (const [a, dtype] of cases) {
      const t = tensor(a as TensorData);
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([2]);
      expect(Array.from(t.data)).toEqual(Array.from(a as ArrayLike<number>, Number));
      const f32 = tensor(a as TensorData, { dtype: 'float32' });
      expect(Array.from(f32.data)).toEqual(Array.from(a as ArrayLike<number>, (v) => Math.fround(Number(v))));
    }
  });

  it('refuses BigInts beyond ±2^53 (they would round) with a DomainError naming the position', () => {
    expectOpError(() => tensor(new BigInt64Array([0n, 2n ** 53n + 1n])), DomainError, 'tensor', 'data[1]');
    expectOpError(
      () => tensor([new BigUint64Array([1n]), new BigUint64Array([2n ** 64n - 1n])]),
      DomainError,
      'tensor',
      'data[1][0]',
    );
  });

  it('nested arrays of typed-array rows give a 2-D tensor; float64 if any row needs it', () => {
    const t = tensor([new Int8Array([1, 2]), new Uint8Array([3, 4])]);
    expect([t.dtype, t.shape, t.tolist()]).toEqual([
      'float32',
      [2, 2],
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    const w = tensor([[new Float32Array([1])], [new Int32Array([2 ** 30 + 1])]]);
    expect([w.dtype, w.shape, Array.from(w.data)]).toEqual(['float64', [2, 1, 1], [1, 2 ** 30 + 1]]);
    expect(fromArray(new Int16Array([1, 2, 3, 4]), [2, 2]).tolist()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('creation functions: shapes, sizes, numbers and options', () => {
  const shapeFns: Array<[string, (s: unknown) => unknown]> = [
    ['zeros', (s) => zeros(s as number[])],
    ['ones', (s) => ones(s as number[])],
    ['full', (s) => full(s as number[], 2)],
    ['rand', (s) => rand(s as number[])],
    ['randn', (s) => randn(s as number[])],
    ['randint', (s) => randint(0, 3, s as number[])],
    ['fromArray', (s) => fromArray([], s as number[])],
  ];

  it('refuse negative, fractional, NaN, infinite, non-number dims and non-array shapes, naming the entry', () => {
    for (const [op, make] of shapeFns) {
      for (const [s, frag] of [
        [[2, -1], 'shape[1]'],
        [[1.5], 'shape[0]'],
        [[Number.NaN], 'shape[0]'],
        [[Number.POSITIVE_INFINITY, 1], 'shape[0]'],
        [['2'], 'string'],
        [[2 ** 53], 'shape[0]'],
        [{ length: 1, 0: 1 }, 'Object'],
        ['3', 'string'],
        [null, 'null'],
      ] as Array<[unknown, string]>) {
        expectOpError(() => make(s), ShapeError, op, frag);
      }
    }
  });

  it('accept a single number as a 1-D shape (torch.zeros(3))', () => {
    expect(zeros(3).shape).toEqual([3]);
    expect(ones(0).shape).toEqual([0]);
    expect(rand(2).shape).toEqual([2]);
  });

  it('refuse shapes over 2^31 − 1 elements before allocating; a 0 anywhere means no elements', () => {
    for (const s of [[65536, 65536], [2 ** 31, 2 ** 31], [2 ** 40, 2 ** 40, 2 ** 40], [2 ** 31]]) {
      expectOpError(() => zeros(s), ShapeError, 'zeros', 'elements', `[${s.join(', ')}]`);
      expectOpError(() => rand(s, { dtype: 'float64' }), ShapeError, 'rand', 'elements');
    }
    expect(zeros([0, 2 ** 40, 2 ** 40]).size).toBe(0);
    expect(zeros([2 ** 40, 0]).shape).toEqual([2 ** 40, 0]);
    expectOpError(() => zeros(new Array(65).fill(1)), ShapeError, 'zeros', '65 dimensions');
    expectOpError(() => eye(2 ** 16, 2 ** 16), ShapeError, 'eye', 'elements');
    expectOpError(() => linspace(0, 1, 2 ** 31), ShapeError, 'linspace', 'elements');
  });

  it('check value and bound arguments', () => {
    expectOpError(() => full([2], bad('1') as never), ArgumentError, 'full', "'value'", 'string');
    expectOpError(() => scalarTensor(bad(null) as never), ArgumentError, 'scalarTensor', "'value'");
    expect(full([2], true as never).tolist()).toEqual([1, 1]);
    expectOpError(() => arange(bad('5') as never), ArgumentError, 'arange', "'start'");
    expectOpError(() => arange(0, bad({}) as never), ArgumentError, 'arange', "'end'");
    expectOpError(() => linspace(0, Number.NaN, 3), DomainError, 'linspace', 'finite');
    expectOpError(() => linspace(0, 1, bad('3') as never), ArgumentError, 'linspace', "'steps'");
    expectOpError(() => eye(1.5), ShapeError, 'eye');
  });

  it('validate options: own keys only, known keys, typed values', () => {
    expectOpError(() => zeros([2], { dtyp: 'float64' } as never), ArgumentError, 'zeros', 'dtyp', 'dtype');
    expectOpError(() => zeros([2], 3 as never), ArgumentError, 'zeros', "'options'");
    expectOpError(
      () => tensor([1], { requiresGrad: 'yes' } as never),
      ArgumentError,
      'tensor',
      'requiresGrad',
    );
    expectOpError(() => rand([2], { generator: {} } as never), ArgumentError, 'rand', 'generator');
    expectOpError(() => ones([2], { dtype: 'int8' } as never), DtypeError, 'ones', 'int8');
    expectOpError(() => zerosLike(bad([1]) as never), ArgumentError, 'zerosLike', "'t'");
    // Inherited options (a polluted prototype) are ignored.
    const proto = Object.prototype as Record<string, unknown>;
    proto.dtype = 'float64';
    proto.requiresGrad = true;
    try {
      const t = zeros([2], {});
      expect([t.dtype, t.requiresGrad]).toEqual(['float32', false]);
      expect(onesLike(t).dtype).toBe('float32');
    } finally {
      delete proto.dtype;
      delete proto.requiresGrad;
    }
    expect(rand([2], { generator: new Generator(1), dtype: 'float64' }).dtype).toBe('float64');
  });
});
