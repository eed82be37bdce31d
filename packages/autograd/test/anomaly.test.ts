import {
  DomainError,
  detectAnomaly,
  isAnomalyEnabled,
  noGrad,
  setDetectAnomaly,
  type Tensor,
  tensor,
} from '@gradkit/autograd';
import { afterEach, describe, expect, it } from 'vitest';

afterEach(() => setDetectAnomaly(false));

describe('anomaly detection', () => {
  it('is off by default: NaN flows silently', () => {
    const x = tensor([0, 1], { requiresGrad: true });
    expect(() => x.log().mul(0).sum().backward()).not.toThrow();
    expect(Number.isNaN(x.grad!.data[0])).toBe(true);
    expect(isAnomalyEnabled()).toBe(false);
  });

  it('names the first forward op that turns finite inputs into NaN/inf, with shapes', () => {
    const x = tensor([[1, -1]], { requiresGrad: true });
    let err: unknown;
    detectAnomaly(() => {
      try {
        x.exp().sqrt().sub(1).log(); // log(e^-0.5 − 1) is NaN; the earlier ops are finite
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).op).toBe('log');
    expect((err as Error).message).toMatch(
      /output 0 \(shape \[1, 2\]\) holds NaN at element 1.*shapes \[1, 2\]/,
    );
  });

  it('does not blame an op for non-finite inputs it was given', () => {
    const x = tensor([Number.POSITIVE_INFINITY, 1], { requiresGrad: true });
    expect(() => detectAnomaly(() => x.mul(2).add(1))).not.toThrow();
  });

  it('names the backward step that turns finite gradients into NaN, and where its forward was called', () => {
    // sqrt at 0: forward is finite (0), backward is 1/(2·0) = inf.
    const x = tensor([0, 4], { requiresGrad: true });
    const run = (): Tensor => x.sqrt().sum();
    let err: unknown;
    detectAnomaly(() => {
      try {
        run().backward();
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).op).toBe('sqrt.backward');
    expect((err as Error).message).toMatch(/gradient of input 0 \(shape \[2\]\) holds Infinity at element 0/);
    expect((err as Error).message).toMatch(/The forward op was called at:\n[\s\S]*anomaly\.test\.ts/);
  });

  it('setDetectAnomaly turns it on globally; detectAnomaly restores the previous setting, also on throw', () => {
    setDetectAnomaly(true);
    expect(() => tensor([-1], { requiresGrad: true }).log()).toThrow(DomainError);
    // Ops that autograd does not record are not checked.
    expect(() => noGrad(() => tensor([-1], { requiresGrad: true }).log())).not.toThrow();
    setDetectAnomaly(false);
    expect(() =>
      detectAnomaly(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isAnomalyEnabled()).toBe(false);
    expect(() => setDetectAnomaly('yes' as never)).toThrow(/must be a boolean/);
  });
});
