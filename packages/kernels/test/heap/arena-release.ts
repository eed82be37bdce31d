/**
 * Heap script (run by measureHeapGrowth in its own `node --expose-gc` process): 10,000 arena allocations
 * of 64 KiB each (640 MB in all) made and dropped in batches of 100; with the collector releasing them to
 * the free list, the arena's high-water mark stays at a few batches instead of growing to 640 MB.
 */
import { allocateStorage, arenaStats } from '@gradkit/kernels';

const gc = (globalThis as { gc?: () => void }).gc!;
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export function warmup(): void {
  allocateStorage('float32', 16384);
}

export async function run(): Promise<unknown> {
  const before = arenaStats();
  let checksum = 0;
  let nonZero = 0;
  for (let batch = 0; batch < 100; batch++) {
    for (let k = 0; k < 100; k++) {
      const a = allocateStorage('float32', 16384);
      // Every array is zero-filled, also when its block is reused.
      if (a[0] !== 0 || a[16383] !== 0) nonZero++;
      a.fill(batch + 1);
      checksum += a[100]!;
    }
    gc();
    await tick();
  }
  gc();
  await tick();
  const after = arenaStats();
  return { before, after, checksum, nonZero };
}
