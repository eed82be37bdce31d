import { ArgumentError, describeValue } from '@gradkit/kernels';

let enabled = true;

/** True while operations record a graph for autograd (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with gradient recording switched on or off, restoring the previous mode afterwards
 * (also when `fn` throws).
 */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new ArgumentError(
      on ? 'enableGrad' : 'noGrad',
      `argument 'fn' must be a function, got ${describeValue(fn)}`,
    );
  }
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` without recording a graph (like `torch.no_grad()`): results do not require grad. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, even inside {@link noGrad} (like `torch.enable_grad()`). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
