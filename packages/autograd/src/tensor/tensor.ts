import {
  ARENA_MIN_ELEMENTS,
  ArgumentError,
  DeviceArray,
  DeviceError,
  DtypeError,
  isArenaStorage,
  releaseStorage,
  ShapeError,
  StateError,
} from '@gradkit/kernels';
import { callerTrace, checkForward, isAnomalyEnabled } from './anomaly.js';
import { type DType, dtypeOf, type Storage } from './dtype.js';
import { isGradEnabled } from './grad-mode.js';
import { type Grads, Node } from './node.js';
import { contiguousStrides, fmt, type Shape, sameShape, sizeOf } from './shape.js';
import { versionOf } from './version.js';

let warnedNonLeafGrad = false;

/** A nested array of numbers, as accepted by `tensor()` and returned by `tolist()`. */
export type NestedArray = number | NestedArray[];

/** Where a tensor's elements live: host memory, or a WebGPU buffer (after `await initWebGPU()`). */
export type Device = 'cpu' | 'webgpu';

/** The DeviceError for a synchronous read of a tensor that lives on webgpu, with the async alternative. */
export function onDeviceError(op: string, instead: string): DeviceError {
  return new DeviceError(
    op,
    `the tensor is on webgpu and reading it back is asynchronous: use ${instead} (or await t.cpu())`,
  );
}

/** The StateError for any use of a cpu tensor's elements after `dispose()`. */
function disposedError(op: string): StateError {
  return new StateError(
    op,
    'the tensor was disposed (dispose()): its elements are gone (its memory may hold another tensor now)',
  );
}

/**
 * How many tensors hold each storage array of the WebAssembly arena (`detach()`, `reshape()`, `view()` share
 * one): `dispose()` hands the memory back to the arena only when the last holder is disposed. A holder that
 * is garbage collected without being disposed keeps its count, so the memory then waits for the collector.
 */
const holders = new WeakMap<Storage, number>();

/** Tensors constructed so far (see {@link Tensor.serial}). */
let constructed = 0;

/** @internal the serial the next tensor will get: tensors with a serial at least this are newer. */
export function nextTensorSerial(): number {
  return constructed + 1;
}

/** A hook on a tensor's gradient: may return a replacement gradient (same shape and dtype). */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook written as a statement block returns void
export type GradHook = (grad: Tensor) => Tensor | undefined | void;

/**
 * An n-dimensional array of float32 or float64 numbers that records the operations applied to it, so that
 * gradients can be computed by reverse-mode automatic differentiation.
 *
 * Storage is always contiguous, row-major. Ops return new tensors; the in-place methods (`add_`, `mul_`,
 * `copy_`, `zero_`, ... — PyTorch's names, for optimizers, under `noGrad`) write into a tensor's own storage
 * and bump its {@link Tensor.version}, and a backward pass that would read a tensor modified since its graph
 * was recorded refuses with PyTorch's "modified by an inplace operation" error instead of returning a wrong
 * gradient.
 */
export class Tensor {
  /**
   * The elements, row-major. Treat as read-only: writing into it directly bypasses autograd AND the version
   * counter (so a graph that saved this tensor cannot notice); use the in-place methods (`copy_`, `add_`,
   * ...) under `noGrad` instead.
   */
  get data(): Storage {
    return this.#hostFor('Tensor.data', 'await t.dataAsync()');
  }
  #host: Storage | null;
  #disposed = false;
  #onDevice: DeviceArray | null;
  #size: number;
  /** The size of each dimension. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
  /** The op that produced this tensor (null for leaves and for results computed without grad). */
  readonly gradFn: Node | null;
  /** Which output of `gradFn` this tensor is. */
  readonly outputIndex: number;
  #grad: Tensor | null = null;
  #requiresGrad: boolean;
  #hooks: GradHook[] = [];
  #retainsGrad = false;
  /** @internal the order of construction (1, 2, …): the engine tells the gradients a backward pass made by it. */
  readonly serial: number = ++constructed;

  /** @internal use `tensor()`, the creation functions or ops. */
  constructor(
    data: Storage | DeviceArray,
    shape: Shape,
    requiresGrad = false,
    gradFn: Node | null = null,
    outputIndex = 0,
  ) {
    const onDevice = data instanceof DeviceArray;
    if (!(onDevice || data instanceof Float32Array || data instanceof Float64Array)) {
      throw new DtypeError('Tensor', 'storage must be a Float32Array or a Float64Array');
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError('Tensor', `shape must be a list of non-negative integers, got ${String(shape)}`);
    }
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(
        'Tensor',
        `data has ${data.length} elements but shape ${fmt(shape)} needs ${sizeOf(shape)}`,
      );
    }
    this.#host = onDevice ? null : data;
    if (!onDevice && data.length >= ARENA_MIN_ELEMENTS && isArenaStorage(data)) {
      holders.set(data, (holders.get(data) ?? 0) + 1);
    }
    this.#onDevice = onDevice ? data : null;
    this.#size = data.length;
    // `+ 0` turns a -0 size (from arithmetic on user sizes) into 0, so shapes compare with Object.is too.
    this.shape = Object.freeze(shape.map((d) => d + 0));
    this.dtype = onDevice ? 'float32' : dtypeOf(data);
    this.gradFn = gradFn;
    this.outputIndex = outputIndex;
    this.#requiresGrad = requiresGrad || gradFn !== null;
  }

  /**
   * The accumulated gradient of a leaf that requires grad (or of a non-leaf after `retainGrad()`), filled by
   * `backward()`; null until then.
   *
   * Reading it on a non-leaf that does not retain its gradient prints PyTorch's warning once per process
   * (`console.warn`): backward never fills it — call `retainGrad()` before backward, or read the leaf's.
   */
  get grad(): Tensor | null {
    if (this.gradFn !== null && !this.#retainsGrad && !warnedNonLeafGrad) {
      warnedNonLeafGrad = true;
      console.warn(
        'gradkit: the .grad of a Tensor that is not a leaf is being read. Its .grad is not filled during ' +
          'backward(). If you want it for a non-leaf Tensor, call .retainGrad() on it before backward(). If ' +
          'you read the non-leaf by mistake, read the leaf Tensor instead. (This warning is shown once.)',
      );
    }
    return this.#grad;
  }

  /**
   * Replaces the gradient (optimizers and tests do this); it must match the tensor's shape and dtype, so that
   * a later `backward()` accumulates into it without broadcasting.
   *
   * @throws ShapeError / DtypeError / DeviceError when it does not match; ArgumentError when it is not a Tensor
   *   or null
   */
  set grad(g: Tensor | null) {
    if (g !== null) {
      checkTensor('Tensor.grad', 'grad', g);
      if (!sameShape(g.shape, this.shape)) {
        throw new ShapeError(
          'Tensor.grad',
          `assigned gradient has shape ${fmt(g.shape)} but the tensor has shape ${fmt(this.shape)}`,
        );
      }
      if (g.dtype !== this.dtype) {
        throw new DtypeError(
          'Tensor.grad',
          `assigned gradient has dtype ${g.dtype} but the tensor has dtype ${this.dtype}`,
        );
      }
      if (g.device !== this.device) {
        throw new DeviceError(
          'Tensor.grad',
          `assigned gradient is on ${g.device} but the tensor is on ${this.device}`,
        );
      }
    }
    // A gradient outlives the `tidy` scope it was computed in.
    const d = g?.deviceArray;
    if (d) d.runtime.keep(d);
    this.#grad = g;
  }

  /**
   * The version counter of this tensor's storage (PyTorch's `_version`): 0 at creation, +1 for every
   * in-place op that wrote into it. Tensors sharing storage (`detach()`, `reshape()`) share the counter.
   * Writing into `.data` directly does not change it.
   */
  get version(): number {
    if (this.#disposed) throw disposedError('Tensor.version');
    return versionOf(this.#host ?? this.#onDevice!);
  }

  /** Where the elements live: `'cpu'` (host memory, the default) or `'webgpu'` (see `t.to('webgpu')`). */
  get device(): Device {
    return this.#onDevice === null ? 'cpu' : 'webgpu';
  }

  /** @internal the device array of a webgpu tensor (null on cpu). */
  get deviceArray(): DeviceArray | null {
    return this.#onDevice;
  }

  /** Whether gradients are computed for this tensor. */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }

  /**
   * Turns gradient tracking on or off for a leaf.
   *
   * @throws StateError on a non-leaf (its requiresGrad follows from its inputs)
   */
  set requiresGrad(on: boolean) {
    if (this.gradFn !== null) {
      throw new StateError(
        'Tensor.requiresGrad',
        'can only be set on a leaf tensor; use detach() on a result',
      );
    }
    this.#requiresGrad = on;
  }

  /** True when the tensor was not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.#size;
  }

  /** Row-major strides, in elements. */
  get strides(): number[] {
    return contiguousStrides(this.shape);
  }

  /** A copy of the elements as a typed array of the tensor's dtype. */
  toArray(): Storage {
    return this.#hostFor('toArray', 'await t.dataAsync()').slice();
  }

  /** The elements as nested JavaScript arrays (a number for a 0-d tensor). */
  tolist(): NestedArray {
    const data = this.#hostFor('tolist', 'await t.arrayAsync()');
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return data[offset]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /**
   * The single element of a one-element tensor.
   *
   * @throws ShapeError when the tensor has more or fewer than one element
   */
  item(): number {
    const data = this.#hostFor('item', 'await t.itemAsync()');
    if (this.#size !== 1) {
      throw new ShapeError(
        'item',
        `only one-element tensors can be converted to a number, got shape ${fmt(this.shape)}`,
      );
    }
    return data[0]!;
  }

  /** A tensor sharing this one's data, cut off from the graph (requires no grad). */
  detach(): Tensor {
    if (this.#disposed) throw disposedError('detach');
    return new Tensor(this.#host ?? this.#onDevice!, this.shape, false);
  }

  /** The host elements, or the error of a webgpu tensor (use `instead`) or of a disposed one. */
  #hostFor(op: string, instead: string): Storage {
    if (this.#host === null) throw this.#disposed ? disposedError(op) : onDeviceError(op, instead);
    return this.#host;
  }

  /** Whether `dispose()` was called on this cpu tensor (its elements can no longer be read). */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /**
   * @internal `dispose()` of a cpu tensor: forgets the elements and, when this was the last tensor holding
   * its arena storage, hands that memory back to the arena now (see `releaseStorage`). Idempotent.
   */
  releaseHost(): void {
    const data = this.#host;
    if (data === null) return;
    this.#host = null;
    this.#disposed = true;
    const count = holders.get(data);
    if (count === undefined) return;
    if (count > 1) holders.set(data, count - 1);
    else {
      holders.delete(data);
      releaseStorage(data);
    }
  }

  /**
   * Registers a hook called with this tensor's gradient whenever it is computed during a backward pass; a
   * returned tensor replaces the gradient. Returns a function that removes the hook.
   *
   * @throws StateError when the tensor does not require grad
   */
  registerHook(hook: GradHook): () => void {
    if (!this.#requiresGrad) {
      throw new StateError(
        'registerHook',
        "cannot register a hook on a tensor that doesn't require gradient",
      );
    }
    this.#hooks.push(hook);
    return () => {
      this.#hooks = this.#hooks.filter((h) => h !== hook);
    };
  }

  /**
   * Asks a non-leaf tensor to keep its gradient in `.grad` during `backward()` (like `retain_grad()`); the
   * kept gradient is the one after this tensor's hooks ran. A no-op on leaves, which always keep theirs.
   *
   * @throws StateError when the tensor does not require grad
   */
  retainGrad(): this {
    if (!this.#requiresGrad) {
      throw new StateError(
        'retainGrad',
        "cannot retain the gradient of a tensor that doesn't require gradient",
      );
    }
    this.#retainsGrad = true;
    return this;
  }

  /** @internal whether `.grad` should be filled for this tensor. */
  get keepsGrad(): boolean {
    return this.gradFn === null || this.#retainsGrad;
  }

  /** @internal whether gradient hooks are registered on this tensor. */
  get hasHooks(): boolean {
    return this.#hooks.length > 0;
  }

  /**
   * @internal applies the registered hooks to a gradient.
   *
   * @throws ShapeError / DtypeError when a hook returns a gradient of another shape or dtype
   */
  runHooks(grad: Tensor): Tensor {
    let g = grad;
    for (const h of [...this.#hooks]) {
      const r = h(g);
      if (r === undefined || r === null) continue;
      if (!(r instanceof Tensor)) {
        throw new ArgumentError('registerHook', `a hook must return a Tensor or nothing, got ${typeof r}`);
      }
      if (!sameShape(r.shape, g.shape)) {
        throw new ShapeError(
          'registerHook',
          `a hook changed the gradient's shape from ${fmt(g.shape)} to ${fmt(r.shape)}`,
        );
      }
      if (r.dtype !== g.dtype) {
        throw new DtypeError(
          'registerHook',
          `a hook changed the gradient's dtype from ${g.dtype} to ${r.dtype}`,
        );
      }
      g = r;
    }
    return g;
  }

  /** Sets `.grad` to null (like `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    this.grad = null;
  }

  /** A short description with shape, dtype and the first elements. */
  toString(): string {
    if (this.#disposed) {
      return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, disposed)`;
    }
    if (this.#host === null) {
      return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=webgpu${this.#requiresGrad ? ', requiresGrad' : ''})`;
    }
    const head = Array.from(this.data.slice(0, 6)).join(', ');
    return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}${this.#requiresGrad ? ', requiresGrad' : ''}, data=[${head}${this.data.length > 6 ? ', ...' : ''}])`;
  }
}

/**
 * Wraps computed outputs as tensors and, when grad mode is on and some input requires grad, records one
 * graph node for them. This is how every op joins the graph, on every device: an output's `data` is host
 * storage or a webgpu DeviceArray (a webgpu op's backward closure must then return webgpu gradients).
 * `onRelease`, when given, runs once when the node is released (after a backward pass without `retainGraph`):
 * there an op disposes tensors only its backward closure reads, instead of leaving them to the collector.
 */
export function record(
  name: string,
  inputs: readonly Tensor[],
  outputs: ReadonlyArray<{ data: Storage | DeviceArray; shape: Shape }>,
  backward: (grads: Grads) => Grads,
  onRelease?: () => void,
): Tensor[] {
  const anomaly = isAnomalyEnabled();
  // Anomaly checks read the values: on the host only (reading webgpu buffers back would be asynchronous).
  if (anomaly && inputs.every((t) => t.device === 'cpu')) {
    const host = outputs.filter(
      (o): o is { data: Storage; shape: Shape } => !(o.data instanceof DeviceArray),
    );
    if (host.length === outputs.length) checkForward(name, inputs, host);
  }
  const track = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (!track) return outputs.map((o) => new Tensor(o.data, o.shape));
  const node = new Node(name, inputs, backward, outputs.length, onRelease);
  if (anomaly) node.trace = callerTrace();
  const results = outputs.map((o, i) => new Tensor(o.data, o.shape, true, node, i));
  node.saveVersions(inputs);
  node.saveVersions(results);
  return results;
}

/** {@link record} for a single output. */
export function record1(
  name: string,
  inputs: readonly Tensor[],
  data: Storage | DeviceArray,
  shape: Shape,
  backward: (grad: Tensor) => Grads,
): Tensor {
  return record(name, inputs, [{ data, shape }], (gs) =>
    gs[0] ? backward(gs[0]) : inputs.map(() => null),
  )[0]!;
}

/**
 * The DeviceError for an op that has no WebGPU implementation yet, given a webgpu tensor as `arg`: it names
 * the op and says how to run it on the cpu.
 */
export function unsupportedOnWebgpu(op: string, arg: string): DeviceError {
  return new DeviceError(
    op,
    `'${op}' is not supported on webgpu yet (argument '${arg}' is a webgpu tensor): move the tensor to the cpu with 'await t.cpu()' first`,
  );
}

/**
 * Throws unless `x` is a Tensor on the cpu: for the ops that read host memory and have no WebGPU
 * implementation yet.
 *
 * @throws ArgumentError when `x` is not a Tensor
 * @throws DeviceError when `x` is on webgpu, naming the op and the argument
 */
export function checkCpuTensor(op: string, arg: string, x: unknown): Tensor {
  const t = checkTensor(op, arg, x);
  if (t.device !== 'cpu') throw unsupportedOnWebgpu(op, arg);
  return t;
}

/** Throws unless `x` is a Tensor. */
export function checkTensor(op: string, arg: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(op, `argument '${arg}' must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
  return x;
}
