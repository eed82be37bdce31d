import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgumentError, DtypeError, FormatError } from '@gradkit/kernels';
import { loadCsv, parseCsv } from '@gradkit/nn';
import { describe, expect, test } from 'vitest';

const DATA = fileURLToPath(new URL('../../../examples/data/', import.meta.url));

/** The error thrown by `f`, checked to be of class `cls` and to match every pattern. */
function thrown(f: () => unknown, cls: new (...args: never[]) => Error, ...patterns: RegExp[]): Error {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
  return err as Error;
}

describe('parseCsv: layout', () => {
  test('header, label column by default, features in file order', () => {
    const t = parseCsv('a,b,label\n1,2,0\n3.5,-4e-1,1\n');
    expect(t.header).toEqual(['a', 'b', 'label']);
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.labelColumn).toBe('label');
    expect(t.features.shape).toEqual([2, 2]);
    expect(t.features.dtype).toBe('float32');
    expect([...t.features.data]).toEqual([1, 2, 3.5, Math.fround(-0.4)]);
    expect([...t.labels.data]).toEqual([0, 1]);
  });

  test('label anywhere, by name or index (negative from the end); feature selection and order', () => {
    const text = 'y,a,b,c\n1,10,20,30\n0,11,21,31\n';
    const byName = parseCsv(text, { label: 'y', dtype: 'float64' });
    expect(byName.columns).toEqual(['a', 'b', 'c']);
    expect([...byName.labels.data]).toEqual([1, 0]);
    const byIndex = parseCsv(text, { label: 0, features: ['c', 1], dtype: 'float64' });
    expect(byIndex.columns).toEqual(['c', 'a']);
    expect([...byIndex.features.data]).toEqual([30, 10, 31, 11]);
    const last = parseCsv(text, { label: -1, dtype: 'float64' });
    expect(last.labelColumn).toBe('c');
    expect(last.columns).toEqual(['y', 'a', 'b']);
  });

  test('label: null reads every column as a feature', () => {
    const t = parseCsv('a,b\n1,2\n', { label: null });
    expect(t.labels).toBeNull();
    expect(t.labelColumn).toBeNull();
    expect(t.features.shape).toEqual([1, 2]);
  });

  test('header: false names the columns column_0…', () => {
    const t = parseCsv('1,2,3\n4,5,6\n', { header: false, label: 2 });
    expect(t.header).toEqual(['column_0', 'column_1', 'column_2']);
    expect(t.features.shape).toEqual([2, 2]);
    expect([...t.labels.data]).toEqual([3, 6]);
    expect(parseCsv('1,2\n', { header: false, label: 'column_0' }).columns).toEqual(['column_1']);
  });

  test('float64 keeps every digit; float32 rounds once', () => {
    const t = parseCsv('a,label\n0.1,0\n', { dtype: 'float64' });
    expect(t.features.dtype).toBe('float64');
    expect(t.features.data[0]).toBe(0.1);
    expect(parseCsv('a,label\n0.1,0\n').features.data[0]).toBe(Math.fround(0.1));
  });

  test('tab and semicolon delimiters', () => {
    expect([...parseCsv('a\tlabel\n1.5\t1\n', { delimiter: '\t' }).features.data]).toEqual([1.5]);
    expect([...parseCsv('a;label\n2;1\n', { delimiter: ';' }).features.data]).toEqual([2]);
  });

  test('header only gives 0 rows with the right width', () => {
    const t = parseCsv('a,b,label\n');
    expect(t.features.shape).toEqual([0, 2]);
    expect(t.labels.shape).toEqual([0]);
  });
});

describe('parseCsv: text encodings and quoting', () => {
  test('quoted fields: delimiters, escaped quotes and line breaks inside quotes; quoted numbers', () => {
    const text = '"a, the first","say ""hi""","multi\nline",label\n"1",2,"3",0\n';
    const t = parseCsv(text, { dtype: 'float64' });
    expect(t.header).toEqual(['a, the first', 'say "hi"', 'multi\nline', 'label']);
    expect([...t.features.data]).toEqual([1, 2, 3]);
  });

  test('CRLF, lone CR and mixed line endings give the same table', () => {
    const lf = parseCsv('a,label\n1,0\n2,1\n3,0\n');
    for (const text of [
      'a,label\r\n1,0\r\n2,1\r\n3,0\r\n',
      'a,label\r1,0\r2,1\r3,0',
      'a,label\r\n1,0\n2,1\r\n3,0',
    ]) {
      const t = parseCsv(text);
      expect([...t.features.data]).toEqual([...lf.features.data]);
      expect([...t.labels.data]).toEqual([...lf.labels.data]);
      expect(t.header).toEqual(['a', 'label']);
    }
  });

  test('a UTF-8 byte-order mark is skipped, in text and in bytes', () => {
    expect(parseCsv('\uFEFFa,label\n1,0\n').header).toEqual(['a', 'label']);
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('a,label\n1,0\n')]);
    expect(parseCsv(bytes).header).toEqual(['a', 'label']);
  });

  test('empty lines are skipped and line numbers still count them', () => {
    const t = parseCsv('a,label\n\n1,0\n\n\n2,1\n\n');
    expect([...t.features.data]).toEqual([1, 2]);
    thrown(() => parseCsv('a,label\n\n1,0\n\nx,1\n'), FormatError, /line 5, column 1 "a"/);
  });

  test('surrounding whitespace around numbers is ignored, header names are trimmed', () => {
    const t = parseCsv(' a , label \n 1.5 ,\t0\n');
    expect(t.header).toEqual(['a', 'label']);
    expect([...t.features.data]).toEqual([1.5]);
  });
});

describe('parseCsv: refused input names line and column', () => {
  test('missing values: empty field, NA, NaN, ?', () => {
    thrown(() => parseCsv('a,b,label\n1,2,0\n3,,1\n'), FormatError, /line 3, column 2 "b": missing value ""/);
    for (const token of ['NA', 'nan', 'NaN', '?', 'null', 'N/A']) {
      thrown(
        () => parseCsv(`a,b,label\n1,${token},0\n`),
        FormatError,
        /line 2, column 2 "b"/,
        /missing value/,
      );
    }
  });

  test('a missing label is refused too', () => {
    thrown(() => parseCsv('a,label\n1,\n'), FormatError, /line 2, column 2 "label": missing value/);
  });

  test('non-numeric fields: words, hex, digit separators, dates', () => {
    for (const token of ['abc', '0x10', '1,000', '1_000', '2024-01-01', '1.2.3', '--1', '1e']) {
      const err = thrown(
        () => parseCsv(`a,label\n"${token}",0\n`),
        FormatError,
        /line 2, column 1 "a"/,
        /is not a number/,
      );
      expect(err.message).toContain(JSON.stringify(token));
    }
  });

  test('infinities and float32 overflow', () => {
    thrown(
      () => parseCsv('a,label\nInfinity,0\n'),
      FormatError,
      /line 2, column 1 "a": "Infinity" is not finite/,
    );
    thrown(() => parseCsv('a,label\n-inf,0\n'), FormatError, /is not finite/);
    thrown(() => parseCsv('a,label\n1e999,0\n', { dtype: 'float64' }), FormatError, /overflows float64/);
    thrown(
      () => parseCsv('a,label\n1e39,0\n'),
      FormatError,
      /line 2, column 1 "a": "1e39" is outside the float32 range/,
    );
    expect(parseCsv('a,label\n1e39,0\n', { dtype: 'float64' }).features.data[0]).toBe(1e39);
  });

  test('only the selected columns are parsed', () => {
    const t = parseCsv('id,a,label\nrow-one,1,0\n', { features: ['a'] });
    expect([...t.features.data]).toEqual([1]);
  });

  test('ragged rows: too few and too many fields', () => {
    thrown(() => parseCsv('a,b,label\n1,2,0\n1,2\n'), FormatError, /line 3 has 2 fields, expected 3/);
    thrown(() => parseCsv('a,b,label\n1,2,0,9\n'), FormatError, /line 2 has 4 fields, expected 3/);
  });

  test('malformed quoting is a FormatError naming the line', () => {
    thrown(() => parseCsv('a,label\n"1,0\n'), FormatError, /malformed CSV/, /line 2/);
    thrown(() => parseCsv('a,label\n1"x",0\n'), FormatError, /malformed CSV/, /line 2/);
  });

  test('empty input and invalid UTF-8', () => {
    thrown(() => parseCsv(''), FormatError, /empty/);
    thrown(() => parseCsv('\n\n'), FormatError, /empty/);
    thrown(() => parseCsv('', { header: false, label: null }), FormatError, /empty/);
    thrown(() => parseCsv(new Uint8Array([0x61, 0xff, 0x0a])), FormatError, /UTF-8/);
  });

  test('duplicate header names', () => {
    thrown(
      () => parseCsv('a,b,a,label\n1,2,3,0\n'),
      FormatError,
      /duplicate column name "a" \(columns 1 and 3\)/,
    );
  });
});

describe('parseCsv: options', () => {
  test('unknown columns list what exists', () => {
    thrown(
      () => parseCsv('a,b\n1,2\n'),
      ArgumentError,
      /option 'label': no column named "label"; columns: "a", "b" \(pass label: null/,
    );
    thrown(
      () => parseCsv('a,label\n1,2\n', { features: ['z'] }),
      ArgumentError,
      /option 'features': no column named "z"/,
    );
    thrown(
      () => parseCsv('a,label\n1,2\n', { label: 2 }),
      ArgumentError,
      /column index 2 is not an integer in -2…1/,
    );
    thrown(() => parseCsv('a,label\n1,2\n', { label: 0.5 }), ArgumentError, /column index 0.5/);
  });

  test('feature lists: duplicates, the label column, empty', () => {
    thrown(
      () => parseCsv('a,label\n1,2\n', { features: ['a', 0] }),
      ArgumentError,
      /selects column "a" twice/,
    );
    thrown(
      () => parseCsv('a,label\n1,2\n', { features: ['a', 'label'] }),
      ArgumentError,
      /includes the label column/,
    );
    thrown(() => parseCsv('a,label\n1,2\n', { features: [] }), ArgumentError, /at least one column/);
  });

  test('options are checked by own keys and type', () => {
    thrown(() => parseCsv('a,label\n1,0\n', { lable: 'x' } as never), ArgumentError, /unknown key "lable"/);
    const inherited = Object.create({ label: 'a' }) as object;
    expect(parseCsv('a,label\n1,0\n', inherited).labelColumn).toBe('label');
    thrown(
      () => parseCsv('a,label\n1,0\n', { dtype: 'int32' as never }),
      DtypeError,
      /'float32' or 'float64'/,
    );
    thrown(() => parseCsv('a,label\n1,0\n', { delimiter: '::' }), ArgumentError, /one character/);
    thrown(() => parseCsv('a,label\n1,0\n', { delimiter: '"' }), ArgumentError, /one character/);
    thrown(
      () => parseCsv('a,label\n1,0\n', { header: 'yes' as never }),
      ArgumentError,
      /'header' must be a boolean/,
    );
    thrown(() => parseCsv('a,label\n1,0\n', { features: 'a' as never }), ArgumentError, /must be an array/);
    thrown(() => parseCsv(42 as never), ArgumentError, /string or a Uint8Array/);
  });

  test('header names such as __proto__ are plain names', () => {
    const t = parseCsv('__proto__,constructor,label\n1,2,0\n', { features: ['constructor', '__proto__'] });
    expect([...t.features.data]).toEqual([2, 1]);
  });
});

describe('loadCsv', () => {
  test('reads the example datasets with their documented shapes and class counts', async () => {
    const cases = [
      ['breast_cancer.csv', 569, 30, 212],
      ['spambase.csv', 4601, 57, 1813],
    ] as const;
    for (const [file, rows, cols, positives] of cases) {
      const t = await loadCsv(join(DATA, file));
      expect(t.features.shape).toEqual([rows, cols]);
      expect(t.labelColumn).toBe('label');
      expect([...t.labels.data].filter((v) => v === 1).length).toBe(positives);
    }
    const digits = await loadCsv(new URL('../../../examples/data/digits.csv', import.meta.url));
    expect(digits.features.shape).toEqual([1797, 64]);
    expect(digits.columns[0]).toBe('pixel_0_0');
    expect(digits.columns[63]).toBe('pixel_7_7');
  });

  test('first row of breast_cancer.csv, read as float64, is the text verbatim', async () => {
    const t = await loadCsv(join(DATA, 'breast_cancer.csv'), { dtype: 'float64' });
    expect([...t.features.data.subarray(0, 4)]).toEqual([17.99, 10.38, 122.8, 1001]);
    expect(t.labels.data[0]).toBe(1);
  });

  test('a file with BOM and CRLF; errors are named loadCsv', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradkit-csv-'));
    try {
      const path = join(dir, 'x.csv');
      await writeFile(path, '\uFEFFa,label\r\n1,0\r\n2,\r\n');
      await expect(loadCsv(path)).rejects.toThrow(/^loadCsv: line 3, column 2 "label": missing value/);
      await writeFile(path, '\uFEFFa,label\r\n1,0\r\n');
      expect((await loadCsv(path)).header).toEqual(['a', 'label']);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  test('a missing file is an ArgumentError with the reason; CSV text is pointed to parseCsv', async () => {
    await expect(loadCsv(join(DATA, 'no-such-file.csv'))).rejects.toThrow(ArgumentError);
    await expect(loadCsv(join(DATA, 'no-such-file.csv'))).rejects.toThrow(/ENOENT/);
    await expect(loadCsv('a,label\n1,0\n')).rejects.toThrow(/parseCsv/);
    await expect(loadCsv(3 as never)).rejects.toThrow(ArgumentError);
  });
});
