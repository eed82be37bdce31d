import { ArgumentError, describeValue, StateError } from '@gradkit/kernels';
import {
  type ColumnRef,
  type CsvOptions,
  type CsvTable,
  type LabeledCsv,
  parseCsvAs,
  type UnlabeledCsv,
} from './csv.js';

/**
 * Reads a numeric CSV file in Node and parses it like {@link parseCsv} (same options, same errors, named
 * `loadCsv`). `node:fs/promises` is imported lazily, only when this is called, so bundling the package for
 * a browser works; in a browser, fetch the text and call {@link parseCsv}.
 *
 * @example
 * ```ts
 * const { features, labels, columns } = await loadCsv('examples/data/breast_cancer.csv');
 * ```
 *
 * @param path - the file's path (or a `file:` URL)
 * @param options - see {@link CsvOptions}
 * @throws ArgumentError when `path` is not a string or URL, or the file cannot be read (the message
 *   carries the system's reason, e.g. ENOENT)
 * @throws StateError when `node:fs` is not available (a browser)
 * @throws FormatError, ArgumentError, DtypeError as {@link parseCsv}
 */
export async function loadCsv(
  path: string | URL,
  options: CsvOptions & { label: null },
): Promise<UnlabeledCsv>;
export async function loadCsv(
  path: string | URL,
  options?: CsvOptions & { label?: ColumnRef },
): Promise<LabeledCsv>;
export async function loadCsv(path: string | URL, options?: CsvOptions): Promise<CsvTable>;
export async function loadCsv(path: string | URL, options?: CsvOptions): Promise<CsvTable> {
  if (typeof path !== 'string' && !(path instanceof URL)) {
    throw new ArgumentError(
      'loadCsv',
      `argument 'path' must be a string or a URL, got ${describeValue(path)}`,
    );
  }
  if (typeof path === 'string' && /[\r\n]/.test(path)) {
    throw new ArgumentError(
      'loadCsv',
      `argument 'path' contains a line break, so it looks like CSV text: call parseCsv(text) for text`,
    );
  }
  let fs: Partial<typeof import('node:fs/promises')> | undefined;
  try {
    fs = await import('node:fs/promises');
  } catch {
    fs = undefined;
  }
  // Bundlers for the browser replace node:fs/promises with an empty module, or the import fails.
  if (typeof fs?.readFile !== 'function') {
    throw new StateError(
      'loadCsv',
      'reading files needs Node (node:fs/promises is not available here); fetch the text and call parseCsv',
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ArgumentError('loadCsv', `cannot read ${JSON.stringify(String(path))}: ${reason}`);
  }
  return parseCsvAs('loadCsv', bytes, options);
}
