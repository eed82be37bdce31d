import {
  ArgumentError,
  type DType,
  type Generator,
  getDefaultDevice,
  indexSelect,
  ShapeError,
  Tensor,
  zeros,
} from '@gradkit/autograd';
import { checkOptionKeys, describeValue } from '@gradkit/kernels';
import { normal_ } from '../init.js';
import { Module, parameter } from '../module.js';
import { checkSize, dtypeOption } from './linear.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** An index whose row starts at zero and receives no gradient (negative counts from the end). */
  paddingIdx?: number;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** The generator for the initial weights (default: the one seeded by `manualSeed`). */
  generator?: Generator;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, like `torch.nn.Embedding`: weights drawn
 * from N(0, 1); `forward(indices)` returns the rows, shaped `[...indices.shape, embeddingDim]`; gradients
 * scatter-add into the rows used.
 */
export class Embedding extends Module {
  /** The table, [numEmbeddings, embeddingDim]. */
  weight: Tensor;
  /** Number of rows. */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;
  /** The padding row, if any (non-negative). */
  readonly paddingIdx: number | null;

  /** @throws ArgumentError for bad sizes, options or padding index */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const op = 'Embedding';
    checkOptionKeys(op, 'options', options, ['paddingIdx', 'dtype', 'generator']);
    this.numEmbeddings = checkSize(op, 'numEmbeddings', numEmbeddings);
    this.embeddingDim = checkSize(op, 'embeddingDim', embeddingDim);
    const dtype = dtypeOption(op, options);
    let pad: number | null = null;
    if (Object.hasOwn(options, 'paddingIdx') && options.paddingIdx !== undefined) {
      const p = options.paddingIdx;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) {
        throw new ArgumentError(
          op,
          `option 'paddingIdx' must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${describeValue(p)}`,
        );
      }
      pad = p < 0 ? p + numEmbeddings : p;
    }
    this.paddingIdx = pad;
    const generator = Object.hasOwn(options, 'generator') ? { generator: options.generator! } : undefined;
    // Made on the cpu (the padding row is zeroed in place), then moved to the default device.
    const w = normal_(zeros([numEmbeddings, embeddingDim], { dtype, device: 'cpu' }), 0, 1, generator);
    if (pad !== null) w.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    this.weight = parameter(w.to(getDefaultDevice()));
  }

  /**
   * The rows for `indices` (a Tensor, number array or Int32Array of integers in [0, numEmbeddings)).
   *
   * @throws ArgumentError / ShapeError for indices that are not integers in range
   */
  forward(indices: Tensor | readonly number[] | Int32Array): Tensor {
    const op = 'Embedding.forward';
    if (!(indices instanceof Tensor) && !Array.isArray(indices) && !(indices instanceof Int32Array)) {
      throw new ArgumentError(
        op,
        `argument 'indices' must be a Tensor or an array of integers, got ${describeValue(indices)}`,
      );
    }
    const shape = indices instanceof Tensor ? [...indices.shape] : [indices.length];
    const flat: ArrayLike<number> = indices instanceof Tensor ? indices.data : indices;
    const idx = new Int32Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new ShapeError(
          op,
          `index ${describeValue(v)} at position ${i} is out of range for an embedding of ${this.numEmbeddings} rows`,
        );
      }
      idx[i] = v;
    }
    let rows = indexSelect(this.weight, 0, idx);
    if (this.paddingIdx !== null && idx.includes(this.paddingIdx)) {
      // The padding row's output stays as stored, but no gradient reaches it (as in PyTorch).
      const keep = zeros([idx.length, 1], { dtype: this.weight.dtype });
      const pad = this.paddingIdx;
      idx.forEach((v, i) => {
        keep.data[i] = v === pad ? 0 : 1;
      });
      const padRows = indexSelect(this.weight.detach(), 0, idx).mul(keep.neg().add(1));
      rows = rows.mul(keep).add(padRows);
    }
    return rows.reshape(...shape, this.embeddingDim);
  }
}
