/**
 * Hostile user objects shared by the export-enumerating fuzz suites (autograd, nn, testing): objects whose
 * getters or proxy traps throw. What they throw is a {@link HostileError}, which the suites let propagate
 * unchanged (a user's own exception, as in PyTorch); any other untyped error is a bug.
 */

/** The error hostile user objects throw. */
export class HostileError extends Error {}

/** A factory of objects whose own enumerable property `key` throws when read. */
export function throwingGetter(key: string): () => object {
  return () => {
    const o = {};
    Object.defineProperty(o, key, {
      enumerable: true,
      get() {
        throw new HostileError(`getter ${key}`);
      },
    });
    return o;
  };
}

/** A factory of arrays holding `values` whose element 0 is a throwing getter. */
export function throwingArray(values: readonly number[]): () => unknown[] {
  return () => {
    const a = [...values];
    Object.defineProperty(a, 0, {
      get() {
        throw new HostileError('index getter');
      },
    });
    return a;
  };
}

/** A factory of proxies over `values` whose `length` and `[0]` (and, if asked, iterator) traps throw. */
export function hostileProxy(values: readonly number[], options: { iterator?: boolean } = {}): () => unknown {
  return () =>
    new Proxy([...values], {
      get(t, k) {
        if (k === 'length' || k === '0' || (options.iterator === true && k === Symbol.iterator)) {
          throw new HostileError('proxy trap');
        }
        return Reflect.get(t, k);
      },
    });
}
