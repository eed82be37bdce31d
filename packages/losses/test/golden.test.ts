import { DomainError, GradkitError, grad, ShapeError } from '@gradkit/autograd';
import {
  type ElementwiseBackendName,
  setElementwiseBackend,
  wasmSimdAvailable,
  wasmStats,
} from '@gradkit/kernels';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  compare,
  type Expected,
  type GoldenCase,
  type Inputs,
  loadGolden,
  numbers,
  run,
  type Tolerance,
  toTensor,
} from './golden-data.js';

const cases = loadGolden();

function inputsOf(c: GoldenCase): Inputs {
  return {
    input: toTensor(c.input, c.dtype, true),
    target: toTensor(c.target, c.dtype, true),
    weight: c.weight === undefined ? undefined : toTensor(c.weight, c.dtype, true),
    posWeight: c.pos_weight === undefined ? undefined : toTensor(c.pos_weight, c.dtype, true),
  };
}

/** The README's tolerance rules for one case. */
function tolerance(c: GoldenCase): Tolerance {
  const nanIsWildcard = c.tags.includes('nan_grad') || c.tags.includes('nonfinite_input');
  if (c.dtype === 'float32') {
    const differs = c.tags.includes('f32_f64_nonfinite_differs');
    return { atol: differs ? 1e-3 : 1e-5, rtol: 1e-3, nanIsWildcard: nanIsWildcard || differs };
  }
  let atol = 1e-12;
  if ((c.params.gamma ?? 1) < 1) atol = 1e-9;
  if (c.tags.includes('target_equals_prob')) atol = 1e-4;
  return { atol, rtol: 1e-10, nanIsWildcard };
}

type Field = 'loss' | 'grad_input' | 'grad_target' | 'grad_weight' | 'grad_pos_weight' | 'hvp_input';

function expectedOf(e: Expected, f: Field): Float64Array | undefined {
  if (f === 'hvp_input')
    return e.double_backward === undefined ? undefined : numbers(e.double_backward.hvp_input);
  const t = e[f];
  return t === undefined ? undefined : numbers(t);
}

function check(c: GoldenCase, f: Field, actual: ArrayLike<number>, failures: string[]): void {
  const truth = c.dtype === 'float32' ? c.expected_f64! : c.expected!;
  const want = expectedOf(truth, f);
  if (want === undefined) return;
  const tol = tolerance(c);
  if (c.dtype === 'float32' && c.tags.includes('f32_f64_nonfinite_differs'))
    tol.alternative = expectedOf(c.expected!, f);
  const msg = compare(f, actual, want, tol);
  if (msg !== null) failures.push(msg);
}

const valueCases = cases.filter((c) => c.error === undefined);
const errorCases = cases.filter((c) => c.error !== undefined);

// The same cases and tolerances on the JavaScript generator and on the WebAssembly backend (forced, so that
// the small cases run on it too: float32 loss kernels then run as WebAssembly, float64 ones on JavaScript).
const BACKENDS: ElementwiseBackendName[] = wasmSimdAvailable() ? ['js', 'wasm'] : ['js'];

describe.each(BACKENDS)('golden vectors (PyTorch 1.13) on the %s backend', (backend) => {
  let runsBefore = 0;
  beforeAll(() => {
    setElementwiseBackend(backend);
    runsBefore = wasmStats().runs;
  });
  afterAll(() => {
    setElementwiseBackend('auto');
  });

  test.each(valueCases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const failures: string[] = [];
    const t = inputsOf(c);
    const loss = run(c, t);
    expect(loss.dtype).toBe(c.dtype);
    expect(loss.shape).toEqual(c.expected!.loss.shape);
    check(c, 'loss', loss.data, failures);
    const upstream = c.grad_output === undefined ? undefined : [toTensor(c.grad_output, c.dtype)];
    const wrt = [t.input, t.target, ...(t.weight ? [t.weight] : []), ...(t.posWeight ? [t.posWeight] : [])];
    // First order, through the fast path (no graph of the backward).
    const gs = grad(loss, wrt, { gradOutputs: upstream });
    check(c, 'grad_input', gs[0]!.data, failures);
    check(c, 'grad_target', gs[1]!.data, failures);
    if (t.weight) check(c, 'grad_weight', gs[2]!.data, failures);
    if (t.posWeight) check(c, 'grad_pos_weight', gs[t.weight ? 3 : 2]!.data, failures);
    // First order again with createGraph (the differentiable backward), then the Hessian-vector product.
    const db = (c.dtype === 'float32' ? c.expected_f64 : c.expected)!.double_backward;
    const t2 = inputsOf(c);
    const loss2 = run(c, t2);
    const [gi] = grad(loss2, [t2.input], { gradOutputs: upstream, createGraph: true });
    check(c, 'grad_input', gi!.data, failures);
    if (db !== undefined) {
      const v = toTensor(db.v, c.dtype);
      const [hvp] = grad(gi!.mul(v).sum(), [t2.input]);
      check(c, 'hvp_input', hvp!.data, failures);
    }
    expect(failures, `${c.id} [${c.tags.join(', ')}]`).toEqual([]);
  });

  test.each(errorCases.map((c) => [c.id, c] as const))('%s throws a typed error', (_id, c) => {
    const t = inputsOf(c);
    let caught: unknown;
    try {
      run(c, t);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GradkitError);
    expect(caught).toBeInstanceOf(c.error === 'shape_mismatch' ? ShapeError : DomainError);
    const msg = (caught as Error).message;
    if (c.error === 'shape_mismatch') {
      // The message names the shapes involved.
      const shapes = [c.input.shape, c.target.shape, c.weight?.shape, c.pos_weight?.shape].filter(
        (s) => s !== undefined,
      );
      const mismatched = shapes.filter((s) => msg.includes(`[${s!.join(', ')}]`));
      expect(mismatched.length, msg).toBeGreaterThanOrEqual(2);
    }
  });

  test('covers every case of the file', () => {
    expect(valueCases.length + errorCases.length).toBe(192);
    expect(errorCases.length).toBe(12);
  });

  test('the float32 cases ran on the backend', () => {
    const ran = wasmStats().runs - runsBefore;
    if (backend === 'wasm') expect(ran).toBeGreaterThan(0);
    else expect(ran).toBe(0);
  });
});
