import {
  ArgumentError,
  checkTensor,
  type DType,
  formatShape,
  ones,
  ShapeError,
  type Tensor,
  zeros,
} from '@gradkit/autograd';
import { checkOptionKeys, DomainError, describeValue } from '@gradkit/kernels';
import { Module, parameter } from '../module.js';
import { checkSize, dtypeOption } from './linear.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale (and bias) (default true). */
  elementwiseAffine?: boolean;
  /** Learn the bias when elementwiseAffine (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Layer normalisation over the trailing dimensions `normalizedShape`, like `torch.nn.LayerNorm`:
 * (x − mean) / √(var + eps) · weight + bias, with the biased variance; weight starts at 1 and bias at 0.
 */
export class LayerNorm extends Module {
  /** The trailing shape normalised over. */
  readonly normalizedShape: readonly number[];
  /** The variance offset. */
  readonly eps: number;
  /** The scale (null without elementwiseAffine). */
  weight: Tensor | null;
  /** The shift (null without elementwiseAffine or bias). */
  bias: Tensor | null;

  /** @throws ArgumentError / DomainError for bad sizes or options */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const op = 'LayerNorm';
    checkOptionKeys(op, 'options', options, ['eps', 'elementwiseAffine', 'bias', 'dtype']);
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new ArgumentError(
        op,
        `argument 'normalizedShape' must be a positive integer or a non-empty array of them, got ${describeValue(normalizedShape)}`,
      );
    }
    this.normalizedShape = Object.freeze(shape.map((d, i) => checkSize(op, `normalizedShape[${i}]`, d)));
    const eps = Object.hasOwn(options, 'eps') ? options.eps : 1e-5;
    if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
      throw new DomainError(
        op,
        `option 'eps' must be a finite non-negative number, got ${describeValue(eps)}`,
      );
    }
    this.eps = eps;
    const affine = Object.hasOwn(options, 'elementwiseAffine') ? options.elementwiseAffine : true;
    const withBias = Object.hasOwn(options, 'bias') ? options.bias : true;
    for (const [name, v] of [
      ['elementwiseAffine', affine],
      ['bias', withBias],
    ] as const) {
      if (typeof v !== 'boolean') {
        throw new ArgumentError(op, `option '${name}' must be a boolean, got ${describeValue(v)}`);
      }
    }
    const dtype = dtypeOption(op, options);
    this.weight = affine ? parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = affine && withBias ? parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  /** Normalises `x` over its trailing `normalizedShape` dimensions. */
  forward(x: Tensor): Tensor {
    checkTensor('LayerNorm.forward', 'x', x);
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(
        'LayerNorm',
        `input shape ${formatShape(x.shape)} does not end with normalizedShape ${formatShape(this.normalizedShape)}`,
      );
    }
    const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
    const centred = x.sub(x.mean(axes, true));
    const variance = centred.square().mean(axes, true);
    let y = centred.div(variance.add(this.eps).sqrt());
    if (this.weight !== null) y = y.mul(this.weight);
    if (this.bias !== null) y = y.add(this.bias);
    return y;
  }
}
