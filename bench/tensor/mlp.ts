/**
 * One MLP training step, 784-256-10 with relu, batch 64, softmax cross-entropy against one-hot targets
 * (mean over the batch) and a plain SGD update, in each library: forward, backward, update, and the loss
 * read back as a number. gradkit uses fused ops where a user would (bias+relu; the SGD update in place, one
 * fused loop per parameter, as PyTorch's optimizers update parameters).
 */
import {
  backward,
  fromArray,
  fuse,
  fuseInPlace,
  Generator,
  logSoftmax,
  matmul,
  noGrad,
  sum,
  type Tensor,
} from '@gradkit/autograd';
import { jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { type BenchConfig, randomData, settle, sink } from './common.js';
import { measureInterleaved } from './harness.js';
import { tf, useTf } from './peers.js';
import { type Measured, type Row, row } from './report.js';

const IN = 784;
const HIDDEN = 256;
const OUT = 10;
const BATCH = 64;
const LR = 0.01;

/** The same starting point for every library. */
interface Init {
  x: Float32Array;
  y: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

function makeInit(): Init {
  const gen = new Generator(784);
  const y = new Float32Array(BATCH * OUT);
  for (let i = 0; i < BATCH; i++) y[i * OUT + gen.integer(0, OUT)] = 1;
  return {
    x: randomData(gen, BATCH * IN),
    y,
    w1: randomData(gen, IN * HIDDEN, Math.sqrt(2 / IN)),
    b1: randomData(gen, HIDDEN, 0.01),
    w2: randomData(gen, HIDDEN * OUT, Math.sqrt(2 / HIDDEN)),
    b2: randomData(gen, OUT, 0.01),
  };
}

/** A training loop over one library: each call is one SGD step and returns the step's loss. */
type Trainer = { step: () => number; dispose: () => void };

function gradkitTrainer(init: Init): Trainer {
  const biasRelu = fuse((a, b) => a.add(b).relu(), 'biasRelu');
  // The update in place (PyTorch's optimizers do this; TF.js's assign into variables): one fused loop per
  // parameter writing its own storage, no new parameter tensors per step.
  const sgd = fuseInPlace((w, g) => w.sub(g.mul(LR)), 'sgd');
  const x = fromArray(init.x, [BATCH, IN]);
  const y = fromArray(init.y, [BATCH, OUT]);
  const params: Tensor[] = [
    fromArray(init.w1, [IN, HIDDEN], { requiresGrad: true }),
    fromArray(init.b1, [HIDDEN], { requiresGrad: true }),
    fromArray(init.w2, [HIDDEN, OUT], { requiresGrad: true }),
    fromArray(init.b2, [OUT], { requiresGrad: true }),
  ];
  return {
    step() {
      const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
      const a1 = matmul(x, w1);
      const h = biasRelu(a1, b1);
      const z = matmul(h, w2).add(b2);
      const loss = sum(logSoftmax(z, -1).mul(y)).mul(-1 / BATCH);
      backward(loss);
      noGrad(() => {
        for (const p of params) {
          const g = p.grad!;
          sgd(p, g);
          g.dispose();
          p.grad = null;
        }
      });
      const v = loss.item();
      // Explicit lifetimes (TF.js's tidy, jax-js's ownership): what the step holds is disposed, so the next
      // step reuses its arena memory (the graph's own temporaries are left to the collector).
      for (const t of [a1, h, z, loss]) t.dispose();
      return v;
    },
    dispose() {},
  };
}

function tfTrainer(init: Init): Trainer {
  const x = tf.tensor2d(init.x, [BATCH, IN]);
  const y = tf.tensor2d(init.y, [BATCH, OUT]);
  const w1 = tf.variable(tf.tensor2d(init.w1, [IN, HIDDEN]));
  const b1 = tf.variable(tf.tensor1d(init.b1));
  const w2 = tf.variable(tf.tensor2d(init.w2, [HIDDEN, OUT]));
  const b2 = tf.variable(tf.tensor1d(init.b2));
  const opt = tf.train.sgd(LR);
  const lossFn = (): tf.Scalar => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const z = tf.add(tf.matMul(h, w2), b2);
    return tf.mul(tf.sum(tf.mul(tf.logSoftmax(z), y)), -1 / BATCH) as tf.Scalar;
  };
  return {
    step() {
      const cost = opt.minimize(lossFn, true, [w1, b1, w2, b2])!;
      const v = cost.dataSync()[0]!;
      cost.dispose();
      return v;
    },
    dispose() {
      tf.dispose([x, y, w1, b1, w2, b2]);
      opt.dispose();
    },
  };
}

type JaxParams = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array };

function jaxLoss(p: JaxParams, x: np.Array, y: np.Array): np.Array {
  const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
  const z = np.matmul(h, p.w2).add(p.b2);
  return np.sum(nn.logSoftmax(z, -1).mul(y)).mul(-1 / BATCH);
}

function jaxTrainer(init: Init): Trainer {
  const x = np.array(init.x).reshape([BATCH, IN]);
  const y = np.array(init.y).reshape([BATCH, OUT]);
  let params: JaxParams = {
    w1: np.array(init.w1).reshape([IN, HIDDEN]),
    b1: np.array(init.b1),
    w2: np.array(init.w2).reshape([HIDDEN, OUT]),
    b2: np.array(init.b2),
  };
  // One jitted program: value and gradient, then the SGD update of every parameter.
  const step = jit((p: JaxParams, xs: np.Array, ys: np.Array): [np.Array, JaxParams] => {
    const [loss, g] = valueAndGrad(jaxLoss)(tree.ref(p), xs, ys);
    const next = tree.map((w: np.Array, gw: np.Array) => w.sub(gw.mul(LR)), p, g) as JaxParams;
    return [loss, next];
  });
  return {
    step() {
      const [loss, next] = step(params, x.ref, y.ref);
      params = next;
      return loss.dataSync()[0]!;
    },
    dispose() {
      step.dispose();
      tree.dispose(params);
      x.dispose();
      y.dispose();
    },
  };
}

/** Runs the MLP cases. */
export async function benchMlp(cfg: BenchConfig): Promise<{
  rows: Row[];
  checks: Record<string, number>;
  losses: Record<string, number[]>;
}> {
  const init = makeInit();
  const size = `${IN}-${HIDDEN}-${OUT} b${BATCH}`;
  const losses: Record<string, number[]> = {};
  /** Times the trainers in alternating rounds, after recording each one's first three losses. */
  const time = (cases: ReadonlyArray<[string, () => Trainer]>): Measured[] => {
    const trainers = cases.map(([impl, make]) => {
      const first = make();
      losses[impl] = [first.step(), first.step(), first.step()];
      first.dispose();
      return make();
    });
    const timings = measureInterleaved(
      trainers.map((tr, i) => ({ name: `mlp ${cases[i]![0]}`, fn: () => sink(tr.step()) })),
      cfg.timing,
    );
    for (const tr of trainers) tr.dispose();
    return timings.map((timing, i) => ({ impl: cases[i]![0], value: timing.medianMs, timing }));
  };
  // Each peer is timed in alternation with gradkit (pooled rounds), so a change in machine load hits both
  // sides of every ratio alike; gradkit's figure is therefore per row.
  const rows: Row[] = [];
  const versus = async (impl: string, make: () => Trainer) => {
    await settle();
    const [mine, peer] = time([
      ['gradkit', () => gradkitTrainer(init)],
      [impl, make],
    ]) as [Measured, Measured];
    rows.push(row('mlp step', size, 'ms', mine, peer));
  };
  for (const backend of ['cpu', 'wasm'] as const) {
    await useTf(backend);
    await versus(`tfjs-${backend}`, () => tfTrainer(init));
  }
  await versus('jax-js-wasm jit', () => jaxTrainer(init));
  const ref = losses['gradkit']!;
  const checks: Record<string, number> = {};
  for (const [impl, ls] of Object.entries(losses)) {
    if (impl !== 'gradkit')
      checks[`mlp losses |gradkit - ${impl}| (3 steps)`] = Math.max(
        ...ls.map((l, i) => Math.abs(l - ref[i]!)),
      );
  }
  return { rows, checks, losses };
}
