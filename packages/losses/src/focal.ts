import { ArgumentError, type Tensor, type Value, whereValue } from '@gradkit/autograd';
import { describeValue } from '@gradkit/kernels';
import {
  defineModulatedLoss,
  type ModulatedLoss,
  type ModulatedLossOptions,
  type ParamValues,
} from './modulated.js';
import { readOptions } from './options.js';
import type { Quantities } from './quantities.js';

/**
 * Domain of a focusing exponent. Reference code (YOLOv5, torchvision) computes any gamma, but gamma < 0 makes
 * the factor grow without bound as a prediction becomes right (inf at a perfect one): a DomainError here.
 */
const GAMMA: readonly [number, number] = [0, Number.POSITIVE_INFINITY];

/**
 * YOLOv5's `FocalLoss` (utils/loss.py) as a function: the BCE-with-logits loss elementwise, times
 * `alpha_t · (1 − p_t)^gamma`, then reduced:
 *
 *   loss = weight · ce · alpha_t · (1 − p_t)^gamma,
 *   p_t = y·p + (1 − y)·(1 − p),  alpha_t = y·alpha + (1 − y)·(1 − alpha),  p = sigmoid(x),
 *
 * with `ce` the BCE with logits (including `posWeight`). Defaults: gamma 1.5, alpha 0.25, reduction 'mean'
 * (YOLOv5's defaults). `1 − p_t` is computed without cancellation and the power in logit space, so the loss,
 * its gradients and Hessian-vector products stay finite and exact where PyTorch gives NaN (gamma < 1 at
 * saturated logits, second derivatives at gamma = 1.5 for |x| ≳ 17 in float32). Defined with
 * {@link defineModulatedLoss}.
 *
 * Options: `gamma`, `alpha` (number, per-class tensor, or negative/null to disable), `posWeight`, `weight`,
 * `reduction`; any other key is an ArgumentError.
 *
 * Domains (the whole focal family): targets in [0, 1], hard or soft (the reference code gives NaN or a
 * meaningless number outside; here a DomainError naming the first bad element, NaN included); `gamma` ≥ 0
 * (DomainError; a per-class tensor's elements too); `alpha` in [0, 1], a negative number disabling alpha_t
 * (above 1: DomainError; a per-class tensor's elements must be in [0, 1]); NaN or ±inf for a parameter:
 * ArgumentError. Any gamma is a run-time argument of one compiled kernel (0 and half-integers up to 16 get
 * their own, faster code), so per-step gamma schedules build nothing new.
 */
export const focal: ModulatedLoss<{
  /** The focusing exponent (≥ 0). */
  gamma: number;
}> = defineModulatedLoss({
  name: 'focal',
  factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
  params: { gamma: 1.5 },
  ranges: { gamma: GAMMA },
  alpha: 0.25,
  reduction: 'mean',
});

/**
 * torchvision's `sigmoid_focal_loss` (torchvision.ops.focal_loss): the same formula as {@link focal},
 *
 *   loss = ce · (1 − p_t)^gamma, times alpha_t when alpha ≥ 0,
 *
 * with torchvision's defaults: gamma 2, alpha 0.25 (a negative alpha disables the alpha_t factor), reduction
 * 'none'. `weight` and `posWeight` are accepted too (torchvision has neither). Domains as for {@link focal}.
 */
export const sigmoidFocal: ModulatedLoss<{
  /** The focusing exponent (≥ 0). */
  gamma: number;
}> = defineModulatedLoss({
  name: 'sigmoidFocal',
  factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
  params: { gamma: 2 },
  ranges: { gamma: GAMMA },
  alpha: 0.25,
  reduction: 'none',
});

/**
 * YOLOv5's `QFocalLoss` (quality focal loss, Li et al. 2020, "Generalized Focal Loss"):
 *
 *   loss = weight · ce · alpha_t · |y − p|^gamma
 *
 * Defaults: gamma 1.5, alpha 0.25, reduction 'mean'. `y − p` is computed exactly for hard targets
 * (as y·sigmoid(−x) − (1 − y)·sigmoid(x)); the power is kept as a power because |y − p| can be exactly 0 for
 * soft targets, where (as in PyTorch) gamma < 1 gives an infinite derivative. Domains as for {@link focal}.
 */
export const qfocal: ModulatedLoss<{
  /** The focusing exponent (≥ 0). */
  gamma: number;
}> = defineModulatedLoss({
  name: 'qfocal',
  factor: ({ y, p }, { gamma }) => y.sub(p).abs().pow(gamma),
  params: { gamma: 1.5 },
  ranges: { gamma: GAMMA },
  alpha: 0.25,
  reduction: 'mean',
});

/**
 * Varifocal loss (Zhang et al. 2021, "VarifocalNet"; mmdetection's `varifocal_loss` with
 * `iou_weighted=True`): the BCE with logits against an IoU-aware soft target `y`, weighted by `y` for
 * positives (y > 0) and by `alpha·|p − y|^gamma` for negatives:
 *
 *   loss = weight · ce · (y > 0 ? y : alpha·|p − y|^gamma)
 *
 * Defaults: alpha 0.75 (a parameter of the factor here, not alpha_t), gamma 2, reduction 'mean'. As in
 * mmdetection, the weight is not detached. Domains: targets in [0, 1]; `gamma` ≥ 0; `alpha` ≥ 0 (it scales
 * the negatives' loss, it is not a probability; a negative one would make the loss negative: DomainError).
 */
export const varifocal: ModulatedLoss<{
  /** Scale of the negatives' term (≥ 0). */
  alpha: number;
  /** The focusing exponent (≥ 0). */ gamma: number;
}> = defineModulatedLoss({
  name: 'varifocal',
  factor: ({ y, p }, { alpha, gamma }) => whereValue(y.gt(0), y, p.sub(y).abs().pow(gamma).mul(alpha)),
  params: { alpha: 0.75, gamma: 2 },
  ranges: { alpha: [0, Number.POSITIVE_INFINITY], gamma: GAMMA },
  reduction: 'mean',
});

/** Parameters of {@link asymmetric}: focusing exponents of the positive and negative parts, probability margin. */
export type AslParams = {
  /** Focusing exponent of the positives (≥ 0). */
  gammaPos: number;
  /** Focusing exponent of the negatives (≥ 0). */
  gammaNeg: number;
  /** Probability margin shifted off the negatives, in [0, 1]. */
  clip: number;
};

function aslFactor({ y, p }: Quantities, { gammaPos, gammaNeg, clip }: ParamValues<AslParams>): Value {
  // 1 − pt with the negative probability shifted: y·(1 − p) + (1 − y)·max(p − m, 0).
  const oneMinusPt = y.mul(p.neg().add(1)).add(y.neg().add(1).mul(p.sub(clip).max(0)));
  const exponent = gammaPos.mul(y).add(gammaNeg.mul(y.neg().add(1)));
  return oneMinusPt.pow(exponent);
}

function aslDefinition(name: string, detachWeight: boolean) {
  return defineModulatedLoss<AslParams>({
    name,
    // The base is not the cross entropy (the negative part uses the shifted probability), so the whole loss
    // is the additive term: w·[y·(−log p) + (1 − y)·(−log(1 − p_m))], 1 − p_m = min(1 − p + m, 1).
    factor: () => 0,
    additive: (q, params) => {
      const w = aslFactor(q, params);
      const oneMinusP = q.p.neg().add(1);
      const logNeg = params.clip.data === 0 ? oneMinusP.log() : oneMinusP.add(params.clip).min(1).log();
      const loss = q.y.mul(q.p.log().neg()).add(q.y.neg().add(1).mul(logNeg.neg()));
      return (detachWeight ? w.detach() : w).mul(loss);
    },
    params: { gammaPos: 1, gammaNeg: 4, clip: 0.05 },
    ranges: { gammaPos: GAMMA, gammaNeg: GAMMA, clip: [0, 1] },
    reduction: 'sum',
  });
}

const aslDetached = aslDefinition('asymmetric', true);
const aslAttached = aslDefinition('asymmetric', false);

/** Options of {@link asymmetric}. */
export type AsymmetricOptions = ModulatedLossOptions<AslParams> & {
  /** Stop gradients through the focusing weight, as the reference code does by default (default true). */
  detachWeight?: boolean;
};

/**
 * Asymmetric loss (ASL; Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification"), as in the
 * authors' `AsymmetricLoss`:
 *
 *   p_m = max(p − clip, 0),  1 − p_t = y·(1 − p) + (1 − y)·p_m,  gamma_t = gammaPos·y + gammaNeg·(1 − y)
 *   loss = −weight · (1 − p_t)^gamma_t · [y·log(p) + (1 − y)·log(1 − p_m)]
 *
 * Defaults: gammaPos 1, gammaNeg 4, clip 0.05, reduction 'sum', focusing weight detached (`detachWeight`,
 * the reference's `disable_torch_grad_focal_loss=True`). Logs are taken in logit space, so the reference's
 * eps clamp (1e-8) is not needed and not applied. ASL has no posWeight or alpha_t (passing them throws).
 *
 * Domains: targets in [0, 1]; `gammaPos`, `gammaNeg` ≥ 0; `clip` in [0, 1] (the reference silently ignores
 * a clip ≤ 0; a negative margin is refused here as a DomainError; clip = 1 ignores every negative, the limit);
 * `detachWeight` a boolean (ArgumentError otherwise).
 */
export function asymmetric(input: Tensor, target: Tensor, options?: AsymmetricOptions): Tensor {
  const opts = readOptions('asymmetric', options, ASL_OPTION_KEYS);
  const detachWeight = opts.get('detachWeight') ?? true;
  if (typeof detachWeight !== 'boolean') {
    throw new ArgumentError(
      'asymmetric',
      `argument 'detachWeight' must be a boolean, got ${describeValue(detachWeight)}`,
    );
  }
  opts.delete('detachWeight');
  // A plain copy of the values read once: the inner loss never sees the user's object (nor its getters).
  const rest = Object.fromEntries(opts) as ModulatedLossOptions<AslParams>;
  return (detachWeight ? aslDetached : aslAttached)(input, target, rest);
}

const ASL_OPTION_KEYS = [
  'weight',
  'posWeight',
  'alpha',
  'reduction',
  'gammaPos',
  'gammaNeg',
  'clip',
  'detachWeight',
];

/**
 * Poly-1 loss for binary classification (Leng et al. 2022, "PolyLoss"): the cross entropy plus
 * `epsilon·(1 − p_t)`:
 *
 *   loss = weight · (ce + epsilon·(1 − p_t))
 *
 * Defaults: epsilon 1, reduction 'mean', no alpha_t (pass `alpha` to add one to the ce term). `epsilon` may
 * be any finite number (the paper also uses negative ones); targets in [0, 1].
 */
export const poly1: ModulatedLoss<{
  /** Weight of the `1 − pt` term (any finite number). */ epsilon: number;
}> = defineModulatedLoss({
  name: 'poly1',
  factor: () => 1,
  additive: ({ pt }, { epsilon }) => pt.neg().add(1).mul(epsilon),
  params: { epsilon: 1 },
  reduction: 'mean',
});
