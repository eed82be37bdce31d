/**
 * The browser tests' plumbing, shared by `browser.test.ts` and `examples/consumer/consumer.test.ts`: where
 * Chromium is, a static file server on 127.0.0.1, and a page runner that waits for the JSON a page leaves in
 * `window.__gradkitResult`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium, driven through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  // WebGPU on SwiftShader (Chromium's CPU Vulkan), so the WebGPU test runs headless without a GPU.
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Under `CI=true` a missing Chromium fails the browser tests instead of skipping them. */
export const IN_CI = process.env.CI === 'true';
/** How to get Chromium, for skip and failure messages. */
export const HOW = `${CHROMIUM} not found; to enable it, install Chromium as root: apt-get install chromium`;
/** Whether Chromium is installed. */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Starts headless Chromium with a fresh profile in `profileDir`. */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: FLAGS,
    timeout: 30_000,
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** Serves `dir` on 127.0.0.1 at an ephemeral port. */
export async function serve(dir: string): Promise<{ server: Server; origin: string }> {
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

/** What a test page publishes when it has finished. */
type PageWindow = Window & { __gradkitResult?: unknown };

/** Closes a server from {@link serve}, if there is one. */
export function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((done) => (server ? server.close(() => done()) : done()));
}

/**
 * Opens the page (after `initScript`, if any), waits for `window.__gradkitResult` and returns it, parsed from
 * JSON; page errors, console output and failed requests go into the failure's message.
 */
export async function runPage<T>(context: BrowserContext, url: string, initScript?: string): Promise<T> {
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
    // Both functions run in the page (serialized), so they cannot share a helper.
    await page.waitForFunction(() => (window as PageWindow).__gradkitResult !== undefined, undefined, {
      timeout: 60_000,
    });
    return JSON.parse(await page.evaluate(() => JSON.stringify((window as PageWindow).__gradkitResult))) as T;
  } catch (e) {
    throw new Error(`${(e as Error).message}\npage log:\n${log.join('\n') || '(empty)'}`);
  } finally {
    await page.close();
  }
}
