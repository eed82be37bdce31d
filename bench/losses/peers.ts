/**
 * The peers the losses are measured against, each computing the same loss and its gradient w.r.t. the logits
 * (forward + backward, 'mean' reduction, float32): TensorFlow.js 4.22 (cpu and wasm backends; tfjs has no focal
 * loss, so it is composed from its ops), jax-js 0.1.25 on its wasm device (eager and jit), and a hand-written
 * fused JavaScript loop. Every case returns [loss, gradient] as plain numbers so results can be cross-checked.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  defaultDevice as jaxDevice,
  init as jaxInit,
  valueAndGrad as jaxValueAndGrad,
  jit,
  nn,
  numpy as np,
} from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** The loss settings every peer implements. */
export interface LossSpec {
  /** 'bce': BCE with logits; 'focal': YOLOv5 focal; 'custom': (1 − pt)^gamma · (1 + beta·pt) · alpha_t · ce. */
  kind: 'bce' | 'focal' | 'custom';
  gamma: number;
  alpha: number;
  beta: number;
}

/** One run's result: the mean loss and the gradient w.r.t. the logits. */
export type Result = [number, Float32Array];

/** Starts tfjs (wasm binaries from node_modules, no network) and jax-js (cpu + wasm devices, as in Node). */
export async function setupPeers(): Promise<{ tfjs: string; wasmSimd: boolean; jaxDevices: string[] }> {
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(path.dirname(wasmFile) + path.sep);
  const log = console.log;
  console.log = () => {}; // tfjs prints a banner recommending tfjs-node
  try {
    for (const b of ['wasm', 'cpu']) {
      if (!(await tf.setBackend(b))) throw new Error(`tfjs backend ${b} failed to start`);
      await tf.ready();
    }
  } finally {
    console.log = log;
  }
  const jaxDevices = await jaxInit('cpu', 'wasm');
  if (!jaxDevices.includes('wasm'))
    throw new Error(`jax-js has no wasm device (got ${jaxDevices.join(', ')})`);
  jaxDevice('wasm');
  return { tfjs: tf.version.tfjs, wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), jaxDevices };
}

// ---- hand-written fused loops -----------------------------------------------------------------------------
// One function per loss (a shared function would be compiled for whichever loss V8 saw first). Each is one pass
// computing the mean loss and d(mean)/dx with one exp, one log1p and, for the focal kinds, one Math.pow.

function handBce(x: Float32Array, y: Float32Array, g: Float32Array): number {
  const n = x.length;
  const inv = 1 / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = y[i]!;
    const e = Math.exp(-Math.abs(v));
    const p = (v >= 0 ? 1 : e) / (1 + e);
    s += Math.max(v, 0) - v * t + Math.log1p(e);
    g[i] = (p - t) * inv;
  }
  return s * inv;
}

function handFocal(x: Float32Array, y: Float32Array, g: Float32Array, gamma: number, alpha: number): number {
  const n = x.length;
  const inv = 1 / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = y[i]!;
    const e = Math.exp(-Math.abs(v));
    const p = (v >= 0 ? 1 : e) / (1 + e);
    const pn = (v >= 0 ? e : 1) / (1 + e);
    const ce = Math.max(v, 0) - v * t + Math.log1p(e);
    const q = t * pn + (1 - t) * p; // 1 − pt without cancellation
    const dq = (1 - 2 * t) * p * pn;
    const at = t * alpha + (1 - t) * (1 - alpha);
    const qg1 = q ** (gamma - 1);
    const f = qg1 * q;
    s += at * f * ce;
    g[i] = at * (gamma * qg1 * dq * ce + f * (p - t)) * inv;
  }
  return s * inv;
}

function handCustom(
  x: Float32Array,
  y: Float32Array,
  g: Float32Array,
  gamma: number,
  alpha: number,
  beta: number,
): number {
  const n = x.length;
  const inv = 1 / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = y[i]!;
    const e = Math.exp(-Math.abs(v));
    const p = (v >= 0 ? 1 : e) / (1 + e);
    const pn = (v >= 0 ? e : 1) / (1 + e);
    const ce = Math.max(v, 0) - v * t + Math.log1p(e);
    const q = t * pn + (1 - t) * p;
    const dq = (1 - 2 * t) * p * pn;
    const at = t * alpha + (1 - t) * (1 - alpha);
    const qg1 = q ** (gamma - 1);
    const c = 1 + beta * (1 - q); // 1 + beta·pt
    const f = qg1 * q * c;
    const df = gamma * qg1 * dq * c - qg1 * q * beta * dq;
    s += at * f * ce;
    g[i] = at * (df * ce + f * (p - t)) * inv;
  }
  return s * inv;
}

/** The hand-written loop for `spec`: returns the mean loss and writes d(mean)/dx into `g`. */
export function handLoop(spec: LossSpec, x: Float32Array, y: Float32Array, g: Float32Array): number {
  if (spec.kind === 'bce') return handBce(x, y, g);
  if (spec.kind === 'focal') return handFocal(x, y, g, spec.gamma, spec.alpha);
  return handCustom(x, y, g, spec.gamma, spec.alpha, spec.beta);
}

// ---- TensorFlow.js -------------------------------------------------------------------------------------
function tfLoss(spec: LossSpec, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  // ce = max(x, 0) − x·y + log1p(exp(−|x|))
  const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  if (spec.kind === 'bce') return tf.mean(ce);
  const p = tf.sigmoid(x);
  const pt = tf.add(tf.mul(y, p), tf.mul(tf.sub(1, y), tf.sub(1, p)));
  const at = tf.add(tf.mul(y, spec.alpha), tf.mul(tf.sub(1, y), 1 - spec.alpha));
  let mod = tf.pow(tf.sub(1, pt), spec.gamma);
  if (spec.kind === 'custom') mod = tf.mul(mod, tf.add(1, tf.mul(pt, spec.beta)));
  return tf.mean(tf.mul(tf.mul(ce, at), mod));
}

/** A tfjs case on `backend` (data uploaded once; each run computes value and gradient and reads both back). */
export async function tfCase(
  backend: 'cpu' | 'wasm',
  spec: LossSpec,
  xd: Float32Array,
  yd: Float32Array,
): Promise<() => Result> {
  await useTf(backend);
  const x = tf.tensor1d(xd, 'float32');
  const y = tf.tensor1d(yd, 'float32');
  const vg = tf.valueAndGrad((u: tf.Tensor) => tfLoss(spec, u, y));
  return () => {
    if (tf.getBackend() !== backend) throw new Error(`tfjs backend switched to ${tf.getBackend()}`);
    // Read the data outside tidy: tidy walks its result looking for tensors (a 1e6-element array is slow).
    const { value, grad } = tf.tidy(() => vg(x));
    const result: Result = [value.dataSync()[0]!, grad.dataSync() as Float32Array];
    value.dispose();
    grad.dispose();
    return result;
  };
}

/** Switches tfjs to `backend` before a run of its cases. */
export async function useTf(backend: 'cpu' | 'wasm'): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
}

// ---- jax-js ---------------------------------------------------------------------------------------------
type JaxArray = ReturnType<typeof np.array>;

function jaxLoss(spec: LossSpec, x: JaxArray, y: JaxArray): JaxArray {
  // Arrays are consumed by each use (move semantics): `.ref` keeps one alive for another use.
  const ce = nn.softplus(x.ref).sub(x.ref.mul(y.ref));
  if (spec.kind === 'bce') {
    x.dispose();
    y.dispose();
    return np.mean(ce);
  }
  const p = nn.sigmoid(x);
  const oneMinusY = y.ref.neg().add(1);
  const pt = y.ref.mul(p.ref).add(oneMinusY.ref.mul(p.neg().add(1)));
  const at = y.mul(spec.alpha).add(oneMinusY.mul(1 - spec.alpha));
  let mod = np.power(pt.ref.neg().add(1), spec.gamma);
  if (spec.kind === 'custom') mod = mod.mul(pt.mul(spec.beta).add(1));
  else pt.dispose();
  return np.mean(ce.mul(at).mul(mod));
}

/** A jax-js case on the wasm device, eager or under `jit`. */
export function jaxCase(spec: LossSpec, xd: Float32Array, yd: Float32Array, useJit: boolean): () => Result {
  const x = np.array(xd, { dtype: np.float32 });
  const y = np.array(yd, { dtype: np.float32 });
  const f = jaxValueAndGrad((u: JaxArray, v: JaxArray) => jaxLoss(spec, u, v));
  const run = useJit ? jit(f) : f;
  return () => {
    const [value, g] = run(x.ref, y.ref) as [JaxArray, JaxArray];
    const v = (value.dataSync() as Float32Array)[0]!;
    const gd = g.dataSync() as Float32Array;
    return [v, gd];
  };
}
