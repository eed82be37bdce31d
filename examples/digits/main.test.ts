import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@gradkit/autograd';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accuracyOf, DEFAULTS, type DigitsResult, oneHot, run } from './main.js';

describe('pnpm example:digits (the same seeded run as the command line)', () => {
  let dir: string;
  let lines: string[];
  let result: DigitsResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gradkit-digits-'));
    lines = [];
    result = await run(DEFAULTS, { log: (l) => lines.push(...l.split('\n')), tty: false, outDir: dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('test accuracy ≥ 0.95 on the 360 test images', () => {
    expect(result.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.history).toHaveLength(DEFAULTS.epochs);
    expect(result.history.at(-1)!.metrics['test acc']).toBe(result.accuracy);
  });

  test('the confusion matrix counts every test image once, its diagonal is the accuracy', () => {
    const cm = result.confusion;
    expect(cm).toHaveLength(10);
    const total = cm.flat().reduce((a, b) => a + b, 0);
    const diagonal = cm.reduce((a, row, i) => a + row[i]!, 0);
    expect(total).toBe(360);
    expect(diagonal / total).toBe(result.accuracy);
  });

  test('the "8 vs rest" output beats the linear reference on ROC AUC', () => {
    expect(result.eightVsRest.rocAuc).toBeGreaterThan(0.986);
  });

  test('prints one plain line per epoch and writes the confusion-matrix SVG', async () => {
    expect(lines.filter((l) => /^MLP 64-64-10 epoch +\d+\/20 +loss \d/.test(l))).toHaveLength(
      DEFAULTS.epochs,
    );
    expect(result.files).toEqual([join(dir, 'digits-confusion.svg')]);
    const svg = await readFile(result.files[0]!, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('confusion matrix');
  });
});

test('oneHot and accuracyOf', () => {
  expect([...oneHot(tensor([2, 0])).data]).toEqual([
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ]);
  const logits = tensor([
    [0, 0, 5, 0, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 3],
  ]);
  expect(accuracyOf(logits, tensor([2, 0]))).toBe(0.5);
});
