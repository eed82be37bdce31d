/**
 * Device methods of Tensor: `to(device)` (next to `to(dtype)`), `cpu()`, the asynchronous reads that work on
 * every device, and `dispose()`.
 */
import { toDtype } from './cast.js';
import { arrayAsync, dataAsync, isDevice, itemAsync, toCpu, toDevice } from './device.js';
import type { DType, Storage } from './dtype.js';
import { type Device, type NestedArray, Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /**
     * this on `device`: itself when it is there already, else a float32 copy in a WebGPU buffer (after
     * `await initWebGPU()`); back to the cpu is asynchronous, with `await t.cpu()`
     */
    to(device: Device): Tensor;
    /** this on the cpu: itself, or (for a webgpu tensor) a copy read back from the device */
    cpu(): Promise<Tensor>;
    /** a copy of the elements on the host, on every device (`toArray()` is the synchronous cpu form) */
    dataAsync(): Promise<Storage>;
    /** the elements as nested arrays, on every device (`tolist()` is the synchronous cpu form) */
    arrayAsync(): Promise<NestedArray>;
    /** the single element, on every device (`item()` is the synchronous cpu form) */
    itemAsync(): Promise<number>;
    /**
     * releases the tensor's memory now instead of when it is garbage-collected: a webgpu tensor's buffer
     * (into the pool), and on the cpu the storage it holds in the WebAssembly kernels' memory arena, once
     * every tensor sharing that storage (`detach()`, `reshape()`, `view()`) is disposed — so a synchronous
     * loop that disposes what it is done with reuses the same memory (no fresh pages, no garbage). Afterwards
     * the tensor cannot be read (a StateError), nor can a graph that saved it be differentiated; arrays
     * previously read from its `.data` must not be used either (their memory may hold another tensor's
     * elements: copy with `toArray()` what you keep). Idempotent.
     */
    dispose(): void;
  }
}

const P = Tensor.prototype;
P.to = function (this: Tensor, to: DType | Device) {
  return isDevice(to) ? toDevice(this, to) : toDtype(this, to);
} as Tensor['to'];
P.cpu = function (this: Tensor) {
  return toCpu(this);
};
P.dataAsync = function (this: Tensor) {
  return dataAsync(this);
};
P.arrayAsync = function (this: Tensor) {
  return arrayAsync(this);
};
P.itemAsync = function (this: Tensor) {
  return itemAsync(this);
};
P.dispose = function (this: Tensor) {
  const d = this.deviceArray;
  if (d !== null) d.dispose();
  else this.releaseHost();
};
