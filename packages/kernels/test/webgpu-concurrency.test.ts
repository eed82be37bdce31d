/**
 * Calls in flight at once each get their own result (issue 8): every webgpu call owns its parameter, input and
 * output buffers until its work is submitted, and every argument is read when the call is made, not after an
 * await (so changing an array after the call does not change the call's result), on cpu and webgpu, for
 * kernels and for createElementwise runners.
 */
import { add, GPU, type GPUMode, mul, variable } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';

const { gpu: webgpu } = await setupWebGpu('webgpu-concurrency.test.ts');
const cpu = new GPU({ mode: 'cpu' });
const auto = await GPU.create({ mode: 'auto' });
afterAll(() => {
  webgpu?.destroy();
  cpu.destroy();
  auto.destroy();
});

const N = 100;
const src = 'function (a, s) { return a[this.thread.x] * 2 + s; }';
const inputOf = (k: number) => Float32Array.from({ length: N }, (_, i) => k * 1000 + i);
const expectedOf = (k: number) => Float32Array.from({ length: N }, (_, i) => (k * 1000 + i) * 2 + k);

describe.skipIf(webgpu === null)('concurrent webgpu calls', () => {
  it('64 calls of one kernel in flight at once each return their own output (run and direct call)', async () => {
    const k = webgpu!.createKernel(src, { output: [N] });
    const ids = Array.from({ length: 64 }, (_, i) => i);
    const viaRun = await Promise.all(ids.map((i) => k.run(inputOf(i), i)));
    const viaCall = await Promise.all(ids.map((i) => k(inputOf(i), i)));
    for (const i of ids) {
      expect(viaRun[i], `run #${i}`).toEqual(expectedOf(i));
      expect(viaCall[i], `call #${i}`).toEqual(expectedOf(i));
    }
    k.destroy();
  });

  it('concurrent calls of different output sizes and argument kinds', async () => {
    const k = webgpu!.createKernel(src, { output: [N] });
    const calls = Array.from({ length: 16 }, (_, i) => {
      const data = i % 2 === 0 ? inputOf(i) : Array.from(inputOf(i));
      return k.run(data, i);
    });
    const outs = await Promise.all(calls);
    outs.forEach((o, i) => {
      expect(o, `#${i}`).toEqual(expectedOf(i));
    });
    k.destroy();
  });

  it('pipeline calls in flight at once each keep their own result', async () => {
    const k = webgpu!.createKernel(src, { output: [N], pipeline: true });
    const results = Array.from({ length: 32 }, (_, i) => k(inputOf(i), i));
    const outs = await Promise.all(results.map((r) => r.readFlat()));
    outs.forEach((o, i) => {
      expect(o, `#${i}`).toEqual(expectedOf(i));
    });
    for (const r of results) r.delete();
    k.destroy();
  });

  it('createElementwise: 64 runs in flight at once each return their own outputs', async () => {
    const x = variable('x');
    const s = variable('s');
    const run = webgpu!.createElementwise([add(mul(x, 2), s)], ['x', 's'], ['array', 'scalar']);
    const ids = Array.from({ length: 64 }, (_, i) => i);
    const outs = await Promise.all(ids.map((i) => run.run([inputOf(i), i], N)));
    for (const i of ids) expect(outs[i]![0], `#${i}`).toEqual(expectedOf(i));
  });

  it('the first call on a fresh kernel (pipeline still compiling) and later ones agree', async () => {
    const k = webgpu!.createKernel('function (a) { return a[this.thread.x] + 1; }', { output: [4] });
    const [p, q] = await Promise.all([k([1, 2, 3, 4]), k([10, 20, 30, 40])]);
    expect(p).toEqual(new Float32Array([2, 3, 4, 5]));
    expect(q).toEqual(new Float32Array([11, 21, 31, 41]));
    k.destroy();
  });
});

const MODES: Array<[string, () => GPU<GPUMode> | null]> = [
  ['cpu', () => cpu],
  ['auto', () => auto],
  ['webgpu', () => webgpu],
];

for (const [label, get] of MODES) {
  describe.skipIf(get() === null)(`arguments are read at call time (${label})`, () => {
    it('kernel.run: changing a typed array after the call does not change the result', async () => {
      const k = get()!.createKernel('function (a) { return a[this.thread.x]; }', { output: [8] });
      const buf = new Float32Array(8);
      buf.fill(1);
      const p1 = k.run(buf);
      buf.fill(2);
      const p2 = k.run(buf);
      buf.fill(3);
      expect(await p1).toEqual(new Float32Array(8).fill(1));
      expect(await p2).toEqual(new Float32Array(8).fill(2));
      k.destroy();
    });

    it('direct calls, Float64Array and input() arguments are read at call time too', async () => {
      const k = get()!.createKernel('function (a, b) { return a[this.thread.x] + b[this.thread.x]; }', {
        output: [4],
      });
      const a = new Float64Array(4).fill(1);
      const b = new Int32Array(4).fill(10);
      const p = Promise.resolve(k(a, b));
      a.fill(5);
      b.fill(50);
      expect(await p).toEqual(new Float32Array(4).fill(11));
      k.destroy();
    });

    it('createElementwise: changing an input after the call does not change the result', async () => {
      const x = variable('x');
      const run = get()!.createElementwise([mul(x, 3)], ['x'], ['array']);
      const buf = new Float32Array(5).fill(1);
      const p = run.run([buf], 5);
      buf.fill(2);
      const plainArray = [1, 1, 1, 1, 1];
      const q = run.run([plainArray], 5);
      plainArray.fill(7);
      expect((await p)[0]).toEqual(new Float32Array(5).fill(3));
      expect((await q)[0]).toEqual(new Float32Array(5).fill(3));
    });
  });
}
