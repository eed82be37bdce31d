import type { Tensor } from '@gradkit/autograd';
import { add, div, mul, sqrt, sub } from '@gradkit/kernels';
import { storageOf, type UpdateArray } from './device-update.js';
import { FusedUpdate } from './fused-update.js';
import {
  atLeast,
  isBoolean,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
  unitInterval,
  zerosLikeParam,
} from './optimizer.js';
import { ownOnly } from './sgd.js';

/** Hyperparameters of {@link RMSprop} (PyTorch's defaults). */
export interface RMSpropHyper {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by the variance estimate instead of the second moment (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

function rmsUpdate(centered: boolean, momentum: boolean): FusedUpdate {
  const arrays = ['p', 'g', 'sq'];
  if (centered) arrays.push('gavg');
  if (momentum) arrays.push('buf');
  return new FusedUpdate(arrays, ['lr', 'alpha', 'eps', 'wd', 'sign', 'momentum'], (x) => {
    const d = add(mul(x.sign!, x.g!), mul(x.wd!, x.p!));
    const sq = add(mul(x.sq!, x.alpha!), mul(mul(d, d), sub(1, x.alpha!)));
    const out: Record<string, ReturnType<typeof add>> = { sq };
    let avg = sqrt(sq);
    if (centered) {
      const gavg = add(mul(x.gavg!, x.alpha!), mul(d, sub(1, x.alpha!)));
      out.gavg = gavg;
      avg = sqrt(sub(sq, mul(gavg, gavg)));
    }
    const denom = add(avg, x.eps!);
    if (momentum) {
      const buf = add(mul(x.buf!, x.momentum!), div(d, denom));
      out.buf = buf;
      out.p = sub(x.p!, mul(x.lr!, buf));
    } else {
      out.p = sub(x.p!, div(mul(x.lr!, d), denom));
    }
    return out;
  });
}
const UPDATES = [
  rmsUpdate(false, false),
  rmsUpdate(false, true),
  rmsUpdate(true, false),
  rmsUpdate(true, true),
];

/** RMSprop, `torch.optim.RMSprop`'s update rule and defaults (incl. centered and momentum variants). */
export class RMSprop extends Optimizer<RMSpropHyper> {
  /**
   * @param params - parameters or parameter groups
   * @param options - see {@link RMSpropHyper}
   * @throws ArgumentError / DomainError for unknown keys or out-of-range values
   */
  constructor(params: Params<RMSpropHyper>, options: Partial<RMSpropHyper> = {}) {
    super(
      'RMSprop',
      params,
      {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
        ...ownOnly('RMSprop', options),
      },
      {
        lr: atLeast(0),
        alpha: (v) => (v === 1 ? null : unitInterval(v)),
        eps: atLeast(0),
        weightDecay: atLeast(0),
        momentum: atLeast(0),
        centered: isBoolean,
        maximize: isBoolean,
      },
    );
  }

  protected initState(p: Tensor, h: ParamGroup<RMSpropHyper>): ParamState {
    const s: ParamState = { step: 0, squareAvg: zerosLikeParam(p) };
    if (h.momentum > 0) s.momentumBuffer = zerosLikeParam(p);
    if (h.centered) s.gradAvg = zerosLikeParam(p);
    return s;
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, h: ParamGroup<RMSpropHyper>): void {
    s.step = (s.step as number) + 1;
    const arrays: Record<string, UpdateArray> = {
      p: storageOf(p),
      g: storageOf(g),
      sq: storageOf(s.squareAvg as Tensor),
    };
    if (h.centered) {
      if (s.gradAvg === undefined) s.gradAvg = zerosLikeParam(p);
      arrays.gavg = storageOf(s.gradAvg as Tensor);
    }
    if (h.momentum > 0) {
      if (s.momentumBuffer === undefined) s.momentumBuffer = zerosLikeParam(p);
      arrays.buf = storageOf(s.momentumBuffer as Tensor);
    }
    UPDATES[(h.centered ? 2 : 0) + (h.momentum > 0 ? 1 : 0)]!.run(
      arrays,
      {
        lr: h.lr,
        alpha: h.alpha,
        eps: h.eps,
        wd: h.weightDecay,
        sign: h.maximize ? -1 : 1,
        momentum: h.momentum,
      },
      p.size,
      this.name,
    );
  }
}
