import { fromArray, type Tensor } from '@gradkit/autograd';
import { ArgumentError, DtypeError, describeValue, FormatError } from '@gradkit/kernels';
import { HOST_IS_LITTLE_ENDIAN, READABLE_DTYPES, type ReadableDtype, UNSUPPORTED_DTYPES } from './dtypes.js';
import { findHeaderDefect } from './header-scan.js';
import { decodeElements } from './tensor-bytes.js';

/**
 * The largest header the reader accepts, in bytes (the limit of Python's `safetensors`): a header is a few
 * hundred bytes per tensor, so anything larger is a damaged or hostile file.
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** What {@link loadSafetensors} and {@link loadSafetensorsFile} return. */
export interface SafetensorsContents {
  /**
   * The tensors by name, in a null-prototype object (so names such as `__proto__` or `constructor` are
   * ordinary keys): float64 for `F64`, float32 for `F32`, `F16` and `BF16` (half precision is upcast
   * exactly). Inserted in file order (by data offset); JavaScript lists integer-like names such as `"0"`
   * first whatever the insertion order.
   */
  readonly tensors: Record<string, Tensor>;
  /** The header's `__metadata__` (string to string, null-prototype), or null when the file has none. */
  readonly metadata: Record<string, string> | null;
}

/** One tensor of a validated header. */
interface Entry {
  readonly name: string;
  readonly dtype: ReadableDtype;
  readonly shape: number[];
  /** Offsets relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

/** A validated file: every check passed, no tensor created yet. */
interface Parsed {
  readonly entries: Entry[];
  readonly metadata: Record<string, string> | null;
  /** Absolute offset of the data section (8 + header length). */
  readonly dataStart: number;
}

const FIELDS = ['dtype', 'shape', 'data_offsets'];

/** A lone UTF-16 surrogate: JSON.parse lets `"\ud800"` through, Python's reader refuses it. */
const LONE_SURROGATE = /\p{Cs}/u;

function isJsonObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function nonNegativeInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parses and validates a whole safetensors file without creating any tensor.
 *
 * @param op - the public function (named in errors)
 * @param source - names the input in errors (`file "model.safetensors"`; empty for bytes)
 * @throws FormatError on any defect; DtypeError for a valid dtype gradkit cannot hold
 */
export function parseSafetensors(op: string, source: string, bytes: Uint8Array): Parsed {
  const fail = (message: string) => new FormatError(op, source === '' ? message : `${source}: ${message}`);
  if (bytes.length < 8) {
    throw fail(
      `${bytes.length} bytes is too short for a safetensors file (the header length alone is 8 bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${declared} is larger than the ${MAX_HEADER_BYTES}-byte maximum`);
  }
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.length) {
    throw fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    // A copy (slice): TextDecoder refuses views of shared memory. ignoreBOM keeps a byte-order mark, which
    // then fails the '{' check like in Python.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.slice(8, dataStart));
  } catch {
    throw fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw fail(`header must be a JSON object starting with '{'`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON (${e instanceof Error ? e.message : 'parse error'})`);
  }
  if (!isJsonObject(header)) throw fail(`header must be a JSON object, got ${describeValue(header)}`);
  const defect = findHeaderDefect(text);
  if (defect !== null) throw fail(`header has a ${defect}`);

  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> | null = null;
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === '__metadata__') metadata = checkMetadata(value, fail);
    else entries.push(checkEntry(op, source, name, value, dataLength, fail));
  }

  // The data section must be covered exactly: tensors back to back from offset 0 (any header order).
  // Overlaps first (the worse defect), then gaps.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const where = (e: Entry) => `tensor ${JSON.stringify(e.name)} (data_offsets [${e.begin}, ${e.end}])`;
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (b.begin < a.end) throw fail(`${where(b)} overlaps ${where(a)}`);
  }
  let position = 0;
  for (const e of sorted) {
    if (e.begin > position)
      throw fail(`bytes ${position}..${e.begin} before ${where(e)} belong to no tensor`);
    position = e.end;
  }
  if (position !== dataLength) {
    throw fail(`${dataLength - position} trailing bytes after the last tensor belong to no tensor`);
  }
  return { entries: sorted, metadata, dataStart };
}

function checkMetadata(value: unknown, fail: (message: string) => FormatError): Record<string, string> {
  if (!isJsonObject(value)) {
    throw fail(`__metadata__ must be an object of strings, got ${describeValue(value)}`);
  }
  const out = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw fail(`__metadata__ ${JSON.stringify(key)} must be a string, got ${describeValue(v)}`);
    }
    if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(v)) {
      throw fail(`__metadata__ ${JSON.stringify(key)} is not valid Unicode (a lone surrogate escape)`);
    }
    out[key] = v;
  }
  return out;
}

function checkEntry(
  op: string,
  source: string,
  name: string,
  value: unknown,
  dataLength: number,
  fail: (message: string) => FormatError,
): Entry {
  const at = `tensor ${JSON.stringify(name)}`;
  if (LONE_SURROGATE.test(name))
    throw fail(`${at} has a name that is not valid Unicode (a lone surrogate escape)`);
  if (!isJsonObject(value)) {
    throw fail(`${at} must be an object with dtype, shape and data_offsets, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) {
      throw fail(`${at} has an unknown field ${JSON.stringify(key)} (expected dtype, shape, data_offsets)`);
    }
  }
  for (const key of FIELDS) if (!Object.hasOwn(value, key)) throw fail(`${at} has no ${key}`);

  const dtypeName = value['dtype'];
  if (typeof dtypeName !== 'string') throw fail(`${at} has dtype ${describeValue(dtypeName)}, not a string`);
  const dtype = READABLE_DTYPES.get(dtypeName);
  if (dtype === undefined) {
    if (UNSUPPORTED_DTYPES.has(dtypeName)) {
      throw new DtypeError(
        op,
        `${source === '' ? '' : `${source}: `}${at} has dtype ${dtypeName}, which gradkit tensors cannot hold ` +
          '(gradkit reads F64, F32, F16 and BF16)',
      );
    }
    throw fail(`${at} has dtype ${JSON.stringify(dtypeName)}, which is not a safetensors dtype`);
  }

  const shape = value['shape'];
  if (!Array.isArray(shape) || !shape.every(nonNegativeInteger)) {
    throw fail(`${at} has shape ${describeJson(shape)}; expected a list of non-negative integers`);
  }
  const offsets = value['data_offsets'];
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(nonNegativeInteger)) {
    throw fail(
      `${at} has data_offsets ${describeJson(offsets)}; expected [begin, end], non-negative integers`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`${at} has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) {
    throw fail(`${at} has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes)`);
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  const bytes = count * dtype.bytes;
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw fail(
      `${at}: shape [${shape.join(', ')}] of ${dtype.name} (${dtype.bytes} bytes each) needs ` +
        `${Number.isSafeInteger(bytes) ? bytes : 'more than 2^53'} bytes but data_offsets ` +
        `[${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: (shape as number[]).map((d) => d + 0), begin, end };
}

/** A JSON value for messages, cut short. */
function describeJson(x: unknown): string {
  const s = JSON.stringify(x) ?? describeValue(x);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Creates the tensors of a validated file (nothing can fail any more except running out of memory). */
function materialize(bytes: Uint8Array, parsed: Parsed, littleEndianHost: boolean): SafetensorsContents {
  const tensors = Object.create(null) as Record<string, Tensor>;
  for (const e of parsed.entries) {
    const count = (e.end - e.begin) / e.dtype.bytes;
    const data = decodeElements(bytes, parsed.dataStart + e.begin, count, e.dtype, littleEndianHost);
    tensors[e.name] = fromArray(data, e.shape, { dtype: e.dtype.loadsAs });
  }
  return { tensors, metadata: parsed.metadata };
}

/** @internal the byte-order-independent reader, exposed for tests of the big-endian code path. */
export function readSafetensors(
  op: string,
  source: string,
  bytes: Uint8Array,
  littleEndianHost: boolean = HOST_IS_LITTLE_ENDIAN,
): SafetensorsContents {
  return materialize(bytes, parseSafetensors(op, source, bytes), littleEndianHost);
}

function asBytes(op: string, data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new ArgumentError(
    op,
    `argument 'data' must be a Uint8Array or an ArrayBuffer, got ${describeValue(data)}`,
  );
}

/**
 * Reads a safetensors checkpoint from its bytes (like Python's `safetensors.torch.load`). The whole file is
 * parsed and validated before any tensor is created, so a bad file never yields part of its tensors.
 *
 * Validated: the 8-byte little-endian header length (at most {@link MAX_HEADER_BYTES}, inside the file);
 * the header is UTF-8 JSON, an object, with no duplicate key at any level; each tensor entry has exactly
 * `dtype`, `shape` and `data_offsets`, a known dtype, non-negative integer dimensions and offsets, and
 * `shape × dtype size = end − begin`; the tensors cover the data section exactly (no overlap, no gap, no
 * trailing bytes; header order is free); `__metadata__`, when present, maps strings to strings.
 *
 * @param data - the file's bytes (a Node `Buffer` works)
 * @returns the tensors and the metadata; see {@link SafetensorsContents}
 * @throws FormatError naming the defect (and the tensor); DtypeError when a tensor has a valid safetensors
 *   dtype gradkit cannot hold (integers, booleans, 8-bit floats); ArgumentError when `data` is not bytes
 */
export function loadSafetensors(data: Uint8Array | ArrayBuffer): SafetensorsContents {
  return readSafetensors('loadSafetensors', '', asBytes('loadSafetensors', data));
}

/**
 * Reads a safetensors file (like Python's `safetensors.torch.load_file`). Node only: `node:fs` is imported
 * on the first call, so the package still bundles for the browser. Validation as {@link loadSafetensors}.
 *
 * @param path - a file path or a `file:` URL
 * @throws FormatError / DtypeError as {@link loadSafetensors}, naming the file; the file system's own
 *   errors (ENOENT, EACCES, ...) as they are; ArgumentError when `path` is not a string or URL, or the file
 *   is larger than one buffer of the engine holds
 */
export async function loadSafetensorsFile(path: string | URL): Promise<SafetensorsContents> {
  const op = 'loadSafetensorsFile';
  if (typeof path !== 'string' && !(path instanceof URL)) {
    throw new ArgumentError(op, `argument 'path' must be a string or a URL, got ${describeValue(path)}`);
  }
  const source = `file ${JSON.stringify(String(path))}`;
  return readSafetensors(op, source, await readWholeFile(op, source, path));
}

/** Bytes per read call (Node refuses single reads over 2 GiB, and `readFile` whole files over 2 GiB). */
const READ_CHUNK = 1 << 26;

/** Reads a whole file into one Uint8Array, in chunks, so that checkpoints over 2 GiB load too. */
async function readWholeFile(op: string, source: string, path: string | URL): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(size);
    } catch {
      throw new ArgumentError(op, `${source} is ${size} bytes, more than one buffer of this engine holds`);
    }
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(READ_CHUNK, size - at), at);
      if (bytesRead === 0) break; // the file shrank while being read: validation reports what is missing
      at += bytesRead;
    }
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}
