import { markModified, Tensor } from '@gradkit/autograd';
import {
  abs,
  add,
  type DeviceArray,
  DeviceError,
  deviceFusedMap,
  deviceFusedSum,
  div,
  type Expr,
  gt,
  lt,
  mul,
  neg,
  pow,
  variable,
  where,
} from '@gradkit/kernels';
import { checkNormArgs, clipGradNorm, gradsOf } from './clip.js';

const G = variable('g');
const P = variable('p');
const T = variable('total');
const M = variable('maxNorm');
const V = variable('clip');

/** |g|^p summed (p = 2: g·g, exact and fast). */
const powerSum = (p: number): Expr => (p === 2 ? mul(G, G) : pow(abs(G), P));

/** g ← g·coef where coef = maxNorm / (total + 1e-6) < 1 (a NaN coef leaves g as it is, as on the cpu). */
const coef = div(M, add(T, 1e-6));
const CLIP = where(lt(coef, 1), mul(G, coef), G);

/** g clamped into [−clip, clip] (NaN kept). */
const CLAMP = where(gt(G, V), V, where(lt(G, neg(V)), neg(V), G));

/** At most this many partial sums are added by one kernel (storage bindings per shader are limited). */
const CHUNK = 6;

/** Σ of one-element device arrays, as one one-element device array (chunks of {@link CHUNK} per kernel). */
function addAll(arrays: DeviceArray[]): DeviceArray {
  let list = arrays;
  while (list.length > 1) {
    const next: DeviceArray[] = [];
    for (let i = 0; i < list.length; i += CHUNK) {
      const chunk = list.slice(i, i + CHUNK);
      const vars = chunk.map((_, k) => variable(`s${k}`));
      const sum = vars.slice(1).reduce<Expr>((a, b) => add(a, b), vars[0]!);
      const [out] = deviceFusedMap(chunk[0]!.runtime, 'clipGradNorm', {
        outputs: [sum],
        variables: vars.map((v) => v.name),
        operands: chunk.map((array) => ({ array, shape: [1] })),
        shape: [1],
      });
      for (const a of chunk) a.dispose();
      next.push(out!);
    }
    list = next;
  }
  return list[0]!;
}

/**
 * `torch.nn.utils.clip_grad_norm_` returning the total norm as a 0-d tensor (PyTorch's return type), so that
 * on webgpu nothing is read back: the per-gradient power sums are fused reductions on the device, the total
 * norm `(Σ ‖gᵢ‖_p^p)^(1/p)` is computed there, and every gradient is scaled in place by
 * min(1, maxNorm / (total + 1e-6)) in one kernel each. On the cpu it is {@link clipGradNorm} wrapped in a 0-d
 * float64 tensor.
 *
 * @param normType - p of the norm (default 2); on webgpu a finite p (Infinity: use the cpu)
 * @throws DomainError for a negative or NaN maxNorm or a normType ≤ 0; DeviceError for gradients on two
 *   devices, or the max-norm on webgpu
 */
export function clipGradNormTensor(params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2): Tensor {
  const op = 'clipGradNormTensor';
  checkNormArgs(op, maxNorm, normType);
  const grads = gradsOf(op, params);
  if (grads.every((g) => g.device === 'cpu')) {
    return new Tensor(Float64Array.of(clipGradNorm(grads, maxNorm, normType)), []);
  }
  if (grads.some((g) => g.device === 'cpu')) {
    throw new DeviceError(
      op,
      'expected every gradient on the same device, but some are on webgpu and some on cpu',
    );
  }
  if (normType === Number.POSITIVE_INFINITY) {
    throw new DeviceError(
      op,
      'the max-norm (normType Infinity) is not supported on webgpu yet: use a finite normType',
    );
  }
  const rt = grads[0]!.deviceArray!.runtime;
  const sums = grads.map((g) =>
    deviceFusedSum(rt, op, {
      outputs: [powerSum(normType)],
      variables: ['g', 'p'],
      operands: [{ array: g.deviceArray!, shape: [g.size] }, normType],
      shape: [g.size],
    }),
  );
  const sum = addAll(sums);
  const [total] = deviceFusedMap(rt, op, {
    outputs: [normType === 2 ? pow(variable('s'), 0.5) : pow(variable('s'), variable('q'))],
    variables: ['s', 'q'],
    operands: [{ array: sum, shape: [1] }, 1 / normType],
    shape: [1],
  });
  sum.dispose();
  for (const g of grads) {
    deviceFusedMap(rt, op, {
      outputs: [CLIP],
      variables: ['g', 'total', 'maxNorm'],
      operands: [{ array: g.deviceArray!, shape: [g.size] }, { array: total!, shape: [1] }, maxNorm],
      shape: [g.size],
      targets: [0],
    });
    markModified(g);
  }
  return new Tensor(total!, []);
}

/** `clipGradValue` on webgpu gradients: each clamped into [−clip, clip] in place, one kernel per gradient. */
export function clipGradValueOnDevice(grads: readonly Tensor[], clip: number): void {
  for (const g of grads) {
    const d = g.deviceArray!;
    deviceFusedMap(d.runtime, 'clipGradValue', {
      outputs: [CLAMP],
      variables: ['g', 'clip'],
      operands: [{ array: d, shape: [g.size] }, clip],
      shape: [g.size],
      targets: [0],
    });
    markModified(g);
  }
}
