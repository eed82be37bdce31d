/**
 * Heap script (see `measureHeapGrowth` in @gradkit/testing): a function fused anew at every step with a
 * distinct constant (a learning rate written as a number inside `fuse`), 20,000 steps. Each step builds new
 * expression nodes and a new spec; the intern table, the spec cache and the kernel caches are bounded or
 * swept, and constants are kernel parameters, so the heap ends where it started and one kernel serves all.
 */
import { fuse, tensor } from '@gradkit/autograd';
import { compiledKernelCount } from '@gradkit/kernels';

const p = tensor(
  Array.from({ length: 100 }, (_, i) => i / 7),
  { dtype: 'float32' },
);
const g = tensor(
  Array.from({ length: 100 }, (_, i) => 1 - i / 50),
  { dtype: 'float32' },
);

function step(t: number): number {
  const lr = 0.01 / (1 + t * 1e-3);
  return fuse((a, b) => a.sub(b.mul(lr)))(p, g).data[7]!;
}

export function warmup(): void {
  for (let t = 0; t < 2000; t++) step(-t - 0.5);
}

export function run(): { kernels: number; checksum: number } {
  const kernels = compiledKernelCount();
  let checksum = 0;
  for (let t = 0; t < 20_000; t++) checksum += step(t);
  return { kernels: compiledKernelCount() - kernels, checksum };
}
