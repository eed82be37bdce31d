/**
 * Heap script (see `measureHeapGrowth` in @gradkit/testing): 100,000 elementwise ops on a float32 tensor of
 * 100 elements, each with a distinct numeric constant (`x.mul(i)`). Constants are kernel parameters and every
 * cache is bounded, so the heap must end where it started.
 */
import { tensor } from '@gradkit/autograd';
import { compiledKernelCount } from '@gradkit/kernels';

const x = tensor(
  Array.from({ length: 100 }, (_, i) => i / 7),
  { dtype: 'float32' },
);

export function warmup(): void {
  for (let i = 0; i < 2000; i++) x.mul(-i - 0.5);
}

export function run(): { kernels: number; checksum: number } {
  const kernels = compiledKernelCount();
  let checksum = 0;
  for (let i = 0; i < 100_000; i++) checksum += x.mul(i).data[3]!;
  return { kernels: compiledKernelCount() - kernels, checksum };
}
