/**
 * softmax and logSoftmax of webgpu tensors: one workgroup per slice (stable: the slice maximum, then the sum
 * of exp(x − max), combined through a fixed tree, so deterministic), and a fused backward kernel per op.
 * When the backward itself is recorded (`createGraph`), it is built from differentiable device ops instead
 * (`y · (g − Σ g·y)` and `g − exp(y) · Σ g` with a device sum and expand), so gradients of any order work
 * wherever those ops do.
 */
import { deviceSoftmax, type SoftmaxKind } from '@gradkit/kernels';
import { arrayOf, deviceRuntime, recordDevice1 } from './device-ops.js';
import { isGradEnabled } from './grad-mode.js';
import { sumTo } from './reduce-sum.js';
import { sizeOf } from './shape.js';
import { Tensor } from './tensor.js';
import { broadcastTo } from './view.js';

function layout(x: Tensor, axis: number) {
  return {
    outer: sizeOf(x.shape.slice(0, axis)),
    length: x.ndim === 0 ? 1 : x.shape[axis]!,
    inner: sizeOf(x.shape.slice(axis + 1)),
  };
}

/** The fused backward kernel (no graph): `softmaxBackward` / `logSoftmaxBackward` of output `y`. */
function fusedBackward(kind: SoftmaxKind, y: Tensor, g: Tensor, axis: number): Tensor {
  const rt = deviceRuntime(kind, [y, g], ['y', 'grad']);
  return new Tensor(deviceSoftmax(rt, kind, kind, arrayOf(y), layout(y, axis), arrayOf(g)), [...y.shape]);
}

/** Σ along `axis`, kept as size 1 and expanded back to `shape` (device ops, differentiable). */
function sumBack(t: Tensor, axis: number): Tensor {
  const kept = t.shape.map((d, i) => (i === axis ? 1 : d));
  return broadcastTo(sumTo(t, kept), t.shape);
}

/** softmax (`log` false) or logSoftmax of a webgpu tensor along a normalized axis. */
export function softmaxDevice(x: Tensor, axis: number, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const rt = deviceRuntime(op, [x], ['x']);
  const data = deviceSoftmax(rt, op, op, arrayOf(x), layout(x, axis));
  const y: Tensor = recordDevice1(op, [x], data, x.shape, (g) => {
    if (isGradEnabled() && (g.requiresGrad || y.requiresGrad)) {
      // createGraph: the backward joins the graph, written with differentiable device ops.
      return [log ? g.sub(y.exp().mul(sumBack(g, axis))) : y.mul(g.sub(sumBack(g.mul(y), axis)))];
    }
    return [fusedBackward(log ? 'logSoftmaxBackward' : 'softmaxBackward', y, g, axis)];
  });
  return y;
}
