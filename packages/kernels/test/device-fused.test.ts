/**
 * Fused device kernels (issue 13): broadcast operands, in-place targets, NaN guards, the fused
 * expression-plus-tree-reduction sum and the sum down to a broadcast shape, against float64 references.
 */
import {
  ArgumentError,
  add,
  constant,
  deviceFusedMap,
  deviceFusedSum,
  div,
  mul,
  ShapeError,
  variable,
  WebGpuArrays,
} from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';

const { gpu } = await setupWebGpu('device-fused.test.ts');
const rt = gpu === null ? null : await WebGpuArrays.create();
afterAll(() => {
  rt?.destroy();
  gpu?.destroy();
});

const [a, b, c, s] = ['a', 'b', 'c', 's'].map((n) => variable(n)) as [
  ReturnType<typeof variable>,
  ReturnType<typeof variable>,
  ReturnType<typeof variable>,
  ReturnType<typeof variable>,
];
const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

describe.skipIf(rt === null)('fused device kernels', () => {
  it('maps over same-shape, broadcast, one-element and scalar operands', async () => {
    const r = rt!;
    const shape = [3, 4, 5];
    const n = 60;
    const av = seq(n, (i) => i * 0.5 - 7);
    const bv = seq(4 * 1, (i) => i + 1); // [4, 1]
    const cv = seq(1, () => 3);
    const A = r.upload(av);
    const B = r.upload(bv);
    const C = r.upload(cv);
    const [out] = deviceFusedMap(r, 'test', {
      outputs: [add(mul(a, b), mul(c, s))],
      variables: ['a', 'b', 'c', 's'],
      operands: [{ array: A, shape }, { array: B, shape: [4, 1] }, { array: C, shape: [] }, 2.5],
      shape,
    });
    const got = await r.read(out!);
    for (let i = 0; i < n; i++) {
      const j = Math.floor(i / 5) % 4;
      expect(got[i]).toBeCloseTo(av[i]! * bv[j]! + 3 * 2.5, 4);
    }
    for (const d of [A, B, C, out!]) d.dispose();
  });

  it('writes outputs in place and takes a NaN guard alternative', async () => {
    const r = rt!;
    const n = 130;
    const A = r.upload(seq(n, (i) => i - 65));
    const G = r.upload(seq(n, () => 1));
    // a ← a / g where that is not NaN (0/0 at a = 0), else 7
    deviceFusedMap(r, 'test', {
      outputs: [div(a, mul(a, b)), constant(7)],
      variables: ['a', 'b'],
      operands: [
        { array: A, shape: [n] },
        { array: G, shape: [n] },
      ],
      shape: [n],
      targets: [0, 'none'],
      guards: [[0, 1]],
    });
    const got = await r.read(A);
    for (let i = 0; i < n; i++) expect(got[i]).toBe(i === 65 ? 7 : 1);
    A.dispose();
    G.dispose();
  });

  it('sums a fused expression with a tree reduction, in float32 within tolerance of float64', async () => {
    const r = rt!;
    for (const n of [0, 1, 255, 256, 257, 5000, 300_001]) {
      const av = seq(n, (i) => Math.sin(i) * 3 + 0.25);
      const A = r.upload(av);
      const sum = deviceFusedSum(
        r,
        'test',
        { outputs: [mul(a, s)], variables: ['a', 's'], operands: [{ array: A, shape: [n] }, 2], shape: [n] },
        n === 0 ? 1 : 1 / n,
      );
      let want = 0;
      for (const v of av) want += v * 2;
      want = n === 0 ? 0 : want / n;
      const [got] = await r.read(sum);
      expect(Math.abs(got! - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      A.dispose();
      sum.dispose();
    }
  });

  it('write overwrites a device array in queue order and refuses a length mismatch', async () => {
    const r = rt!;
    const A = r.upload([1, 2, 3]);
    const [before] = deviceFusedMap(r, 'test', {
      outputs: [mul(a, 2)],
      variables: ['a'],
      operands: [{ array: A, shape: [3] }],
      shape: [3],
    });
    r.write(A, [4, 5, 6.5]);
    expect(Array.from(await r.read(before!))).toEqual([2, 4, 6]);
    expect(Array.from(await r.read(A))).toEqual([4, 5, 6.5]);
    expect(() => r.write(A, [1, 2])).toThrow(ShapeError);
    expect(() => r.write({} as never, [1])).toThrow(ArgumentError);
    A.dispose();
    before!.dispose();
  });

  it('refuses operands that do not broadcast or are not device arrays', () => {
    const r = rt!;
    const A = r.upload([1, 2, 3]);
    const call = (operand: unknown) =>
      deviceFusedMap(r, 'test', {
        outputs: [a],
        variables: ['a'],
        operands: [operand as never],
        shape: [2, 3],
      });
    expect(() => call({ array: A, shape: [3, 1] })).toThrow(ShapeError);
    expect(() => call({ array: {}, shape: [3] })).toThrow(ArgumentError);
    A.dispose();
  });
});
