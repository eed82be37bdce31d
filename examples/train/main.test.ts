import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '@gradkit/nn';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULTS, parseOptions, run, type TrainResult } from './main.js';

describe('pnpm train (the same seeded run as the command line)', () => {
  let dir: string;
  let lines: string[];
  let result: TrainResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gradkit-train-'));
    lines = [];
    result = await run(DEFAULTS, { log: (l) => lines.push(...l.split('\n')), tty: false, outDir: dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('both models reach test accuracy ≥ 0.95 and ROC AUC ≥ 0.99', () => {
    expect(result.results.map((r) => r.name)).toEqual(['logistic regression', 'MLP 30-16-1']);
    for (const r of result.results) {
      expect(r.test.accuracy, r.name).toBeGreaterThanOrEqual(0.95);
      expect(r.test.rocAuc, r.name).toBeGreaterThanOrEqual(0.99);
      expect(r.history).toHaveLength(DEFAULTS.epochs);
      expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
    }
  });

  test('one plain line per epoch without a terminal, then the table with the reference row', () => {
    expect(lines.filter((l) => /^MLP 30-16-1 +epoch +\d+\/30 +loss /.test(l))).toHaveLength(DEFAULTS.epochs);
    expect(lines.some((l) => /^scikit-learn LR \(reference\) +0\.965 +0\.996 +0\.994 +0\.947$/.test(l))).toBe(
      true,
    );
  });

  test('writes the three plots as SVG and a checkpoint whose reload predicts identically', async () => {
    expect(result.reloadIdentical).toBe(true);
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'loss.svg',
      'model.safetensors',
      'pr.svg',
      'roc.svg',
    ]);
    for (const name of ['loss.svg', 'roc.svg', 'pr.svg']) {
      expect(await readFile(join(dir, name), 'utf8')).toMatch(
        /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      );
    }
    const { tensors } = loadSafetensors(await readFile(join(dir, 'model.safetensors')));
    expect(Object.keys(tensors).sort()).toEqual([
      'logreg.bias',
      'logreg.weight',
      'mlp.0.bias',
      'mlp.0.weight',
      'mlp.2.bias',
      'mlp.2.weight',
      'scaler.mean',
      'scaler.scale',
    ]);
  });

  test('the run is deterministic', async () => {
    const again = await run(DEFAULTS, { log: () => {}, tty: false, outDir: null });
    expect(again.results.map((r) => [...r.testLogits.data])).toEqual(
      result.results.map((r) => [...r.testLogits.data]),
    );
  });
});

test('flags: defaults, a leading --, and bad values', () => {
  expect(parseOptions([])).toEqual(DEFAULTS);
  expect(parseOptions(['--', '--epochs', '3', '--batch-size', '16'])).toMatchObject({
    epochs: 3,
    batchSize: 16,
  });
  expect(() => parseOptions(['--epochs', '2.5'])).toThrow(/--epochs must be an integer/);
  expect(() => parseOptions(['--lr=-1'])).toThrow(/--lr must be a number/);
  expect(() => parseOptions(['--hidden', '8'])).toThrow();
});
