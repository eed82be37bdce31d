/**
 * The generated function's call interface `run(ctrl, start, end)` (wasm/generate.ts ControlLayout): any
 * range [start, end) computes exactly those elements and touches nothing outside them (odd starts and
 * tails, empty ranges); each call reads its own control block; block partial sums do not depend on how
 * [0, n) is split; program constants too small or too large for float32 keep their sign and finiteness.
 */
import { apply, constant, wasmBackend, wasmSimdAvailable } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';
import { lower } from '../src/codegen/lowering.js';
import { variable } from '../src/expr/node.js';
import { giveBack, heap, takeScratch } from '../src/wasm/arena.js';
import { SUM_BLOCK, type WasmProgramSpec } from '../src/wasm/generate.js';
import { wasmProgram } from '../src/wasm/runtime.js';

const x = variable('x');
const y = variable('y');
const s = variable('s');

/** out0 = x · 1.5 + y · s (stored), out1 = x − y (summed). */
function program(tag: string) {
  const lowered = lower('test', [
    apply('add', apply('mul', x, constant(1.5)), apply('mul', y, s)),
    apply('sub', x, y),
  ]);
  const spec: WasmProgramSpec = {
    outputs: lowered.outputs,
    slots: lowered.slots,
    paramCount: lowered.params.length,
    variables: ['x', 'y', 's'],
    scalar: [false, false, true],
    store: [true, false],
    sum: [false, true],
  };
  const p = wasmProgram(`run-interface-test:${tag}`, () => spec)!;
  expect(p).not.toBeNull();
  return { p, params: lowered.params };
}

/** Lays out x, y, out (n floats each) and partials in scratch memory; returns addresses and a ctrl writer. */
function setup(n: number) {
  const blocks = Math.ceil(n / SUM_BLOCK);
  const bytes = 3 * 4 * (n + 16) + 8 * blocks + 64;
  const mem = takeScratch(bytes)!;
  const xAt = mem.addr + 32;
  const yAt = xAt + 4 * (n + 16);
  const outAt = yAt + 4 * (n + 16);
  const partAt = Math.ceil((outAt + 4 * (n + 16)) / 8) * 8;
  return { mem, xAt, yAt, outAt, partAt, blocks };
}

describe.runIf(wasmSimdAvailable())('run(ctrl, start, end)', () => {
  it('computes exactly [start, end): odd starts, short tails, empty ranges; nothing outside is touched', () => {
    const { p, params } = program('range');
    const n = 40;
    const { mem, xAt, yAt, outAt, partAt } = setup(n);
    const ctrlBlock = takeScratch(p.layout.bytes)!;
    const ctrl = ctrlBlock.addr;
    const L = p.layout;
    for (const [start, end] of [
      [0, 40],
      [3, 14],
      [0, 7],
      [5, 5],
      [1, 2],
      [9, 33],
      [31, 40],
    ] as const) {
      const { f32, i32, f64 } = heap();
      for (let i = 0; i < n; i++) {
        f32[xAt / 4 + i] = i * 0.37 - 3;
        f32[yAt / 4 + i] = 1 / (i + 1);
      }
      // Sentinels: the 8 floats before and after the output, and the output itself.
      f32.fill(-777, outAt / 4 - 8, outAt / 4 + n + 8);
      i32[(ctrl + L.vars) / 4] = xAt;
      i32[(ctrl + L.vars) / 4 + 1] = yAt;
      i32[(ctrl + L.outs) / 4] = outAt;
      i32[(ctrl + L.parts) / 4 + 1] = partAt;
      f64[(ctrl + L.params) / 8] = params[0]!;
      f64[(ctrl + L.params) / 8 + 1] = 0.25;
      f64[partAt / 8] = -1;
      p.run(ctrl, start, end);
      let want = 0;
      for (let i = -8; i < n + 8; i++) {
        const got = f32[outAt / 4 + i]!;
        if (i < start || i >= end) {
          expect(got, `element ${i} outside [${start}, ${end})`).toBe(-777);
          continue;
        }
        const xi = f32[xAt / 4 + i]!;
        const yi = f32[yAt / 4 + i]!;
        expect(got).toBe(Math.fround(Math.fround(xi * 1.5) + Math.fround(yi * 0.25)));
        want += Math.fround(xi - yi);
      }
      // The one block's partial: written (not added) when the range is not empty.
      if (end > start) expect(f64[partAt / 8]).toBeCloseTo(want, 10);
      else expect(f64[partAt / 8]).toBe(-1);
    }
    giveBack(ctrlBlock);
    giveBack(mem);
  });

  it('block partials do not depend on how [0, n) is split, each call with its own control block', () => {
    const { p, params } = program('split');
    const n = 5 * SUM_BLOCK + 123;
    const { mem, xAt, yAt, outAt, partAt, blocks } = setup(n);
    const L = p.layout;
    const { f32 } = heap();
    for (let i = 0; i < n; i++) {
      f32[xAt / 4 + i] = Math.sin(i) * 1e3 + 1e-3 * i;
      f32[yAt / 4 + i] = Math.cos(i * 0.7) * 1e-2;
    }
    const runSplit = (cuts: number[]): Float64Array => {
      const { f64 } = heap();
      f64.fill(Number.NaN, partAt / 8, partAt / 8 + blocks);
      const ranges = cuts.slice(0, -1).map((c, k) => [c, cuts[k + 1]!] as const);
      // Last range first: order must not matter either.
      for (const [a, b] of ranges.reverse()) {
        const block = takeScratch(L.bytes)!;
        const { i32, f64: g } = heap();
        const c = block.addr;
        i32[(c + L.vars) / 4] = xAt;
        i32[(c + L.vars) / 4 + 1] = yAt;
        i32[(c + L.outs) / 4] = outAt;
        i32[(c + L.parts) / 4 + 1] = partAt;
        g[(c + L.params) / 8] = params[0]!;
        g[(c + L.params) / 8 + 1] = 0.25;
        p.run(c, a, b);
        giveBack(block);
      }
      return heap().f64.slice(partAt / 8, partAt / 8 + blocks);
    };
    const whole = runSplit([0, n]);
    expect(whole.every((v) => Number.isFinite(v))).toBe(true);
    for (const cuts of [
      [0, SUM_BLOCK, n],
      [0, 2 * SUM_BLOCK, 3 * SUM_BLOCK, 5 * SUM_BLOCK, n],
      [0, SUM_BLOCK, 2 * SUM_BLOCK, 3 * SUM_BLOCK, 4 * SUM_BLOCK, 5 * SUM_BLOCK, n],
    ]) {
      expect(Array.from(runSplit(cuts))).toEqual(Array.from(whole));
    }
    giveBack(mem);
  });

  it('constants below float32 range stay nonzero, above it stay finite (guards keep their meaning)', () => {
    const q = variable('q');
    // q / where(q < 1e-100, 1e-100, q): 0 at q = 0 only if 1e-100 stays positive in float32 (else 0/0).
    const guard = apply('where', apply('lt', q, constant(1e-100)), constant(1e-100), q);
    const outs = [apply('div', q, guard), apply('min', q, constant(1e300))];
    const n = 8;
    const qv = new Float32Array(n);
    qv[1] = Number.POSITIVE_INFINITY;
    qv[2] = 3;
    const o0 = new Float32Array(n);
    const o1 = new Float32Array(n);
    wasmBackend.elementwise(outs, ['q'], ['array'])([qv], [o0, o1], n);
    expect(o0[0]).toBe(0);
    expect(o0[2]).toBe(1);
    expect(o1[1]).toBe(3.4028234663852886e38);
    expect(o1[0]).toBe(0);
  });
});
