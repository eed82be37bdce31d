import { ArgumentError, checkTensor, type Tensor } from '@gradkit/autograd';
import { describeValue } from '@gradkit/kernels';
import { Module } from '../module.js';

/**
 * Modules applied one after another, like `torch.nn.Sequential`; children are named by position (`0.weight`,
 * `2.bias`), so state dicts match PyTorch's.
 */
export class Sequential extends Module {
  readonly #layers: Module[];

  /** @throws ArgumentError when an argument is not a Module */
  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) {
        throw new ArgumentError('Sequential', `argument #${i} must be a Module, got ${describeValue(m)}`);
      }
    });
    this.#layers = [...layers];
  }

  /** The number of layers. */
  get length(): number {
    return this.#layers.length;
  }

  /**
   * The layer at position `i` (negative counts from the end), undefined past either end.
   *
   * @throws ArgumentError when `i` is not an integer
   */
  at(i: number): Module | undefined {
    if (typeof i !== 'number' || !Number.isInteger(i)) {
      throw new ArgumentError('Sequential.at', `argument 'i' must be an integer, got ${describeValue(i)}`);
    }
    return this.#layers.at(i);
  }

  /** Adds a layer at the end. @throws ArgumentError when `m` is not a Module */
  append(m: Module): this {
    if (!(m instanceof Module)) {
      throw new ArgumentError('Sequential.append', `argument must be a Module, got ${describeValue(m)}`);
    }
    this.#layers.push(m);
    return this;
  }

  override namedChildren(): Array<[string, Module]> {
    return this.#layers.map((m, i) => [String(i), m]);
  }

  /** Each layer's forward, in order. */
  forward(x: Tensor): Tensor {
    let y = checkTensor('Sequential.forward', 'x', x);
    for (const m of this.#layers) y = m.forward(y);
    return y;
  }
}
