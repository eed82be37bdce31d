/**
 * Heap script (see `measureHeapGrowth` in @gradkit/testing): focal loss forward and backward with 20,000
 * distinct gammas (`1 + i·1e-4`). Numeric parameters are run-time arguments of one fused program, so the heap
 * must end where it started. `run` also reports the CPU time per call with distinct gammas and with one gamma
 * (process.cpuUsage: not inflated by other processes).
 */
import { fromArray } from '@gradkit/autograd';
import { focal } from '@gradkit/losses';

const N = 20_000;
const size = 64;
const xs = Float64Array.from({ length: size }, (_, i) => Math.sin(i) * 4);
const ys = Float64Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3));
const x = fromArray(xs, [size], { dtype: 'float32', requiresGrad: true });
const y = fromArray(ys, [size], { dtype: 'float32' });

function call(gamma: number): void {
  focal(x, y, { gamma }).backward();
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

export function warmup(): void {
  // Compile the run-time-gamma program and the programs of the code-changing gammas the loop meets, and let
  // the JIT settle so that the two timings compare like with like.
  for (let i = 0; i < 200; i++) call(1.3 + i * 1e-4);
  for (const g of [1, 1.5, 2, 2.5, 3]) call(g);
  for (let i = 0; i < N; i++) call(i % 2 === 0 ? 1.3 : 1.7);
}

export function run(): { n: number; distinctMs: number; oneMs: number } {
  let c = process.cpuUsage();
  for (let i = 0; i < N; i++) call(1 + i * 1e-4);
  const distinctMs = cpuMs(c) / N;
  c = process.cpuUsage();
  for (let i = 0; i < N; i++) call(1.3);
  return { n: N, distinctMs, oneMs: cpuMs(c) / N };
}
