import { ArgumentError, DomainError, markModified, Tensor } from '@gradkit/autograd';
import { DeviceError, describeValue } from '@gradkit/kernels';
import { clipGradValueOnDevice } from './device-clip.js';

/** @internal the gradients of `params` that have one (checked arguments). */
export function gradsOf(op: string, params: Iterable<Tensor> | Tensor): Tensor[] {
  if (
    !(params instanceof Tensor) &&
    (params === null || typeof params !== 'object' || !(Symbol.iterator in params))
  ) {
    throw new ArgumentError(
      op,
      `argument 'params' must be a Tensor or an iterable of Tensors, got ${describeValue(params)}`,
    );
  }
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor))
      throw new ArgumentError(op, `params[${i}] must be a Tensor, got ${describeValue(p)}`);
  });
  return list.filter((p) => p.grad !== null).map((p) => p.grad!);
}

/**
 * Scales the gradients of `params` in place so that their joint norm is at most `maxNorm`, like
 * `torch.nn.utils.clip_grad_norm_`: total = ‖(‖g₁‖, ‖g₂‖, …)‖_p, each gradient multiplied by
 * min(1, maxNorm / (total + 1e-6)). Returns the total norm before clipping.
 *
 * @param normType - p of the norm (default 2; Infinity for the max-norm)
 * @param errorIfNonfinite - throw a DomainError when the total norm is NaN or infinite (default false)
 * @throws DomainError for a negative or NaN maxNorm, a normType ≤ 0, or a non-finite norm when asked
 * @throws DeviceError for gradients on webgpu (use {@link clipGradNormTensor}, which reads nothing back)
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor,
  maxNorm: number,
  normType = 2,
  errorIfNonfinite = false,
): number {
  const op = 'clipGradNorm';
  checkNormArgs(op, maxNorm, normType);
  const grads = gradsOf(op, params);
  if (grads.length === 0) return 0;
  if (grads.some((g) => g.device !== 'cpu')) {
    throw new DeviceError(
      op,
      'the gradients are on webgpu and returning the norm as a number would read it back: use clipGradNormTensor (it returns a 0-d tensor on the device)',
    );
  }
  let total: number;
  if (normType === Number.POSITIVE_INFINITY) {
    total = 0;
    for (const g of grads) for (const v of g.data) total = Math.max(total, Math.abs(v));
    if (grads.some((g) => g.data.some(Number.isNaN))) total = Number.NaN;
  } else {
    // The norm of the per-tensor norms, each accumulated in float64 (PyTorch stacks the per-tensor norms).
    let acc = 0;
    for (const g of grads) {
      let s = 0;
      for (const v of g.data) s += Math.abs(v) ** normType;
      acc += (s ** (1 / normType)) ** normType;
    }
    total = acc ** (1 / normType);
  }
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new DomainError(op, `the total norm of order ${normType} of the gradients is ${total}`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const g of grads) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) d[i] = d[i]! * coef;
      markModified(g);
    }
  }
  return total;
}

/**
 * Clamps every gradient element of `params` into [−clipValue, clipValue] in place, like
 * `torch.nn.utils.clip_grad_value_` (on webgpu: one in-place kernel per gradient).
 *
 * @throws DomainError for a negative or NaN clipValue
 */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  const op = 'clipGradValue';
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new DomainError(
      op,
      `argument 'clipValue' must be a non-negative number, got ${describeValue(clipValue)}`,
    );
  }
  const grads = gradsOf(op, params);
  if (grads.some((g) => g.device !== 'cpu')) {
    if (grads.some((g) => g.device === 'cpu')) {
      throw new DeviceError(
        op,
        'expected every gradient on the same device, but some are on webgpu and some on cpu',
      );
    }
    clipGradValueOnDevice(grads, clipValue);
    return;
  }
  for (const g of grads) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > clipValue) d[i] = clipValue;
      else if (v < -clipValue) d[i] = -clipValue;
    }
    markModified(g);
  }
}

/** @internal the argument checks shared by `clipGradNorm` and `clipGradNormTensor`. */
export function checkNormArgs(op: string, maxNorm: unknown, normType: unknown): void {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) {
    throw new DomainError(
      op,
      `argument 'maxNorm' must be a non-negative number, got ${describeValue(maxNorm)}`,
    );
  }
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new DomainError(
      op,
      `argument 'normType' must be a positive number or Infinity, got ${describeValue(normType)}`,
    );
  }
}
