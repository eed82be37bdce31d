/**
 * nn modules on webgpu (issue 13): `module.to('webgpu')` moves parameters and buffers (PyTorch-like), layers
 * and initialisers work when the default device is webgpu (values made on the cpu, then uploaded: the same
 * seed gives the same weights on both devices), `await module.cpu()` moves them back, and zeroGrad clears
 * device gradients. Skipped (with one line) without a WebGPU adapter, except under `CI=true`.
 */
import {
  DtypeError,
  fromArray,
  Generator,
  initWebGPU,
  noGrad,
  setDefaultDevice,
  type Tensor,
} from '@gradkit/autograd';
import { DeviceError, webgpuAvailability } from '@gradkit/kernels';
import {
  Adam,
  buffer,
  Embedding,
  init,
  isParameter,
  LayerNorm,
  Linear,
  Module,
  Sequential,
} from '@gradkit/nn';
import { afterEach, describe, expect, it } from 'vitest';

const availability = await webgpuAvailability();
if (!availability.available) {
  const line = `WebGPU tests skipped (nn module-device.test.ts): ${availability.reason}.`;
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
  console.warn(line);
}

class Net extends Module {
  readonly body: Sequential;
  readonly norm: LayerNorm;
  readonly emb: Embedding;
  readonly mask: Tensor;
  constructor(seed: number, dtype: 'float32' | 'float64' = 'float32') {
    super();
    const generator = new Generator(seed);
    this.body = new Sequential(
      new Linear(4, 3, { generator, dtype }),
      new Linear(3, 2, { generator, dtype }),
    );
    this.norm = new LayerNorm([2], { dtype });
    this.emb = new Embedding(5, 2, { paddingIdx: 1, generator, dtype });
    this.mask = buffer(fromArray([1, 0, 1], [3], { dtype }));
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.body.forward(x));
  }
}

async function values(m: Module): Promise<number[][]> {
  return Promise.all(Object.values(m.stateDict()).map(async (t) => Array.from(await t.dataAsync())));
}

describe.skipIf(!availability.available)('nn modules on webgpu', async () => {
  if (availability.available) await initWebGPU();
  afterEach(() => {
    setDefaultDevice('cpu');
  });

  it("module.to('webgpu') moves every parameter and buffer, keeping marks and values; module.cpu() moves back", async () => {
    const cpu = new Net(7);
    const want = await values(cpu);
    const m = new Net(7).to('webgpu');
    expect(m.parameters().length).toBe(7);
    for (const p of m.parameters()) {
      expect(p.device).toBe('webgpu');
      expect(p.requiresGrad).toBe(true);
      expect(isParameter(p)).toBe(true);
    }
    expect(m.mask.device).toBe('webgpu');
    expect(m.mask.requiresGrad).toBe(false);
    expect(await values(m)).toEqual(want);
    expect(m.to('webgpu')).toBe(m);
    expect(() => m.to('cpu')).toThrow(DeviceError);
    expect(() => m.to('cpu')).toThrow(/await module\.cpu\(\)/);
    const back = await m.cpu();
    expect(back).toBe(m);
    for (const p of m.parameters()) expect([p.device, p.requiresGrad]).toEqual(['cpu', true]);
    expect(await values(m)).toEqual(want);
    expect(() => new Net(7, 'float64').to('webgpu')).toThrow(DtypeError);
  });

  it('layers and initialisers work when the default device is webgpu (same seed, same weights)', async () => {
    const want = await values(new Net(11));
    setDefaultDevice('webgpu');
    const m = new Net(11);
    for (const t of Object.values(m.stateDict())) expect(t.device).toBe('webgpu');
    expect(await values(m)).toEqual(want);
    // The initialisers fill a device tensor in place (bumping its version).
    const w = m.body.parameters()[0]!;
    const v0 = w.version;
    init.constant_(w, 0.5);
    expect(w.version).toBe(v0 + 1);
    expect(Array.from(await w.dataAsync())).toEqual(new Array(12).fill(0.5));
    const g = new Generator(3);
    init.xavierNormal_(w, { generator: g });
    const ref = init.xavierNormal_(fromArray(new Array(12).fill(0), [3, 4], { device: 'cpu' }), {
      generator: new Generator(3),
    });
    expect(Array.from(await w.dataAsync())).toEqual(Array.from(ref.data));
  });

  it('zeroGrad clears device gradients (module and optimizer)', () => {
    const m = new Net(1).to('webgpu');
    const opt = new Adam(m.parameters());
    const fill = () =>
      noGrad(() => {
        for (const p of m.parameters()) p.grad = p.detach().mul(2);
      });
    fill();
    expect(m.parameters().every((p) => p.grad?.device === 'webgpu')).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    fill();
    opt.step();
    opt.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe.skipIf(!availability.available)('zeroGrad on webgpu', () => {
  it('releases the old gradients at once (Module and Optimizer)', async () => {
    await initWebGPU();
    const { memory } = await import('@gradkit/autograd');
    const model = new Linear(4, 3, { generator: new Generator(1) }).to('webgpu');
    const x = fromArray(new Float32Array(8).fill(0.5), [2, 4]).to('webgpu');
    const opt = new Adam(model.parameters());
    for (const clear of [() => model.zeroGrad(), () => opt.zeroGrad()]) {
      model.forward(x).sum().backward();
      const grads = model.parameters().map((p) => p.grad!);
      expect(grads.every((g) => g.device === 'webgpu')).toBe(true);
      const before = memory().buffers;
      clear();
      expect(model.parameters().every((p) => p.grad === null)).toBe(true);
      expect(memory().buffers).toBe(before - grads.length);
      await expect(grads[0]!.dataAsync()).rejects.toThrow(/disposed/);
    }
  });
});
