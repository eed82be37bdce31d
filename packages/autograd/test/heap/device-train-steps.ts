/**
 * Heap script (see `measureHeapGrowth` in @gradkit/testing): 1,000 forward+backward steps of a small linear
 * model on WebGPU (broadcast multiply, a sum over an axis, a mean, backward through them, an update under
 * noGrad). The step disposes the tensors it replaces; everything else (graph intermediates, gradients of
 * intermediates) is released by garbage collection into the buffer pool. After full collections the live
 * buffer count must be back where it was (and, with the pool emptied, the heap too).
 */
import {
  Generator,
  initWebGPU,
  mean,
  memory,
  noGrad,
  pooledMemory,
  randn,
  releasePool,
  sum,
  type Tensor,
} from '@gradkit/autograd';
import { type DeviceMemory, webgpuAvailability } from '@gradkit/kernels';

const gc = (globalThis as { gc?: () => void }).gc!;
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Full collections with ticks in between, so FinalizationRegistry callbacks release the buffers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    await tick();
    gc();
    await tick();
  }
}

let x: Tensor;
let y: Tensor;
let w: Tensor;
let b: Tensor;

function step(): void {
  const loss = mean(sum(x.mul(w), 1).add(b).sub(y).pow(2));
  loss.backward();
  const nw = noGrad(() => w.sub(w.grad!.mul(0.05)));
  const nb = noGrad(() => b.sub(b.grad!.mul(0.05)));
  for (const t of [w.grad!, b.grad!, w, b, loss]) t.dispose();
  nw.requiresGrad = true;
  nb.requiresGrad = true;
  w = nw;
  b = nb;
}

let available = false;

export async function warmup(): Promise<void> {
  available = (await webgpuAvailability()).available;
  if (!available) return;
  await initWebGPU();
  const gen = new Generator(3);
  x = randn([16, 4], { generator: gen, device: 'webgpu' });
  y = randn([16], { generator: gen, device: 'webgpu' });
  w = randn([4], { generator: gen, device: 'webgpu', requiresGrad: true });
  b = randn([1], { generator: gen, device: 'webgpu', requiresGrad: true });
  for (let i = 0; i < 5; i++) step();
}

export async function run(): Promise<
  { skipped: true } | { before: DeviceMemory; after: DeviceMemory; pooled: DeviceMemory; loss: number }
> {
  if (!available) return { skipped: true };
  await settle();
  const before = memory();
  for (let i = 0; i < 1000; i++) step();
  const loss = await mean(sum(x.mul(w), 1).add(b).sub(y).pow(2)).itemAsync();
  await settle();
  const after = memory();
  const pooled = pooledMemory();
  // The pooled buffers' wrappers are JavaScript objects: empty the pool so the heap measure sees leaks only.
  releasePool();
  return { before, after, pooled, loss };
}
