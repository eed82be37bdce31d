import {
  ArgumentError,
  broadcastShapes,
  checkTensor,
  formatShape,
  requireSameDtype,
  ShapeError,
  sameShape,
  type Tensor,
} from '@gradkit/autograd';

/**
 * How a loss reduces its elementwise values: `'none'` keeps them (the result has the input's shape),
 * `'sum'` adds them up, `'mean'` divides that sum by the number of elements (not by the sum of the weights,
 * as in PyTorch; the mean of an empty input is NaN, its sum 0).
 */
export type Reduction = 'none' | 'mean' | 'sum';

/** Options every binary-classification loss accepts. */
export interface LossOptions {
  /** Per-element rescaling weight, broadcast to the target's shape (e.g. `[C]`, `[N, 1]`). */
  weight?: Tensor;
  /** How to reduce the elementwise losses (default depends on the loss; PyTorch's losses use `'mean'`). */
  reduction?: Reduction;
}

/**
 * Checks a reduction name.
 *
 * @throws ArgumentError when it is not 'none', 'mean' or 'sum'
 */
export function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new ArgumentError(
      op,
      `argument 'reduction' must be 'none', 'mean' or 'sum', got ${JSON.stringify(reduction)}`,
    );
  }
  return reduction;
}

/** One optional tensor argument of a loss, with the rule that ties its shape to the input's. */
export interface ExtraTensor {
  /** The argument name used in messages ('weight', 'posWeight', 'alpha', a parameter name). */
  readonly name: string;
  /** The tensor. */
  readonly tensor: Tensor;
}

/**
 * Validates the tensors of a loss call: `input` and `target` must be Tensors of the same shape (PyTorch
 * refuses to broadcast them), every tensor must have the input's dtype, and every extra tensor must broadcast
 * to the input's shape (not beyond it).
 *
 * @throws ShapeError naming the op, the argument and both shapes
 * @throws DtypeError naming the op and both dtypes
 * @throws ArgumentError when an argument is not a Tensor
 */
export function checkLossTensors(
  op: string,
  input: unknown,
  target: unknown,
  extras: readonly ExtraTensor[],
): void {
  const x = checkTensor(op, 'input', input);
  const y = checkTensor(op, 'target', target);
  for (const e of extras) checkTensor(op, e.name, e.tensor);
  if (!sameShape(x.shape, y.shape)) {
    throw new ShapeError(
      op,
      `target size ${formatShape(y.shape)} must be the same as input size ${formatShape(x.shape)} (input and target are not broadcast)`,
    );
  }
  requireSameDtype(
    op,
    ['input', 'target', ...extras.map((e) => e.name)],
    [x.dtype, y.dtype, ...extras.map((e) => e.tensor.dtype)],
  );
  for (const e of extras) {
    let ok = e.tensor.ndim <= x.ndim;
    if (ok) {
      try {
        ok = sameShape(broadcastShapes(op, e.tensor.shape, x.shape), x.shape);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw new ShapeError(
        op,
        `argument '${e.name}' of shape ${formatShape(e.tensor.shape)} does not broadcast to the input's shape ${formatShape(x.shape)}`,
      );
    }
  }
}
