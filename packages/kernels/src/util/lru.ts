/**
 * A map with a fixed capacity that forgets its least recently used entry when full. Every cache in gradkit
 * that is keyed by user data (compiled kernels, derived specs, loss programs) is one of these, so memory
 * stays bounded however many distinct keys a program produces.
 */
export class LruCache<K, V> {
  /** The most entries the cache holds. */
  readonly capacity: number;
  readonly #map = new Map<K, V>();

  /**
   * @param capacity - the most entries kept (a positive integer)
   * @throws RangeError when `capacity` is not a positive integer (a programming error inside gradkit)
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LruCache: capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** The number of entries held. */
  get size(): number {
    return this.#map.size;
  }

  /**
   * The value for `key` (marking it most recently used), or undefined. While the cache is not full nothing
   * can be evicted, so the use is only recorded once it is (a hot path: every op looks up its kernel): until
   * then entries age in insertion order, which at worst makes the first evictions after filling up drop an
   * entry that is still in use — it is rebuilt on its next use.
   */
  get(key: K): V | undefined {
    const map = this.#map;
    const v = map.get(key);
    if (v === undefined || map.size < this.capacity) return v;
    map.delete(key);
    map.set(key, v);
    return v;
  }

  /** True when `key` is held (does not count as a use). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Stores `value` under `key` as the most recently used entry, evicting the least recently used if full. */
  set(key: K, value: V): this {
    const map = this.#map;
    if (map.has(key)) map.delete(key);
    else if (map.size >= this.capacity) map.delete(map.keys().next().value as K);
    map.set(key, value);
    return this;
  }

  /** Removes `key`; true when it was held. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }
}
