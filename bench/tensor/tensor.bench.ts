/**
 * The tensor-engine benchmark (issue 3): matmul GFLOP/s, fused vs unfused 10-op elementwise chains, and an
 * MLP training step, gradkit against TensorFlow.js (cpu and wasm backends) and jax-js (wasm), all in this one
 * process. Prints one table (op, size, gradkit, peer, ratio = gradkit's speedup) and writes it as JSON to
 * bench/results/. The issue's targets are reported, never asserted. Every ratio comes from a pair timed in
 * alternating rounds, so gradkit's figure is measured again for each peer. About 3-4.5 minutes on 2 cores.
 * gradkit runs on one thread (`setNumThreads(1)`; issue 10's targets are single-threaded, like jax-js's wasm
 * backend); `--threads N` lets its WebAssembly kernels split large runs over N threads instead.
 *
 * Usage: pnpm bench tensor [-- OPTIONS], or tsx --conditions=source bench/tensor/tensor.bench.ts [OPTIONS]
 *   --only matmul,chain,mlp   a subset of the parts
 *   --quick                   0.5 s per case instead of 1.5 s (about a minute)
 *   --max-time SECONDS        benchmark.js time per case
 *   --sizes 64,128,256,512    matmul sizes
 *   --threads N               threads for gradkit's WebAssembly elementwise kernels (default 1)
 */
import { parseArgs } from 'node:util';
import { getNumThreads, setNumThreads } from '@gradkit/kernels';
import { benchChain, CHAINS } from './chain.js';
import { type BenchConfig, sunkTotal } from './common.js';
import { benchMatmul, MATMUL_SIZES } from './matmul.js';
import { benchMlp } from './mlp.js';
import { setupPeers } from './peers.js';
import { formatTable, formatTargets, type Row, target, writeResults } from './report.js';

const PARTS = ['matmul', 'chain', 'mlp'] as const;
type Part = (typeof PARTS)[number];

/** The command line, checked before anything starts. */
function options(): { cfg: BenchConfig; only: Part[]; sizes: number[]; threads: number } {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'max-time': { type: 'string' },
      sizes: { type: 'string' },
      threads: { type: 'string' },
    },
    allowPositionals: false,
  });
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...PARTS]) as Part[];
  const bad = only.filter((p) => !PARTS.includes(p));
  if (bad.length > 0)
    throw new Error(`--only: unknown part(s) ${bad.join(', ')} (expected some of ${PARTS.join(', ')})`);
  const maxTime = values['max-time'] !== undefined ? Number(values['max-time']) : values.quick ? 0.5 : 1.5;
  if (!(maxTime > 0))
    throw new Error(`--max-time must be a positive number of seconds, got ${values['max-time']}`);
  const sizes = values.sizes?.split(',').map(Number) ?? [...MATMUL_SIZES];
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--sizes must be positive integers, got ${values.sizes}`);
  const threads = values.threads !== undefined ? Number(values.threads) : 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new Error(`--threads must be an integer in [1, 64], got ${values.threads}`);
  return { cfg: { timing: { maxTime, minSamples: values.quick ? 3 : 5 } }, only, sizes, threads };
}

async function main(): Promise<void> {
  const { cfg, only, sizes, threads } = options();
  setNumThreads(threads);
  const started = performance.now();
  const peerInfo = await setupPeers();
  const rows: Row[] = [];
  const checks: Record<string, number> = {};
  let losses: Record<string, number[]> = {};

  const progress = (msg: string) =>
    process.stderr.write(`[tensor bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  progress(`gradkit's WebAssembly kernels on ${getNumThreads()} thread(s)`);

  if (only.includes('matmul')) {
    progress(`matmul ${sizes.join('/')}`);
    const r = await benchMatmul(cfg, sizes);
    rows.push(...r.rows);
    Object.assign(checks, r.checks);
  }
  if (only.includes('chain')) {
    progress('elementwise chain');
    const r = await benchChain(cfg);
    rows.push(...r.rows);
    Object.assign(checks, r.checks);
  }
  if (only.includes('mlp')) {
    progress('mlp step');
    const r = await benchMlp(cfg);
    rows.push(...r.rows);
    Object.assign(checks, r.checks);
    losses = r.losses;
  }

  const targets = [
    target(
      rows,
      'matmul 256³ f32 GFLOP/s vs tfjs-cpu',
      2,
      (r) => r.op === 'matmul f32' && r.size === '256³' && r.peer.impl === 'tfjs-cpu',
    ),
    ...Object.keys(CHAINS).flatMap((name) =>
      ['fwd', 'fwd+bwd'].map((mode) =>
        target(
          rows,
          `chain10 ${name} ${mode} fused vs unfused`,
          3,
          (r) => r.op === `chain10 ${name} ${mode}` && r.peer.impl === 'gradkit unfused',
        ),
      ),
    ),
  ];

  console.log(
    '\nTensor engine benchmark (medians; ratio = gradkit speedup over the peer, >1 = gradkit faster)\n',
  );
  console.log(formatTable(rows));
  console.log();
  console.log(formatTargets(targets));
  console.log('\nchecks (max abs differences):');
  for (const [k, v] of Object.entries(checks)) console.log(`  ${k}: ${v.toExponential(2)}`);
  const seconds = (performance.now() - started) / 1000;
  const file = writeResults('tensor', {
    config: cfg,
    peers: peerInfo,
    rows,
    targets,
    checks,
    losses,
    seconds,
  });
  console.log(
    `\n${rows.length} rows in ${seconds.toFixed(0)} s; written to ${file} (sink ${sunkTotal().toPrecision(3)})`,
  );
}

// Errors are printed here and the process exits: tfjs-wasm's Emscripten glue rethrows uncaught errors
// together with a screenful of minified source.
main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
