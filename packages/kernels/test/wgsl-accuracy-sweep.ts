/**
 * The float32 accuracy sweep shared by wgsl-accuracy.test.ts: dense and random float32 inputs over each Math
 * function's domain (edges included), the distance in ulps of a result from Math.* rounded to float32, and
 * the worst case over a sweep.
 */

/** The float32 bits of `v`, ordered so that adjacent floats differ by one (±0 both map to 0). */
export function orderedBits(v: number): number {
  const f = new Float32Array([v]);
  const b = new Int32Array(f.buffer)[0]!;
  return b < 0 ? -(b & 0x7fffffff) : b;
}

const FLT_MIN = 2 ** -126;

/**
 * The distance in float32 ulps between `got` and `want` (want already rounded to float32). NaN matches NaN
 * only; infinities must match exactly. Subnormal results may be flushed to zero (WGSL allows it): a zero
 * where the reference is below the smallest normal float32 (or the reverse) counts as exact.
 */
export function ulpDistance(got: number, want: number): number {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got) ? 0 : Infinity;
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want ? 0 : Infinity;
  if (Math.abs(want) < FLT_MIN && Math.abs(got) < FLT_MIN) return 0;
  return Math.abs(orderedBits(got) - orderedBits(want));
}

/** A seeded generator of uniform numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random float32 values with uniformly random bit patterns (every binade equally likely), finite. */
export function randomBits(n: number, seed: number): number[] {
  const r = lcg(seed);
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  const out: number[] = [];
  while (out.length < n) {
    u[0] = Math.floor(r() * 2 ** 32);
    if (Number.isFinite(f[0]!)) out.push(f[0]!);
  }
  return out;
}

/** `n` evenly spaced float32 values from `lo` to `hi`. */
export function grid(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.fround(lo + ((hi - lo) * i) / (n - 1)));
}

/** The float32 neighbours of `v` (k steps each way). */
export function around(v: number, k = 4): number[] {
  const f = new Float32Array([Math.fround(v)]);
  const b = new Int32Array(f.buffer);
  const base = b[0]!;
  const out: number[] = [];
  for (let d = -k; d <= k; d++) {
    b[0] = base + d;
    if (Number.isFinite(f[0]!)) out.push(f[0]!);
  }
  return out;
}

/** The values every sweep includes: zeros, tiny and subnormal values, ±1, the float32 extremes, inf, NaN. */
export const EDGES: readonly number[] = (
  [
    0,
    -0,
    1e-45,
    -1e-45,
    1e-40,
    -1e-40,
    2 ** -126,
    -(2 ** -126),
    1e-30,
    -1e-30,
    1e-10,
    -1e-10,
    2 ** -12,
    0.5,
    -0.5,
    ...around(1),
    ...around(-1),
    2,
    -2,
    1e10,
    -1e10,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
  ] as number[]
).map(Math.fround);

/** The worst case of a sweep. */
export interface Worst {
  readonly ulps: number;
  readonly at: readonly number[];
  readonly got: number;
  readonly want: number;
}

/** The largest ulp distance between `got[i]` and fround(ref(inputs[i])). */
export function worstUlps(
  inputs: ReadonlyArray<readonly number[]>,
  got: ArrayLike<number>,
  ref: (...xs: number[]) => number,
): Worst {
  let worst: Worst = { ulps: 0, at: [], got: 0, want: 0 };
  inputs.forEach((xs, i) => {
    const want = Math.fround(ref(...xs.map(Math.fround)));
    const d = ulpDistance(got[i]!, want);
    if (d > worst.ulps) worst = { ulps: d, at: xs, got: got[i]!, want };
  });
  return worst;
}
