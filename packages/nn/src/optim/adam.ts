import type { Tensor } from '@gradkit/autograd';
import { add, div, type Expr, max, mul, sqrt, sub } from '@gradkit/kernels';
import { storageOf, type UpdateArray } from './device-update.js';
import { FusedUpdate } from './fused-update.js';
import {
  atLeast,
  betaPair,
  isBoolean,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
  zerosLikeParam,
} from './optimizer.js';
import { ownOnly } from './sgd.js';

/** Hyperparameters of {@link Adam} and {@link AdamW}. */
export interface AdamHyper {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay rate (default 0.01). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad) (default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

const ARRAYS = ['p', 'g', 'm', 'v'];
const SCALARS = ['lr', 'b1', 'b2', 'eps', 'wd', 'decay', 'sign', 'bc1', 'bc2sqrt'];

/**
 * One Adam/AdamW step in one loop, with PyTorch 1.13's order of operations:
 * p ← p·decay (AdamW); d = ±g + wd·p (Adam); m ← b1·m + (1−b1)·d; v ← b2·v + (1−b2)·d²;
 * (vmax ← max(vmax, v)); p ← p − (lr / bc1) · m / (√v̂ / √bc2 + eps).
 */
function adamUpdate(amsgrad: boolean): FusedUpdate {
  return new FusedUpdate(amsgrad ? [...ARRAYS, 'vmax'] : ARRAYS, SCALARS, (x) => {
    const p0 = mul(x.p!, x.decay!);
    const d = add(mul(x.sign!, x.g!), mul(x.wd!, p0));
    const m = add(mul(x.m!, x.b1!), mul(d, sub(1, x.b1!)));
    const v = add(mul(x.v!, x.b2!), mul(mul(d, d), sub(1, x.b2!)));
    const vhat = amsgrad ? max(x.vmax!, v) : v;
    const denom = add(div(sqrt(vhat), x.bc2sqrt!), x.eps!);
    const out: Record<string, Expr> = { p: sub(p0, div(mul(div(x.lr!, x.bc1!), m), denom)), m, v };
    if (amsgrad) out.vmax = vhat;
    return out;
  });
}
const plainAdam = adamUpdate(false);
const amsAdam = adamUpdate(true);

const CHECKS = {
  lr: atLeast(0),
  betas: betaPair,
  eps: atLeast(0),
  weightDecay: atLeast(0),
  amsgrad: isBoolean,
  maximize: isBoolean,
};

/** PyTorch's Adam/AdamW defaults (they differ only in weight decay), overridden by the user's own options. */
function adamDefaults(op: string, weightDecay: number, options: Partial<AdamHyper>): AdamHyper {
  const defaults: AdamHyper = {
    lr: 1e-3,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay,
    amsgrad: false,
    maximize: false,
  };
  return { ...defaults, ...ownOnly(op, options) };
}

abstract class AdamBase extends Optimizer<AdamHyper> {
  /** True when weight decay is decoupled from the gradient (AdamW), false for an L2 term (Adam). */
  protected abstract readonly decoupled: boolean;

  protected initState(p: Tensor, h: ParamGroup<AdamHyper>): ParamState {
    const s: ParamState = { step: 0, expAvg: zerosLikeParam(p), expAvgSq: zerosLikeParam(p) };
    if (h.amsgrad) s.maxExpAvgSq = zerosLikeParam(p);
    return s;
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, h: ParamGroup<AdamHyper>): void {
    const step = (s.step as number) + 1;
    s.step = step;
    const [b1, b2] = h.betas;
    const arrays: Record<string, UpdateArray> = {
      p: storageOf(p),
      g: storageOf(g),
      m: storageOf(s.expAvg as Tensor),
      v: storageOf(s.expAvgSq as Tensor),
    };
    if (h.amsgrad) {
      if (s.maxExpAvgSq === undefined) s.maxExpAvgSq = zerosLikeParam(p);
      arrays.vmax = storageOf(s.maxExpAvgSq as Tensor);
    }
    (h.amsgrad ? amsAdam : plainAdam).run(
      arrays,
      {
        lr: h.lr,
        b1,
        b2,
        eps: h.eps,
        wd: this.decoupled ? 0 : h.weightDecay,
        decay: this.decoupled ? 1 - h.lr * h.weightDecay : 1,
        sign: h.maximize ? -1 : 1,
        bc1: 1 - b1 ** step,
        bc2sqrt: Math.sqrt(1 - b2 ** step),
      },
      p.size,
      this.name,
    );
  }
}

/** Adam (Kingma & Ba), `torch.optim.Adam`'s update rule and defaults; weight decay is an L2 gradient term. */
export class Adam extends AdamBase {
  /** Weight decay is an L2 term added to the gradient. */
  protected readonly decoupled = false;

  /**
   * @param params - parameters or parameter groups
   * @param options - see {@link AdamHyper} (defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0)
   * @throws ArgumentError / DomainError for unknown keys or out-of-range values (betas outside [0, 1), …)
   */
  constructor(params: Params<AdamHyper>, options: Partial<AdamHyper> = {}) {
    super('Adam', params, adamDefaults('Adam', 0, options), CHECKS);
  }
}

/**
 * AdamW (Loshchilov & Hutter), `torch.optim.AdamW`'s update rule and defaults: weight decay is decoupled
 * (p ← p·(1 − lr·weightDecay) before the Adam step), default weightDecay 0.01.
 */
export class AdamW extends AdamBase {
  /** Weight decay is decoupled: the weights shrink by `lr · weightDecay` each step. */
  protected readonly decoupled = true;

  /**
   * @param params - parameters or parameter groups
   * @param options - see {@link AdamHyper} (defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.01)
   * @throws ArgumentError / DomainError for unknown keys or out-of-range values
   */
  constructor(params: Params<AdamHyper>, options: Partial<AdamHyper> = {}) {
    super('AdamW', params, adamDefaults('AdamW', 1e-2, options), CHECKS);
  }
}
