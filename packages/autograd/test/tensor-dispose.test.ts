/**
 * `dispose()` on the cpu: explicit lifetimes for arena storage. A disposed tensor refuses every read with a
 * StateError; its arena memory goes back to the arena at once when no other tensor shares it (views keep it),
 * so a synchronous loop that disposes what it is done with reuses the same blocks instead of growing the arena
 * or falling back to ordinary arrays; a graph that saved a disposed tensor refuses to run backward.
 */
import {
  backward,
  fromArray,
  full,
  fuse,
  linear,
  matmul,
  record,
  StateError,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import { arenaStats, isArenaStorage, wasmSimdAvailable } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

const arena = typeof SharedArrayBuffer === 'function' && wasmSimdAvailable();

/** Every read of a disposed tensor is a StateError naming the read. */
function expectDisposed(t: Tensor): void {
  expect(t.isDisposed).toBe(true);
  expect(() => t.data).toThrow(StateError);
  expect(() => t.data).toThrow(/Tensor\.data.*disposed/);
  expect(() => t.toArray()).toThrow(/toArray.*disposed/);
  expect(() => t.tolist()).toThrow(/tolist.*disposed/);
  expect(() => t.detach()).toThrow(/detach.*disposed/);
  expect(() => t.version).toThrow(StateError);
  expect(String(t)).toContain('disposed');
}

describe('dispose() on the cpu', () => {
  it('a disposed tensor (small or arena) refuses every read; dispose is idempotent', () => {
    for (const shape of [[3], [64, 64]]) {
      const t = full(shape, 2);
      expect(t.isDisposed).toBe(false);
      t.dispose();
      expectDisposed(t);
      expect(() => t.dispose()).not.toThrow();
    }
    const s = tensor(5);
    s.dispose();
    expect(() => s.item()).toThrow(/item.*disposed/);
  });

  it.runIf(arena)('hands the arena block back at once: the next allocation of that size reuses it', () => {
    const a = zeros([4096]);
    const at = a.data.byteOffset;
    expect(at).toBeGreaterThanOrEqual(0);
    const released = arenaStats().released;
    a.dispose();
    expect(arenaStats().released).toBe(released + 1);
    const b = zeros([4096]);
    expect(b.data.byteOffset).toBe(at);
    // zeros() clears reused memory.
    expect(b.data.every((v) => v === 0)).toBe(true);
  });

  it.runIf(arena)('storage shared by views is released only when the last holder is disposed', () => {
    const a = full([4096], 3);
    const v = a.reshape([64, 64]);
    const d = a.detach();
    const at = a.data.byteOffset;
    a.dispose();
    d.dispose();
    // v still holds the storage: a new allocation of the same size must not get it.
    const other = full([4096], 7);
    expect(other.data.byteOffset).not.toBe(at);
    expect(v.data.every((x) => x === 3)).toBe(true);
    v.dispose();
    expect(full([4096], 1).data.byteOffset).toBe(at);
  });

  it('backward through a graph that saved a disposed tensor refuses (StateError), never a wrong gradient', () => {
    const x = full([4096], 2, { requiresGrad: true });
    const c = full([4096], 3);
    const y = x.mul(c).sum();
    c.dispose();
    // Reuse the block with other values, as a later step would.
    full([4096], 100);
    expect(() => y.backward()).toThrow(StateError);
  });

  it.runIf(arena)('outputs written into reused memory hold their own values, never the old contents', () => {
    // Each op's output is allocated without clearing (every element is written): poison the block it will
    // reuse with NaN first, then compare with the same op computed into fresh memory.
    const a = fromArray(
      Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)),
      [64, 64],
    );
    const b = fromArray(
      Float32Array.from({ length: 64 * 64 }, (_, i) => Math.cos(i)),
      [64, 64],
    );
    const w = fromArray(
      Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(2 * i)),
      [64, 64],
    );
    const cases: Array<[string, () => Tensor]> = [
      ['matmul', () => matmul(a, b)],
      ['linear', () => linear(a, w)],
      ['elementwise', () => a.mul(b).add(1)],
      ['fused', () => fuse((u, v) => u.sigmoid().mul(v.tanh()), 'poisoned')(a, b)],
    ];
    for (const [name, op] of cases) {
      const want = op().toArray();
      const poison = full([64, 64], Number.NaN);
      poison.dispose();
      const got = op();
      expect(Array.from(got.data), name).toEqual(Array.from(want));
    }
  });

  it.runIf(arena)(
    'a synchronous loop that disposes its tensors reuses its memory: the arena does not grow',
    () => {
      const n = 1 << 18;
      const x = fromArray(new Float32Array(n).fill(0.5), [n], { requiresGrad: true });
      const f = fuse((a) => a.mul(a).add(1).tanh(), 'disposeLoop');
      const seed = fromArray(new Float32Array(n).fill(1), [n]);
      const step = () => {
        const y = f(x);
        backward(y, seed);
        const g = x.grad!;
        x.grad = null;
        const v = g.data[7]!;
        for (const t of [y, g]) t.dispose();
        return v;
      };
      const first = step();
      const before = arenaStats();
      for (let i = 0; i < 100; i++) expect(step()).toBe(first);
      const after = arenaStats();
      expect(isArenaStorage(x.data)).toBe(true);
      // 100 steps × several MiB each would exceed the 64 MiB growth budget without reuse.
      expect(after.reservedBytes).toBe(before.reservedBytes);
      expect(after.fallbacks).toBe(before.fallbacks);
    },
  );
});

describe.runIf(arena)('backward releases the gradients it made once they are consumed', () => {
  const n = 64;
  const data = (seed: number) => Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.1 + seed));

  it('a step whose caller disposes only what it holds does not grow the arena (temporaries reused)', () => {
    const x = fromArray(data(1), [n, n]);
    const w = fromArray(data(2), [n, n], { requiresGrad: true });
    const f = fuse((a) => a.tanh().mul(a), 'releaseStep');
    const step = () => {
      const h = matmul(x, w);
      const y = f(h);
      const s = y.sum();
      // The pass makes: the expanded seed of sum (n·n), dh (n·n) and dw (delivered).
      backward(s);
      const g = w.grad!;
      w.grad = null;
      const v = g.data[5]!;
      for (const t of [h, y, s, g]) t.dispose();
      return v;
    };
    const first = step();
    const before = arenaStats();
    for (let i = 0; i < 50; i++) expect(step()).toBe(first);
    const after = arenaStats();
    expect(after.allocations - before.allocations).toBe(after.released - before.released);
    expect(after.reservedBytes).toBe(before.reservedBytes);
  });

  it('never touches what the caller can still see: hooks, pass-through gradients, seeds, tensors made before', () => {
    const x = fromArray(data(3), [n, n], { requiresGrad: true });
    // A hook keeps the gradient reaching a non-leaf: it must stay readable.
    const stash: Tensor[] = [];
    const z = x.mul(2);
    z.registerHook((g) => {
      stash.push(g);
    });
    // x.add(z): the upstream gradient passes through to x (a leaf) and to z (a non-leaf) unchanged.
    const out = x.add(z).mul(x.mul(0).add(1));
    const seed = full([n, n], 0.5);
    backward(out, seed);
    expect(stash).toHaveLength(1);
    expect(stash[0]!.isDisposed).toBe(false);
    expect(stash[0]!.data.every((v) => v === 0.5)).toBe(true);
    expect(seed.isDisposed).toBe(false);
    // d/dx of (x + 2x)·1 = 3, times the seed: the pass-through kept x's share alive.
    expect(x.grad!.data.every((v) => v === 1.5)).toBe(true);
    // A custom op whose backward returns a tensor made before the pass: that tensor is not released.
    const premade = full([n, n], 4);
    const y = fromArray(data(4), [n, n], { requiresGrad: true });
    const [c] = record('premadeGrad', [y], [{ data: y.data.slice(), shape: [n, n] }], () => [premade]);
    const d = c!.mul(3);
    backward(d, seed);
    expect(premade.isDisposed).toBe(false);
    expect(y.grad!.data.every((v) => v === 4)).toBe(true);
  });

  it('retainGraph: a second backward through the same graph gives the same gradients', () => {
    const x = fromArray(data(5), [n, n], { requiresGrad: true });
    const s = x.tanh().mul(x).exp().sum();
    backward(s, undefined, { retainGraph: true });
    const first = x.grad!.toArray();
    x.grad = null;
    full([n, n], Number.NaN).dispose();
    backward(s);
    expect(Array.from(x.grad!.data)).toEqual(Array.from(first));
  });
});
