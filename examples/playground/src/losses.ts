import { fromArray, grad, type Tensor } from '@gradkit/autograd';
import {
  bceWithLogits,
  defineModulatedLoss,
  focal,
  type ModulatedLoss,
  type ModulatedLossOptions,
  type Reduction,
} from '@gradkit/losses';
import type { CompiledFactor } from './factor.js';

/** A per-element loss of logits and targets (and its factor), for the curves, the checks and training. */
export interface NamedLoss {
  /** Its name in plots and tables. */
  readonly name: string;
  /** The loss, reduced as asked. */
  readonly loss: (x: Tensor, y: Tensor, reduction: Reduction) => Tensor;
  /** Its modulating factor, per element. */
  readonly factor: (x: Tensor, y: Tensor) => Tensor;
}

/** Calls a modulated loss with numeric parameters and a reduction. */
export function callModulated(
  loss: ModulatedLoss<Record<string, number>>,
  x: Tensor,
  y: Tensor,
  params: Readonly<Record<string, number>>,
  reduction: Reduction,
): Tensor {
  const options = { ...params, reduction } as unknown as ModulatedLossOptions<Record<string, number>>;
  return loss(x, y, options);
}

/** focal's factor (1 − pt)^gamma alone, as a loss (for its curve). */
const focalFactor = defineModulatedLoss({
  name: 'focal (factor)',
  factor: () => 0,
  additive: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
  params: { gamma: 2 },
});

/** The three losses compared everywhere: the new factor, BCE with logits and focal(γ) (no alpha_t). */
export function comparedLosses(
  compiled: CompiledFactor,
  params: Readonly<Record<string, number>>,
  focalGamma: number,
): NamedLoss[] {
  return [
    {
      name: 'new factor',
      loss: (x, y, reduction) => callModulated(compiled.loss, x, y, params, reduction),
      factor: (x, y) => callModulated(compiled.factorAlone, x, y, params, 'none'),
    },
    {
      name: 'BCE',
      loss: (x, y, reduction) => bceWithLogits(x, y, { reduction }),
      factor: (x) => fromArray(new Float64Array(x.size).fill(1), [...x.shape], { dtype: x.dtype }),
    },
    {
      name: `focal(γ=${focalGamma})`,
      loss: (x, y, reduction) => focal(x, y, { gamma: focalGamma, alpha: null, reduction }),
      factor: (x, y) => focalFactor(x, y, { gamma: focalGamma, reduction: 'none' }),
    },
  ];
}

/** A loss per element with its first and second derivatives in the logit. */
export interface Derivatives {
  readonly loss: Tensor;
  readonly grad: Tensor;
  readonly hess: Tensor;
}

/**
 * The loss per element and dL/dx, d²L/dx² per element (each element depends on its own logit only, so the
 * gradient of the sum is the elementwise derivative). `x` must require grad.
 */
export function derivatives(l: NamedLoss, x: Tensor, y: Tensor): Derivatives {
  const loss = l.loss(x, y, 'none');
  const [g] = grad(loss.sum(), [x], { createGraph: true });
  const [h] = g!.requiresGrad ? grad(g!.sum(), [x], { allowUnused: true }) : [null];
  const zeros = () => fromArray(new Float64Array(x.size), [...x.shape], { dtype: x.dtype });
  return { loss: loss.detach(), grad: g!.detach(), hess: h ?? zeros() };
}
