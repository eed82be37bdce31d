import { type Generator, noGrad, type Tensor } from '@gradkit/autograd';
import {
  type BaseHyper,
  type DataLoader,
  Linear,
  type LRScheduler,
  type Module,
  type Optimizer,
  ReLU,
  Sequential,
} from '@gradkit/nn';
import type { EpochProgress } from './progress.js';

/** A multilayer perceptron `sizes[0] → … → sizes.at(-1)`: Linear layers with ReLU between them. */
export function mlp(sizes: readonly number[], generator: Generator): Sequential {
  const layers: Module[] = [];
  for (let i = 1; i < sizes.length; i++) {
    if (i > 1) layers.push(new ReLU());
    layers.push(new Linear(sizes[i - 1]!, sizes[i]!, { generator }));
  }
  return new Sequential(...layers);
}

/** The model's output for `x` in evaluation mode, without recording a graph. */
export function predict(model: Module, x: Tensor): Tensor {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => model.forward(x));
  } finally {
    model.train(wasTraining);
  }
}

/** What {@link fit} needs. */
export interface FitOptions {
  /** The model, trained in place. */
  model: Module;
  /** The objective of a batch: `loss(model.forward(x), y)`, a scalar. */
  loss: (output: Tensor, target: Tensor) => Tensor;
  /** The optimizer of the model's parameters. */
  optimizer: Optimizer<BaseHyper>;
  /** A learning-rate scheduler, stepped once after every epoch. */
  scheduler?: LRScheduler;
  /** The training batches `[x, y]`. */
  loader: DataLoader<Tensor[]>;
  /** The number of passes over the loader. */
  epochs: number;
  /** Numbers to report after each epoch (test metrics), computed after the epoch's last step. */
  evaluate?: () => Record<string, number>;
  /** Where the epochs are reported. */
  progress?: EpochProgress;
}

/** One epoch of {@link fit}: the mean train loss, the learning rate it ran with, and `evaluate`'s numbers. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  lr: number;
  metrics: Record<string, number>;
}

/** The plain mini-batch loop: zeroGrad, forward, loss, backward, step; the scheduler after each epoch. */
export function fit(options: FitOptions): EpochRecord[] {
  const { model, loss, optimizer, scheduler, loader, epochs, evaluate, progress } = options;
  const history: EpochRecord[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    const lr = optimizer.paramGroups[0]!.lr;
    let sum = 0;
    let count = 0;
    for (const [x, y] of loader) {
      optimizer.zeroGrad();
      const l = loss(model.forward(x!), y!);
      l.backward();
      optimizer.step();
      sum += l.item() * x!.shape[0]!;
      count += x!.shape[0]!;
    }
    scheduler?.step();
    const metrics = evaluate ? evaluate() : {};
    history.push({ epoch, loss: sum / count, lr, metrics });
    progress?.update(epoch, { loss: sum / count, ...metrics });
  }
  progress?.stop();
  return history;
}
