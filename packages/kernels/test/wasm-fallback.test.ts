/**
 * Where WebAssembly is missing (or refused), every backend runs the JavaScript generator: the module is loaded
 * afresh with `WebAssembly` removed from the global scope, and the WebAssembly backend's kernels then give the
 * JavaScript kernels' results bit for bit without compiling or running anything.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('forced JavaScript fallback', () => {
  it('without WebAssembly: wasm unavailable, setElementwiseBackend("wasm") refused, kernels run JavaScript', async () => {
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    const k = await import('@gradkit/kernels');
    expect(k.wasmSimdAvailable()).toBe(false);
    expect(() => k.setElementwiseBackend('wasm')).toThrow(k.StateError);
    expect(k.elementwiseBackend()).toBe('auto');
    const x = k.variable('x');
    const y = k.variable('y');
    const outs = [k.softplus(x), k.mul(k.sigmoid(x), y)];
    const n = 5000;
    const a = new Float32Array(n).map((_, i) => (i - 2500) / 100);
    const b = new Float32Array(n).map((_, i) => i % 3);
    for (const backend of [k.wasmBackend, k.autoBackend]) {
      const w = [new Float32Array(n), new Float32Array(n)];
      const j = [new Float32Array(n), new Float32Array(n)];
      const sw = new Float64Array(2);
      const sj = new Float64Array(2);
      const flags = { store: [true, true], sum: [true, false] };
      backend.fusedReduce(outs, ['x', 'y'], ['array', 'array'], flags)([a, b], w, n, sw);
      k.jsBackend.fusedReduce(outs, ['x', 'y'], ['array', 'array'], flags)([a, b], j, n, sj);
      expect(w).toEqual(j);
      expect(sw).toEqual(sj);
      const e = [new Float32Array(n)];
      backend.elementwise([outs[1]!], ['x', 'y'], ['array', 'array'])([a, b], e, n);
      expect(e[0]).toEqual(j[1]);
    }
    expect(k.wasmStats()).toEqual({
      compiled: 0,
      refused: 0,
      runs: 0,
      zeroCopyRuns: 0,
      parallelRuns: 0,
    });
  });
});
