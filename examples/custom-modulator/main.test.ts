import { linear } from '@gradkit/autograd';
import { describeWorst } from '@gradkit/testing';
import { expect, test } from 'vitest';
import { checkGradients, linearFocal, loadBreastCancer, metrics, trainLogistic } from './main.js';

test('the new factor passes gradcheck and gradgradcheck', () => {
  const { first, second } = checkGradients();
  expect(first.ok, describeWorst(first)).toBe(true);
  expect(second.ok, describeWorst(second)).toBe(true);
});

test('a logistic regression trained with it separates the test set', () => {
  const data = loadBreastCancer(1);
  const { w, b } = trainLogistic(data, (z, t) => linearFocal(z, t, { reduction: 'mean' }), 60);
  const m = metrics(linear(data.testX, w, b), data.testY);
  expect(m.accuracy).toBeGreaterThan(0.9);
  expect(m.averagePrecision).toBeGreaterThan(0.9);
});
