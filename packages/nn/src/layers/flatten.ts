import { flatten, type Tensor } from '@gradkit/autograd';
import { Module } from '../module.js';

/** Flattens dimensions startDim…endDim into one, like `torch.nn.Flatten` (defaults 1 and −1: keeps the batch). */
export class Flatten extends Module {
  /** First dimension flattened. */
  readonly startDim: number;
  /** Last dimension flattened. */
  readonly endDim: number;

  /** @param startDim - default 1; @param endDim - default −1 */
  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }

  /** The flattened view of `x`. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
