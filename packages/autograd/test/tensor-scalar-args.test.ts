/**
 * Numbers in tensor ops are scalar kernel arguments (as PyTorch passes Python scalars): one spec and one
 * compiled kernel whatever the number, values exactly those of a float64 constant, and the general
 * derivative (`x * 0` is in the graph with gradient 0, as in PyTorch).
 */
import { grad, noGrad, tensor } from '@gradkit/autograd';
import { compiledKernelCount } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

describe('numbers are scalar kernel arguments', () => {
  const xs = [-3.5, -0, 0, 0.1, 1e-30, 7, 1e38];

  it('100 distinct numbers compile nothing after the first, values are the float64 product rounded once', () => {
    const x = tensor(xs, { dtype: 'float32' });
    x.mul(0.123456789).sub(0.5);
    const before = compiledKernelCount();
    for (let i = 0; i < 100; i++) {
      const c = 0.001 * i + 1e-7;
      const y = noGrad(() => x.mul(c).sub(c / 3));
      y.data.forEach((v, k) => {
        expect(Object.is(v, Math.fround(Math.fround(x.data[k]! * c) - c / 3))).toBe(true);
      });
    }
    expect(compiledKernelCount() - before).toBe(0);
  });

  it('x * 0 is part of the graph with a zero gradient (PyTorch), not dropped', () => {
    const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
    const y = x.mul(0);
    expect(y.requiresGrad).toBe(true);
    const [g] = grad(y.sum(), [x]);
    expect([...g!.data]).toEqual(xs.map(() => 0));
  });

  it('pow keeps a constant exponent: square and x.pow(3) have their usual derivatives', () => {
    const x = tensor([1.5, -2, 0.25], { dtype: 'float64', requiresGrad: true });
    const [g] = grad(x.pow(3).sum(), [x]);
    expect([...g!.data]).toEqual([1.5, -2, 0.25].map((v) => 3 * v ** 2));
  });
});
