import {
  ArgumentError,
  checkTensor,
  copy_,
  type Device,
  type DType,
  DtypeError,
  formatShape,
  noGrad,
  ShapeError,
  Tensor,
  toDtype,
} from '@gradkit/autograd';
import { checkOptionKeys, DeviceError, describeValue } from '@gradkit/kernels';

const PARAMETERS = new WeakSet<Tensor>();
const BUFFERS = new WeakSet<Tensor>();

/**
 * Marks a leaf tensor as a module parameter (and turns `requiresGrad` on): a {@link Module} lists the
 * parameters held in its own properties in `parameters()`, `namedParameters()` and `stateDict()`.
 *
 * @throws ArgumentError when `t` is not a leaf Tensor
 */
export function parameter(t: Tensor): Tensor {
  checkTensor('parameter', 't', t);
  if (!t.isLeaf) throw new ArgumentError('parameter', 'a parameter must be a leaf tensor; pass x.detach()');
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return t;
}

/**
 * Marks a tensor as a module buffer: state saved in `stateDict()` that is not trained (running statistics,
 * fixed masks). Buffers do not require grad.
 *
 * @throws ArgumentError when `t` is not a Tensor
 */
export function buffer(t: Tensor): Tensor {
  checkTensor('buffer', 't', t);
  BUFFERS.add(t);
  return t;
}

/** True when `x` was marked with {@link parameter}. */
export function isParameter(x: unknown): x is Tensor {
  return x instanceof Tensor && PARAMETERS.has(x);
}

/** True when `x` was marked with {@link buffer}. */
export function isBuffer(x: unknown): x is Tensor {
  return x instanceof Tensor && BUFFERS.has(x);
}

/** A state dict: tensors by dotted name, like PyTorch's `state_dict()` (a null-prototype object). */
export type StateDict = Record<string, Tensor>;

/** What {@link Module.loadStateDict} did not match (both empty after a strict load). */
export interface LoadResult {
  /** Names the model has and the state dict lacks. */
  readonly missingKeys: string[];
  /** Names the state dict has and the model lacks. */
  readonly unexpectedKeys: string[];
}

/**
 * The base class of layers and models, like PyTorch's `nn.Module`. A subclass keeps its parameters
 * ({@link parameter}), buffers ({@link buffer}) and sub-modules in ordinary own properties — class fields
 * or assignments in the constructor — and implements `forward`:
 *
 * ```ts
 * class MLP extends Module {
 *   fc1 = new Linear(30, 16);
 *   fc2 = new Linear(16, 1);
 *   forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 * }
 * ```
 *
 * Names are the property names joined with dots (`fc1.weight`), in the order the properties were created;
 * an array of modules in a property is named by index (`blocks.0.weight`).
 */
export abstract class Module {
  #training = true;

  /** The computation. Call it directly: `model.forward(x)`. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** True in training mode (the default); see {@link Module.train} and {@link Module.eval}. */
  get training(): boolean {
    return this.#training;
  }

  /** The direct sub-modules with their names (own properties holding a Module or an array of Modules). */
  namedChildren(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    for (const key of Object.keys(this)) {
      const v = (this as Record<string, unknown>)[key];
      if (v instanceof Module) out.push([key, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m: Module, i) => {
          out.push([`${key}.${i}`, m]);
        });
      }
    }
    return out;
  }

  /** The direct sub-modules. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it, each once, with dotted names ('' for this one). */
  namedModules(prefix = ''): Array<[string, Module]> {
    if (typeof prefix !== 'string') {
      throw new ArgumentError(
        'Module.namedModules',
        `argument 'prefix' must be a string, got ${describeValue(prefix)}`,
      );
    }
    const out: Array<[string, Module]> = [];
    const seen = new Set<Module>();
    const walk = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [k, c] of m.namedChildren()) walk(c, name === '' ? k : `${name}.${k}`);
    };
    walk(this, prefix);
    return out;
  }

  /** This module and every module below it. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Own properties of this module holding tensors marked by `mark`. */
  #ownTensors(marked: (x: unknown) => x is Tensor): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const key of Object.keys(this)) {
      const v = (this as Record<string, unknown>)[key];
      if (marked(v)) out.push([key, v]);
    }
    return out;
  }

  /** Every parameter with its dotted name (a parameter shared by two modules is listed once). */
  namedParameters(): Array<[string, Tensor]> {
    return this.#collect(isParameter);
  }

  /** Every parameter (what an optimizer takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): Array<[string, Tensor]> {
    return this.#collect(isBuffer);
  }

  #collect(marked: (x: unknown) => x is Tensor): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t] of m.#ownTensors(marked)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix === '' ? k : `${prefix}.${k}`, t]);
      }
    }
    return out;
  }

  /** Sets training mode on this module and every module below it (Dropout and friends read it). */
  train(mode = true): this {
    if (typeof mode !== 'boolean') {
      throw new ArgumentError(
        'Module.train',
        `argument 'mode' must be a boolean, got ${describeValue(mode)}`,
      );
    }
    for (const m of this.modules()) m.#training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient (sets it to null, PyTorch's default `set_to_none=True`). On webgpu the
   * old gradients' buffers are released at once, as TensorFlow.js optimizers dispose gradients (the garbage
   * collector, which does not see GPU memory, would free them too late in a training loop): clone a gradient
   * before `zeroGrad()` to keep it.
   */
  zeroGrad(): void {
    for (const p of this.parameters()) clearGrad(p);
  }

  /**
   * The parameters and buffers by dotted name, as detached tensors that share storage with the model (as in
   * PyTorch): save them, or load them into another model of the same architecture.
   */
  stateDict(): StateDict {
    const out: StateDict = Object.create(null);
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[k] = t.detach();
    return out;
  }

  /**
   * Copies tensors from a state dict into this model's parameters and buffers, by name. Everything is
   * checked before anything is copied, so a failed load leaves the model unchanged.
   *
   * @param stateDict - tensors by dotted name (a plain or null-prototype object, or a Map); own keys only
   * @param options.strict - when true (the default) missing and unexpected names are errors; when false they
   *   are returned
   * @throws ArgumentError for missing/unexpected names under `strict` or a value that is not a Tensor;
   *   ShapeError / DtypeError when a tensor's shape or dtype differs from the model's
   */
  loadStateDict(
    stateDict: StateDict | ReadonlyMap<string, Tensor>,
    options: { strict?: boolean } = {},
  ): LoadResult {
    const op = 'Module.loadStateDict';
    checkOptionKeys(op, 'options', options, ['strict']);
    const strict = Object.hasOwn(options, 'strict') ? options.strict : true;
    if (typeof strict !== 'boolean') {
      throw new ArgumentError(op, `option 'strict' must be a boolean, got ${describeValue(strict)}`);
    }
    const entries = readEntries(op, stateDict);
    const own = [...this.namedParameters(), ...this.namedBuffers()];
    const mine = new Map(own);
    const missingKeys = own.map(([k]) => k).filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !mine.has(k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length > 0) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length > 0) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      throw new ArgumentError(op, `state dict does not match the model (${parts.join('; ')})`);
    }
    const copies: Array<[Tensor, Tensor]> = [];
    for (const [k, target] of own) {
      const src = entries.get(k);
      if (src === undefined) continue;
      if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new ShapeError(
          op,
          `'${k}' has shape ${formatShape(src.shape)} in the state dict but ${formatShape(target.shape)} in the model`,
        );
      }
      if (src.dtype !== target.dtype) {
        throw new DtypeError(
          op,
          `'${k}' has dtype ${src.dtype} in the state dict but ${target.dtype} in the model`,
        );
      }
      copies.push([target, src]);
    }
    noGrad(() => {
      for (const [target, src] of copies) copy_(target, src);
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts every parameter and buffer to `dtype` (new storage), or moves them to a device (PyTorch's
   * `module.to('cuda')`): `'webgpu'` uploads them as float32 (after `await initWebGPU()`); parameters stay
   * parameters with their `requiresGrad`. Moving back to the cpu reads the buffers, which is asynchronous:
   * use `await module.cpu()`. Build optimizers after calling it, as in PyTorch.
   *
   * @throws DtypeError when `target` is not 'float32', 'float64', 'cpu' or 'webgpu', or a float64 module
   *   moves to webgpu (WebGPU has no float64; convert with `to('float32')` first)
   * @throws DeviceError for `'webgpu'` before `initWebGPU()`, or `'cpu'` while some tensors are on webgpu
   */
  to(target: DType | Device): this {
    if (target === 'webgpu')
      return this.#replace((t) => (t.device === 'webgpu' ? t : t.detach().to('webgpu')));
    if (target === 'cpu') {
      if (this.#tensors().some((t) => t.device !== 'cpu')) {
        throw new DeviceError(
          'Module.to',
          "the module is on webgpu and reading it back is asynchronous: use 'await module.cpu()' instead of module.to('cpu')",
        );
      }
      return this;
    }
    if (target !== 'float32' && target !== 'float64') {
      throw new DtypeError(
        'Module.to',
        `dtype must be 'float32' or 'float64' (or a device: 'cpu', 'webgpu'), got ${describeValue(target)}`,
      );
    }
    return this.#replace((t) => {
      const data = toDtype(t.detach(), target).data;
      return new Tensor(data === t.data ? data.slice() : data, t.shape, false);
    });
  }

  /** Moves every parameter and buffer to the cpu (float32 copies read back from webgpu), like `module.cpu()`. */
  async cpu(): Promise<this> {
    const read = new Map<Tensor, Tensor>();
    for (const t of this.#tensors()) if (t.device !== 'cpu') read.set(t, await t.detach().cpu());
    return this.#replace((t) => read.get(t) ?? t);
  }

  /** Every parameter and buffer held by this module and its descendants. */
  #tensors(): Tensor[] {
    const out: Tensor[] = [];
    for (const m of this.modules()) {
      for (const v of Object.values(m)) if (isParameter(v) || isBuffer(v)) out.push(v);
    }
    return out;
  }

  /**
   * Replaces every parameter and buffer `t` by `make(t)` (a tensor shared by several modules is converted
   * once); a replacement that is a new tensor is marked like the original (parameter with its
   * `requiresGrad`, or buffer).
   */
  #replace(make: (t: Tensor) => Tensor): this {
    const converted = new Map<Tensor, Tensor>();
    const convert = (t: Tensor): Tensor => {
      let c = converted.get(t);
      if (c === undefined) {
        c = make(t);
        if (c !== t) {
          if (isParameter(t)) {
            parameter(c);
            c.requiresGrad = t.requiresGrad;
          } else buffer(c);
        }
        converted.set(t, c);
      }
      return c;
    };
    for (const m of this.modules()) {
      const self = m as unknown as Record<string, unknown>;
      for (const key of Object.keys(m)) {
        const v = self[key];
        if (isParameter(v) || isBuffer(v)) self[key] = convert(v);
      }
    }
    return this;
  }
}

function readEntries(op: string, sd: unknown): Map<string, Tensor> {
  const entries = new Map<string, Tensor>();
  const add = (k: string, v: unknown): void => {
    if (!(v instanceof Tensor)) {
      throw new ArgumentError(op, `state dict entry '${k}' must be a Tensor, got ${describeValue(v)}`);
    }
    entries.set(k, v);
  };
  if (sd instanceof Map) {
    for (const [k, v] of sd) {
      if (typeof k !== 'string') throw new ArgumentError(op, 'state dict keys must be strings');
      add(k, v);
    }
  } else if (sd !== null && typeof sd === 'object' && !Array.isArray(sd)) {
    for (const k of Object.keys(sd)) add(k, (sd as Record<string, unknown>)[k]);
  } else {
    throw new ArgumentError(op, `argument 'stateDict' must be an object or a Map, got ${describeValue(sd)}`);
  }
  return entries;
}

/**
 * @internal sets `p.grad` to null, releasing the old gradient's device buffer (webgpu); shared by
 * `Module.zeroGrad` and `Optimizer.zeroGrad`.
 */
export function clearGrad(p: Tensor): void {
  const g = p.grad;
  p.grad = null;
  if (g !== null && g.device === 'webgpu') g.dispose();
}
