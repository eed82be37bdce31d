/**
 * Square float32 matmul at 64/128/256/512: gradkit against TensorFlow.js (cpu, wasm) and jax-js (wasm, jit),
 * in GFLOP/s (2·n³ flops per product). Every implementation reads its product back as a Float32Array.
 */
import { fromArray, Generator, matmul } from '@gradkit/autograd';
import { jit, numpy as np } from '@jax-js/jax';
import { type BenchConfig, maxAbsDiff, randomData, sink } from './common.js';
import { measureInterleaved } from './harness.js';
import { tf, useTf } from './peers.js';
import { type Measured, type Row, row } from './report.js';

/** The sizes measured. */
export const MATMUL_SIZES = [64, 128, 256, 512] as const;

/** Runs the matmul cases. */
export async function benchMatmul(
  cfg: BenchConfig,
  sizes: readonly number[] = MATMUL_SIZES,
): Promise<{ rows: Row[]; checks: Record<string, number> }> {
  const rows: Row[] = [];
  const checks: Record<string, number> = {};
  const jmm = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
  for (const n of sizes) {
    const gen = new Generator(n);
    const aData = randomData(gen, n * n);
    const bData = randomData(gen, n * n);
    const a = fromArray(aData, [n, n]);
    const b = fromArray(bData, [n, n]);
    const gflops = (ms: number) => (2 * n ** 3) / (ms * 1e6);
    const time = (cases: ReadonlyArray<[string, () => void]>): Measured[] =>
      measureInterleaved(
        cases.map(([impl, fn]) => ({ name: `matmul ${n} ${impl}`, fn })),
        cfg.timing,
      ).map((timing, i) => ({ impl: cases[i]![0], value: gflops(timing.medianMs), timing }));
    const ours = matmul(a, b).data;
    const gradkitCase: [string, () => void] = ['gradkit', () => sink(matmul(a, b).data[0]!)];
    const size = `${n}³`;
    // Each peer is timed in alternation with gradkit (pooled rounds), so a change in machine load hits
    // both sides of every ratio alike; gradkit's figure is therefore per row.
    const versus = (peerCase: [string, () => void]) => {
      const [mine, peer] = time([gradkitCase, peerCase]) as [Measured, Measured];
      rows.push(row('matmul f32', size, 'GFLOP/s', mine, peer));
    };
    for (const backend of ['cpu', 'wasm'] as const) {
      await useTf(backend);
      const ta = tf.tensor2d(aData, [n, n]);
      const tb = tf.tensor2d(bData, [n, n]);
      const ref = tf.matMul(ta, tb);
      checks[`matmul ${n} |gradkit - tfjs-${backend}|`] = maxAbsDiff(ours, ref.dataSync());
      ref.dispose();
      versus([
        `tfjs-${backend}`,
        () => {
          const r = tf.matMul(ta, tb);
          sink(r.dataSync()[0]!);
          r.dispose();
        },
      ]);
      tf.dispose([ta, tb]);
    }
    const ja = np.array(aData).reshape([n, n]);
    const jb = np.array(bData).reshape([n, n]);
    checks[`matmul ${n} |gradkit - jax-js|`] = maxAbsDiff(ours, jmm(ja.ref, jb.ref).dataSync());
    versus(['jax-js-wasm', () => sink(jmm(ja.ref, jb.ref).dataSync()[0]!)]);
    ja.dispose();
    jb.dispose();
  }
  jmm.dispose();
  return { rows, checks };
}
