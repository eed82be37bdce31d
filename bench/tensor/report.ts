/**
 * The results table: one row per (op, size, peer) with gradkit's figure, the peer's, and gradkit's speedup
 * over the peer; printed as text and written as JSON to bench/results/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from './harness.js';

/** One measured implementation. */
export interface Measured {
  /** Who ran it, e.g. `gradkit`, `gradkit unfused`, `tfjs-cpu`, `tfjs-wasm`, `jax-js-wasm`. */
  impl: string;
  /** The figure in the row's unit (GFLOP/s, or ms per call). */
  value: number;
  /** The raw timing behind it. */
  timing: Timing;
}

/** One line of the table. */
export interface Row {
  /** The operation, e.g. `matmul f32`, `chain fwd`, `mlp step`. */
  op: string;
  /** The problem size, e.g. `256³`. */
  size: string;
  /** The unit of `gradkit.value` and `peer.value`. */
  unit: 'GFLOP/s' | 'ms';
  gradkit: Measured;
  peer: Measured;
  /** gradkit's speedup over the peer: above 1 means gradkit is faster. */
  ratio: number;
}

/** A target from the issue, judged on the measured rows (reported, never asserted). */
export interface Target {
  what: string;
  goal: number;
  ratio: number | null;
  met: boolean | null;
}

/** Builds a row; `ratio` follows from the unit (higher GFLOP/s is better, lower ms is better). */
export function row(op: string, size: string, unit: Row['unit'], gradkit: Measured, peer: Measured): Row {
  const ratio = unit === 'GFLOP/s' ? gradkit.value / peer.value : peer.value / gradkit.value;
  return { op, size, unit, gradkit, peer, ratio };
}

function fmtValue(m: Measured, unit: Row['unit']): string {
  const digits = m.value >= 100 ? 0 : m.value >= 10 ? 1 : 2;
  return `${m.impl} ${m.value.toFixed(digits)} ${unit}`;
}

/** The table as aligned text. */
export function formatTable(rows: readonly Row[]): string {
  const cells = [
    ['op', 'size', 'gradkit', 'peer', 'ratio'],
    ...rows.map((r) => [
      r.op,
      r.size,
      fmtValue(r.gradkit, r.unit),
      fmtValue(r.peer, r.unit),
      `${r.ratio.toFixed(2)}x`,
    ]),
  ];
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((c) => c[j]!.length)));
  const line = (c: string[]) =>
    c.map((s, j) => (j === 4 ? s.padStart(widths[j]!) : s.padEnd(widths[j]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** The targets' lines. */
export function formatTargets(targets: readonly Target[]): string {
  return targets
    .map((t) => {
      const got = t.ratio === null ? 'not measured' : `${t.ratio.toFixed(2)}x`;
      const verdict = t.met === null ? '' : t.met ? ' -> met' : ' -> NOT met';
      return `target: ${t.what} >= ${t.goal}x: ${got}${verdict}`;
    })
    .join('\n');
}

/** Judges a target on the row matching `op`/`size`/`peer`. */
export function target(rows: readonly Row[], what: string, goal: number, pick: (r: Row) => boolean): Target {
  const r = rows.find(pick);
  if (r === undefined) return { what, goal, ratio: null, met: null };
  return { what, goal, ratio: r.ratio, met: r.ratio >= goal };
}

/** The commit measured, and the source files that differed from it (the results describe those too). */
const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function gitState(): { commit: string; uncommitted: string[] } | Record<string, never> {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const uncommitted = git('status', '--porcelain', '--', 'packages')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.slice(3));
    return { commit: git('rev-parse', 'HEAD').trim(), uncommitted };
  } catch {
    return {};
  }
}

/** Writes the results as JSON under bench/results/ and returns the file's path. */
export function writeResults(name: string, payload: Record<string, unknown>): string {
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${name}-${stamp}.json`);
  const env = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    ...gitState(),
  };
  writeFileSync(
    file,
    `${JSON.stringify({ name, date: new Date().toISOString(), env, ...payload }, null, 2)}\n`,
  );
  return file;
}
