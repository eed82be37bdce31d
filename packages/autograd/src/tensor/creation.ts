import { ArgumentError, DomainError, ShapeError } from '@gradkit/kernels';
import { allocate, checkDtype, DEFAULT_DTYPE, type DType, type Storage } from './dtype.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, fmt, sizeOf } from './shape.js';
import { type NestedArray, Tensor } from './tensor.js';

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type (default float32, or the typed array's own type for `tensor(typedArray)`). */
  dtype?: DType;
  /** Track gradients for this leaf (default false). */
  requiresGrad?: boolean;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from (default: the one seeded by `manualSeed`). */
  generator?: Generator;
}

/** The most elements a creation function allocates (the typed-array limit of current engines). */
const MAX_ELEMENTS = 2 ** 32;

function leaf(data: Storage, shape: readonly number[], opts: CreateOptions): Tensor {
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

function inferShape(x: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  const check = (v: NestedArray, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== 'number')
        throw new ShapeError(op, `element ${path} is not a number: ragged or invalid nesting`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(
        op,
        `ragged nested array: ${path || 'the top level'} should have ${shape[dim]} entries`,
      );
    }
    v.forEach((c, i) => {
      check(c, dim + 1, `${path}[${i}]`);
    });
  };
  check(x, 0, '');
  return shape;
}

/**
 * A tensor from a nested array of numbers or a typed array (copied). A Float32Array/Float64Array keeps its
 * dtype unless `dtype` says otherwise; nested arrays default to float32.
 *
 * @throws ShapeError on ragged nesting
 */
export function tensor(
  data: NestedArray | Float32Array | Float64Array | readonly number[],
  opts: CreateOptions = {},
): Tensor {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const dtype = checkDtype('tensor', opts.dtype ?? (data instanceof Float32Array ? 'float32' : 'float64'));
    const out = allocate(dtype, data.length);
    out.set(data);
    return leaf(out, [data.length], opts);
  }
  const nested = data as NestedArray;
  const shape = inferShape(nested, 'tensor');
  const dtype = checkDtype('tensor', opts.dtype ?? DEFAULT_DTYPE);
  const out = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (v: NestedArray) => {
    if (Array.isArray(v)) v.forEach(fill);
    else out[k++] = v;
  };
  fill(nested);
  return leaf(out, shape, opts);
}

/**
 * A tensor of `shape` over existing flat data (copied), row-major.
 *
 * @throws ShapeError when the length does not match the shape
 */
export function fromArray(
  data: ArrayLike<number>,
  shape: readonly number[],
  opts: CreateOptions = {},
): Tensor {
  const s = checkShape('fromArray', shape);
  if (data.length !== sizeOf(s)) {
    throw new ShapeError(
      'fromArray',
      `data has ${data.length} elements but shape ${fmt(s)} needs ${sizeOf(s)}`,
    );
  }
  const dtype = checkDtype(
    'fromArray',
    opts.dtype ??
      (data instanceof Float64Array ? 'float64' : data instanceof Float32Array ? 'float32' : DEFAULT_DTYPE),
  );
  const out = allocate(dtype, data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  return leaf(out, s, opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape('full', shape);
  const out = allocate(checkDtype('full', opts.dtype ?? DEFAULT_DTYPE), sizeOf(s));
  out.fill(value);
  return leaf(out, s, opts);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Zeros with the shape and dtype of `t`. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...opts });
}

/** Ones with the shape and dtype of `t`. */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...opts });
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`, like `torch.arange`; `arange(n)` is 0..n-1.
 * Element i is `start + i * step` (computed in float64, then stored in the dtype).
 *
 * @throws DomainError when `step` is 0 or has the wrong sign, a bound is not finite, or the result would be
 *   too large to allocate
 */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
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
  const out = allocate(checkDtype('arange', opts.dtype ?? DEFAULT_DTYPE), n);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  return leaf(out, [n], opts);
}

/**
 * `steps` evenly spaced values from `start` to `end`, both included.
 *
 * @throws DomainError when `steps` is negative or not an integer
 */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new DomainError('linspace', `steps must be a non-negative integer, got ${steps}`);
  const out = allocate(checkDtype('linspace', opts.dtype ?? DEFAULT_DTYPE), steps);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) out[i] = i === steps - 1 && steps > 1 ? end : start + i * h;
  return leaf(out, [steps], opts);
}

/** The `n × m` identity matrix (`m` defaults to `n`). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const s = checkShape('eye', [n, m]);
  const out = allocate(checkDtype('eye', opts.dtype ?? DEFAULT_DTYPE), n * m);
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return leaf(out, s, opts);
}

/**
 * Uniform samples in [0, 1) from a seeded generator: 24 random bits per float32 element (so none rounds up
 * to 1), 53 per float64 element.
 */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const s = checkShape('rand', shape);
  const g = opts.generator ?? defaultGenerator;
  const dtype = checkDtype('rand', opts.dtype ?? DEFAULT_DTYPE);
  const out = allocate(dtype, sizeOf(s));
  if (dtype === 'float32') for (let i = 0; i < out.length; i++) out[i] = g.random32();
  else for (let i = 0; i < out.length; i++) out[i] = g.random();
  return leaf(out, s, opts);
}

/** Standard normal samples from a seeded generator. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const s = checkShape('randn', shape);
  const g = opts.generator ?? defaultGenerator;
  const out = allocate(checkDtype('randn', opts.dtype ?? DEFAULT_DTYPE), sizeOf(s));
  for (let i = 0; i < out.length; i++) out[i] = g.normal();
  return leaf(out, s, opts);
}

/**
 * Uniform integers in [low, high) (stored as floats: gradkit tensors are float32/float64).
 *
 * @throws ArgumentError when the bounds are not integers with low < high
 * @throws DomainError when a bound is beyond the integers the dtype stores exactly (2^24 for float32, 2^53
 *   for float64), where samples would be rounded (possibly to `high`)
 */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: RandomOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || low >= high) {
    throw new ArgumentError('randint', `needs integers low < high, got low ${low}, high ${high}`);
  }
  const s = checkShape('randint', shape);
  const g = opts.generator ?? defaultGenerator;
  const dtype = checkDtype('randint', opts.dtype ?? DEFAULT_DTYPE);
  const exact = dtype === 'float32' ? 2 ** 24 : 2 ** 53;
  if (Math.abs(low) > exact || Math.abs(high) > exact) {
    throw new DomainError(
      'randint',
      `bounds low ${low}, high ${high} exceed the integers ${dtype} stores exactly (±${exact})`,
    );
  }
  const out = allocate(dtype, sizeOf(s));
  for (let i = 0; i < out.length; i++) out[i] = g.integer(low, high);
  return leaf(out, s, opts);
}

/** A scalar (0-d) tensor. */
export function scalarTensor(value: number, opts: CreateOptions = {}): Tensor {
  return full([], value, opts);
}
