import { StateError } from '@gradkit/kernels';
import { fmt } from './shape.js';
import type { Tensor } from './tensor.js';
import { type VersionCounter, versionCounter } from './version.js';

/** A tensor a node may read in backward, with the version its storage had when the node was recorded. */
interface SavedVersion {
  readonly counter: VersionCounter;
  readonly expected: number;
  readonly tensor: Pick<Tensor, 'dtype' | 'shape' | 'outputIndex'>;
  /** The name of the node that produced the tensor (undefined for a leaf). */
  readonly producer: string | undefined;
}

/** `[Float32 [3]], which is output 0 of exp,` (PyTorch's wording) or `[Float32 [3]]` for a leaf. */
function describeSaved(s: SavedVersion): string {
  const { dtype, shape, outputIndex } = s.tensor;
  const kind = `[${dtype === 'float32' ? 'Float32' : 'Float64'} ${fmt(shape)}]`;
  return s.producer === undefined ? kind : `${kind}, which is output ${outputIndex} of ${s.producer},`;
}

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
  /** Where the forward op was called (recorded only under anomaly detection), for backward anomalies. */
  trace: string | undefined;
  #backward: ((grads: Grads) => Grads) | null;
  #saved: SavedVersion[] = [];
  #onRelease: (() => void) | undefined;

  /**
   * @param name - the op's name
   * @param inputs - the inputs gradients are returned for
   * @param backward - computes input gradients from output gradients; may close over saved tensors
   * @param outputCount - number of outputs (default 1)
   * @param onRelease - called once when the node is released (see {@link Node.release}): frees what only
   *   the backward closure reads (tensors it made itself), at once instead of at garbage collection
   */
  constructor(
    name: string,
    inputs: readonly Tensor[],
    backward: (grads: Grads) => Grads,
    outputCount = 1,
    onRelease?: () => void,
  ) {
    this.name = name;
    this.inputs = inputs;
    this.outputCount = outputCount;
    this.#backward = backward;
    this.#onRelease = onRelease;
  }

  /**
   * Records the storage versions of tensors this node's backward may read (its inputs and outputs), so
   * that {@link Node.apply} can refuse when an in-place op modified one of them since (gradkit does not
   * know which of them a backward saved, so it checks all of them).
   */
  saveVersions(tensors: readonly Tensor[]): void {
    for (const t of tensors) {
      const counter = versionCounter(t.deviceArray ?? t.data);
      const tensor = { dtype: t.dtype, shape: t.shape, outputIndex: t.outputIndex };
      this.#saved.push({ counter, expected: counter.value, tensor, producer: t.gradFn?.name });
    }
  }

  /** True once a backward pass without `retainGraph` has freed what this node saved. */
  get released(): boolean {
    return this.#backward === null;
  }

  /**
   * Runs the backward function.
   *
   * @throws StateError when the node was already released by an earlier backward without `retainGraph`, or
   *   when an in-place op modified a tensor it reads since it was recorded (PyTorch's message)
   */
  apply(grads: Grads): Grads {
    if (this.#backward === null) {
      throw new StateError(
        this.name,
        'trying to backward through the graph a second time; its saved tensors were freed after the first ' +
          'backward — pass { retainGraph: true } to the first backward() or grad() call',
      );
    }
    for (const s of this.#saved) {
      if (s.counter.value !== s.expected) {
        throw new StateError(
          this.name,
          'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
            `${describeSaved(s)} is at version ${s.counter.value}; expected version ${s.expected} instead. ` +
            `Hint: the in-place update (add_, mul_, copy_, ...) ran after this graph was recorded; recompute ` +
            `the forward pass after updating, or update a clone`,
        );
      }
    }
    return this.#backward(grads);
  }

  /** Frees the backward closure and what it saved (calling the node's `onRelease` once). */
  release(): void {
    this.#backward = null;
    this.#saved = [];
    const done = this.#onRelease;
    this.#onRelease = undefined;
    done?.();
  }
}
