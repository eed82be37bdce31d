import type { Storage } from '@gradkit/autograd';
import type { ReadableDtype } from './dtypes.js';
import { bfloat16Into, halfLookupTable } from './half.js';

/**
 * Little-endian element bytes to a typed array. On a little-endian host the bytes are copied as they are;
 * otherwise (`littleEndianHost` false) every element goes through a DataView, which reads little-endian on
 * any host. Half-precision dtypes upcast to float32.
 *
 * @param bytes - the whole file
 * @param begin - absolute offset of the first byte of the tensor in `bytes`
 * @param count - number of elements (the caller checked that `count * dtype.bytes` bytes are there)
 */
export function decodeElements(
  bytes: Uint8Array,
  begin: number,
  count: number,
  dtype: ReadableDtype,
  littleEndianHost: boolean,
): Storage {
  const length = count * dtype.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, length);
  switch (dtype.name) {
    case 'F64': {
      const out = new Float64Array(count);
      if (littleEndianHost) new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + length));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'F32': {
      const out = new Float32Array(count);
      if (littleEndianHost) new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + length));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const bits = new Uint16Array(count);
      if (littleEndianHost) new Uint8Array(bits.buffer).set(bytes.subarray(begin, begin + length));
      else for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true);
      const out = new Float32Array(count);
      if (dtype.name === 'BF16') bfloat16Into(bits, out);
      else {
        const table = halfLookupTable();
        for (let i = 0; i < count; i++) out[i] = table[bits[i]!]!;
      }
      return out;
    }
  }
}

/**
 * The little-endian bytes of a tensor's elements. On a little-endian host this is a view of the storage
 * itself (no copy; do not keep it past the tensor's lifetime); otherwise a converted copy.
 */
export function encodeElements(data: Storage, littleEndianHost: boolean): Uint8Array {
  if (littleEndianHost) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float64Array)
    for (let i = 0; i < data.length; i++) view.setFloat64(8 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return out;
}
