import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

/**
 * Runs a heap script (test/heap/*.ts) in its own Node process with `--expose-gc`, from the repository root
 * (where tsx resolves), and returns the JSON object it prints on its last line.
 */
function runHeapScript(script: string, args: readonly string[] = []): Record<string, number> {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const path = fileURLToPath(new URL(`./heap/${script}`, import.meta.url));
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--conditions=source', path, ...args],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
}

const MB = 1024 * 1024;

test('20k distinct focal gammas leave the heap within 5 MB of where it started (one program for all)', () => {
  const r = runHeapScript('focal-gammas.ts', ['20000']);
  console.info(
    `focal, 20000 distinct gammas: heap ${(r.growth! / MB).toFixed(2)} MB growth; ` +
      `${(r.distinctMs! * 1000).toFixed(1)} µs CPU/call distinct vs ${(r.oneMs! * 1000).toFixed(1)} µs CPU/call one gamma`,
  );
  expect(r.n).toBe(20000);
  expect(r.growth!).toBeLessThan(5 * MB);
}, 300_000);
