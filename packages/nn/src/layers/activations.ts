import {
  checkTensor,
  DomainError,
  type FusedFunction,
  fuse,
  type Tensor,
  whereValue,
} from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';
import { Module } from '../module.js';

/** max(x, 0), like `torch.nn.ReLU` (gradient 0 at 0, as in PyTorch). */
export class ReLU extends Module {
  /** Applies ReLU elementwise. */
  forward(x: Tensor): Tensor {
    return checkTensor('ReLU.forward', 'x', x).relu();
  }
}

/** 1 / (1 + e^−x), like `torch.nn.Sigmoid` (stable for every x). */
export class Sigmoid extends Module {
  /** Applies the logistic sigmoid elementwise. */
  forward(x: Tensor): Tensor {
    return checkTensor('Sigmoid.forward', 'x', x).sigmoid();
  }
}

/** tanh(x), like `torch.nn.Tanh`. */
export class Tanh extends Module {
  /** Applies tanh elementwise. */
  forward(x: Tensor): Tensor {
    return checkTensor('Tanh.forward', 'x', x).tanh();
  }
}

const silu = fuse((x) => x.mul(x.sigmoid()), 'silu');

/** x · sigmoid(x) (swish), like `torch.nn.SiLU`; one fused loop forward and backward. */
export class SiLU extends Module {
  /** Applies SiLU elementwise. */
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/**
 * x where x > 0, else negativeSlope · x, like `torch.nn.LeakyReLU` (default slope 0.01; the gradient at 0 is
 * the slope, as in PyTorch).
 */
export class LeakyReLU extends Module {
  /** The slope for negative inputs. */
  readonly negativeSlope: number;
  readonly #fn: FusedFunction;

  /** @throws DomainError when the slope is not a finite number */
  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new DomainError(
        'LeakyReLU',
        `argument 'negativeSlope' must be a finite number, got ${describeValue(negativeSlope)}`,
      );
    }
    this.negativeSlope = negativeSlope;
    this.#fn = fuse((x) => whereValue(x.gt(0), x, x.mul(negativeSlope)), 'leakyRelu');
  }

  /** Applies the leaky ReLU elementwise. */
  forward(x: Tensor): Tensor {
    return this.#fn(x);
  }
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const geluTanh = fuse(
  (x) => x.mul(0.5).mul(x.pow(3).mul(0.044715).add(x).mul(SQRT_2_OVER_PI).tanh().add(1)),
  'gelu',
);
const geluErf = fuse((x) => x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1)), 'gelu');

/**
 * The Gaussian error linear unit, like `torch.nn.GELU`: x · Φ(x) = 0.5 · x · (1 + erf(x/√2)) by default
 * (`approximate: 'none'`), or PyTorch's tanh approximation 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 x³)))
 * with `approximate: 'tanh'`. One fused loop forward and backward.
 */
export class GELU extends Module {
  /** Which formula: 'none' (exact, with erf) or 'tanh'. */
  readonly approximate: 'none' | 'tanh';
  readonly #fn: FusedFunction;

  /** @throws ArgumentError for unknown options; DomainError for an unknown `approximate` */
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    checkOptionKeys('GELU', 'options', options, ['approximate']);
    const a = Object.hasOwn(options, 'approximate') ? options.approximate : 'none';
    if (a !== 'none' && a !== 'tanh') {
      throw new DomainError('GELU', `option 'approximate' must be 'none' or 'tanh', got ${describeValue(a)}`);
    }
    this.approximate = a;
    this.#fn = a === 'tanh' ? geluTanh : geluErf;
  }

  /** Applies GELU elementwise. */
  forward(x: Tensor): Tensor {
    return this.#fn(x);
  }
}
