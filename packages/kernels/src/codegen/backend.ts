import { ArgumentError, StateError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { describeValue, ownValue } from '../util/own.js';
import { type WasmProgramSpec, wasmSupports } from '../wasm/generate.js';
import { runWasm, type WasmInput, wasmProgram, wasmSimdAvailable } from '../wasm/runtime.js';
import { compileElementwise, type ElementwiseKernel, type InputKind, type NumericArray } from './js.js';
import { boundKernel, type Lowered, lower, namesKey } from './lowering.js';
import {
  compileFusedReduce,
  compileStridedReduce,
  type FusedReduceKernel,
  type FusedReduceOptions,
  type StridedReduceKernel,
} from './reduce.js';
import { compileStrided, type StridedKernel } from './strided.js';

/**
 * A code generator for expression programs: each method compiles outputs over variables into a kernel of
 * the same signature as the JavaScript generator's function of the same role (`compileElementwise`,
 * `compileStrided`, `compileFusedReduce`, `compileStridedReduce`), so callers can swap backends freely.
 */
export interface ExpressionBackend {
  /** `'js'`, `'wasm'` or `'auto'`. */
  readonly name: ElementwiseBackendName;
  /** A flat elementwise loop (see `compileElementwise`). */
  elementwise(
    outputs: readonly Expr[],
    variables: readonly string[],
    kinds: readonly InputKind[],
  ): ElementwiseKernel;
  /** A broadcasting elementwise loop (see `compileStrided`). */
  strided(outputs: readonly Expr[], variables: readonly string[]): StridedKernel;
  /** A fused store-and-sum loop (see `compileFusedReduce`). */
  fusedReduce(
    outputs: readonly Expr[],
    variables: readonly string[],
    kinds: readonly InputKind[],
    options?: FusedReduceOptions,
  ): FusedReduceKernel;
  /** A fused store-and-sum loop over broadcast inputs (see `compileStridedReduce`). */
  stridedReduce(
    outputs: readonly Expr[],
    variables: readonly string[],
    options?: FusedReduceOptions,
  ): StridedReduceKernel;
}

/** The backends expression programs can run on (see {@link setElementwiseBackend}). */
export type ElementwiseBackendName = 'js' | 'wasm' | 'auto';

/** The JavaScript code generator: the float64 reference, and the fallback of the others. */
export const jsBackend: ExpressionBackend = Object.freeze({
  name: 'js' as const,
  elementwise: compileElementwise,
  strided: compileStrided,
  fusedReduce: compileFusedReduce,
  stridedReduce: compileStridedReduce,
});

/**
 * Below this many elements the `'auto'` backend runs JavaScript: a WebAssembly call costs its copies and a
 * few microseconds, which a short loop does not win back.
 */
export const AUTO_WASM_MIN_ELEMENTS = 1024;

function isF32(a: unknown): boolean {
  return a instanceof Float32Array;
}

/** Every array of the call is float32 (scalars are numbers, null outputs are skipped). */
function allFloat32(
  inputs: ReadonlyArray<NumericArray | number>,
  outputs: ReadonlyArray<NumericArray | null>,
): boolean {
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (typeof x !== 'number' && !isF32(x)) return false;
  }
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i];
    if (o !== null && !isF32(o)) return false;
  }
  return true;
}

/** The compiled programs of one kernel, by scalar-input pattern. */
type Programs = (scalar: readonly boolean[]) => ReturnType<typeof wasmProgram>;

function programsOf(
  lowered: Lowered,
  variables: readonly string[],
  store: readonly boolean[],
  sum: readonly boolean[],
): Programs {
  const base = `${lowered.key}\u0000${namesKey(variables)}\u0000${store.map(Number).join('')}\u0000${sum.map(Number).join('')}`;
  const held = new Map<string, NonNullable<ReturnType<typeof wasmProgram>>>();
  return (scalar) => {
    const flags = scalar.map(Number).join('');
    const hit = held.get(flags);
    if (hit !== undefined) return hit;
    const spec = (): WasmProgramSpec => ({
      outputs: lowered.outputs,
      slots: lowered.slots,
      paramCount: lowered.params.length,
      variables,
      scalar,
      store,
      sum,
    });
    const p = wasmProgram(`${base}\u0000${flags}\u0000f32`, spec);
    // Kept per kernel only once compiled (a pending or refused program is asked for again next time).
    if (p !== null && held.size < 8) held.set(flags, p);
    return p;
  };
}

/** The store and sum flags of options the JavaScript generator has already validated. */
function storeFlags(options: FusedReduceOptions, n: number): boolean[][] {
  const read = (name: 'store' | 'sum'): boolean[] => {
    const v = ownValue(options, name);
    return Array.isArray(v) ? v.map((x) => x === true) : new Array<boolean>(n).fill(false);
  };
  return [read('store'), read('sum')];
}

/** Contiguous row-major strides of `shape`. */
function sameAsContiguous(strides: readonly number[], shape: readonly number[]): boolean {
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! !== 1 && strides[d]! !== s) return false;
    s *= shape[d]!;
  }
  return true;
}

/** For broadcast inputs: what each becomes in a WebAssembly run (scalar, flat array or gathered). */
function stridedInputs(
  inputs: readonly NumericArray[],
  strides: readonly (readonly number[])[],
  shape: readonly number[],
): { values: WasmInput[]; scalar: boolean[] } {
  const values: WasmInput[] = [];
  const scalar: boolean[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const data = inputs[k]!;
    const st = strides[k]!;
    if (data.length === 1 || st.every((x) => x === 0)) {
      values.push(data[0]!);
      scalar.push(true);
    } else if (sameAsContiguous(st, shape)) {
      values.push(data);
      scalar.push(false);
    } else {
      values.push({ data, strides: st, shape });
      scalar.push(false);
    }
  }
  return { values, scalar };
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d]!;
  return n;
}

/**
 * The WebAssembly backend's kernels, running on WebAssembly where a call's arrays are all float32, the
 * program uses only primitives the generator implements (all but `erf`), and there are at least `min`
 * elements; everything else (float64 and mixed dtypes included) runs on the JavaScript kernel.
 */
function wasmKernels(name: 'wasm' | 'auto', min: number): ExpressionBackend {
  const ready = () => wasmSimdAvailable();
  return Object.freeze({
    name,
    elementwise(outputs, variables, kinds) {
      const js = compileElementwise(outputs, variables, kinds);
      const lowered = lower('compileElementwise', outputs);
      const variant = `${name}:elementwise\u0000${namesKey(variables)}\u0000${kinds.join(',')}`;
      return boundKernel(lowered, variant, (): ElementwiseKernel => {
        if (!wasmSupports(lowered.outputs)) return js;
        const all = lowered.outputs.map(() => true);
        const none = lowered.outputs.map(() => false);
        const programs = programsOf(lowered, variables, all, none);
        const scalar = kinds.map((k) => k === 'scalar');
        return (ins, outs, n) => {
          if (n >= min && n > 0 && ready() && allFloat32(ins, outs)) {
            const p = programs(scalar);
            if (p !== null && runWasm(p, lowered.params, ins, outs, n, null)) return;
          }
          js(ins, outs, n);
        };
      });
    },
    strided(outputs, variables) {
      const js = compileStrided(outputs, variables);
      const lowered = lower('compileStrided', outputs);
      const variant = `${name}:strided\u0000${namesKey(variables)}`;
      return boundKernel(lowered, variant, (): StridedKernel => {
        if (!wasmSupports(lowered.outputs)) return js;
        const all = lowered.outputs.map(() => true);
        const none = lowered.outputs.map(() => false);
        const programs = programsOf(lowered, variables, all, none);
        return (ins, strides, outs, shape) => {
          const n = sizeOf(shape);
          if (n >= min && n > 0 && ready() && allFloat32(ins, outs)) {
            const { values, scalar } = stridedInputs(ins, strides, shape);
            const p = programs(scalar);
            if (p !== null && runWasm(p, lowered.params, values, outs, n, null)) return;
          }
          js(ins, strides, outs, shape);
        };
      });
    },
    fusedReduce(outputs, variables, kinds, options = {}) {
      const js = compileFusedReduce(outputs, variables, kinds, options);
      const lowered = lower('compileFusedReduce', outputs);
      const [st, sm] = storeFlags(options, outputs.length);
      const variant = `${name}:fused\u0000${namesKey(variables)}\u0000${kinds.join(',')}\u0000${st.map(Number).join('')}\u0000${sm.map(Number).join('')}`;
      return boundKernel(lowered, variant, (): FusedReduceKernel => {
        if (!wasmSupports(lowered.outputs)) return js;
        const programs = programsOf(lowered, variables, st, sm);
        const scalar = kinds.map((k) => k === 'scalar');
        return (ins, outs, n, sums) => {
          if (n >= min && n > 0 && ready() && allFloat32(ins, outs)) {
            const p = programs(scalar);
            if (p !== null && runWasm(p, lowered.params, ins, outs, n, sums)) return;
          }
          js(ins, outs, n, sums);
        };
      });
    },
    stridedReduce(outputs, variables, options = {}) {
      const js = compileStridedReduce(outputs, variables, options);
      const lowered = lower('compileStridedReduce', outputs);
      const [st, sm] = storeFlags(options, outputs.length);
      const variant = `${name}:stridedReduce\u0000${namesKey(variables)}\u0000${st.map(Number).join('')}\u0000${sm.map(Number).join('')}`;
      return boundKernel(lowered, variant, (): StridedReduceKernel => {
        if (!wasmSupports(lowered.outputs)) return js;
        const programs = programsOf(lowered, variables, st, sm);
        return (ins, strides, outs, shape, sums) => {
          const n = sizeOf(shape);
          if (n >= min && n > 0 && ready() && allFloat32(ins, outs)) {
            const { values, scalar } = stridedInputs(ins, strides, shape);
            const p = programs(scalar);
            if (p !== null && runWasm(p, lowered.params, values, outs, n, sums)) return;
          }
          js(ins, strides, outs, shape, sums);
        };
      });
    },
  } satisfies ExpressionBackend);
}

/**
 * The WebAssembly SIMD backend: float32 programs run as generated WebAssembly (computing in float32 lanes
 * under the contract stated in `wasm/generate.ts`: not bit for bit the JavaScript kernels) at every size; float64 programs, mixed dtypes and programs with
 * `erf` run on the JavaScript generator, as does everything where WebAssembly SIMD is unavailable.
 */
export const wasmBackend: ExpressionBackend = wasmKernels('wasm', 1);

/** The default backend: {@link wasmBackend} for float32 calls of at least {@link AUTO_WASM_MIN_ELEMENTS}. */
export const autoBackend: ExpressionBackend = wasmKernels('auto', AUTO_WASM_MIN_ELEMENTS);

let selected: ElementwiseBackendName = 'auto';

/**
 * Chooses the backend of the tensor engine's elementwise ops and the losses' fused kernels: `'auto'` (the
 * default: WebAssembly SIMD for float32 work of at least {@link AUTO_WASM_MIN_ELEMENTS} elements where it is
 * available, JavaScript otherwise), `'wasm'` (WebAssembly for every float32 call) or `'js'` (the JavaScript
 * generator everywhere: float64 arithmetic, bit for bit the interpreter's values). Float64 programs always
 * run on JavaScript.
 *
 * @throws StateError when `'wasm'` is asked for where WebAssembly SIMD is unavailable
 * @throws ArgumentError on an unknown name
 */
export function setElementwiseBackend(backend: ElementwiseBackendName): void {
  if (backend === 'wasm' && !wasmSimdAvailable()) {
    throw new StateError(
      'setElementwiseBackend',
      "WebAssembly SIMD is not available in this environment; use 'js' or 'auto'",
    );
  }
  if (backend !== 'js' && backend !== 'wasm' && backend !== 'auto') {
    throw new ArgumentError(
      'setElementwiseBackend',
      `unknown backend ${describeValue(backend)}; expected 'wasm', 'js' or 'auto'`,
    );
  }
  selected = backend;
}

/** The backend setting (see {@link setElementwiseBackend}). */
export function elementwiseBackend(): ElementwiseBackendName {
  return selected;
}

/** Whether each output set is made of primitives the WebAssembly generator implements (by array identity). */
const supported = new WeakMap<readonly Expr[], boolean>();

/**
 * Whether the backend in use runs these float32 outputs over `n` elements as WebAssembly — the test its
 * kernels apply to a call whose arrays are all float32 — for callers choosing between ways of computing
 * whose float32 roundings differ (pass the same array each call: the answer is cached by its identity).
 *
 * @internal plumbing between gradkit's packages
 */
export function runsOnWasm(outputs: readonly Expr[], n: number): boolean {
  if (selected === 'js' || n < (selected === 'wasm' ? 1 : AUTO_WASM_MIN_ELEMENTS) || !wasmSimdAvailable()) {
    return false;
  }
  let ok = supported.get(outputs);
  if (ok === undefined) {
    ok = wasmSupports(outputs);
    supported.set(outputs, ok);
  }
  return ok;
}

/** The backend in use: the one {@link setElementwiseBackend} chose. */
export function expressionBackend(): ExpressionBackend {
  return selected === 'js' ? jsBackend : selected === 'wasm' ? wasmBackend : autoBackend;
}

export { wasmSimdAvailable };
