/**
 * Runs the benchmarks: every `bench/<area>/<name>.bench.ts`, one after another, each in its own process (so
 * one library's global state, a failure or a crash stays with its benchmark), or only those named.
 *
 * Usage: pnpm bench [NAME ...] [--list] [-- ARGS...]
 *   NAME    an area folder (e.g. `tensor`) or a file's name without `.bench.ts`; several may be given
 *   --list  print the benchmarks found and exit
 *   ARGS    passed on to every benchmark run (e.g. `pnpm bench tensor -- --quick`)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.dirname(benchDir);
const SUFFIX = '.bench.ts';

interface BenchFile {
  area: string;
  name: string;
  file: string;
}

/** Every bench/<area>/<name>.bench.ts, sorted by area then name. */
function discover(): BenchFile[] {
  const found: BenchFile[] = [];
  for (const area of readdirSync(benchDir, { withFileTypes: true })) {
    if (!area.isDirectory() || area.name === 'node_modules' || area.name === 'results') continue;
    for (const f of readdirSync(path.join(benchDir, area.name), { withFileTypes: true })) {
      if (!f.isFile() || !f.name.endsWith(SUFFIX)) continue;
      found.push({
        area: area.name,
        name: f.name.slice(0, -SUFFIX.length),
        file: path.join(benchDir, area.name, f.name),
      });
    }
  }
  return found.sort((a, b) => a.area.localeCompare(b.area) || a.name.localeCompare(b.name));
}

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes < 0 ? argv : argv.slice(0, dashes);
const passOn = dashes < 0 ? [] : argv.slice(dashes + 1);
function parse() {
  try {
    return parseArgs({
      args: own,
      options: { list: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(
      `${(e as Error).message}\nusage: pnpm bench [NAME ...] [--list] [-- ARGS for each benchmark]`,
    );
    process.exit(2);
  }
}
const { values, positionals } = parse();

const all = discover();
const label = (b: BenchFile) => `${b.area}/${b.name}`;
if (values.list) {
  for (const b of all) console.log(label(b));
  process.exit(0);
}
const unknown = positionals.filter((n) => !all.some((b) => b.area === n || b.name === n || label(b) === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; found: ${all.map(label).join(', ') || 'none'}`);
  process.exit(2);
}
const selected =
  positionals.length === 0
    ? all
    : all.filter((b) => positionals.some((n) => b.area === n || b.name === n || label(b) === n));
if (selected.length === 0) {
  console.error('no benchmarks found (bench/<area>/<name>.bench.ts)');
  process.exit(2);
}

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const failed: string[] = [];
for (const b of selected) {
  console.log(`\n=== ${label(b)} ===`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [tsxCli, '--conditions=source', b.file, ...passOn], {
    cwd: rootDir,
    stdio: 'inherit',
  });
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed.push(label(b));
    console.error(
      `=== ${label(b)} failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : `exit ${r.status}`)}) after ${secs} s ===`,
    );
  } else {
    console.log(`=== ${label(b)} done in ${secs} s ===`);
  }
}
if (failed.length > 0) {
  console.error(`\n${failed.length} of ${selected.length} benchmark(s) failed: ${failed.join(', ')}`);
  process.exit(1);
}
