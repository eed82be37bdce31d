import {
  ArgumentError,
  fuse,
  fuseInPlace,
  fuseMany,
  noGrad,
  primitiveOp,
  symbol,
  tensor,
} from '@gradkit/autograd';
import { describe, expect, it } from 'vitest';

describe('fused functions trace with reserved input names', () => {
  it("a captured symbol('x0') is refused, not silently read as input 0", () => {
    const captured = symbol('x0');
    expect(() => fuse((x) => x.add(captured))).toThrow(/symbol\(s\) x0 that are not its parameters/);
    expect(() => fuseMany((x) => [x, x.mul(captured)])).toThrow(ArgumentError);
    expect(() => fuseInPlace((p, g) => p.sub(g.mul(captured)))).toThrow(ArgumentError);
  });

  it('a fused function still computes with its own inputs (labelled x0, x1)', () => {
    const f = fuse((a, b) => a.mul(b).add(1));
    expect(Array.from(f(tensor([1, 2]), tensor([3, 4])).data)).toEqual([4, 9]);
    const step = fuseInPlace((p, g, lr) => p.sub(g.mul(lr)));
    const p = tensor([1, 1]);
    noGrad(() => step(p, tensor([1, 2]), 0.5));
    expect(Array.from(p.data)).toEqual([0.5, 0]);
  });

  it('bad return values and arguments are typed errors, not TypeErrors', () => {
    expect(() => fuseMany((x) => x as never)).toThrow(/non-empty array of Values/);
    expect(() => fuseMany((_x) => [] as never)).toThrow(ArgumentError);
    expect(() => fuse((_x) => 'a' as never)).toThrow(/must return a Value/);
    expect(Array.from(fuse((_x) => 2 as never)(tensor([5, 6])).data)).toEqual([2, 2]);
    expect(() => primitiveOp('add', undefined as never)).toThrow(ArgumentError);
  });
});
