import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What {@link measureHeapGrowth} measured. */
export interface HeapGrowth {
  /** Heap used (bytes) after the script's warm-up, after full collections. */
  readonly before: number;
  /** Heap used (bytes) after the script's `run`, after full collections. */
  readonly after: number;
  /** `after - before`, in bytes. */
  readonly growth: number;
  /** Whatever the script's `run` returned (JSON), e.g. counters to assert on. */
  readonly details: unknown;
}

/** Options of {@link measureHeapGrowth}. */
export interface HeapGrowthOptions {
  /** Kill the child after this many milliseconds (default 120,000). */
  readonly timeoutMs?: number;
  /** Working directory of the child (default: the repository root inside the gradkit repository, else the current directory). */
  readonly cwd?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** True when running from the monorepo's sources (the runner is a .ts file next to this one). */
const inRepository = existsSync(resolve(here, 'heap-runner.ts'));
const repoRoot = resolve(here, '../../..');

/** The `--import` argument that loads tsx, or null when tsx is not installed. */
function tsxLoader(): string | null {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return null;
  }
}

/**
 * Runs a heap script in its own Node process and reports how much the heap grew across its `run`. In the
 * gradkit repository the child runs `node --expose-gc --import tsx --conditions=source`, so it imports the
 * `@gradkit/*` sources directly; from an installed @gradkit/testing it runs plain `node --expose-gc`, adding
 * `--import tsx` when tsx is installed (needed for a TypeScript script only).
 *
 * The script is a TypeScript or JavaScript module exporting `run()` (sync or async; what it returns comes back
 * as `details`) and optionally `warmup()`, called first so that lazily built tables and JIT state do not count.
 * The heap is measured after full collections (repeated until it stops shrinking, with ticks in between so
 * FinalizationRegistry callbacks run) before and after `run`. Use it for "memory stays flat" tests:
 * `expect((await measureHeapGrowth(path)).growth).toBeLessThan(5 * 2 ** 20)`.
 *
 * @param script - path of the script (absolute, or relative to `options.cwd`)
 * @throws Error when the child fails or prints no measurement, or when a TypeScript script needs tsx and tsx is
 *   not installed
 */
export function measureHeapGrowth(script: string, options: HeapGrowthOptions = {}): Promise<HeapGrowth> {
  const cwd = options.cwd ?? (inRepository ? repoRoot : process.cwd());
  const runner = resolve(here, inRepository ? 'heap-runner.ts' : 'heap-runner.js');
  const tsx = tsxLoader();
  if (tsx === null && (inRepository || /\.[cm]?tsx?$/.test(script))) {
    return Promise.reject(
      new Error(`measureHeapGrowth(${script}): a TypeScript script needs tsx; install it (npm i -D tsx)`),
    );
  }
  const loader = tsx === null ? [] : ['--import', tsx];
  const conditions = inRepository ? ['--conditions=source'] : [];
  const args = ['--expose-gc', ...loader, ...conditions, runner, resolve(cwd, script)];
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      args,
      { cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error !== null) {
          fail(new Error(`measureHeapGrowth(${script}) failed: ${error.message}\n${stderr}`));
          return;
        }
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const parsed = JSON.parse(line) as { before: number; after: number; details: unknown };
          done({ ...parsed, growth: parsed.after - parsed.before });
        } catch {
          fail(new Error(`measureHeapGrowth(${script}): no measurement in the output\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}
