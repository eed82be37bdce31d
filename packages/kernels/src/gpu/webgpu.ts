import { WORKGROUP_SIZE } from '../codegen/wgsl.js';
import { CompileError, ShapeError, StateError } from '../errors.js';

/**
 * The slice of the WebGPU API that gradkit uses, typed structurally so that the package needs no WebGPU
 * type declarations: a browser's `GPUDevice` or the `webgpu` npm package's device satisfies it.
 */
export interface WebGpuBufferLike {
  /** `GPUBuffer.size`: the size in bytes. */
  readonly size: number;
  /** `GPUBuffer.mapAsync`: maps the buffer for reading. */
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  /** `GPUBuffer.getMappedRange`: the mapped bytes. */
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  /** `GPUBuffer.unmap`. */
  unmap(): void;
  /** `GPUBuffer.destroy`: frees the buffer. */
  destroy(): void;
}

/** A compute pipeline (opaque apart from its bind group layout). */
export interface WebGpuPipelineLike {
  /** `GPUComputePipeline.getBindGroupLayout`. */
  getBindGroupLayout(index: number): unknown;
}

/** A shader module, whose compilation messages can be read. */
export interface WebGpuShaderModuleLike {
  /** `GPUShaderModule.getCompilationInfo`: the compiler's messages. */
  getCompilationInfo(): Promise<{
    /** Errors, warnings and notes. */
    readonly messages: ReadonlyArray<{
      /** `'error'`, `'warning'` or `'info'`. */
      readonly type: string;
      /** The message text. */
      readonly message: string;
      /** 1-based line in the WGSL source. */
      readonly lineNum: number;
      /** 1-based column in the WGSL source. */
      readonly linePos: number;
    }>;
  }>;
}

/** A compute pass encoder. */
export interface WebGpuComputePassLike {
  /** `GPUComputePassEncoder.setPipeline`. */
  setPipeline(p: WebGpuPipelineLike): void;
  /** `GPUComputePassEncoder.setBindGroup`. */
  setBindGroup(index: number, group: unknown): void;
  /** `GPUComputePassEncoder.dispatchWorkgroups`. */
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  /** `GPUComputePassEncoder.end`. */
  end(): void;
}

/** A command encoder. */
export interface WebGpuEncoderLike {
  /** `GPUCommandEncoder.beginComputePass`. */
  beginComputePass(): WebGpuComputePassLike;
  /** `GPUCommandEncoder.copyBufferToBuffer`. */
  copyBufferToBuffer(
    src: WebGpuBufferLike,
    srcOffset: number,
    dst: WebGpuBufferLike,
    dstOffset: number,
    size: number,
  ): void;
  /** `GPUCommandEncoder.clearBuffer`: zero-fills `size` bytes from `offset`. */
  clearBuffer(buffer: WebGpuBufferLike, offset?: number, size?: number): void;
  /** `GPUCommandEncoder.finish`: the command buffer. */
  finish(): unknown;
}

/** A WebGPU device, as much of it as gradkit calls. */
export interface WebGpuDeviceLike {
  /** `GPUDevice.limits`: the limits gradkit reads. */
  readonly limits: {
    /** Most workgroups per dispatch dimension. */
    readonly maxComputeWorkgroupsPerDimension: number;
    /** Most storage buffers one shader stage binds. */
    readonly maxStorageBuffersPerShaderStage: number;
    /** Largest storage buffer binding, in bytes. */
    readonly maxStorageBufferBindingSize: number;
    /** Largest buffer, in bytes. */
    readonly maxBufferSize: number;
  };
  /** `GPUDevice.queue`. */
  readonly queue: {
    /** `GPUQueue.writeBuffer`: copies data into a buffer. */
    writeBuffer(buffer: WebGpuBufferLike, offset: number, data: ArrayBufferView): void;
    /** `GPUQueue.submit`: queues command buffers. */
    submit(commands: unknown[]): void;
    /** `GPUQueue.onSubmittedWorkDone`: resolves when the submitted work has finished. */
    onSubmittedWorkDone(): Promise<void>;
  };
  /** `GPUDevice.lost`: resolves when the device is lost. */
  readonly lost: Promise<{
    /** `'destroyed'` or `'unknown'`. */
    readonly reason: string;
    /** Why, in words. */
    readonly message: string;
  }>;
  /** `GPUDevice.createBuffer`. */
  createBuffer(d: { size: number; usage: number; label?: string }): WebGpuBufferLike;
  /** `GPUDevice.createShaderModule`. */
  createShaderModule(d: { code: string; label?: string }): WebGpuShaderModuleLike;
  /** `GPUDevice.createComputePipeline`. */
  createComputePipeline(d: {
    layout: 'auto';
    compute: { module: WebGpuShaderModuleLike; entryPoint: string };
  }): WebGpuPipelineLike;
  /** `GPUDevice.createComputePipelineAsync`. */
  createComputePipelineAsync(d: {
    layout: 'auto';
    compute: { module: WebGpuShaderModuleLike; entryPoint: string };
  }): Promise<WebGpuPipelineLike>;
  /** `GPUDevice.createBindGroup`. */
  createBindGroup(d: {
    layout: unknown;
    entries: Array<{ binding: number; resource: { buffer: WebGpuBufferLike } }>;
  }): unknown;
  /** `GPUDevice.createCommandEncoder`. */
  createCommandEncoder(): WebGpuEncoderLike;
  /** `GPUDevice.pushErrorScope`. */
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  /** `GPUDevice.popErrorScope`: the first error captured in the scope, or null. */
  popErrorScope(): Promise<{
    /** The error's message. */
    readonly message: string;
  } | null>;
  /** `GPUDevice.destroy`. */
  destroy(): void;
}

interface AdapterLike {
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(d?: { requiredLimits?: Record<string, number> }): Promise<WebGpuDeviceLike>;
}

interface NavigatorGpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** WebGPU's buffer usage flags (from the specification). */
/**
 * `data` as WebGPU may read it: itself, or a copy when it lies in a SharedArrayBuffer (the WebAssembly arena
 * of tensor storage) — `queue.writeBuffer` from a shared buffer crashes the `webgpu` Node package (a native
 * segfault) and is refused by some browsers, so shared views are never handed to it.
 */
export function writableSource<T extends ArrayBufferView>(data: T): T {
  const shared = typeof SharedArrayBuffer === 'function' && data.buffer instanceof SharedArrayBuffer;
  if (!shared) return data;
  const copy = new Uint8Array(data.byteLength);
  copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const Ctor = data.constructor as new (b: ArrayBuffer) => T;
  return new Ctor(copy.buffer);
}

export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** WebGPU's map mode for reading. */
export const MAP_MODE_READ = 0x0001;

/** The line printed (and the reason given) when no WebGPU adapter exists in Node. */
export const HOW_TO_ENABLE_WEBGPU =
  'in Node on a machine without a GPU, install Mesa lavapipe >= 24 (on Debian 12: run .ci/install-webgpu.sh as root)';

/** The advice given with a missing adapter, for where the code runs. */
function howToEnable(): string {
  return isNode()
    ? HOW_TO_ENABLE_WEBGPU
    : 'in a browser, WebGPU needs a GPU adapter: check that hardware acceleration is on (headless browsers started with --disable-gpu have none)';
}

// The object returned by the `webgpu` package's create() must outlive every device made from it, or the
// process crashes; it is kept here for the life of the process.
let nodeGpu: NavigatorGpuLike | null = null;
let nodeGpuFailure: string | null = null;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function navigatorGpu(): Promise<{ gpu: NavigatorGpuLike | null; reason: string }> {
  const nav = (globalThis as { navigator?: { gpu?: NavigatorGpuLike } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, reason: '' };
  if (!isNode()) return { gpu: null, reason: 'navigator.gpu is not available in this environment' };
  if (nodeGpu !== null) return { gpu: nodeGpu, reason: '' };
  if (nodeGpuFailure !== null) return { gpu: null, reason: nodeGpuFailure };
  try {
    // A variable specifier keeps bundlers from pulling the native package into browser builds.
    const specifier = 'webgpu';
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      create(options: string[]): NavigatorGpuLike;
    };
    nodeGpu = mod.create([]);
    return { gpu: nodeGpu, reason: '' };
  } catch (e) {
    nodeGpuFailure = `the optional dependency 'webgpu' could not be loaded (${(e as Error).message})`;
    return { gpu: null, reason: nodeGpuFailure };
  }
}

/** Whether WebGPU can be used here, and if not, why. */
export interface WebGpuAvailability {
  /** True when an adapter was found. */
  readonly available: boolean;
  /** Why not (empty when available). */
  readonly reason: string;
}

let availability: Promise<WebGpuAvailability> | null = null;

/**
 * Probes (once per process) whether a WebGPU adapter exists: `navigator.gpu` in browsers, the `webgpu` npm
 * package in Node.
 */
export function webgpuAvailability(): Promise<WebGpuAvailability> {
  availability ??= (async () => {
    const { gpu, reason } = await navigatorGpu();
    if (gpu === null) return { available: false, reason };
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (adapter === null) {
      return { available: false, reason: `no WebGPU adapter was found; ${howToEnable()}` };
    }
    return { available: true, reason: '' };
  })();
  return availability;
}

/**
 * Requests a WebGPU device with the adapter's own limits for storage buffers (the defaults allow only 8 per
 * shader stage).
 *
 * @throws StateError when there is no adapter, with the reason and how to enable one
 */
export async function requestWebGpuDevice(op: string): Promise<WebGpuDeviceLike> {
  const { gpu, reason } = await navigatorGpu();
  if (gpu === null) throw new StateError(op, `WebGPU is not available: ${reason}`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null)
    throw new StateError(op, `WebGPU is not available: no adapter was found; ${howToEnable()}`);
  const wanted = ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize'];
  const requiredLimits: Record<string, number> = {};
  for (const k of wanted) {
    const v = adapter.limits[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  return adapter.requestDevice({ requiredLimits });
}

/**
 * Compiles WGSL into a compute pipeline and waits for the verdict, turning shader errors into a
 * {@link CompileError} (these indicate a bug in the generator; the message carries the WGSL line).
 */
export async function createPipelineAsync(
  device: WebGpuDeviceLike,
  code: string,
  op: string,
): Promise<WebGpuPipelineLike> {
  // The scope is pushed and popped with no await in between: error scopes are a per-device stack, and
  // another call's synchronous scope could otherwise be popped in place of this one.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const moduleScope = device.popErrorScope();
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  let pipeline: WebGpuPipelineLike | null = null;
  let failure: string | null = null;
  if (errors.length === 0) {
    try {
      pipeline = await device.createComputePipelineAsync({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
    } catch (e) {
      failure = (e as Error).message;
    }
  }
  const scope = await moduleScope;
  if (errors.length > 0 || failure !== null || scope !== null || pipeline === null) {
    const detail = errors.length
      ? errors.map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('; ')
      : (failure ?? scope?.message ?? 'unknown error');
    throw new CompileError(op, `the generated WGSL was rejected by the WebGPU implementation (${detail})`);
  }
  return pipeline;
}

/**
 * Compiles WGSL into a compute pipeline synchronously (for pipeline-mode kernel calls, which return their
 * handle at once). The returned promise settles with the validation verdict.
 */
export function createPipelineSync(
  device: WebGpuDeviceLike,
  code: string,
  op: string,
): { pipeline: WebGpuPipelineLike; verdict: Promise<void> } {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const scope = device.popErrorScope();
  const verdict = scope.then((err) => {
    if (err !== null) {
      throw new CompileError(
        op,
        `the generated WGSL was rejected by the WebGPU implementation (${err.message})`,
      );
    }
  });
  // The verdict is awaited before any result is read; this keeps an early rejection from going unhandled.
  verdict.catch(() => undefined);
  return { pipeline, verdict };
}

/**
 * The largest buffer the device can bind as storage: the smaller of `maxStorageBufferBindingSize` and
 * `maxBufferSize`.
 */
export function maxStorageBytes(device: WebGpuDeviceLike): number {
  const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = device.limits;
  return Math.min(
    typeof binding === 'number' ? binding : Number.POSITIVE_INFINITY,
    typeof buffer === 'number' ? buffer : Number.POSITIVE_INFINITY,
  );
}

/**
 * Checks that a storage buffer of `bytes` bytes fits the device's limits, before anything is allocated: a
 * buffer over the limit would otherwise fail validation and leave the result all zeros.
 *
 * @param what - names the argument or output, e.g. "argument 'a'" or 'the output'
 * @throws ShapeError naming `what`, its size and the limit
 */
export function checkStorageSize(device: WebGpuDeviceLike, op: string, what: string, bytes: number): void {
  const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = device.limits;
  const limit = maxStorageBytes(device);
  if (bytes <= limit) return;
  const name = limit === binding ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  throw new ShapeError(
    op,
    `${what} needs ${bytes} bytes (${Math.ceil(bytes / 4)} float32 values), more than this WebGPU device allows in one buffer (${name} = ${limit} bytes${buffer !== binding ? `; maxBufferSize = ${buffer}, maxStorageBufferBindingSize = ${binding}` : ''}); split the work into smaller calls or use the cpu backend`,
  );
}

/**
 * Workgroup counts (x, y) covering `groups` workgroups within the per-dimension limit.
 *
 * @throws ShapeError when even a 2-D dispatch cannot cover them
 */
export function dispatchSize(groups: number, limit: number, op: string): [number, number] {
  if (groups <= limit) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / limit);
  if (y > limit) {
    throw new ShapeError(
      op,
      `${groups} workgroups are needed but this WebGPU device allows at most ${limit} x ${limit} (maxComputeWorkgroupsPerDimension = ${limit})`,
    );
  }
  return [Math.ceil(groups / y), y];
}

/** The entries of a bind group. */
export type BindEntries = Array<{ binding: number; resource: { buffer: WebGpuBufferLike; size?: number } }>;

/**
 * Runs `fn` (synchronously) inside a validation and an out-of-memory error scope. The returned verdict
 * rejects with a StateError when the device reported an error for anything `fn` did (a buffer over a limit,
 * an invalid bind group, memory exhausted), so a failed submission rejects instead of reading zeros. The
 * scopes are pushed and popped with no await in between, so concurrent calls cannot pop each other's scopes.
 * When `fn` throws, the scopes are still popped and the error is rethrown.
 */
export function withErrorScopes<T>(
  device: WebGpuDeviceLike,
  op: string,
  fn: () => T,
): { value: T; verdict: Promise<void> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T;
  let verdict: Promise<void>;
  try {
    value = fn();
  } finally {
    const validation = device.popErrorScope();
    const memory = device.popErrorScope();
    verdict = Promise.all([validation, memory]).then(([v, m]) => {
      if (v !== null) {
        throw new StateError(op, `the WebGPU device reported a validation error: ${v.message}`);
      }
      if (m !== null) {
        throw new StateError(op, `the WebGPU device ran out of memory: ${m.message}`);
      }
    });
    // Awaited by the caller; this keeps a rejection from going unhandled when fn threw.
    verdict.catch(() => undefined);
  }
  return { value, verdict };
}

/**
 * Encodes one compute pass that runs `pipeline` with the bind group `entries` over `n` threads
 * (`WORKGROUP_SIZE` per workgroup, the workgroups spread over x and y within the device's limit) into
 * `encoder`.
 *
 * @throws ShapeError when `n` threads need more workgroups than the device can dispatch
 */
export function encodeDispatch(
  device: WebGpuDeviceLike,
  encoder: WebGpuEncoderLike,
  pipeline: WebGpuPipelineLike,
  entries: BindEntries,
  n: number,
  op: string,
): void {
  const [wx, wy] = dispatchSize(
    Math.ceil(n / WORKGROUP_SIZE),
    device.limits.maxComputeWorkgroupsPerDimension,
    op,
  );
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(wx, wy);
  pass.end();
}

/**
 * Copies `byteLengths[i]` bytes of each of `buffers` into fresh Float32Arrays through mappable staging buffers.
 * The copies are appended to `encoder` (or a new one), which is submitted before this returns its promise, so
 * buffers the caller used in the encoder may be reused at once. Submission runs inside error scopes: a
 * validation or out-of-memory error rejects (a StateError), as does a failed mapping (e.g. the device was
 * destroyed meanwhile).
 */
export function readBuffers(
  device: WebGpuDeviceLike,
  buffers: readonly WebGpuBufferLike[],
  byteLengths: readonly number[],
  encoder?: WebGpuEncoderLike,
  op = 'read',
): Promise<Float32Array[]> {
  const { value: staging, verdict } = withErrorScopes(device, op, () => {
    const enc = encoder ?? device.createCommandEncoder();
    const made: WebGpuBufferLike[] = [];
    try {
      buffers.forEach((b, i) => {
        const size = Math.max(4, byteLengths[i]!);
        const s = device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
        made.push(s);
        enc.copyBufferToBuffer(b, 0, s, 0, size);
      });
      device.queue.submit([enc.finish()]);
    } catch (e) {
      for (const s of made) s.destroy();
      throw e;
    }
    return made;
  });
  const mapped = Promise.all(
    staging.map(async (s, i) => {
      try {
        await s.mapAsync(MAP_MODE_READ);
      } catch (e) {
        throw new StateError(
          op,
          `reading the result back from the WebGPU device failed: ${(e as Error).message}`,
        );
      }
      const out = new Float32Array(byteLengths[i]! / 4);
      out.set(new Float32Array(s.getMappedRange(), 0, out.length));
      s.unmap();
      return out;
    }),
  );
  // Destroying a buffer whose mapping is pending rejects that mapping, which Promise.all has handled.
  return Promise.all([verdict, mapped])
    .then(([, out]) => out)
    .finally(() => {
      for (const s of staging) s.destroy();
    });
}
