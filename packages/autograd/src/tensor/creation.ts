import { ArgumentError, checkOptionKeys, DomainError, describeValue, ownValue } from '@gradkit/kernels';
import { readFlatData, readTensorData, type TensorData } from './data.js';
import { getDefaultDevice, isDevice, toDevice } from './device.js';
import { allocate, checkDtype, DEFAULT_DTYPE, type DType, type Storage } from './dtype.js';
import { defaultGenerator, Generator } from './random.js';
import { checkShape, checkSize, MAX_ELEMENTS, show, sizeOf } from './shape.js';
import { checkTensor, type Device, Tensor } from './tensor.js';

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type (default float32, or the typed array's own type for `tensor(typedArray)`). */
  dtype?: DType;
  /** Track gradients for this leaf (default false). */
  requiresGrad?: boolean;
  /**
   * Where the tensor lives (default: {@link getDefaultDevice}, or the device of `t` for `zerosLike` /
   * `onesLike`). On `'webgpu'` the values are made on the cpu and uploaded (after `await initWebGPU()`).
   */
  device?: Device;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from (default: the one seeded by `manualSeed`). */
  generator?: Generator;
}

/** A shape argument: a list of sizes, or one number for a 1-D shape (as `torch.zeros(3)`). */
export type ShapeLike = number | readonly number[];

const CREATE_KEYS = ['dtype', 'requiresGrad', 'device'] as const;
const RANDOM_KEYS = ['dtype', 'requiresGrad', 'device', 'generator'] as const;

interface ReadOptions {
  op: string;
  dtype: DType | undefined;
  requiresGrad: boolean;
  generator: Generator;
  device: Device | undefined;
}

/**
 * Validates an options object (own keys only, no unknown keys) and reads it.
 *
 * @throws ArgumentError on a non-object, an unknown key, or a `requiresGrad`/`generator`/`device` of the wrong
 *   type
 * @throws DtypeError on an unknown dtype
 */
function readOptions(op: string, opts: unknown, keys: readonly string[] = CREATE_KEYS): ReadOptions {
  checkOptionKeys(op, 'options', opts, keys);
  if (opts === undefined) {
    return { op, dtype: undefined, requiresGrad: false, generator: defaultGenerator, device: undefined };
  }
  const o = opts as object;
  const dtype = ownValue(o, 'dtype');
  const requiresGrad = ownValue(o, 'requiresGrad') ?? false;
  const generator = ownValue(o, 'generator') ?? defaultGenerator;
  const device = ownValue(o, 'device');
  if (device !== undefined && !isDevice(device)) {
    throw new ArgumentError(op, `option 'device' must be 'cpu' or 'webgpu', got ${describeValue(device)}`);
  }
  if (typeof requiresGrad !== 'boolean') {
    throw new ArgumentError(
      op,
      `option 'requiresGrad' must be a boolean, got ${describeValue(requiresGrad)}`,
    );
  }
  if (!(generator instanceof Generator)) {
    throw new ArgumentError(op, `option 'generator' must be a Generator, got ${describeValue(generator)}`);
  }
  return {
    op,
    dtype: dtype === undefined ? undefined : checkDtype(op, dtype),
    requiresGrad,
    generator,
    device: device as Device | undefined,
  };
}

/**
 * The new leaf on the requested device (the default device when none is given): made on the cpu, then
 * uploaded for `'webgpu'`, where it keeps `requiresGrad` (a webgpu leaf whose gradient is computed on the
 * device).
 */
function leaf(data: Storage, shape: readonly number[], o: ReadOptions): Tensor {
  const device = o.device ?? getDefaultDevice();
  if (device === 'cpu') return new Tensor(data, shape, o.requiresGrad);
  const out = toDevice(new Tensor(data, shape), device, o.op);
  if (o.requiresGrad) out.requiresGrad = true;
  return out;
}

/** Checks a number argument of a creation function. */
function numberArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') {
    throw new ArgumentError(op, `argument '${name}' must be a number, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * A tensor from data (copied): a number or boolean (0-d), nested arrays of numbers and booleans (true is 1),
 * a typed array of any numeric kind (1-D), or nested arrays whose innermost rows are typed arrays. Values
 * are converted to `dtype`, as `torch.tensor(data, dtype=...)` does. Without `dtype`: float32 for numbers
 * and booleans; for typed arrays the smallest float type that holds every value of the element type exactly
 * (float64 for Float64Array, Int32Array, Uint32Array and the BigInt arrays; float32 for the others; nested
 * typed-array rows use float64 if any row needs it). BigInt elements beyond ±2^53 are refused.
 *
 * @throws ShapeError naming the position (`data[0][2]`) of a hole, a non-number, or a ragged row; on data
 *   nested deeper than 64 levels or with more than 2^31 − 1 elements
 * @throws ArgumentError when `data` is none of the above, or reading it runs user code that throws
 * @throws DomainError on a BigInt beyond ±2^53
 * @throws DtypeError on an unknown dtype
 */
export function tensor(data: TensorData, opts?: CreateOptions): Tensor {
  const o = readOptions('tensor', opts);
  const r = readTensorData('tensor', data, o.dtype);
  return leaf(r.data, r.shape, o);
}

/**
 * A tensor of `shape` over existing flat data (copied), row-major: an array of numbers/booleans or a typed
 * array (default dtype as for {@link tensor}).
 *
 * @throws ShapeError when the length does not match the shape, or on holes and non-numbers
 */
export function fromArray(
  data: ArrayLike<number> | TensorData,
  shape: ShapeLike,
  opts?: CreateOptions,
): Tensor {
  const o = readOptions('fromArray', opts);
  const s = checkShape('fromArray', shape);
  return leaf(readFlatData('fromArray', data, sizeOf(s), s, o.dtype), s, o);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: ShapeLike, value: number, opts?: CreateOptions): Tensor {
  return fill('full', shape, value, opts);
}

function fill(op: string, shape: ShapeLike, value: unknown, opts: unknown): Tensor {
  const s = checkShape(op, shape);
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ArgumentError(op, `argument 'value' must be a number, got ${describeValue(value)}`);
  }
  const o = readOptions(op, opts);
  const out = allocate(o.dtype ?? DEFAULT_DTYPE, sizeOf(s), op, s);
  out.fill(Number(value));
  return leaf(out, s, o);
}

/** A tensor of zeros. */
export function zeros(shape: ShapeLike, opts?: CreateOptions): Tensor {
  return fill('zeros', shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: ShapeLike, opts?: CreateOptions): Tensor {
  return fill('ones', shape, 1, opts);
}

/** Zeros with the shape, dtype and device of `t`. */
export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  checkTensor('zerosLike', 't', t);
  const o = readOptions('zerosLike', opts);
  return fill('zerosLike', t.shape, 0, {
    dtype: o.dtype ?? t.dtype,
    requiresGrad: o.requiresGrad,
    device: o.device ?? t.device,
  });
}

/** Ones with the shape, dtype and device of `t`. */
export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  checkTensor('onesLike', 't', t);
  const o = readOptions('onesLike', opts);
  return fill('onesLike', t.shape, 1, {
    dtype: o.dtype ?? t.dtype,
    requiresGrad: o.requiresGrad,
    device: o.device ?? t.device,
  });
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`, like `torch.arange`; `arange(n)` is 0..n-1.
 * Element i is `start + i * step` (computed in float64, then stored in the dtype).
 *
 * @throws DomainError when `step` is 0 or has the wrong sign, a bound is not finite, or the result would be
 *   too large to allocate
 */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  numberArg('arange', 'start', start);
  if (end !== undefined) numberArg('arange', 'end', end);
  numberArg('arange', 'step', step);
  const o = readOptions('arange', opts);
  const [a, b] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    throw new DomainError('arange', `start and end must be finite numbers, got start ${a}, end ${b}`);
  }
  if (step === 0 || !Number.isFinite(step))
    throw new DomainError('arange', `step must be finite and non-zero, got ${step}`);
  if ((b - a) * step < 0) {
    throw new DomainError(
      'arange',
      `upper bound and larger bound inconsistent with step sign: start ${a}, end ${b}, step ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((b - a) / step));
  if (!Number.isSafeInteger(n) || n > MAX_ELEMENTS) {
    throw new DomainError(
      'arange',
      `start ${a}, end ${b}, step ${step} would give ${n} elements (at most ${MAX_ELEMENTS})`,
    );
  }
  const out = allocate(o.dtype ?? DEFAULT_DTYPE, n, 'arange', [n]);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  return leaf(out, [n], o);
}

/**
 * `steps` evenly spaced values from `start` to `end`, both included.
 *
 * @throws DomainError when `steps` is negative or not an integer, or a bound is not finite
 * @throws ShapeError when `steps` exceeds 2^31 − 1
 */
export function linspace(start: number, end: number, steps: number, opts?: CreateOptions): Tensor {
  numberArg('linspace', 'start', start);
  numberArg('linspace', 'end', end);
  numberArg('linspace', 'steps', steps);
  const o = readOptions('linspace', opts);
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new DomainError('linspace', `start and end must be finite numbers, got start ${start}, end ${end}`);
  }
  if (!Number.isInteger(steps) || steps < 0)
    throw new DomainError('linspace', `steps must be a non-negative integer, got ${steps}`);
  checkSize('linspace', [steps]);
  const out = allocate(o.dtype ?? DEFAULT_DTYPE, steps, 'linspace', [steps]);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) out[i] = i === steps - 1 && steps > 1 ? end : start + i * h;
  return leaf(out, [steps], o);
}

/** The `n × m` identity matrix (`m` defaults to `n`). */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  const s = checkShape('eye', [n, m]);
  const o = readOptions('eye', opts);
  const out = allocate(o.dtype ?? DEFAULT_DTYPE, n * m, 'eye', s);
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return leaf(out, s, o);
}

/**
 * Uniform samples in [0, 1) from a seeded generator: 24 random bits per float32 element (so none rounds up
 * to 1), 53 per float64 element.
 */
export function rand(shape: ShapeLike, opts?: RandomOptions): Tensor {
  const s = checkShape('rand', shape);
  const o = readOptions('rand', opts, RANDOM_KEYS);
  const g = o.generator;
  const dtype = o.dtype ?? DEFAULT_DTYPE;
  const out = allocate(dtype, sizeOf(s), 'rand', s);
  if (dtype === 'float32') for (let i = 0; i < out.length; i++) out[i] = g.random32();
  else for (let i = 0; i < out.length; i++) out[i] = g.random();
  return leaf(out, s, o);
}

/** Standard normal samples from a seeded generator. */
export function randn(shape: ShapeLike, opts?: RandomOptions): Tensor {
  const s = checkShape('randn', shape);
  const o = readOptions('randn', opts, RANDOM_KEYS);
  const g = o.generator;
  const out = allocate(o.dtype ?? DEFAULT_DTYPE, sizeOf(s), 'randn', s);
  for (let i = 0; i < out.length; i++) out[i] = g.normal();
  return leaf(out, s, o);
}

/**
 * Uniform integers in [low, high) (stored as floats: gradkit tensors are float32/float64).
 *
 * @throws ArgumentError when the bounds are not integers with low < high
 * @throws DomainError when a bound is beyond the integers the dtype stores exactly (2^24 for float32, 2^53
 *   for float64), where samples would be rounded (possibly to `high`)
 */
export function randint(low: number, high: number, shape: ShapeLike, opts?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || low >= high) {
    throw new ArgumentError('randint', `needs integers low < high, got low ${show(low)}, high ${show(high)}`);
  }
  const s = checkShape('randint', shape);
  const o = readOptions('randint', opts, RANDOM_KEYS);
  const g = o.generator;
  const dtype = o.dtype ?? DEFAULT_DTYPE;
  const exact = dtype === 'float32' ? 2 ** 24 : 2 ** 53;
  if (Math.abs(low) > exact || Math.abs(high) > exact) {
    throw new DomainError(
      'randint',
      `bounds low ${low}, high ${high} exceed the integers ${dtype} stores exactly (±${exact})`,
    );
  }
  const out = allocate(dtype, sizeOf(s), 'randint', s);
  for (let i = 0; i < out.length; i++) out[i] = g.integer(low, high);
  return leaf(out, s, o);
}

/** A scalar (0-d) tensor. */
export function scalarTensor(value: number, opts?: CreateOptions): Tensor {
  return fill('scalarTensor', [], value, opts);
}
