import { ArgumentError, type Tensor } from '@gradkit/autograd';
import { add, describeValue, mul, sub, where } from '@gradkit/kernels';
import { storageOf } from './device-update.js';
import { FusedUpdate } from './fused-update.js';
import {
  atLeast,
  isBoolean,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
  zerosLikeParam,
} from './optimizer.js';

/** Hyperparameters of {@link SGD} (PyTorch's defaults: momentum 0, dampening 0, weightDecay 0, nesterov false). */
export interface SGDHyper {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor. */
  momentum: number;
  /** Dampening of the momentum's gradient term. */
  dampening: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

// d = ±g + wd·p;  buf = first ? d : momentum·buf + (1 − dampening)·d;  step = nesterov ? d + momentum·buf : buf
const plain = new FusedUpdate(['p', 'g'], ['lr', 'wd', 'sign'], (v) => ({
  p: sub(v.p!, mul(v.lr!, add(mul(v.sign!, v.g!), mul(v.wd!, v.p!)))),
}));

function momentumUpdate(nesterov: boolean): FusedUpdate {
  return new FusedUpdate(['p', 'g', 'buf'], ['lr', 'wd', 'sign', 'momentum', 'dampening', 'first'], (v) => {
    const d = add(mul(v.sign!, v.g!), mul(v.wd!, v.p!));
    const buf = where(v.first!, d, add(mul(v.momentum!, v.buf!), mul(sub(1, v.dampening!), d)));
    const stepDir = nesterov ? add(d, mul(v.momentum!, buf)) : buf;
    return { p: sub(v.p!, mul(v.lr!, stepDir)), buf };
  });
}
const heavyBall = momentumUpdate(false);
const nesterovUpdate = momentumUpdate(true);

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay —
 * `torch.optim.SGD`'s update rule (the momentum buffer starts as the first gradient).
 */
export class SGD extends Optimizer<SGDHyper> {
  /**
   * @param params - parameters or parameter groups
   * @param options - `lr` is required; see {@link SGDHyper}
   * @throws ArgumentError / DomainError for invalid options (unknown keys, negative lr, nesterov without
   *   momentum or with dampening)
   */
  constructor(params: Params<SGDHyper>, options: Partial<SGDHyper> & { lr: number }) {
    if (options === null || typeof options !== 'object' || !Object.hasOwn(options, 'lr')) {
      throw new ArgumentError('SGD', "option 'lr' is required");
    }
    super(
      'SGD',
      params,
      {
        lr: 0,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
        ...ownOnly('SGD', options),
      },
      {
        lr: atLeast(0),
        momentum: atLeast(0),
        dampening: atLeast(-Infinity),
        weightDecay: atLeast(0),
        nesterov: isBoolean,
        maximize: isBoolean,
      },
    );
    for (const g of this.paramGroups) checkNesterov(g);
  }

  override addParamGroup(group: Parameters<Optimizer<SGDHyper>['addParamGroup']>[0]): void {
    super.addParamGroup(group);
    checkNesterov(this.paramGroups[this.paramGroups.length - 1]!);
  }

  protected initState(): ParamState {
    return {};
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, h: ParamGroup<SGDHyper>): void {
    const scalars = { lr: h.lr, wd: h.weightDecay, sign: h.maximize ? -1 : 1 };
    if (h.momentum === 0) {
      plain.run({ p: storageOf(p), g: storageOf(g) }, scalars, p.size, this.name);
      return;
    }
    let buf = s.momentumBuffer as Tensor | undefined;
    const first = buf === undefined ? 1 : 0;
    if (buf === undefined) {
      buf = zerosLikeParam(p);
      s.momentumBuffer = buf;
    }
    (h.nesterov ? nesterovUpdate : heavyBall).run(
      { p: storageOf(p), g: storageOf(g), buf: storageOf(buf) },
      { ...scalars, momentum: h.momentum, dampening: h.dampening, first },
      p.size,
      this.name,
    );
  }
}

function checkNesterov(g: SGDHyper): void {
  if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
    throw new ArgumentError('SGD', 'Nesterov momentum requires a momentum and zero dampening');
  }
}

/**
 * The own enumerable properties of an options object (inherited ones never become hyperparameters).
 *
 * @throws ArgumentError when `options` is not an object (null, a string, an array, …)
 */
export function ownOnly<T extends object>(op: string, options: T): Partial<T> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(op, `argument 'options' must be an object, got ${describeValue(options)}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(options)) out[k] = (options as Record<string, unknown>)[k];
  return out as Partial<T>;
}
