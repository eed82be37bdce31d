import { describe, expect, it } from 'vitest';
import { ArgumentError, checkOptionKeys, describeValue, LruCache, ownValue } from '../src/index.js';

describe('LruCache', () => {
  it('keeps at most capacity entries and evicts the least recently used', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1).set('b', 2);
    expect(c.get('a')).toBe(1); // a is now most recent
    c.set('c', 3); // evicts b
    expect(c.has('b')).toBe(false);
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
    c.set('a', 10); // update keeps size
    expect(c.size).toBe(2);
    expect(c.get('a')).toBe(10);
    expect(c.delete('a')).toBe(true);
    c.clear();
    expect(c.size).toBe(0);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });

  it('records uses once it is full (before, nothing can be evicted): a hot entry then survives', () => {
    const c = new LruCache<string, number>(3);
    c.set('a', 1).set('b', 2);
    expect(c.get('a')).toBe(1); // not full: no reordering needed yet
    c.set('c', 3); // full now
    expect(c.get('a')).toBe(1); // a becomes the most recent
    c.set('d', 4); // evicts b, the least recently used
    expect(c.has('b')).toBe(false);
    expect(c.has('a')).toBe(true);
    c.set('e', 5); // evicts c
    expect(c.has('c')).toBe(false);
    expect([c.get('a'), c.get('d'), c.get('e')]).toEqual([1, 4, 5]);
  });
});

describe('own keys', () => {
  it('ownValue ignores inherited properties', () => {
    const proto = { scale: '(code)' };
    const obj = Object.create(proto) as Record<string, unknown>;
    expect(ownValue(obj, 'scale')).toBeUndefined();
    expect(ownValue({ scale: 2 }, 'scale')).toBe(2);
    expect(ownValue({}, '__proto__')).toBeUndefined();
    expect(ownValue({}, 'constructor')).toBeUndefined();
  });

  it('checkOptionKeys lists the valid keys for an unknown one', () => {
    expect(() => checkOptionKeys('focal', 'options', { gama: 5 }, ['gamma', 'alpha'])).toThrow(
      /focal: argument 'options' has an unknown key "gama"; valid keys: gamma, alpha/,
    );
    expect(() => checkOptionKeys('focal', 'options', 3, ['gamma'])).toThrow(ArgumentError);
    expect(() => checkOptionKeys('focal', 'options', [], ['gamma'])).toThrow(ArgumentError);
    expect(() => checkOptionKeys('f', 'o', { [Symbol('s')]: 1 }, ['gamma'])).toThrow(ArgumentError);
    expect(() => checkOptionKeys('focal', 'options', { gamma: 2 }, ['gamma'])).not.toThrow();
    expect(() => checkOptionKeys('focal', 'options', undefined, ['gamma'])).not.toThrow();
  });

  it('describeValue never runs user code', () => {
    const hostile = {
      toString() {
        throw new Error('ran');
      },
    };
    expect(describeValue(hostile)).toBe('Object');
    expect(describeValue(Object.create(null))).toBe('object');
    expect(describeValue(new Float32Array(2))).toBe('Float32Array');
    expect(describeValue('x'.repeat(100))).toContain('…');
    expect(describeValue(-0)).toBe('number -0');
  });
});
