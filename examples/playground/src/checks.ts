import { fromArray, type Tensor } from '@gradkit/autograd';
import { describeWorst, gradcheckTensor, gradgradcheckTensor } from '@gradkit/testing';
import { derivatives, type NamedLoss } from './losses.js';

/** The outcome of the gradient checks of a loss. */
export interface GradientCheck {
  readonly ok: boolean;
  /** What was checked and, on failure, the worst element. */
  readonly detail: string;
}

/** Logits and (soft and hard) targets the gradients are checked at: away from 0, where kinks usually sit. */
const CHECK_LOGITS = [-3.1, -1.3, -0.4, 0.35, 1.2, 2.7, -0.8, 0.9];
const CHECK_TARGETS = [0, 1, 0.25, 0.7, 0, 1, 1, 0];

/**
 * gradcheck and gradgradcheck (float64, central differences, PyTorch's tolerances) of the per-element loss
 * with respect to the logits and the targets.
 */
export function checkGradients(l: NamedLoss): GradientCheck {
  const x = fromArray(CHECK_LOGITS, [CHECK_LOGITS.length], { dtype: 'float64', requiresGrad: true });
  const y = fromArray(CHECK_TARGETS, [CHECK_TARGETS.length], { dtype: 'float64', requiresGrad: true });
  const fn = (u: Tensor, v: Tensor) => l.loss(u, v, 'none');
  try {
    const first = gradcheckTensor(fn, [x, y]);
    if (!first.ok) return { ok: false, detail: `gradcheck ${describeWorst(first)}` };
    const second = gradgradcheckTensor(fn, [x, y], { seed: 1 });
    if (!second.ok) return { ok: false, detail: `gradgradcheck ${describeWorst(second)}` };
    return { ok: true, detail: 'gradcheck and gradgradcheck pass (logits and targets, float64)' };
  } catch (e) {
    return { ok: false, detail: `the check threw: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The saturated logits checked, in this order for y = 0 then y = 1. */
export const SATURATION_LOGITS = [30, -30, 100, -100, 1e4, -1e4];

/** The first non-finite quantity at saturation, or null when loss, gradient and Hessian are finite. */
export interface Saturation {
  readonly finite: boolean;
  /** `finite`, or e.g. `loss at x = 10000, y = 0`. */
  readonly status: string;
}

/** Whether the loss, dL/dx and d²L/dx² stay finite at |x| = 30, 100, 1e4 in float32, for y = 0 and 1. */
export function checkSaturation(l: NamedLoss): Saturation {
  for (const quantity of ['loss', 'gradient', 'Hessian'] as const) {
    for (const y of [0, 1]) {
      const x = fromArray(SATURATION_LOGITS, [SATURATION_LOGITS.length], {
        dtype: 'float32',
        requiresGrad: true,
      });
      const t = fromArray(
        SATURATION_LOGITS.map(() => y),
        [SATURATION_LOGITS.length],
        { dtype: 'float32' },
      );
      let data: ArrayLike<number>;
      try {
        const d = derivatives(l, x, t);
        data = quantity === 'loss' ? d.loss.data : quantity === 'gradient' ? d.grad.data : d.hess.data;
      } catch (e) {
        return {
          finite: false,
          status: `${quantity} (threw: ${e instanceof Error ? e.message : String(e)})`,
        };
      }
      for (let i = 0; i < SATURATION_LOGITS.length; i++) {
        if (!Number.isFinite(data[i]!)) {
          return { finite: false, status: `${quantity} at x = ${SATURATION_LOGITS[i]}, y = ${y}` };
        }
      }
    }
  }
  return { finite: true, status: 'finite' };
}
