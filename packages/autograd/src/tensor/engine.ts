import { ArgumentError, ShapeError, StateError } from '@gradkit/kernels';
import { withGradMode } from './grad-mode.js';
import type { Grads, Node } from './node.js';
import { fmt, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

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

function onesLike(t: Tensor): Tensor {
  const data = t.dtype === 'float32' ? new Float32Array(t.size) : new Float64Array(t.size);
  data.fill(1);
  return new Tensor(data, t.shape);
}

function seedGrads(op: string, outputs: readonly Tensor[], given: ReadonlyArray<Tensor | null> | undefined): Tensor[] {
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
    if (!sameShape(g.shape, o.shape)) {
      throw new ShapeError(op, `gradient ${i} has shape ${fmt(g.shape)} but the output has shape ${fmt(o.shape)}`);
    }
    return g;
  });
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
 * calls `deliver` with the finished gradient of every tensor that keeps one (leaves, or `capture`d tensors).
 */
function propagate(
  op: string,
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  deliver: (t: Tensor, g: Tensor) => void,
  capture: ReadonlySet<Tensor> | null,
): void {
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const nodes = schedule(roots);
  const pending = new Map<Node, Grads>();
  const leafGrads = new Map<Tensor, Tensor>();
  const nodeOutputs = new Map<Node, Map<number, Tensor>>();
  const remember = (t: Tensor) => {
    if (t.gradFn === null) return;
    let m = nodeOutputs.get(t.gradFn);
    if (m === undefined) nodeOutputs.set(t.gradFn, (m = new Map()));
    m.set(t.outputIndex, t);
  };
  const accumulate = (t: Tensor, g: Tensor) => {
    if (t.gradFn === null || capture?.has(t)) {
      leafGrads.set(t, addGrads(leafGrads.get(t) ?? null, g));
    }
    if (t.gradFn !== null) {
      remember(t);
      let slot = pending.get(t.gradFn);
      if (slot === undefined) pending.set(t.gradFn, (slot = new Array(t.gradFn.outputCount).fill(null)));
      slot[t.outputIndex] = addGrads(slot[t.outputIndex] ?? null, g);
    }
  };
  withGradMode(createGraph, () => {
    roots.forEach((r, i) => {
      if (!r.requiresGrad) {
        throw new StateError(op, `output ${i} does not require grad and has no grad_fn`);
      }
      accumulate(r, seeds[i]!);
    });
    for (const node of nodes) {
      const gs = pending.get(node);
      if (gs === undefined) continue;
      pending.delete(node);
      // Hooks registered on this node's outputs see (and may replace) the complete gradient.
      const outs = nodeOutputs.get(node);
      if (outs !== undefined) {
        for (const [k, t] of outs) if (gs[k] !== null) gs[k] = t.runHooks(gs[k]!);
      }
      const inGrads = node.apply(gs);
      if (!retainGraph) node.release();
      node.inputs.forEach((inp, k) => {
        const g = inGrads[k];
        if (g === null || g === undefined || !inp.requiresGrad) return;
        accumulate(inp, g);
      });
    }
  });
  for (const [t, g] of leafGrads) deliver(t, t.gradFn === null ? t.runHooks(g) : g);
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
  const seeds = seedGrads('backward', [output], gradient === undefined ? undefined : [gradient]);
  propagate(
    'backward',
    [output],
    seeds,
    opts,
    (t, g) => {
      if (!t.keepsGrad) return;
      const add = opts.createGraph ? g : g.detach();
      t.grad = t.grad === null ? add : addGrads(t.grad, add);
    },
    null,
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
  const outs = outputs instanceof Tensor ? [outputs] : [...outputs];
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  ins.forEach((t, i) => {
    if (!t.requiresGrad) throw new ArgumentError('grad', `input ${i} does not require grad`);
  });
  const seeds = seedGrads('grad', outs, opts.gradOutputs);
  const wanted = new Set(ins);
  const found = new Map<Tensor, Tensor>();
  propagate('grad', outs, seeds, opts, (t, g) => {
    if (wanted.has(t)) found.set(t, g);
  }, wanted);
  return ins.map((t, i) => {
    const g = found.get(t) ?? null;
    if (g === null && !opts.allowUnused) {
      throw new ArgumentError(
        'grad',
        `input ${i} was not used in computing the outputs; pass { allowUnused: true } to get null for it`,
      );
    }
    return g === null ? null : opts.createGraph ? g : g.detach();
  });
}
