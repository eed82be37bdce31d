import type { InputKind } from '../codegen/js.js';
import { compileElementwiseWgsl } from '../codegen/wgsl.js';
import { coalesceDims, compileStridedWgsl } from '../codegen/wgsl-strided.js';
import { ArgumentError, DeviceError, ShapeError, StateError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { LruCache } from '../util/lru.js';
import {
  type BindEntries,
  BufferUsage,
  checkStorageSize,
  createPipelineSync,
  encodeDispatch,
  maxStorageBytes,
  readBuffers,
  requestWebGpuDevice,
  type WebGpuBufferLike,
  type WebGpuDeviceLike,
  type WebGpuPipelineLike,
  withErrorScopes,
  writableSource,
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
 * The default bound on the bytes of free buffers a runtime keeps for reuse: 256 MiB. Released buffers go to
 * size-class free lists (sizes rounded up to a quarter of their power of two, so at most 25% larger than
 * asked) and serve later allocations of that class; past the bound a released buffer is destroyed. Change
 * it with {@link WebGpuArrays.poolLimit}; empty the pool with {@link WebGpuArrays.releasePool}.
 */
export const DEFAULT_POOL_BYTES = 256 * 2 ** 20;

/**
 * The size class of a buffer of `bytes` bytes: at least 256, else rounded up to a multiple of a quarter of
 * the largest power of two below it, and never above `max` (the device's largest storage binding) when
 * `bytes` fits there.
 */
export function poolBucket(bytes: number, max: number = Number.POSITIVE_INFINITY): number {
  if (bytes <= 256) return Math.max(bytes, Math.min(256, Math.floor(max / 4) * 4));
  const step = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  const rounded = Math.ceil(bytes / step) * step;
  return rounded <= max ? rounded : Math.max(bytes, Math.floor(max / 4) * 4);
}

/** The bytes an array occupies (its elements; 4 for an empty one), multiple of 4. */
function byteSize(a: DeviceArray): number {
  return Math.max(4, a.length * 4);
}

/** A binding of exactly the array's bytes (a pooled buffer may be larger), so `arrayLength` is exact. */
function bound(a: DeviceArray, op: string): { buffer: WebGpuBufferLike; size: number } {
  return { buffer: a.buffer(op), size: byteSize(a) };
}

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
  /** Free buffers by size class (bytes). */
  readonly #pool = new Map<number, WebGpuBufferLike[]>();
  #pooledBuffers = 0;
  #pooledBytes = 0;
  #poolLimit = DEFAULT_POOL_BYTES;
  /** Open scopes (innermost last): the arrays allocated while each was innermost. */
  readonly #scopes: Array<Set<DeviceArray>> = [];
  readonly #pipelines = new LruCache<string, { pipeline: WebGpuPipelineLike; verdict: Promise<void> }>(
    PIPELINE_CAPACITY,
  );
  readonly #finalizer = new FinalizationRegistry<Held>((held) => this.#free(held));

  #lost: string | null = null;

  /** @internal use {@link WebGpuArrays.create}. */
  constructor(device: WebGpuDeviceLike) {
    this.device = device;
    device.lost.then(
      (info) => {
        if (!this.#destroyed) this.#lost = info.message || info.reason || 'unknown reason';
      },
      () => undefined,
    );
  }

  /**
   * Why the device was lost (its message), or null while it is usable. After a loss every operation throws a
   * DeviceError saying so, instead of hanging or returning zeros.
   */
  get lostReason(): string | null {
    return this.#lost;
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
    if (this.#lost !== null) {
      throw new DeviceError(
        op,
        `the WebGPU device was lost (${this.#lost}); its tensors are gone: call initWebGPU() again for a new device and recreate them`,
      );
    }
  }

  /**
   * A new array of `length` float32 elements in a storage buffer: a pooled free buffer of the size class when
   * there is one (`reused`; its old contents remain), else a new buffer.
   */
  #allocate(length: number): { array: DeviceArray; reused: boolean } {
    const bytes = poolBucket(Math.max(4, length * 4), maxStorageBytes(this.device));
    const free = this.#pool.get(bytes);
    let buffer = free?.pop();
    const reused = buffer !== undefined;
    if (buffer !== undefined) {
      this.#pooledBuffers--;
      this.#pooledBytes -= bytes;
      if (free!.length === 0) this.#pool.delete(bytes);
    } else {
      buffer = this.device.createBuffer({
        size: bytes,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      });
    }
    const held = { buffer, bytes };
    this.#buffers++;
    this.#bytes += bytes;
    const array = new DeviceArray(this, held, length);
    this.#finalizer.register(array, held, array);
    this.#scopes[this.#scopes.length - 1]?.add(array);
    return { array, reused };
  }

  /**
   * Opens a scope: the arrays allocated until the matching {@link WebGpuArrays.endScope} are tracked by it
   * (scopes nest; an array belongs to the innermost).
   */
  beginScope(): void {
    this.#scopes.push(new Set());
  }

  /**
   * Closes the innermost scope: disposes the arrays it tracked except those in `keep`, which move to the
   * enclosing scope (or are no longer tracked when there is none).
   *
   * @throws StateError when no scope is open
   */
  endScope(keep: ReadonlySet<DeviceArray> = new Set()): void {
    const scope = this.#scopes.pop();
    if (scope === undefined) throw new StateError('endScope', 'no scope is open (beginScope was not called)');
    const parent = this.#scopes[this.#scopes.length - 1];
    for (const a of scope) {
      if (keep.has(a)) parent?.add(a);
      else a.dispose();
    }
  }

  /** Stops every open scope from tracking `array` (it outlives them: a gradient stored on a tensor). */
  keep(array: DeviceArray): void {
    for (const s of this.#scopes) s.delete(array);
  }

  /** A released buffer goes to its size class's free list, or is destroyed when the pool is full. */
  #free(held: Held): void {
    this.#buffers--;
    this.#bytes -= held.bytes;
    if (this.#destroyed || this.#pooledBytes + held.bytes > this.#poolLimit) {
      held.buffer.destroy();
      return;
    }
    let free = this.#pool.get(held.bytes);
    if (free === undefined) {
      free = [];
      this.#pool.set(held.bytes, free);
    }
    free.push(held.buffer);
    this.#pooledBuffers++;
    this.#pooledBytes += held.bytes;
  }

  /** @internal called by `DeviceArray.dispose()`. */
  release(array: DeviceArray, held: Held): void {
    this.#finalizer.unregister(array);
    this.#free(held);
  }

  /** The free buffers kept for reuse (not counted by {@link WebGpuArrays.memory}) and their bytes. */
  pooled(): DeviceMemory {
    return { buffers: this.#pooledBuffers, bytes: this.#pooledBytes };
  }

  /**
   * The most bytes of free buffers the pool keeps (default {@link DEFAULT_POOL_BYTES}); a buffer released
   * while the pool is full is destroyed instead. Lowering it does not trim the pool: call
   * {@link WebGpuArrays.releasePool}.
   */
  get poolLimit(): number {
    return this.#poolLimit;
  }

  /** @throws ArgumentError when `bytes` is not a non-negative number */
  set poolLimit(bytes: number) {
    if (typeof bytes !== 'number' || !(bytes >= 0)) {
      throw new ArgumentError('poolLimit', `must be a non-negative number of bytes, got ${String(bytes)}`);
    }
    this.#poolLimit = bytes;
  }

  /** Destroys every pooled free buffer (like `torch.cuda.empty_cache()`); live arrays are untouched. */
  releasePool(): void {
    for (const free of this.#pool.values()) for (const b of free) b.destroy();
    this.#pool.clear();
    this.#pooledBuffers = 0;
    this.#pooledBytes = 0;
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
      out = this.#allocate(values.length).array;
      if (values.length > 0) this.device.queue.writeBuffer(out.buffer(op), 0, writableSource(values));
    });
    return out!.settleWith(verdict);
  }

  /** Throws an ArgumentError (`<what> must be a device array of this runtime`) unless `v` is one. */
  #mine(op: string, v: unknown, what: string): asserts v is DeviceArray {
    if (!(v instanceof DeviceArray) || v.runtime !== this) {
      throw new ArgumentError(op, `${what} must be a device array of this runtime`);
    }
  }

  /**
   * Input `i` of an elementwise run: null for a scalar (which must be a number), else the device array of
   * this runtime it must be.
   */
  #arrayInput(op: string, v: unknown, kind: InputKind | undefined, i: number): DeviceArray | null {
    if (kind === 'scalar') {
      if (typeof v !== 'number') throw new ArgumentError(op, `input #${i} must be a number`);
      return null;
    }
    this.#mine(op, v, `input #${i}`);
    return v;
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
    this.#mine(op, array, 'the target');
    if (data.length !== array.length) {
      throw new ShapeError(op, `${data.length} values given for a device array of ${array.length} elements`);
    }
    if (array.length === 0) return;
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const buffer = array.buffer(op);
    const { verdict } = withErrorScopes(this.device, op, () => {
      this.device.queue.writeBuffer(buffer, 0, writableSource(values));
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
    inputs.forEach((input, i) => {
      const v = this.#arrayInput(op, input, kinds[i], i);
      if (v === null) return;
      const want = splat[i] ? 1 : n;
      if (v.length !== want)
        throw new ShapeError(op, `input #${i} has ${v.length} elements, expected ${want}`);
    });
    outputs.forEach((_, k) => {
      checkStorageSize(this.device, op, `output ${k} (${n} values)`, n * 4);
    });
    const shader = compileElementwiseWgsl(outputs, variables, kinds, splat);
    const params = new ArrayBuffer(shader.paramVec4s * 16);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    u32[0] = n;
    let scalar = 0;
    for (const v of inputs) if (typeof v === 'number') f32[4 + scalar++] = v;
    const arrays = inputs.filter((v): v is DeviceArray => typeof v !== 'number');
    return this.#launch(op, shader.code, params, arrays, outputs.length, n);
  }

  /**
   * Runs `outputs` (expressions over `variables`) over the broadcast shape `shape` on the device: an
   * `'array'` input is a device array read at `Σ_d coord_d · strides[i][d]` (stride 0 along a broadcast
   * dimension), a `'scalar'` input is a number (its `strides` entry is ignored). Returns one new device
   * array per output, row-major over `shape`; nothing is read back. Dimensions are merged where the layout
   * allows, so any rank runs (the shader is compiled per merged rank).
   *
   * @throws ArgumentError / ShapeError when the inputs do not match `kinds`, `shape` and `strides`
   */
  strided(
    op: string,
    outputs: readonly Expr[],
    variables: readonly string[],
    kinds: readonly InputKind[],
    inputs: ReadonlyArray<DeviceArray | number>,
    shape: readonly number[],
    strides: ReadonlyArray<readonly number[]>,
  ): DeviceArray[] {
    this.#check(op);
    let n = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(op, `invalid shape [${shape.join(', ')}]`);
      n *= d;
    }
    const arrayStrides: number[][] = [];
    const arrays: DeviceArray[] = [];
    inputs.forEach((input, i) => {
      const v = this.#arrayInput(op, input, kinds[i], i);
      if (v === null) return;
      const st = strides[i];
      if (st === undefined || st.length !== shape.length) {
        throw new ShapeError(op, `input #${i} needs ${shape.length} strides`);
      }
      // The largest offset read must lie inside the array.
      let last = 0;
      shape.forEach((d, k) => {
        last += (d - 1) * st[k]!;
      });
      if (n > 0 && (last >= v.length || st.some((x) => !Number.isSafeInteger(x) || x < 0))) {
        throw new ShapeError(
          op,
          `input #${i} (${v.length} elements) is read past its end by strides [${st.join(', ')}]`,
        );
      }
      arrays.push(v);
      arrayStrides.push([...st]);
    });
    outputs.forEach((_, k) => {
      checkStorageSize(this.device, op, `output ${k} (${n} values)`, n * 4);
    });
    const merged = coalesceDims(shape, arrayStrides);
    const rank = merged.shape.length;
    const shader = compileStridedWgsl(outputs, variables, kinds, rank);
    const params = new ArrayBuffer(shader.paramVec4s * 16);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    u32[0] = n;
    let scalar = 0;
    for (const v of inputs) if (typeof v === 'number') f32[4 + scalar++] = v;
    u32.set(merged.shape, shader.metaWord);
    merged.strides.forEach((s, k) => {
      u32.set(s, shader.metaWord + rank * (1 + k));
    });
    return this.#launch(op, shader.code, params, arrays, outputs.length, n);
  }

  /** Compiles (or finds) `code`, then runs it over `n` threads with the uniform `params`, the `inputs` and `outputs` new arrays of `n` elements. */
  #launch(
    op: string,
    code: string,
    params: ArrayBuffer,
    inputs: readonly DeviceArray[],
    outputs: number,
    n: number,
  ): DeviceArray[] {
    let compiled = this.#pipelines.get(code);
    if (compiled === undefined) {
      compiled = createPipelineSync(this.device, code, op);
      this.#pipelines.set(code, compiled);
    }
    const { pipeline } = compiled;
    const device = this.device;
    const made: DeviceArray[] = [];
    const { verdict } = withErrorScopes(device, op, () => {
      const paramBuf = device.createBuffer({
        size: params.byteLength,
        usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      });
      try {
        const entries: BindEntries = [{ binding: 0, resource: { buffer: paramBuf } }];
        let binding = 1;
        for (const v of inputs) entries.push({ binding: binding++, resource: bound(v, op) });
        device.queue.writeBuffer(paramBuf, 0, new Uint8Array(params));
        for (let k = 0; k < outputs; k++) {
          const out = this.#allocate(n).array;
          made.push(out);
          entries.push({ binding: binding++, resource: bound(out, op) });
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
    const inputsOk = inputs.map((v) => v.verdict);
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
        this.#mine(op, v, `${what} #${i}`);
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
        for (const v of inputs) entries.push({ binding: binding++, resource: bound(v, op) });
        for (const v of inOut) entries.push({ binding: binding++, resource: bound(v, op) });
        const clear: DeviceArray[] = [];
        for (const len of outputs) {
          const { array: out, reused } = this.#allocate(len);
          made.push(out);
          if (reused && len > 0) clear.push(out);
          entries.push({ binding: binding++, resource: bound(out, op) });
        }
        const dispatch = groups.every((g) => g > 0);
        if (dispatch || clear.length > 0) {
          const encoder = device.createCommandEncoder();
          // A reused buffer holds old values: outputs are promised zero-filled.
          for (const c of clear) encoder.clearBuffer(c.buffer(op), 0, byteSize(c));
          if (dispatch) {
            const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
            const pass = encoder.beginComputePass();
            pass.setPipeline(pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(groups[0]!, groups[1]!, groups[2]!);
            pass.end();
          }
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
   * Copies `src` over the first `src.length` elements of `dst` on the device (the in-place tensor ops write
   * their result this way, so every view of `dst` sees it). Nothing is read back.
   *
   * @throws ArgumentError when either is not a live array of this runtime; ShapeError when `src` is longer
   */
  copyInto(op: string, dst: DeviceArray, src: DeviceArray): void {
    this.#check(op);
    for (const [what, a] of [
      ['destination', dst],
      ['source', src],
    ] as const) {
      this.#mine(op, a, `the ${what}`);
    }
    if (src.length > dst.length) {
      throw new ShapeError(op, `cannot copy ${src.length} elements into an array of ${dst.length}`);
    }
    const from = src.buffer(op);
    const to = dst.buffer(op);
    const { verdict } = withErrorScopes(this.device, op, () => {
      if (src.length === 0) return;
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(from, 0, to, 0, src.length * 4);
      this.device.queue.submit([encoder.finish()]);
    });
    const all = Promise.all([verdict, src.verdict, dst.verdict]).then(() => undefined);
    dst.settleWith(all);
  }

  /**
   * Copies a device array to the host.
   *
   * @throws StateError (rejecting) when the array was disposed, the work that produced it failed, or the
   *   device was lost
   */
  async read(array: DeviceArray, op = 'read'): Promise<Float32Array> {
    this.#check(op);
    array.buffer(op);
    try {
      await array.verdict;
      // Disposed meanwhile: its buffer may already serve another array (the pool).
      const buffer = array.buffer(op);
      if (array.length === 0) return new Float32Array(0);
      const [out] = await readBuffers(this.device, [buffer], [array.length * 4], undefined, op);
      return out!;
    } catch (e) {
      // A loss while the read was in flight: say so rather than pass on the mapping's failure.
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 0))]);
      if (this.#lost !== null) this.#check(op);
      throw e;
    }
  }

  /** Destroys the device; every array of this runtime becomes unusable. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.releasePool();
    this.device.destroy();
  }
}
