import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError, type DType, fromArray, type Tensor } from '@gradkit/autograd';
import { loadSafetensors, loadSafetensorsFile, saveSafetensors, saveSafetensorsFile } from '@gradkit/nn';
import { propertyConfig, shape } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../src/checkpoint/safetensors-read.js';
import { writeSafetensors } from '../src/checkpoint/safetensors-write.js';
import { headerText } from './safetensors-helpers.js';

/** float32 values: fc.float gives float32-representable values incl. ±0, ±inf, subnormals and NaN. */
const valuesOf = (dtype: DType, n: number) =>
  fc.array(dtype === 'float32' ? fc.float() : fc.double(), { minLength: n, maxLength: n });

const tensorArb: fc.Arbitrary<Tensor> = fc
  .tuple(
    fc.constantFrom<DType>('float32', 'float64'),
    shape({ maxRank: 4, maxDim: 4, allowZero: true, maxSize: 48 }),
  )
  .chain(([dtype, s]) =>
    valuesOf(
      dtype,
      s.reduce((a, d) => a * d, 1),
    ).map((v) => fromArray(v, s, { dtype })),
  );

/** Names: PyTorch-style keys, any well-formed Unicode, and the awkward ones. */
const nameArb = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom(
      '0.weight',
      '0.bias',
      '__proto__',
      'constructor',
      'toString',
      '',
      '0',
      '10',
      '\uE000',
      '\u{10000}',
    ),
  )
  .filter((n) => n !== '__metadata__');

const stateDictArb = fc.uniqueArray(fc.tuple(nameArb, tensorArb), { maxLength: 6, selector: ([n]) => n });
const metadataArb = fc.option(
  fc.uniqueArray(
    fc.tuple(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 12 })),
    {
      maxLength: 4,
      selector: ([k]) => k,
    },
  ),
  { nil: undefined },
);

function nullProto<T>(pairs: ReadonlyArray<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

function sameTensor(a: Tensor, b: Tensor): boolean {
  return (
    a.dtype === b.dtype &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i]) &&
    a.data.length === b.data.length &&
    Array.from(a.data).every((v, i) => Object.is(v, b.data[i]))
  );
}

describe('safetensors round trips', () => {
  test('load(save(tensors, metadata)) gives back every tensor (dtype, shape, values incl. ±0, ±inf, NaN) and the metadata', () => {
    fc.assert(
      fc.property(stateDictArb, metadataArb, fc.boolean(), (pairs, meta, asMap) => {
        const input = asMap ? new Map(pairs) : nullProto(pairs);
        const bytes = saveSafetensors(input, meta === undefined ? undefined : { metadata: nullProto(meta) });
        const { tensors, metadata } = loadSafetensors(bytes);
        expect(Object.getPrototypeOf(tensors)).toBeNull();
        expect(Object.keys(tensors).sort()).toEqual(pairs.map(([n]) => n).sort());
        for (const [name, t] of pairs) {
          expect(Object.hasOwn(tensors, name)).toBe(true);
          expect(sameTensor(tensors[name]!, t), name).toBe(true);
        }
        if (meta === undefined) expect(metadata).toBeNull();
        else expect(Object.entries(metadata!).sort()).toEqual([...meta].sort());
      }),
      propertyConfig(),
    );
  });

  test('what we write is what Python writes: padded header, F64 before F32, names in UTF-8 order, data back to back', () => {
    fc.assert(
      fc.property(stateDictArb, metadataArb, (pairs, meta) => {
        const bytes = saveSafetensors(
          nullProto(pairs),
          meta === undefined ? undefined : { metadata: nullProto(meta) },
        );
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const text = headerText(bytes);
        expect(text).toBe(text.trimEnd() + ' '.repeat(text.length - text.trimEnd().length));
        expect(text.length - text.trimEnd().length).toBeLessThan(8);
        const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: number[] }>;
        const keys = Object.keys(header);
        // Object.keys puts integer-like keys first, so check the written order from the text instead.
        const order = pairs
          .map(([name, t]) => ({ name, t, utf8: Buffer.from(name, 'utf8') }))
          .sort((a, b) =>
            a.t.dtype !== b.t.dtype ? (a.t.dtype === 'float64' ? -1 : 1) : Buffer.compare(a.utf8, b.utf8),
          );
        let at = 0;
        for (const { name, t } of order) {
          expect(header[name]!.data_offsets).toEqual([at, at + t.data.byteLength]);
          at += t.data.byteLength;
        }
        expect(bytes.length).toBe(8 + n + at);
        expect(keys.includes('__metadata__')).toBe(meta !== undefined);
        if (meta !== undefined) expect(text.startsWith('{"__metadata__":{')).toBe(true);
      }),
      propertyConfig(),
    );
  });

  test('saving what was loaded gives the same bytes', () => {
    fc.assert(
      fc.property(stateDictArb, metadataArb, (pairs, meta) => {
        const bytes = saveSafetensors(
          nullProto(pairs),
          meta === undefined ? undefined : { metadata: nullProto(meta) },
        );
        const { tensors, metadata } = loadSafetensors(bytes);
        const again = saveSafetensors(tensors, metadata === null ? undefined : { metadata });
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      }),
      propertyConfig(),
    );
  });

  test('the big-endian (DataView) paths write and read the same bytes and values', () => {
    fc.assert(
      fc.property(stateDictArb, (pairs) => {
        const little = writeSafetensors('test', nullProto(pairs), undefined, true);
        const generic = writeSafetensors('test', nullProto(pairs), undefined, false);
        // NaN payloads may differ through a DataView; everything else is bit-identical.
        const read = readSafetensors('test', '', generic, false).tensors;
        for (const [name, t] of pairs) expect(sameTensor(read[name]!, t), name).toBe(true);
        if (!pairs.some(([, t]) => t.data.some(Number.isNaN))) {
          expect(Buffer.from(generic).equals(Buffer.from(little))).toBe(true);
        }
      }),
      propertyConfig(),
    );
  });

  test('an empty state dict is "{}" padded to 8 bytes, as Python writes it', () => {
    const bytes = saveSafetensors({});
    expect(Array.from(bytes)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{}      ')]);
    expect(Object.keys(loadSafetensors(bytes).tensors)).toEqual([]);
  });

  test('a tensor named __proto__ is an own key and pollutes nothing', () => {
    const t = fromArray([1, 2], [2]);
    const input = nullProto([['__proto__', t]]);
    const { tensors } = loadSafetensors(saveSafetensors(input));
    expect(Object.hasOwn(tensors, '__proto__')).toBe(true);
    const proto = '__proto__';
    expect(Array.from(tensors[proto]!.data)).toEqual([1, 2]);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(Object.getPrototypeOf(tensors)).toBeNull();
  });

  test('loadSafetensors takes an ArrayBuffer and a Uint8Array at an odd offset of a larger buffer', () => {
    const bytes = saveSafetensors({
      w: fromArray([1.5, -2], [2, 1]),
      d: fromArray([3], [], { dtype: 'float64' }),
    });
    const big = new Uint8Array(bytes.length + 5);
    big.set(bytes, 3);
    for (const input of [bytes.slice().buffer, big.subarray(3, 3 + bytes.length)]) {
      const { tensors } = loadSafetensors(input);
      expect(Array.from(tensors['w']!.data)).toEqual([1.5, -2]);
      expect(tensors['w']!.shape).toEqual([2, 1]);
      expect(tensors['d']!.shape).toEqual([]);
      expect(tensors['d']!.dtype).toBe('float64');
      expect(tensors['d']!.item()).toBe(3);
    }
  });
});

describe('safetensors files', () => {
  test('saveSafetensorsFile writes the bytes saveSafetensors returns, and loadSafetensorsFile reads them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradkit-safetensors-'));
    try {
      const tensors = {
        'layer.weight': fromArray([1, 2, 3, 4, 5, 6], [2, 3]),
        'layer.bias': fromArray([0.5, -0.5], [2]),
      };
      const path = join(dir, 'model.safetensors');
      await writeFile(path, 'an older checkpoint');
      await saveSafetensorsFile(tensors, path, { metadata: { format: 'pt' } });
      const written = await readFile(path);
      expect(written.equals(Buffer.from(saveSafetensors(tensors, { metadata: { format: 'pt' } })))).toBe(
        true,
      );
      expect(await readdir(dir)).toEqual(['model.safetensors']); // no temporary file left behind
      const url = new URL(`file://${path}`);
      const loaded = await loadSafetensorsFile(url);
      expect(loaded.metadata).toEqual(Object.assign(Object.create(null), { format: 'pt' }));
      expect(Array.from(loaded.tensors['layer.weight']!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a failed save leaves the existing file untouched and no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradkit-safetensors-'));
    try {
      const path = join(dir, 'model.safetensors');
      await writeFile(path, 'keep me');
      const bad = { w: 'not a tensor' } as unknown as Record<string, Tensor>;
      await expect(saveSafetensorsFile(bad, path)).rejects.toThrow(/must be a Tensor/);
      // A target that is a non-empty directory: the rename fails after the data was written.
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'x'), '');
      await expect(saveSafetensorsFile({ w: fromArray([1], [1]) }, join(dir, 'sub'))).rejects.toThrow();
      expect(await readFile(path, 'utf8')).toBe('keep me');
      expect((await readdir(dir)).sort()).toEqual(['model.safetensors', 'sub']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('path arguments are checked; file-system errors come through as they are', async () => {
    const t = { w: fromArray([1], [1]) };
    await expect(loadSafetensorsFile(42 as never)).rejects.toThrow(ArgumentError);
    await expect(saveSafetensorsFile(t, null as never)).rejects.toThrow(ArgumentError);
    const missing = join(tmpdir(), 'gradkit-no-such-dir', 'model.safetensors');
    await expect(loadSafetensorsFile(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(saveSafetensorsFile(t, missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
