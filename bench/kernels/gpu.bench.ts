/**
 * The kernel benchmark (issue 4): a 512³ matrix multiply and a 1e6-element fused loss-like expression, written
 * as GPU.js kernels and run by @gradkit/kernels on cpu and webgpu, against gpu.js 2.24.1 in cpu mode in this
 * same process. Prints one table; `ratio` is gpu.js cpu time / this row's time (above 1: faster than gpu.js).
 * Every webgpu call includes uploading the inputs and reading the result back. Cases are timed in alternating
 * rounds and each row reports the median of its pooled samples.
 *
 * Usage: pnpm --filter @gradkit/bench bench:kernels [-- --quick] [--max-time SECONDS] [--no-webgpu]
 *    or: tsx --conditions=source bench/kernels/gpu.bench.ts [...]
 */
import { parseArgs } from 'node:util';
import {
  add,
  GPU,
  type GPUMode,
  input,
  type KernelThis,
  mul,
  softplus,
  sub,
  variable,
  webgpuAvailability,
} from '@gradkit/kernels';
import Benchmark from 'benchmark';
import * as gpuJsModule from 'gpu.js';

const GpuJs = gpuJsModule.GPU;
// gpu.js's type declarations describe `input` as a type only; the function exists at run time.
const gpuJsInput = (gpuJsModule as unknown as { input(v: ArrayLike<number>, size: number[]): never }).input;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'max-time': { type: 'string' },
    'no-webgpu': { type: 'boolean', default: false },
  },
});
const maxTime = values['max-time'] !== undefined ? Number(values['max-time']) : values.quick ? 1.5 : 6;
if (!(maxTime > 0)) throw new Error(`--max-time must be a positive number, got ${values['max-time']}`);

// ---------------------------------------------------------------- timing

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** benchmark.js samples (ms per call) of `fn`, which may return a Promise (a deferred benchmark). */
function samples(name: string, fn: () => unknown, seconds: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      maxTime: seconds,
      minSamples: 2,
      initCount: 1,
      fn(deferred: { resolve(): void }) {
        const r = fn();
        if (r instanceof Promise) r.then(() => deferred.resolve(), reject);
        else deferred.resolve();
      },
      onComplete() {
        resolve((bench.stats.sample as number[]).map((v) => v * 1000));
      },
      onError(e: { target?: { error?: unknown } }) {
        reject(e.target?.error ?? e);
      },
    });
    bench.run({ async: true });
  });
}

const ROUNDS = 3;

// ---------------------------------------------------------------- data

let seed = 42;
const rand = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return Math.fround((seed / 2 ** 32) * 2 - 1);
};

const N = 512;
const aFlat = Float32Array.from({ length: N * N }, rand);
const bFlat = Float32Array.from({ length: N * N }, rand);
const rows = (flat: Float32Array) => Array.from({ length: N }, (_, y) => flat.subarray(y * N, (y + 1) * N));
const aRows = rows(aFlat);
const bRows = rows(bFlat);

const M = 1_000_000;
const logits = Float32Array.from({ length: M }, () => rand() * 20);
const targets = Float32Array.from({ length: M }, () => (rand() > 0 ? 1 : 0));

// The kernels, in GPU.js's language (the same source text for both libraries).
const matmulFn = function (this: KernelThis, a: number[][], b: number[][]) {
  let sum = 0;
  for (let i = 0; i < this.constants.size; i++) {
    sum += a[this.thread.y][i] * b[i][this.thread.x];
  }
  return sum;
};
// Binary cross-entropy with logits and a positive weight (stable form), per element.
const lossFn = function (this: KernelThis, x: number[], t: number[]) {
  const xi = x[this.thread.x];
  const ti = t[this.thread.x];
  const lw = (this.constants.pw - 1) * ti + 1;
  return (1 - ti) * xi + lw * (Math.log(1 + Math.exp(-Math.abs(xi))) + Math.max(-xi, 0));
};

function checksum(out: unknown): number {
  let s = 0;
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array || v instanceof Float64Array) {
      for (let i = 0; i < v.length; i += 997) s += v[i]!;
    } else for (const x of v as unknown[]) walk(x);
  };
  walk(out);
  return s;
}

// ---------------------------------------------------------------- cases

interface Row {
  bench: string;
  impl: string;
  ms: number;
  samples: number;
  check: number;
}

const table: Row[] = [];

interface Case {
  impl: string;
  fn: () => unknown;
}

/**
 * Times the cases of one benchmark in alternating rounds (A B C A B C ...), pooling each case's samples, so
 * that a change of load on a shared machine hits every case alike and the ratios stay fair.
 */
async function measure(bench: string, cases: readonly Case[]): Promise<void> {
  const pooled = cases.map(() => [] as number[]);
  const checks: number[] = [];
  for (const c of cases) checks.push(checksum(await c.fn()));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of cases.entries()) {
      pooled[i]!.push(...(await samples(`${bench} ${c.impl}`, c.fn, maxTime / ROUNDS)));
    }
  }
  cases.forEach((c, i) => {
    const ms = median(pooled[i]!);
    table.push({ bench, impl: c.impl, ms, samples: pooled[i]!.length, check: checks[i]! });
    console.error(`  ${bench} / ${c.impl}: ${ms.toFixed(2)} ms (${pooled[i]!.length} samples)`);
  });
}

async function main(): Promise<void> {
  const gpujs = new GpuJs({ mode: 'cpu' });
  const jsMatmul = gpujs.createKernel(matmulFn as never, { output: [N, N], constants: { size: N } });
  const jsLoss = gpujs.createKernel(lossFn as never, { output: [M], constants: { pw: 2 } });

  const modes: GPUMode[] = ['cpu'];
  const avail = await webgpuAvailability();
  if (values['no-webgpu']) console.error('webgpu rows skipped (--no-webgpu)');
  else if (avail.available) modes.push('webgpu');
  else console.error(`webgpu rows skipped: ${avail.reason}`);

  const gpus: GPU<GPUMode>[] = [];
  for (const mode of modes) gpus.push(await GPU.create({ mode }));

  console.error('matmul 512³');
  const matmulCases: Case[] = [
    { impl: 'gpu.js 2.24.1 cpu', fn: () => jsMatmul(aRows, bRows) },
    {
      impl: 'gpu.js 2.24.1 cpu, input()',
      fn: () => jsMatmul(gpuJsInput(aFlat, [N, N]), gpuJsInput(bFlat, [N, N])),
    },
  ];
  for (const gpu of gpus) {
    const k = gpu.createKernel(matmulFn, { output: [N, N], constants: { size: N } });
    matmulCases.push(
      { impl: `gradkit ${gpu.mode}, input()`, fn: () => k.run(input(aFlat, [N, N]), input(bFlat, [N, N])) },
      { impl: `gradkit ${gpu.mode}, nested rows`, fn: () => k.run(aRows, bRows) },
    );
  }
  await measure('matmul 512³', matmulCases);

  console.error('fused loss, 1e6 elements');
  const x = variable('x');
  const t = variable('t');
  const pw = variable('pw');
  // The same loss as an expression of the primitive table: (1 - t) x + lw softplus(-x).
  const lw = add(mul(sub(pw, 1), t), 1);
  const lossExpr = add(mul(sub(1, t), x), mul(lw, softplus(mul(-1, x))));
  const lossCases: Case[] = [{ impl: 'gpu.js 2.24.1 cpu', fn: () => jsLoss(logits, targets) }];
  for (const gpu of gpus) {
    const k = gpu.createKernel(lossFn, { output: [M], constants: { pw: 2 } });
    const ew = gpu.createElementwise([lossExpr], ['x', 't', 'pw'], ['array', 'array', 'scalar']);
    lossCases.push(
      { impl: `gradkit ${gpu.mode}, kernel`, fn: () => k.run(logits, targets) },
      { impl: `gradkit ${gpu.mode}, expression IR`, fn: () => ew.run([logits, targets, 2], M) },
    );
  }
  await measure('loss 1e6', lossCases);
  for (const g of gpus) g.destroy();

  // ---------------------------------------------------------------- report
  const base = new Map(table.filter((r) => r.impl === 'gpu.js 2.24.1 cpu').map((r) => [r.bench, r.ms]));
  const lines = [
    '| benchmark | implementation | median ms | samples | ratio vs gpu.js cpu | checksum |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of table) {
    const ratio = base.get(r.bench)! / r.ms;
    lines.push(
      `| ${r.bench} | ${r.impl} | ${r.ms.toFixed(2)} | ${r.samples} | ${ratio.toFixed(2)}× | ${r.check.toPrecision(6)} |`,
    );
  }
  console.log(lines.join('\n'));
}

await main();
