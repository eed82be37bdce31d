/**
 * Method forms of the statistics, norms, repeat/tile, clone and the transposes `.T` / `.mT`, attached to the
 * Tensor prototype.
 */
import { ShapeError } from '@gradkit/kernels';
import { sizesArg } from './methods.js';
import type { Axis } from './reduce.js';
import { fmt } from './shape.js';
import { permute, repeat, t, tile, transpose } from './shape-ops/index.js';
import { norm, std, type VarianceOptions, variance } from './stats.js';
import { Tensor } from './tensor.js';
import { clone } from './view.js';

declare module './tensor.js' {
  interface Tensor {
    /** variance over axis (all when omitted), `{ correction = 1, keepDims }` (see `variance`) */ var(
      axis?: Axis,
      opts?: VarianceOptions,
    ): Tensor;
    /** standard deviation over axis (see `std`) */ std(axis?: Axis, opts?: VarianceOptions): Tensor;
    /** p-norm over axis (p = 2, all axes by default; see `norm`) */ norm(
      p?: number,
      axis?: Axis,
      keepDims?: boolean,
    ): Tensor;
    /** a copy with its own storage, differentiable (see `clone`) */ clone(): Tensor;
    /** repeat along each dimension: `x.repeat(2, 3)` or `x.repeat([2, 3])` (see `repeat`) */
    repeat(...sizes: number[]): Tensor;
    /** the same, with the sizes as one list */
    repeat(sizes: readonly number[]): Tensor;
    /** tile: `x.tile(2, 3)` or `x.tile([2, 3])` (see `tile`) */
    tile(...dims: number[]): Tensor;
    /** the same, with the sizes as one list */
    tile(dims: readonly number[]): Tensor;
    /**
     * All dimensions reversed: the matrix transpose for 2-D tensors, the tensor itself for 0-D and 1-D
     * (PyTorch's `.T`; for more than 2 dimensions PyTorch deprecates it — prefer `.mT` or `permute`).
     */
    readonly T: Tensor;
    /** The last two dimensions swapped (a batch of matrices transposed), like PyTorch's `.mT`. */
    readonly mT: Tensor;
  }
}

const P = Tensor.prototype;
P.var = function (axis, opts) {
  return variance(this, axis, opts);
};
P.std = function (axis, opts) {
  return std(this, axis, opts);
};
P.norm = function (p, axis, keepDims) {
  return norm(this, p, axis, keepDims);
};
P.clone = function () {
  return clone(this);
};
P.repeat = function (this: Tensor, ...sizes: Array<number | readonly number[]>) {
  return repeat(this, sizesArg(sizes));
} as Tensor['repeat'];
P.tile = function (this: Tensor, ...dims: Array<number | readonly number[]>) {
  return tile(this, sizesArg(dims));
} as Tensor['tile'];
Object.defineProperty(P, 'T', {
  configurable: true,
  get(this: Tensor): Tensor {
    if (this.ndim <= 2) return t(this);
    return permute(
      this,
      this.shape.map((_, i) => this.ndim - 1 - i),
    );
  },
});
Object.defineProperty(P, 'mT', {
  configurable: true,
  get(this: Tensor): Tensor {
    if (this.ndim < 2) {
      throw new ShapeError('mT', `needs a tensor with at least 2 dimensions, got shape ${fmt(this.shape)}`);
    }
    return transpose(this, -2, -1);
  },
});
