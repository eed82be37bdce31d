/**
 * End to end in a real browser: bundles this folder's page with Vite (from the packages' TypeScript sources,
 * through the `source` export condition), serves it on 127.0.0.1, opens it in Debian's Chromium through
 * playwright-core, and checks the JSON the page leaves in `window.__gradkitResult`.
 *
 * Without /usr/bin/chromium the test is skipped with one line saying how to install it, except under
 * `CI=true`, where it fails.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { build, createLogger, defaultClientConditions, type Logger, type Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type IntMatrix, kernelOperands, matmulOperands, type PageResult, trainModel } from './workload.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HERE = fileURLToPath(new URL('.', import.meta.url));
const IN_CI = process.env.CI === 'true';
const HOW = `${CHROMIUM} not found; to enable it, install Chromium as root: apt-get install chromium`;
const HAVE_CHROMIUM = existsSync(CHROMIUM);
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

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** Serves `dir` on 127.0.0.1 at an ephemeral port. */
async function serve(dir: string): Promise<{ server: Server; origin: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Opens the page (after `initScript`, if any) and returns its result; page errors go into the failure. */
async function runPage(context: BrowserContext, url: string, initScript?: string): Promise<PageResult> {
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`page error: ${e.stack ?? e.message}`));
  page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (!r.ok()) log.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  try {
    if (initScript !== undefined) await page.addInitScript(initScript);
    await page.goto(url, { timeout: 30_000 });
    await page.waitForFunction(() => window.__gradkitResult !== undefined, undefined, { timeout: 60_000 });
    return JSON.parse(await page.evaluate(() => JSON.stringify(window.__gradkitResult))) as PageResult;
  } catch (e) {
    throw new Error(`${(e as Error).message}\npage log:\n${log.join('\n') || '(empty)'}`);
  } finally {
    await page.close();
  }
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
    context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: FLAGS,
      timeout: 30_000,
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
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
    const r = await runPage(context!, `${origin}/`);
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

  test('matmul falls back to its JavaScript kernel when WebAssembly cannot compile', async () => {
    const r = await runPage(context!, `${origin}/`, BREAK_WASM);
    expectNoError(r);
    expect(r.matmul!.kernel).toBe('js');
    expect(r.matmul!.float32).toEqual(EXPECTED_MATMUL);
    expect(r.matmul!.float64).toEqual(EXPECTED_MATMUL);
    expect(r.training!.lossAfter).toBeLessThan(r.training!.lossBefore);
    expect(r.kernels!.cpu).toEqual({ status: 'ran', values: EXPECTED_KERNEL });
  }, 90_000);
});
