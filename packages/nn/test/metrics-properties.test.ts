import { fromArray } from '@gradkit/autograd';
import { metrics } from '@gradkit/nn';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { expect, test } from 'vitest';

/** Binary labels with both classes present, and coarse scores (k/20: many ties), of the same length. */
const labelledScores = fc
  .integer({ min: 2, max: 60 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 20 }), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 8 }), { minLength: n, maxLength: n }),
    ),
  )
  .filter(([y]) => y.includes(0) && y.includes(1))
  .map(([y, k, w]) => ({ y, s: k.map((v) => v / 20), w: w.map((v) => v / 4) }));

/** The weight sums of the positives and of the negatives. */
function classWeights(y: number[], w: number[]): [number, number] {
  let pos = 0;
  let neg = 0;
  y.forEach((v, i) => {
    if (v === 1) pos += w[i]!;
    else neg += w[i]!;
  });
  return [pos, neg];
}

test('ROC AUC is the probability that a positive outscores a negative, ties half (weighted pairs)', () => {
  fc.assert(
    fc.property(labelledScores, fc.boolean(), ({ y, s, w }, weighted) => {
      const ww = weighted ? w : y.map(() => 1);
      const [pos, neg] = classWeights(y, ww);
      fc.pre(pos > 0 && neg > 0);
      let pairs = 0;
      for (let i = 0; i < y.length; i++) {
        for (let j = 0; j < y.length; j++) {
          if (y[i] === 1 && y[j] === 0) {
            pairs += ww[i]! * ww[j]! * (s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0);
          }
        }
      }
      const got = metrics.rocAucScore(y, s, weighted ? { sampleWeight: w } : undefined);
      expect(got).toBeCloseTo(pairs / (pos * neg), 12);
    }),
    propertyConfig(),
  );
});

test('ROC AUC, the ROC curve and AP are invariant under strictly increasing transforms of the scores', () => {
  const transforms = [
    (x: number) => Math.exp(3 * x),
    (x: number) => 10 * x - 4,
    (x: number) => 1 / (1 + Math.exp(-(8 * x - 4))),
    (x: number) => x ** 3,
  ];
  fc.assert(
    fc.property(labelledScores, fc.constantFrom(...transforms), ({ y, s }, f) => {
      const t = s.map(f);
      expect(metrics.rocAucScore(y, t)).toBe(metrics.rocAucScore(y, s));
      expect(metrics.averagePrecisionScore(y, t)).toBe(metrics.averagePrecisionScore(y, s));
      const a = metrics.rocCurve(y, s);
      const b = metrics.rocCurve(y, t);
      expect(b.fpr).toEqual(a.fpr);
      expect(b.tpr).toEqual(a.tpr);
    }),
    propertyConfig(),
  );
});

test('without ties, ROC AUC(1 − s) = 1 − ROC AUC(s)', () => {
  const distinct = fc
    .uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 80 })
    .chain((k) =>
      fc.tuple(fc.constant(k), fc.array(fc.constantFrom(0, 1), { minLength: k.length, maxLength: k.length })),
    )
    .filter(([, y]) => y.includes(0) && y.includes(1));
  fc.assert(
    fc.property(distinct, ([k, y]) => {
      const s = k.map((v) => v / 1000);
      const flipped = s.map((v) => 1 - v);
      expect(metrics.rocAucScore(y, flipped)).toBeCloseTo(1 - metrics.rocAucScore(y, s), 12);
    }),
    propertyConfig(),
  );
});

test('average precision is in [0, 1], and 1 (to rounding) when every positive outscores every negative', () => {
  fc.assert(
    fc.property(labelledScores, fc.boolean(), ({ y, s, w }, weighted) => {
      fc.pre(!weighted || w.some((v, i) => v > 0 && y[i] === 1));
      const ap = metrics.averagePrecisionScore(y, s, weighted ? { sampleWeight: w } : undefined);
      expect(ap).toBeGreaterThanOrEqual(0);
      expect(ap).toBeLessThanOrEqual(1);
      const separated = y.map((v, i) => v + s[i]! / 2);
      expect(metrics.averagePrecisionScore(y, separated)).toBeCloseTo(1, 14);
    }),
    propertyConfig(),
  );
});

test('a confusion matrix sums to n (to the total weight), its diagonal to the matches', () => {
  const labelled = fc
    .integer({ min: 1, max: 80 })
    .chain((n) =>
      fc.tuple(
        fc.array(fc.integer({ min: -3, max: 5 }), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: -3, max: 5 }), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: n, maxLength: n }),
      ),
    );
  fc.assert(
    fc.property(labelled, ([t, p, w]) => {
      const cm = metrics.confusionMatrix(t, p);
      const all = cm.flat();
      expect(all.reduce((a, b) => a + b, 0)).toBe(t.length);
      const matches = t.filter((v, i) => v === p[i]).length;
      expect(cm.reduce((a, row, i) => a + row[i]!, 0)).toBe(matches);
      const cw = metrics.confusionMatrix(t, p, { sampleWeight: w });
      expect(cw.flat().reduce((a, b) => a + b, 0)).toBe(w.reduce((a, b) => a + b, 0));
      for (const row of metrics.confusionMatrix(t, p, { normalize: 'true' })) {
        const sum = row.reduce((a, b) => a + b, 0);
        expect(sum === 0 || Math.abs(sum - 1) < 1e-12).toBe(true);
      }
    }),
    propertyConfig(),
  );
});

test('accuracy, precision and recall agree with the confusion matrix of binarize(yScore, threshold)', () => {
  fc.assert(
    fc.property(labelledScores, fc.constantFrom(0, 0.25, 0.5, 0.55, 1), ({ y, s }, threshold) => {
      const [[tn, fp], [fn, tp]] = metrics.confusionMatrix(y, metrics.binarize(s, threshold), {
        labels: [0, 1],
      }) as [[number, number], [number, number]];
      expect(metrics.accuracy(y, s, { threshold })).toBeCloseTo((tp + tn) / y.length, 14);
      expect(metrics.precision(y, s, { threshold })).toBeCloseTo(tp + fp === 0 ? 0 : tp / (tp + fp), 14);
      expect(metrics.recall(y, s, { threshold })).toBeCloseTo(tp / (tp + fn), 14);
      const f1 = metrics.f1Score(y, s, { threshold });
      expect(f1).toBeCloseTo(tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn), 14);
    }),
    propertyConfig(),
  );
});

test('a float32 Tensor gives the same metrics as the float64 values it holds', () => {
  fc.assert(
    fc.property(labelledScores, ({ y, s }) => {
      const s32 = fromArray(s, [s.length], { dtype: 'float32' });
      const values = Array.from(s32.data);
      const y32 = fromArray(y, [y.length, 1], { dtype: 'float32' });
      expect(metrics.rocAucScore(y32, s32)).toBe(metrics.rocAucScore(y, values));
      expect(metrics.averagePrecisionScore(y32, s32)).toBe(metrics.averagePrecisionScore(y, values));
      expect(metrics.f1Score(y32, s32)).toBe(metrics.f1Score(y, values));
    }),
    propertyConfig(),
  );
});
