/**
 * Shape ops of webgpu tensors. A reshape (and so view, flatten, squeeze, unsqueeze) shares the device
 * buffer; transpose, permute, expand, slice, index and split read a strided window into a new buffer (one
 * kernel); concat writes each input into its window of the result; the adjoint of expand is a device sum.
 * Every backward is written with these same ops, so gradients stay on the device.
 */
import { type DeviceWindow, deviceStridedRead, deviceStridedWrite } from '@gradkit/kernels';
import { webgpuRuntime } from './device.js';
import { arrayOf, deviceRuntime, deviceZerosTensor, recordDevice, recordDevice1 } from './device-ops.js';
import { deviceSumTo } from './device-reduce.js';
import { broadcastStrides, contiguousStrides, type Shape } from './shape.js';
import { concat } from './shape-ops/concat.js';
import { stridedRead, stridedWrite } from './shape-ops/strided.js';
import type { Tensor } from './tensor.js';
import { reshape } from './view.js';

/** `x` with a new shape of the same size, sharing its buffer (disposing one disposes both). */
export function reshapeDevice(x: Tensor, shape: Shape): Tensor {
  const inShape = x.shape;
  return recordDevice1('reshape', [x], arrayOf(x), shape, (g) => [reshape(g, inShape)]);
}

/** The strided window of `x` as a new webgpu tensor, with the given backward. */
export function windowDevice(
  name: string,
  x: Tensor,
  w: DeviceWindow,
  backward: (g: Tensor) => Tensor,
): Tensor {
  const data = deviceStridedRead(webgpuRuntime(name), name, arrayOf(x), w);
  return recordDevice1(name, [x], data, w.shape, (g) => [backward(g)]);
}

/** The device form of `stridedRead` (slice, index): backward writes the gradient into zeros. */
export function stridedReadDevice(name: string, x: Tensor, w: DeviceWindow): Tensor {
  const inShape = x.shape;
  return windowDevice(name, x, w, (g) => stridedWrite(name, g, inShape, w));
}

/** The device form of `stridedWrite`: zeros of `shape` with `y` in the window; backward reads it back. */
export function stridedWriteDevice(name: string, y: Tensor, shape: Shape, w: DeviceWindow): Tensor {
  const out = deviceZerosTensor(name, shape);
  deviceStridedWrite(webgpuRuntime(name), name, arrayOf(out), w, arrayOf(y));
  return recordDevice1(`${name}Backward`, [y], arrayOf(out), shape, (g) => [stridedRead(name, g, w)]);
}

/** `x` broadcast to `shape` (checked by the caller), copied; backward sums back to `x`'s shape. */
export function broadcastToDevice(x: Tensor, shape: Shape): Tensor {
  const inShape = x.shape;
  const w = { shape, strides: broadcastStrides(x.shape, shape), offset: 0 };
  return windowDevice('broadcastTo', x, w, (g) => deviceSumTo(g, inShape));
}

/** A copy of `x` in a new buffer; the gradient passes through. */
export function cloneDevice(x: Tensor): Tensor {
  const w = { shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
  return windowDevice('clone', x, w, (g) => g);
}

/** `concat` of webgpu tensors (checked by the caller) along axis `a`: each input written into its window. */
export function concatDevice(tensors: readonly Tensor[], a: number): Tensor {
  const rt = deviceRuntime(
    'concat',
    tensors,
    tensors.map((_, i) => `tensors[${i}]`),
  );
  const sizes = tensors.map((t) => t.shape[a]!);
  const shape = [...tensors[0]!.shape];
  shape[a] = sizes.reduce((p, q) => p + q, 0);
  const out = deviceZerosTensor('concat', shape);
  const strides = contiguousStrides(shape);
  let at = 0;
  for (const t of tensors) {
    if (t.size > 0) {
      deviceStridedWrite(
        rt,
        'concat',
        arrayOf(out),
        { shape: t.shape, strides, offset: at * strides[a]! },
        arrayOf(t),
      );
    }
    at += t.shape[a]!;
  }
  const inputs = [...tensors];
  return recordDevice1('concat', inputs, arrayOf(out), shape, (g) => {
    const parts = splitDevice(g, sizes, a);
    return parts.map((p, i) => (inputs[i]!.requiresGrad ? p : null));
  });
}

/** `split` of a webgpu tensor into checked sizes along axis `a`: one window read per piece. */
export function splitDevice(x: Tensor, sizes: readonly number[], a: number): Tensor[] {
  const rt = webgpuRuntime('split');
  const strides = contiguousStrides(x.shape);
  let at = 0;
  const outputs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    const data = deviceStridedRead(rt, 'split', arrayOf(x), { shape, strides, offset: at * strides[a]! });
    at += s;
    return { data, shape };
  });
  return recordDevice('split', [x], outputs, (grads) => [
    concat(
      grads.map((g, i) => g ?? deviceZerosTensor('split', outputs[i]!.shape)),
      a,
    ),
  ]);
}
