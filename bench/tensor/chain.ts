/**
 * 10-op elementwise chains over 1e6 float32 elements: gradkit fused (`fuse`: one generated loop forward,
 * one backward) against the same chain as ten separate tensor ops, forward and forward+backward (the
 * backward seeded with an all-ones output gradient). The TensorFlow.js backends and jax-js (jit) run the
 * same chains beside them for reference.
 */
import {
  backward,
  fromArray,
  fuse,
  fuseInPlace,
  Generator,
  noGrad,
  type Storage,
  type Tensor,
  zeros,
} from '@gradkit/autograd';
import { setElementwiseBackend } from '@gradkit/kernels';
import { grad, jit, nn, numpy as np } from '@jax-js/jax';
import { type BenchConfig, maxAbsDiff, randomData, settle, sink } from './common.js';
import { measureInterleaved } from './harness.js';
import { tf, useTf } from './peers.js';
import { type Measured, type Row, row } from './report.js';

/** What a chain needs from its operands: both gradkit `Tensor`s and the symbolic `Value`s of `fuse`. */
interface Chainable<T> {
  add(other: T | number): T;
  sub(other: T | number): T;
  mul(other: T | number): T;
  sigmoid(): T;
  abs(): T;
  tanh(): T;
  exp(): T;
  relu(): T;
}

/** One 10-op chain written for every library (the jax-js form follows its ownership rules: `.ref` per reuse). */
interface Chain {
  /** gradkit, unfused on tensors or traced by `fuse`. */
  gradkit<T extends Chainable<T>>(x: T, y: T): T;
  tfjs(x: tf.Tensor, y: tf.Tensor): tf.Tensor;
  jax(x: np.Array, y: np.Array): np.Array;
}

/**
 * The chains. `arith` is ten cheap ops (the memory-bound case fusion exists for: one pass instead of ten, no
 * temporaries); `transc` has three transcendental ops (sigmoid, tanh, exp) whose evaluation dominates, so it
 * shows how much fusion can still save when the arithmetic is the cost.
 */
export const CHAINS: Record<'arith' | 'transc', Chain> = {
  // relu((|(x·y + 1)·x − y|·0.5 + y)·x − 0.25)
  arith: {
    gradkit: (x, y) => x.mul(y).add(1).mul(x).sub(y).abs().mul(0.5).add(y).mul(x).sub(0.25).relu(),
    tfjs: (x, y) => {
      const a = tf.sub(tf.mul(tf.add(tf.mul(x, y), 1), x), y);
      return tf.relu(tf.sub(tf.mul(tf.add(tf.mul(tf.abs(a), 0.5), y), x), 0.25));
    },
    jax: (x, y) => {
      const a = x.ref.mul(y.ref).add(1).mul(x.ref).sub(y.ref);
      return nn.relu(np.abs(a).mul(0.5).add(y).mul(x).sub(0.25));
    },
  },
  // exp(tanh(|sigmoid(x·y + 1) − x|·0.5 + y)·x)
  transc: {
    gradkit: (x, y) => x.mul(y).add(1).sigmoid().sub(x).abs().mul(0.5).add(y).tanh().mul(x).exp(),
    tfjs: (x, y) => {
      const a = tf.sigmoid(tf.add(tf.mul(x, y), 1));
      const b = tf.add(tf.mul(tf.abs(tf.sub(a, x)), 0.5), y);
      return tf.exp(tf.mul(tf.tanh(b), x));
    },
    jax: (x, y) => {
      const a = nn.sigmoid(x.ref.mul(y.ref).add(1)).sub(x.ref);
      return np.exp(np.tanh(np.abs(a).mul(0.5).add(y)).mul(x));
    },
  },
};

/** Runs `fn` on the JavaScript expression backend (gradkit's default for float32 is WebAssembly SIMD). */
function onJs(fn: () => void): () => void {
  return () => {
    setElementwiseBackend('js');
    try {
      fn();
    } finally {
      setElementwiseBackend('auto');
    }
  };
}

/** Runs the chain cases (each chain forward and forward+backward) and returns their rows plus checks. */
export async function benchChain(cfg: BenchConfig): Promise<{ rows: Row[]; checks: Record<string, number> }> {
  const n = 1_000_000;
  const size = '1e6 f32';
  const gen = new Generator(7);
  const xData = randomData(gen, n);
  const yData = randomData(gen, n);
  const dyData = new Float32Array(n).fill(1);
  const x = fromArray(xData, [n]);
  const y = fromArray(yData, [n]);
  const xg = fromArray(xData, [n], { requiresGrad: true });
  const yg = fromArray(yData, [n], { requiresGrad: true });
  const dy = fromArray(dyData, [n]);
  const checks: Record<string, number> = {};
  const rows: Row[] = [];
  /** The gradients of (x, y) for output gradient dy, read back; leaves .grad empty again. */
  const gradsOf = (f: (a: Tensor, b: Tensor) => Tensor): [Storage, Storage] => {
    backward(f(xg, yg), dy);
    const gs: [Storage, Storage] = [xg.grad!.data, yg.grad!.data];
    xg.grad = null;
    yg.grad = null;
    return gs;
  };
  // The timed forms: each reads one element and disposes what it created and holds — the output and the
  // gradients (explicit lifetimes, as TF.js's dispose and jax-js's ownership give theirs: the next call
  // reuses the same arena memory instead of fresh pages).
  const forwardOnce = (f: (a: Tensor, b: Tensor) => Tensor) => () => {
    const out = f(x, y);
    sink(out.data[0]!);
    out.dispose();
  };
  const stepOnce = (f: (a: Tensor, b: Tensor) => Tensor) => () => {
    const out = f(xg, yg);
    backward(out, dy);
    const gx = xg.grad!;
    const gy = yg.grad!;
    xg.grad = null;
    yg.grad = null;
    sink(gx.data[0]! + gy.data[0]!);
    for (const t of [out, gx, gy]) t.dispose();
  };

  for (const [name, c] of Object.entries(CHAINS)) {
    const label = `chain10 ${name}`;
    const fused = fuse((a, b) => c.gradkit(a, b), `chain10_${name}`);
    const unfused = (a: Tensor, b: Tensor) => c.gradkit(a, b);
    const ref = fused(x, y).data;
    checks[`${label} fwd |fused - unfused|`] = maxAbsDiff(ref, unfused(x, y).data);
    const [gfx, gfy] = gradsOf(fused);
    const [gux, guy] = gradsOf(unfused);
    checks[`${label} grad |fused - unfused|`] = Math.max(maxAbsDiff(gfx, gux), maxAbsDiff(gfy, guy));

    // The four gradkit cases are timed in alternating rounds, so load changes hit fused and unfused alike.
    await settle();
    const [fusedFwd, unfusedFwd, fusedBwd, unfusedBwd, jsFwd, jsBwd] = measureInterleaved(
      [
        { name: `${label} fwd gradkit fused`, fn: forwardOnce(fused) },
        { name: `${label} fwd gradkit unfused`, fn: forwardOnce(unfused) },
        { name: `${label} fwd+bwd gradkit fused`, fn: stepOnce(fused) },
        { name: `${label} fwd+bwd gradkit unfused`, fn: stepOnce(unfused) },
        { name: `${label} fwd gradkit fused, js backend`, fn: onJs(forwardOnce(fused)) },
        { name: `${label} fwd+bwd gradkit fused, js backend`, fn: onJs(stepOnce(fused)) },
      ],
      cfg.timing,
      3,
    ).map(
      (timing, i): Measured => ({
        impl: i >= 4 ? 'gradkit fused, js backend' : i % 2 === 0 ? 'gradkit fused' : 'gradkit unfused',
        value: timing.medianMs,
        timing,
      }),
    ) as [Measured, Measured, Measured, Measured, Measured, Measured];
    rows.push(row(`${label} fwd`, size, 'ms', fusedFwd, unfusedFwd));
    rows.push(row(`${label} fwd+bwd`, size, 'ms', fusedBwd, unfusedBwd));
    rows.push(row(`${label} fwd`, size, 'ms', fusedFwd, jsFwd));
    rows.push(row(`${label} fwd+bwd`, size, 'ms', fusedBwd, jsBwd));

    // Each peer is timed in alternation with gradkit fused (pooled rounds), so a change in machine load
    // hits both sides of every ratio alike; gradkit's figure is therefore per row.
    const versus = async (impl: string, fwd: () => void, fwdBwd: () => void) => {
      await settle();
      const [gf, pf, gb, pb] = measureInterleaved(
        [
          { name: `${label} fwd gradkit fused`, fn: forwardOnce(fused) },
          { name: `${label} fwd ${impl}`, fn: fwd },
          { name: `${label} fwd+bwd gradkit fused`, fn: stepOnce(fused) },
          { name: `${label} fwd+bwd ${impl}`, fn: fwdBwd },
        ],
        cfg.timing,
      ).map(
        (timing, i): Measured => ({
          impl: i % 2 === 0 ? 'gradkit fused' : impl,
          value: timing.medianMs,
          timing,
        }),
      );
      rows.push(row(`${label} fwd`, size, 'ms', gf!, pf!));
      rows.push(row(`${label} fwd+bwd`, size, 'ms', gb!, pb!));
    };

    for (const backend of ['cpu', 'wasm'] as const) {
      await useTf(backend);
      const tx = tf.tensor1d(xData);
      const ty = tf.tensor1d(yData);
      const tdy = tf.tensor1d(dyData);
      const out = tf.tidy(() => c.tfjs(tx, ty));
      checks[`${label} fwd |gradkit - tfjs-${backend}|`] = maxAbsDiff(ref, out.dataSync());
      out.dispose();
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => c.tfjs(a, b));
      await versus(
        `tfjs-${backend}`,
        () => {
          const r = tf.tidy(() => c.tfjs(tx, ty));
          sink(r.dataSync()[0]!);
          r.dispose();
        },
        () => {
          const gs = grads([tx, ty], tdy);
          sink(gs[0]!.dataSync()[0]! + gs[1]!.dataSync()[0]!);
          tf.dispose(gs);
        },
      );
      tf.dispose([tx, ty, tdy]);
    }

    const jx = np.array(xData);
    const jy = np.array(yData);
    const jdy = np.array(dyData);
    const jf = jit(c.jax);
    // grad of sum(chain · dy) is the vector-Jacobian product with cotangent dy (the extra multiply and sum
    // fuse into the jitted program).
    const jgrad = jit(
      grad((a: np.Array, b: np.Array, d: np.Array) => np.sum(c.jax(a, b).mul(d)), { argnums: [0, 1] }),
    );
    checks[`${label} fwd |gradkit - jax-js|`] = maxAbsDiff(ref, jf(jx.ref, jy.ref).dataSync());
    // gradkit's allocation-free forward: the fused chain written into a preallocated output (`fuseInPlace`,
    // like PyTorch's out=), next to jax-js jit (which recycles its buffers itself). Reported as its own row;
    // the target rows use the allocating `fuse` form above.
    const into = fuseInPlace((_o, a, b) => c.gradkit(a, b), `chain10_${name}_out`);
    const out = zeros([n], { dtype: 'float32' });
    noGrad(() => into(out, x, y));
    checks[`${label} fwd |fused - fuseInPlace out|`] = maxAbsDiff(ref, out.data);
    {
      await settle();
      const [g, p] = measureInterleaved(
        [
          { name: `${label} fwd gradkit out=`, fn: () => sink(noGrad(() => into(out, x, y)).data[0]!) },
          { name: `${label} fwd jax-js-wasm jit`, fn: () => sink(jf(jx.ref, jy.ref).dataSync()[0]!) },
        ],
        cfg.timing,
      ).map(
        (timing, i): Measured => ({
          impl: i === 0 ? 'gradkit fuseInPlace (out=)' : 'jax-js-wasm jit',
          value: timing.medianMs,
          timing,
        }),
      );
      rows.push(row(`${label} fwd`, size, 'ms', g!, p!));
    }
    await versus(
      'jax-js-wasm jit',
      () => sink(jf(jx.ref, jy.ref).dataSync()[0]!),
      () => {
        const [ga, gb] = jgrad(jx.ref, jy.ref, jdy.ref);
        sink(ga.dataSync()[0]! + gb.dataSync()[0]!);
      },
    );
    jf.dispose();
    jgrad.dispose();
    for (const a of [jx, jy, jdy]) a.dispose();
  }
  // Group the rows by op (first appearance order); within an op, the order they were measured in.
  const order = [...new Set(rows.map((r) => r.op))];
  rows.sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op));
  return { rows, checks };
}
