/**
 * Values are not numbers to JavaScript: implicit conversions (conditions, comparisons, arithmetic, and
 * template strings of symbolic Values) throw a StateError pointing to `.gt()` / `whereValue`, as JAX refuses
 * to concretize a tracer; and `symbol()` can never alias a `value()` leaf.
 */
import {
  ArgumentError,
  fuse,
  StateError,
  symbol,
  tensor,
  type Value,
  value,
  valueGrad,
  whereValue,
} from '@gradkit/autograd';
import { describe, expect, it } from 'vitest';
import { expectOpError } from './helpers.js';

const asNumber = (v: Value) => v as unknown as number;

describe('implicit conversion of a Value', () => {
  it('a symbolic Value in a condition, comparison, arithmetic or template string throws, naming the fix', () => {
    const pt = symbol('pt');
    const uses: Array<() => unknown> = [
      () => (asNumber(pt) > 0.5 ? 1 : 2),
      () => +asNumber(pt),
      () => asNumber(pt) * 2,
      () => asNumber(pt) + 1,
      () => `${pt}`,
      () => Math.max(asNumber(pt), 0),
      () => pt.valueOf(),
      () => String(pt),
    ];
    for (const use of uses) expectOpError(use, StateError, 'Value', 'symbolic', '.gt(', 'whereValue');
    // toString stays available for printing.
    expect(pt.toString()).toContain('symbolic');
  });

  it('inside fuse tracing, a JavaScript branch on an input throws instead of baking in one branch', () => {
    expectOpError(
      () => fuse((x: Value) => (asNumber(x) > 0 ? x : x.neg())),
      StateError,
      'Value',
      'whereValue',
    );
    // The supported form: whereValue.
    const relu = fuse((x: Value) => whereValue(x.gt(0), x, 0));
    expect(relu(tensor([-1, 2])).tolist()).toEqual([0, 2]);
  });

  it('a concrete Value converts to a string, but not to a number (that would drop it from the graph)', () => {
    const a = value(2, 'a');
    expect(`${a}`).toContain('data=2');
    expectOpError(() => asNumber(a) * 3, StateError, 'Value', 'dropped from the graph', 'v.item()');
    expectOpError(() => asNumber(a) > 1, StateError, 'Value', 'v.item()');
    expect(a.item() > 1).toBe(true);
    expect(a.mul(3).data).toBe(6);
  });
});

describe('symbol() and value() leaves never alias', () => {
  it('refuses the reserved % prefix (the name of unnamed and labelled value() leaves)', () => {
    const leaf = value(3);
    expect(leaf.expr.name.startsWith('%')).toBe(true);
    expectOpError(() => symbol(leaf.expr.name), ArgumentError, 'symbol', "'%'");
    expectOpError(() => symbol('%1'), ArgumentError, 'symbol', 'reserved');
    expectOpError(() => symbol('%2:w'), ArgumentError, 'symbol');
    expectOpError(() => symbol(''), ArgumentError, 'symbol');
    expectOpError(() => symbol(3 as never), ArgumentError, 'symbol');
    expectOpError(() => value(1, {} as never), ArgumentError, 'value', 'label');
  });

  it('a symbol and a leaf with the same label stay separate variables with separate gradients', () => {
    const w = value(3, 'w');
    const s = symbol('w');
    expect(s.expr).not.toBe(w.expr);
    const [dw, ds] = valueGrad(w.mul(s), [w, s]);
    expect(dw!.expr).toBe(s.expr);
    expect(ds!.expr).toBe(w.expr);
  });
});
