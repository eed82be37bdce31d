/**
 * Eager partial derivatives: a float32 elementwise node on WebAssembly whose expression evaluates at least two
 * transcendental functions computes its partial derivatives in the forward loop, and its backward multiplies
 * them by the output gradient. Its gradients must be the derived backward's up to float32 rounding (checked
 * against float64 over random shapes, broadcasts and values), the derived spec must still serve createGraph
 * (second derivatives), the partials must be disposed when the node is released and kept for a retained
 * graph, and cheap expressions must keep re-evaluating in backward.
 */
import {
  elementwiseSpec,
  fromArray,
  fuse,
  grad,
  inputVariable,
  type Tensor,
  toDtype,
  type Value,
} from '@gradkit/autograd';
import {
  arenaStats,
  exp,
  mul,
  setElementwiseBackend,
  tanh,
  variable,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { broadcastShapes, propertyConfig, tensorsOf } from '@gradkit/testing';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** Three transcendental functions (sigmoid, tanh, exp) of two inputs: eager partials apply. */
const chain = (a: Value, b: Value) =>
  a.mul(b).add(1).sigmoid().sub(a).abs().mul(0.5).add(b).tanh().mul(a).exp();
const costly = fuse(chain, 'eagerChain');
const arena = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();

/** A new leaf that requires grad: `t`'s values in `dtype`. */
function leaf(t: Tensor, dtype: 'float32' | 'float64'): Tensor {
  const l = toDtype(t, dtype).detach();
  l.requiresGrad = true;
  return l;
}

/** |got − want| ≤ tol·(|want| + scale) elementwise, scale the largest |want| (float32 rounding of a product chain). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    expect(d, `${what} element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
      tol * (Math.abs(want[i]!) + 1e-3 * scale),
    );
  }
}

describe.runIf(wasmSimdAvailable())('eager partial derivatives (float32, WebAssembly)', () => {
  // Every size runs on WebAssembly here, so small property-test tensors take the eager path too.
  beforeEach(() => setElementwiseBackend('wasm'));
  afterEach(() => setElementwiseBackend('auto'));

  it('only costly single-output expressions compute their partials eagerly', () => {
    const v = variable(inputVariable(0));
    expect(elementwiseSpec('two', [exp(tanh(v))], 1).eagerPartials).toBe(true);
    expect(elementwiseSpec('one', [tanh(mul(v, v))], 1).eagerPartials).toBe(false);
    expect(elementwiseSpec('pair', [exp(tanh(v)), v], 1).eagerPartials).toBe(false);
  });

  it.runIf(arena)(
    'the forward stores the partials; a backward without retainGraph disposes them at once',
    () => {
      const n = 4096;
      const x = fromArray(
        Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
        [n],
        { requiresGrad: true },
      );
      const y = fromArray(
        Float32Array.from({ length: n }, (_, i) => Math.cos(i)),
        [n],
        { requiresGrad: true },
      );
      const before = arenaStats();
      const out = costly(x, y);
      const mid = arenaStats();
      // The output and one partial per input, each in the arena.
      expect(mid.allocations - before.allocations).toBe(3);
      const seed = fromArray(new Float32Array(n).fill(0.5), [n]);
      const g1 = grad(out, [x, y], { retainGraph: true, gradOutputs: [seed] }) as Tensor[];
      // Retained: the partials are kept, and a second backward gives the same gradients.
      expect(arenaStats().released - mid.released).toBe(0);
      const g2 = grad(out, [x, y], { gradOutputs: [seed] }) as Tensor[];
      expect(Array.from(g2[0]!.data)).toEqual(Array.from(g1[0]!.data));
      expect(Array.from(g2[1]!.data)).toEqual(Array.from(g1[1]!.data));
      // Released after the last backward: both partials went back to the arena.
      expect(arenaStats().released - mid.released).toBeGreaterThanOrEqual(2);
    },
  );

  it('createGraph runs the derived backward: second derivatives agree with float64', () => {
    const n = 64;
    const xs = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
    const ys = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const second = (dtype: 'float32' | 'float64') => {
      const x = fromArray(xs, [n], { dtype, requiresGrad: true });
      const y = fromArray(ys, [n], { dtype, requiresGrad: true });
      const [gx] = grad(costly(x, y).sum(), [x], { createGraph: true }) as [Tensor];
      return (grad(gx.sum(), [x, y]) as Tensor[]).map((t) => t.data);
    };
    const [hx32, hy32] = second('float32');
    const [hx64, hy64] = second('float64');
    expectClose(hx32!, hx64!, 5e-5, 'd²/dx²');
    expectClose(hy32!, hy64!, 5e-5, 'd²/dxdy');
  });

  it('gradients agree with float64 over random shapes, broadcasts and values (float32 tolerance)', () => {
    fc.assert(
      fc.property(
        tensorsOf(broadcastShapes(2, { maxRank: 3, maxDim: 5, maxSize: 60 }), {
          min: -2,
          max: 2,
          requiresGrad: true,
        }),
        ([a, b]) => {
          const x = leaf(a!, 'float32');
          const y = leaf(b!, 'float32');
          const out = costly(x, y);
          const seed = fromArray(
            Float32Array.from({ length: out.size }, (_, i) => Math.cos(i + 1)),
            out.shape,
          );
          const runs = wasmStats().runs;
          const g32 = grad(out, [x, y], { gradOutputs: [seed] }) as Tensor[];
          if (out.size > 0) expect(wasmStats().runs).toBeGreaterThan(runs);
          const x64 = leaf(x, 'float64');
          const y64 = leaf(y, 'float64');
          const g64 = grad(costly(x64, y64), [x64, y64], {
            gradOutputs: [toDtype(seed, 'float64')],
          }) as Tensor[];
          expectClose(g32[0]!.data, g64[0]!.data, 2e-5, 'd/dx');
          expectClose(g32[1]!.data, g64[1]!.data, 2e-5, 'd/dy');
        },
      ),
      propertyConfig({ numRuns: 60 }),
    );
  });
});
