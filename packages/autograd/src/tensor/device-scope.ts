/**
 * `tidy(fn)`: releases the WebGPU buffers of the temporaries a step creates as soon as it ends, instead of
 * when the garbage collector gets to them (which it does not hurry to do: it does not see GPU memory).
 */
import { ArgumentError, type DeviceArray } from '@gradkit/kernels';
import { currentRuntime } from './device.js';
import { checkTensor, Tensor } from './tensor.js';

/** How deep {@link tidy} looks into the returned value for tensors to keep (arrays and plain objects). */
const KEEP_DEPTH = 8;

function collect(value: unknown, into: Set<DeviceArray>, depth: number, seen: Set<object>): void {
  if (value instanceof Tensor) {
    const d = value.deviceArray;
    if (d !== null) into.add(d);
    return;
  }
  if (depth >= KEEP_DEPTH || typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const desc = Object.getOwnPropertyDescriptor(value, i);
      if (desc !== undefined && 'value' in desc) collect(desc.value, into, depth + 1, seen);
    }
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return;
  for (const key of Object.keys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (desc !== undefined && 'value' in desc) collect(desc.value, into, depth + 1, seen);
  }
}

/**
 * Runs `fn` and then releases the WebGPU buffer of every webgpu tensor created during it, except the
 * tensors it returns (found in the result itself, or in arrays and plain objects within it) and the
 * gradients stored on tensors (`.grad`, filled by `backward()`), like TensorFlow.js's `tf.tidy`. Use it
 * around a training step: `const loss = tidy(() => { const l = model(x).loss(y); l.backward(); return l; })`.
 * On the cpu (or before `initWebGPU()`) it just runs `fn`. Scopes nest: what an inner `tidy` returns belongs
 * to the outer one.
 *
 * A tensor created inside and used afterwards without being returned is disposed (reading it rejects with a
 * StateError); so is a graph recorded inside: run `backward()` inside the same `tidy` as the forward pass.
 *
 * @throws ArgumentError when `fn` is not a function, or returns a Promise (`fn` must be synchronous; its
 *   tensors are released before the error is thrown)
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new ArgumentError('tidy', `argument 'fn' must be a function, got ${typeof fn}`);
  }
  const rt = currentRuntime();
  if (rt === null) return fn();
  rt.beginScope();
  let result: T | undefined;
  const keep = new Set<DeviceArray>();
  try {
    result = fn();
    if (!(result instanceof Promise)) collect(result, keep, 0, new Set());
  } finally {
    rt.endScope(keep);
  }
  if (result instanceof Promise) {
    throw new ArgumentError(
      'tidy',
      "'fn' returned a Promise: tidy runs synchronous functions only (await outside it, and return the tensors to keep)",
    );
  }
  return result;
}

/**
 * Marks `t` to outlive every open {@link tidy} scope (like TensorFlow.js's `tf.keep`): state a step creates
 * and stores for later steps — an optimizer's moment estimates, a running statistic — would otherwise be
 * released when the step's `tidy` ends. Returns `t`. A no-op for cpu tensors or outside `tidy`.
 *
 * @throws ArgumentError when `t` is not a Tensor
 */
export function keep<T extends Tensor>(t: T): T {
  checkTensor('keep', 't', t);
  const d = t.deviceArray;
  if (d !== null) d.runtime.keep(d);
  return t;
}
