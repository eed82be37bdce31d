/**
 * Method forms of the shape ops (`x.transpose(0, 1)`, `x.slice(1, 0, 4, 2)`, `x.split(2)`), attached to the
 * Tensor prototype.
 */

import { sizesArg } from './methods.js';
import type { IndexLike, IndexSpec } from './shape-ops/index.js';
import * as ops from './shape-ops/index.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** swap two dimensions (see `transpose`) */ transpose(dim0: number, dim1: number): Tensor;
    /** matrix transpose of a tensor with at most 2 dimensions (see `t`) */ t(): Tensor;
    /** reorder the dimensions: `x.permute(2, 0, 1)` or `x.permute([2, 0, 1])` (see `permute`) */
    permute(...dims: number[]): Tensor;
    /** the same, with the dimensions as one list */
    permute(dims: readonly number[]): Tensor;
    /** merge dimensions startDim…endDim (see `flatten`) */ flatten(
      startDim?: number,
      endDim?: number,
    ): Tensor;
    /** remove size-1 dimensions (see `squeeze`) */ squeeze(axis?: number | readonly number[]): Tensor;
    /** insert a size-1 dimension (see `unsqueeze`) */ unsqueeze(axis: number): Tensor;
    /** start:end:step along an axis (see `slice`) */
    slice(axis: number, start?: number, end?: number, step?: number): Tensor;
    /** index several leading axes: `x.index(0, { start: 1 })` (see `index`) */ index(
      ...specs: IndexSpec[]
    ): Tensor;
    /** entries `index` along an axis (see `indexSelect`) */ indexSelect(
      axis: number,
      index: IndexLike,
    ): Tensor;
    /** pick along an axis with a same-rank index (see `gather`) */ gather(
      axis: number,
      index: IndexLike,
    ): Tensor;
    /** add `source` at `index` along an axis (see `indexAdd`) */
    indexAdd(axis: number, index: IndexLike, source: Tensor): Tensor;
    /** add `src` where a same-rank index points (see `scatterAdd`) */
    scatterAdd(axis: number, index: IndexLike, src: Tensor): Tensor;
    /** consecutive pieces along an axis (see `split`) */
    split(sizeOrSections: number | readonly number[], axis?: number): Tensor[];
    /** `chunks` near-equal pieces along an axis (see `chunk`) */ chunk(
      chunks: number,
      axis?: number,
    ): Tensor[];
  }
}

const P = Tensor.prototype;
P.transpose = function (dim0, dim1) {
  return ops.transpose(this, dim0, dim1);
};
P.t = function () {
  return ops.t(this);
};
P.permute = function (this: Tensor, ...dims: Array<number | readonly number[]>) {
  return ops.permute(this, sizesArg(dims));
} as Tensor['permute'];
P.flatten = function (startDim, endDim) {
  return ops.flatten(this, startDim, endDim);
};
P.squeeze = function (axis) {
  return ops.squeeze(this, axis);
};
P.unsqueeze = function (axis) {
  return ops.unsqueeze(this, axis);
};
P.slice = function (axis, start, end, step) {
  return ops.slice(this, axis, start, end, step);
};
P.index = function (...specs) {
  return ops.index(this, specs);
};
P.indexSelect = function (axis, index) {
  return ops.indexSelect(this, axis, index);
};
P.gather = function (axis, index) {
  return ops.gather(this, axis, index);
};
P.indexAdd = function (axis, index, source) {
  return ops.indexAdd(this, axis, index, source);
};
P.scatterAdd = function (axis, index, src) {
  return ops.scatterAdd(this, axis, index, src);
};
P.split = function (sizeOrSections, axis) {
  return ops.split(this, sizeOrSections, axis);
};
P.chunk = function (chunks, axis) {
  return ops.chunk(this, chunks, axis);
};
