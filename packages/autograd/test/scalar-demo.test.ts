/** A quick smoke test of the scalar demo (examples/scalar-demo): a tiny model learns, the symbolic part agrees. */
import { describe, expect, it } from 'vitest';
import { makeMoons, symbolicDemo, train } from '../../../examples/scalar-demo/main.js';

describe('scalar demo', () => {
  it('makes a seeded, balanced two-moons set', () => {
    const a = makeMoons(40, 0.1, 3);
    expect(a).toEqual(makeMoons(40, 0.1, 3));
    expect(a.filter((p) => p.label === 1)).toHaveLength(20);
    expect(a.every((p) => Math.abs(p.x) < 2 && Math.abs(p.y) < 2)).toBe(true);
  });

  it('training lowers the loss of a small MLP', () => {
    const r = train({ sizes: [2, 6, 1], points: 24, epochs: 8, seed: 1 });
    expect(r.losses).toHaveLength(8);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]!);
    expect(r.accuracies.at(-1)!).toBeGreaterThan(0.6);
  });

  it('the compiled third derivative agrees with a finite difference of the second', () => {
    const s = symbolicDemo(0.5);
    expect(s.derivatives).toHaveLength(3);
    expect(Math.abs(s.third - s.thirdByFD)).toBeLessThan(1e-6 * Math.abs(s.third));
  });
});
