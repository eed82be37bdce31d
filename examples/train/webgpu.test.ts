/**
 * `pnpm train:webgpu`: the MLP trained with every tensor on WebGPU (lavapipe in CI) follows the float32 cpu
 * run's loss curve within float32 rounding and reaches the same test accuracy; over 1,000 training steps
 * (forward, loss, backward, Adam) the live device buffers stay flat.
 */
import { initWebGPU } from '@gradkit/autograd';
import { describe, expect, test } from 'vitest';
import { DEVICE_DEFAULTS, trainOn } from './webgpu.js';

const unavailable = await initWebGPU().then(
  () => null,
  (e: Error) => e.message,
);
if (unavailable !== null) {
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${unavailable}`);
  console.warn(`WebGPU tests skipped (examples/train/webgpu.test.ts): ${unavailable}`);
}

describe.skipIf(unavailable !== null)('training on WebGPU (pnpm train:webgpu)', () => {
  test('the device run matches the float32 cpu run: loss curve within 2e-5, same accuracy', async () => {
    const cpu = await trainOn('cpu', DEVICE_DEFAULTS);
    const gpu = await trainOn('webgpu', DEVICE_DEFAULTS);
    expect(gpu.losses).toHaveLength(DEVICE_DEFAULTS.steps);
    // float32 rounding differs between the devices (reduction order, WGSL maths) and 300 Adam steps carry it
    // along: measured ≈2e-6 at most, against a loss that starts at 0.71.
    const worst = Math.max(...gpu.losses.map((l, i) => Math.abs(l - cpu.losses[i]!)));
    expect(worst).toBeLessThanOrEqual(2e-5);
    expect(gpu.accuracy).toBe(cpu.accuracy);
    expect(gpu.accuracy).toBeGreaterThanOrEqual(0.94);
    expect(gpu.losses.at(-1)!).toBeLessThan(0.05 * gpu.losses[0]!);
  }, 120_000);

  test('1,000 training steps leave the live device buffer count flat', async () => {
    const gpu = await trainOn('webgpu', { ...DEVICE_DEFAULTS, steps: 1000 });
    expect(new Set(gpu.buffers).size, `buffers after each step: ${gpu.buffers.slice(0, 5)}…`).toBe(1);
  }, 240_000);
});
