/**
 * The f32x4 lane arithmetic of VecCode32 (float32 programs): each operation run on four lanes agrees with
 * the float32-rounded JavaScript result, masks select per lane, and copySign moves only the sign bit.
 */
import { describe, expect, it } from 'vitest';
import { Body, moduleBytes, SIMD } from '../src/wasm/emit.js';
import { type Arg32, K32, VecCode32 } from '../src/wasm/math32.js';

/** Runs `f` over four-lane vectors a, b (16-byte slots at 0 and 16), storing the result at 32. */
function lanes(f: (c: VecCode32, a: number, b: number) => number, a: number[], b: number[]): number[] {
  const body = new Body(0);
  const c = new VecCode32(body);
  body.i32(0).simd(SIMD.load, ...Body.memarg(4, 0));
  const la = c.store();
  body.i32(0).simd(SIMD.load, ...Body.memarg(4, 16));
  const lb = c.store();
  const r = f(c, la, lb);
  body.i32(0);
  c.push(r);
  body.simd(SIMD.store, ...Body.memarg(4, 32));
  body.code.unshift(...c.prologue());
  const mem = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(
    new WebAssembly.Module(moduleBytes([{ name: 'run', params: 0, body }])),
    {
      m: { mem },
    },
  );
  const v = new Float32Array(mem.buffer);
  v.set(a, 0);
  v.set(b, 4);
  (inst.exports.run as () => void)();
  return Array.from(v.subarray(8, 12));
}

const A = [1.5, -2.25, 3e38, Number.NaN];
const B = [0.1, -0.5, 3e38, 2];
const f32 = (x: number) => Math.fround(x);

describe('VecCode32 lane arithmetic', () => {
  it.each([
    ['add', (c: VecCode32, a: Arg32, b: Arg32) => c.add(a, b), (x: number, y: number) => f32(x + y)],
    ['sub', (c: VecCode32, a: Arg32, b: Arg32) => c.sub(a, b), (x: number, y: number) => f32(x - y)],
    ['mul', (c: VecCode32, a: Arg32, b: Arg32) => c.mul(a, b), (x: number, y: number) => f32(x * y)],
    ['div', (c: VecCode32, a: Arg32, b: Arg32) => c.div(a, b), (x: number, y: number) => f32(x / y)],
    ['min', (c: VecCode32, a: Arg32, b: Arg32) => c.min(a, b), (x: number, y: number) => f32(Math.min(x, y))],
    ['max', (c: VecCode32, a: Arg32, b: Arg32) => c.max(a, b), (x: number, y: number) => f32(Math.max(x, y))],
  ] as const)('%s matches float32-rounded JavaScript', (_, op, ref) => {
    const a = A.map(f32);
    const b = B.map(f32);
    expect(lanes((c, x, y) => op(c, x, y), a, b)).toEqual(a.map((x, i) => ref(x, b[i]!)));
  });

  it('compares into masks, selects per lane and copies signs', () => {
    const a = [1, 2, 3, 4];
    const b = [2, 2, 1, Number.NaN];
    expect(lanes((c, x, y) => c.select(c.cmp('lt', x, y), K32(10), K32(20)), a, b)).toEqual([10, 20, 20, 20]);
    expect(lanes((c, x, y) => c.select(c.cmp('ne', x, y), x, y), a, b)).toEqual([1, 2, 3, 4]);
    expect(lanes((c, x, y) => c.copySign(x, y), [1, -2, 3, -0], [-1, 1, -0, 5])).toEqual([-1, 2, -3, 0]);
    expect(lanes((c, x) => c.horner(x, [1, 2, 3]), [0, 1, 2, -1], [0, 0, 0, 0])).toEqual([1, 6, 17, 2]);
  });
});
