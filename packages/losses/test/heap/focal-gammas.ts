/**
 * Heap check (run by heap.test.ts under `node --expose-gc`): calls focal with N distinct gammas
 * (`1 + i·1e-4`, forward and backward) and prints, as one JSON line, the heap used after a full GC before and
 * after, and the CPU time per call (process.cpuUsage: not inflated by other processes) with distinct gammas
 * and with one gamma. Usage: `focal-gammas.ts [N]`.
 */
import { fromArray } from '@gradkit/autograd';
import { focal } from '@gradkit/losses';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const n = Number(process.argv[2] ?? 20_000);
const size = 64;
const xs = Float64Array.from({ length: size }, (_, i) => Math.sin(i) * 4);
const ys = Float64Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3));
const x = fromArray(xs, [size], { dtype: 'float32', requiresGrad: true });
const y = fromArray(ys, [size], { dtype: 'float32' });

function call(gamma: number): void {
  focal(x, y, { gamma }).backward();
}

function heap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

// Warm up: compile the run-time-gamma program and the programs of the code-changing gammas the loop meets.
for (let i = 0; i < 200; i++) call(1.3 + i * 1e-4);
for (const g of [1, 1.5, 2, 2.5, 3]) call(g);
// Let the JIT settle, so that the two timings below compare like with like.
for (let i = 0; i < n; i++) call(i % 2 === 0 ? 1.3 : 1.7);
const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const before = heap();
let c = process.cpuUsage();
for (let i = 0; i < n; i++) call(1 + i * 1e-4);
const distinctMs = cpuMs(c) / n;
const after = heap();
c = process.cpuUsage();
for (let i = 0; i < n; i++) call(1.3);
const oneMs = cpuMs(c) / n;
process.stdout.write(`${JSON.stringify({ n, before, after, growth: after - before, distinctMs, oneMs })}\n`);
