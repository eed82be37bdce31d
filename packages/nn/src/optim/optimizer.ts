import {
  ArgumentError,
  DomainError,
  enableGrad,
  formatShape,
  markModified,
  noGrad,
  ShapeError,
  Tensor,
} from '@gradkit/autograd';
import { checkOptionKeys, DeviceError, describeValue } from '@gradkit/kernels';
import { clearGrad } from '../module.js';
import { checkSameDevice, cloneOnDevice, zerosOnDevice } from './device-update.js';

/** Hyperparameters every optimizer has. */
export interface BaseHyper {
  /** Learning rate. */
  lr: number;
}

/** A parameter group: its parameters and its own hyperparameters (PyTorch's `param_groups` entries). */
export type ParamGroup<H extends BaseHyper> = H & {
  /** The group's parameters. */
  params: Tensor[];
};

/** A parameter group as given to a constructor or `addParamGroup`: hyperparameters left out take the defaults. */
export type ParamGroupInput<H extends BaseHyper> = Partial<H> & {
  /** The group's parameters. */
  params: Iterable<Tensor>;
};

/** What an optimizer optimizes: parameters, or parameter groups with their own hyperparameters. */
export type Params<H extends BaseHyper> = Iterable<Tensor> | ReadonlyArray<ParamGroupInput<H>>;

/** The per-parameter state of an optimizer (moment estimates as tensors of the parameter's shape, counters). */
export type ParamState = Record<string, Tensor | number>;

/** An optimizer's state, like PyTorch's `optimizer.state_dict()`: state by parameter index, and the groups. */
export interface OptimizerStateDict<H extends BaseHyper = BaseHyper> {
  /** State of each parameter that has any, keyed by its index in the order of the groups. */
  state: Record<string, ParamState>;
  /** Each group's hyperparameters, with `params` the indices of its parameters. */
  paramGroups: Array<
    H & {
      /** Indices of the group's parameters. */
      params: number[];
    }
  >;
}

/** Checks one hyperparameter value; returns an error message or null. */
export type HyperCheck = (value: unknown) => string | null;

/** A finite number at least `min`. */
export const atLeast =
  (min: number): HyperCheck =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min ? null : `must be a finite number >= ${min}`;

/** A number in [0, 1). */
export const unitInterval: HyperCheck = (v) =>
  typeof v === 'number' && v >= 0 && v < 1 ? null : 'must be a number in [0, 1)';

/** A boolean. */
export const isBoolean: HyperCheck = (v) => (typeof v === 'boolean' ? null : 'must be a boolean');

/** A pair of numbers in [0, 1). */
export const betaPair: HyperCheck = (v) =>
  Array.isArray(v) && v.length === 2 && [...v].every((b) => unitInterval(b) === null)
    ? null
    : 'must be a pair [beta1, beta2] of numbers in [0, 1)';

/**
 * The base of gradkit's optimizers, shaped like `torch.optim.Optimizer`: parameter groups with their own
 * hyperparameters (a scheduler changes `group.lr`), per-parameter state, `zeroGrad`, `step`, and
 * `stateDict` / `loadStateDict`. Each parameter's update is one fused loop written in place, with every
 * hyperparameter a kernel argument, so changing the learning rate never compiles a new kernel.
 */
export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  /** The optimizer's name, used in error messages. */
  readonly name: string;
  /** The hyperparameters a group gets when it does not set them. */
  readonly defaults: Readonly<H>;
  /** The parameter groups; change `lr` (or any hyperparameter) here between steps. */
  readonly paramGroups: Array<ParamGroup<H>> = [];
  /** Per-parameter state (created on a parameter's first update). */
  readonly state = new Map<Tensor, ParamState>();
  readonly #checks: Readonly<Record<keyof H & string, HyperCheck>>;

  /**
   * @param name - e.g. 'Adam'
   * @param params - the parameters, or parameter groups
   * @param defaults - every hyperparameter's default
   * @param checks - a validity check per hyperparameter
   */
  protected constructor(
    name: string,
    params: Params<H>,
    defaults: H,
    checks: Readonly<Record<keyof H & string, HyperCheck>>,
  ) {
    this.name = name;
    this.#checks = checks;
    checkOptionKeys(name, 'options', defaults, Object.keys(checks));
    this.defaults = Object.freeze({ ...this.#validate(defaults, 'options') }) as Readonly<H>;
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new ArgumentError(
        name,
        `argument 'params' must be an iterable of Tensors or of parameter groups, got ${describeValue(params)}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) throw new ArgumentError(name, 'optimizer got an empty parameter list');
    if (list.every((p) => p instanceof Tensor))
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<H>);
    else for (const g of list) this.addParamGroup(g as ParamGroupInput<H>);
  }

  #validate(h: Partial<H>, where: string): Partial<H> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.#checks)) {
      if (!Object.hasOwn(h, key)) continue;
      const v = (h as Record<string, unknown>)[key];
      const problem = this.#checks[key as keyof H & string](v);
      if (problem !== null) {
        const Err = typeof v === 'number' || Array.isArray(v) ? DomainError : ArgumentError;
        throw new Err(this.name, `${where} '${key}' ${problem}, got ${describeValue(v)}`);
      }
      out[key] = Array.isArray(v) ? Object.freeze([...v]) : v;
    }
    return out as Partial<H>;
  }

  /**
   * Adds a parameter group (hyperparameters not given take the defaults), like PyTorch's `add_param_group`.
   *
   * @throws ArgumentError for unknown keys, parameters that are not leaf Tensors, or a parameter already in a
   *   group; DomainError for out-of-range hyperparameters
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const op = this.name;
    if (group === null || typeof group !== 'object') {
      throw new ArgumentError(op, `a param group must be an object, got ${describeValue(group)}`);
    }
    checkOptionKeys(op, 'param group', group, ['params', ...Object.keys(this.#checks)]);
    const raw = Object.hasOwn(group, 'params') ? group.params : undefined;
    if (raw === undefined || raw === null || typeof raw !== 'object' || !(Symbol.iterator in raw)) {
      throw new ArgumentError(
        op,
        `a param group needs 'params', an iterable of Tensors, got ${describeValue(raw)}`,
      );
    }
    const params = [...raw];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new ArgumentError(
          op,
          `optimizer can only optimize Tensors, but params[${i}] is ${describeValue(p)}`,
        );
      }
      if (!p.isLeaf) throw new ArgumentError(op, `can't optimize a non-leaf Tensor (params[${i}])`);
      if (seen.has(p)) throw new ArgumentError(op, 'some parameters appear in more than one parameter group');
      seen.add(p);
    });
    const hyper = this.#validate(group as Partial<H>, 'param group');
    this.paramGroups.push({ ...this.defaults, ...hyper, params } as ParamGroup<H>);
  }

  /**
   * Clears the gradient of every parameter (sets it to null, PyTorch's default). On webgpu the old gradients'
   * buffers are released at once (see `Module.zeroGrad`): clone a gradient first to keep it.
   */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) clearGrad(p);
  }

  /**
   * One update of every parameter that has a gradient. With a `closure` (re-evaluates the model and returns
   * the loss), it is called first with gradients enabled, and its loss is returned.
   */
  step(closure?: () => Tensor | number): Tensor | number | undefined {
    let loss: Tensor | number | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') {
        throw new ArgumentError(
          `${this.name}.step`,
          `argument 'closure' must be a function, got ${describeValue(closure)}`,
        );
      }
      loss = enableGrad(closure);
    }
    for (const group of this.paramGroups) this.#checkGroup(group);
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (g === null) continue;
          let s = this.state.get(p);
          if (s === undefined) {
            s = this.initState(p, group);
            this.state.set(p, s);
          }
          checkSameDevice(this.name, p, g);
          this.update(p, g, s, group);
          markModified(p);
        }
      }
    });
    return loss;
  }

  #checkGroup(group: ParamGroup<H>): void {
    // Hyperparameters may be changed between steps (schedulers do): re-check them before every step.
    this.#validate(group, 'param group');
  }

  /** The fresh state of parameter `p` (zero moment buffers, step 0). */
  protected abstract initState(p: Tensor, group: ParamGroup<H>): ParamState;

  /** Updates `p` in place from its gradient `g`, its state and its group's hyperparameters. */
  protected abstract update(p: Tensor, g: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /**
   * The optimizer's state: copies of every parameter's state, and the groups with parameter indices, like
   * PyTorch's `state_dict()` (save it with the model's to resume training).
   */
  stateDict(): OptimizerStateDict<H> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const ids = g.params.map((p) => {
        const i = index.size;
        index.set(p, i);
        return i;
      });
      const { params: _params, ...hyper } = g;
      return { ...(hyper as unknown as H), params: ids };
    });
    const state: Record<string, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        // State on webgpu is copied on the device (nothing is read back).
        if (v instanceof Tensor)
          copy[k] = v.device === 'cpu' ? new Tensor(v.data.slice(), v.shape) : cloneOnDevice(v);
        else copy[k] = v;
      }
      state[String(i)] = copy;
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state saved by {@link Optimizer.stateDict} of an optimizer of the same kind over parameters of
   * the same shapes. Everything is checked before anything changes.
   *
   * @throws ArgumentError / ShapeError / DomainError when the groups, sizes, shapes or values do not fit
   */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    const op = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object') {
      throw new ArgumentError(op, `argument 'stateDict' must be an object, got ${describeValue(sd)}`);
    }
    checkOptionKeys(op, 'stateDict', sd, ['state', 'paramGroups']);
    const groups = Object.hasOwn(sd, 'paramGroups') ? sd.paramGroups : undefined;
    if (!Array.isArray(groups) || groups.length !== this.paramGroups.length) {
      throw new ArgumentError(
        op,
        `loaded state dict has ${Array.isArray(groups) ? groups.length : 'no'} parameter groups, the optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, [Tensor, number]>();
    const hypers: Array<Partial<H>> = [];
    // Spread first: forEach skips the holes of a sparse array, which would misalign the groups.
    [...groups].forEach((g, gi) => {
      const mine = this.paramGroups[gi]!;
      const ids = g !== null && typeof g === 'object' && Object.hasOwn(g, 'params') ? g.params : undefined;
      if (!Array.isArray(ids) || ids.length !== mine.params.length) {
        throw new ArgumentError(
          op,
          `loaded group ${gi} has a different number of parameters than the optimizer's`,
        );
      }
      [...ids].forEach((id, k) => {
        if (!Number.isSafeInteger(id) || byIndex.has(id)) {
          throw new ArgumentError(
            op,
            `loaded group ${gi} has an invalid parameter index ${describeValue(id)}`,
          );
        }
        byIndex.set(id, [mine.params[k]!, gi]);
      });
      const { params: _ids, ...rest } = g;
      hypers.push(this.#validate(rest as unknown as Partial<H>, `loaded group ${gi}:`));
    });
    const rawState = Object.hasOwn(sd, 'state') ? sd.state : undefined;
    if (rawState === null || typeof rawState !== 'object') {
      throw new ArgumentError(op, `'state' must be an object, got ${describeValue(rawState)}`);
    }
    const newState = new Map<Tensor, ParamState>();
    for (const key of Object.keys(rawState)) {
      const found = String(Number(key)) === key ? byIndex.get(Number(key)) : undefined;
      if (found === undefined)
        throw new ArgumentError(op, `state for parameter index '${key}' that no group has`);
      const [p, gi] = found;
      const entry = (rawState as Record<string, unknown>)[key];
      if (entry === null || typeof entry !== 'object') {
        throw new ArgumentError(op, `state of parameter ${key} must be an object`);
      }
      const copy: ParamState = {};
      for (const k of Object.keys(entry)) {
        const v = (entry as Record<string, unknown>)[k];
        if (k === 'step') {
          if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
            throw new ArgumentError(
              op,
              `state 'step' of parameter ${key} must be a non-negative integer, got ${describeValue(v)}`,
            );
          }
          copy[k] = v;
        } else if (v instanceof Tensor) {
          if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
            throw new ShapeError(
              op,
              `state '${k}' of parameter ${key} has shape ${formatShape(v.shape)}, the parameter has ${formatShape(p.shape)}`,
            );
          }
          copy[k] = stateLike(p, v);
        } else {
          throw new ArgumentError(
            op,
            `state '${k}' of parameter ${key} must be a Tensor, got ${describeValue(v)}`,
          );
        }
      }
      // Every entry a fresh state has (under the loaded hyperparameters) must be there, so that step()
      // never reads a missing buffer.
      const fresh = this.initState(p, { ...this.paramGroups[gi]!, ...hypers[gi]! });
      for (const k of Object.keys(fresh)) {
        if (!Object.hasOwn(copy, k)) {
          throw new ArgumentError(
            op,
            `state of parameter ${key} lacks '${k}' (it has: ${Object.keys(copy).join(', ')})`,
          );
        }
      }
      newState.set(p, copy);
    }
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
    hypers.forEach((h, gi) => {
      Object.assign(this.paramGroups[gi]!, h);
    });
  }
}

/**
 * A copy of the saved state tensor `v` shaped, typed and placed like the parameter `p`: on webgpu a cpu state
 * is uploaded and a device state copied on the device.
 */
function stateLike(p: Tensor, v: Tensor): Tensor {
  if (p.device === 'webgpu') {
    return v.device === 'webgpu'
      ? cloneOnDevice(v)
      : new Tensor(Float32Array.from(v.data), [...p.shape]).to('webgpu');
  }
  if (v.device !== 'cpu') {
    throw new DeviceError(
      'loadStateDict',
      "a state tensor on webgpu cannot be loaded for a parameter on the cpu synchronously: read it with 'await t.cpu()' first",
    );
  }
  const data =
    p.dtype === v.dtype ? v.data.slice() : (p.dtype === 'float32' ? Float32Array : Float64Array).from(v.data);
  return new Tensor(data, p.shape);
}

/** A zero tensor shaped and typed like `p` (a fresh state buffer), on `p`'s device. */
export function zerosLikeParam(p: Tensor): Tensor {
  if (p.device === 'webgpu') return zerosOnDevice(p);
  return new Tensor(p.dtype === 'float32' ? new Float32Array(p.size) : new Float64Array(p.size), p.shape);
}
