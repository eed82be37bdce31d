import {
  ArgumentError,
  checkOptionKeys,
  DeviceError,
  describeValue,
  ShapeError,
  StateError,
} from '@gradkit/kernels';
import { checkBackward, isAnomalyEnabled } from './anomaly.js';
import { toDtype } from './cast.js';
import { allocate } from './dtype.js';
import { withGradMode } from './grad-mode.js';
import type { Grads, Node } from './node.js';
import { fmt, sameShape } from './shape.js';
import { checkTensor, nextTensorSerial, Tensor } from './tensor.js';
import { clone } from './view.js';

/** Options of {@link backward} and `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so backward can run through it again (default: same as createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated again (default false). */
  createGraph?: boolean;
}

/** Options of {@link grad}. */
export interface GradOptions extends BackwardOptions {
  /** The gradient of each output (required for outputs with more than one element). */
  gradOutputs?: ReadonlyArray<Tensor | null>;
  /** Return null for inputs the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
}

/** The implicit seed: ones of `t`'s shape, dtype and device (a one-element upload on webgpu). */
function onesLike(t: Tensor): Tensor {
  const data = allocate(t.dtype, t.size, 'grad');
  data.fill(1);
  const d = t.deviceArray;
  return new Tensor(d === null ? data : d.runtime.upload(data, 'backward'), t.shape);
}

/** The DeviceError for a gradient on another device than its tensor. */
function wrongDevice(op: string, what: string, t: Tensor, g: Tensor): DeviceError {
  return new DeviceError(
    op,
    `the gradient for ${what} is on ${g.device} but the tensor is on ${t.device}; gradients live on their tensor's device`,
  );
}

function seedGrads(
  op: string,
  outputs: readonly Tensor[],
  given: ReadonlyArray<Tensor | null> | undefined,
): Tensor[] {
  if (given !== undefined && given.length !== outputs.length) {
    throw new ArgumentError(
      op,
      `got ${given.length} gradient(s) for ${outputs.length} output(s); pass one per output (null for implicit)`,
    );
  }
  return outputs.map((o, i) => {
    const g = given?.[i] ?? null;
    if (g === null) {
      if (o.size !== 1) {
        throw new ShapeError(
          op,
          `grad can be implicitly created only for outputs with one element; output ${i} has shape ${fmt(o.shape)} — pass its gradient`,
        );
      }
      return onesLike(o);
    }
    checkTensor(op, `gradient ${i}`, g);
    if (g.device !== o.device) throw wrongDevice(op, `output ${i}`, o, g);
    if (!sameShape(g.shape, o.shape)) {
      throw new ShapeError(
        op,
        `gradient ${i} has shape ${fmt(g.shape)} but the output has shape ${fmt(o.shape)}`,
      );
    }
    return g;
  });
}

/**
 * Brings a gradient computed for `t` to `t`'s dtype (as PyTorch's engine does: a float32 tensor always gets a
 * float32 gradient, even when it met float64 tensors), after checking its shape.
 *
 * @throws ShapeError naming the op whose backward produced a gradient of the wrong shape
 */
function conform(op: string, what: string, t: Tensor, g: Tensor): Tensor {
  if (!sameShape(g.shape, t.shape)) {
    throw new ShapeError(
      op,
      `backward returned a gradient of shape ${fmt(g.shape)} for ${what} of shape ${fmt(t.shape)}`,
    );
  }
  if (g.device !== t.device) throw wrongDevice(op, what, t, g);
  return g.dtype === t.dtype ? g : toDtype(g, t.dtype);
}

function addGrads(a: Tensor | null, b: Tensor): Tensor {
  if (a === null) return b;
  // Imported lazily to keep the engine independent of the op modules' load order.
  return (a as Tensor & { add(o: Tensor): Tensor }).add(b);
}

/** Nodes reachable from the roots, ordered so that each node comes after every node that consumes it. */
function schedule(roots: readonly Tensor[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: Array<[Node, number]> = [];
  for (const r of roots) {
    const n = r.gradFn;
    if (n === null || seen.has(n)) continue;
    seen.add(n);
    stack.push([n, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1] = i + 1;
        const child = node.inputs[i]!.gradFn;
        if (child !== null && !seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order.reverse();
}

/**
 * The reverse pass shared by `backward` and `grad`: propagates `seeds` from `roots` through the graph and
 * calls `deliver` with the finished gradient of every tensor that `keep` selects (after its hooks ran).
 * Hooks run on every non-leaf that receives a gradient, and on the leaves that `keep` selects.
 */
function propagate(
  op: string,
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  keep: (t: Tensor) => boolean,
  deliver: (t: Tensor, g: Tensor) => void,
): void {
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const firstSerial = nextTensorSerial();
  const nodes = schedule(roots);
  const pending = new Map<Node, Grads>();
  const leafGrads = new Map<Tensor, Tensor>();
  const nodeOutputs = new Map<Node, Map<number, Tensor>>();
  // Partial sums the engine made while accumulating: they never leave the engine, so on webgpu the one a
  // further accumulation supersedes is released at once instead of waiting for garbage collection (not
  // under createGraph, where the sum is part of the recorded graph).
  const sums = new WeakSet<Tensor>();
  // How many slots (pending node gradients, leaf gradients) hold each gradient tensor, and the tensors
  // handed out (delivered): what the engine may release once consumed (see `release`).
  const held = new Map<Tensor, number>();
  const hold = (t: Tensor, by: number) => {
    const n = (held.get(t) ?? 0) + by;
    if (n > 0) held.set(t, n);
    else held.delete(t);
  };
  const delivered = new Set<Tensor>();
  const seeded = new Set<Tensor>(seeds);
  /**
   * Disposes a cpu gradient tensor that this pass made and nothing holds any more: no slot, not handed out,
   * not a seed, not passed through (a backward that returned it made it held again). Not under createGraph
   * (the graph being recorded may read it), and not where hooks could have kept it (`noRelease`). Its arena
   * memory is then reused by the rest of the pass and the next step, as PyTorch frees consumed gradients.
   */
  const noRelease = new Set<Tensor>();
  const release = (t: Tensor) => {
    if (createGraph || t.device !== 'cpu' || t.serial < firstSerial) return;
    if (held.has(t) || delivered.has(t) || seeded.has(t) || noRelease.has(t)) return;
    t.dispose();
  };
  const sum = (a: Tensor | null, g: Tensor): Tensor => {
    const total = addGrads(a, g);
    if (a !== null) {
      if (!createGraph && sums.has(a)) a.deviceArray?.dispose();
      sums.add(total);
    }
    return total;
  };
  const accumulate = (t: Tensor, g: Tensor) => {
    const node = t.gradFn;
    if (node === null) {
      if (keep(t)) {
        const before = leafGrads.get(t) ?? null;
        const total = sum(before, g);
        leafGrads.set(t, total);
        hold(total, 1);
        if (before !== null) {
          hold(before, -1);
          release(before);
        }
      }
      return;
    }
    let m = nodeOutputs.get(node);
    if (m === undefined) {
      m = new Map();
      nodeOutputs.set(node, m);
    }
    m.set(t.outputIndex, t);
    let slot = pending.get(node);
    if (slot === undefined) {
      slot = new Array<Tensor | null>(node.outputCount).fill(null);
      pending.set(node, slot);
    }
    const before = slot[t.outputIndex] ?? null;
    const total = sum(before, g);
    slot[t.outputIndex] = total;
    hold(total, 1);
    if (before !== null) {
      hold(before, -1);
      release(before);
    }
  };
  const finished: Array<[Tensor, Tensor]> = [];
  withGradMode(createGraph, () => {
    roots.forEach((r, i) => {
      if (!r.requiresGrad) {
        throw new StateError(op, `output ${i} does not require grad and has no grad_fn`);
      }
      accumulate(r, conform(op, `output ${i}`, r, seeds[i]!));
    });
    for (const node of nodes) {
      const gs = pending.get(node);
      if (gs === undefined) continue;
      pending.delete(node);
      // Hooks registered on this node's outputs see (and may replace) the complete gradient; a retained or
      // requested non-leaf gets the gradient after its hooks, as in PyTorch.
      for (const g of gs) if (g !== null) hold(g, -1);
      const outs = nodeOutputs.get(node);
      if (outs !== undefined) {
        for (const [k, t] of outs) {
          if (gs[k] === null) continue;
          if (t.hasHooks) noRelease.add(gs[k]!);
          gs[k] = t.runHooks(gs[k]!);
          if (t.hasHooks) noRelease.add(gs[k]!);
          if (keep(t)) {
            finished.push([t, gs[k]!]);
            delivered.add(gs[k]!);
          }
        }
      }
      const inGrads = node.apply(gs);
      // Anomaly checks read the values: on the host only (webgpu reads are asynchronous).
      if (isAnomalyEnabled() && ![...gs, ...inGrads].some((g) => g?.device === 'webgpu')) {
        checkBackward(node.name, gs, inGrads, node.trace);
      }
      if (!retainGraph) node.release();
      node.inputs.forEach((inp, k) => {
        const g = inGrads[k];
        if (g === null || g === undefined || !inp.requiresGrad) return;
        accumulate(inp, conform(node.name, `input ${k}`, inp, g));
      });
      // What this node consumed and what it made that nothing holds now (added into a slot, or not needed).
      for (const g of gs) if (g !== null) release(g);
      for (const g of inGrads) if (g !== null && g !== undefined) release(g);
    }
    for (const [t, g] of leafGrads) finished.push([t, t.runHooks(g)]);
  });
  for (const [t, g] of finished) deliver(t, g);
}

/**
 * How a finished gradient is handed to its tensor: under createGraph as it is (it is part of the graph);
 * otherwise a tensor of its own that requires no grad and shares its storage with nothing else handed out or
 * with the caller's seeds — the gradient itself when it needs nothing else (computed with grad mode off, first
 * use of its storage), else a copy (a seed passed through, one gradient reaching two inputs). So an in-place
 * change of one `.grad` (clipping, an optimizer) never changes another tensor's gradient or a seed, and each
 * gradient is the only tensor on its storage, which `dispose()` can return at once.
 */
function ownedResult(createGraph: boolean, seeds: readonly Tensor[]): (g: Tensor) => Tensor {
  const storageOf = (t: Tensor): object => t.deviceArray ?? t.data;
  const handed = new Set<object>(seeds.map(storageOf));
  return (g) => {
    if (createGraph) return g;
    const storage = storageOf(g);
    if (g.requiresGrad || handed.has(storage)) return withGradMode(false, () => clone(g));
    handed.add(storage);
    return g;
  };
}

/**
 * Computes the gradient of `output` with respect to every leaf it depends on and ADDS it to their `.grad`
 * (gradients accumulate across calls, as in PyTorch; zero them between steps).
 *
 * @param gradient - d(loss)/d(output); required unless `output` has one element
 * @throws ShapeError when `gradient` is missing for a non-scalar output or has the wrong shape
 * @throws StateError when `output` does not require grad, or when the graph was freed by an earlier backward
 */
export function backward(output: Tensor, gradient?: Tensor | null, opts: BackwardOptions = {}): void {
  checkTensor('backward', 'output', output);
  checkOptionKeys('backward', 'options', opts, ['retainGraph', 'createGraph']);
  const seeds = seedGrads('backward', [output], gradient === undefined ? undefined : [gradient]);
  const own = ownedResult(opts.createGraph ?? false, seeds);
  propagate(
    'backward',
    [output],
    seeds,
    opts,
    (t) => t.keepsGrad,
    (t, g) => {
      const add = own(g);
      t.grad = t.grad === null ? add : addGrads(t.grad, add);
    },
  );
}

/**
 * The gradients of `outputs` with respect to `inputs`, returned instead of accumulated
 * (`torch.autograd.grad`). With `createGraph` the returned gradients are themselves differentiable, which is
 * how Hessian-vector products and higher derivatives are computed.
 *
 * @throws ArgumentError when an input does not require grad, or is unused and `allowUnused` is false
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): Array<Tensor | null> {
  checkOptionKeys('grad', 'options', opts, ['retainGraph', 'createGraph', 'gradOutputs', 'allowUnused']);
  const list = (x: unknown, arg: string): Tensor[] => {
    if (x instanceof Tensor) return [x];
    if (!Array.isArray(x)) {
      throw new ArgumentError(
        'grad',
        `argument '${arg}' must be a Tensor or a list of Tensors, got ${describeValue(x)}`,
      );
    }
    return Array.from(x, (t: unknown, i) => checkTensor('grad', `${arg}[${i}]`, t));
  };
  const outs = list(outputs, 'outputs');
  const ins = list(inputs, 'inputs');
  if (opts.gradOutputs !== undefined && !Array.isArray(opts.gradOutputs)) {
    throw new ArgumentError(
      'grad',
      `option 'gradOutputs' must be a list, got ${describeValue(opts.gradOutputs)}`,
    );
  }
  ins.forEach((t, i) => {
    if (!t.requiresGrad) throw new ArgumentError('grad', `input ${i} does not require grad`);
  });
  const seeds = seedGrads('grad', outs, opts.gradOutputs);
  const wanted = new Set(ins);
  const found = new Map<Tensor, Tensor>();
  const own = ownedResult(opts.createGraph ?? false, seeds);
  propagate(
    'grad',
    outs,
    seeds,
    opts,
    (t) => wanted.has(t),
    (t, g) => found.set(t, g),
  );
  return ins.map((t, i) => {
    const g = found.get(t) ?? null;
    if (g === null && !opts.allowUnused) {
      throw new ArgumentError(
        'grad',
        `input ${i} was not used in computing the outputs; pass { allowUnused: true } to get null for it`,
      );
    }
    return g === null ? null : own(g);
  });
}
