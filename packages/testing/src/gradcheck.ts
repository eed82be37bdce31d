import { ArgumentError, DtypeError, type Value, value, valueGrad } from '@gradkit/autograd';

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
    super(`${what}: ${describeWorst(report)}`);
    this.name = 'GradcheckFailure';
    this.report = report;
  }
}

/** A one-line description of a report's worst element. */
export function describeWorst(report: GradcheckReport): string {
  const w = report.worst;
  if (w === undefined) return 'nothing to compare';
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

/** Runs the finite-difference comparison for a {@link JacobianProblem}. */
export function checkJacobian(problem: JacobianProblem, opts: GradcheckOptions = {}): GradcheckReport {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const outSize = problem.evaluate().length;
  const rows = Array.from({ length: outSize }, (_, o) => problem.analyticalRow(o));
  let worst: GradcheckWorst | undefined;
  let checked = 0;
  for (let i = 0; i < problem.inputCount; i++) {
    for (let j = 0; j < problem.inputSize(i); j++) {
      const x0 = problem.get(i, j);
      problem.set(i, j, x0 + eps);
      const plus = Array.from(problem.evaluate());
      problem.set(i, j, x0 - eps);
      const minus = Array.from(problem.evaluate());
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

function requireFloat64(what: string, opts: GradcheckOptions): void {
  if ((opts.dtype ?? 'float64') !== 'float64') {
    throw new DtypeError(
      what,
      `inputs must be float64, got ${opts.dtype}: float32 finite differences with eps ${opts.eps ?? 1e-6} are dominated by rounding`,
    );
  }
}

function finish(what: string, report: GradcheckReport, opts: GradcheckOptions): GradcheckReport {
  if (!report.ok && opts.raiseException) throw new GradcheckFailure(what, report);
  return report;
}

/**
 * Checks the gradients of a scalar function built with gradkit `Value`s against central finite differences
 * at `inputs`, with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3). The element test is
 * `|analytical - numerical| <= atol + rtol * |numerical|`.
 *
 * @returns a report with the worst element
 * @throws DtypeError when `opts.dtype` is not float64
 */
export function gradcheck(
  fn: (...xs: Value[]) => Value,
  inputs: readonly number[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  requireFloat64('gradcheck', opts);
  checkInputs('gradcheck', inputs);
  const xs = [...inputs];
  const problem: JacobianProblem = {
    inputCount: xs.length,
    inputSize: () => 1,
    evaluate: () => [fn(...xs.map((x) => value(x))).item()],
    get: (i) => xs[i]!,
    set: (i, _j, v) => {
      xs[i] = v;
    },
    analyticalRow: () => {
      const leaves = xs.map((x) => value(x));
      const out = fn(...leaves);
      out.backward();
      return leaves.map((l) => [l.grad]);
    },
  };
  return finish('gradcheck', checkJacobian(problem, opts), opts);
}

function checkInputs(what: string, inputs: readonly number[]): void {
  inputs.forEach((x, i) => {
    if (typeof x !== 'number' || Number.isNaN(x)) {
      throw new ArgumentError(
        what,
        `argument 'inputs[${i}]' must be a number that is not NaN, got ${String(x)}`,
      );
    }
  });
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
  requireFloat64('gradgradcheck', opts);
  checkInputs('gradgradcheck', inputs);
  let s = (opts.seed ?? 0) >>> 0 || 0x9e3779b9;
  const v = inputs.map(() => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
  const vjp = (...xs: Value[]): Value => {
    const grads = valueGrad(fn(...xs), xs);
    return grads.reduce<Value>((acc, g, i) => acc.add(g.mul(v[i]!)), grads[0]!.mul(0));
  };
  return finish('gradgradcheck', gradcheck(vjp, inputs, { ...opts, raiseException: false }), opts);
}
