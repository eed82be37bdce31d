import type { NumericArray } from '../codegen/js.js';
import { ArgumentError, CompileError, DtypeError, ShapeError, StateError } from '../errors.js';
import { describeValue, ownValue } from '../util/own.js';
import {
  type ArgValue,
  checkDeclaredType,
  type KernelArgument,
  normalizeArgument,
  paramTypes,
  signatureKey,
} from './args.js';
import { emitJs, type JsArgument, type JsKernelRun } from './emit-js.js';
import { emitWgsl, unboundedLoopError, type WgslLayout } from './emit-wgsl.js';
import type { KFunction } from './ir.js';
import { findLoop, loopBoundProblem } from './loops.js';
import { checkNativeList, parseNativeFunction } from './native.js';
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
  type ArgumentTypeSpec,
  checkArgumentTypes,
  checkConstants,
  checkGraphical,
  checkLoopMax,
  checkOutput,
  checkPrecision,
  checkReturnType,
  checkSeed,
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
  writableSource,
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
export type HelperFunction =
  | ((this: KernelThis, ...args: never[]) => number | boolean)
  | string
  | {
      /** The helper's name (default: the function's own name). */
      readonly name?: string;
      /** The helper, as source text or as a function. */
      readonly source: string | ((...args: never[]) => number | boolean);
    };

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
  /** The output size; one thread runs per element. May be set later with `setOutput` (before the first call). */
  readonly output?: OutputSize;
  /** Numbers readable as `this.constants.NAME`; inlined into the code (changing them recompiles). */
  readonly constants?: C;
  /** Keep the result where it was computed and return a {@link KernelResult} (GPU.js's pipeline mode). */
  readonly pipeline?: boolean;
  /**
   * `single` (default): results are Float32Array; on cpu the arithmetic is float64 and rounded when stored,
   * on webgpu it is float32 throughout. `double`: Float64Array results, cpu backend only (WGSL has no f64).
   */
  readonly precision?: 'single' | 'unsigned' | 'double';
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
  /**
   * GPU.js argument types, by position or by parameter name (`Number`, `Float`, `Integer`, `Boolean`, `Array`,
   * `Array(2)`, `Array1D(2)`, `Array2D`, `Input`, ...): each call checks its arguments against them.
   */
  readonly argumentTypes?: readonly string[] | Readonly<Record<string, string>>;
  /** `Number`/`Float`/`Integer`, or `Array(2)`..`Array(4)`: checked against what the kernel returns. */
  readonly returnType?: string;
  /** Native (GLSL-style) helper functions for this kernel, as `{ name, source }` (see `addNativeFunction`). */
  readonly nativeFunctions?: readonly NativeFunction[];
  /** Only `false` is accepted: graphical (canvas) output is not supported. */
  readonly graphical?: boolean;
  /**
   * Seeds `Math.random` in the kernel: call k of the kernel draws from a stream fixed by (seed, k), so a
   * kernel made with the same seed repeats its results. Without it each call draws a fresh seed.
   */
  readonly seed?: number;
  /** Accepted for GPU.js compatibility and ignored (see `tactic`). */
  readonly hardcodeConstants?: unknown;
  /** Accepted for GPU.js compatibility and ignored: constant types are inferred from the values. */
  readonly constantTypes?: unknown;
  /** Accepted for GPU.js compatibility and ignored: a kernel runs on its GPU's backend. */
  readonly mode?: unknown;
  /** Accepted for GPU.js compatibility and ignored (gradkit does not render to a canvas). */
  readonly canvas?: unknown;
  /** Accepted for GPU.js compatibility and ignored (gradkit does not use a WebGL context). */
  readonly context?: unknown;
}

/** A native (GLSL-style) helper function: its name and its source, e.g. `float f(float a) { return a; }`. */
export interface NativeFunction {
  /** The name kernels call it by. */
  readonly name: string;
  /** Its GLSL-style source (a scalar subset, translated to JavaScript and WGSL). */
  readonly source: string;
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
  /** Adds a native (GLSL-style) helper function for this kernel (see `GPU.addNativeFunction`). */
  addNativeFunction(name: string, source: string): this;
  /** Replaces this kernel's own helper functions. */
  setFunctions(functions: readonly HelperFunction[]): this;
  /** Replaces this kernel's own native helper functions. */
  setNativeFunctions(functions: readonly NativeFunction[]): this;
  /** Makes calls return {@link KernelResult} handles (true) or arrays (false). */
  setPipeline(flag: boolean): this;
  /** `single`, `unsigned` or `double` (cpu only); recompiles on the next call. */
  setPrecision(precision: 'single' | 'unsigned' | 'double'): this;
  /** Sets (or, with undefined, clears) the argument types checked at each call. */
  setArgumentTypes(types: readonly string[] | Readonly<Record<string, string>> | undefined): this;
  /** Sets the expected return type (`Number`, `Array(2)`, ...). */
  setReturnType(type: string): this;
  /** Seeds Math.random for the following calls (see the `seed` setting). */
  setSeed(seed: number | undefined): this;
  /** Accepted for GPU.js compatibility; results are always new. */
  setImmutable(flag: boolean): this;
  /** Accepted for GPU.js compatibility; the output can always change without recompiling. */
  setDynamicOutput(flag: boolean): this;
  /** Accepted for GPU.js compatibility; argument sizes can always change without recompiling. */
  setDynamicArguments(flag: boolean): this;
  /** Only `false` is accepted: graphical output is not supported. */
  setGraphical(flag: boolean): this;
  /** GPU.js WebGL tuning, accepted and ignored. */
  setTactic(tactic: unknown): this;
  /** GPU.js WebGL tuning, accepted and ignored. */
  setOptimizeFloatMemory(flag: boolean): this;
  /** GPU.js WebGL tuning, accepted and ignored. */
  setStrictIntegers(flag: boolean): this;
  /** GPU.js WebGL tuning, accepted and ignored. */
  setFixIntegerDivisionAccuracy(flag: boolean): this;
  /** GPU.js WebGL tuning, accepted and ignored. */
  setUseLegacyEncoder(flag: boolean): this;
  /** GPU.js warning switch, accepted and ignored. */
  setWarnVarUsage(flag: boolean): this;
  /** GPU.js debug switch, accepted and ignored. */
  setDebug(flag: boolean): this;
  /** GPU.js WebGL setting, accepted and ignored. */
  setCanvas(canvas: unknown): this;
  /** GPU.js WebGL setting, accepted and ignored. */
  setContext(context: unknown): this;
  /** GPU.js constant types, accepted and ignored (types are inferred from the values). */
  setConstantTypes(types: unknown): this;
  /** GPU.js's `exec`: runs the kernel and returns a Promise (the same as `run`). */
  exec(...args: KernelArgument[]): Promise<R>;
  /**
   * The kernel as the source of a standalone JavaScript function (cpu backend), GPU.js style:
   * `new Function('return ' + k.toString(...args))()()` gives a function that runs the kernel on arguments
   * of the same kinds as `args` and returns the same arrays, without gradkit. Compiles for `args` first.
   */
  toString(...args: KernelArgument[]): string;
  /** The kernel's source, helpers and settings as JSON-safe data; `gpu.createKernel(json)` rebuilds it. */
  toJSON(): KernelJSON;
  /** The generated code of the most recent compilation per backend. */
  getSource(): KernelSource;
  /**
   * Frees this kernel's device buffers and compiled code and removes it from its GPU. The kernel cannot be
   * called afterwards; calls still waiting to be submitted reject with a StateError. Idempotent.
   */
  destroy(): void;
  /** The output size (null until set). */
  readonly output: readonly number[] | null;
  /** The constants. */
  readonly constants: KernelConstants;
  /** Whether calls return {@link KernelResult} handles. */
  readonly pipeline: boolean;
  /** The mode of the GPU that made the kernel. */
  readonly mode: M;
}

/** A kernel as data: what `toJSON()` gives and `createKernel` accepts in place of a function. */
export interface KernelJSON {
  /** The kernel's source text. */
  readonly source: string;
  /** Its own helpers, as source text. */
  readonly functions: readonly string[];
  /** Its own native helpers. */
  readonly nativeFunctions: readonly NativeFunction[];
  /** The settings that shape what it computes. */
  readonly settings: {
    /** The output size, or null when none was set yet. */
    readonly output: readonly number[] | null;
    /** The constants (`this.constants`). */
    readonly constants: KernelConstants;
    /** Whether results stay on the device (pipeline mode). */
    readonly pipeline: boolean;
    /** The precision setting. */
    readonly precision: 'single' | 'unsigned' | 'double';
    /** The loop cap, when set. */
    readonly loopMaxIterations?: number;
    /** The kernel's parameter names. */
    readonly argumentNames: readonly string[];
    /** The declared argument types, by position (null: inferred). */
    readonly argumentTypes?: readonly (string | null)[];
    /** The declared return type, when set. */
    readonly returnType?: string;
  };
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

/** Functions renamed by {@link alias}: function → the name kernels call it by. */
const ALIASES = new WeakMap<object, string>();

/**
 * GPU.js's `alias(name, fn)`: `fn` under another name, for `createKernelMap` and helpers (kernels call it by
 * `name`). Returns a function that calls `fn` (so it also works from plain JavaScript).
 *
 * @typeParam F - the function's type, kept by the alias
 * @throws ArgumentError when `name` is not an identifier or `fn` is not a function
 */
export function alias<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new ArgumentError('alias', `the name must be an identifier, got ${describeValue(name)}`);
  }
  if (typeof fn !== 'function')
    throw new ArgumentError('alias', `expected a function, got ${describeValue(fn)}`);
  const source = Function.prototype.toString.call(fn);
  const wrapped = function (this: unknown, ...args: never[]) {
    return fn.apply(this, args);
  } as unknown as F;
  Object.defineProperty(wrapped, 'name', { value: name });
  ALIAS_SOURCES.set(wrapped, source);
  ALIASES.set(wrapped, name);
  return wrapped;
}

/** The source of an aliased function (the original's, not the wrapper's). */
const ALIAS_SOURCES = new WeakMap<object, string>();

/** Parses a helper function and names it. */
export function parseHelper(fn: HelperFunction, op: string, name?: unknown): KFunction {
  if (fn !== null && typeof fn === 'object') {
    // GPU.js's { name, source } (or { source, settings }) form.
    const source = ownValue(fn, 'source');
    const given = ownValue(fn, 'name');
    if (typeof source !== 'function' && typeof source !== 'string') {
      throw new ArgumentError(
        op,
        `a helper object needs 'source' (a function or its text), got ${describeValue(source)}`,
      );
    }
    return parseHelper(source as HelperFunction, op, name ?? given);
  }
  if (typeof fn !== 'function' && typeof fn !== 'string') {
    throw new ArgumentError(op, `a helper must be a function or its source text, got ${describeValue(fn)}`);
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new ArgumentError(op, `the helper's name must be a string, got ${describeValue(name)}`);
  }
  const source =
    typeof fn === 'string' ? fn : (ALIAS_SOURCES.get(fn) ?? Function.prototype.toString.call(fn));
  const parsed = parseKernelSource(source, op);
  const own = typeof fn === 'function' ? ownValue(fn, 'name') : undefined;
  const aliased = typeof fn === 'function' ? ALIASES.get(fn) : undefined;
  const resolved = name ?? aliased ?? (typeof own === 'string' && own !== '' ? own : parsed.name);
  if (!resolved || resolved === 'kernel' || !/^[A-Za-z_$][\w$]*$/.test(resolved)) {
    throw new ArgumentError(
      op,
      'a helper function needs a name: use `function name(...) {...}` or pass { name }',
    );
  }
  return { ...parsed, name: resolved };
}

/** A subkernel of createKernelMap: the output key and the helper whose results it records. */
export interface MappedHelper {
  readonly key: string;
  readonly fn: KFunction;
}

/** @internal The state and behaviour behind a kernel function object. */
export class KernelImpl {
  readonly fn: KFunction;
  output: number[] | null;
  constants: Readonly<Record<string, number>>;
  pipeline: boolean;
  precision: 'single' | 'unsigned' | 'double';
  loopMax: number | undefined;
  argTypes: (ArgumentTypeSpec | undefined)[];
  returnWidth: number | undefined;
  returnTypeName: string | undefined;
  seed: number | undefined;
  private calls = 0;
  readonly localHelpers = new Map<string, KFunction>();
  readonly nativeHelpers = new Map<string, NativeFunction>();
  /** createKernelMap's subkernels, in output order. */
  mappedHelpers: readonly MappedHelper[] = [];
  /** The output width of the last compiled plan (1, or 2-4 for vectors). */
  private width = 1;
  /** > 0 while combineKernels runs: calls return results (pipeline mode). */
  forcePipeline = 0;
  collected: KernelResult<GPUMode>[] | null = null;
  private readonly cpuPlans = new Map<string, { source: string; run: JsKernelRun; width: number }>();
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
      throw new ArgumentError(op, `the settings must be an object, got ${describeValue(settings)}`);
    }
    checkSettingKeys(op, settings, KERNEL_SETTINGS, IGNORED_GPUJS_KERNEL_SETTINGS, 'the settings');
    const setting = (key: string): unknown => ownSetting(op, settings, key);
    if (typeof fn !== 'function' && typeof fn !== 'string') {
      throw new ArgumentError(op, `the kernel must be a function or its source text, got ${typeof fn}`);
    }
    const output = setting('output');
    this.output = output === undefined ? null : checkOutput(output, op);
    this.fn = parseKernelSource(typeof fn === 'string' ? fn : Function.prototype.toString.call(fn), op);
    this.constants = checkConstants(setting('constants'), op);
    this.pipeline = setting('pipeline') === true;
    this.precision = checkPrecision(setting('precision'), op);
    if (this.precision === 'double' && host.mode === 'webgpu') {
      throw new DtypeError(op, "precision 'double' needs the cpu backend: WGSL has no float64");
    }
    this.loopMax = checkLoopMax(setting('loopMaxIterations'), op);
    this.argTypes = checkArgumentTypes(
      setting('argumentTypes'),
      this.fn.params.map((p) => p.name),
      op,
    );
    this.returnTypeName = setting('returnType') as string | undefined;
    this.returnWidth = checkReturnType(this.returnTypeName, op);
    this.seed = checkSeed(setting('seed'), op);
    checkGraphical(setting('graphical'), op);
    const functions = setting('functions') ?? [];
    if (!Array.isArray(functions)) {
      throw new ArgumentError(
        op,
        `'functions' must be an array of functions, got ${describeValue(functions)}`,
      );
    }
    for (const h of functions as unknown[]) this.addFunction(h as HelperFunction);
    for (const n of checkNativeList(setting('nativeFunctions'), op)) this.addNativeFunction(n.name, n.source);
    if (host.mode === 'webgpu' && this.loopMax === undefined) {
      // Report what does not depend on argument types now rather than at the first call (the same error the
      // WGSL emitter gives, which also checks the counters' types).
      const found = findLoop(this.fn.body, (l) => loopBoundProblem(l.bound, this.constants));
      if (found) throw unboundedLoopError(found.loop, op, 'kernel', found.reason, this.fn.source);
    }
  }

  addFunction(fn: HelperFunction): void {
    const h = parseHelper(fn, 'addFunction');
    this.localHelpers.set(h.name, h);
    this.invalidate();
  }

  addNativeFunction(name: unknown, source: unknown): void {
    const h = parseNativeFunction(name, source, 'addNativeFunction');
    this.localHelpers.set(h.name, h);
    this.nativeHelpers.set(h.name, { name: h.name, source: source as string });
    this.invalidate();
  }

  /** The output size, which must be set by now. */
  outputSize(op: string): number[] {
    if (this.output === null) {
      throw new ShapeError(
        op,
        "the kernel's output size is not set; pass `output` in the settings or call setOutput([x, y?, z?])",
      );
    }
    return this.output;
  }

  /** The next call's Math.random seed (32 bits). */
  private nextSeed(): number {
    const k = this.calls++;
    if (this.seed === undefined) return (Math.random() * 4294967296) >>> 0;
    return (Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35)) >>> 0;
  }

  invalidate(): void {
    this.cpuPlans.clear();
    this.gpuPlans.clear();
  }

  private helpers(): Map<string, KFunction> {
    const all = new Map<string, KFunction>();
    const add = (f: KFunction): void => {
      all.set(f.name, f);
      for (const n of f.nested) all.set(n.name, n);
    };
    for (const v of this.host.helpers.values()) add(v);
    for (const v of this.localHelpers.values()) add(v);
    for (const m of this.mappedHelpers) add(m.fn);
    for (const n of this.fn.nested) all.set(n.name, n);
    return all;
  }

  private mappedIndex(): Map<string, number> {
    return new Map(this.mappedHelpers.map((m, i) => [m.fn.name, i]));
  }

  /** Types the kernel for `values` and checks the declared return type. */
  private typed(values: readonly ArgValue[]) {
    const program = typeProgram(
      this.fn,
      paramTypes(values),
      this.constants,
      this.helpers(),
      this.op,
      this.mappedIndex(),
    );
    const w = program.kernel.returnWidth;
    if (this.returnWidth !== undefined && this.returnWidth !== w) {
      throw new CompileError(
        this.op,
        `'returnType' is '${this.returnTypeName}' but the kernel returns ${w === 1 ? 'one number' : `${w} numbers`}`,
      );
    }
    return program;
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
    return args.map((a, i) => {
      const name = params[i]!.name;
      const v = normalizeArgument(a, this.host, op, name, snapshot);
      const t = this.argTypes[i];
      if (t !== undefined) checkDeclaredType(v, t, op, name);
      return v;
    });
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
      if (result instanceof KernelResult) this.collected?.push(result);
      return result;
    }
    if (this.host.mode === 'cpu') return this.cpuOutput(this.normalize(args, op));
    return this.callAsync(args);
  }

  async callAsync(args: readonly unknown[]): Promise<unknown> {
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

  private callPipeline(backend: Backend, values: ArgValue[]): unknown {
    const syncRead = this.host.mode === 'cpu';
    const output = [...this.outputSize('kernel')];
    const results: KernelResult<GPUMode>[] = [];
    if (backend === 'cpu') {
      const flats = this.cpuFlats(values);
      flats.forEach((data, i) => {
        results.push(
          new KernelResult(this.host, output, { kind: 'cpu', data }, syncRead, i === 0 ? this.width : 1),
        );
      });
    } else {
      const { buffers, ready } = this.gpuDispatch(values);
      buffers.forEach((buffer, i) => {
        results.push(
          new KernelResult(
            this.host,
            output,
            { kind: 'webgpu', buffer, ready },
            false,
            i === 0 ? this.width : 1,
          ),
        );
      });
    }
    for (const r of results) this.host.track(r);
    return this.mapResult(results);
  }

  /** The main result alone, or for createKernelMap `{ result, [key]: ... }`. */
  mapResult<T>(parts: readonly T[]): T | Record<string, T> {
    if (this.mappedHelpers.length === 0) return parts[0]!;
    const out: Record<string, T> = { result: parts[0]! };
    this.mappedHelpers.forEach((m, i) => {
      out[m.key] = parts[i + 1]!;
    });
    return out;
  }

  // ------------------------------------------------------------ cpu

  /** @internal The compiled JavaScript for `values` (and its output width). */
  cpuPlan(values: readonly ArgValue[]): { source: string; run: JsKernelRun; width: number } {
    this.refreshHelpers();
    const key = signatureKey(values);
    let plan = this.cpuPlans.get(key);
    if (plan === undefined) {
      plan = guardStack(this.op, () => {
        const program = this.typed(values);
        return { ...emitJs(program, { loopMaxIterations: this.loopMax }), width: program.kernel.returnWidth };
      });
      this.cpuPlans.set(key, plan);
    }
    this.lastJs = plan.source;
    this.width = plan.width;
    return plan;
  }

  /** The main output and the mapped outputs, flat. */
  private cpuFlats(values: readonly ArgValue[]): NumericArray[] {
    const { run, width } = this.cpuPlan(values);
    const [X, Y = 1, Z = 1] = this.outputSize('kernel');
    const n = X! * Y * Z;
    const make = (k: number) => (this.precision === 'double' ? new Float64Array(k) : new Float32Array(k));
    const out = make(n * width);
    const maps = this.mappedHelpers.map(() => make(n));
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
    run(jsArgs, out, X!, Y, Z, maps, this.nextSeed());
    return [out, ...maps];
  }

  private cpuOutput(values: readonly ArgValue[]): unknown {
    const output = this.outputSize('kernel');
    const flats = this.cpuFlats(values);
    return this.mapResult(flats.map((f, i) => shapeOutput(f, output, i === 0 ? this.width : 1)));
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
        const program = this.typed(values);
        return emitWgsl(program, { loopMaxIterations: this.loopMax, op: this.op });
      });
      const device = this.device();
      const bindings = layout.binding.size + 1 + layout.mapBindings.length;
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
    this.width = plan.layout.width;
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
    const output = this.outputSize(op);
    const n = output.reduce((a, b) => a * b, this.width);
    checkStorageSize(device, op, `the output [${output.join(', ')}]`, n * 4);
  }

  private async gpuOutput(values: readonly ArgValue[]): Promise<unknown> {
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
    const output = [...this.outputSize(op)];
    const n = output.reduce((a, b) => a * b, 1);
    const width = plan.layout.width;
    const sizes = [n * width * 4, ...plan.layout.mapBindings.map(() => n * 4)];
    const pool = this.pool;
    // Everything from acquiring the buffers to submitting runs without an await, then the buffers go back.
    const { value: read, verdict } = withErrorScopes(device, op, () => {
      const outs = sizes.map((b) => pool.acquire(device, Math.max(4, b), OUT_USAGE));
      const encoder = device.createCommandEncoder();
      const temps = [...outs];
      try {
        temps.push(...this.encodeCall(device, plan, values, output, outs, encoder));
        const reading = readBuffers(device, outs, sizes, encoder, op);
        reading.catch(() => undefined);
        return reading;
      } finally {
        pool.release(temps);
      }
    });
    const [, flats] = await Promise.all([verdict, read]);
    return this.mapResult(flats.map((f, i) => shapeOutput(f, output, i === 0 ? width : 1)));
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
  private gpuDispatch(values: readonly ArgValue[]): { buffers: WebGpuBufferLike[]; ready: Promise<void> } {
    const op = 'kernel';
    const device = this.device();
    const plan = this.gpuPlan(values);
    this.checkSizes(device, values, op);
    if (plan.pipeline === null) {
      const { pipeline, verdict } = createPipelineSync(device, plan.code, this.op);
      plan.pipeline = pipeline;
      plan.verdict = verdict;
    }
    const output = [...this.outputSize(op)];
    const n = output.reduce((a, b) => a * b, 1);
    const sizes = [n * plan.layout.width * 4, ...plan.layout.mapBindings.map(() => n * 4)];
    const pool = this.pool;
    const { value: buffers, verdict } = withErrorScopes(device, op, () => {
      const outs = sizes.map((b) => device.createBuffer({ size: Math.max(4, b), usage: OUT_USAGE }));
      const encoder = device.createCommandEncoder();
      let temps: WebGpuBufferLike[] = [];
      try {
        temps = this.encodeCall(device, plan, values, output, outs, encoder);
        device.queue.submit([encoder.finish()]);
      } catch (e) {
        for (const o of outs) o.destroy();
        throw e;
      } finally {
        pool.release(temps);
      }
      return outs;
    });
    const ready = Promise.all([plan.verdict, verdict, ...this.inputWaits(values)]).then(() => undefined);
    ready.catch(() => undefined);
    return { buffers, ready };
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
    outs: readonly WebGpuBufferLike[],
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
    u32[3] = this.nextSeed();
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
        device.queue.writeBuffer(buffer, 0, writableSource(host));
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
    entries.push({ binding: layout.outBinding, resource: { buffer: outs[0]! } });
    layout.mapBindings.forEach((b, i) => {
      entries.push({ binding: b, resource: { buffer: outs[i + 1]! } });
    });
    encodeDispatch(device, encoder, plan.pipeline!, entries, n, 'kernel');
    return temps;
  }

  /** `toString(...args)`: a standalone JavaScript function of the cpu code for arguments like `args`. */
  standalone(args: readonly unknown[]): string {
    this.checkUsable('toString');
    const values = this.normalize(args, 'toString');
    const output = this.outputSize('toString');
    const plan = this.cpuPlan(values);
    const [X, Y = 1, Z = 1] = output;
    const seed = this.seed;
    const keys = this.mappedHelpers.map((m) => m.key);
    const array = this.precision === 'double' ? 'Float64Array' : 'Float32Array';
    return `function (settings) {
  const gk_run = (function () {
${plan.source}
  })();
  const gk_dims = ${JSON.stringify(output)};
  const gk_width = ${plan.width};
  const gk_keys = ${JSON.stringify(keys)};
  let gk_calls = 0;
  function gk_arg(v) {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && v.data && v.size) {
      return { data: Float64Array.from(v.data), shape: Array.from(v.size).reverse() };
    }
    const shape = [];
    let x = v;
    while (x !== null && typeof x === 'object' && typeof x.length === 'number') { shape.push(x.length); x = x[0]; }
    const flat = [];
    const walk = (a, d) => { if (d === shape.length - 1) { for (let i = 0; i < a.length; i++) flat.push(a[i]); } else { for (let i = 0; i < a.length; i++) walk(a[i], d + 1); } };
    walk(v, 0);
    return { data: Float64Array.from(flat), shape };
  }
  function gk_shape(flat, width) {
    const X = gk_dims[0], Y = gk_dims[1] || 1, Z = gk_dims[2] || 1;
    const el = (i) => (width === 1 ? flat[i] : flat.subarray(i * width, (i + 1) * width));
    if (gk_dims.length === 1) return width === 1 ? flat : Array.from({ length: X }, (_, x) => el(x));
    const row = (z, y) => (width === 1 ? flat.subarray((z * Y + y) * X, (z * Y + y + 1) * X) : Array.from({ length: X }, (_, x) => el((z * Y + y) * X + x)));
    const rows = (z) => Array.from({ length: Y }, (_, y) => row(z, y));
    return gk_dims.length === 2 ? rows(0) : Array.from({ length: Z }, (_, z) => rows(z));
  }
  return function kernel() {
    const args = Array.prototype.map.call(arguments, gk_arg);
    const n = ${X! * Y * Z};
    const out = new ${array}(n * gk_width);
    const maps = gk_keys.map(() => new ${array}(n));
    const k = gk_calls++;
    const seed = ${seed === undefined ? '(Math.random() * 4294967296) >>> 0' : `(Math.imul(${seed} ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35)) >>> 0`};
    gk_run(args, out, ${X}, ${Y}, ${Z}, maps, seed);
    if (gk_keys.length === 0) return gk_shape(out, gk_width);
    const result = { result: gk_shape(out, gk_width) };
    gk_keys.forEach((key, i) => { result[key] = gk_shape(maps[i], 1); });
    return result;
  };
}`;
  }

  /** `toJSON()`: the kernel as JSON-safe data. */
  toJSON(): KernelJSON {
    const functions: string[] = [];
    for (const [name, h] of this.localHelpers) if (!this.nativeHelpers.has(name)) functions.push(h.source);
    const settings: KernelJSON['settings'] = {
      output: this.output === null ? null : [...this.output],
      constants: { ...this.constants },
      pipeline: this.pipeline,
      precision: this.precision,
      argumentNames: this.fn.params.map((p) => p.name),
      ...(this.loopMax !== undefined ? { loopMaxIterations: this.loopMax } : {}),
      ...(this.argTypes.some((t) => t !== undefined)
        ? { argumentTypes: this.argTypes.map((t) => t?.name ?? null) }
        : {}),
      ...(this.returnTypeName !== undefined ? { returnType: this.returnTypeName } : {}),
    };
    return {
      source: this.fn.source,
      functions,
      nativeFunctions: [...this.nativeHelpers.values()].map((n) => ({ name: n.name, source: n.source })),
      settings,
    };
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

/** The names of the GPU.js setters that only tune WebGL code generation (accepted and ignored). */
const IGNORED_SETTERS = [
  'setTactic',
  'setOptimizeFloatMemory',
  'setStrictIntegers',
  'setFixIntegerDivisionAccuracy',
  'setUseLegacyEncoder',
  'setWarnVarUsage',
  'setDebug',
  'setCanvas',
  'setContext',
  'setConstantTypes',
  'setHardcodeConstants',
] as const;

/** Wraps a {@link KernelImpl} in the callable kernel object users receive. */
export function kernelObject<M extends GPUMode>(impl: KernelImpl): Kernel<M> | PipelineKernel<M> {
  const f = (...args: KernelArgument[]) => impl.call(args);
  const obj = f as unknown as Record<string | symbol, unknown>;
  obj[KERNEL_IMPL] = impl;
  const flag = (op: string, v: unknown): boolean => {
    if (typeof v !== 'boolean' && v !== undefined) {
      throw new ArgumentError(op, `expected true or false, got ${describeValue(v)}`);
    }
    return v === true;
  };
  const methods: Record<string, unknown> = {
    run: (...args: KernelArgument[]) => impl.run(args),
    exec: (...args: KernelArgument[]) => impl.run(args),
    setOutput(output: OutputSize) {
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
    addNativeFunction(name: string, source: string) {
      impl.addNativeFunction(name, source);
      return f;
    },
    setFunctions(functions: readonly HelperFunction[]) {
      if (!Array.isArray(functions)) {
        throw new ArgumentError(
          'setFunctions',
          `expected an array of functions, got ${describeValue(functions)}`,
        );
      }
      const parsed = functions.map((fn) => parseHelper(fn as HelperFunction, 'setFunctions'));
      for (const name of [...impl.localHelpers.keys()]) {
        if (!impl.nativeHelpers.has(name)) impl.localHelpers.delete(name);
      }
      for (const h of parsed) impl.localHelpers.set(h.name, h);
      impl.invalidate();
      return f;
    },
    setNativeFunctions(functions: readonly NativeFunction[]) {
      const list = checkNativeList(functions, 'setNativeFunctions');
      const parsed = list.map((n) => parseNativeFunction(n.name, n.source, 'setNativeFunctions'));
      for (const name of impl.nativeHelpers.keys()) impl.localHelpers.delete(name);
      impl.nativeHelpers.clear();
      parsed.forEach((h, i) => {
        impl.localHelpers.set(h.name, h);
        impl.nativeHelpers.set(h.name, list[i]!);
      });
      impl.invalidate();
      return f;
    },
    setPipeline(v: boolean) {
      impl.pipeline = flag('setPipeline', v);
      return f;
    },
    setPrecision(p: 'single' | 'unsigned' | 'double') {
      const precision = checkPrecision(p, 'setPrecision');
      if (precision === 'double' && impl.host.mode === 'webgpu') {
        throw new DtypeError('setPrecision', "precision 'double' needs the cpu backend: WGSL has no float64");
      }
      impl.precision = precision;
      impl.invalidate();
      return f;
    },
    setArgumentTypes(types: unknown) {
      impl.argTypes = checkArgumentTypes(
        types,
        impl.fn.params.map((p) => p.name),
        'setArgumentTypes',
      );
      return f;
    },
    setReturnType(t: string) {
      impl.returnWidth = checkReturnType(t, 'setReturnType');
      impl.returnTypeName = t;
      return f;
    },
    setSeed(seed: number | undefined) {
      impl.seed = checkSeed(seed, 'setSeed');
      return f;
    },
    setImmutable(v: boolean) {
      flag('setImmutable', v);
      return f;
    },
    setDynamicOutput(v: boolean) {
      flag('setDynamicOutput', v);
      return f;
    },
    setDynamicArguments(v: boolean) {
      flag('setDynamicArguments', v);
      return f;
    },
    setGraphical(v: boolean) {
      checkGraphical(v, 'setGraphical');
      return f;
    },
    toString: (...args: KernelArgument[]) => impl.standalone(args),
    toJSON: () => impl.toJSON(),
    getSource: () => impl.getSource(),
    destroy: () => impl.destroy(),
  };
  for (const name of IGNORED_SETTERS) methods[name] = () => f;
  Object.assign(obj, methods);
  Object.defineProperties(obj, {
    output: { get: () => (impl.output === null ? null : [...impl.output]), enumerable: true },
    constants: { get: () => ({ ...impl.constants }), enumerable: true },
    pipeline: { get: () => impl.pipeline, enumerable: true },
    mode: { get: () => impl.host.mode, enumerable: true },
  });
  return f as unknown as Kernel<M> | PipelineKernel<M>;
}
