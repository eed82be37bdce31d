/**
 * Losses on webgpu tensors (issue 13): custom modulated losses (scalar and per-class tensor parameters,
 * additive terms, alpha) against the cpu backend, parameters as uniforms (a new gamma generates no new
 * kernel), domains checked in the kernel (NaN instead of a read-back), empty inputs, and mixing devices as a
 * DeviceError naming both. The golden vectors are in golden-device.test.ts. Skipped (with one line) without a
 * WebGPU adapter, except under `CI=true`, where it must run.
 */
import { fromArray, grad, initWebGPU, noGrad, type Tensor } from '@gradkit/autograd';
import { DeviceError, fusedKernelsGenerated, webgpuAvailability } from '@gradkit/kernels';
import {
  asymmetric,
  bce,
  bceWithLogits,
  defineModulatedLoss,
  focal,
  poly1,
  varifocal,
} from '@gradkit/losses';
import { describe, expect, it } from 'vitest';

const availability = await webgpuAvailability();
if (!availability.available) {
  const line = `WebGPU tests skipped (losses device-webgpu.test.ts): ${availability.reason}.`;
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
  console.warn(line);
}

const cubic = defineModulatedLoss({
  name: 'cubic',
  factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
  additive: ({ pt }, { eps }) => pt.neg().add(1).mul(eps),
  params: { gamma: 2.3, eps: 0.5 },
  ranges: { gamma: [0, Number.POSITIVE_INFINITY] },
  alpha: 0.25,
});

const N = 37;
const C = 5;
const xs = Array.from({ length: N * C }, (_, i) => Math.sin(i * 1.7) * 6);
const ys = Array.from({ length: N * C }, (_, i) => ((i * 7) % 3) / 2);

/** The cpu (float64) and webgpu (float32) runs of `f`: loss value and input/target/extra gradients. */
async function both(
  f: (x: Tensor, y: Tensor, extra: Tensor) => Tensor,
  extraValues: number[] = [1, 2, 0.5, 3, 1.5],
): Promise<{ cpu: number[][]; gpu: number[][] }> {
  const cx = fromArray(xs, [N, C], { dtype: 'float64', requiresGrad: true });
  const cy = fromArray(ys, [N, C], { dtype: 'float64', requiresGrad: true });
  const ce = fromArray(extraValues, [C], { dtype: 'float64', requiresGrad: true });
  const cl = f(cx, cy, ce);
  const cg = grad(cl, [cx, cy, ce], {
    gradOutputs: [
      fromArray(cl.shape.length === 0 ? [1] : Array(cl.size).fill(1), cl.shape, { dtype: 'float64' }),
    ],
  });
  const dev = (v: number[], shape: number[]) => {
    const t = fromArray(v, shape, { dtype: 'float32' }).to('webgpu');
    t.requiresGrad = true;
    return t;
  };
  const gx = dev(xs, [N, C]);
  const gy = dev(ys, [N, C]);
  const ge = dev(extraValues, [C]);
  const gl = f(gx, gy, ge);
  expect(gl.device).toBe('webgpu');
  const up = fromArray(gl.shape.length === 0 ? [1] : Array(gl.size).fill(1), gl.shape).to('webgpu');
  const gg = noGrad(() => gl.gradFn!.apply([up]));
  const inputs = gl.gradFn!.inputs;
  const read = async (t: Tensor) => {
    const g = gg[inputs.indexOf(t)];
    return g === null || g === undefined ? [] : Array.from(await g.dataAsync());
  };
  return {
    cpu: [Array.from(cl.data), ...cg.map((g) => (g === null ? [] : Array.from(g.data)))],
    gpu: [Array.from(await gl.dataAsync()), await read(gx), await read(gy), await read(ge)],
  };
}

function close(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(
      1e-5 * scale + 1e-3 * Math.abs(want[i]!),
    );
  });
}

describe.skipIf(!availability.available)('losses on webgpu tensors', async () => {
  if (availability.available) await initWebGPU();

  it('runs a custom modulated loss (factor, additive, alpha, per-class tensor parameter) like the cpu', async () => {
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const { cpu, gpu } = await both((x, y, g) => cubic(x, y, { gamma: g, reduction }));
      cpu.forEach((c, k) => {
        close(gpu[k]!, c);
      });
      const scalar = await both((x, y, w) => cubic(x, y, { gamma: 1.7, weight: w, reduction }));
      scalar.cpu.forEach((c, k) => {
        close(scalar.gpu[k]!, c);
      });
    }
  });

  it('runs the other built-in losses with weights and posWeight like the cpu', async () => {
    const fns: Array<(x: Tensor, y: Tensor, e: Tensor) => Tensor> = [
      (x, y, e) => focal(x, y, { posWeight: e, gamma: 2.5 }),
      (x, y, e) => varifocal(x, y, { weight: e }),
      (x, y, e) => asymmetric(x, y, { weight: e }),
      (x, y, e) => poly1(x, y, { epsilon: 2, weight: e }),
      (x, y, e) => bceWithLogits(x, y, { posWeight: e, reduction: 'sum' }),
    ];
    for (const f of fns) {
      const { cpu, gpu } = await both(f);
      cpu.forEach((c, j) => {
        close(gpu[j]!, c);
      });
    }
  });

  it('takes numeric parameters as uniforms: a new gamma or alpha generates no new kernel', async () => {
    const x = fromArray(xs, [N, C]).to('webgpu');
    const y = fromArray(ys, [N, C]).to('webgpu');
    const values: number[] = [];
    let before = 0;
    for (const [i, gamma] of [2.3, 2.7, 3.1, 4.9].entries()) {
      if (i === 1) before = fusedKernelsGenerated();
      const loss = cubic(x, y, { gamma, alpha: 0.1 * (i + 1) });
      values.push((await loss.dataAsync())[0]!);
      loss.dispose();
    }
    expect(fusedKernelsGenerated()).toBe(before);
    const cpu = [2.3, 2.7, 3.1, 4.9].map(
      (gamma, i) =>
        cubic(fromArray(xs, [N, C], { dtype: 'float64' }), fromArray(ys, [N, C], { dtype: 'float64' }), {
          gamma,
          alpha: 0.1 * (i + 1),
        }).data[0]!,
    );
    close(values, cpu);
  });

  it('gives NaN where a target or a bce input is outside its domain (a check without read-back)', async () => {
    const x = fromArray([0.5, -1, 2], [3]).to('webgpu');
    const y = fromArray([1, 1.5, 0], [3]).to('webgpu');
    const none = await focal(x, y, { reduction: 'none' }).dataAsync();
    expect(Number.isNaN(none[1]!)).toBe(true);
    expect(Number.isNaN(none[0]!) || Number.isNaN(none[2]!)).toBe(false);
    expect(Number.isNaN((await focal(x, y).dataAsync())[0]!)).toBe(true);
    const p = fromArray([0.5, 1.2, 0.1], [3]).to('webgpu');
    const b = await bce(p, fromArray([1, 0, 0], [3]).to('webgpu'), { reduction: 'none' }).dataAsync();
    expect([Number.isNaN(b[0]!), Number.isNaN(b[1]!), Number.isNaN(b[2]!)]).toEqual([false, true, false]);
    // A per-class alpha tensor outside [0, 1]: NaN in its column.
    const alpha = fromArray([0.5, 2], [2]).to('webgpu');
    const xy = fromArray([0, 0, 0, 0], [2, 2]).to('webgpu');
    const a = await focal(xy, xy, { alpha, reduction: 'none' }).dataAsync();
    expect(Array.from(a, Number.isNaN)).toEqual([false, true, false, true]);
  });

  it('reduces an empty input to 0 (sum) and NaN (mean), as on the cpu', async () => {
    const e = fromArray([], [0, 3]).to('webgpu');
    expect((await bceWithLogits(e, e, { reduction: 'sum' }).dataAsync())[0]).toBe(0);
    expect(Number.isNaN((await bceWithLogits(e, e).dataAsync())[0]!)).toBe(true);
    expect((await bceWithLogits(e, e, { reduction: 'none' }).dataAsync()).length).toBe(0);
  });

  it('loss.backward() on the device; an in-place update of a saved input before it is refused', () => {
    const x = fromArray([0.5, -1, 2], [3], { dtype: 'float32' }).to('webgpu');
    x.requiresGrad = true;
    const y = fromArray([1, 0, 1], [3], { dtype: 'float32' }).to('webgpu');
    const loss = bceWithLogits(x, y);
    noGrad(() => y.fill_(0.5));
    expect(() => loss.backward()).toThrow(/modified by an inplace operation/);
  });

  it('mixing devices is a DeviceError naming both arguments and devices', () => {
    const x = fromArray([0.5, -1, 2], [3]);
    const y = fromArray([1, 0, 1], [3]);
    const gx = x.to('webgpu');
    const gy = y.to('webgpu');
    expect(() => bceWithLogits(gx, y)).toThrow(DeviceError);
    expect(() => bceWithLogits(gx, y)).toThrow(
      /^bceWithLogits: expected all tensors on the same device, but argument 'input' is on webgpu and argument 'target' is on cpu/,
    );
    expect(() => focal(x, gy)).toThrow(/argument 'input' is on cpu and argument 'target' is on webgpu/);
    expect(() => bceWithLogits(gx, gy, { weight: fromArray([1, 1, 1], [3]) })).toThrow(
      /argument 'weight' is on cpu/,
    );
  });
});
