import { StateError } from '@gradkit/kernels';
import type { Tensor } from './tensor.js';

/** Gradients flowing into or out of a node; `null` means "zero" (no contribution). */
export type Grads = Array<Tensor | null>;

/**
 * A recorded operation in the autograd graph. `backward` receives the gradient of each output (null for
 * outputs that received none) and returns the gradient of each input (null where there is none). It is run
 * with graph recording on when the caller asked for `createGraph`, so backward passes written with tensor
 * ops are differentiable again.
 */
export class Node {
  /** The op's name, for messages (`"mul"`, `"matmul"`, ...). */
  readonly name: string;
  /** The tensors the op read, in argument order. */
  readonly inputs: readonly Tensor[];
  /** Number of outputs the op produced. */
  readonly outputCount: number;
  #backward: ((grads: Grads) => Grads) | null;

  /**
   * @param name - the op's name
   * @param inputs - the inputs gradients are returned for
   * @param backward - computes input gradients from output gradients; may close over saved tensors
   * @param outputCount - number of outputs (default 1)
   */
  constructor(name: string, inputs: readonly Tensor[], backward: (grads: Grads) => Grads, outputCount = 1) {
    this.name = name;
    this.inputs = inputs;
    this.outputCount = outputCount;
    this.#backward = backward;
  }

  /** True once a backward pass without `retainGraph` has freed what this node saved. */
  get released(): boolean {
    return this.#backward === null;
  }

  /**
   * Runs the backward function.
   *
   * @throws StateError when the node was already released by an earlier backward without `retainGraph`
   */
  apply(grads: Grads): Grads {
    if (this.#backward === null) {
      throw new StateError(
        this.name,
        'trying to backward through the graph a second time; its saved tensors were freed after the first ' +
          'backward — pass { retainGraph: true } to the first backward() or grad() call',
      );
    }
    return this.#backward(grads);
  }

  /** Frees the backward closure and what it saved. */
  release(): void {
    this.#backward = null;
  }
}
