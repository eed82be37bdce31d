import { ArgumentError, CompileError, ShapeError } from '../errors.js';
import { describeValue } from '../util/own.js';

/**
 * Validation of everything a user passes to `createKernel` / `new GPU` besides the kernel's source: setting
 * keys, constants, output sizes and loop caps. Objects are read by own keys only, so a polluted
 * `Object.prototype` never changes a kernel, and only validated numbers ever reach generated code.
 */

/** The settings of `createKernel` that gradkit implements. */
export const KERNEL_SETTINGS: readonly string[] = [
  'output',
  'constants',
  'pipeline',
  'precision',
  'loopMaxIterations',
  'functions',
  'immutable',
  'dynamicOutput',
  'dynamicArguments',
  'argumentTypes',
  'returnType',
  'nativeFunctions',
  'graphical',
  'seed',
];

/**
 * GPU.js `createKernel` settings that only tune GPU.js's WebGL code generation (or its warnings) and so do not
 * change any result: accepted and ignored, so that GPU.js code runs unchanged.
 */
export const IGNORED_GPUJS_KERNEL_SETTINGS: readonly string[] = [
  'tactic',
  'optimizeFloatMemory',
  'fixIntegerDivisionAccuracy',
  'strictIntegers',
  'useLegacyEncoder',
  'warnVarUsage',
  'debug',
  'validate',
  'hardcodeConstants',
  'constantTypes',
  'mode',
  'canvas',
  'context',
];

/** GPU.js settings that change what a kernel computes or returns and that gradkit does not implement. */
const UNSUPPORTED_GPUJS_KERNEL_SETTINGS: Readonly<Record<string, string>> = {
  subKernels: 'sub-kernels are made with gpu.createKernelMap(subKernels, fn, settings)',
  mappedKernels: 'mapped kernels are made with gpu.createKernelMap(subKernels, fn, settings)',
  injectedNative: 'injected native (GLSL) code is not supported',
  outputToTexture: 'textures are not supported; use pipeline: true to keep results on the device',
};

/** The settings of `new GPU(...)` that gradkit implements. */
export const GPU_SETTINGS: readonly string[] = ['mode', 'device', 'functions', 'nativeFunctions'];

/** GPU.js `new GPU(...)` settings that only concern WebGL rendering: accepted and ignored. */
export const IGNORED_GPUJS_GPU_SETTINGS: readonly string[] = ['canvas', 'context'];

/** The most output elements (2^31 - 1): the largest count every JavaScript engine's typed arrays hold. */
export const MAX_OUTPUT_ELEMENTS = 2 ** 31 - 1;

/**
 * Checks a settings object's own keys: implemented keys and the ignored GPU.js keys pass; anything else is an
 * ArgumentError listing the valid keys.
 *
 * @throws ArgumentError when `settings` is not an object or has an unknown key
 */
export function checkSettingKeys(
  op: string,
  settings: unknown,
  known: readonly string[],
  ignored: readonly string[],
  what: string,
): asserts settings is object {
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
    throw new ArgumentError(op, `${what} must be an object, got ${describeValue(settings)}`);
  }
  for (const key of Reflect.ownKeys(settings)) {
    if (typeof key === 'string' && (known.includes(key) || ignored.includes(key))) continue;
    const name = typeof key === 'string' ? key : String(key);
    const why =
      typeof key === 'string' && Object.hasOwn(UNSUPPORTED_GPUJS_KERNEL_SETTINGS, key)
        ? ` (a GPU.js setting: ${UNSUPPORTED_GPUJS_KERNEL_SETTINGS[key]})`
        : '';
    throw new ArgumentError(
      op,
      `unknown setting '${name}'${why} (supported: ${known.join(', ')}; accepted and ignored for GPU.js ` +
        `compatibility: ${ignored.join(', ')})`,
    );
  }
}

/**
 * Reads an own data property of a settings object. Accessors are refused, so reading settings never runs
 * user code.
 *
 * @throws ArgumentError for an accessor property
 */
export function ownSetting(op: string, obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (d === undefined) return undefined;
  if (!('value' in d)) throw new ArgumentError(op, `setting '${key}' must be a plain value, not a getter`);
  return d.value;
}

/**
 * Validates kernel constants: a plain object whose own properties are numbers (finite or not). Anything else
 * (string, boolean, bigint, object, array, function, getter, symbol key) is a CompileError naming the
 * constant, so that no value but a number is ever inlined into generated code.
 *
 * @returns a null-prototype copy (lookups never see inherited properties)
 * @throws CompileError naming the offending constant
 */
export function checkConstants(constants: unknown, op: string): Readonly<Record<string, number>> {
  const out = Object.create(null) as Record<string, number>;
  if (constants === undefined) return out;
  if (constants === null || typeof constants !== 'object' || Array.isArray(constants)) {
    throw new CompileError(op, `'constants' must be an object of numbers, got ${describeValue(constants)}`);
  }
  for (const key of Reflect.ownKeys(constants)) {
    if (typeof key !== 'string') {
      throw new CompileError(op, `constant names must be strings, got ${String(key)}`);
    }
    const d = Object.getOwnPropertyDescriptor(constants, key)!;
    if (!d.enumerable) continue;
    if (!('value' in d)) {
      throw new CompileError(
        op,
        `constant ${JSON.stringify(key)} is a getter; constants must be plain numbers`,
      );
    }
    const v: unknown = d.value;
    if (typeof v !== 'number') {
      const hint = Array.isArray(v) || ArrayBuffer.isView(v) ? '; pass arrays as kernel arguments' : '';
      throw new CompileError(
        op,
        `constant ${JSON.stringify(key)} must be a number, got ${describeValue(v)} (only number constants ` +
          `are supported${hint})`,
      );
    }
    out[key] = v;
  }
  return out;
}

/** The value of constant `name`, by own key only (undefined when not set). */
export function constantValue(constants: Readonly<Record<string, number>>, name: string): number | undefined {
  return Object.hasOwn(constants, name) ? constants[name] : undefined;
}

/**
 * The value of constant `name` for inlining into generated code: re-checked to be a number, so that nothing
 * else can reach the source even if a caller bypassed {@link checkConstants}.
 *
 * @throws CompileError when it is not set or not a number
 */
export function inlinedConstant(constants: Readonly<Record<string, number>>, name: string): number {
  const v: unknown = constantValue(constants, name);
  if (typeof v !== 'number') {
    throw new CompileError(
      'kernel',
      `constant ${JSON.stringify(name)} is not a number (${describeValue(v)})`,
    );
  }
  return v;
}

/**
 * Validates `loopMaxIterations`: a positive integer that fits a 32-bit signed counter.
 *
 * @throws ArgumentError otherwise
 */
export function checkLoopMax(n: unknown, op: string): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw new ArgumentError(
      op,
      `'loopMaxIterations' must be a positive integer up to 2^31 - 1, got ${describeValue(n)}`,
    );
  }
  return n;
}

/**
 * Normalises an output size (`[x]`, `[x, y]`, `[x, y, z]` or `{ x, y?, z? }`, read by own keys) to 1-3
 * positive integers whose product is at most {@link MAX_OUTPUT_ELEMENTS}. Nothing is allocated before this
 * check passes.
 *
 * @throws ShapeError otherwise, naming the size
 */
export function checkOutput(output: unknown, op: string): number[] {
  let size: unknown[];
  if (Array.isArray(output)) {
    if (output.length < 1 || output.length > 3) {
      throw new ShapeError(
        op,
        `'output' must be 1 to 3 positive integers, got ${describeValue(output)} (at most 3 dimensions)`,
      );
    }
    size = [];
    for (let i = 0; i < output.length; i++) size.push(Object.hasOwn(output, i) ? output[i] : undefined);
  } else if (output !== null && typeof output === 'object' && Object.hasOwn(output, 'x')) {
    const o = output as object;
    for (const key of Reflect.ownKeys(o)) {
      if (key !== 'x' && key !== 'y' && key !== 'z') {
        throw new ShapeError(
          op,
          `'output' as an object has only the keys x, y and z, got ${typeof key === 'string' ? JSON.stringify(key) : String(key)}`,
        );
      }
    }
    const get = (k: 'x' | 'y' | 'z'): unknown => {
      const d = Object.getOwnPropertyDescriptor(o, k);
      return d !== undefined && 'value' in d ? d.value : d === undefined ? undefined : Number.NaN;
    };
    size = [get('x')];
    const y = get('y');
    const z = get('z');
    if (z !== undefined && y === undefined) {
      throw new ShapeError(op, "'output' has z but no y; give { x, y, z }");
    }
    if (y !== undefined) size.push(y);
    if (z !== undefined) size.push(z);
  } else {
    throw new ShapeError(
      op,
      `'output' must be [x], [x, y], [x, y, z] or { x, y, z }, got ${describeValue(output)}`,
    );
  }
  const shown = size.map((s) => (typeof s === 'number' ? String(s) : describeValue(s))).join(', ');
  if (
    size.length < 1 ||
    size.length > 3 ||
    size.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 1)
  ) {
    throw new ShapeError(op, `'output' must be 1 to 3 positive integers, got [${shown}]`);
  }
  const dims = size as number[];
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > MAX_OUTPUT_ELEMENTS) {
    throw new ShapeError(
      op,
      `'output' [${shown}] has ${n} elements, more than the ${MAX_OUTPUT_ELEMENTS} (2^31 - 1) a kernel output can hold`,
    );
  }
  return dims;
}

/** What a GPU.js argument type name asks of an argument: a number, or an array of `dims` dimensions. */
export interface ArgumentTypeSpec {
  /** The GPU.js type name as given. */
  readonly name: string;
  readonly kind: 'number' | 'array';
  /** The array's dimensions (with the vector components as the innermost one); undefined: any. */
  readonly dims?: 1 | 2 | 3;
  /** For `Array(n)`, `Array1D(n)`, `Array2D(n)`: the vector size n, the size of the innermost dimension. */
  readonly width?: 2 | 3 | 4;
}

const NUMBER_TYPES = ['Number', 'Float', 'Integer', 'Boolean', 'LiteralInteger'];
const ANY_ARRAY_TYPES = ['Input', 'NumberTexture', 'MemoryOptimizedNumberTexture', 'ArrayTexture(1)'];
const IMAGE_TYPES = [
  'HTMLCanvas',
  'OffscreenCanvas',
  'HTMLImage',
  'ImageBitmap',
  'ImageData',
  'HTMLImageArray',
  'HTMLVideo',
];

/**
 * Reads one GPU.js argument type name (`Number`, `Float`, `Integer`, `Boolean`, `Array`, `Array(2)`,
 * `Array1D(3)`, `Array2D`, `Input`, `NumberTexture`, ...).
 *
 * @throws ArgumentError for an unknown name, an image type (not supported) or `Array3D(n)` (4 dimensions)
 */
export function argumentTypeSpec(op: string, what: string, t: unknown): ArgumentTypeSpec {
  if (typeof t !== 'string') {
    throw new ArgumentError(
      op,
      `${what} must be a GPU.js type name (e.g. 'Number', 'Array'), got ${describeValue(t)}`,
    );
  }
  if (NUMBER_TYPES.includes(t)) return { name: t, kind: 'number' };
  if (t === 'Array') return { name: t, kind: 'array', dims: 1 };
  if (t === 'Array2D') return { name: t, kind: 'array', dims: 2 };
  if (t === 'Array3D') return { name: t, kind: 'array', dims: 3 };
  if (ANY_ARRAY_TYPES.includes(t) || /^ArrayTexture\([234]\)$/.test(t)) return { name: t, kind: 'array' };
  const m = /^Array(|1D|2D|3D)\(([234])\)$/.exec(t);
  if (m) {
    const width = Number(m[2]) as 2 | 3 | 4;
    const dims = ({ '': 1, '1D': 2, '2D': 3, '3D': 4 } as const)[m[1] as '' | '1D' | '2D' | '3D'];
    if (dims === 4) {
      throw new ArgumentError(
        op,
        `${what} '${t}' would be a 4-dimensional array; arrays have at most 3 dimensions`,
      );
    }
    return { name: t, kind: 'array', dims, width };
  }
  if (IMAGE_TYPES.includes(t)) {
    throw new ArgumentError(
      op,
      `${what} '${t}': image, video and canvas arguments are not supported (kernels take numbers and arrays)`,
    );
  }
  throw new ArgumentError(
    op,
    `${what} '${t}' is not a GPU.js argument type (Number, Float, Integer, Boolean, Array, Array(2|3|4), ` +
      'Array1D(2|3|4), Array2D, Array2D(2|3|4), Array3D, Input, NumberTexture)',
  );
}

/**
 * Validates `argumentTypes`: an array (by position) or an object (by parameter name) of GPU.js type names.
 *
 * @returns one spec (or undefined) per parameter
 * @throws ArgumentError for a name that is not a parameter, too many entries, or a bad type name
 */
export function checkArgumentTypes(
  value: unknown,
  paramNames: readonly string[],
  op: string,
): (ArgumentTypeSpec | undefined)[] {
  const out: (ArgumentTypeSpec | undefined)[] = paramNames.map(() => undefined);
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    if (value.length > paramNames.length) {
      throw new ArgumentError(
        op,
        `'argumentTypes' has ${value.length} entries but the kernel takes ${paramNames.length} argument(s)`,
      );
    }
    for (let i = 0; i < value.length; i++) {
      const t: unknown = Object.hasOwn(value, i) ? value[i] : undefined;
      if (t !== undefined) out[i] = argumentTypeSpec(op, `argumentTypes[${i}]`, t);
    }
    return out;
  }
  if (typeof value !== 'object') {
    throw new ArgumentError(
      op,
      `'argumentTypes' must be an array or an object of type names, got ${describeValue(value)}`,
    );
  }
  for (const key of Reflect.ownKeys(value)) {
    const name = typeof key === 'string' ? key : String(key);
    const i = typeof key === 'string' ? paramNames.indexOf(key) : -1;
    if (i < 0) {
      throw new ArgumentError(
        op,
        `'argumentTypes' names '${name}', which is not a parameter (${paramNames.join(', ') || 'none'})`,
      );
    }
    out[i] = argumentTypeSpec(op, `argumentTypes.${name}`, ownSetting(op, value, name));
  }
  return out;
}

/**
 * Validates `returnType`: `Number`, `Float`, `Integer` (one number per thread) or `Array(2|3|4)` (a vector).
 *
 * @returns the number of values per thread, or undefined when not given
 * @throws ArgumentError otherwise
 */
export function checkReturnType(value: unknown, op: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'Number' || value === 'Float' || value === 'Integer' || value === 'LiteralInteger') return 1;
  const m = typeof value === 'string' ? /^Array\(([234])\)$/.exec(value) : null;
  if (m) return Number(m[1]);
  throw new ArgumentError(
    op,
    `'returnType' must be 'Number', 'Float', 'Integer' or 'Array(2)', 'Array(3)', 'Array(4)', got ${describeValue(value)}`,
  );
}

/**
 * Validates `precision`: `single` (default), `unsigned` (GPU.js's 8-bit-texture WebGL mode; computed exactly
 * like `single` here) or `double` (cpu only).
 *
 * @throws ArgumentError otherwise
 */
export function checkPrecision(value: unknown, op: string): 'single' | 'unsigned' | 'double' {
  const p = value ?? 'single';
  if (p !== 'single' && p !== 'double' && p !== 'unsigned') {
    throw new ArgumentError(
      op,
      `'precision' must be 'single', 'unsigned' or 'double', got ${describeValue(p)}`,
    );
  }
  return p;
}

/**
 * Validates `seed`: an integer (its low 32 bits seed Math.random), or undefined.
 *
 * @throws ArgumentError otherwise
 */
export function checkSeed(value: unknown, op: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ArgumentError(op, `'seed' must be an integer, got ${describeValue(value)}`);
  }
  return value >>> 0;
}

/**
 * `graphical`: only `false` (or undefined) is accepted.
 *
 * @throws ArgumentError for `true` or a non-boolean
 */
export function checkGraphical(value: unknown, op: string): void {
  if (value === undefined || value === false) return;
  throw new ArgumentError(
    op,
    `'graphical' output (rendering to a canvas) is not supported; kernels return numbers (got ${describeValue(value)})`,
  );
}
