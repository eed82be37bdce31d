import { FormatError } from '@gradkit/autograd';
import { expect, test } from 'vitest';
import { DEFAULTS, loadSpambase, parseNumericCsv, parseOptions, rocAuc, train } from './main.js';

test('the CSV parser reads numbers and rejects anything else, naming the line', () => {
  expect(parseNumericCsv('a,b,label\n1,-2.5e-1,0\n.5,3,1\n')).toEqual({
    header: ['a', 'b', 'label'],
    rows: [
      [1, -0.25, 0],
      [0.5, 3, 1],
    ],
  });
  expect(() => parseNumericCsv('a,b\n1,2\n3\n')).toThrow(/line 3 has 1 fields/);
  expect(() => parseNumericCsv('a,b\n1,\n')).toThrow(FormatError);
  expect(() => parseNumericCsv('a,b\n1,"2"\n')).toThrow(/line 2, column b/);
});

test('ROC AUC counts ordered pairs, ties as half', () => {
  expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
});

test('flags: defaults, a leading --, and bad values', () => {
  expect(parseOptions([])).toEqual(DEFAULTS);
  expect(parseOptions(['--', '--loss', 'focal', '--epochs', '3'])).toMatchObject({
    loss: 'focal',
    epochs: 3,
  });
  expect(() => parseOptions(['--loss', 'mse'])).toThrow(/--loss/);
  expect(() => parseOptions(['--hidden', '2.5'])).toThrow(/--hidden must be an integer/);
});

test('two epochs on spambase reach a sensible test accuracy, deterministically', () => {
  const data = loadSpambase(0);
  expect(data.trainX.shape).toEqual([3681, 57]);
  expect(data.testX.shape).toEqual([920, 57]);
  const opts = { ...DEFAULTS, epochs: 2 };
  const { history } = train(data, opts);
  const last = history.at(-1)!;
  expect(last.trainLoss).toBeLessThan(history[0]!.trainLoss);
  expect(last.testAccuracy).toBeGreaterThan(0.9);
  expect(last.testAuc).toBeGreaterThan(0.95);
  const again = train(data, opts).history.map(({ ms, ...rest }) => rest);
  expect(again).toEqual(history.map(({ ms, ...rest }) => rest));

  const focal = train(data, { ...opts, loss: 'focal' }).history.at(-1)!;
  expect(focal.testAccuracy).toBeGreaterThan(0.9);
});
