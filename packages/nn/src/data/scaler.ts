import { checkTensor, div, formatShape, fromArray, sub, type Tensor, toDtype } from '@gradkit/autograd';
import {
  ArgumentError,
  checkOptionKeys,
  DomainError,
  describeValue,
  ownValue,
  ShapeError,
  StateError,
} from '@gradkit/kernels';

/** What {@link StandardScaler.stateDict} returns and {@link StandardScaler.loadStateDict} takes. */
export interface StandardScalerState {
  /** Per-feature mean, float64 `[d]`. */
  mean: Tensor;
  /** Per-feature scale (population standard deviation, 1 for constant features), float64 `[d]`. */
  scale: Tensor;
}

/**
 * Standardizes features to zero mean and unit variance, like scikit-learn's `StandardScaler`:
 * `z = (x - mean) / scale`, where `mean` and `scale` are per column (the last axis) and `scale` is the
 * population standard deviation (ddof = 0). A constant column (zero variance, up to rounding) gets scale 1,
 * so it maps to 0 instead of NaN or ±huge.
 *
 * Fit on the training rows only, then transform both sets with those statistics (fitting on the test set
 * leaks it into training). Statistics are computed in float64; `transform` keeps the input's dtype,
 * rounding once, and is differentiable.
 *
 * @example
 * ```ts
 * const scaler = new StandardScaler();
 * const xTrain = scaler.fitTransform(trainFeatures);
 * const xTest = scaler.transform(testFeatures);
 * ```
 */
export class StandardScaler {
  #mean: Float64Array | null = null;
  #scale: Float64Array | null = null;

  /** Whether `fit` (or `loadStateDict`) has run. */
  get fitted(): boolean {
    return this.#mean !== null;
  }

  /**
   * Computes the per-column mean and scale of `x`.
   *
   * @param x - the training features, `[n, d]` with `n ≥ 1`
   * @throws ShapeError when `x` is not 2-D; DomainError when it has no rows or a value is not finite
   *   (naming the row and column)
   */
  fit(x: Tensor): this {
    const op = 'StandardScaler.fit';
    checkTensor(op, 'x', x);
    if (x.ndim !== 2)
      throw new ShapeError(
        op,
        `argument 'x' must be 2-D [rows, features], got shape ${formatShape(x.shape)}`,
      );
    const [n, d] = x.shape as [number, number];
    if (n === 0) throw new DomainError(op, `argument 'x' has no rows (shape ${formatShape(x.shape)})`);
    const data = x.data;
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = data[i * d + j]!;
        if (!Number.isFinite(v))
          throw new DomainError(
            op,
            `argument 'x' holds ${v} at row ${i}, column ${j}; clean or impute it first`,
          );
        mean[j] += v;
      }
    }
    for (let j = 0; j < d; j++) mean[j] /= n;
    // Corrected two-pass variance: Σ(x-μ)² minus the rounding error of μ, (Σ(x-μ))² / n.
    const sq = new Float64Array(d);
    const lin = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const e = data[i * d + j]! - mean[j]!;
        sq[j] += e * e;
        lin[j] += e;
      }
    }
    const scale = new Float64Array(d);
    const eps = Number.EPSILON;
    for (let j = 0; j < d; j++) {
      const variance = Math.max(0, (sq[j]! - (lin[j]! * lin[j]!) / n) / n);
      // Constant up to rounding (scikit-learn's bound): such a column gets scale 1.
      const bound = n * eps * variance + (n * mean[j]! * eps) ** 2;
      scale[j] = variance <= bound ? 1 : Math.sqrt(variance);
    }
    this.#mean = mean;
    this.#scale = scale;
    return this;
  }

  /**
   * `(x - mean) / scale` per column, in `x`'s dtype.
   *
   * @param x - features whose last axis has the fitted number of columns (usually `[rows, d]`)
   * @throws StateError before `fit`; ShapeError when the last axis does not match
   */
  transform(x: Tensor): Tensor {
    const [mean, scale] = this.#stats('StandardScaler.transform', x);
    return toDtype(div(sub(x, mean), scale), x.dtype);
  }

  /** `fit(x)` then `transform(x)`. */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /**
   * `z * scale + mean` per column: undoes {@link StandardScaler.transform} (up to rounding).
   *
   * @throws StateError before `fit`; ShapeError when the last axis does not match
   */
  inverseTransform(z: Tensor): Tensor {
    const [mean, scale] = this.#stats('StandardScaler.inverseTransform', z);
    return toDtype(z.mul(scale).add(mean), z.dtype);
  }

  /**
   * The per-column mean, float64 `[d]`.
   *
   * @throws StateError before `fit`
   */
  get mean(): Tensor {
    return fromArray(this.#fitted('StandardScaler.mean')[0], [this.#mean!.length], { dtype: 'float64' });
  }

  /**
   * The per-column scale (population standard deviation; 1 for constant columns), float64 `[d]`.
   *
   * @throws StateError before `fit`
   */
  get scale(): Tensor {
    return fromArray(this.#fitted('StandardScaler.scale')[1], [this.#scale!.length], { dtype: 'float64' });
  }

  /**
   * The fitted statistics as named tensors (copies), for saving with the model's checkpoint.
   *
   * @throws StateError before `fit`
   */
  stateDict(): StandardScalerState {
    this.#fitted('StandardScaler.stateDict');
    return { mean: this.mean, scale: this.scale };
  }

  /**
   * Restores statistics saved by {@link StandardScaler.stateDict}.
   *
   * @throws ArgumentError when `state` has other keys or its entries are not tensors
   * @throws ShapeError when `mean` and `scale` are not 1-D of the same length
   * @throws DomainError when a mean is not finite or a scale is not finite and positive
   */
  loadStateDict(state: StandardScalerState): this {
    const op = 'StandardScaler.loadStateDict';
    checkOptionKeys(op, 'state', state, ['mean', 'scale']);
    if (state === undefined) throw new ArgumentError(op, `argument 'state' must be an object, got undefined`);
    const mean = checkTensor(op, 'state.mean', ownValue(state, 'mean'));
    const scale = checkTensor(op, 'state.scale', ownValue(state, 'scale'));
    if (mean.ndim !== 1 || scale.ndim !== 1 || mean.shape[0] !== scale.shape[0]) {
      throw new ShapeError(
        op,
        `'mean' and 'scale' must be 1-D of the same length, got shapes ${formatShape(mean.shape)} and ${formatShape(scale.shape)}`,
      );
    }
    const m = Float64Array.from(mean.data);
    const s = Float64Array.from(scale.data);
    m.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new DomainError(op, `'mean' holds ${v} at column ${j}`);
    });
    s.forEach((v, j) => {
      if (!(Number.isFinite(v) && v > 0))
        throw new DomainError(
          op,
          `'scale' holds ${describeValue(v)} at column ${j}; scales must be finite and positive`,
        );
    });
    this.#mean = m;
    this.#scale = s;
    return this;
  }

  #fitted(op: string): [Float64Array, Float64Array] {
    if (this.#mean === null || this.#scale === null)
      throw new StateError(op, 'the scaler is not fitted: call fit(trainFeatures) first');
    return [this.#mean, this.#scale];
  }

  #stats(op: string, x: Tensor): [Tensor, Tensor] {
    const [mean, scale] = this.#fitted(op);
    checkTensor(op, 'x', x);
    const d = mean.length;
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== d) {
      throw new ShapeError(
        op,
        `argument 'x' must have ${d} columns (its last axis), as the data the scaler was fitted on; got shape ${formatShape(x.shape)}`,
      );
    }
    return [fromArray(mean, [d], { dtype: 'float64' }), fromArray(scale, [d], { dtype: 'float64' })];
  }
}
