/**
 * The child process of {@link measureHeapGrowth} (run as `node --expose-gc --import tsx --conditions=source
 * heap-runner.ts <script>`): imports the script, lets it warm up, measures the heap after a full collection,
 * runs it, measures again and prints one JSON line `{"before", "after", "details"}` on stdout.
 */
import { pathToFileURL } from 'node:url';

interface HeapScript {
  warmup?: () => unknown;
  run: () => unknown;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('heap-runner: run node with --expose-gc');

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Collects until the heap stops shrinking (FinalizationRegistry callbacks run between collections). */
async function settledHeap(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    await tick();
    gc!();
    await tick();
    gc!();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024) return used;
    last = used;
  }
  return last;
}

const script = process.argv[2];
if (script === undefined) throw new Error('heap-runner: give the script path');
const mod = (await import(pathToFileURL(script).href)) as HeapScript;
if (typeof mod.run !== 'function') throw new Error(`heap-runner: ${script} exports no run()`);
await mod.warmup?.();
const before = await settledHeap();
const details = await mod.run();
const after = await settledHeap();
process.stdout.write(`${JSON.stringify({ before, after, details: details ?? null })}\n`);
