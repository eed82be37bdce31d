import { ArgumentError, DtypeError, FormatError, fromArray, type Tensor } from '@gradkit/autograd';
import { loadSafetensors, MAX_HEADER_BYTES, saveSafetensors } from '@gradkit/nn';
import { describe, expect, test } from 'vitest';
import { READABLE_DTYPES } from '../src/checkpoint/dtypes.js';
import { halfToNumber } from '../src/checkpoint/half.js';
import { writeSafetensors } from '../src/checkpoint/safetensors-write.js';
import { decodeElements } from '../src/checkpoint/tensor-bytes.js';
import { build, f32Bytes } from './safetensors-helpers.js';

const entry = (begin: number, end: number, shape: number[] = [(end - begin) / 4], dtype = 'F32') =>
  `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`;

/** Hand-made headers the fixtures do not cover, each with the defect its error must name. */
const MALFORMED: Array<[string, Uint8Array, RegExp]> = [
  [
    'a duplicate key inside a tensor entry',
    build(`{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /duplicate key "dtype" in entry "a"/,
  ],
  [
    'a duplicate key in __metadata__',
    build(`{"__metadata__":{"k":"1","k":"2"},"a":${entry(0, 4)}}`, f32Bytes([1])),
    /duplicate key "k" in entry "__metadata__"/,
  ],
  [
    'a duplicate key spelled with an escape',
    build(`{"a":${entry(0, 4)},"\\u0061":${entry(0, 4)}}`, f32Bytes([1])),
    /duplicate key "a" at the top level/,
  ],
  [
    'a duplicate __metadata__',
    build(`{"__metadata__":{},"__metadata__":{},"a":${entry(0, 4)}}`, f32Bytes([1])),
    /duplicate key "__metadata__"/,
  ],
  [
    'a fractional dimension written 1.0',
    build(`{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /number 1\.0 in entry "a", field "shape" that is not written as an integer/,
  ],
  [
    'an offset written 4e0',
    build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}`, f32Bytes([1])),
    /number 4e0 .* not written as an integer/,
  ],
  [
    'a fractional dimension',
    build(`{"a":{"dtype":"F32","shape":[0.5],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /number 0\.5/,
  ],
  [
    'a dimension past 2^53',
    build(`{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /has shape \[9007199254740992\]; expected a list of non-negative integers/,
  ],
  [
    'shape entries whose product overflows',
    build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /needs more than 2\^53 bytes/,
  ],
  [
    'a string dimension',
    build(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /has shape \["1"\]/,
  ],
  [
    'a shape that is not a list',
    build(`{"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}}`, f32Bytes([1])),
    /has shape 4/,
  ],
  [
    'three offsets',
    build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}`, f32Bytes([1])),
    /data_offsets \[0,4,4\]; expected \[begin, end\]/,
  ],
  [
    'a negative offset',
    build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[-4,-4]}}`),
    /data_offsets \[-4,-4\]/,
  ],
  [
    'an unknown field',
    build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}`, f32Bytes([1])),
    /tensor "a" has an unknown field "offsets"/,
  ],
  [
    'a missing field',
    build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32Bytes([1])),
    /tensor "a" has no shape/,
  ],
  ['an entry that is not an object', build(`{"a":[0,4]}`, f32Bytes([1])), /tensor "a" must be an object/],
  [
    'a dtype that is not a string',
    build(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, f32Bytes([1])),
    /has dtype number 4, not a string/,
  ],
  [
    'a dtype named like a prototype property',
    build(`{"a":${entry(0, 4, [1], 'constructor')}}`, f32Bytes([1])),
    /has dtype "constructor", which is not a safetensors dtype/,
  ],
  ['a lower-case dtype', build(`{"a":${entry(0, 4, [1], 'f32')}}`, f32Bytes([1])), /dtype "f32"/],
  [
    '__metadata__ null',
    build(`{"__metadata__":null}`),
    /__metadata__ must be an object of strings, got null/,
  ],
  [
    '__metadata__ an array',
    build(`{"__metadata__":["a"]}`),
    /__metadata__ must be an object of strings, got array/,
  ],
  [
    'a nested __metadata__ value',
    build(`{"__metadata__":{"k":{"x":"y"}}}`),
    /__metadata__ "k" must be a string, got Object/,
  ],
  [
    'a gap between two tensors',
    build(`{"a":${entry(0, 4)},"b":${entry(8, 12)}}`, f32Bytes([1, 2, 3])),
    /bytes 4\.\.8 before tensor "b" \(data_offsets \[8, 12\]\) belong to no tensor/,
  ],
  [
    'data that does not start at 0',
    build(`{"a":${entry(4, 8)}}`, f32Bytes([1, 2])),
    /bytes 0\.\.4 before tensor "a"/,
  ],
  [
    'an empty tensor inside another one',
    build(`{"a":${entry(0, 8)},"z":${entry(4, 4, [0])}}`, f32Bytes([1, 2])),
    /tensor "z" \(data_offsets \[4, 4\]\) overlaps tensor "a"/,
  ],
  [
    'two tensors on the same bytes',
    build(`{"a":${entry(0, 4)},"b":${entry(0, 4)}}`, f32Bytes([1])),
    /overlaps/,
  ],
  ['data but no tensor', build('{}', [0, 0, 0, 0]), /4 trailing bytes after the last tensor/],
  [
    'a byte-order mark before the header',
    build(`\uFEFF{"a":${entry(0, 4)}}`, f32Bytes([1])),
    /header must be a JSON object starting with '\{'/,
  ],
  ['leading whitespace', build(` {"a":${entry(0, 4)}}`, f32Bytes([1])), /starting with '\{'/],
  ['JSON followed by more text', build(`{"a":${entry(0, 4)}} x`, f32Bytes([1])), /header is not valid JSON/],
  ['an empty header', build(''), /header must be a JSON object/],
  [
    'a lone surrogate escape in a name',
    build(`{"\\ud800":${entry(0, 4)}}`, f32Bytes([1])),
    /tensor "\\ud800" has a name that is not valid Unicode/,
  ],
  [
    'a lone surrogate escape in metadata',
    build(`{"__metadata__":{"k":"\\udc00"}}`),
    /__metadata__ "k" is not valid Unicode/,
  ],
  [
    'deeply nested arrays',
    build(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    /tensor "a" must be an object/,
  ],
];

describe('the reader rejects every malformed header with a FormatError naming the defect', () => {
  test.each(MALFORMED)('%s', (_, bytes, message) => {
    expect(() => loadSafetensors(bytes)).toThrow(FormatError);
    expect(() => loadSafetensors(bytes)).toThrow(message);
  });

  test('a header one byte over the maximum is refused before it is read', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(() => loadSafetensors(bytes)).toThrow(
      /header length 100000001 is larger than the 100000000-byte maximum/,
    );
  });

  test('a header length of 2^64 - 1 is refused (no precision lost in the check)', () => {
    const bytes = new Uint8Array(16).fill(0xff, 0, 8);
    expect(() => loadSafetensors(bytes)).toThrow(/header length 18446744073709551615 is larger/);
  });

  test('a valid dtype gradkit cannot hold is a DtypeError naming the tensor', () => {
    const bytes = build(
      `{"num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`,
      new Array(8).fill(0),
    );
    expect(() => loadSafetensors(bytes)).toThrow(DtypeError);
    expect(() => loadSafetensors(bytes)).toThrow(
      /tensor "num_batches_tracked" has dtype I64, which gradkit tensors cannot hold/,
    );
  });

  test('non-bytes input is an ArgumentError', () => {
    for (const x of [null, 'model.safetensors', [1, 2], new Float32Array(4)]) {
      expect(() => loadSafetensors(x as unknown as Uint8Array)).toThrow(ArgumentError);
    }
  });
});

describe('the reader accepts what the format allows', () => {
  test('tensors in any header order, header padding, escaped names and an empty metadata object', () => {
    const header = `{"b":${entry(4, 8)},"__metadata__":{},"\\u0061\\n":${entry(0, 4)}}   \n\t `;
    const { tensors, metadata } = loadSafetensors(build(header, f32Bytes([1, 2])));
    expect(Array.from(tensors['a\n']!.data)).toEqual([1]);
    expect(Array.from(tensors['b']!.data)).toEqual([2]);
    expect(Object.keys(tensors)).toEqual(['a\n', 'b']); // by data offset
    expect(metadata).toEqual(Object.create(null));
  });

  test('an empty tensor between two others and at the end', () => {
    const bytes = build(
      `{"a":${entry(0, 4)},"e":${entry(4, 4, [3, 0])},"b":${entry(4, 8)},"z":${entry(8, 8, [0])}}`,
      f32Bytes([1, 2]),
    );
    const { tensors } = loadSafetensors(bytes);
    expect(tensors['e']!.shape).toEqual([3, 0]);
    expect(tensors['z']!.shape).toEqual([0]);
    expect(Array.from(tensors['b']!.data)).toEqual([2]);
  });

  test('names like __proto__ and constructor are own keys of a null-prototype object', () => {
    const bytes = build(`{"__proto__":${entry(0, 4)},"constructor":${entry(4, 8)}}`, f32Bytes([1, 2]));
    const { tensors } = loadSafetensors(bytes);
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(Object.keys(tensors)).toEqual(['__proto__', 'constructor']);
    const proto = '__proto__';
    expect(tensors[proto]!.item()).toBe(1);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

describe('half precision decoding', () => {
  test('binary16 bit patterns', () => {
    const cases: Array<[number, number]> = [
      [0x0000, 0],
      [0x8000, -0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0x0400, 2 ** -14],
      [0x03ff, 1023 * 2 ** -24],
      [0x0001, 2 ** -24],
      [0x8001, -(2 ** -24)],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    for (const [bits, value] of cases)
      expect(Object.is(halfToNumber(bits), value), bits.toString(16)).toBe(true);
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(halfToNumber(0xfc01)).toBeNaN();
  });

  test.each([true, false])('bfloat16 bit patterns (little-endian host path: %s)', (littleEndianHost) => {
    const bits = [0x3f80, 0xbf80, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7f7f, 0x4049, 0x7fc0];
    const bytes = new Uint8Array(bits.flatMap((b) => [b & 0xff, b >> 8]));
    const out = decodeElements(bytes, 0, bits.length, READABLE_DTYPES.get('BF16')!, littleEndianHost);
    const expected = [1, -1, 2 ** -133, -0, Infinity, -Infinity, 3.3895313892515355e38, 3.140625];
    for (const [i, v] of expected.entries()) {
      expect(Object.is(out[i], v), `${bits[i]!.toString(16)}`).toBe(true);
    }
    expect(out[8]).toBeNaN();
  });
});

describe('the writer refuses what it cannot write faithfully', () => {
  const t = fromArray([1], [1]);
  test.each([
    [
      'a value that is not a Tensor',
      () => saveSafetensors({ w: [1, 2] as unknown as Tensor }),
      /tensors\["w"\] must be a Tensor, got array/,
    ],
    [
      'the reserved name __metadata__',
      () => saveSafetensors({ __metadata__: t }),
      /"__metadata__" is reserved/,
    ],
    ['a name with a lone surrogate', () => saveSafetensors({ 'w\uD800': t }), /lone UTF-16 surrogate/],
    [
      'a non-string metadata value',
      () => saveSafetensors({ w: t }, { metadata: { epoch: 3 as unknown as string } }),
      /metadata "epoch" must be a string, got number 3/,
    ],
    [
      'metadata that is not an object',
      () => saveSafetensors({ w: t }, { metadata: 'pt' as unknown as Record<string, string> }),
      /option 'metadata' must be an object/,
    ],
    [
      'a metadata value with a lone surrogate',
      () => saveSafetensors({ w: t }, { metadata: { k: '\uDC00' } }),
      /lone UTF-16 surrogate/,
    ],
    ['an unknown option', () => saveSafetensors({ w: t }, { meta: {} } as never), /unknown key "meta"/],
    ['an array of tensors', () => saveSafetensors([t] as never), /must be an object or a Map/],
    ['a single tensor', () => saveSafetensors(t as never), /must be an object or a Map/],
    [
      'a Map with a non-string key',
      () => saveSafetensors(new Map([[1, t]]) as never),
      /tensor names must be strings/,
    ],
  ])('%s is an ArgumentError', (_, save, message) => {
    expect(save).toThrow(ArgumentError);
    expect(save).toThrow(message);
  });

  test('a header over the reader limit is an ArgumentError (limit lowered to keep the test fast)', () => {
    const save = (limit: number) =>
      writeSafetensors('saveSafetensors', { w: t }, { metadata: { k: 'x'.repeat(40) } }, true, limit);
    // 118 bytes of JSON, padded to 120.
    expect(save(120).length).toBe(8 + 120 + 4);
    expect(() => save(119)).toThrow(ArgumentError);
    expect(() => save(119)).toThrow(/the header would be 120 bytes, more than readers accept \(119\)/);
  });

  test('only own enumerable keys are saved', () => {
    const input = Object.create({ inherited: fromArray([2], [1]) }) as Record<string, Tensor>;
    input['own'] = t;
    expect(Object.keys(loadSafetensors(saveSafetensors(input)).tensors)).toEqual(['own']);
  });
});
