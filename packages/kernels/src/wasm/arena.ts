/**
 * The WebAssembly memory of the expression kernels, and the arena that lets tensor storage live in it.
 *
 * Where SharedArrayBuffer is available (Node, workers, browser pages that are cross-origin isolated) the
 * memory is created `shared` with a maximum: growing it never detaches the views handed out, so float32
 * and float64 arrays can be views into it, and kernels read and write them in place (no copy per op).
 * Elsewhere the memory is an ordinary growable one (growth detaches its buffer), the arena hands out
 * ordinary typed arrays, and kernels copy their data in and out.
 *
 * Allocation: sizes are rounded up to classes (m · 2^k bytes, m ∈ {4, 5, 6, 7}: at most 25 % slack) with one
 * free list per class; a block is released to its list when the view handed out is garbage collected
 * (FinalizationRegistry). The JavaScript collector does not see the memory the arena holds, so it is bounded
 * by a cap ({@link setArenaCapacity}, default {@link DEFAULT_ARENA_CAPACITY}): past it, allocation falls back
 * to ordinary typed arrays. Release callbacks run only when the event loop turns, so fresh arena memory is
 * also limited to {@link GROWTH_BUDGET} between two of them (a synchronous loop then runs on ordinary
 * arrays, copied per op, until it yields). Freed blocks are not coalesced: a workload that keeps changing sizes may fill
 * the cap with blocks of other classes and then runs on ordinary arrays (still correct, copied per op).
 */
import { ArgumentError } from '../errors.js';
import { describeValue } from '../util/own.js';
import { Body, moduleBytes } from './emit.js';

/** Smallest array (elements) {@link allocateStorage} places in the arena; smaller ones are ordinary. */
export const ARENA_MIN_ELEMENTS = 1024;

/** Default cap of the arena's bytes: 1 GiB. */
export const DEFAULT_ARENA_CAPACITY = 2 ** 30;

/** Largest memory (pages of 64 KiB) asked for: 2 GiB, so every address is a non-negative i32. */
const MAX_PAGES = 32768;
const PAGE = 65536;

/** The kernels' memory: null until {@link initMemory}, or where WebAssembly is unavailable. */
let memory: WebAssembly.Memory | null = null;
let shared = false;
let maxPages = 0;
/** Every ArrayBuffer the memory has had (after each growth a new object over the same bytes). */
const buffers = new WeakSet<ArrayBufferLike>();
let heapU8 = new Uint8Array(0);
let heapI32 = new Int32Array(0);
let heapF32 = new Float32Array(0);
let heapF64 = new Float64Array(0);

/** Bump pointer (bytes below it were handed out once), and free blocks by class size. */
const BASE = 1024;
let top = BASE;
const free = new Map<number, number[]>();
let capacity = DEFAULT_ARENA_CAPACITY;
const counters = { storage: 0, fallbacks: 0, released: 0, liveBytes: 0 };

/**
 * Fresh arena bytes that may be handed out between two runs of the release callbacks: 64 MiB. The
 * FinalizationRegistry callbacks run only when the event loop turns, so a synchronous loop (a training loop
 * or benchmark without `await`) releases nothing while it runs: past this budget its allocations become
 * ordinary typed arrays (which the engine frees synchronously) instead of growing the arena towards the cap
 * with memory that cannot be reused before the loop yields. Each callback run restores the budget.
 */
const GROWTH_BUDGET = 64 * 2 ** 20;
let growthLeft = GROWTH_BUDGET;

/** A storage block handed out by {@link allocateStorage}: its address and class size. */
interface Held {
  readonly addr: number;
  readonly size: number;
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Held>(({ addr, size }) => {
        release(addr, size);
        counters.released++;
        counters.liveBytes -= size;
        growthLeft = GROWTH_BUDGET;
      })
    : null;

/** The block of each live storage array (the arrays {@link allocateStorage} returned, not views of them). */
const owned = new WeakMap<ArrayBufferView, Held>();

function refresh(): void {
  const buf = memory!.buffer;
  if (heapU8.buffer === buf) return;
  buffers.add(buf);
  heapU8 = new Uint8Array(buf);
  heapI32 = new Int32Array(buf);
  heapF32 = new Float32Array(buf);
  heapF64 = new Float64Array(buf);
}

/**
 * Creates the memory (once): shared with a maximum where SharedArrayBuffer is available and the engine
 * accepts it (trying smaller maxima), non-shared otherwise.
 */
export function initMemory(): WebAssembly.Memory {
  if (memory !== null) return memory;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (typeof SharedArrayBuffer === 'function' && isolated !== false) {
    for (const max of [MAX_PAGES, MAX_PAGES / 4, MAX_PAGES / 16]) {
      try {
        const m = new WebAssembly.Memory({ initial: 16, maximum: max, shared: true });
        const importing = moduleBytes([{ name: 'probe', params: 0, body: new Body(0) }], {
          shared: true,
          minimum: 1,
          maximum: max,
        });
        if (m.buffer instanceof SharedArrayBuffer && WebAssembly.validate(importing)) {
          memory = m;
          shared = true;
          maxPages = max;
          break;
        }
      } catch {
        // try a smaller maximum, then a non-shared memory
      }
    }
  }
  if (memory === null) {
    memory = new WebAssembly.Memory({ initial: 16 });
    maxPages = MAX_PAGES;
  }
  refresh();
  return memory;
}

let available: boolean | undefined;

/**
 * Whether WebAssembly with the SIMD extension can run generated programs here (checked once: a module with
 * a SIMD instruction is validated, and the kernels' memory created).
 */
export function wasmSimdAvailable(): boolean {
  if (available === undefined) available = probe();
  return available;
}

function probe(): boolean {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) return false;
  try {
    // A module that needs the SIMD extension: v128.const, drop.
    const body = new Body(0).f64x2(1).op(0x1a);
    if (!WebAssembly.validate(moduleBytes([{ name: 'probe', params: 0, body }]))) return false;
    initMemory();
    return true;
  } catch {
    memory = null;
    return false;
  }
}

/** The type a module must declare to import the memory. */
export function memoryImport(): { shared: boolean; minimum: number; maximum?: number } {
  return shared ? { shared: true, minimum: 1, maximum: maxPages } : { shared: false, minimum: 1 };
}

/** The memory (null before {@link initMemory}). */
export function wasmMemory(): WebAssembly.Memory | null {
  return memory;
}

/** Whether the memory is shared (views into it stay valid across growth; zero-copy storage possible). */
export function memoryShared(): boolean {
  return shared;
}

/** Views of the whole memory, current after any growth. */
export function heap(): { u8: Uint8Array; i32: Int32Array; f32: Float32Array; f64: Float64Array } {
  refresh();
  return { u8: heapU8, i32: heapI32, f32: heapF32, f64: heapF64 };
}

/** The class size of a block of `bytes` (at least 64; m · 2^k with m ∈ {4…7}, a multiple of 16). */
function classOf(bytes: number): number {
  const b = Math.max(bytes, 64);
  const unit = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / unit) * unit;
}

function release(addr: number, size: number): void {
  let list = free.get(size);
  if (list === undefined) {
    list = [];
    free.set(size, list);
  }
  list.push(addr);
}

/** Makes the memory at least `bytes` long; false if it cannot grow that far. */
function ensure(bytes: number): boolean {
  const m = memory!;
  const have = m.buffer.byteLength;
  if (bytes <= have) return true;
  const pages = Math.ceil((bytes - have) / PAGE);
  const cur = have / PAGE;
  if (cur + pages > maxPages) return false;
  // Grow by at least a quarter of the current size (fewer, larger growths).
  const want = Math.min(maxPages - cur, Math.max(pages, Math.ceil(cur / 4)));
  try {
    m.grow(want);
  } catch {
    try {
      m.grow(pages);
    } catch {
      return false;
    }
  }
  refresh();
  return true;
}

/**
 * A block of at least `bytes` (16-byte aligned address), or -1. `capped` blocks count against the cap; a
 * block taken from a free list is not zeroed.
 */
function take(bytes: number, capped: boolean): { addr: number; size: number; fresh: boolean } | null {
  if (memory === null) return null;
  const size = classOf(bytes);
  const list = free.get(size);
  if (list !== undefined && list.length > 0) return { addr: list.pop()!, size, fresh: false };
  if (capped && (top + size - BASE > capacity || size > growthLeft)) return null;
  if (!ensure(top + size)) return null;
  const addr = top;
  top += size;
  if (capped) growthLeft -= size;
  return { addr, size, fresh: true };
}

/** Internal scratch (control blocks, partial sums, chunk buffers): a block the caller gives back. */
export function takeScratch(bytes: number): { addr: number; size: number } | null {
  const t = take(bytes, false);
  return t === null ? null : { addr: t.addr, size: t.size };
}

/** Gives back a block of {@link takeScratch}. */
export function giveBack(block: { addr: number; size: number }): void {
  release(block.addr, block.size);
}

/**
 * Storage for `n` elements of `dtype`, zero-filled unless `zero` is false: a view into the kernels'
 * WebAssembly memory (which the WebAssembly kernels read and write in place, without copies) when
 * `n ≥` {@link ARENA_MIN_ELEMENTS}, the memory is shared (SharedArrayBuffer available: Node, workers,
 * cross-origin-isolated pages) and the arena is under its cap ({@link setArenaCapacity}); an ordinary
 * `Float32Array` / `Float64Array` otherwise. The arena's block is reused once the returned array has been
 * garbage collected.
 *
 * The returned array's `.buffer` is the whole WebAssembly memory (a SharedArrayBuffer): read its bytes with
 * `new Uint8Array(a.buffer, a.byteOffset, a.byteLength)`, never the whole buffer, and do not transfer it.
 * A view made from it (`subarray`, `new Float32Array(a.buffer, …)`) must not outlive the array itself: keep
 * the array referenced while such a view is used.
 *
 * The block can also be handed back at once with {@link releaseStorage}, when the caller knows that nothing
 * reads the array any more (explicit lifetimes: a synchronous loop then reuses its memory).
 *
 * @param dtype - `'float32'` or `'float64'`
 * @param n - the element count (a non-negative safe integer; the caller checks it)
 * @param zero - false when the caller writes every element before anything reads one: a block reused from
 *   the arena then keeps its old contents instead of being cleared (fresh memory is zero either way)
 */
export function allocateStorage(dtype: 'float32', n: number, zero?: boolean): Float32Array;
export function allocateStorage(dtype: 'float64', n: number, zero?: boolean): Float64Array;
export function allocateStorage(
  dtype: 'float32' | 'float64',
  n: number,
  zero?: boolean,
): Float32Array | Float64Array;
export function allocateStorage(
  dtype: 'float32' | 'float64',
  n: number,
  zero = true,
): Float32Array | Float64Array {
  const es = dtype === 'float32' ? 4 : 8;
  if (
    n >= ARENA_MIN_ELEMENTS &&
    wasmSimdAvailable() &&
    shared &&
    registry !== null &&
    n >= ARENA_MIN_ELEMENTS &&
    n * es <= capacity
  ) {
    const t = take(n * es, true);
    if (t !== null) {
      const buf = memory!.buffer;
      buffers.add(buf);
      const a = es === 4 ? new Float32Array(buf, t.addr, n) : new Float64Array(buf, t.addr, n);
      if (!t.fresh && zero) a.fill(0);
      const held: Held = { addr: t.addr, size: t.size };
      registry.register(a, held, held);
      owned.set(a, held);
      counters.storage++;
      counters.liveBytes += t.size;
      return a;
    }
    counters.fallbacks++;
  }
  return es === 4 ? new Float32Array(n) : new Float64Array(n);
}

/**
 * Hands the block of `a` — an array {@link allocateStorage} returned from the arena — back to the arena now,
 * instead of when `a` is garbage collected: the next allocation of its size class reuses it. The caller
 * promises that nothing reads or writes `a` (or any view of it) afterwards: the memory will hold another
 * array's elements. Returns false, doing nothing, for any other array (ordinary typed arrays, views, arrays
 * already released).
 */
export function releaseStorage(a: ArrayBufferView): boolean {
  const held = owned.get(a);
  if (held === undefined) return false;
  owned.delete(a);
  registry?.unregister(held);
  release(held.addr, held.size);
  counters.released++;
  counters.liveBytes -= held.size;
  return true;
}

/**
 * The byte address of `a`'s first element in the kernels' memory when `a` is a view into it (storage of
 * {@link allocateStorage}, or a view of it), -1 otherwise.
 */
export function arenaAddress(a: ArrayBufferView): number {
  return shared && buffers.has(a.buffer) ? a.byteOffset : -1;
}

/** Whether `a` is a view into the kernels' WebAssembly memory (see {@link allocateStorage}). */
export function isArenaStorage(a: ArrayBufferView): boolean {
  return arenaAddress(a) >= 0;
}

/**
 * Sets the most bytes the arena may hold for {@link allocateStorage} (default {@link DEFAULT_ARENA_CAPACITY},
 * 1 GiB; the memory itself stops at 2 GiB). Past it, storage is allocated as ordinary typed arrays. Lowering
 * it below what is in use stops new arena allocations until enough is released.
 *
 * @param bytes - a non-negative number of bytes (at most 2^31)
 * @throws ArgumentError when `bytes` is not a number in [0, 2^31]
 */
export function setArenaCapacity(bytes: number): void {
  if (typeof bytes !== 'number' || !(bytes >= 0 && bytes <= 2 ** 31)) {
    throw new ArgumentError(
      'setArenaCapacity',
      `bytes must be a number in [0, 2^31], got ${describeValue(bytes)}`,
    );
  }
  capacity = bytes;
}

/** The arena's cap in bytes (see {@link setArenaCapacity}). */
export function arenaCapacity(): number {
  return capacity;
}

/** What the arena holds (see {@link arenaStats}). */
export interface ArenaStats {
  /** Whether storage can live in WebAssembly memory here (shared memory available). */
  readonly shared: boolean;
  /** Bytes of the memory handed out at least once (the arena's high-water mark). */
  readonly reservedBytes: number;
  /** Bytes of storage blocks in use (not yet released). */
  readonly liveBytes: number;
  /** Storage arrays allocated in the arena. */
  readonly allocations: number;
  /** Arena arrays released (collected or {@link releaseStorage}d, their blocks back on a free list). */
  readonly released: number;
  /** Allocations of at least ARENA_MIN_ELEMENTS that fell back to ordinary arrays (cap or growth budget). */
  readonly fallbacks: number;
}

/** Counters of the arena (monotonic except the byte figures): for tests and diagnostics. */
export function arenaStats(): ArenaStats {
  return {
    shared,
    reservedBytes: top - BASE,
    liveBytes: counters.liveBytes,
    allocations: counters.storage,
    released: counters.released,
    fallbacks: counters.fallbacks,
  };
}

/** Test hook: the memory's current size in bytes (0 before it exists). */
export function memoryBytes(): number {
  return memory === null ? 0 : memory.buffer.byteLength;
}
