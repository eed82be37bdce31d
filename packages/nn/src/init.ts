/**
 * Parameter initialisers, like `torch.nn.init`: each fills a tensor's storage in place (before training —
 * writing the storage bypasses autograd) from a seeded generator, and returns the tensor.
 */
import {
  ArgumentError,
  checkTensor,
  DomainError,
  defaultGenerator,
  formatShape,
  Generator,
  markModified,
  ShapeError,
  type Tensor,
} from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';

/** Options of the random initialisers. */
export interface InitOptions {
  /** The generator to draw from (default: the one seeded by `manualSeed`). */
  generator?: Generator;
}

/** Nonlinearities known to {@link calculateGain} (PyTorch's names). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** Options of the Kaiming (He) initialisers. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** Preserve the variance of the forward pass ('fanIn', the default) or of the backward pass ('fanOut'). */
  mode?: 'fanIn' | 'fanOut';
  /** The nonlinearity that follows (default 'leaky_relu'). */
  nonlinearity?: Nonlinearity;
}

/** Options of the Xavier (Glorot) initialisers. */
export interface XavierOptions extends InitOptions {
  /** A scaling factor (default 1). */
  gain?: number;
}

function generatorOf(op: string, options: InitOptions | undefined, valid: readonly string[]): Generator {
  checkOptionKeys(op, 'options', options, valid);
  const g = options !== undefined && Object.hasOwn(options, 'generator') ? options.generator : undefined;
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) {
    throw new ArgumentError(op, `option 'generator' must be a Generator, got ${describeValue(g)}`);
  }
  return g;
}

function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DomainError(op, `argument '${name}' must be a finite number, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): 1 for linear/conv/sigmoid, 5/3 for
 * tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope default 0.01), 3/4 for selu.
 *
 * @throws ArgumentError for an unknown nonlinearity; DomainError for a non-finite slope
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : finite('calculateGain', 'param', param);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(
        'calculateGain',
        `unknown nonlinearity ${describeValue(nonlinearity)}; known: linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leaky_relu, selu`,
      );
  }
}

/**
 * fan_in and fan_out of a weight, as PyTorch computes them: for shape [out, in, ...kernel],
 * fan_in = in · prod(kernel), fan_out = out · prod(kernel).
 *
 * @throws ShapeError for tensors with fewer than 2 dimensions
 */
export function fans(t: Tensor): {
  /** Inputs per output unit: `size(1)` times the receptive field. */
  fanIn: number;
  /** Outputs per input unit: `size(0)` times the receptive field. */
  fanOut: number;
} {
  return fansOf(t, 'init.fans');
}

function fansOf(t: Tensor, op: string): { fanIn: number; fanOut: number } {
  checkTensor(op, 't', t);
  if (t.ndim < 2) {
    throw new ShapeError(
      op,
      `fan in and fan out need a tensor with at least 2 dimensions, got shape ${formatShape(t.shape)}`,
    );
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

/**
 * Fills `t` with `f()` element by element. A webgpu tensor is filled on the cpu (float32) and its buffer
 * overwritten with the values (so initialisers work when the default device is webgpu).
 */
function fill(t: Tensor, f: () => number): Tensor {
  const device = t.deviceArray;
  const d = device === null ? t.data : new Float32Array(t.size);
  for (let i = 0; i < d.length; i++) d[i] = f();
  if (device !== null) device.runtime.write(device, d, 'init');
  markModified(t);
  return t;
}

/**
 * Fills `t` with samples of U(low, high).
 *
 * @throws DomainError when a bound is not finite or low > high
 */
export function uniform_(t: Tensor, low = 0, high = 1, options?: InitOptions): Tensor {
  const op = 'init.uniform_';
  checkTensor(op, 't', t);
  finite(op, 'low', low);
  finite(op, 'high', high);
  if (low > high) throw new DomainError(op, `low (${low}) must not exceed high (${high})`);
  const g = generatorOf(op, options, ['generator']);
  const width = high - low;
  if (t.dtype === 'float32') {
    // 24-bit samples: a float32 never rounds up to `high`.
    return fill(t, () => {
      const v = Math.fround(low + width * g.random32());
      return v >= high && high > low ? low : v;
    });
  }
  return fill(t, () => low + width * g.random());
}

/**
 * Fills `t` with samples of N(mean, std²).
 *
 * @throws DomainError when mean or std is not finite, or std < 0
 */
export function normal_(t: Tensor, mean = 0, std = 1, options?: InitOptions): Tensor {
  const op = 'init.normal_';
  checkTensor(op, 't', t);
  finite(op, 'mean', mean);
  finite(op, 'std', std);
  if (std < 0) throw new DomainError(op, `std must be non-negative, got ${std}`);
  const g = generatorOf(op, options, ['generator']);
  return fill(t, () => mean + std * g.normal());
}

/**
 * Fills `t` with `value`.
 *
 * @throws DomainError when value is not a number
 */
export function constant_(t: Tensor, value: number): Tensor {
  checkTensor('init.constant_', 't', t);
  if (typeof value !== 'number') {
    throw new DomainError('init.constant_', `argument 'value' must be a number, got ${describeValue(value)}`);
  }
  return fill(t, () => value);
}

/** Fills `t` with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills `t` with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * Xavier/Glorot uniform: U(−b, b) with b = gain · √(6 / (fan_in + fan_out)).
 *
 * @throws ShapeError for tensors with fewer than 2 dimensions
 */
export function xavierUniform_(t: Tensor, options?: XavierOptions): Tensor {
  const op = 'init.xavierUniform_';
  checkTensor(op, 't', t);
  const gain = xavierGain(op, options);
  const { fanIn, fanOut } = fansOf(t, op);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, pickGenerator(options));
}

/**
 * Xavier/Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).
 *
 * @throws ShapeError for tensors with fewer than 2 dimensions
 */
export function xavierNormal_(t: Tensor, options?: XavierOptions): Tensor {
  const op = 'init.xavierNormal_';
  checkTensor(op, 't', t);
  const gain = xavierGain(op, options);
  const { fanIn, fanOut } = fansOf(t, op);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), pickGenerator(options));
}

/**
 * Kaiming/He uniform: U(−b, b) with b = gain · √(3 / fan), gain = calculateGain(nonlinearity, a) and fan
 * the fan_in (default) or fan_out. `Linear` uses it with a = √5 (PyTorch's default layer initialisation).
 *
 * @throws ShapeError for tensors with fewer than 2 dimensions
 */
export function kaimingUniform_(t: Tensor, options?: KaimingOptions): Tensor {
  const op = 'init.kaimingUniform_';
  checkTensor(op, 't', t);
  const std = kaimingStd(op, t, options);
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, pickGenerator(options));
}

/**
 * Kaiming/He normal: N(0, std²) with std = gain / √fan.
 *
 * @throws ShapeError for tensors with fewer than 2 dimensions
 */
export function kaimingNormal_(t: Tensor, options?: KaimingOptions): Tensor {
  const op = 'init.kaimingNormal_';
  checkTensor(op, 't', t);
  return normal_(t, 0, kaimingStd(op, t, options), pickGenerator(options));
}

function pickGenerator(options: InitOptions | undefined): InitOptions | undefined {
  return options !== undefined && Object.hasOwn(options, 'generator')
    ? { generator: options.generator }
    : undefined;
}

function xavierGain(op: string, options: XavierOptions | undefined): number {
  checkOptionKeys(op, 'options', options, ['gain', 'generator']);
  const gain = options !== undefined && Object.hasOwn(options, 'gain') ? options.gain : 1;
  return finite(op, 'gain', gain);
}

function kaimingStd(op: string, t: Tensor, options: KaimingOptions | undefined): number {
  checkOptionKeys(op, 'options', options, ['a', 'mode', 'nonlinearity', 'generator']);
  const o = (options ?? {}) as KaimingOptions;
  const a = finite(op, 'a', Object.hasOwn(o, 'a') ? o.a : 0);
  const mode = Object.hasOwn(o, 'mode') ? o.mode : 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new ArgumentError(op, `option 'mode' must be 'fanIn' or 'fanOut', got ${describeValue(mode)}`);
  }
  const nonlinearity = Object.hasOwn(o, 'nonlinearity') ? o.nonlinearity! : 'leaky_relu';
  const { fanIn, fanOut } = fansOf(t, op);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  if (fan === 0)
    throw new ShapeError(op, `cannot initialise a tensor with zero elements (shape ${formatShape(t.shape)})`);
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}
