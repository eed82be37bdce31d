import { ArgumentError, type DType, type Generator, linear, type Tensor, zeros } from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module, parameter } from '../module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** The generator for the initial weights (default: the one seeded by `manualSeed`). */
  generator?: Generator;
}

/** Checks a layer size: a positive safe integer (zero allowed where `allowZero`). */
export function checkSize(op: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new ArgumentError(
      op,
      `argument '${name}' must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${describeValue(v)}`,
    );
  }
  return v;
}

/** Reads the common `dtype` option. */
export function dtypeOption(op: string, options: { dtype?: DType } | undefined): DType {
  const d = options !== undefined && Object.hasOwn(options, 'dtype') ? options.dtype : 'float32';
  if (d !== 'float32' && d !== 'float64') {
    throw new ArgumentError(op, `option 'dtype' must be 'float32' or 'float64', got ${describeValue(d)}`);
  }
  return d;
}

/**
 * y = x Wᵀ + b, like `torch.nn.Linear`: weight [outFeatures, inFeatures], bias [outFeatures]. Initialised as
 * PyTorch does: weight from kaiming-uniform with a = √5 (bounds ±1/√inFeatures), bias from U(±1/√inFeatures).
 */
export class Linear extends Module {
  /** The weight, [outFeatures, inFeatures]. */
  weight: Tensor;
  /** The bias, [outFeatures], or null without one. */
  bias: Tensor | null;
  /** Size of each input's last dimension. */
  readonly inFeatures: number;
  /** Size of each output's last dimension. */
  readonly outFeatures: number;

  /**
   * @throws ArgumentError for sizes that are not positive integers or unknown options
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const op = 'Linear';
    checkOptionKeys(op, 'options', options, ['bias', 'dtype', 'generator']);
    this.inFeatures = checkSize(op, 'inFeatures', inFeatures);
    this.outFeatures = checkSize(op, 'outFeatures', outFeatures);
    const dtype = dtypeOption(op, options);
    const withBias = Object.hasOwn(options, 'bias') ? options.bias : true;
    if (typeof withBias !== 'boolean') {
      throw new ArgumentError(op, `option 'bias' must be a boolean, got ${describeValue(withBias)}`);
    }
    const generator = Object.hasOwn(options, 'generator') ? { generator: options.generator! } : undefined;
    this.weight = parameter(
      kaimingUniform_(zeros([outFeatures, inFeatures], { dtype }), { a: Math.sqrt(5), ...generator }),
    );
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = withBias
      ? parameter(uniform_(zeros([outFeatures], { dtype }), -bound, bound, generator))
      : null;
  }

  /** x Wᵀ + b over the last dimension of `x` (any leading dimensions). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
