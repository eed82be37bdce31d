import { ArgumentError, describeValue } from '@gradkit/kernels';

/**
 * A seeded pseudo-random generator (xoshiro128**, 32-bit state words) — the same seed gives the same
 * stream on every platform. Use one per experiment, or the default one through {@link manualSeed}.
 */
export class Generator {
  #s = new Uint32Array(4);
  #spare: number | undefined;

  /** @param seed - any integer (default 0) */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the stream to the one determined by `seed`. */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed))
      throw new ArgumentError(
        'Generator.manualSeed',
        `seed must be a finite number, got ${describeValue(seed)}`,
      );
    // splitmix32 expands the seed into the four state words.
    let x = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1;
    this.#spare = undefined;
    return this;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2] ^= s[0]!;
    s[3] ^= s[1]!;
    s[1] ^= s[2]!;
    s[0] ^= s[3]!;
    s[2] ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform float64 in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A uniform float in [0, 1) with 24 random bits: exactly representable in float32, so storing it in a
   * Float32Array can never round it up to 1 (as rounding a 53-bit `random()` could).
   */
  random32(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** A standard normal sample (Box–Muller, the second sample kept for the next call). */
  normal(): number {
    if (this.#spare !== undefined) {
      const v = this.#spare;
      this.#spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator used when no `generator` option is passed. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator (like `torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
