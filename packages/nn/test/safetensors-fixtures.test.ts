import { readdirSync } from 'node:fs';
import { FormatError, type Tensor } from '@gradkit/autograd';
import { loadSafetensors, loadSafetensorsFile, saveSafetensors } from '@gradkit/nn';
import { describe, expect, test } from 'vitest';
import { readSafetensors } from '../src/checkpoint/safetensors-read.js';
import { fixture, fixturePath } from './safetensors-helpers.js';

interface ReferenceTensor {
  dtype: 'float32' | 'float64' | 'float16' | 'bfloat16';
  shape: number[];
  values: Array<number | 'inf' | '-inf'>;
}
type Reference = Record<string, Record<string, ReferenceTensor | Record<string, string>>>;

const reference = JSON.parse(new TextDecoder().decode(fixture('reference.json'))) as Reference;
const VALID = ['mlp_f32.safetensors', 'mixed_f64.safetensors', 'half_f16.safetensors', 'bf16.safetensors'];

function expectedValue(v: number | 'inf' | '-inf', dtype: ReferenceTensor['dtype']): number {
  const x = v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v;
  return dtype === 'float64' ? x : Math.fround(x);
}

/** Exact comparison that tells -0 from 0 (Object.is), element by element. */
function expectSameValues(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const wrong = expected.flatMap((e, i) => (Object.is(actual[i], e) ? [] : [`[${i}] ${actual[i]} != ${e}`]));
  expect(wrong, what).toEqual([]);
}

function checkAgainstReference(file: string, tensors: Record<string, Tensor>, metadata: unknown): void {
  const ref = reference[file]!;
  const names = Object.keys(ref).filter((k) => k !== '__metadata__');
  expect(Object.keys(tensors).sort()).toEqual(names.sort());
  for (const name of names) {
    const r = ref[name] as ReferenceTensor;
    const t = tensors[name]!;
    expect(t.shape, `${file} ${name} shape`).toEqual(r.shape);
    expect(t.dtype, `${file} ${name} dtype`).toBe(r.dtype === 'float64' ? 'float64' : 'float32');
    expectSameValues(
      t.data,
      r.values.map((v) => expectedValue(v, r.dtype)),
      `${file} ${name}`,
    );
  }
  const refMetadata = ref['__metadata__'] as Record<string, string> | undefined;
  if (refMetadata === undefined) expect(metadata).toBeNull();
  else expect({ ...(metadata as object) }).toEqual(refMetadata);
}

describe('safetensors fixtures written by Python', () => {
  test.each(VALID)('%s loads with the reference values', (file) => {
    const { tensors, metadata } = loadSafetensors(fixture(file));
    checkAgainstReference(file, tensors, metadata);
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    if (metadata !== null) expect(Object.getPrototypeOf(metadata)).toBeNull();
  });

  test.each(VALID)('%s loads the same through the big-endian (DataView) path', (file) => {
    const bytes = fixture(file);
    const little = readSafetensors('test', '', bytes, true);
    const generic = readSafetensors('test', '', bytes, false);
    for (const name of Object.keys(little.tensors)) {
      expectSameValues(generic.tensors[name]!.data, Array.from(little.tensors[name]!.data), name);
    }
  });

  test.each(VALID)('%s loads from its path', async (file) => {
    const { tensors, metadata } = await loadSafetensorsFile(fixturePath(file));
    checkAgainstReference(file, tensors, metadata);
  });

  test('half precision keeps ±0, ±inf, subnormals and the largest half exactly', () => {
    // numpy rounds 6.1e-05 to the largest subnormal half, 1023 × 2^-24 (the smallest normal is 2^-14).
    const t = loadSafetensors(fixture('half_f16.safetensors')).tensors['h_special']!;
    expectSameValues(t.data, [0, -0, Infinity, -Infinity, 1023 * 2 ** -24, 65504], 'h_special');
  });

  test.each([['mlp_f32.safetensors'], ['mixed_f64.safetensors']])(
    're-saving the tensors of %s gives the bytes Python wrote',
    (file) => {
      const original = fixture(file);
      const { tensors, metadata } = loadSafetensors(original);
      const again = saveSafetensors(tensors, metadata === null ? undefined : { metadata });
      expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
    },
  );

  test('the tensors are laid out in Python order whatever the insertion order', () => {
    const original = fixture('mlp_f32.safetensors');
    const { tensors, metadata } = loadSafetensors(original);
    const reversed = new Map(
      Object.keys(tensors)
        .reverse()
        .map((k) => [k, tensors[k]!]),
    );
    const again = saveSafetensors(reversed, { metadata: { producer: metadata!.producer!, format: 'pt' } });
    expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
  });
});

/** Every malformed fixture and the defect its error must name. */
const DEFECTS: Record<string, RegExp> = {
  'empty_file.safetensors': /0 bytes is too short/,
  'short_length.safetensors': /5 bytes is too short/,
  'length_huge.safetensors': /header length 4611686018427387904 is larger than the 100000000-byte maximum/,
  'length_past_end.safetensors': /header length 9552 runs past the end of the file \(2421 bytes\)/,
  'header_not_json.safetensors': /header is not valid JSON/,
  'header_not_utf8.safetensors': /header is not valid UTF-8/,
  'header_not_object.safetensors': /header must be a JSON object/,
  'unknown_dtype.safetensors': /tensor "0\.bias" has dtype "F13", which is not a safetensors dtype/,
  'shape_size_mismatch.safetensors': /tensor "0\.bias": shape \[17\] of F32 .* needs 68 bytes but .* hold 64/,
  'negative_dim.safetensors': /tensor "0\.bias" has shape \[-16\]/,
  'offset_past_end.safetensors': /tensor "2\.bias" has data_offsets \[1984, 2056\] past the end/,
  'offsets_reversed.safetensors': /tensor "0\.bias" has data_offsets \[64, 0\] with begin after end/,
  'offsets_overlap.safetensors': /tensor "0\.weight" .* overlaps tensor "0\.bias"/,
  'offsets_wrong_arity.safetensors': /tensor "0\.bias" has data_offsets \[0\]; expected \[begin, end\]/,
  'body_truncated.safetensors': /tensor "2\.weight" has data_offsets \[1988, 2052\] past the end of the data/,
  'body_trailing_bytes.safetensors': /8 trailing bytes after the last tensor/,
  'duplicate_key.safetensors': /duplicate key "0\.bias" at the top level/,
  'metadata_not_strings.safetensors': /__metadata__ "format" must be a string, got number 5/,
};

describe('malformed safetensors fixtures', () => {
  const files = readdirSync(fixturePath('bad')).sort();

  test('every file in bad/ has an expected defect here', () => {
    expect(files).toEqual(Object.keys(DEFECTS).sort());
  });

  test.each(files)('bad/%s is rejected with a FormatError naming the defect', (file) => {
    const bytes = fixture(`bad/${file}`);
    expect(() => loadSafetensors(bytes)).toThrow(FormatError);
    expect(() => loadSafetensors(bytes)).toThrow(DEFECTS[file]!);
  });

  test.each(files)('bad/%s is rejected from its path, naming the file', async (file) => {
    const path = fixturePath(`bad/${file}`);
    const error = await loadSafetensorsFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as Error).message).toContain(`loadSafetensorsFile: file ${JSON.stringify(path)}: `);
    expect((error as Error).message).toMatch(DEFECTS[file]!);
  });
});
