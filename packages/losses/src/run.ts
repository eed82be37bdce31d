import {
  allocate,
  allocateOutput,
  applyElementwise,
  broadcastStrides,
  type DType,
  elementwiseSpec,
  type FusedFunction,
  fuse,
  type Grads,
  inputVariable,
  isGradEnabled,
  noGrad,
  record,
  type Storage,
  sameShape,
  sumTo,
  Tensor,
  where,
  whereValue,
} from '@gradkit/autograd';
import {
  and,
  DomainError,
  type Expr,
  expressionBackend,
  ge,
  type InputKind,
  le,
  where as whereExpr,
} from '@gradkit/kernels';
import { runLossOnDevice } from './device-run.js';
import { firstOutside, formatRange, type Range, type Reduction } from './options.js';
import { arg, type LossProgram } from './program.js';

/**
 * How far outside a program's `targetRange` a target may lie: float rounding (a soft target computed as
 * 1.0000001) and finite differences at hard targets (gradcheck's step is 1e-6) stay accepted, and are used
 * as given (the formulas are continuous there).
 */
export const TARGET_TOLERANCE = 1e-5;

/** ±inf → ±Number.MAX_VALUE, elementwise and differentiable (derivative 1 at finite values, 0 at ±inf). */
const finiteProxy: FusedFunction = fuse(
  (v) => whereValue(v.abs().eq(Number.POSITIVE_INFINITY), v.sign().mul(Number.MAX_VALUE), v),
  'finiteLogit',
);

/** Whether some element is ±inf. */
function hasInfinity(data: Storage): boolean {
  for (let i = 0; i < data.length; i++) if (Math.abs(data[i]!) === Number.POSITIVE_INFINITY) return true;
  return false;
}

/** Per-element gradients computed during the forward pass, kept for a backward pass that needs no graph. */
interface Saved {
  /** For each input: the gradient for an upstream gradient of 1 (already divided by n for 'mean'), or null. */
  readonly grads: Array<Storage | null>;
}

/** Runs one fused pass over the broadcast inputs; returns the stored arrays and the sums. */
function runFused(
  outputs: readonly Expr[],
  store: readonly boolean[],
  sums: readonly boolean[],
  tensors: readonly Tensor[],
  gScale: number,
  dtype: DType,
): { arrays: Array<Storage | null>; totals: Float64Array } {
  const x = tensors[0]!;
  const shape = x.shape;
  const n = x.size;
  // The kernel writes every element of every stored output: no clearing pass.
  const arrays = outputs.map((_, k) => (store[k] ? allocateOutput(dtype, n) : null));
  const totals = new Float64Array(outputs.length);
  const variables = Array.from({ length: tensors.length + 1 }, (_, i) => inputVariable(i));
  if (n === 0) return { arrays, totals };
  const flat = tensors.every((t) => t.size === 1 || sameShape(t.shape, shape));
  if (flat) {
    const kinds: InputKind[] = tensors.map((t) => (t.size === 1 && n !== 1 ? 'scalar' : 'array'));
    kinds.push('scalar');
    const ins = tensors.map((t, i) => (kinds[i] === 'scalar' ? t.data[0]! : t.data));
    expressionBackend().fusedReduce(outputs, variables, kinds, { store, sum: sums })(
      [...ins, gScale],
      arrays,
      n,
      totals,
    );
  } else {
    const strides = tensors.map((t) => broadcastStrides(t.shape, shape));
    strides.push(shape.map(() => 0));
    expressionBackend().stridedReduce(outputs, variables, { store, sum: sums })(
      [...tensors.map((t) => t.data), Float64Array.of(gScale)],
      strides,
      arrays,
      shape,
      totals,
    );
  }
  return { arrays, totals };
}

/** `saved * g` elementwise (g of the same size) or by a scalar, into new storage; for g = 1 hands `saved` over (once). */
function scale(saved: Saved, i: number, g: Tensor, dtype: DType): Storage {
  const d = saved.grads[i]!;
  if (g.size === 1 && d.length !== 1) {
    const s = g.data[0]!;
    if (s === 1) {
      // Handed out as the gradient's own storage, which its holder may dispose (its memory then goes to
      // another tensor): this node never reads it again, and a second backward recomputes instead.
      saved.grads[i] = null;
      return d;
    }
    const out = allocateOutput(dtype, d.length);
    for (let k = 0; k < d.length; k++) out[k] = d[k]! * s;
    return out;
  }
  const gd = g.data;
  const out = allocateOutput(dtype, d.length);
  for (let k = 0; k < d.length; k++) out[k] = d[k]! * gd[k]!;
  return out;
}

/**
 * Runs a loss as ONE graph node. The forward pass is one fused loop that computes the elementwise loss and,
 * for 'mean'/'sum', its float64 sum in the same pass; when the inputs will need gradients it also computes
 * them in that loop (for an upstream gradient of 1), sharing every subexpression with the loss. When the
 * program has a `targetRange`, the same loop counts the targets outside it.
 *
 * The backward pass scales those saved gradients by the upstream gradient (one multiply per element), or,
 * when a graph of the backward is requested (`createGraph`) or an input was not covered, runs the program's
 * gradient expressions as ONE fused elementwise op (`applyElementwise`), which is itself a differentiable
 * node — so double backward needs nothing else. Gradients of broadcast inputs are summed back to their shape.
 *
 * On webgpu the loss runs as one fused forward-and-reduce kernel and one fused backward kernel instead (see
 * `runLossOnDevice`); nothing is read back.
 *
 * @throws DomainError when a target is outside the program's `targetRange` (cpu)
 */
export function runLoss(program: LossProgram, tensors: readonly Tensor[], reduction: Reduction): Tensor {
  const x = tensors[0]!;
  if (x.device !== 'cpu') return runLossOnDevice(program, tensors, reduction);
  const dtype = x.dtype;
  const n = x.size;
  const track = isGradEnabled() && tensors.some((t) => t.requiresGrad);
  const eager = tensors.map((t, i) => track && t.requiresGrad && program.grads[i] !== null);
  const outputs: Expr[] = [program.value];
  const store = [reduction === 'none'];
  // The value is always summed: a NaN sum is how infinite logits (0·inf in the plain form) are noticed.
  const sums = [true];
  const gradOutputs: Expr[] = [];
  eager.forEach((e, i) => {
    if (e) gradOutputs.push((program.gradValues ?? program.grads)[i]!);
  });
  outputs.push(...gradOutputs);
  for (const _ of gradOutputs) {
    store.push(true);
    sums.push(false);
  }
  // The target check rides along in the same loop: the count of targets outside the range, summed.
  const range: Range | undefined =
    program.targetRange === undefined
      ? undefined
      : [program.targetRange[0] - TARGET_TOLERANCE, program.targetRange[1] + TARGET_TOLERANCE];
  if (range !== undefined) {
    const y = arg(1);
    outputs.push(whereExpr(and(ge(y, range[0]), le(y, range[1])), 0, 1));
    store.push(false);
    sums.push(true);
  }
  const gScale = reduction === 'mean' ? 1 / n : 1;
  const { arrays, totals } = runFused(outputs, store, sums, tensors, gScale, dtype);
  if (range !== undefined && totals[outputs.length - 1]! !== 0) {
    const target = tensors[1]!;
    const i = firstOutside(target.data, range);
    throw new DomainError(
      program.name,
      `every target must be in ${formatRange(program.targetRange!)} (within ${TARGET_TOLERANCE}; NaN is not allowed); element ${i} is ${target.data[i]}`,
    );
  }
  const limits = program.valueAtInfinity;
  const infinite = limits !== undefined && Number.isNaN(totals[0]!) && hasInfinity(x.data);
  if (infinite) {
    // Rare: infinite logits made the plain form NaN. The value there is the limit (the exact form), and where
    // a gradient there is NaN (0·inf inside it), it is taken at ±MAX_VALUE instead.
    const exact = runFused([limits!], [reduction === 'none'], [true], tensors, gScale, dtype);
    if (reduction === 'none') arrays[0] = exact.arrays[0]!;
    else totals[0] = exact.totals[0]!;
    if (gradOutputs.length > 0) {
      const redo = runFused(
        gradOutputs,
        gradOutputs.map(() => true),
        gradOutputs.map(() => false),
        [noGrad(() => finiteProxy(x)), ...tensors.slice(1)],
        gScale,
        dtype,
      );
      redo.arrays.forEach((a, k) => {
        const direct = arrays[k + 1]!;
        for (let j = 0; j < direct.length; j++) if (Number.isNaN(direct[j]!)) direct[j] = a![j]!;
      });
    }
  }
  let data: Storage;
  let shape: readonly number[];
  if (reduction === 'none') {
    data = arrays[0]!;
    shape = x.shape;
  } else {
    data = allocate(dtype, 1);
    data[0] = reduction === 'mean' ? totals[0]! / n : totals[0]!;
    shape = [];
  }
  const saved: Saved = { grads: tensors.map(() => null) };
  let k = 1;
  eager.forEach((e, i) => {
    if (e) saved.grads[i] = arrays[k++]!;
  });
  const inShape = x.shape;
  return record(program.name, tensors, [{ data, shape }], (grads: Grads): Grads => {
    const g = grads[0];
    const result: Grads = tensors.map(() => null);
    if (g === null || g === undefined) return result;
    const need = tensors.map((t, i) => t.requiresGrad && program.grads[i] !== null);
    const fast = !isGradEnabled() && need.every((nd, i) => !nd || saved.grads[i] !== null);
    if (fast) {
      need.forEach((nd, i) => {
        if (!nd) return;
        const raw = new Tensor(scale(saved, i, g, dtype), inShape);
        result[i] = sumTo(raw, tensors[i]!.shape);
      });
      return result;
    }
    const which = need.flatMap((nd, i) => (nd ? [i] : []));
    if (which.length === 0) return result;
    const spec = elementwiseSpec(
      `${program.name}_backward`,
      which.map((i) => program.grads[i]!),
      program.arity + 1,
    );
    const upstream = reduction === 'mean' ? g.mul(1 / n) : g;
    let raw = applyElementwise(spec, [...tensors, upstream], dtype);
    if (infinite) {
      const proxy = applyElementwise(spec, [finiteProxy(x), ...tensors.slice(1), upstream], dtype);
      raw = raw.map((r, j) => where(r.ne(r), proxy[j]!, r));
    }
    which.forEach((i, j) => {
      result[i] = sumTo(raw[j]!, tensors[i]!.shape);
    });
    return result;
  })[0]!;
}
