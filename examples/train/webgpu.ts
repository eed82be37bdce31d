/**
 * Training on WebGPU (`pnpm train:webgpu`): the 30 → 16 → 1 MLP of `pnpm train` on the Wisconsin
 * breast-cancer data, full batch, float32, trained once on the cpu and once with every tensor on the GPU —
 * data, parameters, forward pass, `bceWithLogits`, `backward()`, Adam's fused updates — from the same seed.
 * Each step runs inside `tidy`, which releases the step's temporaries on the device at once; the optimizer's
 * state survives it (`keep`). Nothing is read back during training except what is printed: the losses are
 * 0-d device tensors, read together at the end.
 *
 * Prints both loss curves' checkpoints, the largest difference between them (float32 rounding), the test
 * accuracy on each device, the time per step and the live device buffers (flat: no leak).
 *
 * Run with `pnpm train:webgpu` (flags: --steps, --lr, --seed). In Node WebGPU comes from the `webgpu` package
 * (on Debian, Mesa's lavapipe: .ci/install-webgpu.sh); without an adapter it says why and exits.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Device, Generator, initWebGPU, memory, noGrad, type Tensor, tidy } from '@gradkit/autograd';
import { formatTable, loadSplit, mlp } from '@gradkit/examples-shared';
import { bceWithLogits } from '@gradkit/losses';
import { Adam } from '@gradkit/nn';

/** Settings of one run. */
export interface DeviceTrainOptions {
  steps: number;
  lr: number;
  seed: number;
}

/** The defaults of `pnpm train:webgpu`. */
export const DEVICE_DEFAULTS: DeviceTrainOptions = { steps: 300, lr: 0.01, seed: 0 };

/** What one device's run gives. */
export interface DeviceRun {
  device: Device;
  /** The mean train loss before each step. */
  losses: number[];
  /** Test accuracy of the final model (logit > 0 ⇔ malignant). */
  accuracy: number;
  /**
   * Live device buffers (`memory().buffers`) after each step, besides the 0-d losses kept for the curve
   * (zeros on the cpu): flat when nothing leaks.
   */
  buffers: number[];
  /** Milliseconds per step (wall time, including the final read-back of the losses). */
  msPerStep: number;
}

/** Trains the MLP for `options.steps` full-batch Adam steps with every tensor on `device`. */
export async function trainOn(
  device: Device,
  options: DeviceTrainOptions = DEVICE_DEFAULTS,
): Promise<DeviceRun> {
  if (device === 'webgpu') await initWebGPU();
  const split = await loadSplit('breast_cancer');
  const x = split.trainX.to('float32').to(device);
  const y = split.trainY.to('float32').to(device);
  const testX = split.testX.to('float32').to(device);
  const model = mlp([30, 16, 1], new Generator(options.seed)).to('float32');
  if (device === 'webgpu') model.to('webgpu');
  const optimizer = new Adam(model.parameters(), { lr: options.lr });
  const losses: Tensor[] = [];
  const buffers: number[] = [];
  const started = performance.now();
  for (let step = 0; step < options.steps; step++) {
    losses.push(
      tidy(() => {
        optimizer.zeroGrad();
        const loss = bceWithLogits(model.forward(x).reshape([-1]), y);
        loss.backward();
        optimizer.step();
        return loss.detach();
      }),
    );
    buffers.push(memory().buffers - losses.length);
  }
  const values = await Promise.all(losses.map((l) => l.itemAsync()));
  const msPerStep = (performance.now() - started) / options.steps;
  const logits = await noGrad(() => model.forward(testX)).dataAsync();
  const labels = split.testY.toArray();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (logits[i]! > 0 === (labels[i] === 1)) correct++;
  for (const t of [...losses, x, y, testX]) t.dispose();
  return { device, losses: values, accuracy: correct / labels.length, buffers, msPerStep };
}

/** The command line, checked. */
export function parseDeviceOptions(argv: readonly string[]): DeviceTrainOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { steps: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' } },
  });
  const num = (v: string | undefined, d: number, name: string, integer: boolean): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
    }
    return n;
  };
  return {
    steps: num(values.steps, DEVICE_DEFAULTS.steps, 'steps', true),
    lr: num(values.lr, DEVICE_DEFAULTS.lr, 'lr', false),
    seed: values.seed === undefined ? DEVICE_DEFAULTS.seed : num(values.seed, 1, 'seed', true),
  };
}

async function main(): Promise<void> {
  const options = parseDeviceOptions(process.argv.slice(2));
  try {
    await initWebGPU();
  } catch (e) {
    console.log(`No WebGPU here: ${(e as Error).message}`);
    return;
  }
  const cpu = await trainOn('cpu', options);
  const gpu = await trainOn('webgpu', options);
  const at = [0, Math.floor(options.steps / 4), Math.floor(options.steps / 2), options.steps - 1];
  const rows = at.map((s) => [`step ${s + 1}`, cpu.losses[s]!.toFixed(6), gpu.losses[s]!.toFixed(6)]);
  console.log(formatTable(['train loss', 'cpu (float32)', 'webgpu'], rows));
  const drift = Math.max(...gpu.losses.map((l, i) => Math.abs(l - cpu.losses[i]!)));
  console.log(`largest loss difference over ${options.steps} steps: ${drift.toExponential(2)}`);
  console.log(`test accuracy: cpu ${cpu.accuracy.toFixed(3)}, webgpu ${gpu.accuracy.toFixed(3)}`);
  console.log(`ms per step: cpu ${cpu.msPerStep.toFixed(2)}, webgpu ${gpu.msPerStep.toFixed(2)}`);
  console.log(
    `live device buffers after step 1 / ${options.steps} (besides the losses kept): ${gpu.buffers[0]} / ${gpu.buffers.at(-1)}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
