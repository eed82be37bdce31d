import {
  ArgumentError,
  checkTensor,
  DtypeError,
  fromArray,
  grad,
  noGrad,
  scalarTensor,
  Tensor,
} from '@gradkit/autograd';
import { describeValue } from '@gradkit/kernels';
import {
  type CheckedOptions,
  finish,
  type GradcheckOptions,
  type GradcheckReport,
  type JacobianProblem,
  jacobianReport,
  readOptions,
} from './gradcheck.js';

/** A function of tensors checked by {@link gradcheckTensor}: returns one tensor (any shape). */
export type TensorFunction = (...inputs: Tensor[]) => Tensor;

/** Checks `fn` and `inputs` (an array of float64 Tensors); returns the inputs. */
function checkArgs(what: string, fn: unknown, inputs: unknown): Tensor[] {
  if (typeof fn !== 'function') {
    throw new ArgumentError(what, `argument 'fn' must be a function, got ${describeValue(fn)}`);
  }
  if (!Array.isArray(inputs)) {
    throw new ArgumentError(
      what,
      `argument 'inputs' must be an array of Tensors, got ${describeValue(inputs)}`,
    );
  }
  const ts = [...inputs].map((t, i) => checkTensor(what, `inputs[${i}]`, t));
  requireFloat64(what, ts);
  return ts;
}

/** Calls `fn` and checks that it returned a Tensor. */
function callFn(what: string, fn: TensorFunction, xs: readonly Tensor[]): Tensor {
  const out: unknown = fn(...xs);
  if (!(out instanceof Tensor)) {
    throw new ArgumentError(what, `'fn' must return a Tensor, got ${describeValue(out)}`);
  }
  return out;
}

function requireFloat64(what: string, inputs: readonly Tensor[]): void {
  inputs.forEach((t, i) => {
    if (t.dtype !== 'float64') {
      throw new DtypeError(
        what,
        `input ${i} has dtype ${t.dtype}; gradient checks need float64 inputs (finite differences in float32 are dominated by rounding)`,
      );
    }
  });
}

function leaves(inputs: readonly Tensor[], values: readonly Float64Array[]): Tensor[] {
  return inputs.map((t, i) =>
    fromArray(values[i]!, t.shape, { dtype: 'float64', requiresGrad: t.requiresGrad }),
  );
}

/**
 * Checks the Jacobian of a tensor function against central finite differences, for every input that
 * requires grad, with PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3). Inputs must be float64.
 *
 * @throws DtypeError when an input is not float64; ArgumentError when `fn` is not a function or does not
 *   return a Tensor, an input is not a Tensor, or an option is unknown or of the wrong type; DomainError for
 *   eps, atol or rtol out of range
 */
export function gradcheckTensor(
  fn: TensorFunction,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  return tensorCheck('gradcheck', fn, inputs, readOptions('gradcheckTensor', opts));
}

function tensorCheck(
  what: string,
  fn: TensorFunction,
  rawInputs: readonly Tensor[],
  options: CheckedOptions,
): GradcheckReport {
  const inputs = checkArgs(what, fn, rawInputs);
  const values = inputs.map((t) => Float64Array.from(t.data));
  const active = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const problem: JacobianProblem = {
    inputCount: active.length,
    inputSize: (k) => values[active[k]!]!.length,
    evaluate: () => callFn(what, fn, leaves(inputs, values)).data,
    get: (k, j) => values[active[k]!]![j]!,
    set: (k, j, v) => {
      values[active[k]!]![j] = v;
    },
    analyticalRow: (o) => {
      const xs = leaves(inputs, values);
      const out = callFn(what, fn, xs);
      // An output that does not depend on any input (e.g. a gradient that is constant) has a zero Jacobian.
      if (!out.requiresGrad) return active.map((i) => new Float64Array(values[i]!.length));
      const seed = new Float64Array(out.size);
      seed[o] = 1;
      const gs = grad(
        out,
        active.map((i) => xs[i]!),
        {
          gradOutputs: [fromArray(seed, out.shape, { dtype: out.dtype })],
          allowUnused: true,
        },
      );
      return gs.map((g, k) => (g === null ? new Float64Array(values[active[k]!]!.length) : g.data));
    },
  };
  return finish(what, jacobianReport(what, problem, options), options);
}

/**
 * Checks second derivatives of a tensor function: the gradient of `<d fn/d inputs · u, v>` for random seeded
 * directions `u` (output-shaped) and `v` (input-shaped), built with `createGraph`, against finite differences.
 *
 * @throws as {@link gradcheckTensor}
 */
export function gradgradcheckTensor(
  fn: TensorFunction,
  rawInputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const what = 'gradgradcheck';
  const options = readOptions('gradgradcheckTensor', opts);
  const inputs = checkArgs(what, fn, rawInputs);
  let s = options.seed >>> 0 || 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
  const probe = noGrad(() =>
    callFn(
      what,
      fn,
      inputs.map((t) => t.detach()),
    ),
  );
  const u = fromArray(Float64Array.from({ length: probe.size }, rnd), probe.shape, { dtype: 'float64' });
  const vs = inputs.map((t) =>
    fromArray(Float64Array.from({ length: t.size }, rnd), t.shape, { dtype: 'float64' }),
  );
  const active = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const vjp: TensorFunction = (...xs) => {
    const out = callFn(what, fn, xs);
    // No input to differentiate, or an output that does not depend on them: every derivative is zero.
    if (active.length === 0 || !out.requiresGrad) return scalarTensor(0, { dtype: 'float64' });
    const gs = grad(
      out,
      active.map((i) => xs[i]!),
      { gradOutputs: [u], createGraph: true, allowUnused: true },
    );
    let total: Tensor | null = null;
    gs.forEach((g, k) => {
      if (g === null) return;
      const term = g.mul(vs[active[k]!]!).sum();
      total = total === null ? term : total.add(term);
    });
    return total ?? scalarTensor(0, { dtype: 'float64' });
  };
  return finish(what, tensorCheck(what, vjp, inputs, { ...options, raiseException: false }), options);
}
