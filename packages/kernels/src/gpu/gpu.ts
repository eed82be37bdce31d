import type { InputKind } from '../codegen/js.js';
import { ArgumentError, StateError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { checkOptionKeys, describeValue, ownValue } from '../util/own.js';
import type { KernelArgument } from './args.js';
import { type ElementwiseRunner, elementwiseRunner } from './elementwise.js';
import type { KFunction } from './ir.js';
import {
  type HelperFunction,
  KERNEL_IMPL,
  type Kernel,
  type KernelConstants,
  type KernelFunction,
  KernelImpl,
  type KernelJSON,
  type KernelMethods,
  type KernelSettings,
  kernelObject,
  type NativeFunction,
  type PipelineKernel,
  parseHelper,
} from './kernel.js';
import { checkNativeList, parseNativeFunction } from './native.js';
import { type Backend, type GPUMode, type KernelOutput, KernelResult, type ModeResult } from './result.js';
import { checkSettingKeys, GPU_SETTINGS, IGNORED_GPUJS_GPU_SETTINGS, ownSetting } from './settings.js';
import {
  requestWebGpuDevice,
  type WebGpuAvailability,
  type WebGpuDeviceLike,
  webgpuAvailability,
} from './webgpu.js';

/** The settings of {@link GPU}. */
export interface GPUSettings<M extends GPUMode = GPUMode> {
  /** `cpu`, `webgpu`, or `auto` (default): webgpu when an adapter exists, else cpu. */
  readonly mode?: M;
  /** Run on this WebGPU device instead of requesting one; `destroy()` then leaves the device alive. */
  readonly device?: WebGpuDeviceLike;
  /** Accepted for GPU.js compatibility and ignored (gradkit does not render to a canvas). */
  readonly canvas?: unknown;
  /** Accepted for GPU.js compatibility and ignored (gradkit does not use a WebGL context). */
  readonly context?: unknown;
  /** Helper functions every kernel of this GPU can call (as `addFunction` adds them). */
  readonly functions?: readonly HelperFunction[];
  /** Native (GLSL-style) helper functions, `{ name, source }` (as `addNativeFunction` adds them). */
  readonly nativeFunctions?: readonly NativeFunction[];
}

/** What `createKernelMap` returns per call: the kernel's result and each subkernel's, by key. */
export type KernelMapOutput<T> = {
  /** The kernel's own result. */
  readonly result: T;
} & Readonly<Record<string, T>>;

/** A kernel made by `createKernelMap`: like a kernel, but each call gives `{ result, [key]: ... }`. */
export type KernelMap<M extends GPUMode = GPUMode> = ((
  ...args: KernelArgument[]
) => ModeResult<M, KernelMapOutput<KernelOutput>>) &
  KernelMethods<M, KernelMapOutput<KernelOutput>>;

/** Any kernel a {@link GPU} makes: a plain {@link Kernel} or a pipeline one ({@link PipelineKernel}). */
export type AnyKernel<M extends GPUMode> = Kernel<M> | PipelineKernel<M>;

/**
 * The entry point, shaped like GPU.js's `GPU`: makes kernels, holds helper functions and the WebGPU device.
 *
 * - `cpu` mode: kernels compile to JavaScript loops over typed arrays; a call returns its arrays directly.
 * - `webgpu` mode: kernels compile to WGSL compute shaders; a call returns a Promise (reading a GPU buffer
 *   back is asynchronous). In Node the device comes from the optional `webgpu` package.
 * - `auto`: webgpu when an adapter exists, else cpu; calls return Promises either way.
 *
 * `kernel.run(...)` returns a Promise in every mode. Pipeline kernels (`pipeline: true`) return a
 * {@link KernelResult} at once in every mode, once the backend is chosen (`await gpu.ready()`).
 * Call `destroy()` to release every device buffer and the device.
 */
export class GPU<M extends GPUMode = 'auto'> {
  /** The requested mode. */
  readonly mode: M;
  private chosen: Backend | undefined;
  private readyPromise: Promise<Backend> | null = null;
  private dev: WebGpuDeviceLike | null = null;
  private readonly ownsDevice: boolean;
  private readonly givenDevice: WebGpuDeviceLike | undefined;
  private readonly results = new Set<KernelResult<GPUMode>>();
  private readonly kernels = new Set<KernelImpl>();
  private readonly fns = new Map<string, KFunction>();
  private version = 0;
  private isDestroyed = false;
  private lostMessage: string | null = null;
  private readonly host;

  /**
   * @throws ArgumentError for an unknown mode
   */
  constructor(settings: GPUSettings<M> = {}) {
    checkSettingKeys('GPU', settings, GPU_SETTINGS, IGNORED_GPUJS_GPU_SETTINGS, 'the GPU settings');
    const mode = (ownSetting('GPU', settings, 'mode') ?? 'auto') as M;
    const device = ownSetting('GPU', settings, 'device') as WebGpuDeviceLike | undefined;
    if (mode !== 'cpu' && mode !== 'webgpu' && mode !== 'auto') {
      throw new ArgumentError('GPU', `'mode' must be 'cpu', 'webgpu' or 'auto', got ${describeValue(mode)}`);
    }
    if (device !== undefined && mode === 'cpu') {
      throw new ArgumentError('GPU', "a 'device' was given but mode is 'cpu'");
    }
    this.mode = mode;
    const functions = ownSetting('GPU', settings, 'functions') ?? [];
    if (!Array.isArray(functions)) {
      throw new ArgumentError(
        'GPU',
        `'functions' must be an array of functions, got ${describeValue(functions)}`,
      );
    }
    for (const fn of functions as unknown[]) {
      const h = parseHelper(fn as HelperFunction, 'GPU');
      this.fns.set(h.name, h);
    }
    for (const n of checkNativeList(ownSetting('GPU', settings, 'nativeFunctions'), 'GPU')) {
      const h = parseNativeFunction(n.name, n.source, 'GPU');
      this.fns.set(h.name, h);
    }
    this.givenDevice = device;
    this.ownsDevice = device === undefined;
    if (mode === 'cpu') {
      this.chosen = 'cpu';
      this.readyPromise = Promise.resolve('cpu');
    }
    // The view kernels and results get of this GPU.
    const self = this;
    this.host = {
      get mode() {
        return self.mode;
      },
      get backend() {
        return self.chosen;
      },
      get device() {
        return self.dev;
      },
      get destroyed() {
        return self.isDestroyed;
      },
      get helpers() {
        return self.fns;
      },
      get helperVersion() {
        return self.version;
      },
      ready: () => self.ready(),
      track: (r: KernelResult<GPUMode>) => self.results.add(r),
      untrack: (k: KernelImpl) => self.kernels.delete(k),
      forget: (r: KernelResult<GPUMode>) => self.results.delete(r),
      assertUsable: (op: string) => self.assertUsable(op),
    };
  }

  /** Makes a GPU and waits until its backend is chosen (and its device acquired). */
  static async create<M extends GPUMode = 'auto'>(settings: GPUSettings<M> = {}): Promise<GPU<M>> {
    const gpu = new GPU<M>(settings);
    await gpu.ready();
    return gpu;
  }

  /** Whether a WebGPU adapter exists here, and if not, why (probed once per process). */
  static webgpuAvailability(): Promise<WebGpuAvailability> {
    return webgpuAvailability();
  }

  /** The backend in use, once chosen (`cpu` mode: at once; otherwise after `ready()` resolves). */
  get backend(): Backend | undefined {
    return this.chosen;
  }

  /** True after `destroy()`. */
  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** The WebGPU device, when the backend is webgpu. */
  get device(): WebGpuDeviceLike | null {
    return this.dev;
  }

  /**
   * Chooses the backend (acquiring the WebGPU device when needed) and resolves with it.
   *
   * @throws StateError (as a rejection) in `webgpu` mode when no adapter exists, saying how to get one
   */
  ready(): Promise<Backend> {
    this.readyPromise ??= this.choose();
    return this.readyPromise;
  }

  private async choose(): Promise<Backend> {
    let device: WebGpuDeviceLike | null = null;
    if (this.givenDevice !== undefined) device = this.givenDevice;
    else if (this.mode === 'webgpu') device = await requestWebGpuDevice('GPU');
    else {
      const a = await webgpuAvailability();
      if (a.available) device = await requestWebGpuDevice('GPU').catch(() => null);
    }
    if (device === null) {
      this.chosen = 'cpu';
      return 'cpu';
    }
    if (this.isDestroyed) {
      if (this.ownsDevice) device.destroy();
      throw new StateError('GPU', 'the GPU was destroyed while its device was being acquired');
    }
    this.dev = device;
    this.chosen = 'webgpu';
    device.lost.then((info) => {
      if (!this.isDestroyed) this.lostMessage = info.message || info.reason;
    });
    return 'webgpu';
  }

  private assertUsable(op: string): void {
    if (this.isDestroyed) throw new StateError(op, 'the GPU was destroyed');
    if (this.lostMessage !== null)
      throw new StateError(op, `the WebGPU device was lost: ${this.lostMessage}`);
  }

  /**
   * Makes a kernel from a GPU.js-style function. The function is parsed (with acorn) now, so anything outside
   * the kernel language is reported here as a CompileError with its line and column; code is generated per
   * backend and argument types at the first call.
   *
   * @throws CompileError for constructs outside the kernel language
   * @throws ArgumentError / ShapeError for bad settings
   */
  createKernel<C extends KernelConstants = KernelConstants>(
    fn: KernelFunction<C>,
    settings: KernelSettings<C> & { readonly pipeline: true },
  ): PipelineKernel<M>;
  createKernel<C extends KernelConstants = KernelConstants>(
    fn: KernelFunction<C>,
    settings: KernelSettings<C> & { readonly pipeline?: false },
  ): Kernel<M>;
  createKernel<C extends KernelConstants = KernelConstants>(
    fn: KernelFunction<C>,
    settings: KernelSettings<C>,
  ): Kernel<M> | PipelineKernel<M>;
  createKernel<C extends KernelConstants = KernelConstants>(
    fn: KernelFunction<C>,
    settings?: KernelSettings<C>,
  ): Kernel<M> | PipelineKernel<M>;
  createKernel(json: KernelJSON, settings?: KernelSettings): Kernel<M> | PipelineKernel<M>;
  createKernel<C extends KernelConstants = KernelConstants>(
    fn: KernelFunction<C> | KernelJSON,
    settings: KernelSettings<C> = {},
  ): Kernel<M> | PipelineKernel<M> {
    this.assertUsable('createKernel');
    const [source, all] = fromJSON(fn, settings as KernelSettings);
    const impl = new KernelImpl(this.host, source, all);
    this.kernels.add(impl);
    return kernelObject<M>(impl);
  }

  /**
   * GPU.js's `createKernelMap`: a kernel whose subkernels' results are kept too. `subKernels` is an object
   * (`{ key: fn }`, results under those keys) or an array (results under `0`, `1`, ...); each is a helper the
   * kernel calls by its function name (or its {@link alias}). Each call returns `{ result, [key]: ... }`,
   * where a subkernel's output holds, per thread, the value of its last call (0 where it was not called).
   * Subkernels return one number.
   *
   * @throws ArgumentError for a subkernel that is not a function, or two with one name
   */
  createKernelMap<C extends KernelConstants = KernelConstants>(
    subKernels: Readonly<Record<string, HelperFunction>> | readonly HelperFunction[],
    fn: KernelFunction<C>,
    settings: KernelSettings<C> = {},
  ): KernelMap<M> {
    this.assertUsable('createKernelMap');
    if (subKernels === null || typeof subKernels !== 'object') {
      throw new ArgumentError(
        'createKernelMap',
        `subKernels must be an object or an array of functions, got ${describeValue(subKernels)}`,
      );
    }
    const keys = Array.isArray(subKernels) ? subKernels.map((_, i) => String(i)) : Object.keys(subKernels);
    const mapped = keys.map((key) => {
      const h = parseHelper(ownValue(subKernels, key) as HelperFunction, 'createKernelMap');
      return { key, fn: h };
    });
    const names = new Set<string>();
    for (const m of mapped) {
      if (names.has(m.fn.name)) {
        throw new ArgumentError(
          'createKernelMap',
          `two subkernels are named '${m.fn.name}'; give one an alias`,
        );
      }
      names.add(m.fn.name);
    }
    const impl = new KernelImpl(
      this.host,
      fn as KernelFunction,
      settings as KernelSettings,
      'createKernelMap',
    );
    impl.mappedHelpers = mapped;
    this.kernels.add(impl);
    return kernelObject<M>(impl) as unknown as KernelMap<M>;
  }

  /**
   * Adds a native (GLSL-style) helper function for every kernel of this GPU. The simple scalar subset of GLSL
   * (float/int/bool parameters and locals, `float()`/`int()` conversions, scalar built-ins such as `abs`,
   * `pow`, `mod`, `clamp`, `mix`) is translated into the kernel language and runs on both backends; anything
   * else is a CompileError.
   *
   * @throws CompileError for GLSL outside that subset
   */
  addNativeFunction(name: string, source: string, settings: object = {}): this {
    checkOptionKeys('addNativeFunction', 'settings', settings, ['returnType', 'argumentTypes']);
    const h = parseNativeFunction(name, source, 'addNativeFunction');
    this.fns.set(h.name, h);
    this.version++;
    return this;
  }

  /** Replaces the helper functions of this GPU (GPU.js's `setFunctions`). */
  setFunctions(functions: readonly HelperFunction[]): this {
    if (!Array.isArray(functions)) {
      throw new ArgumentError(
        'setFunctions',
        `expected an array of functions, got ${describeValue(functions)}`,
      );
    }
    const parsed = functions.map((f) => parseHelper(f as HelperFunction, 'setFunctions'));
    this.fns.clear();
    for (const h of parsed) this.fns.set(h.name, h);
    this.version++;
    return this;
  }

  /** Adds native functions (GPU.js's `setNativeFunctions`): an array of `{ name, source }`. */
  setNativeFunctions(functions: readonly NativeFunction[]): this {
    for (const n of checkNativeList(functions, 'setNativeFunctions'))
      this.addNativeFunction(n.name, n.source);
    return this;
  }

  /**
   * Adds a helper function that every kernel of this GPU can call (by its name). Helpers follow the kernel
   * language; they may read this.thread, this.output and this.constants, and may not recurse.
   *
   * @param options.name - the name kernels call it by (default: the function's own name)
   */
  addFunction(
    fn: HelperFunction,
    options: { readonly name?: string; readonly argumentTypes?: unknown; readonly returnType?: unknown } = {},
  ): this {
    checkOptionKeys('addFunction', 'options', options, ['name', 'argumentTypes', 'returnType']);
    const h = parseHelper(fn, 'addFunction', ownValue(options, 'name'));
    this.fns.set(h.name, h);
    this.version++;
    return this;
  }

  /**
   * Chains kernels like GPU.js's `combineKernels`: the last argument is a function that calls the kernels;
   * while it runs, every kernel returns {@link KernelResult}s, so intermediate results stay on the device.
   * The combined function returns the final result as arrays (directly in `cpu` mode, else a Promise) and
   * frees the intermediates. Create the kernels with `pipeline: true` for TypeScript to accept results as
   * arguments.
   *
   * @throws ArgumentError when a kernel belongs to another GPU or the last argument is not a function
   */
  combineKernels<A extends KernelArgument[]>(
    ...parts: [...AnyKernel<M>[], (...args: A) => KernelResult<M> | KernelArgument]
  ): (...args: A) => ModeResult<M, KernelOutput> {
    const combiner = parts[parts.length - 1];
    if (typeof combiner !== 'function' || KERNEL_IMPL in combiner) {
      throw new ArgumentError(
        'combineKernels',
        'the last argument must be the function that calls the kernels',
      );
    }
    const impls = parts.slice(0, -1).map((k, i) => {
      const impl = (k as unknown as Record<symbol, unknown>)[KERNEL_IMPL];
      if (!(impl instanceof KernelImpl) || impl.host !== this.host) {
        throw new ArgumentError('combineKernels', `argument ${i} is not a kernel of this GPU`);
      }
      return impl;
    });
    const call = combiner as (...args: A) => unknown;
    const runCombined = (args: A): KernelResult<GPUMode> | KernelOutput => {
      const made: KernelResult<GPUMode>[] = [];
      for (const impl of impls) {
        impl.forcePipeline++;
        impl.collected = made;
      }
      let out: unknown;
      try {
        out = call(...args);
      } finally {
        for (const impl of impls) {
          impl.forcePipeline--;
          if (impl.forcePipeline === 0) impl.collected = null;
        }
      }
      for (const r of made) if (r !== out) r.delete();
      if (out instanceof KernelResult) return out;
      return out as KernelOutput;
    };
    const combined = (...args: A): unknown => {
      this.assertUsable('combineKernels');
      if (this.mode === 'cpu') {
        const out = runCombined(args);
        if (!(out instanceof KernelResult)) return out;
        const arrays = out.toArray();
        out.delete(); // on cpu this only drops the handle; the arrays stay valid
        return arrays;
      }
      return (async () => {
        await this.ready();
        const out = runCombined(args);
        if (!(out instanceof KernelResult)) return out;
        try {
          return await out.read();
        } finally {
          out.delete();
        }
      })();
    };
    return combined as (...args: A) => ModeResult<M, KernelOutput>;
  }

  /**
   * A runner for a fused elementwise expression (several outputs, like `compileElementwise`) on this GPU's
   * backend: generated JavaScript on cpu, a WGSL compute shader on webgpu (float32; results agree with the
   * cpu backend within float32 rounding).
   *
   * @param variables - the variable names, in the order of the runner's inputs
   * @param kinds - for each variable, whether it is read per element ('array') or is one number ('scalar')
   */
  createElementwise(
    outputs: readonly Expr[],
    variables: readonly string[],
    kinds: readonly InputKind[],
  ): ElementwiseRunner<M> {
    this.assertUsable('createElementwise');
    return elementwiseRunner<M>(this.host, outputs, variables, kinds);
  }

  /**
   * Releases everything: every live {@link KernelResult}'s device buffer, every kernel's buffers, and the
   * device (unless it was passed in). Kernels and results of this GPU cannot be used afterwards. Idempotent.
   */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    for (const r of [...this.results]) r.delete();
    this.results.clear();
    for (const k of [...this.kernels]) k.destroy();
    this.kernels.clear();
    if (this.dev !== null && this.ownsDevice) this.dev.destroy();
    this.dev = null;
  }
}

/** `createKernel(json)`: the source and settings of a {@link KernelJSON} (other values pass through). */
function fromJSON(fn: unknown, settings: KernelSettings): [KernelFunction, KernelSettings] {
  if (fn === null || typeof fn !== 'object') return [fn as KernelFunction, settings];
  const source = ownValue(fn, 'source');
  const s = ownValue(fn, 'settings');
  if (typeof source !== 'string' || s === null || typeof s !== 'object') {
    throw new ArgumentError(
      'createKernel',
      `the kernel must be a function, its source text or a kernel's toJSON(), got ${describeValue(fn)}`,
    );
  }
  const pick = (k: string): unknown => ownValue(s, k);
  const types = pick('argumentTypes');
  const out: Record<string, unknown> = {
    output: pick('output') ?? undefined,
    constants: pick('constants'),
    pipeline: pick('pipeline'),
    precision: pick('precision'),
    loopMaxIterations: pick('loopMaxIterations'),
    argumentTypes: Array.isArray(types) ? types.map((t: unknown) => (t === null ? undefined : t)) : types,
    returnType: pick('returnType'),
    functions: ownValue(fn, 'functions'),
    nativeFunctions: ownValue(fn, 'nativeFunctions'),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === null) delete out[k];
  return [source, { ...(out as KernelSettings), ...settings }];
}
