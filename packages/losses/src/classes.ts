import { ArgumentError, type Tensor } from '@gradkit/autograd';
import { describeValue } from '@gradkit/kernels';
import { bce } from './bce.js';
import { type BceWithLogitsOptions, bceWithLogits } from './bce-with-logits.js';
import { focal } from './focal.js';
import {
  BCE_OPTION_KEYS,
  BCE_WITH_LOGITS_OPTION_KEYS,
  checkFinite,
  checkRange,
  checkReduction,
  type LossOptions,
  optionalTensor,
  type Reduction,
  readOptions,
} from './options.js';

/**
 * PyTorch's `nn.BCELoss`: {@link bce} with a fixed `weight` and `reduction` (default 'mean').
 * Call {@link BCELoss.forward}.
 */
export class BCELoss {
  /** Per-element weight, broadcast to the target's shape, or undefined. */
  weight: Tensor | undefined;
  /** The reduction applied by {@link BCELoss.forward}. */
  reduction: Reduction;

  /**
   * @param options - `weight` and `reduction` (default 'mean'); own keys only
   * @throws ArgumentError for an unknown key, a weight that is not a Tensor or a bad reduction
   */
  constructor(options?: LossOptions) {
    const opts = readOptions('BCELoss', options, BCE_OPTION_KEYS);
    this.weight = optionalTensor('BCELoss', 'weight', opts.get('weight'));
    this.reduction = checkReduction('BCELoss', opts.get('reduction') ?? 'mean');
  }

  /** The loss of probabilities `input` against `target` (see {@link bce}). */
  forward(input: Tensor, target: Tensor): Tensor {
    return bce(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.BCEWithLogitsLoss`: {@link bceWithLogits} with a fixed `weight`, `posWeight` and `reduction`
 * (default 'mean'). Call {@link BCEWithLogitsLoss.forward}.
 */
export class BCEWithLogitsLoss {
  /** Per-element weight, broadcast to the input's shape, or undefined. */
  weight: Tensor | undefined;
  /** Weight of positive examples, broadcast against the input (`[C]` lines up with the last dim), or undefined. */
  posWeight: Tensor | undefined;
  /** The reduction applied by {@link BCEWithLogitsLoss.forward}. */
  reduction: Reduction;

  /**
   * @param options - `weight`, `posWeight` and `reduction` (default 'mean'); own keys only
   * @throws ArgumentError for an unknown key, a weight that is not a Tensor or a bad reduction
   */
  constructor(options?: BceWithLogitsOptions) {
    const op = 'BCEWithLogitsLoss';
    const opts = readOptions(op, options, BCE_WITH_LOGITS_OPTION_KEYS);
    this.weight = optionalTensor(op, 'weight', opts.get('weight'));
    this.posWeight = optionalTensor(op, 'posWeight', opts.get('posWeight'));
    this.reduction = checkReduction(op, opts.get('reduction') ?? 'mean');
  }

  /** The loss of logits `input` against `target` (see {@link bceWithLogits}). */
  forward(input: Tensor, target: Tensor): Tensor {
    return bceWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}

/**
 * YOLOv5's `FocalLoss(loss_fcn, gamma=1.5, alpha=0.25)` (utils/loss.py): wraps a {@link BCEWithLogitsLoss},
 * whose `weight` and `posWeight` apply, evaluates it elementwise and applies the wrapped loss's original
 * reduction itself. As in YOLOv5, the wrapped loss's `reduction` is set to 'none' by the constructor
 * (YOLOv5: "required to apply FL to each element"). The whole loss runs as ONE fused node ({@link focal}).
 */
export class FocalLoss {
  /** The wrapped loss (its reduction is 'none' after construction). */
  readonly lossFn: BCEWithLogitsLoss;
  /** Focusing exponent. */
  gamma: number;
  /** Class balance (a negative value disables alpha_t). */
  alpha: number;
  /** The wrapped loss's original reduction, applied by {@link FocalLoss.forward}. */
  reduction: Reduction;

  /**
   * @param lossFn - the BCEWithLogitsLoss to wrap
   * @param gamma - focusing exponent (default 1.5), ≥ 0
   * @param alpha - class balance (default 0.25), at most 1; negative disables alpha_t
   * @throws ArgumentError when `lossFn` is not a BCEWithLogitsLoss or a number is NaN or ±inf
   * @throws DomainError when gamma < 0 or alpha > 1
   */
  constructor(lossFn: BCEWithLogitsLoss, gamma = 1.5, alpha = 0.25) {
    const op = 'FocalLoss';
    if (!(lossFn instanceof BCEWithLogitsLoss)) {
      throw new ArgumentError(
        op,
        `argument 'lossFn' must be a BCEWithLogitsLoss, got ${describeValue(lossFn)}`,
      );
    }
    checkRange(op, 'gamma', checkFinite(op, 'gamma', gamma), [0, Number.POSITIVE_INFINITY]);
    checkRange(op, 'alpha', checkFinite(op, 'alpha', alpha), [Number.NEGATIVE_INFINITY, 1]);
    this.lossFn = lossFn;
    this.gamma = gamma;
    this.alpha = alpha;
    this.reduction = lossFn.reduction;
    lossFn.reduction = 'none';
  }

  /** The focal loss of logits `pred` against `truth`. */
  forward(pred: Tensor, truth: Tensor): Tensor {
    return focal(pred, truth, {
      gamma: this.gamma,
      alpha: this.alpha,
      weight: this.lossFn.weight,
      posWeight: this.lossFn.posWeight,
      reduction: this.reduction,
    });
  }
}
