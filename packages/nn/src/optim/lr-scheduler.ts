import { ArgumentError, DomainError } from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';
import { type BaseHyper, Optimizer } from './optimizer.js';

/** Reads option `key` (own keys only; `options` undefined reads as `{}`), or `fallback`; checks it with `valid`. */
export function option<T>(
  op: string,
  options: object | undefined,
  key: string,
  fallback: T | undefined,
  valid: (v: unknown) => boolean,
  what: string,
): T {
  const v = options !== undefined && Object.hasOwn(options, key) ? ownValue(options, key) : fallback;
  if (!valid(v)) {
    const Err = typeof v === 'number' ? DomainError : ArgumentError;
    throw new Err(op, `option '${key}' must be ${what}, got ${describeValue(v)}`);
  }
  return v as T;
}

/** A positive integer. */
export const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
/** A finite number. */
export const finiteNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/**
 * The base of the epoch-based learning-rate schedulers, like `torch.optim.lr_scheduler.LRScheduler`: it
 * remembers each group's initial learning rate, sets the learning rate of epoch 0 when created, and each
 * `step()` advances one epoch and writes the new rates into the optimizer's groups. Rates are computed with
 * PyTorch 1.13's (chainable) formulas, so a rate changed by hand between steps carries on as in PyTorch.
 */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer<BaseHyper>;
  /** Each group's learning rate when the scheduler was created. */
  readonly baseLrs: readonly number[];
  /** The current epoch (0 after construction). */
  lastEpoch = -1;
  #lastLr: number[] = [];

  /** @throws ArgumentError when `optimizer` has no parameter groups */
  protected constructor(op: string, optimizer: Optimizer<BaseHyper>) {
    if (!(optimizer instanceof Optimizer)) {
      throw new ArgumentError(
        op,
        `argument 'optimizer' must be an Optimizer, got ${describeValue(optimizer)}`,
      );
    }
    this.optimizer = optimizer;
    this.baseLrs = Object.freeze(optimizer.paramGroups.map((g) => g.lr));
  }

  /** Sets the learning rate of epoch 0; subclasses call it at the end of their constructor. */
  protected init(): void {
    this.step();
  }

  /** The learning rate of each group for the epoch `lastEpoch`, from the groups' current rates. */
  protected abstract computeLr(): number[];

  /** Advances one epoch and sets each group's learning rate. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i]!;
    });
    this.#lastLr = lrs;
  }

  /** The learning rates last set, one per group. */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** The scheduler's state (epoch and learning rates), to save with the optimizer's. */
  stateDict(): {
    /** Steps taken. */
    lastEpoch: number;
    /** Each group's last learning rate. */
    lastLr: number[];
  } {
    return { lastEpoch: this.lastEpoch, lastLr: this.getLastLr() };
  }

  /**
   * Restores a state saved by {@link LRScheduler.stateDict} (the optimizer's own state carries the rates).
   *
   * @throws ArgumentError for a malformed state
   */
  loadStateDict(sd: { lastEpoch: number; lastLr: number[] }): void {
    const op = 'LRScheduler.loadStateDict';
    if (sd === null || typeof sd !== 'object') {
      throw new ArgumentError(op, `argument 'stateDict' must be an object, got ${describeValue(sd)}`);
    }
    checkOptionKeys(op, 'stateDict', sd, ['lastEpoch', 'lastLr']);
    const lastEpoch = ownValue(sd, 'lastEpoch');
    if (typeof lastEpoch !== 'number' || !Number.isSafeInteger(lastEpoch) || lastEpoch < 0) {
      throw new ArgumentError(
        op,
        `'lastEpoch' must be a non-negative integer, got ${describeValue(lastEpoch)}`,
      );
    }
    const lastLr = ownValue(sd, 'lastLr');
    if (
      !Array.isArray(lastLr) ||
      lastLr.length !== this.optimizer.paramGroups.length ||
      ![...lastLr].every(finiteNumber)
    ) {
      throw new ArgumentError(op, `'lastLr' must hold one finite number per parameter group`);
    }
    this.lastEpoch = lastEpoch;
    this.#lastLr = [...lastLr];
  }

  /** The groups' current learning rates. */
  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** Multiplies the learning rate by `gamma` every `stepSize` epochs, like `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Decay factor (default 0.1). */
  readonly gamma: number;

  /** @throws ArgumentError / DomainError for invalid options */
  constructor(optimizer: Optimizer<BaseHyper>, options: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer);
    checkOptionKeys('StepLR', 'options', options, ['stepSize', 'gamma']);
    this.stepSize = option<number>(
      'StepLR',
      options,
      'stepSize',
      undefined,
      positiveInt,
      'a positive integer',
    );
    this.gamma = option('StepLR', options, 'gamma', 0.1, finiteNumber, 'a finite number');
    this.init();
  }

  protected computeLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/**
 * Cosine annealing from each group's initial rate down to `etaMin` over `tMax` epochs (and back up after,
 * as the cosine continues), like `torch.optim.lr_scheduler.CosineAnnealingLR` (SGDR without restarts).
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Half period, in epochs. */
  readonly tMax: number;
  /** The minimum learning rate (default 0). */
  readonly etaMin: number;

  /** @throws ArgumentError / DomainError for invalid options */
  constructor(optimizer: Optimizer<BaseHyper>, options: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer);
    checkOptionKeys('CosineAnnealingLR', 'options', options, ['tMax', 'etaMin']);
    this.tMax = option<number>(
      'CosineAnnealingLR',
      options,
      'tMax',
      undefined,
      positiveInt,
      'a positive integer',
    );
    this.etaMin = option('CosineAnnealingLR', options, 'etaMin', 0, finiteNumber, 'a finite number');
    this.init();
  }

  protected computeLr(): number[] {
    const lrs = this.currentLrs();
    const e = this.lastEpoch;
    const T = this.tMax;
    const eta = this.etaMin;
    if (e === 0) return lrs;
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i]! - eta) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map(
      (lr) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - eta) + eta,
    );
  }
}

/**
 * Scales the learning rate linearly from `startFactor` to `endFactor` of the initial rate over `totalIters`
 * epochs (a warm-up), then keeps it, like `torch.optim.lr_scheduler.LinearLR` (defaults 1/3, 1, 5).
 */
export class LinearLR extends LRScheduler {
  /** Factor at epoch 0. */
  readonly startFactor: number;
  /** Factor from epoch totalIters on. */
  readonly endFactor: number;
  /** Epochs of the ramp. */
  readonly totalIters: number;

  /** @throws ArgumentError / DomainError for invalid options (factors outside (0, 1] / [0, 1]) */
  constructor(
    optimizer: Optimizer<BaseHyper>,
    options: { startFactor?: number; endFactor?: number; totalIters?: number } = {},
  ) {
    super('LinearLR', optimizer);
    const op = 'LinearLR';
    checkOptionKeys(op, 'options', options, ['startFactor', 'endFactor', 'totalIters']);
    this.startFactor = option(
      op,
      options,
      'startFactor',
      1 / 3,
      (v) => finiteNumber(v) && (v as number) > 0 && (v as number) <= 1,
      'a number in (0, 1]',
    );
    this.endFactor = option(
      op,
      options,
      'endFactor',
      1,
      (v) => finiteNumber(v) && (v as number) >= 0 && (v as number) <= 1,
      'a number in [0, 1]',
    );
    this.totalIters = option(op, options, 'totalIters', 5, positiveInt, 'a positive integer');
    this.init();
  }

  protected computeLr(): number[] {
    const lrs = this.currentLrs();
    const e = this.lastEpoch;
    if (e === 0) return lrs.map((lr) => lr * this.startFactor);
    if (e > this.totalIters) return lrs;
    const d = this.endFactor - this.startFactor;
    return lrs.map((lr) => lr * (1 + d / (this.totalIters * this.startFactor + (e - 1) * d)));
  }
}
