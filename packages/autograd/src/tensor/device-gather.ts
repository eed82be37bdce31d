/**
 * indexSelect, gather and their adjoints indexAdd and scatterAdd on webgpu tensors (the embedding lookup is
 * an indexSelect). The indices are checked on the host, where they live; the kernels read them from a
 * small uploaded table. The scatter-adds are deterministic: WGSL has no float atomics, so the host sorts
 * the indices by target and one thread per target element adds its sources in ascending index order (see
 * `deviceScatterAddRows`): the same inputs give the same bits on every run.
 */
import { deviceGatherRows, deviceScatterAddRows, type RowGather } from '@gradkit/kernels';
import { arrayOf, deviceRuntime, recordDevice1 } from './device-ops.js';
import type { Shape } from './shape.js';
import { splitAtAxis } from './shape-ops/strided.js';
import type { Tensor } from './tensor.js';

function rowLayout(shape: Shape, axis: number, idx: Int32Array): RowGather {
  const [outer, srcRows, inner] = splitAtAxis(shape, axis);
  return { outer, srcRows, inner, index: new Uint32Array(idx.buffer, idx.byteOffset, idx.length) };
}

/** `indexSelect` of a webgpu tensor (axis normalized, indices checked); backward is {@link indexAddDevice}. */
export function indexSelectDevice(x: Tensor, axis: number, idx: Int32Array): Tensor {
  const rt = deviceRuntime('indexSelect', [x], ['x']);
  const shape = [...x.shape];
  shape[axis] = idx.length;
  const data = deviceGatherRows(rt, 'indexSelect', arrayOf(x), rowLayout(x.shape, axis, idx));
  const inShape = x.shape;
  return recordDevice1('indexSelect', [x], data, shape, (g) => [indexAddDevice(null, inShape, axis, idx, g)]);
}

/**
 * `x` (zeros of `shape` when null) plus `source` added at `idx` along `axis`, on webgpu (shapes checked by
 * the caller). The gradient is `g` for `x` and `indexSelect(g, axis, idx)` for `source`.
 */
export function indexAddDevice(
  x: Tensor | null,
  shape: Shape,
  axis: number,
  idx: Int32Array,
  source: Tensor,
): Tensor {
  const inputs = x === null ? [source] : [x, source];
  const rt = deviceRuntime('indexAdd', inputs, x === null ? ['source'] : ['x', 'source']);
  const data = deviceScatterAddRows(
    rt,
    'indexAdd',
    x === null ? null : arrayOf(x),
    arrayOf(source),
    rowLayout(shape, axis, idx),
  );
  return recordDevice1('indexAdd', inputs, data, shape, (g) => {
    const gs = source.requiresGrad ? indexSelectDevice(g, axis, idx) : null;
    return x === null ? [gs] : [x.requiresGrad ? g : null, gs];
  });
}

/** Flat source offsets as a one-row layout: the gather reads element `offsets[k]` for output `k`. */
function flatLayout(size: number, offsets: Uint32Array): RowGather {
  return { outer: 1, srcRows: size, inner: 1, index: offsets };
}

/**
 * `gather` of a webgpu tensor, given the flat offsets it reads (computed on the host from the checked
 * index); backward scatter-adds into zeros with the same offsets.
 */
export function gatherDevice(x: Tensor, offsets: Uint32Array, shape: Shape): Tensor {
  const rt = deviceRuntime('gather', [x], ['x']);
  const data = deviceGatherRows(rt, 'gather', arrayOf(x), flatLayout(x.size, offsets));
  const inShape = x.shape;
  return recordDevice1('gather', [x], data, shape, (g) => [scatterAddDevice(null, inShape, offsets, g)]);
}

/**
 * `x` (zeros of `shape` when null) plus `src` added at the flat offsets, on webgpu; the gradient is `g` for
 * `x` and the gather of `g` at the offsets for `src`.
 */
export function scatterAddDevice(x: Tensor | null, shape: Shape, offsets: Uint32Array, src: Tensor): Tensor {
  const inputs = x === null ? [src] : [x, src];
  const rt = deviceRuntime('scatterAdd', inputs, x === null ? ['src'] : ['x', 'src']);
  const size = shape.reduce((p, d) => p * d, 1);
  const data = deviceScatterAddRows(
    rt,
    'scatterAdd',
    x === null ? null : arrayOf(x),
    arrayOf(src),
    flatLayout(size, offsets),
  );
  return recordDevice1('scatterAdd', inputs, data, shape, (g) => {
    const gs = src.requiresGrad ? gatherDevice(g, offsets, src.shape) : null;
    return x === null ? [gs] : [x.requiresGrad ? g : null, gs];
  });
}
