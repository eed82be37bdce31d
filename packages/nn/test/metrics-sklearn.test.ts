import { DomainError } from '@gradkit/autograd';
import { metrics } from '@gradkit/nn';
import { describe, expect, test } from 'vitest';
import {
  asInput,
  type BinaryCase,
  expectAllClose,
  expectClose,
  INPUT_KINDS,
  loadSklearn,
  num,
} from './metrics-data.js';

const fixture = loadSklearn();

test('the fixture is scikit-learn 1.2.1 and holds every kind of case', () => {
  expect(fixture.meta.sklearn).toBe('1.2.1');
  expect(fixture.binary.length).toBeGreaterThanOrEqual(20);
  expect(fixture.multiclass.length).toBeGreaterThanOrEqual(10);
  expect(fixture.binary.some((c) => c.sample_weight !== null)).toBe(true);
});

/** The case's inputs as the i-th input kind, so every kind meets every metric over the cases. */
function inputs(c: BinaryCase, i: number) {
  const kind = INPUT_KINDS[i % INPUT_KINDS.length]!;
  return {
    kind,
    yTrue: asInput(c.y_true, kind),
    yScore: asInput(c.y_score, INPUT_KINDS[(i + 1) % INPUT_KINDS.length]!),
    sampleWeight: c.sample_weight === null ? undefined : asInput(c.sample_weight, kind),
  };
}

describe.each(fixture.binary.map((c, i) => [c.id, c, i] as const))('binary case %s', (_id, c, i) => {
  const { yTrue, yScore, sampleWeight } = inputs(c, i);

  test('accuracy, precision, recall and F1 at each threshold, zeroDivision 0 and 1', () => {
    for (const at of c.at_threshold) {
      const t = at.threshold;
      if (!('value' in at.accuracy)) throw new Error('fixture: accuracy failed');
      expectClose(
        metrics.accuracy(yTrue, yScore, { threshold: t, sampleWeight }),
        at.accuracy.value,
        `accuracy@${t}`,
      );
      for (const zd of [0, 1] as const) {
        const want = zd === 0 ? at.zero_division_0 : at.zero_division_1;
        const opts = { threshold: t, sampleWeight, zeroDivision: zd };
        for (const [name, fn] of [
          ['precision', metrics.precision],
          ['recall', metrics.recall],
          ['f1', metrics.f1Score],
        ] as const) {
          const w = want[name];
          if (!('value' in w)) throw new Error(`fixture: ${name} failed`);
          expectClose(fn(yTrue, yScore, opts), w.value, `${name}@${t} zeroDivision ${zd}`);
        }
      }
    }
  });

  test('confusion matrix of the predictions score >= threshold', () => {
    for (const at of c.at_threshold) {
      if (!('value' in at.confusion_matrix)) throw new Error('fixture: confusion_matrix failed');
      const cm = metrics.confusionMatrix(yTrue, metrics.binarize(yScore, at.threshold), {
        labels: [0, 1],
        sampleWeight,
      });
      expect(cm.length).toBe(2);
      cm.forEach((row, r) => {
        expectAllClose(
          row,
          (at.confusion_matrix as { value: number[][] }).value[r]!,
          `cm@${at.threshold}[${r}]`,
        );
      });
    }
  });

  test.each([
    ['roc_curve', true],
    ['roc_curve_all', false],
  ] as const)('%s (dropIntermediate %s): fpr, tpr, thresholds; thresholds[0] = Infinity', (key, drop) => {
    const want = c[key];
    if (!('value' in want)) throw new Error(`fixture: ${key} failed`);
    const [fpr, tpr, th] = want.value as [number[], number[], number[]];
    if ([...fpr, ...tpr].some((v) => Number.isNaN(num(v)))) {
      // scikit-learn: NaN rates with an UndefinedMetricWarning (one class has no weight); gradkit refuses.
      expect(() => metrics.rocCurve(yTrue, yScore, { sampleWeight, dropIntermediate: drop })).toThrow(
        DomainError,
      );
      return;
    }
    const got = metrics.rocCurve(yTrue, yScore, { sampleWeight, dropIntermediate: drop });
    expectAllClose(got.fpr, fpr, 'fpr');
    expectAllClose(got.tpr, tpr, 'tpr');
    // scikit-learn 1.2 puts max(score) + 1 first; gradkit puts Infinity, as scikit-learn >= 1.3.
    expect(num(th[0]!)).toBe(num(th[1]!) + 1);
    expect(got.thresholds[0]).toBe(Infinity);
    expectAllClose(got.thresholds.subarray(1), th.slice(1), 'thresholds');
  });

  test('ROC AUC', () => {
    const want = c.roc_auc;
    if ('error' in want || Number.isNaN(num(want.value))) {
      expect(() => metrics.rocAucScore(yTrue, yScore, { sampleWeight })).toThrow(DomainError);
    } else {
      expectClose(metrics.rocAucScore(yTrue, yScore, { sampleWeight }), want.value, 'roc_auc');
    }
  });

  test('precision-recall curve and average precision', () => {
    if (!('value' in c.pr_curve) || !('value' in c.average_precision)) throw new Error('fixture: PR failed');
    const [p, r, th] = c.pr_curve.value as [number[], number[], number[]];
    const got = metrics.precisionRecallCurve(yTrue, yScore, { sampleWeight });
    expectAllClose(got.precision, p, 'precision');
    expectAllClose(got.recall, r, 'recall');
    expectAllClose(got.thresholds, th, 'thresholds');
    expectClose(
      metrics.averagePrecisionScore(yTrue, yScore, { sampleWeight }),
      c.average_precision.value,
      'AP',
    );
  });

  test.runIf(c.log_loss !== undefined)('log loss', () => {
    const want = c.log_loss!;
    if (!('value' in want)) throw new Error('fixture: log_loss failed');
    expectClose(metrics.logLoss(yTrue, yScore, { sampleWeight }), want.value, 'log_loss');
  });
});

describe.each(fixture.multiclass.map((c, i) => [c.id, c, i] as const))('confusion matrix %s', (_id, c, i) => {
  test('matches scikit-learn', () => {
    const kind = INPUT_KINDS[i % INPUT_KINDS.length]!;
    const run = () =>
      metrics.confusionMatrix(asInput(c.y_true, kind), asInput(c.y_pred, kind), {
        labels: c.labels ?? undefined,
        sampleWeight: c.sample_weight === null ? undefined : asInput(c.sample_weight, kind),
        normalize: c.normalize ?? undefined,
      });
    const want = c.confusion_matrix;
    if ('error' in want) {
      expect(run).toThrow(DomainError);
      return;
    }
    const cm = run();
    expect(cm.length).toBe(want.value.length);
    cm.forEach((row, r) => {
      expectAllClose(row, want.value[r]!, `cm[${r}]`);
    });
  });
});

test.each(fixture.auc.map((c) => [c.id, c] as const))('auc %s', (_id, c) => {
  if ('error' in c.auc) {
    expect(() => metrics.auc(c.x, c.y)).toThrow(DomainError);
  } else {
    expectClose(metrics.auc(c.x, c.y), c.auc.value, 'auc');
  }
});
