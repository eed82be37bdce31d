import { ArgumentError, DomainError } from '@gradkit/autograd';
import { checkOptionKeys } from '@gradkit/kernels';
import { finiteNumber, LRScheduler, option, positiveInt } from './lr-scheduler.js';
import type { BaseHyper, Optimizer } from './optimizer.js';

/** Options of {@link OneCycleLR} (PyTorch's names and defaults, camelCased). */
export interface OneCycleOptions {
  /** The peak learning rate (required). */
  maxLr: number;
  /** The number of steps in the cycle (required). */
  totalSteps: number;
  /** Fraction of the cycle spent increasing the rate (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's momentum, or Adam's beta1) inversely to the rate (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum (default 0.85). */
  baseMomentum?: number;
  /** Highest momentum (default 0.95). */
  maxMomentum?: number;
  /** initial rate = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minimum rate = initial rate / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down symmetrically, then annihilate) instead of two (default false). */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: [number, number];
  momentum: [number, number];
}

/**
 * The 1cycle policy (Smith & Topin), like `torch.optim.lr_scheduler.OneCycleLR`: the rate rises from
 * maxLr/divFactor to maxLr over pctStart of the steps, then anneals to maxLr/(divFactor·finalDivFactor), while
 * the momentum moves the other way. Step it after every optimizer step (not every epoch); stepping past
 * `totalSteps` is an error.
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle. */
  readonly totalSteps: number;
  readonly #phases: Array<(g: number) => Phase>;
  readonly #anneal: (a: number, b: number, pct: number) => number;
  readonly #cycleMomentum: boolean;
  readonly #useBeta1: boolean;
  readonly #groups: Array<{ initial: number; max: number; min: number; baseM: number; maxM: number }>;

  /** @throws ArgumentError / DomainError for invalid options, or momentum cycling on an optimizer without one */
  constructor(optimizer: Optimizer<BaseHyper>, options: OneCycleOptions) {
    super('OneCycleLR', optimizer);
    const op = 'OneCycleLR';
    checkOptionKeys(op, 'options', options, [
      'maxLr',
      'totalSteps',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ]);
    const positive = (v: unknown) => finiteNumber(v) && (v as number) > 0;
    const maxLr = option<number>(
      op,
      options,
      'maxLr',
      undefined,
      (v) => finiteNumber(v) && (v as number) >= 0,
      'a non-negative number',
    );
    this.totalSteps = option<number>(op, options, 'totalSteps', undefined, positiveInt, 'a positive integer');
    const pct = option(
      op,
      options,
      'pctStart',
      0.3,
      (v) => finiteNumber(v) && (v as number) >= 0 && (v as number) <= 1,
      'a number in [0, 1]',
    );
    const strategy = option(
      op,
      options,
      'annealStrategy',
      'cos',
      (v) => v === 'cos' || v === 'linear',
      "'cos' or 'linear'",
    );
    this.#cycleMomentum = option(
      op,
      options,
      'cycleMomentum',
      true,
      (v) => typeof v === 'boolean',
      'a boolean',
    );
    const baseM = option(op, options, 'baseMomentum', 0.85, finiteNumber, 'a finite number');
    const maxM = option(op, options, 'maxMomentum', 0.95, finiteNumber, 'a finite number');
    const div = option(op, options, 'divFactor', 25, positive, 'a positive number');
    const finalDiv = option(op, options, 'finalDivFactor', 1e4, positive, 'a positive number');
    const three = option(op, options, 'threePhase', false, (v) => typeof v === 'boolean', 'a boolean');
    this.#anneal =
      strategy === 'cos'
        ? (a, b, p) => b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1)
        : (a, b, p) => (b - a) * p + a;
    const groups = optimizer.paramGroups as unknown as Array<Record<string, unknown>>;
    if (this.#cycleMomentum) {
      const d = optimizer.defaults as unknown as Record<string, unknown>;
      if (!Object.hasOwn(d, 'momentum') && !Object.hasOwn(d, 'betas')) {
        throw new ArgumentError(op, 'optimizer must support momentum with the cycleMomentum option enabled');
      }
    }
    this.#useBeta1 = Object.hasOwn(optimizer.defaults, 'betas');
    this.#groups = groups.map(() => ({
      initial: maxLr / div,
      max: maxLr,
      min: maxLr / div / finalDiv,
      baseM,
      maxM,
    }));
    const T = this.totalSteps;
    if (three) {
      this.#phases = [
        (i) => this.#phase(pct * T - 1, [this.#groups[i]!.initial, this.#groups[i]!.max], [maxM, baseM]),
        (i) => this.#phase(2 * pct * T - 2, [this.#groups[i]!.max, this.#groups[i]!.initial], [baseM, maxM]),
        (i) => this.#phase(T - 1, [this.#groups[i]!.initial, this.#groups[i]!.min], [maxM, maxM]),
      ];
    } else {
      this.#phases = [
        (i) => this.#phase(pct * T - 1, [this.#groups[i]!.initial, this.#groups[i]!.max], [maxM, baseM]),
        (i) => this.#phase(T - 1, [this.#groups[i]!.max, this.#groups[i]!.min], [baseM, maxM]),
      ];
    }
    this.init();
  }

  #phase(end: number, lr: [number, number], momentum: [number, number]): Phase {
    return { end, lr, momentum };
  }

  protected computeLr(): number[] {
    const n = this.lastEpoch;
    if (n > this.totalSteps) {
      throw new DomainError(
        'OneCycleLR.step',
        `tried to step ${n} times; the total number of steps is ${this.totalSteps}`,
      );
    }
    const groups = this.optimizer.paramGroups as unknown as Array<Record<string, unknown>>;
    return groups.map((group, gi) => {
      let start = 0;
      for (let k = 0; k < this.#phases.length; k++) {
        const phase = this.#phases[k]!(gi);
        if (n <= phase.end || k === this.#phases.length - 1) {
          const pct = (n - start) / (phase.end - start);
          if (this.#cycleMomentum) {
            const m = this.#anneal(phase.momentum[0], phase.momentum[1], pct);
            if (this.#useBeta1) {
              const betas = group.betas as readonly number[];
              group.betas = Object.freeze([m, ...betas.slice(1)]);
            } else group.momentum = m;
          }
          return this.#anneal(phase.lr[0], phase.lr[1], pct);
        }
        start = phase.end;
      }
      /* c8 ignore next */
      throw new DomainError('OneCycleLR.step', 'no phase matched');
    });
  }
}
