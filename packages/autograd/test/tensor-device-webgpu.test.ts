/**
 * Tensors on WebGPU (issue 13, first slice): moving tensors between devices, asynchronous reads, fused
 * elementwise ops on the device against the cpu backend (float32 tolerance), the typed errors, and the live
 * buffer count over many ops. Without an adapter the WebGPU tests are skipped with one line, except under
 * `CI=true`, where they must run.
 */
import {
  arange,
  eye,
  fromArray,
  full,
  fuse,
  Generator,
  getDefaultDevice,
  initWebGPU,
  linspace,
  markModified,
  matmul,
  memory,
  noGrad,
  norm,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  scalarTensor,
  setDefaultDevice,
  type Tensor,
  tensor,
  type Value,
  where,
  zeros,
  zerosLike,
} from '@gradkit/autograd';
import { ArgumentError, DeviceError, DtypeError, ShapeError, webgpuAvailability } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const availability = await webgpuAvailability();
if (!availability.available) {
  const line = `WebGPU tests skipped (tensor-device-webgpu.test.ts): ${availability.reason}.`;
  if (process.env.CI === 'true') throw new Error(`CI=true requires WebGPU: ${line}`);
  console.warn(line);
}
const HAVE = availability.available;

/** Indices where |got - want| > atol + rtol |want| (NaN matches NaN). */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): number[] {
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(Math.abs(g - w) <= atol + rtol * Math.abs(w))) bad.push(i);
  }
  return got.length === want.length ? bad : [-1];
}

describe('tensor devices without WebGPU', () => {
  it("tensors are on 'cpu' by default; the async reads work there too; to('cpu') and to(dtype) still work", async () => {
    const t = tensor([1, 2, 3]);
    expect(t.device).toBe('cpu');
    expect(t.to('cpu')).toBe(t);
    expect(t.to('float64').dtype).toBe('float64');
    expect(Array.from(await t.dataAsync())).toEqual([1, 2, 3]);
    expect(await t.arrayAsync()).toEqual([1, 2, 3]);
    expect(await tensor(4).itemAsync()).toBe(4);
    expect(() => t.itemAsync()).toThrow(ShapeError);
    expect(await t.cpu()).toBe(t);
  });

  it('DeviceError is a GradkitError with code E_DEVICE', () => {
    const e = new DeviceError('op', 'message');
    expect(e.code).toBe('E_DEVICE');
    expect(e.message).toBe('op: message');
  });

  it("to('webgpu') of a float64 tensor is a DtypeError that says WebGPU has no float64", () => {
    expect(() => tensor([1], { dtype: 'float64' }).to('webgpu')).toThrow(DtypeError);
    expect(() => tensor([1], { dtype: 'float64' }).to('webgpu')).toThrow(/no float64/);
  });

  it('an unknown device or dtype is refused', () => {
    expect(() => tensor([1]).to('gpu' as 'cpu')).toThrow(/dtype/);
  });

  it("creation functions take a device option: 'cpu' is the default; an unknown device is an ArgumentError", () => {
    expect(getDefaultDevice()).toBe('cpu');
    expect(zeros([2], { device: 'cpu' }).device).toBe('cpu');
    expect(() => zeros([2], { device: 'gpu' as 'cpu' })).toThrow(ArgumentError);
    expect(() => rand([2], { device: 'cuda' as 'cpu' })).toThrow(/option 'device' must be 'cpu' or 'webgpu'/);
    expect(() => setDefaultDevice('gpu' as 'cpu')).toThrow(ArgumentError);
    setDefaultDevice('cpu');
    expect(getDefaultDevice()).toBe('cpu');
  });
});

describe.skipIf(!HAVE)('tensors on WebGPU', async () => {
  if (HAVE) await initWebGPU();

  const gpu = (values: number[], shape: number[]): Tensor => fromArray(values, shape).to('webgpu');

  it("to('webgpu') keeps shape and values; the async reads return them; sync reads throw a DeviceError", async () => {
    const t = gpu([1.5, -2, 3, 4], [2, 2]);
    expect(t.device).toBe('webgpu');
    expect(t.shape).toEqual([2, 2]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.dataAsync())).toEqual([1.5, -2, 3, 4]);
    expect(await t.arrayAsync()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(await gpu([7], []).itemAsync()).toBe(7);
    const back = await t.cpu();
    expect(back.device).toBe('cpu');
    expect(Array.from(back.data)).toEqual([1.5, -2, 3, 4]);
    expect(() => t.data).toThrow(DeviceError);
    expect(() => t.toArray()).toThrow(/dataAsync/);
    expect(() => t.tolist()).toThrow(/arrayAsync/);
    expect(() => gpu([7], []).item()).toThrow(/itemAsync/);
    expect(() => t.to('cpu')).toThrow(DeviceError);
    expect(t.to('webgpu')).toBe(t);
    t.dispose();
    await expect(t.dataAsync()).rejects.toThrow(/disposed/);
  });

  it('elementwise ops and fused functions on the device match the cpu within float32 tolerance', async () => {
    const f = fuse((x: Value, y: Value) => x.sigmoid().sub(y).abs().pow(2).add(x.mul(y).tanh()));
    const arb = fc.constantFrom<number[]>([1], [5], [3, 4], [2, 3, 5], [0], [130]).chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = fc.array(fc.float({ min: -8, max: 8, noNaN: true, noDefaultInfinity: true }), {
        minLength: n,
        maxLength: n,
      });
      return fc.record({
        shape: fc.constant(shape),
        a: values,
        b: values,
        s: fc.float({ min: -3, max: 3, noNaN: true }),
      });
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, a, b, s }) => {
        const x = fromArray(a, shape);
        const y = fromArray(b, shape);
        const one = fromArray([s], []);
        const ops: Array<(p: Tensor, q: Tensor, c: Tensor) => Tensor> = [
          (p, q) => p.add(q),
          (p, q) => p.mul(q).sub(p),
          (p) => p.exp().log1p(),
          (p, q) => p.tanh().div(q.abs().add(1)),
          (p, q) => f(p, q),
          (p) => p.mul(s).add(2),
          (p, _, c) => p.mul(c),
          (p, q) => where(p.gt(q), p, q.neg()),
        ];
        for (const run of ops) {
          const want = run(x, y, one);
          const got = run(x.to('webgpu'), y.to('webgpu'), one.to('webgpu'));
          expect(got.device).toBe('webgpu');
          expect(got.shape).toEqual(want.shape);
          expect(mismatches(await got.dataAsync(), want.data)).toEqual([]);
        }
      }),
      propertyConfig({ numRuns: 20 }),
    );
  });

  it('the creation functions make tensors on webgpu with the values the cpu makes (random ones too)', async () => {
    const cases: Array<[string, (device: 'cpu' | 'webgpu') => Tensor]> = [
      [
        'tensor',
        (device) =>
          tensor(
            [
              [1, 2.5],
              [-3, 4],
            ],
            { device },
          ),
      ],
      ['fromArray', (device) => fromArray([1, 2, 3, 4, 5, 6], [2, 3], { device })],
      ['zeros', (device) => zeros([3, 2], { device })],
      ['ones', (device) => ones(4, { device })],
      ['full', (device) => full([2, 2], -1.5, { device })],
      ['arange', (device) => arange(0, 5, 0.5, { device })],
      ['linspace', (device) => linspace(-1, 1, 7, { device })],
      ['eye', (device) => eye(3, 2, { device })],
      ['scalarTensor', (device) => scalarTensor(3.25, { device })],
      ['rand', (device) => rand([5, 3], { device, generator: new Generator(7) })],
      ['randn', (device) => randn([17], { device, generator: new Generator(7) })],
      ['randint', (device) => randint(-4, 9, [6], { device, generator: new Generator(7) })],
    ];
    for (const [name, make] of cases) {
      const want = make('cpu');
      const got = make('webgpu');
      expect([name, got.device]).toEqual([name, 'webgpu']);
      expect([name, got.shape]).toEqual([name, want.shape]);
      expect([name, Array.from(await got.dataAsync())]).toEqual([name, Array.from(want.data)]);
      got.dispose();
    }
    const g = fromArray([1, 2, 3], [3], { device: 'webgpu' });
    expect(zerosLike(g).device).toBe('webgpu');
    expect(Array.from(await onesLike(g).dataAsync())).toEqual([1, 1, 1]);
    expect(zerosLike(g, { device: 'cpu' }).device).toBe('cpu');
    expect(() => zeros([2], { device: 'webgpu', dtype: 'float64' })).toThrow(DtypeError);
    const leaf = ones([2], { device: 'webgpu', requiresGrad: true });
    expect([leaf.device, leaf.requiresGrad, leaf.gradFn]).toEqual(['webgpu', true, null]);
    expect(leaf.exp().gradFn).not.toBe(null);
  });

  it("setDefaultDevice('webgpu') makes the creation functions create there until it is set back", async () => {
    setDefaultDevice('webgpu');
    try {
      expect(getDefaultDevice()).toBe('webgpu');
      const a = tensor([1, 2, 3]);
      const b = arange(3);
      expect([a.device, b.device, rand([2]).device]).toEqual(['webgpu', 'webgpu', 'webgpu']);
      expect(Array.from(await a.add(b).dataAsync())).toEqual([1, 3, 5]);
      expect(zeros([2], { device: 'cpu' }).device).toBe('cpu');
    } finally {
      setDefaultDevice('cpu');
    }
    expect(tensor([1]).device).toBe('cpu');
  });

  it('var, std and norm run on webgpu and match the cpu', async () => {
    const data = [1, 2, 3, 4, 5, 6.5];
    const x = gpu(data, [2, 3]);
    const c = fromArray(data, [2, 3], { dtype: 'float32' });
    const cases: Array<[string, (t: Tensor) => Tensor]> = [
      ['var', (t) => t.var()],
      ['var axis 1', (t) => t.var(1, { correction: 0 })],
      ['std axis 0', (t) => t.std(0, { keepDims: true })],
      ['norm', (t) => norm(t)],
      ['norm 1 axis 1', (t) => norm(t, 1, 1)],
      ['norm inf', (t) => norm(t, Number.POSITIVE_INFINITY)],
    ];
    for (const [name, f] of cases) {
      const got = Array.from(await f(x).dataAsync());
      const want = Array.from(f(c).data);
      expect([name, got.length]).toEqual([name, want.length]);
      const bad = got.findIndex(
        (g, i) => !(Math.abs(g - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!))),
      );
      expect([name, bad]).toEqual([name, -1]);
    }
  });

  it('in-place ops run on webgpu (views see the update, versions bump) and refuse mixed devices', async () => {
    const w = gpu([1, 2, 3], [3, 1]);
    // matmul, which runs on webgpu, names both arguments when only the second one is on the device
    expect(() => matmul(fromArray([1, 2, 3], [1, 3]), w)).toThrow(
      /argument 'b' is on webgpu and argument 'a' is on cpu/,
    );
    const c = fromArray([1, 2], [2]);
    const g = gpu([1, 2], [2]);
    noGrad(() => {
      expect(() => c.mul_(g)).toThrow(/^mul_: .*in place is on cpu and argument 'other' is on webgpu/);
      expect(() => g.copy_(c)).toThrow(DeviceError);
    });
    const m = gpu([1, 2, 3, 4, 5, 6], [2, 3]);
    const view = m.reshape([6]);
    const row = gpu([10, 20, 30], [3]);
    const ops: Array<[string, () => unknown, number[]]> = [
      ['add_ broadcast, alpha', () => m.add_(row, 2), [21, 42, 63, 24, 45, 66]],
      ['sub_ scalar', () => m.sub_(1), [20, 41, 62, 23, 44, 65]],
      ['mul_', () => m.mul_(gpu([1, 0, 1, 0, 1, 0], [2, 3])), [20, 0, 62, 0, 44, 0]],
      ['div_', () => m.div_(2), [10, 0, 31, 0, 22, 0]],
      ['clamp_', () => m.clamp_(1, 30), [10, 1, 30, 1, 22, 1]],
      ['fill_', () => m.fill_(7), [7, 7, 7, 7, 7, 7]],
      ['zero_', () => m.zero_(), [0, 0, 0, 0, 0, 0]],
      ['copy_', () => m.copy_(gpu([1, 2, 3], [3])), [1, 2, 3, 1, 2, 3]],
    ];
    let version = m.version;
    for (const [name, run, want] of ops) {
      noGrad(run);
      expect([name, Array.from(await view.dataAsync())]).toEqual([name, want]);
      expect([name, m.version]).toEqual([name, version + 1]);
      version = m.version;
    }
    // markModified works on the device too (the optimizers' fused updates): it bumps the device counter.
    markModified(g);
    expect(g.version).toBe(1);
    expect(Array.from(c.data)).toEqual([1, 2]);
  });

  it('an in-place update of a tensor a device graph saved is refused at backward (not a wrong gradient)', () => {
    const a = gpu([1, 2, 3, 4], [2, 2]);
    a.requiresGrad = true;
    const b = gpu([1, 0, 0, 1], [2, 2]);
    const out = matmul(a, b).sum();
    noGrad(() => b.mul_(2));
    expect(() => out.backward()).toThrow(/modified by an inplace operation/);
  });

  it('mixing devices in one op is a DeviceError naming both', () => {
    const g = gpu([1, 2], [2]);
    const c = fromArray([1, 2], [2]);
    expect(() => g.add(c)).toThrow(DeviceError);
    expect(() => c.mul(g)).toThrow(/webgpu.*cpu/);
  });

  it('an op on a webgpu tensor that requires grad joins the graph; moving a cpu tensor that requires grad is refused', () => {
    const c = fromArray([1, 2], [2]);
    c.requiresGrad = true;
    expect(() => c.to('webgpu')).toThrow(DeviceError);
    expect(() => c.to('webgpu')).toThrow(/not differentiable/);
    const g = noGrad(() => c.to('webgpu'));
    g.requiresGrad = true;
    expect(g.exp().requiresGrad).toBe(true);
    expect(noGrad(() => g.exp()).requiresGrad).toBe(false);
  });

  it('a broadcast that needs strides runs on webgpu (the strided kernel)', async () => {
    const s = gpu([1, 2, 3, 4, 5, 6], [2, 3]).add(gpu([1, 2, 3], [3]));
    expect(Array.from(await s.dataAsync())).toEqual([2, 4, 6, 5, 7, 9]);
  });

  it('1,000 elementwise ops with dispose keep the live buffer count flat', async () => {
    const x = gpu([1, 2, 3, 4], [4]);
    let acc = x.mul(1);
    const before = memory();
    for (let i = 0; i < 1000; i++) {
      const half = acc.mul(0.5);
      const next = half.add(x);
      half.dispose();
      acc.dispose();
      acc = next;
    }
    expect(memory()).toEqual(before);
    const want = [2, 4, 6, 8];
    expect(mismatches(await acc.dataAsync(), want)).toEqual([]);
    const made = memory().buffers;
    acc.dispose();
    x.dispose();
    expect(memory().buffers).toBe(made - 2);
  });
});
