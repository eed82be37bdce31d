import {
  ArgumentError,
  DomainError,
  type DType,
  DtypeError,
  fromArray,
  MAX_RANK,
  ShapeError,
  type Tensor,
} from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';
import fc from 'fast-check';
import { EDGE_VALUES, flag } from './arbitraries.js';

/**
 * The most elements {@link tensorOf} draws for one tensor (2^20): fast-check draws (and shrinks) every
 * element, so larger tensors would take minutes per run. Larger drawn shapes are a ShapeError.
 */
export const MAX_DRAWN_ELEMENTS = 2 ** 20;

/** The largest dimension {@link shape} draws (fast-check's integer range). */
const MAX_DIM = 2 ** 31 - 1;

/** The most shapes {@link broadcastShapes} draws at once. */
const MAX_SHAPES = 256;

/** Options of {@link shape} (and of the base shape of {@link broadcastShapes}). */
export interface ShapeOptions {
  /** Fewest dimensions (default 0: scalars included). */
  minRank?: number;
  /** Most dimensions (default 4). */
  maxRank?: number;
  /** Largest size of one dimension (default 5). */
  maxDim?: number;
  /** Allow size-0 dimensions (empty tensors) (default false). */
  allowZero?: boolean;
  /**
   * Most elements in all (default: no limit beyond maxDim^maxRank). Larger draws are shrunk by lowering
   * their largest dimension, which keeps gradient checks (cost ~ size²) fast.
   */
  maxSize?: number;
}

function checkCount(op: string, arg: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ArgumentError(
      op,
      `argument '${arg}' must be an integer in [${min}, ${max}], got ${describeValue(v)}`,
    );
  }
  return v;
}

function limitSize(dims: number[], maxSize: number): number[] {
  const out = [...dims];
  if (out.includes(0)) return out;
  let size = out.reduce((a, d) => a * d, 1);
  while (size > maxSize) {
    let k = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[k]!) k = i;
    size = (size / out[k]!) * (out[k]! - 1);
    out[k]! -= 1;
  }
  return out;
}

/**
 * Tensor shapes: a rank drawn uniformly in [minRank, maxRank] and each dimension in [1, maxDim] (or
 * [0, maxDim] with `allowZero`): 1 with weight 2, a uniform size in [2, maxDim] with weight 5, 0 with
 * weight 1 when allowed. Shrinks toward lower ranks and size-1 dimensions.
 *
 * @throws ArgumentError on unknown options, negative or inconsistent bounds, a rank above MAX_RANK (64) or a
 *   dimension above 2^31 - 1
 */
export function shape(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  return shapeOf('shape', opts);
}

function shapeOf(op: string, opts: ShapeOptions): fc.Arbitrary<number[]> {
  checkOptionKeys(op, 'opts', opts, ['minRank', 'maxRank', 'maxDim', 'allowZero', 'maxSize']);
  const minRank = checkCount(op, 'minRank', ownValue(opts, 'minRank') ?? 0, 0, MAX_RANK);
  const maxRank = checkCount(
    op,
    'maxRank',
    ownValue(opts, 'maxRank') ?? Math.max(4, minRank),
    minRank,
    MAX_RANK,
  );
  const maxDim = checkCount(op, 'maxDim', ownValue(opts, 'maxDim') ?? 5, 1, MAX_DIM);
  const allowZero = flag(op, opts, 'allowZero', false);
  const rawMaxSize = ownValue(opts, 'maxSize');
  const maxSize =
    rawMaxSize === undefined ? undefined : checkCount(op, 'maxSize', rawMaxSize, 1, Number.MAX_SAFE_INTEGER);
  // Unbiased draws, so that mid-sized shapes are common; size 1 (broadcasting) and size 0 (empty tensors)
  // get their own share.
  const parts: Array<fc.WeightedArbitrary<number>> = [{ arbitrary: fc.constant(1), weight: 2 }];
  if (maxDim >= 2) parts.push({ arbitrary: fc.noBias(fc.integer({ min: 2, max: maxDim })), weight: 5 });
  if (allowZero) parts.push({ arbitrary: fc.constant(0), weight: 1 });
  const dim = fc.oneof(...parts);
  const dims = fc
    .noBias(fc.integer({ min: minRank, max: maxRank }))
    .chain((rank) => fc.array(dim, { minLength: rank, maxLength: rank }));
  if (maxSize === undefined) return dims;
  return dims.map((d) => limitSize(d, maxSize));
}

/** Options of {@link broadcastShapes}: the options of the broadcast (result) shape. */
export interface BroadcastShapesOptions extends ShapeOptions {}

/**
 * `n` shapes that broadcast together (NumPy/PyTorch rules). A result shape is drawn with {@link shape}; each
 * of the `n` shapes drops a random number of its leading dimensions and replaces random dimensions by 1.
 * With `allowZero`, a size-0 dimension of the result appears in each shape as 0 or as 1.
 *
 * @returns arrays of `n` shapes (the broadcast of which is never larger than the drawn result shape)
 * @throws ArgumentError when `n` is not an integer in [1, 256], or as {@link shape} for `opts`
 */
export function broadcastShapes(n: number, opts: BroadcastShapesOptions = {}): fc.Arbitrary<number[][]> {
  checkCount('broadcastShapes', 'n', n, 1, MAX_SHAPES);
  return shapeOf('broadcastShapes', opts).chain((out) => {
    // Half the shapes keep every dimension; the others drop a uniform number of leading ones. Each kept
    // dimension becomes 1 with probability 1/4.
    const drop = fc.oneof(fc.constant(0), fc.noBias(fc.integer({ min: 0, max: out.length })));
    const toOne = fc.noBias(fc.integer({ min: 0, max: 3 })).map((k) => k === 0);
    const one = fc
      .record({ drop, ones: fc.array(toOne, { minLength: out.length, maxLength: out.length }) })
      .map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop]! ? 1 : d)));
    return fc.tuple(...Array.from({ length: n }, () => one));
  });
}

/** Options of {@link tensorOf}. */
export interface TensorOptions {
  /** Element type (default float64). */
  dtype?: DType;
  /** Smallest value (default -10). */
  min?: number;
  /** Largest value (default 10). */
  max?: number;
  /**
   * Keep values out of (-minAbs, minAbs) (default 0: no gap), e.g. to stay away from the kink of abs/relu or
   * the pole of 1/x where finite differences cannot judge a gradient.
   */
  minAbs?: number;
  /** Make the tensor a leaf that requires grad (default false). */
  requiresGrad?: boolean;
  /**
   * Mix in edge values that lie in [min, max]: min, max, 0, -0, ±5e-324, ±1e-300, ±1e300, ±MAX_VALUE (and
   * their float32 roundings for float32). Off by default: edge values are for value tests, not for finite
   * differences.
   */
  edges?: boolean;
  /** Draw elements from this arbitrary instead (min/max/minAbs/edges are then ignored). */
  values?: fc.Arbitrary<number>;
}

const TENSOR_KEYS = ['dtype', 'min', 'max', 'minAbs', 'requiresGrad', 'edges', 'values'];

function finiteOption(opts: object, key: string, fallback: number): number {
  const v = ownValue(opts, key) ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError('tensorOf', `option '${key}' must be a finite number, got ${describeValue(v)}`);
  }
  return v;
}

function elementArbitrary(opts: TensorOptions, dtype: DType): fc.Arbitrary<number> {
  const values = ownValue(opts, 'values');
  if (values !== undefined) {
    if (!(values instanceof fc.Arbitrary)) {
      throw new ArgumentError(
        'tensorOf',
        `option 'values' must be a fast-check Arbitrary, got ${describeValue(values)}`,
      );
    }
    return values as fc.Arbitrary<number>;
  }
  const r = dtype === 'float32' ? Math.fround : (x: number) => x;
  const min = finiteOption(opts, 'min', -10);
  const max = finiteOption(opts, 'max', 10);
  const minAbs = finiteOption(opts, 'minAbs', 0);
  const edges = flag('tensorOf', opts, 'edges', false);
  if (!(min <= max) || !(minAbs >= 0)) {
    throw new ArgumentError(
      'tensorOf',
      `needs min <= max and minAbs >= 0, got min ${min}, max ${max}, minAbs ${minAbs}`,
    );
  }
  const keep = (x: number) => Math.abs(x) >= minAbs && x >= min && x <= max;
  // fast-check's float() needs float32 bounds inside [lo, hi]; undefined when none exists.
  const float32Range = (lo: number, hi: number): [number, number] | undefined => {
    const a = Math.fround(lo) < lo ? nextUp32(lo) : Math.fround(lo);
    const b = Math.fround(hi) > hi ? nextDown32(hi) : Math.fround(hi);
    return a <= b && Number.isFinite(a) && Number.isFinite(b) ? [a, b] : undefined;
  };
  const range = (lo: number, hi: number): fc.Arbitrary<number> | undefined => {
    if (dtype === 'float64') return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
    const f = float32Range(lo, hi);
    return f && fc.float({ min: f[0], max: f[1], noNaN: true, noDefaultInfinity: true });
  };
  let base: fc.Arbitrary<number> | undefined;
  if (minAbs > 0) {
    // Draw a magnitude and a sign instead of filtering, so narrow gaps do not starve the generator.
    const parts: fc.Arbitrary<number>[] = [];
    const pos = max >= minAbs ? range(Math.max(minAbs, min), max) : undefined;
    const neg = min <= -minAbs ? range(min, Math.min(-minAbs, max)) : undefined;
    if (pos) parts.push(pos);
    if (neg) parts.push(neg);
    base = parts.length > 0 ? fc.oneof(...parts) : undefined;
  } else base = range(min, max);
  if (base === undefined) {
    throw new DomainError(
      'tensorOf',
      `no ${dtype} value in [${min}, ${max}]${minAbs > 0 ? ` has |x| >= minAbs ${minAbs}` : ''}`,
    );
  }
  if (!edges) return base;
  const extra = [...new Set([min, max, ...EDGE_VALUES].map(r))].filter((x) => keep(x) && Number.isFinite(x));
  if (extra.length === 0) return base;
  return fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constantFrom(...extra), weight: 1 });
}

/** Checks a shape to draw a tensor of: at most MAX_RANK non-negative integers, at most MAX_DRAWN_ELEMENTS. */
function checkDrawnShape(op: string, s: unknown): number[] {
  if (!Array.isArray(s) || s.length > MAX_RANK) {
    throw new ShapeError(
      op,
      `a shape must be an array of at most ${MAX_RANK} sizes, got ${describeValue(s)}`,
    );
  }
  const dims = [...s];
  let n = 1;
  dims.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(op, `size ${i} of the shape is ${describeValue(d)}, not a non-negative integer`);
    }
    n *= d;
  });
  if (n > MAX_DRAWN_ELEMENTS) {
    throw new ShapeError(
      op,
      `shape [${dims.join(', ')}] has ${n} elements; tensorOf draws at most ${MAX_DRAWN_ELEMENTS} (2^20)`,
    );
  }
  return dims;
}

function nextUp32(x: number): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  if (f[0]! >= x) return f[0]!;
  i[0] = f[0]! >= 0 ? i[0]! + 1 : i[0]! - 1;
  return f[0]!;
}

function nextDown32(x: number): number {
  return -nextUp32(-x);
}

/**
 * gradkit tensors of a given shape (or of shapes drawn from an arbitrary), with elements drawn by fast-check
 * (so they are reproducible from the property's seed and shrink toward simple values). Elements are finite;
 * for float32 they are exact float32 values inside [min, max].
 *
 * Every drawn tensor is a fresh leaf, but fast-check may hand the same object to a property again while
 * shrinking: call `zeroGrad()` before a `backward()` that accumulates into it, or use `grad()`.
 *
 * @throws ArgumentError on unknown options or inconsistent value bounds; DomainError when no value of the
 *   dtype lies in the range; ShapeError for a shape that is not a list of non-negative integers or has more
 *   than 2^20 elements (when drawn, for shapes from an arbitrary)
 */
export function tensorOf(
  shapeOrArb: readonly number[] | fc.Arbitrary<readonly number[]>,
  opts: TensorOptions = {},
): fc.Arbitrary<Tensor> {
  const op = 'tensorOf';
  checkOptionKeys(op, 'opts', opts, TENSOR_KEYS);
  const dtype = ownValue(opts, 'dtype') ?? 'float64';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DtypeError(op, `option 'dtype' must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  }
  const requiresGrad = flag(op, opts, 'requiresGrad', false);
  const element = elementArbitrary(opts, dtype);
  const shapes =
    shapeOrArb instanceof fc.Arbitrary
      ? (shapeOrArb as fc.Arbitrary<unknown>)
      : fc.constant(checkDrawnShape(op, shapeOrArb));
  return shapes.chain((drawn) => {
    const s = checkDrawnShape(op, drawn);
    const n = s.reduce((a, d) => a * d, 1);
    return fc
      .array(element, { minLength: n, maxLength: n })
      .map((values) => fromArray(values, s, { dtype, requiresGrad }));
  });
}

/**
 * One tensor per shape of a drawn list of shapes — typically `tensorsOf(broadcastShapes(2), ...)` for the
 * inputs of a binary op. `opts` applies to all of them, or give one options object per input.
 *
 * @throws ArgumentError when `shapes` is not an arbitrary, `opts` is neither an options object nor an array
 *   of them, or (when drawn) the number of option objects differs from the number of shapes; the errors of
 *   {@link tensorOf}
 */
export function tensorsOf(
  shapes: fc.Arbitrary<ReadonlyArray<readonly number[]>>,
  opts: TensorOptions | readonly TensorOptions[] = {},
): fc.Arbitrary<Tensor[]> {
  const op = 'tensorsOf';
  if (!(shapes instanceof fc.Arbitrary)) {
    throw new ArgumentError(
      op,
      `argument 'shapes' must be a fast-check Arbitrary, got ${describeValue(shapes)}`,
    );
  }
  const list = Array.isArray(opts) ? [...opts] : undefined;
  // Check the options now, not at the first draw.
  for (const o of list ?? [opts as TensorOptions]) tensorOf([], o);
  return shapes.chain((drawn) => {
    if (!Array.isArray(drawn) || drawn.length > MAX_SHAPES) {
      throw new ArgumentError(
        op,
        `'shapes' must draw arrays of at most ${MAX_SHAPES} shapes, got ${describeValue(drawn)}`,
      );
    }
    if (list !== undefined && list.length !== drawn.length) {
      throw new ArgumentError(op, `got ${list.length} option objects for ${drawn.length} shapes`);
    }
    const per = (i: number): TensorOptions => (list !== undefined ? list[i]! : (opts as TensorOptions));
    return fc.tuple(...[...drawn].map((s, i) => tensorOf(s, per(i))));
  });
}
