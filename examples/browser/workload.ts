/**
 * What the browser page runs, kept free of DOM code so that the test can also run parts of it in Node:
 *
 * 1. training: a 2-8-1 tanh MLP fitted by full-batch gradient descent (`bceWithLogits`, `grad`) on a seeded
 *    synthetic XOR-like data set, in float64;
 * 2. matmul: a product large enough for the packed kernels, in float32 and float64, on the kernel gradkit
 *    chose (WebAssembly SIMD where it compiles, else JavaScript) and again on the JavaScript kernel;
 * 3. kernels: a GPU.js-style matrix-multiply kernel on `new GPU({ mode: 'cpu' })`, and on `'webgpu'` when an
 *    adapter exists (otherwise reported as skipped, with the reason);
 * 4. loss: a `createElementwise` runner of the stable binary cross-entropy with logits and its derivative,
 *    on the cpu backend and on WebGPU when an adapter exists;
 * 5. device training: the same MLP in float32, trained with every tensor on the device (`device: 'webgpu'`:
 *    forward, `bceWithLogits`, `grad`, the updates; nothing read back until the losses at the end) and again
 *    on the cpu in float32, to compare the loss curves.
 *
 * Inputs are small integers, so every product and sum is exact in float32: the expected numbers are exact.
 */
import {
  fromArray,
  Generator,
  grad,
  initWebGPU,
  linear,
  matmul,
  matmulKernel,
  noGrad,
  randn,
  setMatmulKernel,
  type Tensor,
  tidy,
  zeros,
} from '@gradkit/autograd';
import {
  abs,
  add,
  derive,
  type Expr,
  exp,
  GPU,
  type KernelThis,
  log1p,
  mul,
  neg,
  relu,
  sub,
  variable,
  webgpuAvailability,
} from '@gradkit/kernels';
import { bceWithLogits } from '@gradkit/losses';

/** The training run's settings. */
export const TRAINING = { seed: 7, samples: 128, hidden: 8, steps: 40, lr: 0.5 } as const;

/** What the training did: the loss before every step and after the last one, and the final accuracy. */
export interface TrainingResult {
  /** `steps + 1` mean losses: before each step, then after the last one. */
  losses: number[];
  lossBefore: number;
  lossAfter: number;
  /** Fraction of the training points classified correctly at the end (logit > 0 ⇔ label 1). */
  accuracy: number;
}

/** A row-major matrix of small integers, as plain numbers. */
export interface IntMatrix {
  rows: number;
  cols: number;
  data: number[];
}

/** The matmul operands: A [48, 40] and B [40, 36], integers in [-5, 5] and [-4, 4]. */
export function matmulOperands(): { a: IntMatrix; b: IntMatrix } {
  const [M, K, N] = [48, 40, 36];
  const a = Array.from({ length: M * K }, (_, i) => ((Math.floor(i / K) * 7 + (i % K) * 3) % 11) - 5);
  const b = Array.from({ length: K * N }, (_, i) => ((Math.floor(i / N) * 5 + (i % N) * 2) % 9) - 4);
  return { a: { rows: M, cols: K, data: a }, b: { rows: K, cols: N, data: b } };
}

/** The kernel operands: a [5, 6] and b [6, 7] (rows), integers in [-3, 3]. */
export function kernelOperands(): { a: number[][]; b: number[][] } {
  const a = Array.from({ length: 5 }, (_, y) => Array.from({ length: 6 }, (_, i) => ((y * 4 + i) % 7) - 3));
  const b = Array.from({ length: 6 }, (_, i) =>
    Array.from({ length: 7 }, (_, x) => ((i * 3 + x * 2) % 7) - 3),
  );
  return { a, b };
}

/** What the matmul section found. */
export interface MatmulResult {
  /** The kernel gradkit chose on its own (`'wasm'` where WebAssembly SIMD compiled). */
  kernel: 'wasm' | 'js';
  shape: [number, number];
  float32: number[];
  float64: number[];
  /** The same products with `setMatmulKernel('js')`. */
  jsFloat32: number[];
  jsFloat64: number[];
}

/** A kernel backend's outcome. */
export type KernelRun = { status: 'ran'; values: number[] } | { status: 'skipped'; reason: string };

/** What the kernel section found. */
export interface KernelsResult {
  /** Whether `navigator.gpu` exists (in Node: false). */
  navigatorGpu: boolean;
  cpu: KernelRun;
  webgpu: KernelRun;
}

/** What the loss section found: per backend, the per-element losses followed by their derivatives. */
export interface LossResult {
  cpu: KernelRun;
  webgpu: KernelRun;
}

/** What the device-training section found: the float32 loss curve per device (webgpu skipped without one). */
export interface DeviceTrainingResult {
  cpu: TrainingResult;
  webgpu: { status: 'ran'; result: TrainingResult } | { status: 'skipped'; reason: string };
}

/** The object the page writes to `window.__gradkitResult`. Sections stay null until they finish. */
export interface PageResult {
  userAgent: string;
  training: TrainingResult | null;
  matmul: MatmulResult | null;
  kernels: KernelsResult | null;
  loss: LossResult | null;
  deviceTraining: DeviceTrainingResult | null;
  error: { name: string; message: string; stack: string } | null;
  ms: number;
}

function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

/** The seeded data set: points from N(0, I₂), label 1 when x₀·x₁ > 0 (not linearly separable). */
function xorData(gen: Generator, n: number): { x: Tensor; y: Tensor } {
  const x = randn([n, 2], { generator: gen, dtype: 'float64' });
  const p = x.toArray();
  const y = Array.from({ length: n }, (_, i) => (p[2 * i]! * p[2 * i + 1]! > 0 ? 1 : 0));
  return { x, y: fromArray(y, [n, 1], { dtype: 'float64' }) };
}

/** Trains the MLP with plain gradient descent and records the loss along the way. */
export function trainModel(): TrainingResult {
  const gen = new Generator(TRAINING.seed);
  const { x, y } = xorData(gen, TRAINING.samples);
  const h = TRAINING.hidden;
  let params = [
    parameter(randn([h, 2], { generator: gen, dtype: 'float64' })),
    parameter(zeros([h], { dtype: 'float64' })),
    parameter(randn([1, h], { generator: gen, dtype: 'float64' }).mul(Math.sqrt(1 / h))),
    parameter(zeros([1], { dtype: 'float64' })),
  ];
  const logits = ([w1, b1, w2, b2]: Tensor[]) => linear(linear(x, w1!, b1!).tanh(), w2!, b2!);
  const losses: number[] = [];
  for (let step = 0; step < TRAINING.steps; step++) {
    const loss = bceWithLogits(logits(params), y);
    losses.push(loss.item());
    const grads = grad(loss, params);
    params = noGrad(() => params.map((p, i) => p.sub(grads[i]!.mul(TRAINING.lr)))).map(parameter);
  }
  const final = noGrad(() => logits(params));
  losses.push(noGrad(() => bceWithLogits(final, y)).item());
  const z = final.toArray();
  const labels = y.toArray();
  let correct = 0;
  for (let i = 0; i < z.length; i++) if (z[i]! > 0 === (labels[i] === 1)) correct++;
  return { losses, lossBefore: losses[0]!, lossAfter: losses.at(-1)!, accuracy: correct / z.length };
}

/**
 * The training run in float32 with every tensor on `device`: data and parameters are made on the cpu from the
 * same seed, then moved (`to(device)`, before `requiresGrad` is set: a leaf is made where it lives); each step
 * (forward, loss, `grad`, update) runs inside `tidy`, which releases the step's temporaries on the device.
 * The losses stay on the device until the end, when they are read back together.
 */
export async function trainModelOn(device: 'cpu' | 'webgpu'): Promise<TrainingResult> {
  const gen = new Generator(TRAINING.seed);
  const { x: x64, y: y64 } = xorData(gen, TRAINING.samples);
  const h = TRAINING.hidden;
  const init = [
    randn([h, 2], { generator: gen, dtype: 'float64' }),
    zeros([h], { dtype: 'float64' }),
    randn([1, h], { generator: gen, dtype: 'float64' }).mul(Math.sqrt(1 / h)),
    zeros([1], { dtype: 'float64' }),
  ];
  const x = x64.to('float32').to(device);
  const y = y64.to('float32').to(device);
  let params = init.map((t) => parameter(t.to('float32').to(device)));
  const logits = ([w1, b1, w2, b2]: Tensor[]) => linear(linear(x, w1!, b1!).tanh(), w2!, b2!);
  const losses: Tensor[] = [];
  for (let step = 0; step < TRAINING.steps; step++) {
    const [loss, next] = tidy(() => {
      const l = bceWithLogits(logits(params), y);
      const grads = grad(l, params);
      const updated = noGrad(() => params.map((p, i) => p.sub(grads[i]!.mul(TRAINING.lr))));
      return [l.detach(), updated] as const;
    });
    for (const p of params) p.dispose();
    params = next.map(parameter);
    losses.push(loss);
  }
  const final = noGrad(() => logits(params));
  losses.push(noGrad(() => bceWithLogits(final, y)));
  const values = await Promise.all(losses.map((l) => l.itemAsync()));
  const z = await final.dataAsync();
  const labels = await y.dataAsync();
  let correct = 0;
  for (let i = 0; i < z.length; i++) if (z[i]! > 0 === (labels[i] === 1)) correct++;
  for (const t of [...losses, ...params, final, x, y]) t.dispose();
  return { losses: values, lossBefore: values[0]!, lossAfter: values.at(-1)!, accuracy: correct / z.length };
}

/** The float32 training on the cpu and, where an adapter exists, on WebGPU. */
export async function deviceTrainingCheck(): Promise<DeviceTrainingResult> {
  const cpu = await trainModelOn('cpu');
  const availability = await webgpuAvailability();
  if (!availability.available) return { cpu, webgpu: { status: 'skipped', reason: availability.reason } };
  await initWebGPU();
  return { cpu, webgpu: { status: 'ran', result: await trainModelOn('webgpu') } };
}

function products(dtype: 'float32' | 'float64'): number[] {
  const { a, b } = matmulOperands();
  const c = matmul(
    fromArray(a.data, [a.rows, a.cols], { dtype }),
    fromArray(b.data, [b.rows, b.cols], { dtype }),
  );
  return Array.from(c.toArray());
}

/** Runs the matmul on the kernel gradkit chose, then on the JavaScript kernel (restoring the choice). */
export function matmulCheck(): MatmulResult {
  const { a, b } = matmulOperands();
  const kernel = matmulKernel();
  const float32 = products('float32');
  const float64 = products('float64');
  setMatmulKernel('js');
  try {
    return {
      kernel,
      shape: [a.rows, b.cols],
      float32,
      float64,
      jsFloat32: products('float32'),
      jsFloat64: products('float64'),
    };
  } finally {
    setMatmulKernel('auto');
  }
}

/** The kernel: out[y][x] = Σᵢ a[y][i] · b[i][x]. */
function matmulKernelFn(this: KernelThis, a: number[][], b: number[][]): number {
  let sum = 0;
  for (let i = 0; i < this.constants.size; i++) sum += a[this.thread.y]![i]! * b[i]![this.thread.x]!;
  return sum;
}

async function runKernel<M extends 'cpu' | 'webgpu'>(gpu: GPU<M>): Promise<number[]> {
  const { a, b } = kernelOperands();
  const k = gpu.createKernel(matmulKernelFn, {
    output: [b[0]!.length, a.length],
    constants: { size: b.length },
  });
  const out = (await k.run(a, b)) as Float32Array[];
  return out.flatMap((row) => Array.from(row));
}

/** Bounds a promise (a WebGPU adapter request must not hang the page). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `work` on a fresh webgpu-mode GPU, or reports why it was skipped (no `navigator.gpu`, no adapter). */
async function onWebGpu(work: (gpu: GPU<'webgpu'>) => Promise<number[]>): Promise<KernelRun> {
  const navigatorGpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
  if (!navigatorGpu) return { status: 'skipped', reason: 'navigator.gpu does not exist' };
  const availability = await within(10_000, 'probing for a WebGPU adapter', webgpuAvailability());
  if (!availability.available) return { status: 'skipped', reason: availability.reason };
  const gpu = await within(10_000, 'requesting a WebGPU device', GPU.create({ mode: 'webgpu' }));
  try {
    return { status: 'ran', values: await within(20_000, 'the WebGPU work', work(gpu)) };
  } finally {
    gpu.destroy();
  }
}

/** Runs the kernel on the cpu backend and, where an adapter exists, on WebGPU. */
export async function kernelsCheck(): Promise<KernelsResult> {
  const navigatorGpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
  const cpuGpu = new GPU({ mode: 'cpu' });
  const cpu: KernelRun = { status: 'ran', values: await runKernel(cpuGpu) };
  cpuGpu.destroy();
  return { navigatorGpu, cpu, webgpu: await onWebGpu(runKernel) };
}

/** The loss section's logits z (in [-12, 12], some far in the tails) and labels y. */
export function lossOperands(): { z: number[]; y: number[] } {
  const z = Array.from({ length: 257 }, (_, i) => ((i * 37) % 97) / 4 - 12);
  const y = z.map((_, i) => ((i * 5) % 3 === 0 ? 1 : 0));
  return { z, y };
}

/** The per-element loss max(z, 0) − z·y + log1p(exp(−|z|)) and its derivative by z, as expressions. */
function lossExpressions(): Expr[] {
  const z = variable('z');
  const y = variable('y');
  const loss = add(sub(relu(z), mul(z, y)), log1p(exp(neg(abs(z)))));
  return [loss, derive(loss, z)];
}

async function runLoss<M extends 'cpu' | 'webgpu'>(gpu: GPU<M>): Promise<number[]> {
  const { z, y } = lossOperands();
  const run = gpu.createElementwise(lossExpressions(), ['z', 'y'], ['array', 'array']);
  const [l, d] = await run.run([z, y], z.length);
  return [...l!, ...d!];
}

/** Runs the loss expression on the cpu backend and, where an adapter exists, on WebGPU. */
export async function lossCheck(): Promise<LossResult> {
  const cpuGpu = new GPU({ mode: 'cpu' });
  const cpu: KernelRun = { status: 'ran', values: await runLoss(cpuGpu) };
  cpuGpu.destroy();
  const webgpu = await onWebGpu(runLoss);
  return { cpu, webgpu };
}

/** Runs every section into `result` (so a failure leaves the finished sections in place). */
export async function runWorkload(result: PageResult): Promise<void> {
  result.training = trainModel();
  result.matmul = matmulCheck();
  result.kernels = await kernelsCheck();
  result.loss = await lossCheck();
  result.deviceTraining = await deviceTrainingCheck();
}
