/**
 * End to end in a real browser: bundles this folder's page with Vite (from the packages' TypeScript sources,
 * through the `source` export condition), serves it on 127.0.0.1, opens it in Debian's Chromium through
 * playwright-core, and checks the JSON the page leaves in `window.__gradkitResult`.
 *
 * Without /usr/bin/chromium the test is skipped with one line saying how to install it, except under
 * `CI=true`, where it fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { build, createLogger, defaultClientConditions, type Logger, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeServer, HAVE_CHROMIUM, HOW, IN_CI, launchChromium, runPage, serve } from './harness.js';
import {
  type IntMatrix,
  kernelOperands,
  lossCheck,
  lossOperands,
  matmulOperands,
  type PageResult,
  trainModel,
} from './workload.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`Browser test skipped (examples/browser): ${HOW}.`);

/** Makes WebAssembly compilation fail before any page script runs, as a strict Content Security Policy does. */
const BREAK_WASM = `{
  const Refused = WebAssembly.CompileError;
  WebAssembly.Module = function Module() { throw new Refused('WebAssembly disabled by browser.test.ts'); };
}`;

/** C = A·B by the textbook triple loop. */
function product(a: IntMatrix, b: IntMatrix): number[] {
  const c: number[] = [];
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k]! * b.data[k * b.cols + j]!;
      c.push(s);
    }
  }
  return c;
}

const MATMUL = matmulOperands();
const EXPECTED_MATMUL = product(MATMUL.a, MATMUL.b);
const KERNEL = kernelOperands();
const EXPECTED_KERNEL = product(
  { rows: KERNEL.a.length, cols: KERNEL.b.length, data: KERNEL.a.flat() },
  { rows: KERNEL.b.length, cols: KERNEL.b[0]!.length, data: KERNEL.b.flat() },
);

/** The loss section on Node's cpu backend: the browser's cpu backend must compute exactly this. */
const nodeLoss = await lossCheck().then((l) => (l.cpu.status === 'ran' ? l.cpu.values : []));

interface Bundle {
  dir: string;
  moduleIds: string[];
  warnings: string[];
}

/** Bundles index.html + main.ts for the browser into `dir`, collecting Vite's warnings. */
async function bundle(dir: string): Promise<Bundle> {
  const warnings: string[] = [];
  const base = createLogger('warn', { allowClearScreen: false });
  const logger: Logger = {
    ...base,
    warn: (msg) => warnings.push(msg),
    warnOnce: (msg) => warnings.push(msg),
  };
  const out = await build({
    root: HERE,
    configFile: false,
    envDir: false,
    mode: 'production',
    logLevel: 'warn',
    customLogger: logger,
    resolve: { conditions: ['source', ...defaultClientConditions] },
    build: { outDir: dir, emptyOutDir: true, reportCompressedSize: false },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as Rolldown.RolldownOutput[];
  const moduleIds = outputs.flatMap((o) => o.output.flatMap((c) => (c.type === 'chunk' ? c.moduleIds : [])));
  return { dir, moduleIds, warnings };
}

/** Fails with the page's error and stack, if it reported one. */
function expectNoError(r: PageResult): void {
  if (r.error !== null) {
    throw new Error(`the page failed: ${r.error.name}: ${r.error.message}\n${r.error.stack}`);
  }
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('gradkit in Chromium', () => {
  let tmp = '';
  let built: Bundle;
  let server: Server | undefined;
  let origin = '';
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM)
      throw new Error(`CI=true requires the browser test: ${HOW} (.ci/run does this as root)`);
    tmp = await mkdtemp(join(tmpdir(), 'gradkit-browser-'));
    built = await bundle(join(tmp, 'dist'));
    ({ server, origin } = await serve(built.dir));
    context = await launchChromium(join(tmp, 'profile'));
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await closeServer(server);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  test('the bundle holds no Node-only module and Vite does not warn', () => {
    const nodeOnly = built.moduleIds.filter((id) =>
      /^node:|__vite-browser-external|[\\/]node_modules[\\/](\.pnpm[\\/])?webgpu[@\\/]/.test(id),
    );
    expect(nodeOnly).toEqual([]);
    const ids = built.moduleIds.map((id) => id.split(sep).join('/'));
    // The module that lazily imports the `webgpu` package for Node is bundled (its import is left dormant) …
    expect(ids.filter((id) => id.endsWith('/packages/kernels/src/gpu/webgpu.ts'))).toHaveLength(1);
    // … and so is the module installing Tensor's methods, which only a side-effect import reaches.
    expect(ids).toContainEqual(expect.stringMatching(/\/packages\/autograd\/src\/tensor\/methods\.ts$/));
    expect(built.warnings).toEqual([]);
  });

  test('trains an MLP, multiplies on WebAssembly SIMD, and runs a cpu kernel', async () => {
    const r = await runPage<PageResult>(context!, `${origin}/`);
    expectNoError(r);
    expect(r.userAgent).toMatch(/Chrom/);

    // Training: the loss goes down, and the browser computes what Node computes.
    const t = r.training!;
    expect(t.lossAfter).toBeLessThan(0.8 * t.lossBefore);
    expect(t.accuracy).toBeGreaterThan(0.7);
    const node = trainModel();
    expect(t.losses).toHaveLength(node.losses.length);
    const drift = Math.max(...t.losses.map((l, i) => Math.abs(l - node.losses[i]!)));
    expect(drift).toBeLessThanOrEqual(1e-9);

    const m = r.matmul!;
    expect(m.kernel).toBe('wasm');
    expect(m.shape).toEqual([MATMUL.a.rows, MATMUL.b.cols]);
    expect(m.float32).toEqual(EXPECTED_MATMUL);
    expect(m.float64).toEqual(EXPECTED_MATMUL);
    expect(m.jsFloat32).toEqual(EXPECTED_MATMUL);
    expect(m.jsFloat64).toEqual(EXPECTED_MATMUL);

    const k = r.kernels!;
    expect(k.cpu).toEqual({ status: 'ran', values: EXPECTED_KERNEL });
    if (k.webgpu.status === 'ran') expect(k.webgpu.values).toEqual(EXPECTED_KERNEL);
    else expect(k.webgpu.reason).not.toBe('');
  }, 90_000);

  test('WebGPU (SwiftShader): a GPU.js kernel, a createElementwise loss and device-resident training match the cpu', async () => {
    const r = await runPage<PageResult>(context!, `${origin}/`);
    expectNoError(r);
    const k = r.kernels!;
    expect(k.navigatorGpu).toBe(true);
    // Never a skip: Chromium runs with --enable-unsafe-webgpu, which gives SwiftShader's adapter.
    expect(k.webgpu).toEqual({ status: 'ran', values: EXPECTED_KERNEL });

    const l = r.loss!;
    expect(l.webgpu.status).toBe('ran');
    expect(l.cpu.status).toBe('ran');
    const gpu = (l.webgpu as { values: number[] }).values;
    const cpu = (l.cpu as { values: number[] }).values;
    expect(gpu).toHaveLength(2 * lossOperands().z.length);
    expect(cpu).toEqual(nodeLoss);
    // float32 tolerance: WGSL's exp / log1p are not correctly rounded.
    const bad = gpu.findIndex((g, i) => !(Math.abs(g - cpu[i]!) <= 1e-5 + 1e-5 * Math.abs(cpu[i]!)));
    expect(bad, `element ${bad}: webgpu ${gpu[bad]} vs cpu ${cpu[bad]}`).toBe(-1);

    // Device-resident training: every tensor on WebGPU, the float32 loss curve of the cpu within float32
    // rounding (the curves agree to ~1e-7 in Node on lavapipe), the same final accuracy.
    const t = r.deviceTraining!;
    expect(t.webgpu.status).toBe('ran');
    const dev = (t.webgpu as { result: { losses: number[]; accuracy: number } }).result;
    expect(dev.losses).toHaveLength(t.cpu.losses.length);
    const drift = Math.max(...dev.losses.map((l, i) => Math.abs(l - t.cpu.losses[i]!)));
    expect(drift).toBeLessThanOrEqual(1e-5);
    expect(dev.accuracy).toBe(t.cpu.accuracy);
    expect(t.cpu.lossAfter).toBeLessThan(0.8 * t.cpu.lossBefore);
  }, 90_000);

  test('matmul falls back to its JavaScript kernel when WebAssembly cannot compile', async () => {
    const r = await runPage<PageResult>(context!, `${origin}/`, BREAK_WASM);
    expectNoError(r);
    expect(r.matmul!.kernel).toBe('js');
    expect(r.matmul!.float32).toEqual(EXPECTED_MATMUL);
    expect(r.matmul!.float64).toEqual(EXPECTED_MATMUL);
    expect(r.training!.lossAfter).toBeLessThan(r.training!.lossBefore);
    expect(r.kernels!.cpu).toEqual({ status: 'ran', values: EXPECTED_KERNEL });
  }, 90_000);
});
