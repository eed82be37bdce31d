import {
  ArgumentError,
  add as addExpr,
  adjoints,
  apply,
  constant,
  type DeviceArray,
  DeviceError,
  DtypeError,
  describeValue,
  type Expr,
  expressionBackend,
  freeVariables,
  type InputKind,
  isPrimitive,
  LruCache,
  mul,
  type PrimitiveName,
  runsOnWasm,
  transcendentalCount,
  variable,
} from '@gradkit/kernels';
import { INPUT_PREFIX, tracedInputs, Value } from '../scalar/value.js';
import { toDtype } from './cast.js';
import { webgpuRuntime } from './device.js';
import { allocateOutput, type DType, promoteTypes, type Storage } from './dtype.js';
import { isGradEnabled } from './grad-mode.js';
import type { Grads } from './node.js';
import { sumTo } from './reduce-sum.js';
import { broadcastShapes, broadcastStrides, type Shape, sameShape, sizeOf } from './shape.js';
import { checkTensor, record, Tensor } from './tensor.js';

/**
 * An elementwise computation: `outputs` are expressions over the positional variables `x0 … x{arity-1}`.
 * Specs are interned, so the derived backward spec is computed once per (spec, which grads are needed).
 */
export class ElementwiseSpec {
  /** The op name used in messages and graph nodes. */
  readonly name: string;
  /** The output expressions. */
  readonly outputs: readonly Expr[];
  /** Number of tensor inputs. */
  readonly arity: number;
  /** The variable names `x0 …`. */
  readonly variables: readonly string[];
  #differentiable: boolean | undefined;
  /**
   * Backward specs by (inputs needing grads, outputs having grads). Capacity 16: a spec is differentiated
   * for a handful of such patterns (usually one or two); the bound keeps a wide spec's map small anyway.
   */
  readonly #backward = new LruCache<string, { spec: ElementwiseSpec; inputs: number[]; outputOf: number[] }>(
    16,
  );
  /** Forward specs with partial derivatives, by the inputs needing grads (same bound as the backward specs). */
  readonly #partials = new LruCache<string, { spec: ElementwiseSpec; inputs: number[] }>(16);

  /** @internal use {@link elementwiseSpec}. */
  constructor(name: string, outputs: readonly Expr[], arity: number) {
    this.name = name;
    this.outputs = outputs;
    this.arity = arity;
    this.variables = inputVariables(arity);
  }

  /** False when every output's derivative with respect to every input is structurally zero. */
  get differentiable(): boolean {
    if (this.#differentiable === undefined) {
      const all = this.variables.map(() => true);
      this.#differentiable =
        this.backwardSpec(
          all,
          this.outputs.map(() => true),
        ).inputs.length > 0;
    }
    return this.#differentiable;
  }

  /**
   * The backward spec for a given set of inputs needing grads and outputs having grads: ONE elementwise
   * computation over (inputs…, output grads…) whose outputs are the input gradients (before reduction
   * to the inputs' shapes). Inputs whose gradient is structurally zero are left out.
   */
  backwardSpec(
    needInput: readonly boolean[],
    haveGrad: readonly boolean[],
  ): {
    /** The gradient computation; output `outputOf[k]` is the gradient of `inputs[k]`. */
    spec: ElementwiseSpec;
    /** Indices of the inputs whose gradients `spec` computes. */
    inputs: number[];
    /**
     * For each entry of `inputs`, the index of its gradient among `spec`'s outputs: inputs whose gradients
     * are the same expression (a + b: both are the output gradient) share one output, computed and stored once.
     */
    outputOf: number[];
  } {
    const key = `${needInput.map(Number).join('')}|${haveGrad.map(Number).join('')}`;
    const hit = this.#backward.get(key);
    if (hit !== undefined) return hit;
    const gradVars: Expr[] = [];
    let total: Expr | null = null;
    this.outputs.forEach((o, j) => {
      if (!haveGrad[j]) return;
      const g = variable(`${INPUT_PREFIX}${this.arity + gradVars.length}`);
      gradVars.push(g);
      const term = mul(g, o);
      total = total === null ? term : addExpr(total, term);
    });
    const adj = total === null ? new Map<Expr, Expr>() : adjoints(total);
    const outs: Expr[] = [];
    const inputs: number[] = [];
    const outputOf: number[] = [];
    this.variables.forEach((v, i) => {
      if (!needInput[i]) return;
      const a = adj.get(variable(v));
      if (a === undefined) return;
      // Expressions are hash-consed: equal gradients are the same node.
      let at = outs.indexOf(a);
      if (at < 0) at = outs.push(a) - 1;
      inputs.push(i);
      outputOf.push(at);
    });
    const spec = new ElementwiseSpec(`${this.name}_backward`, outs, this.arity + gradVars.length);
    const entry = { spec, inputs, outputOf };
    this.#backward.set(key, entry);
    return entry;
  }

  /**
   * For a single-output spec: the forward spec that also computes the output's partial derivatives, ONE
   * elementwise computation over the same inputs whose outputs are [the output, ∂output/∂x_i for each input i
   * in `needInput` whose derivative is not structurally zero]. The forward pass of a costly expression runs
   * it when gradients will be needed, so that the backward pass is a multiply instead of a re-evaluation.
   */
  partialsSpec(needInput: readonly boolean[]): {
    /** The forward computation with the partials; outputs: the output, then one partial per `inputs` entry. */
    spec: ElementwiseSpec;
    /** Indices of the inputs whose partial derivatives `spec` computes, in order. */
    inputs: number[];
  } {
    const key = needInput.map(Number).join('');
    const hit = this.#partials.get(key);
    if (hit !== undefined) return hit;
    const output = this.outputs[0]!;
    const adj = adjoints(output);
    const outs: Expr[] = [output];
    const inputs: number[] = [];
    this.variables.forEach((v, i) => {
      const a = needInput[i] ? adj.get(variable(v)) : undefined;
      if (a === undefined) return;
      outs.push(a);
      inputs.push(i);
    });
    const entry = { spec: new ElementwiseSpec(`${this.name}_partials`, outs, this.arity), inputs };
    this.#partials.set(key, entry);
    return entry;
  }

  /**
   * Whether the forward pass computes the partial derivatives (see {@link ElementwiseSpec.partialsSpec})
   * instead of leaving them to the backward pass: for a single output evaluating at least
   * two transcendental functions (`EAGER_PARTIALS_MIN_TRANSCENDENTALS`), whose re-evaluation costs more than
   * the partials' memory traffic. Cheap, memory-bound expressions re-evaluate (fewer bytes moved).
   */
  get eagerPartials(): boolean {
    this.#eager ??=
      this.outputs.length === 1 && transcendentalCount(this.outputs) >= EAGER_PARTIALS_MIN_TRANSCENDENTALS;
    return this.#eager;
  }
  #eager: boolean | undefined;
}

/** See {@link ElementwiseSpec.eagerPartials}. */
const EAGER_PARTIALS_MIN_TRANSCENDENTALS = 2;

/** `x_k · x_K` for k < K: the backward of eager partials (K partials scaled by the output gradient). */
function scaledSpec(count: number): ElementwiseSpec {
  const g = variable(`${INPUT_PREFIX}${count}`);
  const outs = Array.from({ length: count }, (_, k) => mul(variable(`${INPUT_PREFIX}${k}`), g));
  return elementwiseSpec('partials_times_grad', outs, count + 1);
}

/**
 * The name of the variable that stands for input `i` (0-based) in the expressions of an
 * {@link ElementwiseSpec}: build a spec's outputs over `variable(inputVariable(i))`. The names start with a
 * character {@link symbol} refuses, so no user symbol can alias an input.
 *
 * @throws ArgumentError when `i` is not a non-negative integer
 */
export function inputVariable(i: number): string {
  if (!Number.isSafeInteger(i) || i < 0) {
    throw new ArgumentError(
      'inputVariable',
      `argument 'i' must be a non-negative integer, got ${describeValue(i)}`,
    );
  }
  return `${INPUT_PREFIX}${i}`;
}

const varCache: string[][] = [];
function inputVariables(n: number): string[] {
  // Frozen: kernels key their variants on these arrays by identity (see namesKey in @gradkit/kernels).
  if (varCache[n] === undefined) {
    varCache[n] = Object.freeze(Array.from({ length: n }, (_, i) => `${INPUT_PREFIX}${i}`)) as string[];
  }
  return varCache[n]!;
}

/**
 * Interned specs by (name, arity, output node ids). Capacity: 1024 specs — every elementwise op, fused
 * function and loss program a model uses, with room to spare. A spec that falls out is rebuilt on its next
 * use (its backward spec derived again); kernels are cached by structure, so nothing is recompiled.
 */
const SPEC_CAPACITY = 1024;
const specCache = new LruCache<string, ElementwiseSpec>(SPEC_CAPACITY);

/** The interned spec for `outputs` over `arity` positional variables `x0 …`. */
export function elementwiseSpec(name: string, outputs: readonly Expr[], arity: number): ElementwiseSpec {
  // Length-prefixed name: no name can make two different (name, arity, outputs) share a key.
  const key = `${name.length}:${name}|${arity}|${outputs.map((o) => o.id).join(',')}`;
  const hit = specCache.get(key);
  if (hit !== undefined) return hit;
  const spec = new ElementwiseSpec(name, [...outputs], arity);
  specCache.set(key, spec);
  return spec;
}

/**
 * Runs a spec's fused loop over broadcast inputs into new storage of `dtype`, on the expression backend in use
 * (see `setElementwiseBackend`: float32 work runs on WebAssembly SIMD where available).
 */
function runKernel(spec: ElementwiseSpec, inputs: readonly Tensor[], shape: Shape, dtype: DType) {
  const n = sizeOf(shape);
  // Every element of every output is written by the kernel: no clearing pass.
  const outs = spec.outputs.map(() => allocateOutput(dtype, n));
  if (n === 0 || outs.length === 0) return outs;
  const flat = inputs.every((t) => t.size === 1 || sameShape(t.shape, shape));
  if (flat) {
    const kinds: InputKind[] = inputs.map((t) => (t.size === 1 && n !== 1 ? 'scalar' : 'array'));
    const ins = inputs.map((t, i) => (kinds[i] === 'scalar' ? t.data[0]! : t.data));
    expressionBackend().elementwise(spec.outputs, spec.variables, kinds)(ins, outs, n);
  } else {
    const strides = inputs.map((t) => broadcastStrides(t.shape, shape));
    expressionBackend().strided(spec.outputs, spec.variables)(
      inputs.map((t) => t.data),
      strides,
      outs,
      shape,
    );
  }
  return outs;
}

/** The 0-d tensors {@link expressionOp} makes for number arguments: on every device they are kernel scalars. */
const numberArguments = new WeakSet<Tensor>();

/**
 * Runs a spec on webgpu: ONE WGSL kernel over the inputs' buffers, nothing read back. Number arguments are
 * uniform scalars; same-shape and one-element inputs run the flat kernel, any other broadcast the strided
 * kernel (each input read through its broadcast strides, any rank).
 *
 * @throws DeviceError when a cpu tensor is mixed in; DtypeError for float64
 */
function runOnDevice(
  spec: ElementwiseSpec,
  inputs: readonly Tensor[],
  shape: Shape,
  dtype: DType,
): DeviceArray[] {
  const op = spec.name;
  const devices = inputs.map((t) => t.device);
  const gpuAt = devices.indexOf('webgpu');
  inputs.forEach((t, i) => {
    if (t.device === 'cpu' && !numberArguments.has(t)) {
      throw new DeviceError(
        op,
        `expected all tensors on the same device, but argument #${gpuAt} is on webgpu and argument #${i} is on cpu; move one with t.to('webgpu') or await t.cpu()`,
      );
    }
  });
  if (dtype === 'float64') {
    throw new DtypeError(op, 'WebGPU has no float64: the result would be float64; use float32 tensors');
  }
  const n = sizeOf(shape);
  const kinds: InputKind[] = [];
  const splat: boolean[] = [];
  let flat = true;
  const args: Array<DeviceArray | number> = inputs.map((t) => {
    const d = t.deviceArray;
    if (d === null) {
      kinds.push('scalar');
      splat.push(false);
      return t.data[0]!;
    }
    if (t.size !== 1 && !sameShape(t.shape, shape)) flat = false;
    kinds.push('array');
    splat.push(t.size === 1 && n !== 1);
    return d;
  });
  const rt = webgpuRuntime(op);
  return flat
    ? rt.elementwise(op, spec.outputs, spec.variables, kinds, splat, args, n)
    : rt.strided(
        op,
        spec.outputs,
        spec.variables,
        kinds,
        args,
        shape,
        inputs.map((t) => broadcastStrides(t.shape, shape)),
      );
}

/**
 * Applies an elementwise spec to tensors with NumPy broadcasting, as ONE fused loop and ONE graph node.
 * Its backward is the derived spec (again one fused loop), reduced to each input's shape; under
 * `createGraph` that backward is recorded with the same mechanism, so every order of derivative works. On
 * webgpu both directions are WGSL kernels (the reduction to an input's shape a device tree reduction).
 *
 * @throws ShapeError when the inputs do not broadcast
 */
export function applyElementwise(spec: ElementwiseSpec, inputs: readonly Tensor[], dtype?: DType): Tensor[] {
  if (inputs.length !== spec.arity) {
    throw new ArgumentError(spec.name, `expects ${spec.arity} tensor argument(s), got ${inputs.length}`);
  }
  inputs.forEach((t, i) => {
    checkTensor(spec.name, `#${i}`, t);
  });
  const shape = broadcastShapes(spec.name, ...inputs.map((t) => t.shape));
  const outDtype = dtype ?? inputs.map((t) => t.dtype).reduce(promoteTypes);
  const onDevice = inputs.some((t) => t.device !== 'cpu');
  // Outputs with no derivative at all (comparisons, sign, logical ops) do not join the graph, as in PyTorch.
  // Without a graph to record (no grad mode, or no input needs grads) the spec is never differentiated.
  const track = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (track && !onDevice && outDtype === 'float32' && spec.eagerPartials) {
    const eager = spec.partialsSpec(inputs.map((t) => t.requiresGrad));
    if (eager.inputs.length > 0 && runsOnWasm(eager.spec.outputs, sizeOf(shape))) {
      return withPartials(spec, eager, inputs, shape);
    }
  }
  const outs: Array<Storage | DeviceArray> = onDevice
    ? runOnDevice(spec, inputs, shape, outDtype)
    : runKernel(spec, inputs, shape, outDtype);
  if (!track || !spec.differentiable) return outs.map((data) => new Tensor(data, shape));
  return record(
    spec.name,
    inputs,
    outs.map((data) => ({ data, shape })),
    (grads: Grads) => symbolicBackward(spec, inputs, grads, outDtype),
  );
}

/** The backward of an elementwise node: the derived spec (one fused loop), reduced to each input's shape. */
function symbolicBackward(
  spec: ElementwiseSpec,
  inputs: readonly Tensor[],
  grads: Grads,
  outDtype: DType,
): Grads {
  const need = inputs.map((t) => t.requiresGrad);
  const have = grads.map((g) => g !== null);
  const { spec: back, inputs: which, outputOf } = spec.backwardSpec(need, have);
  if (which.length === 0) return inputs.map(() => null);
  const gradTensors = grads.filter((g): g is Tensor => g !== null);
  const raw = applyElementwise(back, [...inputs, ...gradTensors], outDtype);
  return reduceToInputs(raw, which, outputOf, inputs);
}

/**
 * The gradient of each input `which[k]`: the unreduced `raw[outputOf[k]]` summed back to the input's shape
 * and converted to its dtype. The unreduced tensors are the caller's own temporaries: those no result is (or,
 * on webgpu, shares the buffer of) are released now rather than at garbage collection — unless a graph is
 * being recorded, which may hold them. On the cpu a view that shares storage keeps the memory alive.
 */
function reduceToInputs(
  raw: readonly Tensor[],
  which: readonly number[],
  outputOf: readonly number[],
  inputs: readonly Tensor[],
): Grads {
  const result: Grads = inputs.map(() => null);
  which.forEach((inputIndex, k) => {
    const input = inputs[inputIndex]!;
    result[inputIndex] = toDtype(sumTo(raw[outputOf[k]!]!, input.shape), input.dtype);
  });
  if (!isGradEnabled()) {
    for (const own of raw) {
      const kept = result.some(
        (r) => r === own || (own.deviceArray !== null && r?.deviceArray === own.deviceArray),
      );
      if (!kept) own.dispose();
    }
  }
  return result;
}

/**
 * A float32 elementwise node on WebAssembly whose forward loop also computes the partial derivatives of its
 * output (see {@link ElementwiseSpec.eagerPartials}): the backward pass multiplies them by the output
 * gradient in one loop — the transcendental functions are evaluated once, not again in backward. The values
 * are those of the derived backward up to float32 rounding (the factors multiply in another order), within
 * the WebAssembly float32 contract. A backward that records a graph (`createGraph`), or that needs an input
 * the forward pass did not cover, runs the derived spec instead. The partials are disposed when the node is
 * released (a backward pass without `retainGraph`).
 */
function withPartials(
  spec: ElementwiseSpec,
  eager: { spec: ElementwiseSpec; inputs: number[] },
  inputs: readonly Tensor[],
  shape: Shape,
): Tensor[] {
  const [out, ...rest] = runKernel(eager.spec, inputs, shape, 'float32') as [Storage, ...Storage[]];
  const partials = rest.map((data) => new Tensor(data, shape));
  const release = () => {
    for (const p of partials) p.dispose();
  };
  return record(
    spec.name,
    inputs,
    [{ data: out, shape }],
    (grads: Grads) => {
      const g = grads[0];
      const need = inputs.map((t) => t.requiresGrad);
      const covered = need.every((nd, i) => !nd || eager.inputs.includes(i));
      if (isGradEnabled() || !covered || g === null || g === undefined) {
        return symbolicBackward(spec, inputs, grads, 'float32');
      }
      const scaled = applyElementwise(scaledSpec(partials.length), [...partials, g], 'float32');
      const which = eager.inputs.filter((i) => need[i]);
      return reduceToInputs(
        scaled,
        which,
        which.map((i) => eager.inputs.indexOf(i)),
        inputs,
      );
    },
    release,
  );
}

/**
 * An elementwise op built from an expression: `build` receives one expression per argument (a variable for a
 * tensor, and for a number either a variable read as a scalar kernel argument or, where `bake(i)` holds, a
 * constant) and returns the result's expression; the op runs as one fused loop.
 *
 * Numbers are kernel arguments by default, as PyTorch passes Python scalars: `x.mul(lr)` is ONE spec and ONE
 * compiled kernel whatever `lr` is, so a learning rate that changes every step costs what a constant one
 * costs, and nothing is derived, interned or compiled per value. The number is read in float64 (exactly), so
 * values are bit for bit those of a baked constant; the derivative is the general one (`x * 0` has gradient
 * 0 and is part of the graph, as in PyTorch, where a baked 0 would drop the term). Bake a number only where
 * its value changes the expression's derivative structure (the exponent of `pow`).
 *
 * @param bake - which number arguments (by position in `args`) become constants of the expression
 */
export function expressionOp(
  name: string,
  build: (...args: Expr[]) => Expr,
  args: ReadonlyArray<Tensor | number>,
  bake: (index: number) => boolean = () => false,
): Tensor {
  if (!Array.isArray(args)) {
    throw new ArgumentError(
      name,
      `argument 'args' must be an array of Tensors and numbers, got ${describeValue(args)}`,
    );
  }
  const tensors: Tensor[] = [];
  for (const a of args) if (typeof a !== 'number') tensors.push(checkTensor(name, `#${tensors.length}`, a));
  if (tensors.length === 0) throw new ArgumentError(name, 'needs at least one Tensor argument');
  const scalars: Tensor[] = [];
  let t = 0;
  const exprs: Expr[] = args.map((a, i) => {
    if (typeof a !== 'number') return variable(`${INPUT_PREFIX}${t++}`);
    if (Number.isNaN(a))
      throw new ArgumentError(name, 'a NaN number argument is not allowed; use a tensor holding NaN');
    if (bake(i)) return constant(a);
    const scalar = new Tensor(Float64Array.of(a), []);
    numberArguments.add(scalar);
    scalars.push(scalar);
    return variable(`${INPUT_PREFIX}${tensors.length + scalars.length - 1}`);
  });
  const spec = elementwiseSpec(name, [build(...exprs)], tensors.length + scalars.length);
  const dtype = tensors.map((x) => x.dtype).reduce(promoteTypes);
  return applyElementwise(spec, [...tensors, ...scalars], dtype)[0]!;
}

/**
 * One primitive applied elementwise; numbers are scalar kernel arguments (see {@link expressionOp}), except
 * the exponent of `pow`, which stays a constant (a constant exponent has the short derivative `c a^(c-1)`).
 *
 * @param name - the op's name in messages and in the graph (default: the primitive's name)
 */
export function primitiveOp(
  op: PrimitiveName,
  args: ReadonlyArray<Tensor | number>,
  name: string = op,
): Tensor {
  if (typeof op !== 'string' || !isPrimitive(op)) {
    throw new ArgumentError(
      'primitiveOp',
      `argument 'op' must be a primitive's name, got ${describeValue(op)}`,
    );
  }
  if (typeof name !== 'string') {
    throw new ArgumentError('primitiveOp', `argument 'name' must be a string, got ${describeValue(name)}`);
  }
  return expressionOp(name, (...e) => apply(op, ...e), args, op === 'pow' ? (i) => i === 1 : undefined);
}

/**
 * The expressions a traced function returned: one Value (or number) for `fuse`, a non-empty array of them for
 * `fuseMany`; each may use only the traced inputs (a symbol captured from outside is refused, naming it).
 *
 * @throws ArgumentError for anything else
 */
export function tracedOutputs(op: string, out: unknown, arity: number, many: boolean): Expr[] {
  const list = many ? out : [out];
  if (!Array.isArray(list) || list.length === 0) {
    throw new ArgumentError(op, `'fn' must return a non-empty array of Values, got ${describeValue(out)}`);
  }
  const inputs = new Set(inputVariables(arity));
  return list.map((v: unknown, i) => {
    if (typeof v === 'number' && !Number.isNaN(v)) return constant(v);
    if (!(v instanceof Value)) {
      const what = many ? `output #${i}` : 'its result';
      throw new ArgumentError(
        op,
        `'fn' must return ${many ? 'Values' : 'a Value'}; ${what} is ${describeValue(v)}`,
      );
    }
    const stray = freeVariables(v.expr).filter((name) => !inputs.has(name));
    if (stray.length > 0) {
      throw new ArgumentError(
        op,
        `'fn' uses symbol(s) ${stray.join(', ')} that are not its parameters; pass them as inputs instead`,
      );
    }
    return v.expr;
  });
}

/** The number of inputs a fused function takes: its declared parameters (`fn.length`). */
function countParameters(op: string, fn: (...xs: Value[]) => unknown, name: unknown): number {
  if (typeof name !== 'string')
    throw new ArgumentError(op, `argument 'name' must be a string, got ${describeValue(name)}`);
  if (typeof fn !== 'function')
    throw new ArgumentError(op, `argument 'fn' must be a function, got ${typeof fn}`);
  if (fn.length === 0) {
    throw new ArgumentError(
      op,
      "'fn' declares no parameters: the number of inputs is fn.length, which does not count rest or default parameters — write (x, y) => ...",
    );
  }
  return fn.length;
}

/** A Tensor function produced by {@link fuse}. */
export type FusedFunction = (...inputs: Tensor[]) => Tensor;

/**
 * Fuses a composite elementwise function into ONE loop forward and ONE loop backward. `fn` is traced once
 * with symbolic scalars (`Value`s, which have the same elementwise methods as tensors), e.g.
 * `fuse((x, y) => x.sigmoid().sub(y).abs().pow(2))`; the result applies it to tensors with broadcasting,
 * and is differentiable to any order. Use it for hot elementwise chains (losses, optimizer updates).
 * The number of inputs is `fn.length`, so declare each parameter (rest and default parameters do not count).
 *
 * In float64 the fused result equals the op-by-op result bit for bit (the same operations in the same order,
 * in float64 either way). In float32 it is the float64 result rounded once, while the op-by-op chain rounds
 * every intermediate to float32: the fused result is the more accurate one.
 *
 * @param name - the node's name in the graph and in messages (default `"fused"`)
 * @throws ArgumentError when `fn` declares no parameters
 */
export function fuse(fn: (...xs: Value[]) => Value, name = 'fused'): FusedFunction {
  const arity = countParameters('fuse', fn, name);
  const spec = elementwiseSpec(name, tracedOutputs('fuse', fn(...tracedInputs(arity)), arity, false), arity);
  return (...inputs: Tensor[]) => applyElementwise(spec, inputs)[0]!;
}

/**
 * Like {@link fuse} for functions with several outputs, all computed in the same loop.
 */
export function fuseMany(fn: (...xs: Value[]) => Value[], name = 'fused'): (...inputs: Tensor[]) => Tensor[] {
  const arity = countParameters('fuseMany', fn, name);
  const spec = elementwiseSpec(
    name,
    tracedOutputs('fuseMany', fn(...tracedInputs(arity)), arity, true),
    arity,
  );
  return (...inputs: Tensor[]) => applyElementwise(spec, inputs);
}
