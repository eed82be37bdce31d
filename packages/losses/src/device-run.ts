import { type Grads, inputVariable, isGradEnabled, record, sumTo, Tensor } from '@gradkit/autograd';
import {
  abs,
  and,
  constant,
  type DeviceArray,
  DeviceError,
  deviceFusedMap,
  deviceFusedSum,
  type Expr,
  type FusedOperand,
  ge,
  gt,
  le,
  lt,
  mul,
  substitute,
  topoSort,
  variable,
  where,
} from '@gradkit/kernels';
import type { Reduction } from './options.js';
import { arg, type LossProgram } from './program.js';
import { TARGET_TOLERANCE } from './run.js';

/** The largest float32: where a logit is ±inf, a NaN loss or gradient is taken at ±this (the limit). */
const F32_MAX = 3.4028234663852886e38;

/** The 0-d cpu tensors a loss passes for its run-time scalar parameters (f32 uniforms on the device). */
const scalars = new WeakSet<Tensor>();

/** @internal a run-time scalar argument of a loss program (a uniform on webgpu, never a device mix-up). */
export function lossScalar(v: number): Tensor {
  const t = new Tensor(Float64Array.of(v), []);
  scalars.add(t);
  return t;
}

/** The device-side programs of a loss program (built once per program and reduction). */
interface DeviceProgram {
  /** The value (output 0) and, for logit losses, its limit at infinite logits (output 1, a NaN guard). */
  readonly value: Expr[];
  /** Variable names: the program's inputs, the upstream gradient, the upstream scale and a NaN. */
  readonly variables: string[];
}

const built = new WeakMap<LossProgram, DeviceProgram>();

/** The scale variable of the backward (1/n for 'mean', 1 otherwise): a uniform. */
const SCALE = '§scale';
/** A NaN (a uniform: the IR has no NaN constant) for elements outside a domain. */
const NAN = '§nan';

/**
 * `e`, NaN at elements outside the program's domains (the targets' range, widened by TARGET_TOLERANCE, and
 * `domains`): the device's version of the cpu's DomainError, which would need a read-back.
 */
function poisoned(program: LossProgram, e: Expr): Expr {
  const checks: Array<[number, readonly [number, number]]> = (program.domains ?? []).map((d) => [
    d.index,
    d.range,
  ]);
  if (program.targetRange !== undefined) {
    checks.push([1, [program.targetRange[0] - TARGET_TOLERANCE, program.targetRange[1] + TARGET_TOLERANCE]]);
  }
  let out = e;
  for (const [i, [lo, hi]] of checks) {
    const v = arg(i);
    out = where(and(ge(v, lo), le(v, hi)), out, variable(NAN));
  }
  return out;
}

/** The smallest positive normal float32 (WGSL may flush subnormals to zero). */
const F32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * `exprs` with every constant that float32 cannot hold moved to the nearest value it can: the floors the cpu
 * programs take in float64 (1e-100 below a probability raised to a power, 1e-300 below a log's argument)
 * would round to 0 in float32 and turn a derivative infinite, so they become the smallest normal float32;
 * finite constants beyond the float32 range become ±F32_MAX instead of ±inf.
 */
function float32Constants(exprs: readonly Expr[]): Expr[] {
  const swap = new Map<Expr, Expr>();
  for (const node of topoSort(exprs)) {
    if (!node.isConst) continue;
    const v = node.value;
    const a = Math.abs(v);
    if (a > 0 && a < F32_MIN_NORMAL) swap.set(node, constant(Math.sign(v) * F32_MIN_NORMAL));
    else if (Number.isFinite(v) && a > F32_MAX) swap.set(node, constant(Math.sign(v) * F32_MAX));
  }
  return swap.size === 0 ? [...exprs] : exprs.map((e) => substitute(e, swap));
}

/** At an infinite logit: `e` evaluated at ±F32_MAX instead (elsewhere `e` itself). */
function atLimit(e: Expr): Expr {
  const x = arg(0);
  const proxy = where(gt(x, 0), F32_MAX, -F32_MAX);
  return where(lt(abs(x), Number.POSITIVE_INFINITY), e, substitute(e, new Map([[x, proxy]])));
}

function deviceProgram(program: LossProgram): DeviceProgram {
  let d = built.get(program);
  if (d === undefined) {
    const value = poisoned(program, program.value);
    const logits = program.valueAtInfinity !== undefined;
    d = {
      value: float32Constants(logits ? [value, atLimit(value)] : [value]),
      variables: [...Array.from({ length: program.arity + 1 }, (_, i) => inputVariable(i)), SCALE, NAN],
    };
    built.set(program, d);
  }
  return d;
}

/** The operand of one tensor of a loss call: its device array, or the number of a run-time scalar. */
function operand(op: string, t: Tensor, i: number): FusedOperand {
  const d = t.deviceArray;
  if (d !== null) return { array: d, shape: t.shape };
  if (scalars.has(t)) return t.data[0]!;
  throw new DeviceError(
    op,
    `expected all tensors on the same device, but argument #0 is on webgpu and argument #${i} is on cpu; move one with t.to('webgpu') or await t.cpu()`,
  );
}

/**
 * Runs a loss on webgpu as ONE fused kernel: the elementwise loss (with its limit at infinite logits, and NaN
 * where a target or a ranged input is outside its domain) and, for 'mean'/'sum', a workgroup tree reduction
 * in the same kernel, then one pass over the partial sums. The result (0-d, or the input's shape for 'none')
 * stays on the device; nothing is read back. Run-time scalar parameters (gamma, alpha, ...) are f32
 * uniforms, so one pipeline serves every value.
 *
 * When an input requires grad (under grad mode), the result is ONE graph node whose backward is ONE fused
 * kernel computing every needed input gradient from the program's gradient expressions (the same IR), with
 * gradients of broadcast inputs summed back to their shape on the device. Double backward on webgpu is not
 * supported (a DeviceError).
 *
 * @throws DeviceError when a cpu tensor is mixed in
 */
export function runLossOnDevice(
  program: LossProgram,
  tensors: readonly Tensor[],
  reduction: Reduction,
): Tensor {
  const op = program.name;
  const x = tensors[0]!;
  const rt = x.deviceArray?.runtime;
  if (rt === undefined) throw new DeviceError(op, "argument 'input' must be on webgpu");
  const dp = deviceProgram(program);
  const shape = x.shape;
  const n = x.size;
  const operands: FusedOperand[] = tensors.map((t, i) => operand(op, t, i));
  // The upstream gradient and scale are not read by the forward: give them placeholder uniforms.
  const call = {
    outputs: dp.value,
    variables: dp.variables,
    operands: [...operands, 0, 0, Number.NaN],
    shape,
    guards: dp.value.length > 1 ? [[0, 1] as const] : [],
  };
  let out: DeviceArray;
  let outShape: number[];
  if (reduction === 'none') {
    [out] = deviceFusedMap(rt, op, {
      ...call,
      targets: dp.value.map((_, k) => (k === 0 ? null : 'none')),
    }) as [DeviceArray];
    outShape = [...shape];
  } else {
    out = deviceFusedSum(rt, op, call, reduction === 'mean' ? 1 / n : 1);
    outShape = [];
  }
  // record() saves the inputs' storage versions: an in-place update of one before backward is refused.
  return record(
    program.name,
    tensors,
    [{ data: out, shape: outShape }],
    (grads: Grads): Grads => backwardOnDevice(program, tensors, operands, reduction, grads[0] ?? null),
  )[0]!;
}

/** The gradient expressions of some inputs, poisoned like the value, and their limits at infinite logits. */
const gradPrograms = new WeakMap<LossProgram, Map<string, Expr[]>>();

function gradOutputs(program: LossProgram, which: readonly number[]): Expr[] {
  let byKey = gradPrograms.get(program);
  if (byKey === undefined) {
    byKey = new Map();
    gradPrograms.set(program, byKey);
  }
  const key = which.join(',');
  let outs = byKey.get(key);
  if (outs === undefined) {
    const g = arg(program.arity);
    const scaled = new Map([[g, mul(g, variable(SCALE))]]);
    const grads = which.map((i) => poisoned(program, substitute(program.grads[i]!, scaled)));
    outs = float32Constants(
      program.valueAtInfinity === undefined ? grads : [...grads, ...grads.map(atLimit)],
    );
    byKey.set(key, outs);
  }
  return outs;
}

/**
 * The backward of a device loss: ONE fused kernel for every input that needs a gradient (upstream gradient
 * times the program's gradient expressions, scaled by 1/n for 'mean'), then a sum to each broadcast input's
 * shape. The gradients are webgpu tensors.
 */
function backwardOnDevice(
  program: LossProgram,
  tensors: readonly Tensor[],
  operands: readonly FusedOperand[],
  reduction: Reduction,
  g: Tensor | null,
): Grads {
  const op = `${program.name}_backward`;
  const result: Grads = tensors.map(() => null);
  if (g === null) return result;
  if (isGradEnabled()) {
    throw new DeviceError(
      op,
      'double backward (createGraph) of a loss is not supported on webgpu yet: compute higher derivatives on the cpu',
    );
  }
  const which = tensors.flatMap((t, i) => (t.requiresGrad && program.grads[i] !== null ? [i] : []));
  if (which.length === 0) return result;
  const x = tensors[0]!;
  const rt = x.deviceArray!.runtime;
  let upstream: FusedOperand;
  const gd = g.deviceArray;
  if (gd !== null) upstream = { array: gd, shape: g.shape };
  else if (g.size === 1) upstream = g.data[0]!;
  else {
    throw new DeviceError(op, 'the upstream gradient is on cpu while the loss is on webgpu');
  }
  const outputs = gradOutputs(program, which);
  const k = which.length;
  const dp = deviceProgram(program);
  const raw = deviceFusedMap(rt, op, {
    outputs,
    variables: dp.variables,
    operands: [...operands, upstream, reduction === 'mean' ? 1 / x.size : 1, Number.NaN],
    shape: x.shape,
    targets: outputs.map((_, j) => (j < k ? null : 'none')),
    guards: outputs.length > k ? which.map((_, j) => [j, j + k] as const) : [],
  });
  which.forEach((i, j) => {
    const t = tensors[i]!;
    const full = new Tensor(raw[j]!, [...x.shape]);
    // The gradient of a broadcast operand, summed back to its shape by the device's tree reduction.
    const summed = sumTo(full, t.shape);
    if (summed.deviceArray !== full.deviceArray) full.dispose();
    result[i] = summed;
  });
  return result;
}
