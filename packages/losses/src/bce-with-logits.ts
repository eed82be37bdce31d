import type { Tensor } from '@gradkit/autograd';
import { LruCache } from '@gradkit/kernels';
import {
  BCE_WITH_LOGITS_OPTION_KEYS,
  checkLossTensors,
  checkReduction,
  type ExtraTensor,
  type LossOptions,
  optionalTensor,
  readOptions,
} from './options.js';
import { arg, type LossProgram, logitProgram } from './program.js';
import { runLoss } from './run.js';

/** Options of {@link bceWithLogits}. */
export interface BceWithLogitsOptions extends LossOptions {
  /**
   * Weight of the positive term, broadcast against the input (a `[C]` vector lines up with the last
   * dimension, as in PyTorch); must broadcast to the input's shape.
   */
  posWeight?: Tensor;
}

/** One program per (weight given, posWeight given): 4 at most. Keyed by the two flags (0–3). */
const programs = new LruCache<number, LossProgram>(4);

/**
 * Binary cross entropy on logits, PyTorch's `F.binary_cross_entropy_with_logits`:
 *
 *   loss = weight · [(1 − y)·softplus(x) + pw·y·softplus(−x)]
 *        = weight · [(1 − y)·x − lw·logSigmoid(x)],  lw = (pw − 1)·y + 1,
 *
 * reduced by `reduction` (default 'mean': the sum divided by the element count). The first form is the one
 * computed: it is free of cancellation, so it is exact where PyTorch's `log(exp(−m) + exp(−x − m)) + m` loses
 * digits (e.g. x = 30, y = 1) and it gives the limits at infinite logits (x = −inf, y = 0 gives 0; PyTorch
 * gives NaN). One graph node: one fused forward loop, one fused backward loop; gradients w.r.t. input,
 * target, weight and posWeight (those that require grad), all derived from the expression; differentiable
 * again (double backward).
 *
 * Source: PyTorch 1.13 `binary_cross_entropy_with_logits` (ATen Loss.cpp) for the definition and defaults.
 *
 * @param input - logits x
 * @param target - targets y (hard or soft), same shape as `input` (no broadcasting, as in PyTorch); any value
 *   is accepted, as in PyTorch (the formula is linear in y)
 * @param options - `weight`, `posWeight`, `reduction`; own keys only, any other key is an ArgumentError
 * @throws ShapeError when target, weight or posWeight do not fit the input's shape
 * @throws DtypeError when the dtypes differ
 */
export function bceWithLogits(input: Tensor, target: Tensor, options?: BceWithLogitsOptions): Tensor {
  const op = 'bceWithLogits';
  const opts = readOptions(op, options, BCE_WITH_LOGITS_OPTION_KEYS);
  const reduction = checkReduction(op, opts.get('reduction') ?? 'mean');
  const weight = optionalTensor(op, 'weight', opts.get('weight'));
  const posWeight = optionalTensor(op, 'posWeight', opts.get('posWeight'));
  const extras: ExtraTensor[] = [];
  if (weight !== undefined) extras.push({ name: 'weight', tensor: weight });
  if (posWeight !== undefined) extras.push({ name: 'posWeight', tensor: posWeight });
  checkLossTensors(op, input, target, extras);
  const weightIndex = weight === undefined ? null : 2;
  const posWeightIndex = posWeight === undefined ? null : 2 + extras.length - 1;
  const key = (weightIndex === null ? 0 : 1) + (posWeightIndex === null ? 0 : 2);
  let program = programs.get(key);
  if (program === undefined) {
    program = logitProgram({
      name: op,
      arity: 2 + extras.length,
      factor: null,
      additive: null,
      alpha: null,
      posWeight: posWeightIndex === null ? null : arg(posWeightIndex),
      weightIndex,
    });
    programs.set(key, program);
  }
  return runLoss(program, [input, target, ...extras.map((e) => e.tensor)], reduction);
}
