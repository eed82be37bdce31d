/**
 * Half-precision decoding: IEEE 754 binary16 (`F16`) and bfloat16 (`BF16`) bit patterns to numbers. Every
 * value of both formats is exactly representable in float32, so the upcast is exact (NaN payloads aside).
 */

let halfTable: Float32Array | null = null;

/** The float value of one binary16 bit pattern (0..65535). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** A table of all 65536 binary16 values as float32, built on first use (256 KiB). */
export function halfLookupTable(): Float32Array {
  if (halfTable === null) {
    const table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) table[bits] = halfToNumber(bits);
    halfTable = table;
  }
  return halfTable;
}

/**
 * Writes the float32 value of each bfloat16 bit pattern of `bits` into `out` (same length): a bfloat16 is
 * the top 16 bits of a float32, so the float32 bit pattern is the bfloat16 one shifted left by 16.
 */
export function bfloat16Into(bits: Uint16Array, out: Float32Array): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
}
