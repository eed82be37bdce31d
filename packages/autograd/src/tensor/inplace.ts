/**
 * In-place updates (PyTorch's `add_`, `mul_`, `copy_`, ...): one generated elementwise loop that reads the
 * target and the other arguments and writes the target's own storage — no temporary tensor. They are meant
 * for optimizers and buffers, under `noGrad`; each bumps the target's version counter, so a graph recorded
 * before the update refuses to backpropagate through the modified data.
 */
import {
  ArgumentError,
  add,
  DeviceError,
  describeValue,
  div,
  type Expr,
  expressionBackend,
  gt,
  type InputKind,
  lt,
  max,
  mul,
  ShapeError,
  StateError,
  sub,
  variable,
  where,
} from '@gradkit/kernels';
import { INPUT_PREFIX, tracedInputs, Value } from '../scalar/value.js';
import { tracedOutputs } from './elementwise.js';
import { isGradEnabled } from './grad-mode.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, fmt, sameShape } from './shape.js';
import { Tensor } from './tensor.js';
import { bumpVersion } from './version.js';

/** A tensor, or a number read as one scalar for every element (never compiled into the loop). */
export type InPlaceArg = Tensor | number;

const VARS: string[][] = [];
function vars(n: number): string[] {
  if (VARS[n] === undefined) VARS[n] = Array.from({ length: n }, (_, i) => `${INPUT_PREFIX}${i}`);
  return VARS[n]!;
}

/**
 * Refuses in-place updates that autograd could not account for: on a tensor that requires grad while grad
 * mode is on (PyTorch's leaf message; a non-leaf is part of a recorded graph), or reading a tensor that
 * requires grad while grad mode is on (the update would silently drop that dependency).
 */
function checkTarget(op: string, self: unknown, args: readonly unknown[], names: readonly string[]): Tensor {
  if (!(self instanceof Tensor)) {
    throw new ArgumentError(op, `must be called on a Tensor, got ${describeValue(self)}`);
  }
  args.forEach((a, i) => {
    if (!(a instanceof Tensor) && typeof a !== 'number') {
      throw new ArgumentError(
        op,
        `argument '${names[i]}' must be a Tensor or a number, got ${describeValue(a)}`,
      );
    }
  });
  args.forEach((a, i) => {
    if (a instanceof Tensor && a.device !== self.device) {
      throw new DeviceError(
        op,
        `expected all tensors on the same device, but the tensor updated in place is on ${self.device} and argument '${names[i]}' is on ${a.device}`,
      );
    }
  });
  if (!isGradEnabled()) return self;
  if (self.requiresGrad) {
    if (self.isLeaf) {
      throw new StateError(
        op,
        'a leaf Variable that requires grad is being used in an in-place operation. Run the update under ' +
          'noGrad(() => ...), as optimizers do, or use the out-of-place op',
      );
    }
    throw new StateError(
      op,
      `in-place update of a tensor that is part of a recorded graph (output ${self.outputIndex} of ` +
        `${self.gradFn!.name}) is not supported: use the out-of-place op, or run it under noGrad(() => ...)`,
    );
  }
  args.forEach((a, i) => {
    if (a instanceof Tensor && a.requiresGrad) {
      throw new StateError(
        op,
        `argument '${names[i]}' requires grad, but an in-place update records no graph: run it under ` +
          'noGrad(() => ...), or use the out-of-place op',
      );
    }
  });
  return self;
}

/** Each tensor argument must broadcast to the target's shape (the target's shape cannot change in place). */
function checkBroadcastsTo(op: string, self: Tensor, args: readonly InPlaceArg[]): void {
  for (const a of args) {
    if (typeof a === 'number' || sameShape(a.shape, self.shape)) continue;
    const b = broadcastShapes(op, self.shape, a.shape);
    if (!sameShape(b, self.shape)) {
      throw new ShapeError(
        op,
        `output with shape ${fmt(self.shape)} doesn't match the broadcast shape ${fmt(b)} (argument of shape ${fmt(a.shape)})`,
      );
    }
  }
}

/**
 * Writes `expr` — over `x0` (the target's elements) and `x1 …` (the arguments, broadcast to the target's
 * shape) — into the target's storage, in one loop, and bumps its version. The target keeps its dtype
 * (the loop computes in float64 and rounds once when storing).
 */
function run(op: string, self: Tensor, expr: Expr, args: readonly InPlaceArg[]): Tensor {
  if (self.device === 'webgpu') return runOnDevice(op, self, expr, args);
  const n = self.size;
  const all: InPlaceArg[] = [self, ...args];
  checkBroadcastsTo(op, self, args);
  if (n > 0) {
    const names = vars(all.length);
    if (all.every((a) => typeof a === 'number' || a.size === n || a.size === 1)) {
      const kinds: InputKind[] = all.map((a) => (typeof a === 'number' || a.size !== n ? 'scalar' : 'array'));
      const ins = all.map((a, i) =>
        typeof a === 'number' ? a : kinds[i] === 'scalar' ? a.data[0]! : a.data,
      );
      expressionBackend().elementwise([expr], names, kinds)(ins, [self.data], n);
    } else {
      const zero = self.shape.map(() => 0);
      expressionBackend().strided([expr], names)(
        all.map((a) => (typeof a === 'number' ? new Float64Array([a]) : a.data)),
        all.map((a, i) =>
          typeof a === 'number'
            ? zero
            : i === 0
              ? contiguousStrides(self.shape)
              : broadcastStrides(a.shape, self.shape),
        ),
        [self.data],
        self.shape,
      );
    }
  }
  bumpVersion(self.data);
  return self;
}

/**
 * The webgpu form of {@link run}: the update runs as one strided WGSL kernel into a new buffer, which is then
 * copied over the target's own buffer on the device (so views of the target see it), and the version is
 * bumped. Nothing is read back.
 */
function runOnDevice(op: string, self: Tensor, expr: Expr, args: readonly InPlaceArg[]): Tensor {
  const target = self.deviceArray!;
  const all: InPlaceArg[] = [self, ...args];
  checkBroadcastsTo(op, self, args);
  if (self.size > 0) {
    const rt = target.runtime;
    const kinds: InputKind[] = all.map((a) => (typeof a === 'number' ? 'scalar' : 'array'));
    const zero = self.shape.map(() => 0);
    const [out] = rt.strided(
      op,
      [expr],
      vars(all.length),
      kinds,
      all.map((a) => (typeof a === 'number' ? a : a.deviceArray!)),
      self.shape,
      all.map((a, i) =>
        typeof a === 'number'
          ? zero
          : i === 0
            ? contiguousStrides(self.shape)
            : broadcastStrides(a.shape, self.shape),
      ),
    );
    rt.copyInto(op, target, out!);
    out!.dispose();
  }
  bumpVersion(target);
  return self;
}

const [X0, X1, X2, X3] = vars(4).map((v) => variable(v)) as [Expr, Expr, Expr, Expr];
const EXPR = {
  copy: X1,
  add: add(X0, mul(X2, X1)),
  sub: sub(X0, mul(X2, X1)),
  mul: mul(X0, X1),
  div: div(X0, X1),
  clampMin: where(lt(X0, X1), X1, X0),
  clampMax: where(gt(X0, X1), X1, X0),
  clamp: where(gt(where(lt(X0, X1), X1, X0), X2), X2, where(lt(X0, X1), X1, X0)),
  addcmul: add(X0, mul(X3, mul(X1, X2))),
  addcdiv: add(X0, mul(X3, div(X1, X2))),
  lerp: add(X0, mul(X2, sub(X1, X0))),
  maximum: max(X0, X1),
};

function scalarArg(op: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number')
    throw new ArgumentError(op, `argument '${name}' must be a number, got ${describeValue(v)}`);
  return v;
}

/** `self ← src` (broadcast to self's shape, converted to self's dtype), like `Tensor.copy_`. */
export function copy_(self: Tensor, src: InPlaceArg): Tensor {
  checkTarget('copy_', self, [src], ['src']);
  if (src instanceof Tensor && src.device === 'cpu' && self.device === 'cpu' && src.data === self.data) {
    bumpVersion(self.data);
    return self;
  }
  return run('copy_', self, EXPR.copy, [src]);
}

/** `self ← self + alpha · other` (broadcasting other), like `Tensor.add_(other, alpha=1)`. */
export function add_(self: Tensor, other: InPlaceArg, alpha?: number): Tensor {
  checkTarget('add_', self, [other], ['other']);
  return run('add_', self, EXPR.add, [other, scalarArg('add_', 'alpha', alpha, 1)]);
}

/** `self ← self − alpha · other`, like `Tensor.sub_(other, alpha=1)`. */
export function sub_(self: Tensor, other: InPlaceArg, alpha?: number): Tensor {
  checkTarget('sub_', self, [other], ['other']);
  return run('sub_', self, EXPR.sub, [other, scalarArg('sub_', 'alpha', alpha, 1)]);
}

/** `self ← self · other`, like `Tensor.mul_`. */
export function mul_(self: Tensor, other: InPlaceArg): Tensor {
  checkTarget('mul_', self, [other], ['other']);
  return run('mul_', self, EXPR.mul, [other]);
}

/** `self ← self / other`, like `Tensor.div_`. */
export function div_(self: Tensor, other: InPlaceArg): Tensor {
  checkTarget('div_', self, [other], ['other']);
  return run('div_', self, EXPR.div, [other]);
}

/** `self ← value` everywhere (NaN and infinities allowed), like `Tensor.fill_`. */
export function fill_(self: Tensor, value: number): Tensor {
  checkTarget('fill_', self, [], []);
  if (typeof value !== 'number') {
    throw new ArgumentError('fill_', `argument 'value' must be a number, got ${describeValue(value)}`);
  }
  if (self.device === 'webgpu') return runOnDevice('fill_', self, EXPR.copy, [value]);
  self.data.fill(value);
  bumpVersion(self.data);
  return self;
}

/** `self ← 0`, like `Tensor.zero_`. */
export function zero_(self: Tensor): Tensor {
  return fill_(self, 0);
}

/**
 * `self ← clamp(self, min, max)` with the semantics of the out-of-place `clamp` (where min > max every
 * element becomes max; NaN stays NaN), like `Tensor.clamp_`.
 *
 * @throws ArgumentError when both bounds are omitted
 */
export function clamp_(self: Tensor, min?: InPlaceArg, max?: InPlaceArg): Tensor {
  const given = [min, max].filter((b) => b !== undefined);
  checkTarget('clamp_', self, given, min === undefined ? ['max'] : ['min', 'max']);
  if (min === undefined && max === undefined)
    throw new ArgumentError('clamp_', "at least one of 'min' or 'max' must be given");
  if (max === undefined) return run('clamp_', self, EXPR.clampMin, [min!]);
  if (min === undefined) return run('clamp_', self, EXPR.clampMax, [max]);
  return run('clamp_', self, EXPR.clamp, [min, max]);
}

/** `self ← self + value · t1 · t2`, like `Tensor.addcmul_(t1, t2, value=1)`. */
export function addcmul_(self: Tensor, t1: InPlaceArg, t2: InPlaceArg, value?: number): Tensor {
  checkTarget('addcmul_', self, [t1, t2], ['tensor1', 'tensor2']);
  return run('addcmul_', self, EXPR.addcmul, [t1, t2, scalarArg('addcmul_', 'value', value, 1)]);
}

/** `self ← self + value · t1 / t2`, like `Tensor.addcdiv_(t1, t2, value=1)`. */
export function addcdiv_(self: Tensor, t1: InPlaceArg, t2: InPlaceArg, value?: number): Tensor {
  checkTarget('addcdiv_', self, [t1, t2], ['tensor1', 'tensor2']);
  return run('addcdiv_', self, EXPR.addcdiv, [t1, t2, scalarArg('addcdiv_', 'value', value, 1)]);
}

/** `self ← self + weight · (end − self)`, like `Tensor.lerp_(end, weight)`. */
export function lerp_(self: Tensor, end: InPlaceArg, weight: InPlaceArg): Tensor {
  checkTarget('lerp_', self, [end, weight], ['end', 'weight']);
  return run('lerp_', self, EXPR.lerp, [end, weight]);
}

/** `self ← maximum(self, other)` (NaN-propagating), like `torch.maximum(self, other, out=self)`. */
export function maximum_(self: Tensor, other: InPlaceArg): Tensor {
  checkTarget('maximum_', self, [other], ['other']);
  return run('maximum_', self, EXPR.maximum, [other]);
}

/** An in-place update produced by {@link fuseInPlace}: writes into `self` and returns it. */
export type InPlaceFunction = (self: Tensor, ...args: InPlaceArg[]) => Tensor;

/**
 * Fuses an elementwise update into ONE loop that writes its first argument's storage, for optimizer steps:
 * `fn` is traced once with symbolic scalars, e.g.
 * `const step = fuseInPlace((p, g, lr) => p.sub(g.mul(lr)))`, then `noGrad(() => step(param, grad, 0.01))`.
 * Number arguments are read at run time (a new learning rate does not compile a new loop); tensor arguments
 * broadcast to `self`'s shape; `self` keeps its dtype and its version counter is bumped. The same rules as
 * the built-in in-place ops apply (no tensor that requires grad under grad mode).
 *
 * @param name - the op's name in messages (default `"fusedInPlace"`)
 * @throws ArgumentError when `fn` declares no parameters, or is called with the wrong number of arguments
 */
export function fuseInPlace(
  fn: (self: Value, ...xs: Value[]) => Value,
  name = 'fusedInPlace',
): InPlaceFunction {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fuseInPlace', `argument 'fn' must be a function, got ${describeValue(fn)}`);
  }
  const arity = fn.length;
  if (arity === 0) {
    throw new ArgumentError(
      'fuseInPlace',
      "'fn' declares no parameters: the number of inputs is fn.length — write (self, x, ...) => ...",
    );
  }
  const [first, ...rest] = tracedInputs(arity);
  const out: unknown = fn(first!, ...rest);
  if (!(out instanceof Value)) {
    throw new ArgumentError('fuseInPlace', `'fn' must return a Value, got ${describeValue(out)}`);
  }
  const [expr] = tracedOutputs('fuseInPlace', out, arity, false) as [Expr];
  const argNames = vars(arity).slice(1);
  return (self: Tensor, ...args: InPlaceArg[]) => {
    if (args.length !== arity - 1) {
      throw new ArgumentError(
        name,
        `expects ${arity} arguments (self and ${arity - 1} more), got ${args.length + 1}`,
      );
    }
    checkTarget(name, self, args, argNames);
    return run(name, self, expr, args);
  };
}

/**
 * Records that the storage of each tensor was written in place by code outside these ops — a fused update
 * that writes several buffers in one loop (the optimizers of @gradkit/nn), or an initialiser filling `.data` —
 * by bumping its version counter (PyTorch's `mark_dirty`). A graph that saved one of them then refuses to
 * backpropagate through the modified data instead of returning a wrong gradient. Works on every device (a
 * webgpu tensor's counter belongs to its device array).
 *
 * @throws ArgumentError when an argument is not a Tensor
 */
export function markModified(...tensors: Tensor[]): void {
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      throw new ArgumentError('markModified', `argument #${i} must be a Tensor, got ${describeValue(t)}`);
    }
  });
  for (const t of tensors) bumpVersion(t.deviceArray ?? t.data);
}
