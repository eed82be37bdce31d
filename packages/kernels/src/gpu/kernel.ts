import type { NumericArray } from '../codegen/js.js';
import { ArgumentError, DtypeError, StateError } from '../errors.js';
import { describeValue, ownValue } from '../util/own.js';
import { type ArgValue, type KernelArgument, normalizeArgument, paramTypes, signatureKey } from './args.js';
import { emitJs, type JsArgument, type JsKernelRun } from './emit-js.js';
import { emitWgsl, unboundedLoopError, type WgslLayout } from './emit-wgsl.js';
import type { KFunction } from './ir.js';
import { findLoop, loopBoundProblem } from './loops.js';
import { guardStack, parseKernelSource } from './parse.js';
import { BufferPool } from './pool.js';
import {
  type Backend,
  type GPUMode,
  type KernelOutput,
  KernelResult,
  type ModeResult,
  type ResultOwner,
  shapeOutput,
} from './result.js';
import {
  checkConstants,
  checkLoopMax,
  checkOutput,
  checkSettingKeys,
  IGNORED_GPUJS_KERNEL_SETTINGS,
  KERNEL_SETTINGS,
  ownSetting,
} from './settings.js';
import { typeProgram } from './types.js';
import {
  type BindEntries,
  BufferUsage,
  checkStorageSize,
  createPipelineAsync,
  createPipelineSync,
  encodeDispatch,
  readBuffers,
  type WebGpuBufferLike,
  type WebGpuDeviceLike,
  type WebGpuEncoderLike,
  type WebGpuPipelineLike,
  withErrorScopes,
} from './webgpu.js';

/** What `this` is inside a kernel function (for TypeScript: `function (this: KernelThis<C>, ...)`). */
export interface KernelThis<C extends KernelConstants = KernelConstants> {
  /** The index of the output element this thread computes. */
  readonly thread: {
    /** Index along x (the fastest dimension). */
    readonly x: number;
    /** Index along y (0 for a 1-D output). */
    readonly y: number;
    /** Index along z (0 for a 1-D or 2-D output). */
    readonly z: number;
  };
  /** The output size (1 along dimensions the output does not have). */
  readonly output: {
    /** Size along x. */
    readonly x: number;
    /** Size along y (1 for a 1-D output). */
    readonly y: number;
    /** Size along z (1 for a 1-D or 2-D output). */
    readonly z: number;
  };
  /** The kernel's constants, inlined into the generated code. */
  readonly constants: Readonly<C>;
}

/** Named numeric constants of a kernel (`this.constants.NAME`). */
export type KernelConstants = Readonly<Record<string, number>>;

/**
 * A kernel function, as GPU.js writes them: `function (a, b) { ... return value; }` using `this.thread`,
 * `this.output` and `this.constants`. Also accepted as source text.
 */
export type KernelFunction<C extends KernelConstants = KernelConstants> =
  | ((this: KernelThis<C>, ...args: never[]) => number | boolean)
  | string;

/** A helper function callable from kernels (registered with `addFunction`). */
export type HelperFunction = ((this: KernelThis, ...args: never[]) => number | boolean) | string;

/** An output size: `[x]`, `[x, y]`, `[x, y, z]` or `{ x, y?, z? }` (GPU.js order: x is the fastest). */
export type OutputSize =
  | readonly [number]
  | readonly [number, number]
  | readonly [number, number, number]
  | {
      /** Size along x (the fastest dimension). */
      readonly x: number;
      /** Size along y (default 1). */
      readonly y?: number;
      /** Size along z (default 1). */
      readonly z?: number;
    };

/** The settings of `createKernel`. */
export interface KernelSettings<C extends KernelConstants = KernelConstants> {
  /** The output size; one thread runs per element. */
  readonly output: OutputSize;
  /** Numbers readable as `this.constants.NAME`; inlined into the code (changing them recompiles). */
  readonly constants?: C;
  /** Keep the result where it was computed and return a {@link KernelResult} (GPU.js's pipeline mode). */
  readonly pipeline?: boolean;
  /**
   * `single` (default): results are Float32Array; on cpu the arithmetic is float64 and rounded when stored,
   * on webgpu it is float32 throughout. `double`: Float64Array results, cpu backend only (WGSL has no f64).
   */
  readonly precision?: 'single' | 'double';
  /**
   * Stop loops whose trip count is not known when they start (`while`, `do`, irregular `for`) after this many
   * iterations, on every backend. The webgpu backend refuses such loops without it.
   */
  readonly loopMaxIterations?: number;
  /** Helper functions for this kernel only (in addition to those added to the GPU). */
  readonly functions?: readonly HelperFunction[];
  /** Accepted for GPU.js compatibility; results are always new (immutable). */
  readonly immutable?: boolean;
  /** Accepted for GPU.js compatibility; outputs can always be changed with setOutput without recompiling. */
  readonly dynamicOutput?: boolean;
  /** Accepted for GPU.js compatibility; argument sizes can always change without recompiling. */
  readonly dynamicArguments?: boolean;
  /**
   * GPU.js settings that only tune its WebGL code generation or warnings (`tactic`, `optimizeFloatMemory`,
   * `fixIntegerDivisionAccuracy`, `strictIntegers`, `useLegacyEncoder`, `warnVarUsage`, `debug`, `validate`,
   * `argumentTypes`): accepted and ignored. Any other key is an ArgumentError listing the valid ones.
   */
  readonly tactic?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly optimizeFloatMemory?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly fixIntegerDivisionAccuracy?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly strictIntegers?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly useLegacyEncoder?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly warnVarUsage?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly debug?: unknown;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly validate?: unknown;
  /** Accepted for GPU.js compatibility and ignored: argument types are inferred from the arguments. */
  readonly argumentTypes?: unknown;
}

/** The generated code of a kernel, for reading and debugging. */
export interface KernelSource {
  /** The JavaScript of the cpu backend (after the first cpu call). */
  readonly javascript?: string;
  /** The WGSL of the webgpu backend (after the first webgpu call). */
  readonly wgsl?: string;
}

/** The methods every kernel has; `R` is what a call returns once resolved. */
export interface KernelMethods<M extends GPUMode, R> {
  /** Runs the kernel and always returns a Promise, in every mode (portable code uses this). */
  run(...args: KernelArgument[]): Promise<R>;
  /** Changes the output size (no recompilation). */
  setOutput(output: OutputSize): this;
  /** Replaces the constants (recompiles on the next call). */
  setConstants(constants: KernelConstants): this;
  /** Sets the cap for loops without a static bound (recompiles on the next call). */
  setLoopMaxIterations(n: number): this;
  /** Adds a helper function for this kernel (recompiles on the next call). */
  addFunction(fn: HelperFunction): this;
  /** The generated code of the most recent compilation per backend. */
  getSource(): KernelSource;
  /**
   * Frees this kernel's device buffers and compiled code and removes it from its GPU. The kernel cannot be
   * called afterwards; calls still waiting to be submitted reject with a StateError. Idempotent.
   */
  destroy(): void;
  /** The output size. */
  readonly output: readonly number[];
  /** The constants. */
  readonly constants: KernelConstants;
  /** Whether calls return {@link KernelResult} handles. */
  readonly pipeline: boolean;
  /** The mode of the GPU that made the kernel. */
  readonly mode: M;
}

/** A kernel: call it like a function. In `cpu` mode the call returns the arrays, otherwise a Promise. */
export type Kernel<M extends GPUMode = GPUMode> = ((
  ...args: KernelArgument[]
) => ModeResult<M, KernelOutput>) &
  KernelMethods<M, KernelOutput>;

/** A kernel created with `pipeline: true`: each call returns a {@link KernelResult} at once, in every mode. */
export type PipelineKernel<M extends GPUMode = GPUMode> = ((...args: KernelArgument[]) => KernelResult<M>) &
  KernelMethods<M, KernelResult<M>>;

/** @internal What a kernel needs from its GPU. */
export interface KernelHost extends ResultOwner {
  readonly mode: GPUMode;
  readonly backend: Backend | undefined;
  readonly device: WebGpuDeviceLike | null;
  readonly helpers: ReadonlyMap<string, KFunction>;
  /** Bumped whenever the GPU's helper functions change. */
  readonly helperVersion: number;
  ready(): Promise<Backend>;
  track(r: KernelResult<GPUMode>): void;
  /** Drops a destroyed kernel from the GPU's registry. */
  untrack(k: KernelImpl): void;
  assertUsable(op: string): void;
}

/** The usage of a kernel's output buffers (bound as storage, read back, chained into other kernels). */
const OUT_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** @internal Marks kernel objects so combineKernels can find their implementation. */
export const KERNEL_IMPL: unique symbol = Symbol('gradkit.kernel');

interface GpuPlan {
  readonly code: string;
  readonly layout: WgslLayout;
  pipeline: WebGpuPipelineLike | null;
  pending: Promise<WebGpuPipelineLike> | null;
  verdict: Promise<void>;
}

/** Parses a helper function and names it. */
export function parseHelper(fn: HelperFunction, op: string, name?: unknown): KFunction {
  if (typeof fn !== 'function' && typeof fn !== 'string') {
    throw new ArgumentError(op, `a helper must be a function or its source text, got ${describeValue(fn)}`);
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new ArgumentError(op, `the helper's name must be a string, got ${describeValue(name)}`);
  }
  const source = typeof fn === 'string' ? fn : Function.prototype.toString.call(fn);
  const parsed = parseKernelSource(source, op);
  const own = typeof fn === 'function' ? ownValue(fn, 'name') : undefined;
  const resolved = name ?? (typeof own === 'string' && own !== '' ? own : parsed.name);
  if (!resolved || resolved === 'kernel' || !/^[A-Za-z_$][\w$]*$/.test(resolved)) {
    throw new ArgumentError(
      op,
      'a helper function needs a name: use `function name(...) {...}` or pass { name }',
    );
  }
  return { ...parsed, name: resolved };
}

/** @internal The state and behaviour behind a kernel function object. */
export class KernelImpl {
  readonly fn: KFunction;
  output: number[];
  constants: Readonly<Record<string, number>>;
  readonly pipeline: boolean;
  readonly precision: 'single' | 'double';
  loopMax: number | undefined;
  readonly localHelpers = new Map<string, KFunction>();
  /** > 0 while combineKernels runs: calls return results (pipeline mode). */
  forcePipeline = 0;
  collected: KernelResult<GPUMode>[] | null = null;
  private readonly cpuPlans = new Map<string, { source: string; run: JsKernelRun }>();
  private readonly gpuPlans = new Map<string, GpuPlan>();
  private helperVersion = -1;
  private destroyed = false;
  private lastJs: string | undefined;
  private lastWgsl: string | undefined;
  /** Parameter, input and output buffers reused across calls (each call owns its own while in flight). */
  private pool = new BufferPool();

  constructor(
    readonly host: KernelHost,
    fn: KernelFunction,
    settings: KernelSettings,
    private readonly op = 'createKernel',
  ) {
    if (settings === null || typeof settings !== 'object') {
      throw new ArgumentError(op, "the settings object with at least 'output' is required");
    }
    checkSettingKeys(op, settings, KERNEL_SETTINGS, IGNORED_GPUJS_KERNEL_SETTINGS, 'the settings');
    const setting = (key: string): unknown => ownSetting(op, settings, key);
    if (typeof fn !== 'function' && typeof fn !== 'string') {
      throw new ArgumentError(op, `the kernel must be a function or its source text, got ${typeof fn}`);
    }
    this.output = checkOutput(setting('output'), op);
    this.fn = parseKernelSource(typeof fn === 'string' ? fn : Function.prototype.toString.call(fn), op);
    this.constants = checkConstants(setting('constants'), op);
    this.pipeline = setting('pipeline') === true;
    const precision = setting('precision') ?? 'single';
    if (precision !== 'single' && precision !== 'double') {
      throw new ArgumentError(
        op,
        `'precision' must be 'single' or 'double', got ${describeValue(precision)}`,
      );
    }
    this.precision = precision;
    if (precision === 'double' && host.mode === 'webgpu') {
      throw new DtypeError(op, "precision 'double' needs the cpu backend: WGSL has no float64");
    }
    this.loopMax = checkLoopMax(setting('loopMaxIterations'), op);
    const functions = setting('functions') ?? [];
    if (!Array.isArray(functions)) {
      throw new ArgumentError(
        op,
        `'functions' must be an array of functions, got ${describeValue(functions)}`,
      );
    }
    for (const h of functions as unknown[]) this.addFunction(h as HelperFunction);
    if (host.mode === 'webgpu' && this.loopMax === undefined) {
      // Report what does not depend on argument types now rather than at the first call (the same error the
      // WGSL emitter gives, which also checks the counters' types).
      const found = findLoop(this.fn.body, (l) => loopBoundProblem(l.bound, this.constants));
      if (found) throw unboundedLoopError(found.loop, op, 'kernel', found.reason);
    }
  }

  addFunction(fn: HelperFunction): void {
    const h = parseHelper(fn, 'addFunction');
    this.localHelpers.set(h.name, h);
    this.invalidate();
  }

  invalidate(): void {
    this.cpuPlans.clear();
    this.gpuPlans.clear();
  }

  private helpers(): Map<string, KFunction> {
    const all = new Map(this.host.helpers);
    for (const [k, v] of this.localHelpers) all.set(k, v);
    return all;
  }

  private checkUsable(op: string): void {
    if (this.destroyed) throw new StateError(op, 'the kernel was destroyed');
    this.host.assertUsable(op);
  }

  /** With `snapshot`, arrays are copied: the call reads them after an await. */
  private normalize(args: readonly unknown[], op: string, snapshot = false): ArgValue[] {
    const params = this.fn.params;
    if (args.length !== params.length) {
      throw new ArgumentError(
        op,
        `the kernel takes ${params.length} argument(s) (${params.map((p) => p.name).join(', ')}), got ${args.length}`,
      );
    }
    return args.map((a, i) => normalizeArgument(a, this.host, op, params[i]!.name, snapshot));
  }

  getSource(): { javascript?: string; wgsl?: string } {
    const out: { javascript?: string; wgsl?: string } = {};
    if (this.lastJs !== undefined) out.javascript = this.lastJs;
    if (this.lastWgsl !== undefined) out.wgsl = this.lastWgsl;
    return out;
  }

  // ------------------------------------------------------------ calls

  /** The call as the kernel function object performs it. */
  call(args: readonly unknown[]): unknown {
    const op = 'kernel';
    this.checkUsable(op);
    const pipeline = this.pipeline || this.forcePipeline > 0;
    if (pipeline) {
      const backend = this.host.backend;
      if (backend === undefined) {
        throw new StateError(
          op,
          `the GPU's backend is not chosen yet (mode '${this.host.mode}'); await gpu.ready() (or use GPU.create) before calling a pipeline kernel`,
        );
      }
      const result = this.callPipeline(backend, this.normalize(args, op));
      this.collected?.push(result);
      return result;
    }
    if (this.host.mode === 'cpu') return this.cpuOutput(this.normalize(args, op));
    return this.callAsync(args);
  }

  async callAsync(args: readonly unknown[]): Promise<KernelOutput> {
    // The arguments are read now, before any await (changing an array after the call changes nothing).
    const values = this.normalize(args, 'kernel', true);
    const backend = await this.host.ready();
    this.checkUsable('kernel');
    if (backend === 'cpu') return this.cpuOutput(values);
    return this.gpuOutput(values);
  }

  /** `kernel.run(...)`: always a Promise. */
  async run(args: readonly unknown[]): Promise<unknown> {
    this.checkUsable('kernel.run');
    const pipeline = this.pipeline || this.forcePipeline > 0;
    // Read the arguments at call time (a pipeline call with a chosen backend dispatches at once).
    const values = this.normalize(args, 'kernel.run', !pipeline || this.host.backend === undefined);
    const backend = await this.host.ready();
    this.checkUsable('kernel.run');
    if (pipeline) return this.callPipeline(backend, values);
    return backend === 'cpu' ? this.cpuOutput(values) : this.gpuOutput(values);
  }

  private callPipeline(backend: Backend, values: ArgValue[]): KernelResult<GPUMode> {
    const syncRead = this.host.mode === 'cpu';
    let result: KernelResult<GPUMode>;
    if (backend === 'cpu') {
      result = new KernelResult(
        this.host,
        [...this.output],
        { kind: 'cpu', data: this.cpuFlat(values) },
        syncRead,
      );
    } else {
      const { buffer, ready } = this.gpuDispatch(values);
      result = new KernelResult(this.host, [...this.output], { kind: 'webgpu', buffer, ready }, false);
    }
    this.host.track(result);
    return result;
  }

  // ------------------------------------------------------------ cpu

  private cpuPlan(values: readonly ArgValue[]): JsKernelRun {
    this.refreshHelpers();
    const key = signatureKey(values);
    let plan = this.cpuPlans.get(key);
    if (plan === undefined) {
      plan = guardStack(this.op, () => {
        const program = typeProgram(this.fn, paramTypes(values), this.constants, this.helpers(), this.op);
        return emitJs(program, { loopMaxIterations: this.loopMax });
      });
      this.cpuPlans.set(key, plan);
    }
    this.lastJs = plan.source;
    return plan.run;
  }

  private cpuFlat(values: readonly ArgValue[]): NumericArray {
    const run = this.cpuPlan(values);
    const [X, Y = 1, Z = 1] = this.output;
    const n = X! * Y * Z;
    const out = this.precision === 'double' ? new Float64Array(n) : new Float32Array(n);
    const jsArgs: JsArgument[] = values.map((v) => {
      if (v.kind === 'number') return v.value;
      if (v.data === null) {
        throw new ArgumentError(
          'kernel',
          'a webgpu result cannot be passed to a cpu kernel; read it first (await result.read())',
        );
      }
      return { data: v.data, shape: v.shape };
    });
    run(jsArgs, out, X!, Y, Z);
    return out;
  }

  private cpuOutput(values: readonly ArgValue[]): KernelOutput {
    return shapeOutput(this.cpuFlat(values), this.output);
  }

  // ------------------------------------------------------------ webgpu

  private refreshHelpers(): void {
    const version = this.host.helperVersion;
    if (version !== this.helperVersion) {
      this.helperVersion = version;
      this.invalidate();
    }
  }

  private gpuPlan(values: readonly ArgValue[]): GpuPlan {
    this.refreshHelpers();
    if (this.precision === 'double') {
      throw new DtypeError('kernel', "precision 'double' needs the cpu backend: WGSL has no float64");
    }
    const key = signatureKey(values);
    let plan = this.gpuPlans.get(key);
    if (plan === undefined) {
      const { code, layout } = guardStack(this.op, () => {
        const program = typeProgram(this.fn, paramTypes(values), this.constants, this.helpers(), this.op);
        return emitWgsl(program, { loopMaxIterations: this.loopMax, op: this.op });
      });
      const device = this.device();
      const bindings = layout.binding.size + 1;
      if (bindings > device.limits.maxStorageBuffersPerShaderStage) {
        throw new ArgumentError(
          'kernel',
          `the kernel needs ${bindings} storage buffers but the device allows ${device.limits.maxStorageBuffersPerShaderStage}`,
        );
      }
      plan = { code, layout, pipeline: null, pending: null, verdict: Promise.resolve() };
      this.gpuPlans.set(key, plan);
    }
    this.lastWgsl = plan.code;
    return plan;
  }

  private device(): WebGpuDeviceLike {
    const d = this.host.device;
    if (d === null)
      throw new StateError('kernel', 'no WebGPU device (the GPU was destroyed or is not ready)');
    return d;
  }

  /** Checks every host array and the output against the device's buffer limits (before any allocation). */
  private checkSizes(device: WebGpuDeviceLike, values: readonly ArgValue[], op: string): void {
    values.forEach((v, i) => {
      if (v.kind === 'array' && v.data !== null) {
        checkStorageSize(
          device,
          op,
          `argument '${this.fn.params[i]!.name}' (shape [${v.shape.join(', ')}])`,
          v.data.length * 4,
        );
      }
    });
    const n = this.output.reduce((a, b) => a * b, 1);
    checkStorageSize(device, op, `the output [${this.output.join(', ')}]`, n * 4);
  }

  private async gpuOutput(values: readonly ArgValue[]): Promise<KernelOutput> {
    const op = 'kernel';
    const plan = this.gpuPlan(values);
    this.checkSizes(this.device(), values, op);
    if (plan.pipeline === null) {
      plan.pending ??= createPipelineAsync(this.device(), plan.code, this.op);
      plan.pipeline = await plan.pending;
    }
    await Promise.all([plan.verdict, ...this.inputWaits(values)]);
    this.checkUsable(op);
    const device = this.device();
    const output = [...this.output];
    const n = output.reduce((a, b) => a * b, 1);
    const pool = this.pool;
    // Everything from acquiring the buffers to submitting runs without an await, then the buffers go back.
    const { value: read, verdict } = withErrorScopes(device, op, () => {
      const out = pool.acquire(device, Math.max(4, n * 4), OUT_USAGE);
      const encoder = device.createCommandEncoder();
      const temps = [out];
      try {
        temps.push(...this.encodeCall(device, plan, values, output, out, encoder));
        const reading = readBuffers(device, [out], [n * 4], encoder, op);
        reading.catch(() => undefined);
        return reading;
      } finally {
        pool.release(temps);
      }
    });
    const [, [flat]] = await Promise.all([verdict, read]);
    return shapeOutput(flat!, output);
  }

  /** The readiness of the webgpu results passed as arguments. */
  private inputWaits(values: readonly ArgValue[]): Promise<void>[] {
    const waits: Promise<void>[] = [];
    for (const v of values) if (v.kind === 'array' && v.ready) waits.push(v.ready);
    return waits;
  }

  /**
   * Dispatches a pipeline-mode call at once into a new output buffer (owned by the returned result). `ready`
   * settles once the shader's, the input results' and this submission's verdicts are in.
   */
  private gpuDispatch(values: readonly ArgValue[]): { buffer: WebGpuBufferLike; ready: Promise<void> } {
    const op = 'kernel';
    const device = this.device();
    const plan = this.gpuPlan(values);
    this.checkSizes(device, values, op);
    if (plan.pipeline === null) {
      const { pipeline, verdict } = createPipelineSync(device, plan.code, this.op);
      plan.pipeline = pipeline;
      plan.verdict = verdict;
    }
    const output = [...this.output];
    const n = output.reduce((a, b) => a * b, 1);
    const pool = this.pool;
    const { value: buffer, verdict } = withErrorScopes(device, op, () => {
      const out = device.createBuffer({ size: Math.max(4, n * 4), usage: OUT_USAGE });
      const encoder = device.createCommandEncoder();
      let temps: WebGpuBufferLike[] = [];
      try {
        temps = this.encodeCall(device, plan, values, output, out, encoder);
        device.queue.submit([encoder.finish()]);
      } catch (e) {
        out.destroy();
        throw e;
      } finally {
        pool.release(temps);
      }
      return out;
    });
    const ready = Promise.all([plan.verdict, verdict, ...this.inputWaits(values)]).then(() => undefined);
    ready.catch(() => undefined);
    return { buffer, ready };
  }

  /**
   * Writes the parameters and host arrays of one call into buffers taken from the pool and encodes the
   * dispatch into `encoder`, writing `out`. Returns the pool buffers, to be released once `encoder` is
   * submitted.
   */
  private encodeCall(
    device: WebGpuDeviceLike,
    plan: GpuPlan,
    values: readonly ArgValue[],
    output: readonly number[],
    out: WebGpuBufferLike,
    encoder: WebGpuEncoderLike,
  ): WebGpuBufferLike[] {
    const { layout } = plan;
    const [X, Y = 1, Z = 1] = output;
    const n = X! * Y * Z;
    const params = new ArrayBuffer(layout.vec4s * 16);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    u32[0] = X!;
    u32[1] = Y;
    u32[2] = Z;
    const temps: WebGpuBufferLike[] = [];
    const entries: BindEntries = [];
    values.forEach((v, i) => {
      if (v.kind === 'number') {
        const [slot, c] = layout.numberSlot.get(i)!;
        f32[slot * 4 + c] = v.value;
        return;
      }
      const slot = layout.dimsSlot.get(i)!;
      v.shape.forEach((d, k) => {
        u32[slot * 4 + k] = d;
      });
      let buffer: WebGpuBufferLike;
      if (v.buffer !== null) buffer = v.buffer;
      else {
        const data = v.data!;
        const host = data instanceof Float32Array ? data : Float32Array.from(data);
        buffer = this.pool.acquire(
          device,
          Math.max(4, host.byteLength),
          BufferUsage.STORAGE | BufferUsage.COPY_DST,
        );
        temps.push(buffer);
        device.queue.writeBuffer(buffer, 0, host);
      }
      entries.push({ binding: layout.binding.get(i)!, resource: { buffer } });
    });
    const paramsBuffer = this.pool.acquire(
      device,
      params.byteLength,
      BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    );
    temps.push(paramsBuffer);
    device.queue.writeBuffer(paramsBuffer, 0, u32);
    entries.unshift({ binding: 0, resource: { buffer: paramsBuffer } });
    entries.push({ binding: layout.outBinding, resource: { buffer: out } });
    encodeDispatch(device, encoder, plan.pipeline!, entries, n, 'kernel');
    return temps;
  }

  /** Frees everything and removes the kernel from its GPU; calls afterwards are a StateError. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroy();
    this.invalidate();
    this.localHelpers.clear();
    this.collected = null;
    this.host.untrack(this);
  }
}

/** Wraps a {@link KernelImpl} in the callable kernel object users receive. */
export function kernelObject<M extends GPUMode>(impl: KernelImpl): Kernel<M> | PipelineKernel<M> {
  const f = (...args: KernelArgument[]) => impl.call(args);
  const obj = f as unknown as Record<string | symbol, unknown>;
  obj[KERNEL_IMPL] = impl;
  const methods: Record<string, unknown> = {
    run: (...args: KernelArgument[]) => impl.run(args),
    setOutput(this: unknown, output: OutputSize) {
      impl.output = checkOutput(output, 'setOutput');
      return f;
    },
    setConstants(constants: KernelConstants) {
      impl.constants = checkConstants(constants, 'setConstants');
      impl.invalidate();
      return f;
    },
    setLoopMaxIterations(n: number) {
      impl.loopMax = checkLoopMax(n, 'setLoopMaxIterations');
      impl.invalidate();
      return f;
    },
    addFunction(fn: HelperFunction) {
      impl.addFunction(fn);
      return f;
    },
    getSource: () => impl.getSource(),
    destroy: () => impl.destroy(),
  };
  Object.assign(obj, methods);
  Object.defineProperties(obj, {
    output: { get: () => [...impl.output], enumerable: true },
    constants: { get: () => ({ ...impl.constants }), enumerable: true },
    pipeline: { get: () => impl.pipeline, enumerable: true },
    mode: { get: () => impl.host.mode, enumerable: true },
  });
  return f as unknown as Kernel<M> | PipelineKernel<M>;
}
