/**
 * Shared by the tensor ops that run on WebGPU with hand-written kernels (device-matmul, device-shape,
 * device-gather, device-softmax): the same-device check, the runtime, and recording results in the graph.
 */
import { type DeviceArray, DeviceError, deviceZeros, type WebGpuArrays } from '@gradkit/kernels';
import { webgpuRuntime } from './device.js';
import type { Grads } from './node.js';
import { type Shape, sizeOf } from './shape.js';
import { record, Tensor } from './tensor.js';

/** Whether any of `tensors` lives on webgpu (so the op runs there). */
export function anyOnDevice(tensors: readonly Tensor[]): boolean {
  return tensors.some((t) => t.device !== 'cpu');
}

/**
 * The WebGPU runtime for an op whose tensor arguments must all be on webgpu.
 *
 * @throws DeviceError naming both arguments when one is on the cpu and another on webgpu, or before
 *   `initWebGPU()`
 */
export function deviceRuntime(
  op: string,
  tensors: readonly Tensor[],
  names: readonly string[],
): WebGpuArrays {
  const gpuAt = tensors.findIndex((t) => t.device === 'webgpu');
  const cpuAt = tensors.findIndex((t) => t.device === 'cpu');
  if (gpuAt >= 0 && cpuAt >= 0) {
    throw new DeviceError(
      op,
      `expected all tensors on the same device, but argument '${names[gpuAt]}' is on webgpu and argument '${names[cpuAt]}' is on cpu; move one with t.to('webgpu') or await t.cpu()`,
    );
  }
  return webgpuRuntime(op);
}

/** The device array of a webgpu tensor. */
export function arrayOf(t: Tensor): DeviceArray {
  const d = t.deviceArray;
  if (d === null) throw new DeviceError('arrayOf', 'the tensor is not on webgpu');
  return d;
}

/** A new webgpu tensor of zeros. */
export function deviceZerosTensor(op: string, shape: Shape): Tensor {
  return new Tensor(deviceZeros(webgpuRuntime(op), op, sizeOf(shape)), [...shape]);
}

/**
 * Wraps device arrays as webgpu tensors and, when grad mode is on and an input requires grad, records one
 * graph node for them (the device form of `record`). Device storage is never modified in place (the
 * in-place ops refuse webgpu tensors), so there are no storage versions to save.
 */
export function recordDevice(
  name: string,
  inputs: readonly Tensor[],
  outputs: ReadonlyArray<{ data: DeviceArray; shape: Shape }>,
  backward: (grads: Grads) => Grads,
): Tensor[] {
  // record() saves the storage versions of inputs and outputs, so an in-place update of one of them
  // before backward is refused instead of giving a wrong gradient.
  return record(
    name,
    inputs,
    outputs.map((o) => ({ data: o.data, shape: [...o.shape] })),
    backward,
  );
}

/** {@link recordDevice} for a single output. */
export function recordDevice1(
  name: string,
  inputs: readonly Tensor[],
  data: DeviceArray,
  shape: Shape,
  backward: (grad: Tensor) => Grads,
): Tensor {
  return recordDevice(name, inputs, [{ data, shape }], (gs) =>
    gs[0] ? backward(gs[0]) : inputs.map(() => null),
  )[0]!;
}
