import {
  ArgumentError,
  broadcastShapes,
  checkTensor,
  DomainError,
  formatShape,
  requireSameDtype,
  ShapeError,
  sameShape,
  Tensor,
} from '@gradkit/autograd';
import { checkOptionKeys, DeviceError, describeValue, ownValue } from '@gradkit/kernels';

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
      `argument 'reduction' must be 'none', 'mean' or 'sum', got ${describeValue(reduction)}`,
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
 * refuses to broadcast them), every tensor must have the input's dtype and the input's device, and every extra
 * tensor must broadcast to the input's shape (not beyond it).
 *
 * @throws ShapeError naming the op, the argument and both shapes
 * @throws DtypeError naming the op and both dtypes
 * @throws ArgumentError when an argument is not a Tensor
 * @throws DeviceError naming both arguments and devices when the tensors are not all on one device
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
  for (const [name, t] of [['target', y] as const, ...extras.map((e) => [e.name, e.tensor] as const)]) {
    if (t.device !== x.device) {
      throw new DeviceError(
        op,
        `expected all tensors on the same device, but argument 'input' is on ${x.device} and argument '${name}' is on ${t.device}; move one with t.to('webgpu') or await t.cpu()`,
      );
    }
  }
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

/** Options of {@link bce} and of `BCELoss`. */
export const BCE_OPTION_KEYS: readonly string[] = ['weight', 'reduction'];

/** Options of {@link bceWithLogits} and of `BCEWithLogitsLoss`. */
export const BCE_WITH_LOGITS_OPTION_KEYS: readonly string[] = ['weight', 'posWeight', 'reduction'];

/**
 * Reads the own options of a loss call: checks that `options` is undefined or an object whose own keys are all
 * in `valid`, and reads each valid key exactly once (a getter runs once; inherited properties — a polluted
 * `Object.prototype` — are never read).
 *
 * @throws ArgumentError when `options` is not an object or has an unknown key (the message lists the valid ones)
 */
export function readOptions(op: string, options: unknown, valid: readonly string[]): Map<string, unknown> {
  checkOptionKeys(op, 'options', options, valid);
  const out = new Map<string, unknown>();
  if (options === undefined) return out;
  for (const k of valid) {
    const v = ownValue(options as object, k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

/**
 * An optional tensor option: undefined, or a Tensor.
 *
 * @throws ArgumentError when it is something else
 */
export function optionalTensor(op: string, name: string, v: unknown): Tensor | undefined {
  if (v === undefined || v instanceof Tensor) return v;
  throw new ArgumentError(op, `argument '${name}' must be a Tensor, got ${describeValue(v)}`);
}

/**
 * A finite number.
 *
 * @throws ArgumentError when `v` is not a number, or is NaN or ±inf
 */
export function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(op, `argument '${name}' must be a finite number, got ${describeValue(v)}`);
  }
  return v;
}

/** An inclusive range `[min, max]` (either end may be ±inf). */
export type Range = readonly [number, number];

/** `[0, 1]`, written like the messages print it. */
export const formatRange = (r: Range): string => `[${r[0]}, ${r[1]}]`;

/**
 * Checks a number against an inclusive range.
 *
 * @throws DomainError naming the op, the argument, the range and the value
 */
export function checkRange(op: string, name: string, v: number, range: Range): number {
  if (!(v >= range[0] && v <= range[1])) {
    throw new DomainError(op, `argument '${name}' must be in ${formatRange(range)}, got ${v}`);
  }
  return v;
}

/**
 * Checks every element of a tensor against an inclusive range (NaN is outside every range).
 *
 * @throws DomainError naming the op, the argument, the first offending element and its value
 */
export function checkTensorRange(op: string, name: string, t: Tensor, range: Range): void {
  const i = firstOutside(t.data, range);
  if (i >= 0) {
    throw new DomainError(
      op,
      `every element of '${name}' must be in ${formatRange(range)}; element ${i} is ${t.data[i]}`,
    );
  }
}

/** The index of the first element outside `range` (NaN included), or −1. */
export function firstOutside(data: ArrayLike<number>, range: Range): number {
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= lo && v <= hi)) return i;
  }
  return -1;
}
