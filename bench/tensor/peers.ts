/**
 * The libraries gradkit is measured against, set up in this process: TensorFlow.js 4.22.0 with its pure-JS
 * `cpu` backend and its `wasm` backend (the .wasm binaries load from the installed package, no network), and
 * jax-js 0.1.25 on its `wasm` device.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultDevice, init as jaxInit } from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** A TensorFlow.js backend measured here. */
export type TfBackend = 'cpu' | 'wasm';

/** What each peer ran on, recorded with the results. */
export interface PeerInfo {
  tfjsVersion: string;
  tfjsWasmSimd: boolean;
  tfjsWasmThreads: boolean;
  jaxDevices: string[];
}

let ready: PeerInfo | null = null;

/**
 * Registers the tfjs wasm binaries' location (the package's dist folder, as a file path) and starts
 * jax-js's wasm device (single-threaded in Node: jax-js only spawns workers where a global `Worker` exists).
 */
export async function setupPeers(): Promise<PeerInfo> {
  if (ready !== null) return ready;
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(path.dirname(wasmFile) + path.sep);
  // tfjs prints a banner recommending tfjs-node the first time a backend starts in Node; it is not wanted here.
  const log = console.log;
  console.log = () => {};
  try {
    await useTf('wasm');
    await useTf('cpu');
  } finally {
    console.log = log;
  }
  const jaxDevices = await jaxInit('wasm');
  if (!jaxDevices.includes('wasm'))
    throw new Error(`jax-js could not start its wasm device (got ${jaxDevices.join(', ')})`);
  defaultDevice('wasm');
  await useTf('wasm');
  ready = {
    tfjsVersion: tf.version.tfjs,
    tfjsWasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    tfjsWasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    jaxDevices,
  };
  return ready;
}

/** Switches TensorFlow.js to `backend` (tensors must be created after the switch to live there). */
export async function useTf(backend: TfBackend): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend '${backend}' failed to start`);
  await tf.ready();
}

export { tf };
