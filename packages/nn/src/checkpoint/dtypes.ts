import type { DType } from '@gradkit/autograd';

/** The safetensors dtypes gradkit reads: their element size in bytes and the tensor dtype they load as. */
export interface ReadableDtype {
  /** The safetensors name (`F64`, `F32`, `F16`, `BF16`). */
  readonly name: 'F64' | 'F32' | 'F16' | 'BF16';
  /** Bytes per element. */
  readonly bytes: number;
  /** The gradkit dtype a tensor of this safetensors dtype loads as (half precision upcasts to float32). */
  readonly loadsAs: DType;
}

/** Readable dtypes by name (a Map, so names such as `constructor` never find a prototype property). */
export const READABLE_DTYPES: ReadonlyMap<string, ReadableDtype> = new Map(
  (
    [
      { name: 'F64', bytes: 8, loadsAs: 'float64' },
      { name: 'F32', bytes: 4, loadsAs: 'float32' },
      { name: 'F16', bytes: 2, loadsAs: 'float32' },
      { name: 'BF16', bytes: 2, loadsAs: 'float32' },
    ] as const
  ).map((d) => [d.name, d]),
);

/** The other dtypes of the safetensors format (valid in a file, but gradkit tensors cannot hold them). */
export const UNSUPPORTED_DTYPES: ReadonlySet<string> = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'I32',
  'U32',
  'I64',
  'U64',
  'C64',
]);

/** The safetensors dtype a gradkit tensor dtype is written as. */
export function writtenDtype(dtype: DType): 'F64' | 'F32' {
  return dtype === 'float64' ? 'F64' : 'F32';
}

/**
 * Rank of a written dtype in Python's writer order: tensors are laid out by descending dtype (in the
 * format's dtype enumeration F64 comes after F32, so F64 tensors come first), then by name.
 */
export function writeRank(dtype: 'F64' | 'F32'): number {
  return dtype === 'F64' ? 0 : 1;
}

/** True when this engine stores typed-array elements little-endian (the safetensors byte order). */
export const HOST_IS_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
