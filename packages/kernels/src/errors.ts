/**
 * Error classes shared by every gradkit package. Each kind of failure has its own class and a stable
 * `code`, so callers can branch on `instanceof` or on `code`; every message names the op and the
 * argument involved.
 */

/** The stable codes carried by {@link GradkitError.code}. */
export type GradkitErrorCode =
  | 'E_SHAPE'
  | 'E_DTYPE'
  | 'E_DOMAIN'
  | 'E_ARITY'
  | 'E_UNKNOWN_OP'
  | 'E_ARGUMENT'
  | 'E_COMPILE'
  | 'E_STATE'
  | 'E_FORMAT'
  | 'E_DEVICE';

/** Base class of every error gradkit throws on purpose. */
export class GradkitError extends Error {
  /** A stable machine-readable code for the kind of error. */
  readonly code: GradkitErrorCode;
  /** The op (function, primitive or method) that refused its input. */
  readonly op: string;

  /**
   * @param code - the stable error code
   * @param op - the op that raised the error; the message is prefixed with it
   * @param message - what was wrong, naming the argument and the offending shapes or values
   */
  constructor(code: GradkitErrorCode, op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = new.target.name;
    this.code = code;
    this.op = op;
  }
}

/** Shapes that do not fit together (broadcasting refused, size mismatch, bad axis). */
export class ShapeError extends GradkitError {
  /** @param op - the op; @param message - names the argument and both shapes */
  constructor(op: string, message: string) {
    super('E_SHAPE', op, message);
  }
}

/** Dtypes that do not fit together, or a dtype an op does not support. */
export class DtypeError extends GradkitError {
  /** @param op - the op; @param message - names the argument and the dtypes */
  constructor(op: string, message: string) {
    super('E_DTYPE', op, message);
  }
}

/** A value outside the op's domain: out-of-range probability, NaN where NaN is not allowed, empty input. */
export class DomainError extends GradkitError {
  /** @param op - the op; @param message - names the argument and the offending value */
  constructor(op: string, message: string) {
    super('E_DOMAIN', op, message);
  }
}

/** A primitive applied to the wrong number of arguments. */
export class ArityError extends GradkitError {
  /** @param op - the primitive; @param message - says how many arguments were expected and given */
  constructor(op: string, message: string) {
    super('E_ARITY', op, message);
  }
}

/** A primitive name that is not in the primitive table. */
export class UnknownOpError extends GradkitError {
  /** @param op - the unknown name; @param message - lists what exists */
  constructor(op: string, message: string) {
    super('E_UNKNOWN_OP', op, message);
  }
}

/** An argument of the wrong kind (for example deriving with respect to something that is not a variable). */
export class ArgumentError extends GradkitError {
  /** @param op - the op; @param message - names the argument and what it should have been */
  constructor(op: string, message: string) {
    super('E_ARGUMENT', op, message);
  }
}

/** The widest source excerpt a {@link CompileError} shows; longer lines are cut to a window around the column. */
const EXCERPT_WIDTH = 60;

/**
 * The source line at `position` with a caret under its column, indented by two spaces, for error messages.
 * A line longer than 60 characters (a transpiler may put a whole function on one line) is
 * cut to a window of that width around the column, with `…` where it was cut.
 *
 * @returns undefined when the line does not exist in `source`
 */
export function sourceExcerpt(
  source: string,
  position: { line: number; column: number },
): string | undefined {
  const lines = source.split(/\r\n|\r|\n/);
  const text = lines[position.line - 1];
  if (text === undefined || !Number.isInteger(position.column) || position.column < 0) return undefined;
  const flat = text.replace(/\t/g, ' ');
  let start = 0;
  let end = flat.length;
  if (flat.length > EXCERPT_WIDTH) {
    start = Math.max(0, Math.min(position.column - EXCERPT_WIDTH / 2, flat.length - EXCERPT_WIDTH));
    end = start + EXCERPT_WIDTH;
  }
  const head = start > 0 ? '…' : '';
  const tail = end < flat.length ? '…' : '';
  const caretAt = head.length + Math.min(position.column, flat.length) - start;
  return `  ${head}${flat.slice(start, end)}${tail}\n  ${' '.repeat(caretAt)}^`;
}

/**
 * A kernel or expression that cannot be compiled; carries the source position when there is one and, when the
 * source is known, shows the offending line with a caret under the column (so the location stays useful when
 * a transpiler has reformatted the function).
 */
export class CompileError extends GradkitError {
  /** 1-based line in the kernel source, when known. */
  readonly line: number | undefined;
  /** 0-based column in the kernel source, when known. */
  readonly column: number | undefined;
  /** The explanation without the position and excerpt. */
  readonly detail: string;
  /** The source line with a caret under the column, when the source was known. */
  readonly excerpt: string | undefined;

  /**
   * @param op - the kernel or compiler entry point
   * @param message - a plain explanation of what is outside the language
   * @param position - where in the source the construct starts
   * @param source - the source text `position` refers to (adds the excerpt with a caret to the message)
   */
  constructor(op: string, message: string, position?: { line: number; column: number }, source?: string) {
    const excerpt = position && source !== undefined ? sourceExcerpt(source, position) : undefined;
    super(
      'E_COMPILE',
      op,
      (position ? `${message} (line ${position.line}, column ${position.column})` : message) +
        (excerpt !== undefined ? `\n${excerpt}` : ''),
    );
    this.line = position?.line;
    this.column = position?.column;
    this.detail = message;
    this.excerpt = excerpt;
  }

  /**
   * This error with the excerpt of `source` added, when it has a position and no excerpt yet (otherwise this
   * error itself).
   */
  withSource(source: string): CompileError {
    if (this.excerpt !== undefined || this.line === undefined || this.column === undefined) return this;
    const e = new CompileError(this.op, this.detail, { line: this.line, column: this.column }, source);
    return e.excerpt === undefined ? this : e;
  }
}

/** An operation that is invalid in the current state (backward twice, use after free, ...). */
export class StateError extends GradkitError {
  /** @param op - the op; @param message - says which state forbids it */
  constructor(op: string, message: string) {
    super('E_STATE', op, message);
  }
}

/** A serialized artifact (checkpoint, golden file) whose format is not understood. */
export class FormatError extends GradkitError {
  /** @param op - the reader; @param message - says which field is wrong */
  constructor(op: string, message: string) {
    super('E_FORMAT', op, message);
  }
}

/**
 * A tensor on the wrong device for what was asked: devices mixed in one op, a synchronous read of a tensor
 * that lives on the GPU, an op or feature (gradients) the device does not support yet, no device initialised.
 */
export class DeviceError extends GradkitError {
  /** @param op - the op; @param message - names the devices involved and what to do instead */
  constructor(op: string, message: string) {
    super('E_DEVICE', op, message);
  }
}
