import { type Storage, Tensor } from '@gradkit/autograd';
import { ArgumentError, checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';
import { HOST_IS_LITTLE_ENDIAN, writeRank, writtenDtype } from './dtypes.js';
import { MAX_HEADER_BYTES } from './safetensors-read.js';
import { encodeElements } from './tensor-bytes.js';

/** Tensors to save, by name: a plain object (own enumerable string keys) or a Map. */
export type SafetensorsInput = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

/** Options of {@link saveSafetensors} and {@link saveSafetensorsFile}. */
export interface SaveSafetensorsOptions {
  /**
   * Free-form string-to-string metadata stored in the header as `__metadata__` (PyTorch writers put
   * `{ format: 'pt' }` there). Omitted: no `__metadata__` entry at all.
   */
  metadata?: Readonly<Record<string, string>>;
}

/** A lone UTF-16 surrogate: such a string has no UTF-8 encoding. */
const LONE_SURROGATE = /\p{Cs}/u;

const encoder = new TextEncoder();

interface Item {
  readonly name: string;
  readonly utf8: Uint8Array;
  readonly dtype: 'F64' | 'F32';
  readonly tensor: Tensor;
}

/** The header (length prefix included) and the storages in file order. */
interface Prepared {
  readonly head: Uint8Array;
  readonly storages: Storage[];
  readonly dataLength: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function checkText(op: string, what: string, s: string): void {
  if (LONE_SURROGATE.test(s)) {
    throw new ArgumentError(
      op,
      `${what} ${JSON.stringify(s)} contains a lone UTF-16 surrogate (no UTF-8 form)`,
    );
  }
}

function collect(op: string, tensors: unknown): Item[] {
  let pairs: Array<[unknown, unknown]>;
  if (tensors instanceof Map) pairs = [...tensors.entries()];
  else if (
    typeof tensors === 'object' &&
    tensors !== null &&
    !Array.isArray(tensors) &&
    !(tensors instanceof Tensor)
  ) {
    pairs = Object.keys(tensors).map((k) => [k, ownValue(tensors, k)]);
  } else {
    throw new ArgumentError(
      op,
      `argument 'tensors' must be an object or a Map of tensors by name, got ${describeValue(tensors)}`,
    );
  }
  return pairs.map(([name, t]) => {
    if (typeof name !== 'string') {
      throw new ArgumentError(op, `tensor names must be strings, got ${describeValue(name)}`);
    }
    if (name === '__metadata__') {
      throw new ArgumentError(op, `the name "__metadata__" is reserved for the header's metadata`);
    }
    checkText(op, 'tensor name', name);
    if (!(t instanceof Tensor)) {
      throw new ArgumentError(
        op,
        `tensors[${JSON.stringify(name)}] must be a Tensor, got ${describeValue(t)}`,
      );
    }
    return { name, utf8: encoder.encode(name), dtype: writtenDtype(t.dtype), tensor: t };
  });
}

function checkMetadata(op: string, metadata: unknown): Array<[string, string]> | null {
  if (metadata === undefined) return null;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ArgumentError(
      op,
      `option 'metadata' must be an object of strings, got ${describeValue(metadata)}`,
    );
  }
  const pairs = Object.keys(metadata).map((key): [string, string] => {
    const value = ownValue(metadata, key);
    if (typeof value !== 'string') {
      throw new ArgumentError(
        op,
        `metadata ${JSON.stringify(key)} must be a string, got ${describeValue(value)}`,
      );
    }
    checkText(op, 'metadata key', key);
    checkText(op, `metadata ${JSON.stringify(key)} value`, value);
    return [key, value];
  });
  const utf8 = new Map(pairs.map(([k]) => [k, encoder.encode(k)]));
  return pairs.sort(([a], [b]) => compareBytes(utf8.get(a)!, utf8.get(b)!));
}

/**
 * Lays out the file the way Python's `safetensors` does: tensors sorted by dtype (F64 before F32), then by
 * name (UTF-8 byte order), data back to back in that order; the header is compact JSON with
 * `__metadata__` first, fields in the order dtype, shape, data_offsets, padded with spaces to a multiple of
 * 8 bytes (so every tensor's data starts 8-byte aligned).
 */
function prepare(
  op: string,
  tensors: unknown,
  options: unknown,
  maxHeaderBytes = MAX_HEADER_BYTES,
): Prepared {
  checkOptionKeys(op, 'options', options, ['metadata']);
  const metadata = checkMetadata(
    op,
    options === undefined ? undefined : ownValue(options as object, 'metadata'),
  );
  const items = collect(op, tensors).sort(
    (a, b) => writeRank(a.dtype) - writeRank(b.dtype) || compareBytes(a.utf8, b.utf8),
  );
  const parts: string[] = [];
  if (metadata !== null) {
    const fields = metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, dtype, tensor } of items) {
    const end = offset + tensor.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > maxHeaderBytes) {
    throw new ArgumentError(
      op,
      `the header would be ${headerLength} bytes, more than readers accept (${maxHeaderBytes}); ` +
        'split the checkpoint or shorten the metadata',
    );
  }
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return { head, storages: items.map((i) => i.tensor.data), dataLength: offset };
}

/**
 * @internal the writer with the host byte order and the header limit as parameters, so that tests reach
 * the big-endian code path and the limit without a 100 MB header.
 */
export function writeSafetensors(
  op: string,
  tensors: unknown,
  options: unknown,
  littleEndianHost: boolean = HOST_IS_LITTLE_ENDIAN,
  maxHeaderBytes: number = MAX_HEADER_BYTES,
): Uint8Array {
  const { head, storages, dataLength } = prepare(op, tensors, options, maxHeaderBytes);
  let out: Uint8Array;
  try {
    out = new Uint8Array(head.length + dataLength);
  } catch {
    throw new ArgumentError(
      op,
      `the checkpoint is ${head.length + dataLength} bytes, more than one buffer of this engine holds; ` +
        'use saveSafetensorsFile, which writes tensor by tensor',
    );
  }
  out.set(head, 0);
  let at = head.length;
  for (const data of storages) {
    out.set(encodeElements(data, littleEndianHost), at);
    at += data.byteLength;
  }
  return out;
}

/**
 * Serializes tensors to safetensors bytes (like Python's `safetensors.torch.save`). float32 tensors are
 * written as `F32`, float64 as `F64`, little-endian on any host. The layout is the one Python's library
 * writes, so the same tensors and metadata give the same bytes (metadata keys in sorted order; Python's own
 * metadata order follows a hash map).
 *
 * @param tensors - tensors by name: a plain object (own enumerable keys) or a Map
 * @param options - `metadata`: string-to-string pairs stored as `__metadata__`
 * @throws ArgumentError when a value is not a Tensor, a name is `__metadata__` or not encodable as UTF-8,
 *   metadata is not strings, an option is unknown, or the result is too large for one buffer
 */
export function saveSafetensors(tensors: SafetensorsInput, options?: SaveSafetensorsOptions): Uint8Array {
  return writeSafetensors('saveSafetensors', tensors, options);
}

/** Bytes per write call (Node refuses single writes over 2 GiB). */
const WRITE_CHUNK = 1 << 26;

/**
 * Writes tensors to a safetensors file (like Python's `safetensors.torch.save_file`), tensor by tensor
 * (no buffer of the whole checkpoint). The file is written under a temporary name next to `path` and
 * renamed over `path` at the end, so a failure never leaves a truncated checkpoint behind. Node only:
 * `node:fs` is imported on the first call. Same layout and checks as {@link saveSafetensors}.
 *
 * @param tensors - tensors by name: a plain object (own enumerable keys) or a Map
 * @param path - a file path or a `file:` URL
 * @param options - `metadata`: string-to-string pairs stored as `__metadata__`
 * @throws ArgumentError as {@link saveSafetensors}, or when `path` is not a string or URL; the file
 *   system's own errors as they are
 */
export async function saveSafetensorsFile(
  tensors: SafetensorsInput,
  path: string | URL,
  options?: SaveSafetensorsOptions,
): Promise<void> {
  const op = 'saveSafetensorsFile';
  if (typeof path !== 'string' && !(path instanceof URL)) {
    throw new ArgumentError(op, `argument 'path' must be a string or a URL, got ${describeValue(path)}`);
  }
  const { head, storages } = prepare(op, tensors, options);
  const fs = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const target = typeof path === 'string' ? path : fileURLToPath(path);
  const temporary = `${target}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await fs.open(temporary, 'wx');
  try {
    let position = 0;
    const write = async (bytes: Uint8Array) => {
      for (let at = 0; at < bytes.length; ) {
        const chunk = bytes.subarray(at, Math.min(at + WRITE_CHUNK, bytes.length));
        const { bytesWritten } = await handle.write(chunk, 0, chunk.length, position);
        if (bytesWritten === 0) throw new Error(`${op}: the file system accepted no bytes at ${position}`);
        at += bytesWritten;
        position += bytesWritten;
      }
    };
    await write(head);
    for (const data of storages) await write(encodeElements(data, HOST_IS_LITTLE_ENDIAN));
    await handle.close();
    await fs.rename(temporary, target);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fs.rm(temporary, { force: true });
    throw e;
  }
}
