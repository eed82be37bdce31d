/**
 * The autograd engine: gradient accumulation, freeing the graph, grad() with createGraph (Hessian-vector
 * products, third derivatives), allowUnused, noGrad, detach, hooks, retainGrad, requiresGrad, dtype rules of
 * gradients, and the errors on misuse.
 */
import {
  ArgumentError,
  backward,
  DtypeError,
  enableGrad,
  fromArray,
  fuseMany,
  grad,
  isGradEnabled,
  noGrad,
  record1,
  ShapeError,
  StateError,
  sum,
  type Tensor,
  tensor,
  type Value,
} from '@gradkit/autograd';
import { shape, tensorOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectOpError } from './helpers.js';

const SEED = 0x7e_05_02;
const f64 = (data: number[] | number[][], requiresGrad = true) =>
  tensor(data, { dtype: 'float64', requiresGrad });

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(b[i]!)),
    );
  }
};

describe('backward', () => {
  it('accumulates into .grad across calls, until zeroGrad', () => {
    const x = f64([1, 2, 3]);
    const loss = () => x.mul(x).sum();
    loss().backward();
    expect(x.grad!.tolist()).toEqual([2, 4, 6]);
    loss().backward();
    expect(x.grad!.tolist()).toEqual([4, 8, 12]);
    expect(x.grad!.requiresGrad).toBe(false);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    loss().backward();
    expect(x.grad!.tolist()).toEqual([2, 4, 6]);
  });

  it('sums the contributions of every path (diamond) and of broadcasting', () => {
    const x = f64([[1], [2]]);
    const y = f64([10, 20, 30]);
    const a = x.mul(y); // [2, 3]
    const b = a.add(x.exp()); // x used twice
    b.sum().backward();
    const e1 = Math.exp(1);
    const e2 = Math.exp(2);
    close(x.grad!.data, [60 + 3 * e1, 60 + 3 * e2]);
    expect(x.grad!.shape).toEqual([2, 1]);
    expect(y.grad!.tolist()).toEqual([3, 3, 3]);
  });

  it('twice through a freed graph is a StateError naming the op; retainGraph allows it', () => {
    const x = f64([1, 2]);
    const y = x.sigmoid().sum();
    y.backward();
    expectOpError(() => y.backward(), StateError, 'sum', 'second time', 'retainGraph');
    x.zeroGrad();
    const z = x.sigmoid();
    const s = z.sum();
    s.backward(null, { retainGraph: true });
    const g1 = x.grad!.toArray();
    s.backward(null, { retainGraph: true });
    close(
      x.grad!.data,
      Array.from(g1, (v) => 2 * v),
    );
    s.backward();
    expectOpError(() => s.backward(), StateError, 'sum');
    // The op named is the first freed one met, here below a fresh node.
    expectOpError(() => z.mul(2).sum().backward(), StateError, 'sigmoid', 'second time');
  });

  it('needs a gradient for a non-scalar output (ShapeError), of the right shape', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(2);
    expectOpError(() => y.backward(), ShapeError, 'backward', 'one element', '[3]');
    expectOpError(() => y.backward(f64([1, 1], false)), ShapeError, 'backward', '[2]', '[3]');
    y.backward(f64([1, 0, -1], false));
    expect(x.grad!.tolist()).toEqual([2, 0, -2]);
    // A one-element output of any rank needs none.
    const x2 = f64([[3]]);
    x2.mul(x2).backward();
    expect(x2.grad!.tolist()).toEqual([[6]]);
  });

  it('refuses an output that does not require grad, and a non-tensor gradient', () => {
    expectOpError(() => tensor([1]).mul(2).backward(), StateError, 'backward', 'does not require grad');
    const y = f64([1, 2]).mul(2);
    expectOpError(() => backward(y, [1, 2] as unknown as Tensor), ArgumentError, 'backward', 'gradient 0');
  });

  it('.grad accepts only a tensor of the same shape and dtype (so accumulation never broadcasts)', () => {
    const x = f64([1, 2, 3]);
    expectOpError(
      () => {
        x.grad = f64([1], false);
      },
      ShapeError,
      'Tensor.grad',
      '[1]',
      '[3]',
    );
    expectOpError(
      () => {
        x.grad = tensor([1, 2, 3]);
      },
      DtypeError,
      'Tensor.grad',
      'float32',
    );
    x.grad = f64([1, 1, 1], false);
    x.mul(2).sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 3, 3]);
  });

  it('on a leaf, the gradient is the seed', () => {
    const x = f64([5]);
    x.backward();
    expect(x.grad!.tolist()).toEqual([1]);
  });

  it('gradients never alias each other or the seed: an in-place change of one .grad leaves the others', () => {
    // add passes the output gradient through unchanged to both inputs, unfused and fused alike.
    const sumOf = fuseMany((a: Value, b: Value) => [a.add(b)], 'sumOf');
    for (const f of [(a: Tensor, b: Tensor) => a.add(b), (a: Tensor, b: Tensor) => sumOf(a, b)[0]!]) {
      const x = f64([1, 2, 3], true);
      const y = f64([4, 5, 6], true);
      const seed = f64([0.5, 0.5, 0.5]);
      backward(f(x, y), seed);
      noGrad(() => x.grad!.mul_(4));
      expect(x.grad!.tolist()).toEqual([2, 2, 2]);
      expect(y.grad!.tolist()).toEqual([0.5, 0.5, 0.5]);
      expect(seed.tolist()).toEqual([0.5, 0.5, 0.5]);
      // grad() hands out independent tensors too.
      const [gx, gy] = grad(f(x, y), [x, y], { gradOutputs: [seed] }) as [Tensor, Tensor];
      noGrad(() => gy.mul_(2));
      expect(gx.tolist()).toEqual([0.5, 0.5, 0.5]);
      expect(seed.tolist()).toEqual([0.5, 0.5, 0.5]);
    }
  });

  it('checks the shape of what a backward function returns (ShapeError naming the op)', () => {
    const x = f64([1, 2, 3]);
    const y = record1('brokenOp', [x], new Float64Array(3), [3], (g) => [g.sum()]);
    expectOpError(() => y.sum().backward(), ShapeError, 'brokenOp', 'shape []', 'input 0 of shape [3]');
  });

  it('createGraph leaves a differentiable .grad', () => {
    const x = f64([1, 2]);
    x.pow(3).sum().backward(null, { createGraph: true });
    expect(x.grad!.requiresGrad).toBe(true);
    const g = x.grad!;
    x.zeroGrad();
    g.sum().backward();
    expect(x.grad!.tolist()).toEqual([6, 12]); // d/dx sum(3x²) = 6x
  });
});

describe('grad', () => {
  it('returns gradients without touching .grad', () => {
    const x = f64([1, 2, 3]);
    const [g] = grad(x.mul(x).sum(), [x]);
    expect(g!.tolist()).toEqual([2, 4, 6]);
    expect(x.grad).toBeNull();
    expect(g!.requiresGrad).toBe(false);
  });

  it('third derivative of sum(x³): 3x², 6x, 6', () => {
    fc.assert(
      fc.property(
        tensorOf(shape({ maxRank: 3, allowZero: true }), { min: -3, max: 3, requiresGrad: true }),
        (x) => {
          const [d1] = grad(x.pow(3).sum(), [x], { createGraph: true });
          close(
            d1!.data,
            Array.from(x.data, (v) => 3 * v * v),
          );
          const [d2] = grad(d1!.sum(), [x], { createGraph: true });
          close(
            d2!.data,
            Array.from(x.data, (v) => 6 * v),
          );
          const [d3] = grad(d2!.sum(), [x], { createGraph: true });
          close(
            d3!.data,
            Array.from(x.data, () => 6),
          );
          expect(d3!.shape).toEqual(x.shape);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('Hessian-vector products: analytic, and against finite differences of the gradient', () => {
    // f(x) = (Σx)(Σx³):  Hv_i = 3 Σ_j x_j² v_j + 3 x_i² Σ_j v_j + 6 x_i (Σx) v_i
    const f = (x: Tensor) => x.sum().mul(x.pow(3).sum());
    const pair = fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(tensorOf([n], { min: -2, max: 2, requiresGrad: true }), tensorOf([n], { min: -1, max: 1 })),
      );
    fc.assert(
      fc.property(pair, ([x, v]) => {
        const [g] = grad(f(x), [x], { createGraph: true });
        const [hv] = grad(g!.mul(v).sum(), [x]);
        const xs = Array.from(x.data);
        const vs = Array.from(v.data);
        const sx = xs.reduce((a, b) => a + b, 0);
        const sv = vs.reduce((a, b) => a + b, 0);
        const sxv = xs.reduce((a, xi, i) => a + xi * xi * vs[i]!, 0);
        close(
          hv!.data,
          xs.map((xi, i) => 3 * sxv + 3 * xi * xi * sv + 6 * xi * sx * vs[i]!),
          1e-10,
        );
        // Central differences of the gradient along v.
        const eps = 1e-6;
        const at = (s: number) => {
          const xp = fromArray(
            xs.map((xi, i) => xi + s * vs[i]!),
            [xs.length],
            { dtype: 'float64', requiresGrad: true },
          );
          return grad(f(xp), [xp])[0]!.data;
        };
        const plus = at(eps);
        const minus = at(-eps);
        const fd = Array.from(plus, (p, i) => (p - minus[i]!) / (2 * eps));
        close(hv!.data, fd, 1e-5);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('allowUnused: an unused input is an ArgumentError, or null when allowed', () => {
    const x = f64([1, 2]);
    const z = f64([3]);
    const y = x.mul(2).sum();
    expectOpError(
      () => grad(y, [x, z], { retainGraph: true }),
      ArgumentError,
      'grad',
      'input 1',
      'allowUnused',
    );
    const [gx, gz] = grad(y, [x, z], { allowUnused: true });
    expect(gx!.tolist()).toEqual([2, 2]);
    expect(gz).toBeNull();
  });

  it('refuses inputs that do not require grad, non-scalar outputs without gradOutputs, a wrong gradOutputs count', () => {
    const x = f64([1, 2]);
    expectOpError(
      () => grad(x.mul(2).sum(), [tensor([1])]),
      ArgumentError,
      'grad',
      'input 0 does not require grad',
    );
    expectOpError(() => grad(x.mul(2), [x]), ShapeError, 'grad', 'one element', '[2]');
    expectOpError(
      () => grad([x.mul(2).sum()], [x], { gradOutputs: [] }),
      ArgumentError,
      'grad',
      '0 gradient(s) for 1',
    );
  });

  it('with respect to an intermediate tensor, and for several outputs', () => {
    const x = f64([1, 2]);
    const h = x.mul(3);
    const y1 = h.sum();
    const y2 = h.mul(h).sum();
    const [gh, gx] = grad([y1, y2], [h, x]);
    expect(gh!.tolist()).toEqual([1 + 2 * 3, 1 + 2 * 6]);
    expect(gx!.tolist()).toEqual([3 * 7, 3 * 13]);
  });

  it('a node with several outputs (fuseMany) gets the gradients of the outputs that were used', () => {
    const both = fuseMany((a: Value, b: Value) => [a.mul(b), a.add(b)], 'mulAdd');
    const x = f64([1, 2]);
    const y = f64([[3], [4]]);
    const [p, q] = both(x, y);
    expect(p!.shape).toEqual([2, 2]);
    const [gx1, gy1] = grad(p!.sum(), [x, y], { retainGraph: true });
    expect(gx1!.tolist()).toEqual([7, 7]);
    expect(gy1!.tolist()).toEqual([[3], [3]]);
    const [gx2, gy2] = grad(p!.sum().add(q!.sum()), [x, y]);
    expect(gx2!.tolist()).toEqual([9, 9]);
    expect(gy2!.tolist()).toEqual([[5], [5]]);
  });

  it('gradOutputs weight each output', () => {
    const x = f64([1, 2]);
    const [g] = grad(x.mul(x), [x], { gradOutputs: [f64([10, -1], false)] });
    expect(g!.tolist()).toEqual([20, -4]);
  });
});

describe('grad mode', () => {
  it('noGrad records nothing, nests, restores the mode (also after a throw); enableGrad re-enables', () => {
    const x = f64([1, 2]);
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = enableGrad(() => x.mul(2));
      expect(inner.requiresGrad).toBe(true);
      return noGrad(() => x.mul(2).exp());
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(y.isLeaf).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('detach shares the values, requires no grad, and blocks the gradient', () => {
    const x = f64([1, 2, 3]);
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.tolist()).toEqual([2, 4, 6]);
    const [g] = grad(x.mul(d).sum(), [x]);
    expect(g!.tolist()).toEqual([2, 4, 6]);
  });

  it('requiresGrad can be set on a leaf, not on a result', () => {
    const x = tensor([1, 2]);
    expect(x.requiresGrad).toBe(false);
    x.requiresGrad = true;
    const y = x.mul(2);
    expect(y.requiresGrad).toBe(true);
    expectOpError(
      () => {
        y.requiresGrad = false;
      },
      StateError,
      'Tensor.requiresGrad',
      'leaf',
    );
    x.requiresGrad = false;
    expect(x.mul(2).requiresGrad).toBe(false);
  });
});

describe('hooks and retainGrad', () => {
  it('a hook sees the complete gradient and may replace it; removing it restores the plain gradient', () => {
    const x = f64([1, 2]);
    const seen: number[][] = [];
    const remove = x.registerHook((g) => {
      seen.push(g.tolist() as number[]);
      return g.mul(10);
    });
    x.mul(x).sum().add(x.sum()).backward();
    expect(seen).toEqual([[3, 5]]);
    expect(x.grad!.tolist()).toEqual([30, 50]);
    remove();
    x.zeroGrad();
    x.mul(x).sum().backward();
    expect(x.grad!.tolist()).toEqual([2, 4]);
    expect(seen).toHaveLength(1);
  });

  it('a hook on an intermediate changes what flows below it; returning nothing keeps the gradient', () => {
    const x = f64([1, 2]);
    const h = x.mul(3);
    let calls = 0;
    h.registerHook(() => {
      calls++;
    });
    h.registerHook((g) => g.neg());
    h.sum().backward();
    expect(calls).toBe(1);
    expect(x.grad!.tolist()).toEqual([-3, -3]);
  });

  it('grad() runs hooks only on what it computes', () => {
    const x = f64([1]);
    const w = f64([2]);
    let fired = 0;
    w.registerHook(() => {
      fired++;
    });
    const [gx] = grad(x.mul(w).sum(), [x]);
    expect(gx!.tolist()).toEqual([2]);
    expect(fired).toBe(0);
    expect(w.grad).toBeNull();
  });

  it('hooks must keep shape and dtype; hooks need requiresGrad', () => {
    const x = f64([1, 2]);
    x.registerHook(() => f64([1, 2, 3], false));
    expectOpError(() => x.sum().backward(), ShapeError, 'registerHook', '[2]', '[3]');
    const y = f64([1, 2]);
    y.registerHook((g) => g.to('float32'));
    expectOpError(() => y.sum().backward(), DtypeError, 'registerHook', 'float64', 'float32');
    expectOpError(() => tensor([1]).registerHook(() => undefined), StateError, 'registerHook');
  });

  it('retainGrad keeps a non-leaf gradient (after its hooks); others stay null', () => {
    const x = f64([1, 2]);
    const h = x.mul(3).retainGrad();
    const k = h.exp();
    h.registerHook((g) => g.mul(2));
    k.sum().backward();
    close(h.grad!.data, [2 * Math.exp(3), 2 * Math.exp(6)]);
    expect(k.grad).toBeNull();
    close(x.grad!.data, [6 * Math.exp(3), 6 * Math.exp(6)]);
    expectOpError(() => tensor([1]).retainGrad(), StateError, 'retainGrad');
  });
});

describe('dtype rules', () => {
  it('float32 with float64 is float64; a number takes the tensor dtype', () => {
    const a = tensor([1, 2], { dtype: 'float32' });
    const b = tensor([1, 2], { dtype: 'float64' });
    expect(a.add(b).dtype).toBe('float64');
    expect(b.mul(a).dtype).toBe('float64');
    expect(a.add(a).dtype).toBe('float32');
    expect(a.add(0.1).dtype).toBe('float32');
    expect(a.add(0.1).data[0]).toBe(Math.fround(1.1));
    expect(b.add(0.1).dtype).toBe('float64');
    expect(a.where(a.gt(1), b).dtype).toBe('float64');
    expect(a.to('float64').dtype).toBe('float64');
    expect(a.to('float32')).toBe(a);
    expectOpError(() => a.to('int8' as 'float32'), DtypeError, 'toDtype', 'int8');
  });

  it('gradients have the dtype of their tensor, whatever they met', () => {
    const a = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = tensor([3, 4], { dtype: 'float64', requiresGrad: true });
    a.mul(b).sum().backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(b.grad!.dtype).toBe('float64');
    expect(a.grad!.tolist()).toEqual([3, 4]);
    // A float64 seed for a float32 output, through sum (not elementwise).
    const c = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    sum(c.mul(2), 0).backward(tensor(1, { dtype: 'float64' }));
    expect(c.grad!.dtype).toBe('float32');
    // And to second order.
    const [ga] = grad(a.mul(b).mul(a).sum(), [a], { createGraph: true });
    expect(ga!.dtype).toBe('float32');
    const [gb2] = grad(ga!.sum(), [b]);
    expect(gb2!.dtype).toBe('float64');
    expect(gb2!.tolist()).toEqual([2, 4]);
  });

  it('cast is differentiable in both directions', () => {
    const x = f64([1.5, -2]);
    const [g] = grad(x.to('float32').mul(x.to('float32')).sum(), [x]);
    expect(g!.dtype).toBe('float64');
    expect(g!.tolist()).toEqual([3, -4]);
  });
});
