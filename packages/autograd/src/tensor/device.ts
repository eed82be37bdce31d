/**
 * Tensors on WebGPU: the one runtime (a device holding float32 buffers), moving tensors between devices,
 * reading them back asynchronously, and the device's memory count. Opt-in: nothing touches WebGPU until
 * `await initWebGPU()`.
 */
import {
  ArgumentError,
  DeviceError,
  type DeviceMemory,
  DtypeError,
  describeValue,
  ShapeError,
  WebGpuArrays,
} from '@gradkit/kernels';
import { isGradEnabled } from './grad-mode.js';
import { type Device, type NestedArray, Tensor } from './tensor.js';

let runtime: WebGpuArrays | null = null;
let starting: Promise<WebGpuArrays> | null = null;

/**
 * Acquires a WebGPU device for tensors (the browser's `navigator.gpu`, or the `webgpu` package in Node).
 * Idempotent: later calls resolve at once, unless the device was lost, when a new one is acquired. Required
 * before `t.to('webgpu')`.
 *
 * @throws StateError (rejecting) when WebGPU is not available, saying why and how to enable it
 */
export async function initWebGPU(): Promise<void> {
  // After a device loss a new device is acquired (tensors of the lost one stay unusable).
  if (runtime !== null && runtime.lostReason === null) return;
  starting ??= WebGpuArrays.create('initWebGPU');
  try {
    runtime = await starting;
  } finally {
    starting = null;
  }
}

/** @internal the WebGPU runtime, or null before `initWebGPU()`. */
export function currentRuntime(): WebGpuArrays | null {
  return runtime;
}

/**
 * @internal the WebGPU runtime.
 *
 * @throws DeviceError when `initWebGPU()` has not completed
 */
export function webgpuRuntime(op: string): WebGpuArrays {
  if (runtime === null) {
    throw new DeviceError(op, "WebGPU is not initialised: call 'await initWebGPU()' first");
  }
  return runtime;
}

/**
 * The WebGPU buffers held by live tensors (released by `dispose()` or garbage collection, into the pool —
 * see {@link pooledMemory}); zeros before `initWebGPU()`. Bytes are the buffers' sizes (a size class, at most
 * 25% above the tensor's bytes).
 */
export function memory(): DeviceMemory {
  return runtime === null ? { buffers: 0, bytes: 0 } : runtime.memory();
}

/**
 * The free WebGPU buffers kept for reuse (not counted by {@link memory}): released buffers go to size-class
 * free lists, up to a bound of 256 MiB by default (see {@link setPoolLimit}); zeros before `initWebGPU()`.
 */
export function pooledMemory(): DeviceMemory {
  return runtime === null ? { buffers: 0, bytes: 0 } : runtime.pooled();
}

/** Destroys the pooled free WebGPU buffers (like `torch.cuda.empty_cache()`); live tensors are untouched. */
export function releasePool(): void {
  runtime?.releasePool();
}

/**
 * Bounds the bytes of free buffers the WebGPU pool keeps (default 256 MiB; 0 turns pooling off). Buffers
 * released while the pool is full are destroyed. Does not trim the pool: call {@link releasePool}.
 *
 * @throws ArgumentError when `bytes` is not a non-negative number; DeviceError before `initWebGPU()`
 */
export function setPoolLimit(bytes: number): void {
  webgpuRuntime('setPoolLimit').poolLimit = bytes;
}

let defaultDevice: Device = 'cpu';

/**
 * Sets the device the creation functions (`tensor`, `zeros`, `rand`, ...) use when their options name none,
 * like `torch.set_default_device`. `'webgpu'` needs `await initWebGPU()` first.
 *
 * @throws ArgumentError when `device` is not `'cpu'` or `'webgpu'`
 * @throws DeviceError for `'webgpu'` before `initWebGPU()` has completed
 */
export function setDefaultDevice(device: Device): void {
  const op = 'setDefaultDevice';
  if (!isDevice(device)) {
    throw new ArgumentError(op, `argument 'device' must be 'cpu' or 'webgpu', got ${describeValue(device)}`);
  }
  if (device === 'webgpu') webgpuRuntime(op);
  defaultDevice = device;
}

/** The device the creation functions use when their options name none (`'cpu'` unless set). */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/** Whether `d` names a device. */
export function isDevice(d: unknown): d is Device {
  return d === 'cpu' || d === 'webgpu';
}

/**
 * `x` on `device`: the tensor itself when it is there already; a float32 copy in a WebGPU buffer for
 * `'webgpu'`. Moving back to the cpu reads the buffer, which is asynchronous: use `await x.cpu()`.
 *
 * Gradients do not flow through the move (reading them back to the cpu would be asynchronous): make the
 * webgpu tensor a leaf instead (`{ device: 'webgpu', requiresGrad: true }` at creation, or
 * `const w = x.detach().to('webgpu'); w.requiresGrad = true`).
 *
 * @throws DeviceError for `'cpu'` on a webgpu tensor, before `initWebGPU()`, or when `x` requires grad in
 *   grad mode (the move is not differentiable); DtypeError for a float64 tensor (WebGPU has no float64)
 */
export function toDevice(x: Tensor, device: Device, op = 'to'): Tensor {
  if (!isDevice(device)) {
    throw new ArgumentError(op, `argument 'device' must be 'cpu' or 'webgpu', got ${describeValue(device)}`);
  }
  if (x.device === device) return x;
  if (device === 'cpu') {
    throw new DeviceError(
      op,
      "the tensor is on webgpu and reading it back is asynchronous: use 'await t.cpu()' instead of t.to('cpu')",
    );
  }
  if (x.dtype === 'float64') {
    throw new DtypeError(
      op,
      "WebGPU has no float64: a float64 tensor cannot move to webgpu; convert it first with t.to('float32')",
    );
  }
  if (x.requiresGrad && isGradEnabled()) {
    throw new DeviceError(
      op,
      "moving a tensor that requires grad to webgpu is not differentiable (its gradient would have to be read back asynchronously): make the webgpu tensor a leaf instead — `const w = x.detach().to('webgpu'); w.requiresGrad = true`, or create it with { device: 'webgpu', requiresGrad: true }",
    );
  }
  return new Tensor(webgpuRuntime(op).upload(x.data, op), [...x.shape]);
}

/** `x` on the cpu: itself when it is there, else a float32 copy read back from its WebGPU buffer. */
export async function toCpu(x: Tensor): Promise<Tensor> {
  const d = x.deviceArray;
  if (d === null) return x;
  return new Tensor(await d.runtime.read(d, 'cpu'), [...x.shape]);
}

/** A copy of the elements on the host, whatever the device (asynchronous on webgpu). */
export async function dataAsync(x: Tensor): Promise<Float32Array | Float64Array> {
  return (await toCpu(x)).toArray();
}

/** The elements as nested arrays, whatever the device. */
export async function arrayAsync(x: Tensor): Promise<NestedArray> {
  return (await toCpu(x)).tolist();
}

/**
 * The single element of a one-element tensor, whatever the device.
 *
 * @throws ShapeError (synchronously, as the shape is known) when the tensor has more or fewer than one element
 */
export function itemAsync(x: Tensor): Promise<number> {
  if (x.size !== 1) {
    throw new ShapeError(
      'itemAsync',
      `only one-element tensors can be converted to a number, got shape [${x.shape.join(', ')}]`,
    );
  }
  return toCpu(x).then((t) => t.item());
}
