import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@gradkit/autograd';
import { focal } from '@gradkit/losses';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULTS, flooredFocal, type ImbalancedResult, run } from './main.js';

describe('pnpm example:imbalanced (the same seeded run as the command line)', () => {
  let dir: string;
  let lines: string[];
  let result: ImbalancedResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gradkit-imbalanced-'));
    lines = [];
    result = await run(DEFAULTS, { log: (l) => lines.push(...l.split('\n')), tty: false, outDir: dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('uses the DATASETS.md recipe: 72/2231 train and 19/557 test', () => {
    expect(lines[0]).toMatch(/train 72 spam \/ 2231 ham, test 19 \/ 557/);
  });

  test('every objective ranks spam well: AP ≥ 0.6, ROC AUC ≥ 0.9, best F1 ≥ 0.65', () => {
    expect(result.results).toHaveLength(6);
    for (const r of result.results) {
      expect(r.ap, r.name).toBeGreaterThanOrEqual(0.6);
      expect(r.rocAuc, r.name).toBeGreaterThanOrEqual(0.9);
      expect(r.bestF1, r.name).toBeGreaterThanOrEqual(0.65);
      expect(r.bestF1, r.name).toBeGreaterThanOrEqual(r.f1);
    }
  });

  test('BCE on probabilities and BCE with logits train the same model (up to float32 rounding)', () => {
    const [bce, logits] = result.results;
    expect(bce!.name).toMatch(/^BCE \(sigmoid/);
    expect(logits!.name).toBe('BCEWithLogits');
    expect(Math.abs(bce!.ap - logits!.ap)).toBeLessThan(0.01);
    expect(Math.abs(bce!.history.at(-1)!.loss - logits!.history.at(-1)!.loss)).toBeLessThan(1e-3);
  });

  test('posWeight raises average precision over plain BCE with logits', () => {
    const plain = result.results.find((r) => r.name === 'BCEWithLogits')!;
    const weighted = result.results.find((r) => r.name.startsWith('BCEWithLogits posWeight'))!;
    expect(weighted.ap).toBeGreaterThan(plain.ap);
  });

  test('prints the table with the scikit-learn reference and writes one PR plot with every loss', async () => {
    expect(lines.some((l) => /^scikit-learn LR \(reference\) +0\.726 +0\.959 +0\.667/.test(l))).toBe(true);
    expect(result.files).toEqual([join(dir, 'imbalanced-pr.svg')]);
    const svg = await readFile(result.files[0]!, 'utf8');
    expect(svg).toMatch(/^<svg/);
    // One legend entry per objective, each carrying its AP.
    for (const r of result.results) expect(svg).toContain(`(AP ${r.ap.toFixed(3)})`);
  });
});

test('the floored focal factor interpolates between focal loss (floor 0) and BCE (floor 1)', () => {
  const x = tensor([-3, -0.5, 0.2, 4], { dtype: 'float64' });
  const y = tensor([0, 1, 1, 0], { dtype: 'float64' });
  const f0 = flooredFocal(x, y, { gamma: 2, floor: 0 }).item();
  expect(f0).toBeCloseTo(focal(x, y, { gamma: 2, alpha: -1 }).item(), 12);
  const bce = focal(x, y, { gamma: 0, alpha: -1 }).item();
  expect(flooredFocal(x, y, { gamma: 2, floor: 1 }).item()).toBeCloseTo(bce, 12);
  const mid = flooredFocal(x, y).item();
  expect(mid).toBeCloseTo(0.2 * bce + 0.8 * f0, 12);
});
