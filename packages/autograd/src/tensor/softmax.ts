import { exp as expE, mul as mulE, sub as subE } from '@gradkit/kernels';
import { softmaxDevice } from './device-softmax.js';
import { allocate } from './dtype.js';
import { expressionOp } from './elementwise.js';
import { mul } from './elementwise-ops.js';
import { sum } from './reduce-sum.js';
import { normalizeAxis, sizeOf } from './shape.js';
import { checkTensor, record1, type Tensor } from './tensor.js';

/**
 * Runs `write(start, length, stride, m, s)` over every 1-D slice of `x` along `axis` (each slice starts at
 * `start` and steps by `stride`), with the slice's maximum `m` (NaN-ignoring; -inf for all -inf) and
 * `s = sum(exp(x − m))` accumulated in float64.
 */
function forEachSlice(
  x: Tensor,
  axis: number,
  write: (start: number, length: number, stride: number, m: number, s: number) => void,
): void {
  const len = x.ndim === 0 ? 1 : x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  if (len === 0) return;
  const src = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * len * inner + i;
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0, k = start; j < len; j++, k += inner) if (src[k]! > m) m = src[k]!;
      let s = 0;
      for (let j = 0, k = start; j < len; j++, k += inner) s += Math.exp(src[k]! - m);
      write(start, len, inner, m, s);
    }
  }
}

/**
 * Softmax along `axis` (default the last), like `torch.softmax`: exp(x − max) / sum(exp(x − max)), computed
 * stably with float64 accumulation. A slice that is all -inf, or contains +inf, gives NaN (as in PyTorch).
 * The backward, `y · (g − sum(g · y))`, is built from tensor ops, so gradients of any order work.
 *
 * @throws ShapeError when `axis` is out of range
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkTensor('softmax', 'x', x);
  const ax = normalizeAxis('softmax', axis, x.ndim);
  if (x.device !== 'cpu') return softmaxDevice(x, ax, false);
  const src = x.data;
  const data = allocate(x.dtype, x.size);
  forEachSlice(x, ax, (start, len, stride, m, s) => {
    for (let j = 0, k = start; j < len; j++, k += stride) data[k] = Math.exp(src[k]! - m) / s;
  });
  const y: Tensor = record1('softmax', [x], data, x.shape, (g) => {
    const s = sum(mul(g, y), ax, true);
    return [expressionOp('softmax_backward', (yv, gv, sv) => mulE(yv!, subE(gv!, sv!)), [y, g, s])];
  });
  return y;
}

/**
 * log(softmax(x)) along `axis` (default the last), like `torch.log_softmax`: x − max − log(sum(exp(x − max))),
 * computed stably with float64 accumulation (no log of a rounded-to-zero probability). The backward,
 * `g − exp(y) · sum(g)`, is built from tensor ops, so gradients of any order work.
 *
 * @throws ShapeError when `axis` is out of range
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor('logSoftmax', 'x', x);
  const ax = normalizeAxis('logSoftmax', axis, x.ndim);
  if (x.device !== 'cpu') return softmaxDevice(x, ax, true);
  const src = x.data;
  const data = allocate(x.dtype, x.size);
  forEachSlice(x, ax, (start, len, stride, m, s) => {
    const shift = m + Math.log(s);
    for (let j = 0, k = start; j < len; j++, k += stride) data[k] = src[k]! - shift;
  });
  const y: Tensor = record1('logSoftmax', [x], data, x.shape, (g) => {
    const s = sum(g, ax, true);
    return [expressionOp('logSoftmax_backward', (yv, gv, sv) => subE(gv!, mulE(expE(yv!), sv!)), [y, g, s])];
  });
  return y;
}
