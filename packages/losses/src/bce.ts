import { DomainError, type Tensor } from '@gradkit/autograd';
import { add, detach, div, type Expr, LruCache, log, log1p, max, mul, neg, sub } from '@gradkit/kernels';
import {
  BCE_OPTION_KEYS,
  checkLossTensors,
  checkReduction,
  type LossOptions,
  optionalTensor,
  readOptions,
} from './options.js';
import { arg, type LossProgram } from './program.js';
import { runLoss } from './run.js';

/** PyTorch's `EPSILON` of the BCE backward: a C++ `float` 1e-12, so 9.999999960041972e-13 in every dtype. */
export const BCE_GRAD_EPSILON = Math.fround(1e-12);

/** The epsilon of PyTorch's BCE double backward (a C++ double). */
const DOUBLE_BACKWARD_EPSILON = 1e-12;

/** The two BCE programs (with and without weight); keyed by that flag, so never more than 2 entries. */
const programs = new LruCache<boolean, LossProgram>(2);

/**
 * The BCE program. Its forward is PyTorch's: each log term clamped at −100. Its first derivatives are
 * PyTorch's backward formulas, which are NOT the derivatives of that clamped forward:
 *   d/dx = (x − y) / max(x(1 − x), EPSILON)      (about ±1e12·g at x ∈ {0, 1}, not 0)
 *   d/dy = −logit(x) = log(1 − x) − log(x)       (unclamped: ±inf at x ∈ {0, 1})
 * and its second derivative in x is PyTorch's double backward (x² − 2xy + y) / ((x + 1e-12)²(1 − x + 1e-12)²),
 * attached to the first derivative as a detached second-order term (value unchanged, derivative = that
 * formula); d²/dx dy = −1/max(x(1 − x), 1e-12). Derivatives of d/dx of order 3 and more are taken as 0.
 */
function bceProgram(weighted: boolean): LossProgram {
  const x = arg(0);
  const y = arg(1);
  const arity = weighted ? 3 : 2;
  const g = arg(arity);
  const oneMinusX = sub(1, x);
  const loss = sub(mul(sub(y, 1), max(log1p(neg(x)), -100)), mul(y, max(log(x), -100)));
  const gradX = div(sub(x, y), max(mul(x, oneMinusX), BCE_GRAD_EPSILON));
  const sq = (e: Expr) => mul(e, e);
  const hessXX = div(
    add(sub(mul(x, x), mul(mul(2, x), y)), y),
    mul(sq(add(x, DOUBLE_BACKWARD_EPSILON)), sq(add(oneMinusX, DOUBLE_BACKWARD_EPSILON))),
  );
  const hessXY = div(-1, max(mul(oneMinusX, x), DOUBLE_BACKWARD_EPSILON));
  const jetX = add(
    add(detach(gradX), mul(detach(hessXX), sub(x, detach(x)))),
    mul(detach(hessXY), sub(y, detach(y))),
  );
  const gradY = sub(log1p(neg(x)), log(x));
  const gw = weighted ? mul(g, arg(2)) : g;
  const grads = (gx: Expr) =>
    weighted ? [mul(gw, gx), mul(gw, gradY), mul(g, loss)] : [mul(gw, gx), mul(gw, gradY)];
  return {
    name: 'bce',
    arity,
    value: weighted ? mul(arg(2), loss) : loss,
    grads: grads(jetX),
    // The second-order terms of the jet are 0 in value: the forward pass computes the plain formula.
    gradValues: grads(gradX),
    domains: [{ index: 0, range: [0, 1] }],
  };
}

/**
 * Binary cross entropy on probabilities, PyTorch's `F.binary_cross_entropy`:
 *
 *   loss = weight · [(y − 1)·max(log(1 − x), −100) − y·max(log(x), −100)]
 *
 * reduced by `reduction` (default 'mean'). `log(1 − x)` is computed as log1p(−x) (exact for tiny x, where
 * PyTorch loses digits). Gradients follow PyTorch's BCE backward exactly — d/dx = (x − y)/max(x(1 − x), 1e-12
 * as float32) and d/dy = −logit(x), unclamped — because that is what PyTorch (and its golden vectors) define,
 * although it is not the derivative of the clamped forward at x ∈ {0, 1}; the Hessian in x is PyTorch's double
 * backward. Derivatives w.r.t. the weight are the unweighted loss. Prefer {@link bceWithLogits} on logits: it
 * is exact everywhere.
 *
 * Source: PyTorch 1.13 `binary_cross_entropy` (ATen Loss.cpp, FunctionsManual.cpp) for definition, clamps
 * and gradient formulas.
 *
 * @param input - probabilities in [0, 1]
 * @param target - targets, same shape as `input` (not range-checked, as in PyTorch: a target outside [0, 1]
 *   gives PyTorch's number, e.g. a negative loss)
 * @param options - `weight`, `reduction`; own keys only, any other key is an ArgumentError
 * @throws DomainError when an input element is outside [0, 1] or NaN (on webgpu, where that check would read
 *   the input back, such an element makes the loss and its gradients NaN there instead)
 * @throws ShapeError when target or weight do not fit the input's shape
 * @throws DtypeError when the dtypes differ
 */
export function bce(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'bce';
  const opts = readOptions(op, options, BCE_OPTION_KEYS);
  const reduction = checkReduction(op, opts.get('reduction') ?? 'mean');
  const weight = optionalTensor(op, 'weight', opts.get('weight'));
  const weighted = weight !== undefined;
  checkLossTensors(op, input, target, weighted ? [{ name: 'weight', tensor: weight }] : []);
  // On webgpu the range is checked in the kernel (an element outside it gives NaN: no read-back).
  const data = input.device === 'cpu' ? input.data : [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new DomainError(op, `all elements of input should be between 0 and 1; element ${i} is ${v}`);
    }
  }
  let program = programs.get(weighted);
  if (program === undefined) {
    program = bceProgram(weighted);
    programs.set(weighted, program);
  }
  return runLoss(program, weighted ? [input, target, weight] : [input, target], reduction);
}
