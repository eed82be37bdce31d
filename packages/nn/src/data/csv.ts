import { type DType, fromArray, type Tensor } from '@gradkit/autograd';
import {
  ArgumentError,
  checkOptionKeys,
  DtypeError,
  describeValue,
  FormatError,
  ownValue,
} from '@gradkit/kernels';
// The browser build of csv-parse's sync API carries its own Buffer, so this file runs unchanged in a browser
// and in Node (the `csv-parse/sync` entry needs Node's global Buffer).
import { CsvError, parse } from 'csv-parse/browser/esm/sync';

/** A column, by header name or by 0-based position (negative counts from the end, as in Python). */
export type ColumnRef = string | number;

/** Options of {@link parseCsv} and {@link loadCsv}. */
export interface CsvOptions {
  /**
   * The label column (default `'label'`, the convention of the example datasets), or `null` for a table
   * without labels.
   */
  label?: ColumnRef | null;
  /** The feature columns, in this order (default: every column except the label, in file order). */
  features?: readonly ColumnRef[];
  /** Whether the first record is a header row of column names (default true). Without one, the columns are
   * named `column_0`, `column_1`, … */
  header?: boolean;
  /** The field delimiter, one character other than a quote or a line break (default `','`; `'\t'` for TSV). */
  delimiter?: string;
  /** The dtype of `features` and `labels` (default float32). */
  dtype?: DType;
}

/** A parsed numeric table. */
export interface CsvTable {
  /** Every column name in file order (from the header row, or `column_0`, … without one). */
  readonly header: readonly string[];
  /** The names of the feature columns: `features[:, j]` is column `columns[j]`. */
  readonly columns: readonly string[];
  /** The name of the label column, or null when the table has none. */
  readonly labelColumn: string | null;
  /** The features, shape `[rows, columns.length]`. */
  readonly features: Tensor;
  /** The labels, shape `[rows]`, or null when the table has none. */
  readonly labels: Tensor | null;
}

/** A table read with a label column. */
export interface LabeledCsv extends CsvTable {
  /** The name of the label column. */
  readonly labelColumn: string;
  /** The labels, shape `[rows]`. */
  readonly labels: Tensor;
}

/** A table read with `label: null`. */
export interface UnlabeledCsv extends CsvTable {
  /** Always null. */
  readonly labelColumn: null;
  /** Always null. */
  readonly labels: null;
}

const OPTION_KEYS = ['label', 'features', 'header', 'delimiter', 'dtype'] as const;

/** Field values read as "missing" (compared case-insensitively after trimming). */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

/** A finite decimal number, as written by spreadsheets, pandas, R and Python (no hex, no digit separators). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const INFINITE = /^[+-]?(?:inf|infinity)$/i;

const FLOAT32_MAX = 3.4028234663852886e38;

interface ParsedRecord {
  info: { lines: number };
  record: string[];
}

/** The checked options, with defaults. */
interface Resolved {
  label: ColumnRef | null;
  features: readonly ColumnRef[] | undefined;
  header: boolean;
  delimiter: string;
  dtype: DType;
}

function readOptions(op: string, options: unknown): Resolved {
  checkOptionKeys(op, 'options', options, OPTION_KEYS);
  const o = (options ?? {}) as object;
  const label = ownValue(o, 'label');
  if (label !== undefined && label !== null && !isColumnRef(label)) {
    throw new ArgumentError(
      op,
      `option 'label' must be a column name, a column index or null, got ${describeValue(label)}`,
    );
  }
  const features = ownValue(o, 'features');
  if (features !== undefined) {
    if (!Array.isArray(features)) {
      throw new ArgumentError(
        op,
        `option 'features' must be an array of column names or indices, got ${describeValue(features)}`,
      );
    }
    for (const f of features) {
      if (!isColumnRef(f)) {
        throw new ArgumentError(
          op,
          `option 'features' must hold column names or indices, got ${describeValue(f)}`,
        );
      }
    }
  }
  const header = ownValue(o, 'header') ?? true;
  if (typeof header !== 'boolean')
    throw new ArgumentError(op, `option 'header' must be a boolean, got ${describeValue(header)}`);
  const delimiter = ownValue(o, 'delimiter') ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || '"\r\n'.includes(delimiter)) {
    throw new ArgumentError(
      op,
      `option 'delimiter' must be one character other than '"' or a line break, got ${describeValue(delimiter)}`,
    );
  }
  const dtype = ownValue(o, 'dtype') ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DtypeError(op, `option 'dtype' must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  }
  return {
    label: label === undefined ? 'label' : (label as ColumnRef | null),
    features: features as readonly ColumnRef[] | undefined,
    header,
    delimiter,
    dtype,
  };
}

function isColumnRef(x: unknown): x is ColumnRef {
  return typeof x === 'string' || typeof x === 'number';
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 12).map((n) => JSON.stringify(n));
  return names.length > 12 ? `${shown.join(', ')}, … (${names.length} in all)` : shown.join(', ');
}

/** Resolves a column reference to a 0-based position in `names`. */
function resolveColumn(op: string, arg: string, ref: ColumnRef, names: readonly string[], header: boolean) {
  if (typeof ref === 'number') {
    const d = names.length;
    if (!Number.isInteger(ref) || ref < -d || ref >= d) {
      throw new ArgumentError(
        op,
        `option '${arg}': column index ${ref} is not an integer in ${-d}…${d - 1} (the table has ${d} columns)`,
      );
    }
    return ref < 0 ? ref + d : ref;
  }
  const at = names.indexOf(ref);
  if (at < 0) {
    const hint = header
      ? `columns: ${listNames(names)}`
      : `the table has no header row, so name columns column_0…column_${names.length - 1} or use indices`;
    const noLabel = arg === 'label' ? ' (pass label: null for a table without labels)' : '';
    throw new ArgumentError(op, `option '${arg}': no column named ${JSON.stringify(ref)}; ${hint}${noLabel}`);
  }
  return at;
}

function decode(op: string, text: unknown): string {
  if (typeof text === 'string') return text;
  if (text instanceof Uint8Array) {
    try {
      // Strips a UTF-8 byte-order mark; `fatal` refuses invalid UTF-8 instead of inventing U+FFFD.
      return new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      throw new FormatError(op, 'the input is not valid UTF-8 text');
    }
  }
  throw new ArgumentError(op, `argument 'text' must be a string or a Uint8Array, got ${describeValue(text)}`);
}

function records(op: string, text: string, delimiter: string): ParsedRecord[] {
  try {
    return parse(text, {
      bom: true,
      delimiter,
      info: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as ParsedRecord[];
  } catch (e) {
    // csv-parse's messages name the line ("Quote Not Closed: … at line 3").
    if (e instanceof CsvError) throw new FormatError(op, `malformed CSV: ${e.message}`);
    throw e;
  }
}

/** Parses one field: the number, or why it is refused (completed by the caller with its position). */
function parseNumber(field: string, dtype: DType): number | string {
  const s = field.trim();
  if (DECIMAL.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) return `${JSON.stringify(s)} overflows float64`;
    if (dtype === 'float32' && Math.abs(v) > FLOAT32_MAX)
      return `${JSON.stringify(s)} is outside the float32 range (read with dtype 'float64')`;
    return v;
  }
  if (MISSING.has(s.toLowerCase()))
    return `missing value ${JSON.stringify(field)}; fill in or drop missing values before loading`;
  if (INFINITE.test(s)) return `${JSON.stringify(s)} is not finite`;
  return `${JSON.stringify(field)} is not a number`;
}

/**
 * Parses numeric CSV text into a feature matrix and a label vector, with
 * [csv-parse](https://csv.js.org/parse/) (RFC 4180 quoting, so quoted fields may hold delimiters, quotes and
 * line breaks). A UTF-8 byte-order mark is skipped; `\n`, `\r\n` and `\r` line endings may be mixed; empty
 * lines are skipped. Runs in browsers and in Node; {@link loadCsv} reads a file in Node.
 *
 * Every selected field must be a finite decimal number (surrounding whitespace is ignored). Anything else
 * is refused with a FormatError naming the 1-based file line (for a record spanning several lines, the line
 * it ends on), the 1-based column number and the column name, for example
 * `parseCsv: line 7, column 3 "mean_perimeter": missing value "NA"; …`. Columns that are not selected are
 * not parsed. A header row without data rows gives tensors with 0 rows.
 *
 * @param text - CSV text, or its UTF-8 bytes
 * @param options - label and feature columns, header, delimiter, dtype; see {@link CsvOptions}
 * @returns the header, the feature column names, `features` `[rows, d]` and `labels` `[rows]` (null with
 *   `label: null`)
 * @throws FormatError when the text is empty, not UTF-8, malformed CSV (unclosed quote), has a duplicate
 *   header name, a row with the wrong number of fields, or a missing, non-numeric or non-finite value
 * @throws ArgumentError when an option is unknown or malformed, or names a column that does not exist
 * @throws DtypeError when `dtype` is not float32 or float64
 */
export function parseCsv(text: string | Uint8Array, options: CsvOptions & { label: null }): UnlabeledCsv;
export function parseCsv(text: string | Uint8Array, options?: CsvOptions & { label?: ColumnRef }): LabeledCsv;
export function parseCsv(text: string | Uint8Array, options?: CsvOptions): CsvTable;
export function parseCsv(text: string | Uint8Array, options?: CsvOptions): CsvTable {
  return parseCsvAs('parseCsv', text, options);
}

/** @internal parseCsv under the name of the public entry point (so loadCsv's errors say loadCsv). */
export function parseCsvAs(op: string, text: unknown, options: unknown): CsvTable {
  const opts = readOptions(op, options);
  const rows = records(op, decode(op, text), opts.delimiter);
  if (rows.length === 0) {
    throw new FormatError(
      op,
      opts.header ? 'the input is empty: expected a header row' : 'the input is empty: no rows',
    );
  }
  const first = rows[0]!;
  const width = first.record.length;
  const header = opts.header
    ? first.record.map((n) => n.trim())
    : Array.from({ length: width }, (_, j) => `column_${j}`);
  const seen = new Map<string, number>();
  header.forEach((name, j) => {
    const before = seen.get(name);
    if (before !== undefined) {
      throw new FormatError(
        op,
        `line ${first.info.lines}: duplicate column name ${JSON.stringify(name)} (columns ${before + 1} and ${j + 1})`,
      );
    }
    seen.set(name, j);
  });

  const labelAt = opts.label === null ? -1 : resolveColumn(op, 'label', opts.label, header, opts.header);
  let featureAt: number[];
  if (opts.features === undefined) {
    featureAt = header.map((_, j) => j).filter((j) => j !== labelAt);
  } else {
    if (opts.features.length === 0)
      throw new ArgumentError(op, `option 'features' must name at least one column`);
    featureAt = opts.features.map((f) => resolveColumn(op, 'features', f, header, opts.header));
    const dup = featureAt.find((j, k) => featureAt.indexOf(j) !== k);
    if (dup !== undefined) {
      throw new ArgumentError(op, `option 'features' selects column ${JSON.stringify(header[dup])} twice`);
    }
    if (featureAt.includes(labelAt)) {
      throw new ArgumentError(
        op,
        `option 'features' includes the label column ${JSON.stringify(header[labelAt])}; pass label: null to read it as a feature`,
      );
    }
  }

  const body = opts.header ? rows.slice(1) : rows;
  const n = body.length;
  const d = featureAt.length;
  const x = new Float64Array(n * d);
  const y = new Float64Array(labelAt < 0 ? 0 : n);
  for (let i = 0; i < n; i++) {
    const { info, record } = body[i]!;
    if (record.length !== width) {
      throw new FormatError(
        op,
        `line ${info.lines} has ${record.length} field${record.length === 1 ? '' : 's'}, expected ${width} ` +
          `(${opts.header ? 'as in the header row' : 'as in the first row'})`,
      );
    }
    const field = (j: number): number => {
      const v = parseNumber(record[j]!, opts.dtype);
      if (typeof v === 'number') return v;
      throw new FormatError(op, `line ${info.lines}, column ${j + 1} ${JSON.stringify(header[j])}: ${v}`);
    };
    for (let k = 0; k < d; k++) x[i * d + k] = field(featureAt[k]!);
    if (labelAt >= 0) y[i] = field(labelAt);
  }
  const labelColumn = labelAt < 0 ? null : header[labelAt]!;
  return {
    header,
    columns: featureAt.map((j) => header[j]!),
    labelColumn,
    features: fromArray(x, [n, d], { dtype: opts.dtype }),
    labels: labelAt < 0 ? null : fromArray(y, [n], { dtype: opts.dtype }),
  };
}
