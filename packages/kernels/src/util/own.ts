import { ArgumentError } from '../errors.js';

/**
 * Reads `key` from `obj` only when it is an own property: inherited properties (a polluted
 * `Object.prototype`, `__proto__`, `constructor`) never reach gradkit from user objects.
 */
export function ownValue(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Checks that an options object is a plain object whose own keys are all in `valid`.
 *
 * @param op - the function whose options these are (named in the error)
 * @param arg - the argument's name (e.g. `'options'`)
 * @param options - the user's object; `undefined` is accepted as "no options"
 * @param valid - the accepted keys
 * @throws ArgumentError when `options` is not an object, or has a key outside `valid` (the message lists
 *   the valid keys)
 */
export function checkOptionKeys(op: string, arg: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(op, `argument '${arg}' must be an object, got ${describeValue(options)}`);
  }
  for (const key of Reflect.ownKeys(options)) {
    if (typeof key !== 'string' || !valid.includes(key)) {
      throw new ArgumentError(
        op,
        `argument '${arg}' has an unknown key ${typeof key === 'string' ? JSON.stringify(key) : String(key)}; ` +
          `valid keys: ${valid.join(', ')}`,
      );
    }
  }
}

/** A short description of any value for error messages (never calls user code such as toString). */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  switch (typeof x) {
    case 'number':
      return `number ${Object.is(x, -0) ? '-0' : String(x)}`;
    case 'string':
      return `string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
    case 'boolean':
    case 'bigint':
      return `${typeof x} ${String(x)}`;
    case 'symbol':
      return 'symbol';
    case 'function':
      return 'function';
    default: {
      if (Array.isArray(x)) return `array of length ${x.length}`;
      const proto = Object.getPrototypeOf(x) as { constructor?: unknown } | null;
      const ctor = proto !== null && Object.hasOwn(proto, 'constructor') ? proto.constructor : undefined;
      return typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== ''
        ? ctor.name
        : 'object';
    }
  }
}
