/**
 * The page entry: runs the workload (workload.ts) and publishes the outcome as `window.__gradkitResult`, a
 * plain JSON object, also printed into the page. gradkit is imported dynamically so that a failure while
 * loading or initialising it (not only while running) is reported there too, with its stack.
 */
import type { PageResult } from './workload.js';

declare global {
  interface Window {
    /** Set once the page has finished, successfully or not. */
    __gradkitResult?: PageResult;
  }
}

function describe(e: unknown): NonNullable<PageResult['error']> {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack ?? '' };
  return { name: typeof e, message: String(e), stack: '' };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const result: PageResult = {
    userAgent: navigator.userAgent,
    training: null,
    matmul: null,
    kernels: null,
    loss: null,
    deviceTraining: null,
    error: null,
    ms: 0,
  };
  try {
    const { runWorkload } = await import('./workload.js');
    await runWorkload(result);
  } catch (e) {
    result.error = describe(e);
  }
  result.ms = performance.now() - t0;
  const out = document.getElementById('result');
  if (out) out.textContent = JSON.stringify(result, null, 2);
  window.__gradkitResult = result;
}

void main();
