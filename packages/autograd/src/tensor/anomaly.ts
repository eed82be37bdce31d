/**
 * Anomaly detection, like `torch.autograd.detect_anomaly`: while it is on, every recorded op checks that it
 * did not turn finite inputs into NaN or ±inf, and every backward step checks that it did not turn finite
 * gradients into NaN or ±inf. The first such op throws a DomainError naming the op, the input/output index
 * and the shapes — and, for a backward step, where its forward op was called. It costs a scan of every result
 * (and a stack trace per recorded op), so use it to debug, not to train. Only ops that autograd records
 * (an input requires grad, grad mode on) are checked.
 */
import { ArgumentError, DomainError, describeValue } from '@gradkit/kernels';
import type { Storage } from './dtype.js';
import { fmt, type Shape } from './shape.js';

let enabled = false;

/** Turns anomaly detection on or off for everything that follows (see {@link detectAnomaly}). */
export function setDetectAnomaly(on: boolean): void {
  if (typeof on !== 'boolean') {
    throw new ArgumentError('setDetectAnomaly', `argument 'on' must be a boolean, got ${describeValue(on)}`);
  }
  enabled = on;
}

/** True while anomaly detection is on. */
export function isAnomalyEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with anomaly detection on (restoring the previous setting afterwards, also when `fn` throws):
 * the first op whose forward or backward produces a non-finite value from finite ones throws a DomainError
 * that names it. Wrap the forward pass and the `backward()` call.
 */
export function detectAnomaly<T>(fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new ArgumentError('detectAnomaly', `argument 'fn' must be a function, got ${describeValue(fn)}`);
  }
  const previous = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/** The index of the first non-finite element of `data`, or -1. */
export function firstNonFinite(data: Storage): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** A tensor-like for the checks: its elements and its shape. */
interface Checked {
  readonly data: Storage;
  readonly shape: Shape;
}

const shapes = (ts: readonly Checked[]): string => ts.map((t) => fmt(t.shape)).join(', ');

/**
 * Throws when an op turned finite inputs into a non-finite output (anomaly detection on).
 *
 * @throws DomainError naming the op, the output, the element and the shapes
 */
export function checkForward(op: string, inputs: readonly Checked[], outputs: readonly Checked[]): void {
  if (inputs.some((t) => firstNonFinite(t.data) >= 0)) return;
  outputs.forEach((o, k) => {
    const i = firstNonFinite(o.data);
    if (i < 0) return;
    throw new DomainError(
      op,
      `anomaly detected: output ${k} (shape ${fmt(o.shape)}) holds ${o.data[i]} at element ${i}, computed from finite inputs of shapes ${shapes(inputs) || '(none)'}`,
    );
  });
}

/**
 * Throws when a backward step turned finite output gradients into a non-finite input gradient.
 *
 * @param trace - where the forward op was called (a stack trace), if recorded
 * @throws DomainError naming the op's backward, the input, the element and the shapes
 */
export function checkBackward(
  op: string,
  upstream: readonly (Checked | null)[],
  grads: readonly (Checked | null | undefined)[],
  trace: string | undefined,
): void {
  if (upstream.some((g) => g !== null && firstNonFinite(g.data) >= 0)) return;
  grads.forEach((g, k) => {
    if (g === null || g === undefined) return;
    const i = firstNonFinite(g.data);
    if (i < 0) return;
    const from = trace === undefined ? '' : `\nThe forward op was called at:\n${trace}`;
    throw new DomainError(
      `${op}.backward`,
      `anomaly detected: the gradient of input ${k} (shape ${fmt(g.shape)}) holds ${g.data[i]} at element ${i}, computed from finite output gradients of shapes ${shapes(upstream.filter((u): u is Checked => u !== null)) || '(none)'}${from}`,
    );
  });
}

/** Where the current op was called from (for backward anomalies), without this module's frames. */
export function callerTrace(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  if (stack === undefined) return undefined;
  return stack.split('\n').slice(2).join('\n');
}
