import type { InputKind } from '../codegen/js.js';
import { compileElementwiseWgsl } from '../codegen/wgsl.js';
import { ArgumentError, ShapeError, StateError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import {
  type BindEntries,
  BufferUsage,
  checkStorageSize,
  createPipelineSync,
  encodeDispatch,
  readBuffers,
  requestWebGpuDevice,
  type WebGpuBufferLike,
  type WebGpuDeviceLike,
  type WebGpuPipelineLike,
  withErrorScopes,
} from './webgpu.js';

/** What a runtime holds on the device: live (not yet released) buffers and their bytes. */
export interface DeviceMemory {
  /** Buffers allocated and not yet released (by `dispose()` or garbage collection). */
  readonly buffers: number;
  /** Their total size in bytes. */
  readonly bytes: number;
}

/** One hand-written compute shader run by {@link WebGpuArrays.compute}. */
export interface ComputeSpec {
  /** WGSL source with entry point `main`; see {@link WebGpuArrays.compute} for the binding order. */
  readonly code: string;
  /** Arrays read by the shader (bindings 1…). */
  readonly inputs: readonly DeviceArray[];
  /** Existing arrays the shader writes in place (bound after the inputs). */
  readonly inOut?: readonly DeviceArray[];
  /** Element counts of the new, zero-filled output arrays (bound last). */
  readonly outputs: readonly number[];
  /** Uniform contents (binding 0), padded to a multiple of 16 bytes. */
  readonly params?: ArrayBuffer;
  /** Workgroups to dispatch in x, y, z. */
  readonly workgroups: readonly [number, number?, number?];
}

/** The buffer and byte count a finalizer releases when a DeviceArray is collected undisposed. */
interface Held {
  buffer: WebGpuBufferLike;
  bytes: number;
}

/**
 * A float32 array that lives in a storage buffer of a {@link WebGpuArrays} runtime. Release it with
 * `dispose()`; one that is garbage-collected undisposed is released then.
 */
export class DeviceArray {
  /** The number of float32 elements. */
  readonly length: number;
  /** The runtime that owns the buffer. */
  readonly runtime: WebGpuArrays;
  #verdict: Promise<void> = Promise.resolve();
  #held: Held | null;

  /** @internal made by {@link WebGpuArrays}. */
  constructor(runtime: WebGpuArrays, held: Held, length: number) {
    this.runtime = runtime;
    this.#held = held;
    this.length = length;
  }

  /** Settles when the work that produced the array was accepted by the device; rejects with its error. */
  get verdict(): Promise<void> {
    return this.#verdict;
  }

  /** @internal sets the verdict once the work that fills the array was submitted. */
  settleWith(verdict: Promise<void>): this {
    verdict.catch(() => undefined);
    this.#verdict = verdict;
    return this;
  }

  /** Whether `dispose()` was called. */
  get disposed(): boolean {
    return this.#held === null;
  }

  /**
   * @internal the buffer, for the runtime.
   *
   * @throws StateError when the array was disposed
   */
  buffer(op: string): WebGpuBufferLike {
    if (this.#held === null) throw new StateError(op, 'the device array was disposed');
    return this.#held.buffer;
  }

  /** Releases the buffer now (idempotent). */
  dispose(): void {
    if (this.#held === null) return;
    const held = this.#held;
    this.#held = null;
    this.runtime.release(this, held);
  }
}

/**
 * Compiled pipelines by WGSL source. Capacity: 256 pipelines, one per distinct fused expression (and kinds)
 * a program runs on the device; one that falls out is compiled again on its next use.
 */
const PIPELINE_CAPACITY = 256;

/**
 * A WebGPU device that holds float32 arrays in storage buffers and runs fused elementwise expressions over
 * them (the same expression IR and WGSL generator as `GPU.createElementwise`) without reading back; only
 * {@link WebGpuArrays.read} copies to the host.
 */
export class WebGpuArrays {
  /** The WebGPU device. */
  readonly device: WebGpuDeviceLike;
  #buffers = 0;
  #bytes = 0;
  #destroyed = false;
  readonly #pipelines = new LruCache<string, { pipeline: WebGpuPipelineLike; verdict: Promise<void> }>(
    PIPELINE_CAPACITY,
  );
  readonly #finalizer = new FinalizationRegistry<Held>((held) => this.#free(held));

  /** @internal use {@link WebGpuArrays.create}. */
  constructor(device: WebGpuDeviceLike) {
    this.device = device;
  }

  /**
   * Requests a WebGPU device (the browser's `navigator.gpu`, or the `webgpu` package in Node).
   *
   * @throws StateError when WebGPU is not available, saying why and how to enable it
   */
  static async create(op = 'WebGpuArrays.create'): Promise<WebGpuArrays> {
    return new WebGpuArrays(await requestWebGpuDevice(op));
  }

  /** Live buffers and bytes. */
  memory(): DeviceMemory {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }

  #check(op: string): void {
    if (this.#destroyed) throw new StateError(op, 'the WebGPU runtime was destroyed');
  }

  #allocate(length: number, make: (bytes: number) => WebGpuBufferLike): DeviceArray {
    const bytes = Math.max(4, length * 4);
    const held = { buffer: make(bytes), bytes };
    this.#buffers++;
    this.#bytes += bytes;
    const array = new DeviceArray(this, held, length);
    this.#finalizer.register(array, held, array);
    return array;
  }

  #free(held: Held): void {
    held.buffer.destroy();
    this.#buffers--;
    this.#bytes -= held.bytes;
  }

  /** @internal called by `DeviceArray.dispose()`. */
  release(array: DeviceArray, held: Held): void {
    this.#finalizer.unregister(array);
    this.#free(held);
  }

  /**
   * Copies host values (rounded to float32) into a new device array.
   *
   * @throws ShapeError when the array exceeds the device's buffer limits
   */
  upload(data: ArrayLike<number>, op = 'upload'): DeviceArray {
    this.#check(op);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    checkStorageSize(this.device, op, 'the tensor', values.length * 4);
    let out: DeviceArray | undefined;
    const { verdict } = withErrorScopes(this.device, op, () => {
      out = this.#allocate(values.length, (size) => {
        const b = this.device.createBuffer({
          size,
          usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
        });
        if (values.length > 0) this.device.queue.writeBuffer(b, 0, values);
        return b;
      });
    });
    return out!.settleWith(verdict);
  }

  /**
   * Overwrites a device array with host values (rounded to float32), in queue order: work submitted before
   * reads the old values, work submitted after the new ones (initialisers filling a webgpu parameter).
   *
   * @throws ArgumentError when the array is not of this runtime; ShapeError when the lengths differ;
   *   StateError when it was disposed
   */
  write(array: DeviceArray, data: ArrayLike<number>, op = 'write'): void {
    this.#check(op);
    if (!(array instanceof DeviceArray) || array.runtime !== this) {
      throw new ArgumentError(op, 'the target must be a device array of this runtime');
    }
    if (data.length !== array.length) {
      throw new ShapeError(op, `${data.length} values given for a device array of ${array.length} elements`);
    }
    if (array.length === 0) return;
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const buffer = array.buffer(op);
    const { verdict } = withErrorScopes(this.device, op, () => {
      this.device.queue.writeBuffer(buffer, 0, values);
    });
    const before = array.verdict;
    array.settleWith(Promise.all([before, verdict]).then(() => undefined));
  }

  /**
   * Runs `outputs` (expressions over `variables`) for `n` elements on the device: an `'array'` input is a
   * device array of `n` elements, or of one element where `splat[i]` (read at index 0 by every thread); a
   * `'scalar'` input is a number. Returns one new device array per output; nothing is read back.
   *
   * @throws ArgumentError / ShapeError when the inputs do not match `kinds` and `n`
   */
  elementwise(
    op: string,
    outputs: readonly Expr[],
    variables: readonly string[],
    kinds: readonly InputKind[],
    splat: readonly boolean[],
    inputs: ReadonlyArray<DeviceArray | number>,
    n: number,
  ): DeviceArray[] {
    this.#check(op);
    inputs.forEach((v, i) => {
      if (kinds[i] === 'scalar') {
        if (typeof v !== 'number') throw new ArgumentError(op, `input #${i} must be a number`);
        return;
      }
      if (!(v instanceof DeviceArray) || v.runtime !== this) {
        throw new ArgumentError(op, `input #${i} must be a device array of this runtime`);
      }
      const want = splat[i] ? 1 : n;
      if (v.length !== want)
        throw new ShapeError(op, `input #${i} has ${v.length} elements, expected ${want}`);
    });
    outputs.forEach((_, k) => {
      checkStorageSize(this.device, op, `output ${k} (${n} values)`, n * 4);
    });
    const shader = compileElementwiseWgsl(outputs, variables, kinds, splat);
    let compiled = this.#pipelines.get(shader.code);
    if (compiled === undefined) {
      compiled = createPipelineSync(this.device, shader.code, op);
      this.#pipelines.set(shader.code, compiled);
    }
    const { pipeline } = compiled;
    const device = this.device;
    const params = new ArrayBuffer(shader.paramVec4s * 16);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    u32[0] = n;
    const made: DeviceArray[] = [];
    const { verdict } = withErrorScopes(device, op, () => {
      const paramBuf = device.createBuffer({
        size: params.byteLength,
        usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      });
      try {
        const entries: BindEntries = [{ binding: 0, resource: { buffer: paramBuf } }];
        let binding = 1;
        let scalar = 0;
        inputs.forEach((v) => {
          if (typeof v === 'number') f32[4 + scalar++] = v;
          else entries.push({ binding: binding++, resource: { buffer: v.buffer(op) } });
        });
        device.queue.writeBuffer(paramBuf, 0, u32);
        for (const _ of outputs) {
          const out = this.#allocate(n, (size) =>
            device.createBuffer({
              size,
              usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
            }),
          );
          made.push(out);
          entries.push({ binding: binding++, resource: { buffer: out.buffer(op) } });
        }
        if (n > 0) {
          const encoder = device.createCommandEncoder();
          encodeDispatch(device, encoder, pipeline, entries, n, op);
          device.queue.submit([encoder.finish()]);
        }
      } catch (e) {
        for (const m of made) m.dispose();
        throw e;
      } finally {
        paramBuf.destroy();
      }
    });
    const inputsOk = inputs.map((v) => (typeof v === 'number' ? Promise.resolve() : v.verdict));
    const all = Promise.all([compiled.verdict, verdict, ...inputsOk]).then(() => undefined);
    return made.map((m) => m.settleWith(all));
  }

  /**
   * Runs one hand-written WGSL compute shader (entry point `main`) over device arrays: binding 0 is a uniform
   * buffer holding `spec.params` (16 zero bytes when absent), then one storage binding per `spec.inputs`
   * (declare them `read`), per `spec.inOut` (existing arrays written in place, `read_write`) and per new output
   * (`read_write`, lengths `spec.outputs`, zero-filled), in that order. Dispatches `spec.workgroups` workgroups
   * (each count must be within the adapter's `maxComputeWorkgroupsPerDimension`). Nothing is read back. Used by
   * the tensor ops that are not elementwise expressions (reductions, matmul, gathers).
   *
   * @throws ArgumentError when an input is not a live array of this runtime, ShapeError when an output or a
   *   workgroup count exceeds the adapter's limits
   */
  compute(op: string, spec: ComputeSpec): DeviceArray[] {
    this.#check(op);
    const { code, inputs, outputs } = spec;
    const inOut = spec.inOut ?? [];
    for (const [what, list] of [
      ['input', inputs],
      ['in-place argument', inOut],
    ] as const) {
      list.forEach((v, i) => {
        if (!(v instanceof DeviceArray) || v.runtime !== this) {
          throw new ArgumentError(op, `${what} #${i} must be a device array of this runtime`);
        }
      });
    }
    outputs.forEach((len, k) => {
      if (!Number.isSafeInteger(len) || len < 0) {
        throw new ArgumentError(op, `output ${k} length must be a non-negative integer, got ${len}`);
      }
      checkStorageSize(this.device, op, `output ${k} (${len} values)`, len * 4);
    });
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    const groups = [spec.workgroups[0], spec.workgroups[1] ?? 1, spec.workgroups[2] ?? 1];
    for (const g of groups) {
      if (!Number.isSafeInteger(g) || g < 0 || g > limit) {
        throw new ShapeError(
          op,
          `workgroup counts ${groups.join('×')} exceed the adapter's maxComputeWorkgroupsPerDimension ${limit}`,
        );
      }
    }
    let compiled = this.#pipelines.get(code);
    if (compiled === undefined) {
      compiled = createPipelineSync(this.device, code, op);
      this.#pipelines.set(code, compiled);
    }
    const { pipeline } = compiled;
    const device = this.device;
    const params = spec.params ?? new ArrayBuffer(16);
    const made: DeviceArray[] = [];
    const { verdict } = withErrorScopes(device, op, () => {
      const paramBuf = device.createBuffer({
        size: Math.max(16, Math.ceil(params.byteLength / 16) * 16),
        usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      });
      try {
        device.queue.writeBuffer(paramBuf, 0, new Uint8Array(params));
        const entries: BindEntries = [{ binding: 0, resource: { buffer: paramBuf } }];
        let binding = 1;
        for (const v of inputs) entries.push({ binding: binding++, resource: { buffer: v.buffer(op) } });
        for (const v of inOut) entries.push({ binding: binding++, resource: { buffer: v.buffer(op) } });
        for (const len of outputs) {
          const out = this.#allocate(len, (size) =>
            device.createBuffer({
              size,
              usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
            }),
          );
          made.push(out);
          entries.push({ binding: binding++, resource: { buffer: out.buffer(op) } });
        }
        if (groups.every((g) => g > 0)) {
          const encoder = device.createCommandEncoder();
          const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
          const pass = encoder.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(groups[0]!, groups[1]!, groups[2]!);
          pass.end();
          device.queue.submit([encoder.finish()]);
        }
      } catch (e) {
        for (const m of made) m.dispose();
        throw e;
      } finally {
        paramBuf.destroy();
      }
    });
    const inputsOk = [...inputs, ...inOut].map((v) => v.verdict);
    const all = Promise.all([compiled.verdict, verdict, ...inputsOk]).then(() => undefined);
    for (const v of inOut) v.settleWith(all);
    return made.map((m) => m.settleWith(all));
  }

  /**
   * Copies a device array to the host.
   *
   * @throws StateError (rejecting) when the array was disposed, the work that produced it failed, or the
   *   device was lost
   */
  async read(array: DeviceArray, op = 'read'): Promise<Float32Array> {
    this.#check(op);
    const buffer = array.buffer(op);
    await array.verdict;
    if (array.length === 0) return new Float32Array(0);
    const [out] = await readBuffers(this.device, [buffer], [array.length * 4], undefined, op);
    return out!;
  }

  /** Destroys the device; every array of this runtime becomes unusable. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.device.destroy();
  }
}
