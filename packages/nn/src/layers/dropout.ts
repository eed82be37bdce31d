import { allocate, checkTensor, DomainError, defaultGenerator, Generator, Tensor } from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';
import { Module } from '../module.js';

/**
 * Randomly zeroes elements with probability `p` in training mode and scales the rest by 1 / (1 − p), like
 * `torch.nn.Dropout`; the identity in evaluation mode. The mask is drawn from a seeded generator.
 */
export class Dropout extends Module {
  /** The probability of zeroing an element. */
  readonly p: number;
  readonly #generator: Generator;

  /**
   * @param p - drop probability in [0, 1] (default 0.5)
   * @param options.generator - where the mask is drawn from (default: the one seeded by `manualSeed`)
   * @throws DomainError when p is outside [0, 1]
   */
  constructor(p = 0.5, options: { generator?: Generator } = {}) {
    super();
    checkOptionKeys('Dropout', 'options', options, ['generator']);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new DomainError(
        'Dropout',
        `dropout probability has to be between 0 and 1, but got ${describeValue(p)}`,
      );
    }
    const g = Object.hasOwn(options, 'generator') ? options.generator : defaultGenerator;
    if (!(g instanceof Generator)) {
      throw new DomainError('Dropout', `option 'generator' must be a Generator, got ${describeValue(g)}`);
    }
    this.p = p;
    this.#generator = g;
  }

  /** x times a fresh random mask in training mode; x itself in evaluation mode or when p = 0. */
  forward(x: Tensor): Tensor {
    checkTensor('Dropout.forward', 'x', x);
    if (!this.training || this.p === 0) return x;
    const mask = allocate(x.dtype, x.size);
    if (this.p < 1) {
      const keep = 1 / (1 - this.p);
      const g = this.#generator;
      for (let i = 0; i < mask.length; i++) mask[i] = g.random() >= this.p ? keep : 0;
    }
    return x.mul(new Tensor(mask, x.shape));
  }
}
