import { ArgumentError, type DType, fromArray, type Tensor } from '@gradkit/autograd';
import fc from 'fast-check';
import { EDGE_VALUES } from './arbitraries.js';

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

function checkCount(op: string, arg: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new ArgumentError(op, `argument '${arg}' must be an integer >= ${min}, got ${v}`);
  }
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
 * @throws ArgumentError on negative or inconsistent bounds
 */
export function shape(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const minRank = opts.minRank ?? 0;
  const maxRank = opts.maxRank ?? 4;
  const maxDim = opts.maxDim ?? 5;
  checkCount('shape', 'minRank', minRank, 0);
  checkCount('shape', 'maxRank', maxRank, minRank);
  checkCount('shape', 'maxDim', maxDim, 1);
  // Unbiased draws, so that mid-sized shapes are common; size 1 (broadcasting) and size 0 (empty tensors)
  // get their own share.
  const parts: Array<fc.WeightedArbitrary<number>> = [{ arbitrary: fc.constant(1), weight: 2 }];
  if (maxDim >= 2) parts.push({ arbitrary: fc.noBias(fc.integer({ min: 2, max: maxDim })), weight: 5 });
  if (opts.allowZero) parts.push({ arbitrary: fc.constant(0), weight: 1 });
  const dim = fc.oneof(...parts);
  const dims = fc
    .noBias(fc.integer({ min: minRank, max: maxRank }))
    .chain((rank) => fc.array(dim, { minLength: rank, maxLength: rank }));
  const maxSize = opts.maxSize;
  if (maxSize === undefined) return dims;
  checkCount('shape', 'maxSize', maxSize, 1);
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
 * @throws ArgumentError when `n` is not a positive integer
 */
export function broadcastShapes(n: number, opts: BroadcastShapesOptions = {}): fc.Arbitrary<number[][]> {
  checkCount('broadcastShapes', 'n', n, 1);
  return shape(opts).chain((out) => {
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

function elementArbitrary(opts: TensorOptions, dtype: DType): fc.Arbitrary<number> {
  if (opts.values !== undefined) return opts.values;
  const r = dtype === 'float32' ? Math.fround : (x: number) => x;
  const min = opts.min ?? -10;
  const max = opts.max ?? 10;
  const minAbs = opts.minAbs ?? 0;
  if (!(min <= max) || !(minAbs >= 0)) {
    throw new ArgumentError(
      'tensorOf',
      `needs min <= max and minAbs >= 0, got min ${min}, max ${max}, minAbs ${minAbs}`,
    );
  }
  const keep = (x: number) => Math.abs(x) >= minAbs && x >= min && x <= max;
  let base: fc.Arbitrary<number>;
  if (dtype === 'float32') {
    // fast-check's float() needs float32 bounds inside [min, max].
    const lo = Math.fround(min) < min ? nextUp32(min) : Math.fround(min);
    const hi = Math.fround(max) > max ? nextDown32(max) : Math.fround(max);
    base = fc.float({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
  } else {
    base = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  }
  if (minAbs > 0) {
    // Draw a magnitude and a sign instead of filtering, so narrow gaps do not starve the generator.
    const pos = max >= minAbs;
    const neg = min <= -minAbs;
    if (!pos && !neg) {
      throw new ArgumentError('tensorOf', `no value in [${min}, ${max}] has |x| >= minAbs ${minAbs}`);
    }
    const side = (lo: number, hi: number) =>
      dtype === 'float32'
        ? fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true }).filter(keep)
        : fc.double({ min: lo, max: hi, noNaN: true });
    const parts: fc.Arbitrary<number>[] = [];
    if (pos) parts.push(side(Math.max(minAbs, min), max));
    if (neg) parts.push(side(min, Math.min(-minAbs, max)));
    base = fc.oneof(...parts);
  }
  if (!opts.edges) return base;
  const extra = [...new Set([min, max, ...EDGE_VALUES].map(r))].filter((x) => keep(x) && Number.isFinite(x));
  if (extra.length === 0) return base;
  return fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constantFrom(...extra), weight: 1 });
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
 * @throws ArgumentError on inconsistent value bounds
 */
export function tensorOf(
  shapeOrArb: readonly number[] | fc.Arbitrary<readonly number[]>,
  opts: TensorOptions = {},
): fc.Arbitrary<Tensor> {
  const dtype = opts.dtype ?? 'float64';
  const element = elementArbitrary(opts, dtype);
  const shapes = shapeOrArb instanceof fc.Arbitrary ? shapeOrArb : fc.constant(shapeOrArb);
  return shapes.chain((s) => {
    const n = s.reduce((a, d) => a * d, 1);
    return fc
      .array(element, { minLength: n, maxLength: n })
      .map((values) => fromArray(values, s, { dtype, requiresGrad: opts.requiresGrad ?? false }));
  });
}

/**
 * One tensor per shape of a drawn list of shapes — typically `tensorsOf(broadcastShapes(2), ...)` for the
 * inputs of a binary op. `opts` applies to all of them, or give one options object per input.
 */
export function tensorsOf(
  shapes: fc.Arbitrary<ReadonlyArray<readonly number[]>>,
  opts: TensorOptions | readonly TensorOptions[] = {},
): fc.Arbitrary<Tensor[]> {
  return shapes.chain((list) => {
    if (Array.isArray(opts) && opts.length !== list.length) {
      throw new ArgumentError('tensorsOf', `got ${opts.length} option objects for ${list.length} shapes`);
    }
    const per = (i: number): TensorOptions =>
      Array.isArray(opts) ? (opts as TensorOptions[])[i]! : (opts as TensorOptions);
    return fc.tuple(...list.map((s, i) => tensorOf(s, per(i))));
  });
}
