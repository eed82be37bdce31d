/**
 * Losses on webgpu tensors (issue 13): not implemented on the device yet, so a loss on a webgpu input or
 * target is a DeviceError that names the loss and says to move the tensors with `await t.cpu()`, instead of
 * the generic "Tensor.data" read error. Skipped (with one line) without a WebGPU adapter, except under
 * `CI=true`, where it must run.
 */
import { fromArray, initWebGPU } from '@gradkit/autograd';
import { DeviceError, webgpuAvailability } from '@gradkit/kernels';
import { bce, bceWithLogits, focal } from '@gradkit/losses';
import { describe, expect, it } from 'vitest';

const availability = await webgpuAvailability();
if (!availability.available) {
  const line = `WebGPU tests skipped (losses device-webgpu.test.ts): ${availability.reason}.`;
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
  console.warn(line);
}

describe.skipIf(!availability.available)('losses on webgpu tensors', async () => {
  if (availability.available) await initWebGPU();

  it('a loss on a webgpu input or target is a DeviceError naming the loss and advising t.cpu()', () => {
    const x = fromArray([0.5, -1, 2], [3]);
    const y = fromArray([1, 0, 1], [3]);
    const gx = x.to('webgpu');
    const gy = y.to('webgpu');
    expect(() => bceWithLogits(gx, y)).toThrow(DeviceError);
    expect(() => bceWithLogits(gx, y)).toThrow(
      /^bceWithLogits: 'bceWithLogits' is not supported on webgpu yet \(argument 'input'.*await t\.cpu\(\)/,
    );
    expect(() => focal(x, gy)).toThrow(/^focal: .*argument 'target' is a webgpu tensor/);
    expect(() => bce(gx.sigmoid(), gy)).toThrow(/^bce: 'bce' is not supported on webgpu yet/);
  });
});
