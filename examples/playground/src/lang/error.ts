import { FormatError } from '@gradkit/kernels';

/**
 * A factor that does not parse (or names something the language refuses), with the source range `[from, to)`
 * to underline. The message starts with `factor:` and names the position (1-based column).
 */
export class FactorSyntaxError extends FormatError {
  /** Start of the offending range (0-based character offset). */
  readonly from: number;
  /** End of the offending range (exclusive; at least `from + 1` unless the text is empty). */
  readonly to: number;
  /** The message without the op prefix and the column. */
  readonly reason: string;

  /** @param from - start; @param to - end (exclusive); @param reason - what is wrong there */
  constructor(from: number, to: number, reason: string) {
    super('factor', `column ${from + 1}: ${reason}`);
    this.from = from;
    this.to = to;
    this.reason = reason;
  }
}
