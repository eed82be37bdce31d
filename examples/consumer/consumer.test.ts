/**
 * gradkit as its users get it: builds the packages (`tsc -b`, what `pnpm build` runs), packs them with
 * `pnpm pack` (workspace versions and `publishConfig` applied, as on publish), installs the tarballs with npm
 * into a throwaway project outside the workspace (third-party dependencies from the registry or npm's cache),
 * and there
 *
 * - runs a plain Node ESM script (no tsx, no export conditions) that imports every package, trains a small
 *   MLP with Adam on a custom loss made with `defineModulatedLoss`, gradchecks it and runs a cpu kernel;
 * - type-checks a TypeScript file against the published `.d.ts` files with `tsc --noEmit` (strict,
 *   `skipLibCheck: false`), with `moduleResolution` `bundler` and `node16`;
 * - bundles the same workload into a page with Vite and runs it in Chromium (skipped without Chromium,
 *   except under `CI=true`, like examples/browser).
 *
 * It also checks each tarball's contents, and runs `inside.ts` with plain `tsx` from the repository root, as
 * the README's "Using gradkit from your own code" says.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, createLogger, type Logger } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  closeServer,
  HAVE_CHROMIUM,
  HOW,
  IN_CI,
  launchChromium,
  runPage,
  serve,
} from '../browser/harness.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const PACKAGES = ['kernels', 'autograd', 'losses', 'nn', 'testing'] as const;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`Consumer browser check skipped (examples/consumer): ${HOW}.`);

/** What workload.mjs returns. */
interface Summary {
  packages: Record<(typeof PACKAGES)[number], string>;
  training: { first: number; last: number; accuracy: number };
  gradcheck: boolean;
  kernel: number[];
}

/** Runs a command; on failure, the error carries its stdout and stderr. */
async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, CI: '' },
    });
    return stdout;
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

/** Lists a tarball's files, without the `package/` prefix. */
async function tarList(file: string): Promise<string[]> {
  return (await sh('tar', ['-tzf', file], ROOT))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^package\//, ''));
}

/** The workload's checks, shared by the Node and the browser runs. */
function expectWorkload(s: Summary): void {
  expect(s.packages).toEqual({
    kernels: 'function',
    autograd: 'function',
    losses: 'function',
    nn: 'function',
    testing: 'function',
  });
  expect(s.training.last).toBeLessThan(0.2 * s.training.first);
  expect(s.training.accuracy).toBeGreaterThanOrEqual(0.95);
  expect(s.gradcheck).toBe(true);
  expect(s.kernel).toEqual([6, 13, 22, 33]);
}

/** The throwaway project, with the tarballs installed: made once, by the first block that needs it. */
interface Consumer {
  tmp: string;
  app: string;
  tarballs: Map<string, string>;
}

let made: Promise<Consumer> | undefined;
let tmpToRemove = '';

/** Builds, packs and installs (see the file's comment). */
async function makeConsumer(): Promise<Consumer> {
  const tmp = await mkdtemp(join(tmpdir(), 'gradkit-consumer-'));
  tmpToRemove = tmp;
  await sh(process.execPath, [TSC, '-b', ...PACKAGES.map((p) => `packages/${p}`)], ROOT);
  const packed = join(tmp, 'tarballs');
  await sh('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', packed], ROOT);
  const version = JSON.parse(
    await readFile(join(ROOT, 'packages', 'kernels', 'package.json'), 'utf8'),
  ).version;
  const tarballs = new Map(PACKAGES.map((p) => [p, join(packed, `gradkit-${p}-${version}.tgz`)]));
  expect((await readdir(packed)).sort()).toEqual(PACKAGES.map((p) => `gradkit-${p}-${version}.tgz`).sort());

  const app = join(tmp, 'app');
  await mkdir(app);
  await cp(join(HERE, 'project'), app, { recursive: true });
  const deps = Object.fromEntries(PACKAGES.map((p) => [`@gradkit/${p}`, `file:${tarballs.get(p)}`]));
  const manifest = {
    name: 'gradkit-consumer',
    private: true,
    type: 'module',
    dependencies: deps,
    overrides: deps,
  };
  await writeFile(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Optional dependencies (the `webgpu` package for Node) are left out: the checks use the cpu backend.
  await sh(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', '--loglevel=error'],
    app,
  );
  return { tmp, app, tarballs };
}

/** The project, made on first use. */
function consumer(): Promise<Consumer> {
  made ??= makeConsumer();
  return made;
}

afterAll(async () => {
  if (tmpToRemove) await rm(tmpToRemove, { recursive: true, force: true });
});

describe('gradkit installed from packed tarballs', () => {
  let app = '';
  let tarballs = new Map<string, string>();

  beforeAll(async () => {
    ({ app, tarballs } = await consumer());
  }, 300_000);

  test('each tarball holds the build, sources, README, CHANGELOG and LICENSE, and nothing else', async () => {
    const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Copyright (c) 2026 the gradkit authors');
    for (const [p, file] of tarballs) {
      const files = await tarList(file);
      const stray = files.filter(
        (f) =>
          !/^(dist\/.+\.(js|d\.ts)(\.map)?|src\/.+\.ts|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(
            f,
          ),
      );
      expect(stray, p).toEqual([]);
      for (const f of ['dist/index.js', 'dist/index.js.map', 'dist/index.d.ts', 'dist/index.d.ts.map'])
        expect(files, p).toContain(f);
      for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) expect(files, p).toContain(f);
      expect(
        files.filter((f) => /\.test\.ts$|fixtures|golden/.test(f)),
        p,
      ).toEqual([]);
      // Every built module ships with its declarations and both maps.
      for (const js of files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'))) {
        const base = js.slice(0, -3);
        expect(files, js).toEqual(
          expect.arrayContaining([`${base}.js.map`, `${base}.d.ts`, `${base}.d.ts.map`]),
        );
      }

      const installed = join(app, 'node_modules', '@gradkit', p);
      expect(await readFile(join(installed, 'LICENSE'), 'utf8'), p).toBe(license);
      const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
      expect(pkg.exports['.'], p).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
      expect(pkg, p).toMatchObject({ license: 'MIT', type: 'module', engines: { node: '>=20' } });
      expect(pkg.repository, p).toMatchObject({ type: 'git', directory: `packages/${p}` });
      expect(JSON.stringify(pkg.dependencies ?? {}), p).not.toContain('workspace:');
    }
  });

  test('plain Node imports every package, trains with a custom loss, runs a cpu kernel and measureHeapGrowth', async () => {
    const out = JSON.parse(await sh(process.execPath, ['main.mjs'], app)) as Summary & { heap: unknown };
    expectWorkload(out);
    expect(out.heap).toEqual({ details: { total: 5250 }, growth: 'number' });
  });

  test.each(['bundler', 'node16'])(
    'the published .d.ts type-check (moduleResolution %s, strict)',
    async (mode) => {
      await sh(process.execPath, [TSC, '-p', `tsconfig.${mode}.json`], app);
    },
  );
});

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the packed packages in Chromium, bundled by Vite', () => {
  let app = '';
  let tmp = '';
  let server: Server | undefined;
  let origin = '';
  let context: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const warnings: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM)
      throw new Error(`CI=true requires the browser check: ${HOW} (.ci/run does this as root)`);
    ({ app, tmp } = await consumer());
    const base = createLogger('warn', { allowClearScreen: false });
    const logger: Logger = { ...base, warn: (m) => warnings.push(m), warnOnce: (m) => warnings.push(m) };
    const outDir = join(tmp, 'site');
    await build({
      root: app,
      configFile: false,
      envDir: false,
      mode: 'production',
      logLevel: 'warn',
      customLogger: logger,
      // The page imports every package as a namespace (nothing to tree-shake: kernels with acorn and the WASM
      // generator, nn with csv-parse, testing with fast-check), well over 500 kB minified; any other warning fails.
      build: { outDir, emptyOutDir: true, reportCompressedSize: false, chunkSizeWarningLimit: 1500 },
    });
    ({ server, origin } = await serve(outDir));
    context = await launchChromium(join(tmp, 'profile'));
  }, 400_000);

  afterAll(async () => {
    await context?.close();
    await closeServer(server);
  }, 30_000);

  test('the page runs the same workload as Node, and Vite does not warn', async () => {
    expect(warnings).toEqual([]);
    const page = await runPage<{ result: Summary | null; error: string | null }>(context!, `${origin}/`);
    expect(page.error).toBeNull();
    expectWorkload(page.result!);
    const node = JSON.parse(await sh(process.execPath, ['main.mjs'], app)) as Summary;
    expect(page.result!.training.first).toBeCloseTo(node.training.first, 9);
    expect(page.result!.training.last).toBeCloseTo(node.training.last, 9);
  }, 90_000);
});

test('inside the monorepo, plain tsx runs a script against the TypeScript sources', async () => {
  const out = await sh(process.execPath, [TSX, 'examples/consumer/inside.ts'], ROOT);
  const [first, ...stack] = out.split('\n');
  expect(first).toBe('[2,4,6]');
  expect(stack[0]).toMatch(/^ShapeError: fromArray: /);
  expect(stack.join('\n')).toMatch(/packages\/autograd\/src\/tensor\/\S+\.ts:\d+/);
  expect(stack.join('\n')).not.toMatch(/\/dist\//);
});
