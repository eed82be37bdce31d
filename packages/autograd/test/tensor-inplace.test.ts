/**
 * In-place updates: PyTorch's names and semantics (one fused loop into the tensor's own storage, broadcasting
 * the other argument, the tensor's dtype kept), version counters, and backward refusing to read a tensor
 * modified after its graph was recorded.
 */
import {
  add,
  fuseInPlace,
  mul,
  noGrad,
  ShapeError,
  StateError,
  type Tensor,
  tensor,
  zeros,
} from '@gradkit/autograd';
import { broadcastShapes, propertyConfig, tensorsOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectOpError } from './helpers.js';

const clone = (t: Tensor): Tensor =>
  tensor(t.toArray().slice(), { dtype: t.dtype }).reshape(t.shape as number[]);

describe('in-place ops compute what the out-of-place ops compute', () => {
  it('add_/sub_ (with alpha), mul_, div_, maximum_, clamp_, addcmul_, addcdiv_, lerp_, copy_ over broadcast shapes', () => {
    // The first shape is the target: the others must broadcast to it.
    const pairs = broadcastShapes(2, { maxRank: 3, maxSize: 4 })
      .map(([a, b]) => [a!, b!])
      .filter(
        ([a, b]) =>
          a.length >= b.length &&
          a.every(
            (d, i) =>
              i < a.length - b.length || b[i - a.length + b.length] === 1 || b[i - a.length + b.length] === d,
          ),
      );
    fc.assert(
      fc.property(
        tensorsOf(pairs, [{ dtype: 'float32' }, { dtype: 'float64', minAbs: 0.5 }]),
        fc.double({ min: -3, max: 3, noNaN: true }),
        ([x, o], alpha) => {
          const cases: Array<[(t: Tensor) => Tensor, Tensor]> = [
            [(t) => t.add_(o!, alpha), x!.add(o!.mul(alpha))],
            [(t) => t.sub_(o!, alpha), x!.sub(o!.mul(alpha))],
            [(t) => t.add_(o!), x!.add(o!)],
            [(t) => t.mul_(o!), x!.mul(o!)],
            [(t) => t.div_(o!), x!.div(o!)],
            [(t) => t.maximum_(o!), x!.maximum(o!)],
            [(t) => t.clamp_(o!), x!.clamp(o!)],
            [(t) => t.clamp_(undefined, alpha), x!.clamp(undefined, alpha)],
            [(t) => t.clamp_(-1, o!), x!.clamp(-1, o!)],
            [(t) => t.addcmul_(o!, o!, alpha), x!.add(o!.mul(o!).mul(alpha))],
            [(t) => t.addcdiv_(o!, o!, alpha), x!.add(o!.div(o!).mul(alpha))],
            [(t) => t.lerp_(o!, 0.25), x!.add(o!.sub(x!).mul(0.25))],
            [(t) => t.copy_(o!), add(zeros(x!.shape as number[]), o!.to('float32'))],
          ];
          for (const [update, want] of cases) {
            const t = clone(x!);
            const r = noGrad(() => update(t));
            expect(r).toBe(t);
            expect(t.dtype).toBe('float32');
            expect(t.shape).toEqual(x!.shape);
            expect(t.version).toBe(1);
            // Fused in float64 and rounded once: equal to the float64 chain rounded to float32.
            const want32 = want.to('float32');
            expect(Array.from(t.data)).toEqual(Array.from(want32.data));
          }
        },
      ),
      propertyConfig({ numRuns: 40 }),
    );
  });

  it('fill_, zero_ (NaN allowed), numbers as scalars, chaining', () => {
    const t = tensor([1, 2, 3], { dtype: 'float64' });
    t.mul_(2)
      .add_(1, 0.5)
      .sub_(tensor([1]));
    expect(t.tolist()).toEqual([1.5, 3.5, 5.5]);
    expect(t.version).toBe(3);
    t.fill_(Number.NaN);
    expect(t.data.every(Number.isNaN)).toBe(true);
    t.zero_();
    expect(t.tolist()).toEqual([0, 0, 0]);
    expect(t.version).toBe(5);
  });

  it('refuses arguments that do not broadcast to the target shape', () => {
    const t = zeros([3]);
    expectOpError(
      () => t.add_(zeros([2, 3])),
      ShapeError,
      'add_',
      "doesn't match the broadcast shape [2, 3]",
    );
    expectOpError(() => t.mul_(zeros([2])), ShapeError, 'mul_');
    expectOpError(() => t.add_(1, 'x' as never), Error as never, 'add_', "'alpha'");
    expectOpError(() => t.fill_('1' as never), Error as never, 'fill_', "'value'");
    expectOpError(() => t.clamp_(), Error as never, 'clamp_', 'at least one');
  });

  it('fuseInPlace: one loop, numbers read at run time', () => {
    const step = fuseInPlace((p, g, lr) => p.sub(g.mul(lr)));
    const p = tensor([1, 2], { dtype: 'float64' });
    step(p, tensor([10, 20], { dtype: 'float64' }), 0.1);
    step(p, tensor([10, 20], { dtype: 'float64' }), 0.01);
    expect(p.tolist()).toEqual([1 - 1 - 0.1, 2 - 2 - 0.2]);
    expect(p.version).toBe(2);
    expectOpError(() => step(p, tensor([1])), Error as never, 'fusedInPlace', 'expects 3 arguments');
  });
});

describe('autograd and in-place updates', () => {
  it('refuses an in-place op on a leaf that requires grad outside noGrad (PyTorch message)', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    expectOpError(
      () => w.add_(1),
      StateError,
      'add_',
      'a leaf Variable that requires grad is being used in an in-place operation',
    );
    expectOpError(() => w.zero_(), StateError, 'fill_', 'leaf Variable');
    const y = w.mul(2);
    expectOpError(() => y.mul_(2), StateError, 'mul_', 'recorded graph');
    const buf = zeros([2]);
    expectOpError(() => buf.add_(w), StateError, 'add_', "'other' requires grad");
    expect(w.version).toBe(0);
    noGrad(() => w.sub_(tensor([0.5, 0.5])));
    expect(w.tolist()).toEqual([0.5, 1.5]);
    expect(w.version).toBe(1);
  });

  it('backward refuses to use a saved tensor modified since the graph was recorded', () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const x = tensor([4, 5, 6]);
    const loss = mul(w, x).sum();
    noGrad(() => x.add_(1));
    expectOpError(
      () => loss.backward(),
      StateError,
      'mul',
      'one of the variables needed for gradient computation has been modified by an inplace operation: [Float32 [3]] is at version 1; expected version 0 instead',
    );
    // A modified intermediate result: named with the op that produced it.
    const a = tensor([1, 2, 3], { requiresGrad: true, dtype: 'float64' });
    const e = a.exp();
    const out = e.log().sum();
    noGrad(() => e.mul_(2));
    expectOpError(
      () => out.backward(),
      StateError,
      'log',
      '[Float64 [3]], which is output 0 of exp, is at version 1; expected version 0 instead',
    );
  });

  it('tensors sharing storage (detach, reshape) share the counter; an unmodified graph still works', () => {
    const w = tensor([1, 2, 3, 4], { requiresGrad: true });
    const v = w.detach().reshape([2, 2]);
    const loss = w.mul(w).sum();
    v.add_(1);
    expect(w.version).toBe(1);
    expect(w.tolist()).toEqual([2, 3, 4, 5]);
    expect(() => loss.backward()).toThrow(StateError);
    // Recompute after the update: fine, and the gradient uses the new values.
    const again = w.mul(w).sum();
    again.backward();
    expect(w.grad!.tolist()).toEqual([4, 6, 8, 10]);
  });

  it('an optimizer step under noGrad, then a fresh forward, trains (SGD on a quadratic)', () => {
    const w = tensor([3, -2], { dtype: 'float64', requiresGrad: true });
    for (let i = 0; i < 50; i++) {
      w.zeroGrad();
      w.square().sum().backward();
      noGrad(() => w.sub_(w.grad!, 0.1));
    }
    expect(Math.abs(w.data[0]!) + Math.abs(w.data[1]!)).toBeLessThan(1e-4);
    expect(w.version).toBe(50);
  });
});
