/**
 * Losses under explicit lifetimes (`dispose()` on the cpu): the gradient a loss hands out is its own storage,
 * so disposing it lets the next call reuse the memory — and the loss node never reads that storage again (a
 * second backward recomputes the gradient instead of reading memory that may hold another tensor now).
 */
import { fromArray, full, grad, type Tensor } from '@gradkit/autograd';
import { arenaStats, wasmSimdAvailable } from '@gradkit/kernels';
import { bceWithLogits, focal } from '@gradkit/losses';
import { describe, expect, it } from 'vitest';

const arena = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();
const n = 1 << 16;

function data(): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = Math.sin(i * 0.37) * 4;
    ys[i] = i % 4 === 0 ? 1 : 0;
  }
  return { x: fromArray(xs, [n], { requiresGrad: true }), y: fromArray(ys, [n]) };
}

describe('losses with dispose()', () => {
  it('a second backward after the first gradient was disposed and its memory reused gives the same gradient', () => {
    const { x, y } = data();
    for (const loss of [(u: Tensor) => bceWithLogits(u, y), (u: Tensor) => focal(u, y, { gamma: 1.5 })]) {
      const l = loss(x);
      const [g1] = grad(l, [x], { retainGraph: true }) as [Tensor];
      const first = g1.toArray();
      g1.dispose();
      // Whatever the next allocation of that size gets, it is overwritten with other values.
      full([n], 1234);
      const [g2] = grad(l, [x]) as [Tensor];
      const second = g2.data;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(second[i]! - first[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(first[i]!) + 1e-12);
      }
    }
  });

  it.runIf(arena)('a synchronous training-style loop that disposes its gradients reuses one block', () => {
    const { x, y } = data();
    const step = () => {
      const l = bceWithLogits(x, y);
      const [g] = grad(l, [x]) as [Tensor];
      const v = l.item() + g.data[3]!;
      g.dispose();
      return v;
    };
    const first = step();
    const before = arenaStats();
    for (let i = 0; i < 300; i++) expect(step()).toBe(first);
    const after = arenaStats();
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.fallbacks).toBe(before.fallbacks);
    expect(after.released - before.released).toBe(300);
  });
});
