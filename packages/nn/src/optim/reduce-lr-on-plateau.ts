import { ArgumentError, DomainError, Tensor } from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';
import { finiteNumber, option } from './lr-scheduler.js';
import { type BaseHyper, Optimizer } from './optimizer.js';

/** Options of {@link ReduceLROnPlateau} (PyTorch's names and defaults, camelCased). */
export interface PlateauOptions {
  /** 'min' (default): lower is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** The factor the rate is multiplied by (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** A lower bound on the rate, one number or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the learning rate by `factor` when a metric has stopped improving for `patience` epochs, like
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`. Call `step(metric)` once per epoch with the validation loss
 * (or accuracy with mode 'max').
 */
export class ReduceLROnPlateau {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer<BaseHyper>;
  /** 'min' or 'max'. */
  readonly mode: 'min' | 'max';
  /** The reduction factor. */
  readonly factor: number;
  /** Tolerated epochs without improvement. */
  readonly patience: number;
  /** Improvement threshold. */
  readonly threshold: number;
  /** 'rel' or 'abs'. */
  readonly thresholdMode: 'rel' | 'abs';
  /** Cooldown epochs after a reduction. */
  readonly cooldown: number;
  /** Lower bound of each group's rate. */
  readonly minLrs: readonly number[];
  /** Smallest reduction applied. */
  readonly eps: number;
  /** The best metric so far. */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Cooldown epochs left. */
  cooldownCounter = 0;
  /** Epochs stepped. */
  lastEpoch = 0;

  /** @throws ArgumentError / DomainError for invalid options (factor ≥ 1, unknown mode, …) */
  constructor(optimizer: Optimizer<BaseHyper>, options: PlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    checkOptionKeys(op, 'options', options, [
      'mode',
      'factor',
      'patience',
      'threshold',
      'thresholdMode',
      'cooldown',
      'minLr',
      'eps',
    ]);
    if (!(optimizer instanceof Optimizer)) {
      throw new ArgumentError(
        op,
        `argument 'optimizer' must be an Optimizer, got ${describeValue(optimizer)}`,
      );
    }
    this.optimizer = optimizer;
    const nonNegInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    const nonNeg = (v: unknown) => finiteNumber(v) && (v as number) >= 0;
    this.mode = option(op, options, 'mode', 'min', (v) => v === 'min' || v === 'max', "'min' or 'max'");
    this.factor = option(
      op,
      options,
      'factor',
      0.1,
      (v) => nonNeg(v) && (v as number) < 1,
      'a number in [0, 1)',
    );
    this.patience = option(op, options, 'patience', 10, nonNegInt, 'a non-negative integer');
    this.threshold = option(op, options, 'threshold', 1e-4, nonNeg, 'a non-negative number');
    this.thresholdMode = option(
      op,
      options,
      'thresholdMode',
      'rel',
      (v) => v === 'rel' || v === 'abs',
      "'rel' or 'abs'",
    );
    this.cooldown = option(op, options, 'cooldown', 0, nonNegInt, 'a non-negative integer');
    this.eps = option(op, options, 'eps', 1e-8, nonNeg, 'a non-negative number');
    const minLr = Object.hasOwn(options, 'minLr') ? options.minLr : 0;
    const n = optimizer.paramGroups.length;
    const list = Array.isArray(minLr) ? [...minLr] : new Array<unknown>(n).fill(minLr);
    if (list.length !== n || !list.every(nonNeg)) {
      throw new DomainError(
        op,
        `option 'minLr' must be a non-negative number or one per group (${n}), got ${describeValue(minLr)}`,
      );
    }
    this.minLrs = Object.freeze(list as number[]);
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  #isBetter(a: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return this.thresholdMode === 'rel' ? a > this.best * (t + 1) : a > this.best + t;
  }

  /**
   * Records one epoch's metric and reduces the rates when it has not improved for more than `patience` epochs.
   *
   * @throws DomainError when the metric is not a number (or a one-element tensor)
   */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== 'number' || Number.isNaN(current)) {
      throw new DomainError(
        'ReduceLROnPlateau.step',
        `metric must be a number, got ${describeValue(metric)}`,
      );
    }
    this.lastEpoch += 1;
    if (this.#isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  /** The groups' current learning rates. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}
