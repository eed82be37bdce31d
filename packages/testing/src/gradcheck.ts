import { ArgumentError, DomainError, DtypeError, Value, value, valueGrad } from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';

/** Options of {@link gradcheck} and {@link gradgradcheck}; the defaults are PyTorch's. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, against the numerical value (default 1e-3). */
  rtol?: number;
  /** Precision of the inputs; only `'float64'` can be checked reliably (default `'float64'`). */
  dtype?: 'float64' | 'float32';
  /** Throw a {@link GradcheckFailure} instead of returning a failed report (default false). */
  raiseException?: boolean;
  /** Seed of the random direction used by {@link gradgradcheck} (default 0). */
  seed?: number;
}

/** The worst element found by a gradient check. */
export interface GradcheckWorst {
  /** Index of the input. */
  input: number;
  /** Index of the element inside that input (0 for a scalar). */
  element: number;
  /** Index of the output element (0 for a scalar output). */
  output: number;
  /** The gradient computed by autograd. */
  analytical: number;
  /** The central finite difference. */
  numerical: number;
  /** |analytical - numerical|. */
  absError: number;
  /** absError - (atol + rtol |numerical|): positive means the element fails. */
  excess: number;
}

/** The result of a gradient check. */
export interface GradcheckReport {
  /** True when every element is within `atol + rtol * |numerical|`. */
  ok: boolean;
  /** The element with the largest excess over the tolerance (undefined when nothing was compared). */
  worst: GradcheckWorst | undefined;
  /** How many (input element, output element) pairs were compared. */
  checked: number;
  /** The tolerances used. */
  eps: number;
  /** The tolerances used. */
  atol: number;
  /** The tolerances used. */
  rtol: number;
}

/** Thrown by gradient checks with `raiseException: true` when the check fails. */
export class GradcheckFailure extends Error {
  /** The failed report. */
  readonly report: GradcheckReport;
  /** @param what - the check's name; @param report - its failed report */
  constructor(what: string, report: GradcheckReport) {
    if (typeof what !== 'string') {
      throw new ArgumentError(
        'GradcheckFailure',
        `argument 'what' must be a string, got ${describeValue(what)}`,
      );
    }
    super(`${what}: ${describeWorst(report)}`);
    this.name = 'GradcheckFailure';
    this.report = report;
  }
}

/**
 * A one-line description of a report's worst element.
 *
 * @throws ArgumentError when `report` is not an object, or its `worst` is neither undefined nor an object
 */
export function describeWorst(report: GradcheckReport): string {
  if (report === null || typeof report !== 'object') {
    throw new ArgumentError(
      'describeWorst',
      `argument 'report' must be a report, got ${describeValue(report)}`,
    );
  }
  const w = ownValue(report, 'worst') as GradcheckWorst | undefined;
  if (w === undefined) return 'nothing to compare';
  if (w === null || typeof w !== 'object') {
    throw new ArgumentError('describeWorst', `'report.worst' must be an object, got ${describeValue(w)}`);
  }
  return (
    `${report.ok ? 'ok' : 'FAILED'}: worst at input ${w.input} element ${w.element} output ${w.output}: ` +
    `analytical ${w.analytical}, numerical ${w.numerical}, |diff| ${w.absError} ` +
    `(allowed ${report.atol} + ${report.rtol}·|numerical|)`
  );
}

/** The generic core shared by scalar and tensor checks: compares a Jacobian with central differences. */
export interface JacobianProblem {
  /** Number of inputs. */
  inputCount: number;
  /** Number of elements of input `i`. */
  inputSize(i: number): number;
  /** The outputs (flattened) at the current input values. */
  evaluate(): ArrayLike<number>;
  /** Reads element `j` of input `i`. */
  get(i: number, j: number): number;
  /** Writes element `j` of input `i`. */
  set(i: number, j: number, v: number): void;
  /** Row `o` of the analytical Jacobian: d output[o] / d input[i], flattened like input i. */
  analyticalRow(o: number): ArrayLike<number>[];
}

const OPTION_KEYS = ['eps', 'atol', 'rtol', 'dtype', 'raiseException', 'seed'];

/** The checked options of a gradient check (own keys only), with PyTorch's defaults. */
export interface CheckedOptions {
  /** Finite-difference step. */
  eps: number;
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance. */
  rtol: number;
  /** Precision asked for. */
  dtype: 'float64' | 'float32';
  /** Throw a GradcheckFailure on failure. */
  raiseException: boolean;
  /** Seed of the random directions. */
  seed: number;
}

/**
 * @internal Reads and checks {@link GradcheckOptions}.
 *
 * @throws ArgumentError for an unknown key or a value of the wrong type; DomainError for eps not finite and
 *   positive, atol/rtol not finite and non-negative
 */
export function readOptions(op: string, opts: unknown): CheckedOptions {
  checkOptionKeys(op, 'opts', opts, OPTION_KEYS);
  const o = (opts ?? {}) as object;
  const num = (key: string, fallback: number, positive: boolean): number => {
    const v = ownValue(o, key) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
      throw new DomainError(
        op,
        `option '${key}' must be a finite ${positive ? 'positive' : 'non-negative'} number, got ${describeValue(v)}`,
      );
    }
    return v;
  };
  const eps = num('eps', 1e-6, true);
  const atol = num('atol', 1e-5, false);
  const rtol = num('rtol', 1e-3, false);
  const dtype = ownValue(o, 'dtype') ?? 'float64';
  if (dtype !== 'float64' && dtype !== 'float32') {
    throw new DtypeError(op, `option 'dtype' must be 'float64' or 'float32', got ${describeValue(dtype)}`);
  }
  const raiseException = ownValue(o, 'raiseException') ?? false;
  if (typeof raiseException !== 'boolean') {
    throw new ArgumentError(
      op,
      `option 'raiseException' must be a boolean, got ${describeValue(raiseException)}`,
    );
  }
  const seed = ownValue(o, 'seed') ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ArgumentError(op, `option 'seed' must be an integer, got ${describeValue(seed)}`);
  }
  return { eps, atol, rtol, dtype, raiseException, seed };
}

function requireFunction(op: string, arg: string, f: unknown): void {
  if (typeof f !== 'function') {
    throw new ArgumentError(op, `argument '${arg}' must be a function, got ${describeValue(f)}`);
  }
}

/** Reads what `problem.evaluate()` returned: an array or typed array of numbers. */
function outputsOf(op: string, out: unknown, expected: number | undefined): number[] {
  if (!Array.isArray(out) && !(ArrayBuffer.isView(out) && !(out instanceof DataView))) {
    throw new ArgumentError(
      op,
      `problem.evaluate() must return an array of numbers, got ${describeValue(out)}`,
    );
  }
  const values = Array.from(out as ArrayLike<unknown>);
  if (expected !== undefined && values.length !== expected) {
    throw new ArgumentError(op, `problem.evaluate() returned ${values.length} outputs, then ${expected}`);
  }
  values.forEach((v, k) => {
    if (typeof v !== 'number') {
      throw new ArgumentError(op, `problem.evaluate() output ${k} is ${describeValue(v)}, not a number`);
    }
  });
  return values as number[];
}

/**
 * Runs the finite-difference comparison for a {@link JacobianProblem}.
 *
 * @throws ArgumentError when the problem is malformed (not an object, a missing method, a count that is not
 *   a non-negative integer, outputs or Jacobian rows of the wrong kind or length), and for bad options as
 *   {@link gradcheck}
 */
export function checkJacobian(problem: JacobianProblem, opts: GradcheckOptions = {}): GradcheckReport {
  return jacobianReport('checkJacobian', problem, readOptions('checkJacobian', opts));
}

/** @internal {@link checkJacobian} with checked options, naming `op` in its errors. */
export function jacobianReport(
  op: string,
  problem: JacobianProblem,
  options: CheckedOptions,
): GradcheckReport {
  const { eps, atol, rtol } = options;
  if (problem === null || typeof problem !== 'object') {
    throw new ArgumentError(op, `argument 'problem' must be an object, got ${describeValue(problem)}`);
  }
  for (const m of ['inputSize', 'evaluate', 'get', 'set', 'analyticalRow'] as const) {
    requireFunction(op, `problem.${m}`, problem[m]);
  }
  const count = (what: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ArgumentError(op, `${what} must be a non-negative integer, got ${describeValue(v)}`);
    }
    return v;
  };
  const inputCount = count('problem.inputCount', problem.inputCount);
  const sizes = Array.from({ length: Math.min(inputCount, 2 ** 24) }, (_, i) =>
    count(`problem.inputSize(${i})`, problem.inputSize(i)),
  );
  if (sizes.length !== inputCount)
    throw new ArgumentError(op, `problem.inputCount ${inputCount} is too large`);
  const outSize = outputsOf(op, problem.evaluate(), undefined).length;
  const rows = Array.from({ length: outSize }, (_, o) => {
    const row: unknown = problem.analyticalRow(o);
    if (!Array.isArray(row) || row.length !== inputCount) {
      throw new ArgumentError(
        op,
        `problem.analyticalRow(${o}) must return one array per input (${inputCount}), got ${describeValue(row)}`,
      );
    }
    return [...row].map((r: unknown, i) => {
      const ok = Array.isArray(r) || (ArrayBuffer.isView(r) && !(r instanceof DataView));
      if (!ok || (r as ArrayLike<unknown>).length !== sizes[i]) {
        throw new ArgumentError(
          op,
          `problem.analyticalRow(${o})[${i}] must hold ${sizes[i]} numbers, got ${describeValue(r)}`,
        );
      }
      return Array.from(r as ArrayLike<unknown>, (v) => (typeof v === 'number' ? v : Number.NaN));
    });
  });
  let worst: GradcheckWorst | undefined;
  let checked = 0;
  for (let i = 0; i < inputCount; i++) {
    for (let j = 0; j < sizes[i]!; j++) {
      const x0 = problem.get(i, j);
      if (typeof x0 !== 'number') {
        throw new ArgumentError(op, `problem.get(${i}, ${j}) returned ${describeValue(x0)}, not a number`);
      }
      problem.set(i, j, x0 + eps);
      const plus = outputsOf(op, problem.evaluate(), outSize);
      problem.set(i, j, x0 - eps);
      const minus = outputsOf(op, problem.evaluate(), outSize);
      problem.set(i, j, x0);
      for (let o = 0; o < outSize; o++) {
        const numerical = (plus[o]! - minus[o]!) / (2 * eps);
        const analytical = rows[o]![i]![j]!;
        const absError = Math.abs(analytical - numerical);
        let excess = absError - (atol + rtol * Math.abs(numerical));
        if (Number.isNaN(excess)) excess = Object.is(analytical, numerical) ? 0 : Number.POSITIVE_INFINITY;
        checked++;
        if (worst === undefined || excess > worst.excess) {
          worst = { input: i, element: j, output: o, analytical, numerical, absError, excess };
        }
      }
    }
  }
  return { ok: worst === undefined || worst.excess <= 0, worst, checked, eps, atol, rtol };
}

function requireFloat64(what: string, opts: CheckedOptions): void {
  if (opts.dtype !== 'float64') {
    throw new DtypeError(
      what,
      `inputs must be float64, got ${opts.dtype}: float32 finite differences with eps ${opts.eps} are dominated by rounding`,
    );
  }
}

/** @internal Throws a GradcheckFailure for a failed report when asked to. */
export function finish(what: string, report: GradcheckReport, opts: CheckedOptions): GradcheckReport {
  if (!report.ok && opts.raiseException) throw new GradcheckFailure(what, report);
  return report;
}

/**
 * Checks the gradients of a scalar function built with gradkit `Value`s against central finite differences
 * at `inputs`, with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3). The element test is
 * `|analytical - numerical| <= atol + rtol * |numerical|`.
 *
 * @returns a report with the worst element
 * @throws DtypeError when `opts.dtype` is not float64; ArgumentError when `fn` is not a function or does not
 *   return a Value, `inputs` is not an array of numbers (NaN and holes refused), or an option is unknown or
 *   of the wrong type; DomainError for eps, atol or rtol out of range
 */
export function gradcheck(
  fn: (...xs: Value[]) => Value,
  inputs: readonly number[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  return scalarCheck('gradcheck', fn, inputs, readOptions('gradcheck', opts));
}

function scalarCheck(
  op: string,
  fn: (...xs: Value[]) => Value,
  inputs: readonly number[],
  options: CheckedOptions,
): GradcheckReport {
  requireFloat64(op, options);
  requireFunction(op, 'fn', fn);
  const xs = checkInputs(op, inputs);
  const call = (leaves: Value[]): Value => {
    const out: unknown = fn(...leaves);
    if (!(out instanceof Value)) {
      throw new ArgumentError(op, `'fn' must return a Value, got ${describeValue(out)}`);
    }
    return out;
  };
  const problem: JacobianProblem = {
    inputCount: xs.length,
    inputSize: () => 1,
    evaluate: () => [call(xs.map((x) => value(x))).item()],
    get: (i) => xs[i]!,
    set: (i, _j, v) => {
      xs[i] = v;
    },
    analyticalRow: () => {
      const leaves = xs.map((x) => value(x));
      const out = call(leaves);
      out.backward();
      return leaves.map((l) => [l.grad]);
    },
  };
  return finish(op, jacobianReport(op, problem, options), options);
}

function checkInputs(what: string, inputs: unknown): number[] {
  if (!Array.isArray(inputs)) {
    throw new ArgumentError(
      what,
      `argument 'inputs' must be an array of numbers, got ${describeValue(inputs)}`,
    );
  }
  const xs = [...inputs];
  xs.forEach((x, i) => {
    if (typeof x !== 'number' || Number.isNaN(x)) {
      throw new ArgumentError(
        what,
        `argument 'inputs[${i}]' must be a number that is not NaN, got ${describeValue(x)}`,
      );
    }
  });
  return xs;
}

/**
 * Checks second derivatives: the gradient of `sum_i v_i * d fn / d x_i` (built with differentiable
 * gradients) against finite differences, for a random direction `v` drawn from `opts.seed`. Same defaults
 * as {@link gradcheck}.
 */
export function gradgradcheck(
  fn: (...xs: Value[]) => Value,
  inputs: readonly number[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const op = 'gradgradcheck';
  const options = readOptions(op, opts);
  requireFloat64(op, options);
  requireFunction(op, 'fn', fn);
  const xs = checkInputs(op, inputs);
  let s = options.seed >>> 0 || 0x9e3779b9;
  const v = xs.map(() => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
  const vjp = (...leaves: Value[]): Value => {
    const out: unknown = fn(...leaves);
    if (!(out instanceof Value)) {
      throw new ArgumentError(op, `'fn' must return a Value, got ${describeValue(out)}`);
    }
    const grads = valueGrad(out, leaves);
    return grads.reduce<Value>((acc, g, i) => acc.add(g.mul(v[i]!)), value(0));
  };
  return finish(op, scalarCheck(op, vjp, xs, { ...options, raiseException: false }), options);
}
