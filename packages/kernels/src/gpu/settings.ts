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
  'argumentTypes',
];

/** GPU.js settings that change what a kernel computes or returns and that gradkit does not implement. */
const UNSUPPORTED_GPUJS_KERNEL_SETTINGS: Readonly<Record<string, string>> = {
  graphical: 'graphical (canvas) output is not supported; kernels return numbers',
  subKernels: 'sub-kernels are not supported; chain kernels with pipeline: true or combineKernels',
  mappedKernels: 'mapped kernels are not supported; chain kernels with pipeline: true or combineKernels',
  nativeFunctions: 'native (GLSL) functions are not supported; use functions written in JavaScript',
  injectedNative: 'injected native (GLSL) code is not supported',
  returnType: 'kernels always return one number per thread',
  constantTypes: 'constant types are inferred from the values',
  canvas: 'kernels do not render to a canvas',
  context: 'kernels do not use a WebGL context',
};

/** The settings of `new GPU(...)` that gradkit implements. */
export const GPU_SETTINGS: readonly string[] = ['mode', 'device'];

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
