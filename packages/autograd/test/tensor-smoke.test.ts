import { manualSeed, randn, type Tensor } from '@gradkit/autograd';
import { describeWorst, gradcheckTensor, gradgradcheckTensor } from '@gradkit/testing';
import { expect, test } from 'vitest';

test('broadcast mul/sigmoid gradcheck and gradgradcheck', () => {
  manualSeed(3);
  const a = randn([3, 1], { dtype: 'float64', requiresGrad: true });
  const b = randn([4], { dtype: 'float64', requiresGrad: true });
  const f = (x: Tensor, y: Tensor) => x.mul(y).sigmoid().pow(2).div(y.exp());
  const r1 = gradcheckTensor(f, [a, b]);
  expect(r1.ok, describeWorst(r1)).toBe(true);
  const r2 = gradgradcheckTensor(f, [a, b]);
  expect(r2.ok, describeWorst(r2)).toBe(true);
});

test('gradgradcheck of an op whose gradient is constant (second derivative zero)', () => {
  const x = randn([3, 2], { dtype: 'float64', requiresGrad: true });
  const r = gradgradcheckTensor((t: Tensor) => t.sum(), [x]);
  expect(r.ok, describeWorst(r)).toBe(true);
});
