import { fromArray, Generator, noGrad, randn, type Tensor } from '@gradkit/autograd';
import { BCEWithLogitsLoss } from '@gradkit/losses';
import { describe, expect, it } from 'vitest';
import {
  Adam,
  CosineAnnealingLR,
  DataLoader,
  Linear,
  loadSafetensors,
  metrics,
  ReLU,
  Sequential,
  StandardScaler,
  saveSafetensors,
  TensorDataset,
} from '../src/index.js';

/** Two Gaussian blobs in 4-D: class 1 is shifted by +1.5 on every feature. */
function blobs(n: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = randn([n, 4], { generator: g, dtype: 'float32' });
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < 4; j++) x.data[i * 4 + j]! += (i % 2) * 1.5;
  }
  return { x, y: fromArray(y, [n]) };
}

describe('nn end to end (the README example)', () => {
  it('trains an MLP with a DataLoader, Adam and a scheduler, evaluates it and round-trips a checkpoint', () => {
    const train = blobs(400, 1);
    const test = blobs(200, 2);
    const scaler = new StandardScaler();
    const xTrain = scaler.fitTransform(train.x);
    const xTest = scaler.transform(test.x);

    const g = new Generator(0);
    const model = new Sequential(
      new Linear(4, 8, { generator: g }),
      new ReLU(),
      new Linear(8, 1, { generator: g }),
    );
    const lossFn = new BCEWithLogitsLoss();
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const epochs = 15;
    const sched = new CosineAnnealingLR(opt, { tMax: epochs });
    const loader = new DataLoader(new TensorDataset(xTrain, train.y), {
      batchSize: 32,
      shuffle: true,
      seed: 3,
    });

    const losses: number[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      let total = 0;
      for (const [xb, yb] of loader) {
        opt.zeroGrad();
        const loss = lossFn.forward(model.forward(xb!).reshape(-1), yb!);
        loss.backward();
        opt.step();
        total += loss.item();
      }
      sched.step();
      losses.push(total / loader.length);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);

    model.eval();
    const scores = noGrad(() => model.forward(xTest).reshape(-1).sigmoid());
    expect(metrics.accuracy(test.y, scores)).toBeGreaterThan(0.9);
    expect(metrics.rocAucScore(test.y, scores)).toBeGreaterThan(0.95);

    const bytes = saveSafetensors(model.stateDict(), { metadata: { epochs: String(epochs) } });
    const restored = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 1));
    const { tensors, metadata } = loadSafetensors(bytes);
    restored.loadStateDict(tensors);
    expect(metadata).toEqual({ epochs: '15' });
    const again = noGrad(() => restored.forward(xTest).reshape(-1).sigmoid());
    expect(Array.from(again.data)).toEqual(Array.from(scores.data));
  });
});
