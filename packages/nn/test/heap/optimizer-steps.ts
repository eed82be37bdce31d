/**
 * Heap script (see `measureHeapGrowth` in @gradkit/testing): 10,000 training steps of a small MLP (forward,
 * BCEWithLogits, backward, Adam, a cosine learning-rate schedule). Nothing may accumulate across steps: graphs
 * are freed, optimizer state has a fixed size, and a changing learning rate compiles no kernel.
 */
import { Generator, randn, tensor } from '@gradkit/autograd';
import { compiledKernelCount } from '@gradkit/kernels';
import { BCEWithLogitsLoss } from '@gradkit/losses';
import { Adam, CosineAnnealingLR, Linear, ReLU, Sequential } from '@gradkit/nn';

const g = new Generator(0);
const model = new Sequential(
  new Linear(8, 16, { generator: g }),
  new ReLU(),
  new Linear(16, 1, { generator: g }),
);
const x = randn([32, 8], { generator: g });
const y = tensor(Array.from({ length: 32 }, (_, i) => i % 2));
const lossFn = new BCEWithLogitsLoss();
const opt = new Adam(model.parameters(), { lr: 0.01 });
const sched = new CosineAnnealingLR(opt, { tMax: 1000 });

function step(): number {
  opt.zeroGrad();
  const loss = lossFn.forward(model.forward(x).reshape(-1), y);
  loss.backward();
  opt.step();
  sched.step();
  return loss.item();
}

export function warmup(): void {
  for (let i = 0; i < 500; i++) step();
}

export function run(): { kernels: number; loss: number } {
  const kernels = compiledKernelCount();
  let loss = 0;
  for (let i = 0; i < 10_000; i++) loss = step();
  return { kernels: compiledKernelCount() - kernels, loss };
}
