/**
 * The device benchmark (issue 13): the same work on the cpu and on webgpu, side by side in one process —
 * matmul GFLOP/s, a loss's forward + backward (sigmoid focal, mean) at 1M–16M elements, and one MLP training
 * step (784-256-10, batch 64, bias+relu, BCE-with-logits on one-hot targets, plain SGD). Reported, never
 * asserted. An op that has no webgpu implementation yet prints `n/a (reason)` instead of failing the run.
 * Device timings wait for the queue (`onSubmittedWorkDone`); nothing is read back inside a timed call except
 * what the case says (the MLP step reads its loss, as a training loop would to log it).
 *
 * Usage: pnpm bench device [-- OPTIONS], or tsx --conditions=source bench/device/device.bench.ts [OPTIONS]
 *   --quick              small sizes and short timing (for lavapipe, the CPU-emulated adapter in CI)
 *   --only matmul,loss,mlp
 *   --max-time SECONDS   time per case (default 1, 0.25 with --quick)
 */
import { parseArgs } from 'node:util';
import {
  backward,
  fromArray,
  fuse,
  Generator,
  grad,
  initWebGPU,
  matmul,
  memory,
  noGrad,
  type Tensor,
} from '@gradkit/autograd';
import { webgpuAvailability } from '@gradkit/kernels';
import { bceWithLogits, sigmoidFocal } from '@gradkit/losses';

type Device = 'cpu' | 'webgpu';
const PARTS = ['matmul', 'loss', 'mlp'] as const;
type Part = (typeof PARTS)[number];

function options(): { quick: boolean; only: Part[]; maxTime: number } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'max-time': { type: 'string' },
    },
    allowPositionals: false,
  });
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...PARTS]) as Part[];
  const bad = only.filter((p) => !PARTS.includes(p));
  if (bad.length > 0)
    throw new Error(`--only: unknown part(s) ${bad.join(', ')} (expected ${PARTS.join(', ')})`);
  const maxTime = values['max-time'] !== undefined ? Number(values['max-time']) : values.quick ? 0.25 : 1;
  if (!(maxTime > 0))
    throw new Error(`--max-time must be a positive number of seconds, got ${values['max-time']}`);
  return { quick: values.quick, only, maxTime };
}

/** A measured figure, or why there is none. */
type Figure = { value: number; samples: number } | { na: string };

interface Row {
  op: string;
  size: string;
  unit: 'GFLOP/s' | 'ms';
  cpu: Figure;
  webgpu: Figure;
}

/** Median milliseconds per call of an async case: one warm-up call, then calls until `maxTime` (at least 3). */
async function time(fn: () => Promise<void>, maxTime: number): Promise<{ ms: number; samples: number }> {
  await fn();
  const samples: number[] = [];
  const end = performance.now() + maxTime * 1000;
  while (samples.length < 3 || (performance.now() < end && samples.length < 200)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[samples.length >> 1]!, samples: samples.length };
}

/** Runs a case, turning a failure (an op not on the device yet) into `n/a (reason)`. */
async function measure(
  fn: () => Promise<void>,
  maxTime: number,
  toValue: (ms: number) => number,
): Promise<Figure> {
  try {
    const { ms, samples } = await time(fn, maxTime);
    return { value: toValue(ms), samples };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { na: msg.length > 110 ? `${msg.slice(0, 107)}...` : msg };
  }
}

/** Waits until the device has finished the work submitted so far (no read-back). */
async function settle(t: Tensor | null | undefined): Promise<void> {
  const d = t?.deviceArray;
  if (d !== null && d !== undefined) await d.runtime.device.queue.onSubmittedWorkDone();
}

function data(gen: Generator, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen.normal() * scale;
  return out;
}

function place(v: Float32Array, shape: number[], device: Device, requiresGrad = false): Tensor {
  const t = fromArray(v, shape, { dtype: 'float32' });
  const d = device === 'cpu' ? t : t.to('webgpu');
  d.requiresGrad = requiresGrad;
  return d;
}

async function benchMatmul(n: number, device: Device, maxTime: number): Promise<Figure> {
  const gen = new Generator(n);
  try {
    const a = place(data(gen, n * n), [n, n], device);
    const b = place(data(gen, n * n), [n, n], device);
    return await measure(
      async () => {
        const c = matmul(a, b);
        await settle(c);
        c.dispose();
      },
      maxTime,
      (ms) => (2 * n ** 3) / (ms * 1e6),
    );
  } catch (e) {
    return { na: (e as Error).message };
  }
}

/** Focal loss forward + backward; on webgpu through `grad` where the engine supports it, else the node's backward. */
async function benchLoss(n: number, device: Device, maxTime: number): Promise<Figure> {
  const gen = new Generator(n);
  const x = place(data(gen, n, 3), [n], device, true);
  const yv = new Float32Array(n);
  for (let i = 0; i < n; i++) yv[i] = gen.random() < 0.1 ? 1 : 0;
  const y = place(yv, [n], device);
  const one = place(Float32Array.of(1), [], device);
  const fig = await measure(
    async () => {
      const loss = sigmoidFocal(x, y, { reduction: 'mean' });
      let g: Tensor | null;
      try {
        [g] = grad(loss, [x]);
      } catch {
        // The engine's device backward is not there yet: run the loss node's backward (the same kernel).
        g = noGrad(() => loss.gradFn!.apply([one]))[0]!;
      }
      await settle(g);
      g?.dispose();
      loss.dispose();
    },
    maxTime,
    (ms) => ms,
  );
  for (const t of [x, y, one]) t.dispose();
  return fig;
}

const IN = 784;
const HIDDEN = 256;
const OUT = 10;
const BATCH = 64;
const LR = 0.01;

async function benchMlp(device: Device, maxTime: number): Promise<Figure> {
  const gen = new Generator(784);
  const yv = new Float32Array(BATCH * OUT);
  for (let i = 0; i < BATCH; i++) yv[i * OUT + gen.integer(0, OUT)] = 1;
  const biasRelu = fuse((a, b) => a.add(b).relu(), 'biasRelu');
  const sgd = fuse((w, g) => w.sub(g.mul(LR)), 'sgd');
  try {
    const x = place(data(gen, BATCH * IN), [BATCH, IN], device);
    const y = place(yv, [BATCH, OUT], device);
    let params = [
      place(data(gen, IN * HIDDEN, Math.sqrt(2 / IN)), [IN, HIDDEN], device, true),
      place(data(gen, HIDDEN, 0.01), [HIDDEN], device, true),
      place(data(gen, HIDDEN * OUT, Math.sqrt(2 / HIDDEN)), [HIDDEN, OUT], device, true),
      place(data(gen, OUT, 0.01), [OUT], device, true),
    ];
    return await measure(
      async () => {
        const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
        const h = biasRelu(matmul(x, w1), b1);
        const z = matmul(h, w2).add(b2);
        const loss = bceWithLogits(z, y);
        backward(loss);
        params = noGrad(() =>
          params.map((p) => {
            const next = sgd(p, p.grad!);
            next.requiresGrad = true;
            return next;
          }),
        );
        await loss.itemAsync();
      },
      maxTime,
      (ms) => ms,
    );
  } catch (e) {
    return { na: (e as Error).message };
  }
}

function cell(f: Figure, unit: string): string {
  if ('na' in f) return `n/a (${f.na})`;
  return `${f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3)} ${unit}`;
}

function ratio(r: Row): string {
  if ('na' in r.cpu || 'na' in r.webgpu) return '';
  // webgpu's speedup over the cpu: for GFLOP/s higher is better, for ms lower is better.
  const x = r.unit === 'ms' ? r.cpu.value / r.webgpu.value : r.webgpu.value / r.cpu.value;
  return `${x.toFixed(2)}x`;
}

async function main(): Promise<void> {
  const { quick, only, maxTime } = options();
  const availability = await webgpuAvailability();
  let gpu = availability.available;
  if (gpu) {
    try {
      await initWebGPU();
    } catch {
      gpu = false;
    }
  }
  const reason = gpu ? '' : availability.available ? 'initWebGPU failed' : availability.reason;
  const rows: Row[] = [];
  const started = performance.now();
  const progress = (msg: string) =>
    process.stderr.write(`[device bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  const onGpu = async (f: () => Promise<Figure>): Promise<Figure> => (gpu ? f() : { na: reason });

  if (only.includes('matmul')) {
    for (const n of quick ? [128, 256] : [256, 512, 1024, 2048]) {
      progress(`matmul ${n}`);
      rows.push({
        op: 'matmul f32',
        size: `${n}³`,
        unit: 'GFLOP/s',
        cpu: await benchMatmul(n, 'cpu', maxTime),
        webgpu: await onGpu(() => benchMatmul(n, 'webgpu', maxTime)),
      });
    }
  }
  if (only.includes('loss')) {
    for (const n of quick ? [1 << 16, 1 << 20] : [1 << 20, 1 << 22, 1 << 24]) {
      progress(`loss ${n}`);
      const size = n >= 1 << 20 ? `${n / (1 << 20)}M` : `${n / 1024}K`;
      rows.push({
        op: 'focal fwd+bwd',
        size,
        unit: 'ms',
        cpu: await benchLoss(n, 'cpu', maxTime),
        webgpu: await onGpu(() => benchLoss(n, 'webgpu', maxTime)),
      });
    }
  }
  if (only.includes('mlp')) {
    progress('mlp step');
    rows.push({
      op: 'mlp step',
      size: `${IN}-${HIDDEN}-${OUT} b${BATCH}`,
      unit: 'ms',
      cpu: await benchMlp('cpu', maxTime),
      webgpu: await onGpu(() => benchMlp('webgpu', maxTime)),
    });
  }

  const header = ['op', 'size', 'cpu', 'webgpu', 'webgpu speedup'];
  const lines = rows.map((r) => [r.op, r.size, cell(r.cpu, r.unit), cell(r.webgpu, r.unit), ratio(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => Math.min(l[i]!.length, 60))));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`device: ${gpu ? 'webgpu' : `none (${reason})`}${quick ? ' (--quick)' : ''}`);
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log(`live device buffers at the end: ${memory().buffers}`);
  console.log(
    'Medians of each case; reported, never asserted. On a shared or CPU-emulated adapter, read ratios only.',
  );
}

await main();
process.exit(0);
