/**
 * A second look at a safetensors header that `JSON.parse` accepted, for what `JSON.parse` hides:
 *
 * - a key that occurs twice in one object (`JSON.parse` silently keeps the last one, so the header would be
 *   ambiguous: another reader could take the first);
 * - a number that is not written as an integer (`16.0`, `1e1`): every number of a valid header is a shape
 *   entry or a data offset, and Python's reader refuses fractions and exponents there.
 *
 * The scanner walks the text once with an explicit stack (no recursion, so no nesting depth can overflow
 * the call stack). It relies on the text being valid JSON, so run it only after `JSON.parse` succeeded.
 */

interface Frame {
  /** True for an object, false for an array. */
  readonly object: boolean;
  /** Keys seen so far (objects only). */
  readonly keys: Set<string>;
  /** Where the frame is, for messages (`at the top level`, `in entry "0.bias", field "shape"`). */
  readonly where: string;
  /** Whether the next string in this object is a key. */
  expectKey: boolean;
  /** The last key read, naming the value that follows. */
  lastKey: string;
}

const INTEGER = /^-?[0-9]+$/;

/** The first defect `JSON.parse` let through (a duplicate key, a non-integer number), or null. */
export function findHeaderDefect(text: string): string | null {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const top = stack[stack.length - 1];
    if (c === '{' || c === '[') {
      const where =
        top === undefined
          ? 'at the top level'
          : !top.object
            ? top.where
            : stack.length === 1
              ? `in entry ${JSON.stringify(top.lastKey)}`
              : `${top.where}, field ${JSON.stringify(top.lastKey)}`;
      stack.push({ object: c === '{', keys: new Set(), where, expectKey: c === '{', lastKey: '' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      if (top?.object) top.expectKey = true;
      i++;
    } else if (c === ':') {
      if (top) top.expectKey = false;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top?.object && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return `duplicate key ${JSON.stringify(key)} ${top.where}`;
        top.keys.add(key);
        top.lastKey = key;
      }
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      if (!INTEGER.test(token)) {
        return `number ${token} ${top?.where ?? 'at the top level'} that is not written as an integer`;
      }
      i = j;
    } else i++; // whitespace and the letters of true, false, null
  }
  return null;
}
