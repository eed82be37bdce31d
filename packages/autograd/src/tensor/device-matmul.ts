/**
 * Matrix products of webgpu tensors: the tiled WGSL kernel of `deviceMatmul` (kernels package), batched with
 * broadcast batch dimensions, operands read through strides (a transposed operand is never copied), and
 * backward passes that are device products again (so gradients of any order stay on the device).
 */
import { deviceMatmul } from '@gradkit/kernels';
import { arrayOf, deviceRuntime, recordDevice1 } from './device-ops.js';
import type { Grads } from './node.js';
import { sumTo } from './reduce-sum.js';
import { broadcastShapes, type Shape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';
import { reshape } from './view.js';

/** The flat index into a (right-aligned, broadcast) `shape` of the position `coords` of `full`. */
function project(coords: readonly number[], shape: Shape): number {
  const off = coords.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + (shape[d] === 1 ? 0 : coords[off + d]!);
  return flat;
}

/**
 * The offset table of a batched product: for each matrix of the output (batch shape `target`), the pairs
 * of A and B matrices whose products sum into it, over the broadcast of the three batch shapes.
 */
function offsetTable(
  aBatch: Shape,
  bBatch: Shape,
  target: Shape,
  aSize: number,
  bSize: number,
): { offsets: Uint32Array; batches: number; reduce: number } {
  const full = broadcastShapes('matmul', aBatch, bBatch, target);
  const total = sizeOf(full);
  const batches = sizeOf(target);
  const reduce = batches === 0 ? 0 : total / batches;
  const offsets = new Uint32Array(2 * total);
  const filled = new Uint32Array(batches);
  const coords = new Array<number>(full.length).fill(0);
  for (let f = 0; f < total; f++) {
    const t = project(coords, target);
    const at = 2 * (t * reduce + filled[t]!++);
    offsets[at] = project(coords, aBatch) * aSize;
    offsets[at + 1] = project(coords, bBatch) * bSize;
    for (let d = full.length - 1; d >= 0; d--) {
      if (++coords[d]! < full[d]!) break;
      coords[d] = 0;
    }
  }
  return { offsets, batches, reduce };
}

/**
 * `op(a) · op(b)` on the device, `op` transposing the last two dimensions where `ta` / `tb` say, batched
 * over the leading dimensions (broadcast NumPy-style); with `target`, the products are summed into that
 * batch shape (which must broadcast with theirs) — how the gradient of a broadcast operand is reduced
 * without a separate sum. The caller has checked the shapes.
 */
export function mmDevice(a: Tensor, b: Tensor, ta: boolean, tb: boolean, target?: Shape): Tensor {
  const rt = deviceRuntime('matmul', [a, b], ['a', 'b']);
  const ar = a.shape[a.ndim - 2]!;
  const ac = a.shape[a.ndim - 1]!;
  const br = b.shape[b.ndim - 2]!;
  const bc = b.shape[b.ndim - 1]!;
  const [m, k] = ta ? [ac, ar] : [ar, ac];
  const n = tb ? br : bc;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = target ?? broadcastShapes('matmul', aBatch, bBatch);
  const { offsets, batches, reduce } = offsetTable(aBatch, bBatch, outBatch, ar * ac, br * bc);
  const data = deviceMatmul(rt, 'matmul', arrayOf(a), arrayOf(b), {
    m,
    n,
    k,
    batches,
    reduce,
    offsets,
    aStrides: ta ? [1, m] : [k, 1],
    bStrides: tb ? [1, k] : [n, 1],
  });
  return recordDevice1('matmul', [a, b], data, [...outBatch, m, n], (g) => [
    // d op(a) = g · op(b)ᵀ, transposed back when a was read transposed; summed into a's batch shape.
    a.requiresGrad ? (ta ? mmDevice(b, g, tb, true, aBatch) : mmDevice(g, b, false, !tb, aBatch)) : null,
    // d op(b) = op(a)ᵀ · g, transposed back when b was read transposed.
    b.requiresGrad ? (tb ? mmDevice(g, a, true, ta, bBatch) : mmDevice(a, g, !ta, false, bBatch)) : null,
  ]);
}

/**
 * `x · weightᵀ + bias` on the device (shapes checked by `linear`): one product kernel with the bias added
 * in it; backward with device products (and a device sum for the bias).
 */
export function linearDevice(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const names = bias === null ? ['x', 'weight'] : ['x', 'weight', 'bias'];
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  const rt = deviceRuntime('linear', inputs, names);
  const [outF, inF] = weight.shape as [number, number];
  const rows = sizeOf(x.shape.slice(0, -1));
  const shape = [...x.shape.slice(0, -1), outF];
  const data = deviceMatmul(rt, 'linear', arrayOf(x), arrayOf(weight), {
    m: rows,
    n: outF,
    k: inF,
    batches: 1,
    reduce: 1,
    offsets: new Uint32Array(2),
    aStrides: [inF, 1],
    bStrides: [1, inF],
    ...(bias === null ? {} : { bias: { array: arrayOf(bias), stride: bias.size === 1 ? 0 : 1 } }),
  });
  return recordDevice1('linear', inputs, data, shape, (g) => {
    const g2 = reshape(g, [rows, outF]);
    const grads: Grads = [
      x.requiresGrad ? reshape(mmDevice(g2, weight, false, false), x.shape) : null,
      weight.requiresGrad ? mmDevice(g2, reshape(x, [rows, inF]), true, false) : null,
    ];
    if (bias !== null) grads.push(bias.requiresGrad ? sumTo(g2, bias.shape) : null);
    return grads;
  });
}
