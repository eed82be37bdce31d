/**
 * The API reference: `pnpm run docs` (TypeDoc, typedoc.json) must write docs/api/index.html with no warning,
 * and TypeDoc's validation must really be on: an undocumented export or a broken `{@link}` in a package fails
 * the run (checked on a throwaway package, with the same options).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPEDOC = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** Runs TypeDoc; returns its exit code and its output without colours. */
async function typedoc(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TYPEDOC, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (e) {
    const { code, stdout = '', stderr = '' } = e as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, output: `${stdout}${stderr}` };
  }
}

/** Terminal colour codes. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const warnings = (output: string): string[] =>
  output
    .replace(ANSI, '')
    .split('\n')
    .filter((l) => /\[(warning|error)\]/.test(l));

let tmp = '';
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('pnpm run docs writes docs/api/index.html with no TypeDoc warning', async () => {
  const { code, output } = await typedoc([]);
  expect(warnings(output)).toEqual([]);
  expect(code).toBe(0);
  expect(existsSync(join(ROOT, 'docs', 'api', 'index.html'))).toBe(true);
}, 180_000);

/** Runs TypeDoc with the repository's options on a throwaway package whose index.ts is `source`. */
async function typedocOn(name: string, source: string): Promise<{ code: number; found: string }> {
  tmp ||= await mkdtemp(join(tmpdir(), 'gradkit-typedoc-'));
  const pkg = join(tmp, name);
  await mkdir(join(pkg, 'src'), { recursive: true });
  await writeFile(join(pkg, 'package.json'), `{ "name": "${name}", "version": "0.0.0", "type": "module" }\n`);
  await writeFile(
    join(pkg, 'tsconfig.json'),
    '{ "compilerOptions": { "strict": true, "module": "NodeNext", "target": "ES2022", "types": [] }, "include": ["src"] }\n',
  );
  await writeFile(join(pkg, 'src', 'index.ts'), source);
  const args = ['--entryPoints', pkg, '--out', join(tmp, `${name}-out`), '--readme', 'none'];
  const { code, output } = await typedoc(args);
  return { code, found: warnings(output).join('\n') };
}

test('an undocumented export fails the docs run', async () => {
  const { code, found } = await typedocOn(
    'undocumented',
    '/** Documented. */\nexport const documented = 1;\nexport function bare(x: number): number {\n  return x;\n}\n',
  );
  expect(found).toMatch(/bare.*does not have any documentation/);
  expect(code).not.toBe(0);
}, 180_000);

test('a broken {@link} fails the docs run', async () => {
  const { code, found } = await typedocOn(
    'broken-link',
    '/** Links to {@link nowhere}. */\nexport const documented = 1;\n',
  );
  expect(found).toMatch(/nowhere/);
  expect(code).not.toBe(0);
}, 180_000);
