import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A path inside the repository's copy of the safetensors fixtures (never the shared folder). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/safetensors/${name}`, import.meta.url));
}

/** The bytes of a fixture. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** A safetensors file from a header (text used as is, or an object stringified) and raw data bytes. */
export function build(header: string | object, data: ArrayLike<number> = []): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** The header text of a safetensors file, padding included. */
export function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

/** Little-endian float32 bytes of the values. */
export function f32Bytes(values: readonly number[]): number[] {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(4 * i, v, true);
  return Array.from(out);
}
