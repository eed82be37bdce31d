/**
 * Tensor storage in the WebAssembly memory (wasm/arena.ts): allocateStorage places large arrays in the
 * shared memory (zero-filled; small ones stay ordinary), falls back to ordinary arrays past the cap and
 * where SharedArrayBuffer is missing; views stay valid when the memory grows; the kernels read and write
 * arena arrays in place (zero-copy, counted) with the same results as the copy path; and 10,000 dropped
 * allocations are recycled rather than growing the arena (own process, --expose-gc).
 */
import {
  ARENA_MIN_ELEMENTS,
  ArgumentError,
  allocateStorage,
  apply,
  arenaCapacity,
  arenaStats,
  DEFAULT_ARENA_CAPACITY,
  isArenaStorage,
  releaseStorage,
  setArenaCapacity,
  variable,
  wasmBackend,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { measureHeapGrowth } from '@gradkit/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryBytes } from '../src/wasm/arena.js';

const sharedHere = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();

describe('allocateStorage', () => {
  it('large arrays in the arena, zero-filled; small ones ordinary', () => {
    const a = allocateStorage('float32', 5000);
    const b = allocateStorage('float64', ARENA_MIN_ELEMENTS);
    const small = allocateStorage('float32', ARENA_MIN_ELEMENTS - 1);
    expect(a).toBeInstanceOf(Float32Array);
    expect(b).toBeInstanceOf(Float64Array);
    expect([a.length, b.length, small.length]).toEqual([5000, ARENA_MIN_ELEMENTS, ARENA_MIN_ELEMENTS - 1]);
    expect(a.every((v) => v === 0) && b.every((v) => v === 0)).toBe(true);
    expect(isArenaStorage(a)).toBe(sharedHere);
    expect(isArenaStorage(b)).toBe(sharedHere);
    expect(isArenaStorage(small)).toBe(false);
    expect(small.buffer.byteLength).toBe(small.byteLength);
    expect(isArenaStorage(new Float32Array(5000))).toBe(false);
    if (sharedHere) {
      expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
      // Two live arrays never overlap.
      const lo = Math.max(a.byteOffset, b.byteOffset);
      const hi = Math.min(a.byteOffset + a.byteLength, b.byteOffset + b.byteLength);
      expect(lo >= hi).toBe(true);
    }
  });

  it('past the cap, allocation falls back to ordinary arrays; the cap is settable and checked', () => {
    expect(arenaCapacity()).toBe(DEFAULT_ARENA_CAPACITY);
    const before = arenaStats();
    try {
      setArenaCapacity(before.reservedBytes + 64 * 1024);
      const kept: Float32Array[] = [];
      for (let k = 0; k < 8; k++) kept.push(allocateStorage('float32', 8192)); // 32 KiB each
      const inArena = kept.filter((a) => isArenaStorage(a)).length;
      expect(inArena).toBeLessThanOrEqual(2);
      expect(kept.every((a) => a.length === 8192 && a.every((v) => v === 0))).toBe(true);
      if (sharedHere) expect(arenaStats().fallbacks).toBeGreaterThan(before.fallbacks);
      expect(arenaStats().reservedBytes).toBeLessThanOrEqual(before.reservedBytes + 64 * 1024);
    } finally {
      setArenaCapacity(DEFAULT_ARENA_CAPACITY);
    }
    for (const bad of [-1, Number.NaN, 2 ** 32, '1' as unknown as number]) {
      expect(() => setArenaCapacity(bad)).toThrow(ArgumentError);
    }
  });

  it.runIf(sharedHere)('views stay valid (not detached, same values) when the memory grows', () => {
    const a = allocateStorage('float32', 4096);
    a.forEach((_, i) => {
      a[i] = i + 0.5;
    });
    const size = memoryBytes();
    const big: Float32Array[] = [];
    for (let k = 0; k < 64 && memoryBytes() === size; k++) big.push(allocateStorage('float32', 1 << 18)); // 1 MiB
    expect(memoryBytes()).toBeGreaterThan(size);
    expect(big.some((b) => isArenaStorage(b))).toBe(true);
    expect(a.length).toBe(4096);
    expect(a.every((v, i) => v === i + 0.5)).toBe(true);
    // The kernels still read it in place.
    const out = allocateStorage('float32', 4096);
    expect(isArenaStorage(out)).toBe(true);
    const runs = wasmStats();
    wasmBackend.elementwise([apply('mul', variable('x'), variable('x'))], ['x'], ['array'])([a], [out], 4096);
    expect(wasmStats().zeroCopyRuns).toBe(runs.zeroCopyRuns + 1);
    expect(out.every((v, i) => v === Math.fround((i + 0.5) * (i + 0.5)))).toBe(true);
  });
});

describe.runIf(wasmSimdAvailable())('zero-copy kernels', () => {
  const x = variable('x');
  const y = variable('y');
  const outs = [apply('add', apply('mul', apply('sigmoid', x), y), x), apply('sub', x, y)];
  const flags = { store: [true, false], sum: [true, true] };

  function fill(a: Float32Array, b: Float32Array): void {
    for (let i = 0; i < a.length; i++) {
      a[i] = Math.sin(i) * 8;
      b[i] = Math.cos(i * 0.3);
    }
  }

  it('arena arrays are read and written in place (counted), with the copy path’s results bit for bit', () => {
    for (const n of [ARENA_MIN_ELEMENTS, 8193, 3 * 8192 + 7, 100_003]) {
      const kernel = wasmBackend.fusedReduce(outs, ['x', 'y'], ['array', 'array'], flags);
      const ax = allocateStorage('float32', n);
      const ay = allocateStorage('float32', n);
      const ao = allocateStorage('float32', n);
      fill(ax, ay);
      const cx = Float32Array.from(ax);
      const cy = Float32Array.from(ay);
      const co = new Float32Array(n);
      const as = new Float64Array(2);
      const cs = new Float64Array(2);
      const s0 = wasmStats();
      kernel([ax, ay], [ao, null], n, as);
      const s1 = wasmStats();
      kernel([cx, cy], [co, null], n, cs);
      const s2 = wasmStats();
      expect(s1.runs - s0.runs).toBe(1);
      expect(s1.zeroCopyRuns - s0.zeroCopyRuns).toBe(sharedHere ? 1 : 0);
      expect(s2.runs - s1.runs).toBe(1);
      expect(s2.zeroCopyRuns).toBe(s1.zeroCopyRuns);
      expect(Array.from(ao)).toEqual(Array.from(co));
      expect(Array.from(as)).toEqual(Array.from(cs));
      // Mixed: arena input, ordinary output (copied back), same values.
      const mo = new Float32Array(n);
      const ms = new Float64Array(2);
      kernel([ax, cy], [mo, null], n, ms);
      expect(wasmStats().zeroCopyRuns).toBe(s2.zeroCopyRuns);
      expect(Array.from(mo)).toEqual(Array.from(co));
      expect(Array.from(ms)).toEqual(Array.from(cs));
    }
  });
});

describe('without SharedArrayBuffer', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('ordinary arrays and the copy path, same results', async () => {
    vi.resetModules();
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const k = await import('@gradkit/kernels');
    const a = k.allocateStorage('float32', 10_000);
    expect(k.isArenaStorage(a)).toBe(false);
    expect(a.buffer.byteLength).toBe(a.byteLength);
    expect(k.arenaStats().shared).toBe(false);
    const n = 10_000;
    a.forEach((_, i) => {
      a[i] = i / 7 - 300;
    });
    const out = k.allocateStorage('float32', n);
    const before = k.wasmStats();
    k.wasmBackend.elementwise([k.apply('exp', k.variable('x'))], ['x'], ['array'])([a], [out], n);
    const after = k.wasmStats();
    expect(after.zeroCopyRuns).toBe(before.zeroCopyRuns);
    if (k.wasmSimdAvailable()) expect(after.runs).toBe(before.runs + 1);
    const ref = new Float32Array(n);
    wasmBackend.elementwise([apply('exp', variable('x'))], ['x'], ['array'])([a], [ref], n);
    expect(Array.from(out)).toEqual(Array.from(ref));
  });
});

describe.runIf(sharedHere)('releaseStorage (explicit lifetimes)', () => {
  it('hands a block back at once (reused, cleared unless zero is false); anything else is refused', () => {
    const a = allocateStorage('float32', 4096);
    a.fill(5);
    const at = a.byteOffset;
    const released = arenaStats().released;
    expect(releaseStorage(a)).toBe(true);
    expect(arenaStats().released).toBe(released + 1);
    // Released once only; views, small and ordinary arrays are not arena storage blocks.
    expect(releaseStorage(a)).toBe(false);
    expect(releaseStorage(new Float32Array(4096))).toBe(false);
    expect(releaseStorage(allocateStorage('float32', 8))).toBe(false);
    const b = allocateStorage('float32', 4096);
    expect(b.byteOffset).toBe(at);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(releaseStorage(b.subarray(1))).toBe(false);
    b.fill(9);
    expect(releaseStorage(b)).toBe(true);
    const c = allocateStorage('float32', 4096, false);
    expect(c.byteOffset).toBe(at);
    expect(c[0]).toBe(9);
    expect(releaseStorage(c)).toBe(true);
  });

  it('a loop that releases what it allocates uses one block: no growth, no fallback', () => {
    const before = arenaStats();
    for (let i = 0; i < 2000; i++) releaseStorage(allocateStorage('float64', 1 << 16, false));
    const after = arenaStats();
    expect(after.fallbacks).toBe(before.fallbacks);
    expect(after.reservedBytes - before.reservedBytes).toBeLessThanOrEqual(1 << 19);
  });
});

describe.runIf(sharedHere)('release', () => {
  it('10,000 dropped 64 KiB arrays are recycled: the arena does not grow past a few batches', async () => {
    const r = await measureHeapGrowth('packages/kernels/test/heap/arena-release.ts', { timeoutMs: 300_000 });
    const d = r.details as {
      before: { reservedBytes: number; released: number; allocations: number };
      after: { reservedBytes: number; released: number; allocations: number };
      checksum: number;
      nonZero: number;
    };
    expect(d.nonZero).toBe(0);
    expect(d.checksum).toBe((100 * (100 * 101)) / 2);
    expect(d.after.allocations - d.before.allocations).toBe(10_000);
    expect(d.after.released - d.before.released).toBeGreaterThan(9_000);
    // 10,000 × 64 KiB = 625 MiB allocated; at most ~10 batches' worth may be reserved.
    expect(d.after.reservedBytes - d.before.reservedBytes).toBeLessThan(64 * 2 ** 20);
  }, 300_000);
});

// Last: it uses up the growth budget of this synchronous stretch.
describe('growth between releases', () => {
  it.runIf(sharedHere)(
    'a synchronous run of allocations grows the arena by at most 64 MiB, then falls back',
    () => {
      const before = arenaStats();
      const kept: Float32Array[] = [];
      for (let k = 0; k < 40; k++) kept.push(allocateStorage('float32', 1 << 20)); // 4 MiB each, 160 MiB
      const after = arenaStats();
      expect(after.reservedBytes - before.reservedBytes).toBeLessThanOrEqual(64 * 2 ** 20);
      expect(after.fallbacks - before.fallbacks).toBeGreaterThanOrEqual(40 - 16);
      expect(kept.every((a) => a.length === 1 << 20 && a[12345] === 0)).toBe(true);
    },
  );
});
