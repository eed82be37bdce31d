/**
 * Output sizes are checked before anything is allocated: 1-3 positive integers whose product fits a typed
 * array (at most 2^31 - 1 elements); anything else is a ShapeError naming the size, from createKernel and from
 * setOutput alike, and a refused setOutput leaves the kernel's output unchanged.
 */
import { GPU, type GPUMode, ShapeError } from '@gradkit/kernels';
import { afterAll, describe, expect, it } from 'vitest';

const cpu = new GPU({ mode: 'cpu' });
const webgpuMode = new GPU({ mode: 'webgpu' });
afterAll(() => {
  cpu.destroy();
  webgpuMode.destroy();
});

const src = 'function () { return this.thread.x + 10 * this.thread.y; }';

const BAD: Array<[string, unknown, RegExp]> = [
  ['2^31 x 2^31 elements', [2 ** 31, 2 ** 31], /has 4611686018427388000 elements, more than the 2147483647/],
  ['2^31 elements in one dimension', [2 ** 31], /more than the 2147483647 \(2\^31 - 1\)/],
  ['2^16 x 2^16 elements (just over the limit)', [2 ** 16, 2 ** 16], /has 4294967296 elements/],
  ['2^11 cubed', { x: 2048, y: 2048, z: 2048 }, /has 8589934592 elements/],
  ['a zero dimension', [0], /1 to 3 positive integers, got \[0\]/],
  ['a negative dimension', [3, -1], /1 to 3 positive integers, got \[3, -1\]/],
  ['a fractional dimension', [2.5], /1 to 3 positive integers, got \[2\.5\]/],
  ['NaN', [Number.NaN], /1 to 3 positive integers, got \[NaN\]/],
  ['Infinity', [Number.POSITIVE_INFINITY, 1], /1 to 3 positive integers, got \[Infinity, 1\]/],
  ['more than 3 dimensions', [1, 1, 1, 1], /at most 3 dimensions/],
  ['no dimensions', [], /1 to 3 positive integers/],
  ['a string dimension', ['4'], /got \[string "4"\]/],
  ['a bigint dimension', [4n], /got \[bigint 4\]/],
  ['a hole', new Array(3).fill(1, 0, 1).fill(2, 2), /got \[1, undefined, 2\]/],
  ['z without y', { x: 2, z: 3 }, /has z but no y/],
  ['an object with an unknown key', { x: 2, w: 3 }, /only the keys x, y and z, got "w"/],
  ['an object without x', { y: 2 }, /must be \[x\], \[x, y\], \[x, y, z\] or \{ x, y, z \}/],
  ['a number', 5, /must be \[x\], \[x, y\], \[x, y, z\] or \{ x, y, z \}, got number 5/],
  ['null', null, /got null/],
];

describe('bad output sizes are ShapeErrors before anything is allocated', () => {
  for (const [what, output, message] of BAD) {
    it(what, () => {
      for (const gpu of [cpu, webgpuMode] as GPU<GPUMode>[]) {
        expect(() => gpu.createKernel(src, { output: output as [number] })).toThrow(ShapeError);
        expect(() => gpu.createKernel(src, { output: output as [number] })).toThrow(message);
      }
      const k = cpu.createKernel(src, { output: [2, 2] });
      expect(() => k.setOutput(output as [number])).toThrow(ShapeError);
      expect(() => k.setOutput(output as [number])).toThrow(message);
      // The refused size did not replace the old one.
      expect(k.output).toEqual([2, 2]);
      expect((k() as Float32Array[]).map((r) => Array.from(r))).toEqual([
        [0, 1],
        [10, 11],
      ]);
    });
  }

  it('the largest allowed count is accepted without allocating (the size is only checked)', () => {
    const k = cpu.createKernel(src, { output: [2 ** 31 - 1] });
    expect(k.output).toEqual([2 ** 31 - 1]);
    k.setOutput({ x: 46340, y: 46340 });
    expect(k.output).toEqual([46340, 46340]);
    k.setOutput([3]);
    expect(Array.from(k() as Float32Array)).toEqual([0, 1, 2]);
  });
});
