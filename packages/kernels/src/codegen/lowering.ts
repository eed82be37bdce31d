import { ArgumentError, CompileError } from '../errors.js';
import { checkExprs, type Expr, topoSort } from '../expr/node.js';
import { type Runtime, runtime } from '../runtime.js';
import { LruCache } from '../util/lru.js';
import { describeValue } from '../util/own.js';

/**
 * A set of output expressions with its numeric literals taken out. Generated kernels are keyed by `key`, the
 * expression's *structure*: the DAG of primitives and variables (with its sharing), every constant node
 * replaced by a parameter slot. The constants' values travel separately in `params` and are passed to the
 * kernel at call time, so `x * 2`, `x * 3`, … `x * 99999` share ONE compiled kernel.
 *
 * What stays in the structure (and so still makes a separate kernel): which nodes are constants at all and
 * which of them are the same node (`x*c + y*c` shares one slot, `x*c + y*d` has two), and every rewrite the
 * builders already made from a constant's value — constant folding (`2 * 3` is the constant 6), the
 * derivative rules' simplifications (`a^1 = a`, `a^0 = 1`, `0 * a = 0`, `1 * a = a`, `-1 * a = -a`, and
 * `c - 1` folded in the derivative of `a^c`). Everything else, NaN and ±inf included, is a parameter: the
 * kernel reads the exact float64 value, so results are bit for bit those of the interpreter.
 */
export interface Lowered {
  /** The output expressions (a private copy). */
  readonly outputs: readonly Expr[];
  /** The structural key: nodes in dependency order, constants as slots, variable names JSON-quoted. */
  readonly key: string;
  /** The parameter slot of each constant node (slots in dependency order). */
  readonly slots: ReadonlyMap<Expr, number>;
  /** The value of each slot. */
  readonly params: Float64Array;
  /** Kernels already bound to `params`, by generator and variant (see {@link boundKernel}). */
  readonly bound: LruCache<string, unknown>;
}

/** Bound kernels kept per expression set: one per generator and input-kind variant in use (few in practice). */
const BOUND_CAPACITY = 16;

function lowerNow(outputs: readonly Expr[]): Lowered {
  const order = topoSort(outputs);
  const position = new Map<Expr, number>();
  const slots = new Map<Expr, number>();
  const values: number[] = [];
  const parts: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    position.set(n, i);
    if (n.isConst) {
      slots.set(n, values.length);
      values.push(n.value);
      parts.push('c');
    } else if (n.isVar) {
      parts.push(`v${JSON.stringify(n.name)}`);
    } else {
      let s = `${n.op}(`;
      for (let k = 0; k < n.args.length; k++) s += `${k > 0 ? ',' : ''}${position.get(n.args[k]!)!}`;
      parts.push(`${s})`);
    }
  }
  const key = `${parts.join(';')}|${outputs.map((o) => position.get(o)!).join(',')}`;
  return {
    outputs: [...outputs],
    key,
    slots,
    params: Float64Array.from(values),
    bound: new LruCache<string, unknown>(BOUND_CAPACITY),
  };
}

/** Lowerings by the identity of the caller's outputs array (interned specs pass the same array every call). */
const byArray = new WeakMap<readonly Expr[], Lowered>();
/**
 * Lowerings by the node ids of the outputs (ids are never reused), for callers that build a new array per
 * call. Capacity: 256 expression sets — more than the distinct loss/fused programs a training step uses.
 */
const LOWERED_CAPACITY = 256;
const byIds = new LruCache<string, Lowered>(LOWERED_CAPACITY);

function sameOutputs(a: readonly Expr[], b: readonly Expr[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The lowering of `outputs`, computed once per expression set: O(outputs) per call when it is cached, the
 * O(nodes) walk only the first time.
 *
 * @throws ArgumentError naming `op` when `outputs` is not an array of Expr
 */
export function lower(op: string, outputs: readonly Expr[]): Lowered {
  checkExprs(op, 'outputs', outputs);
  const held = byArray.get(outputs);
  if (held !== undefined && sameOutputs(held.outputs, outputs)) return held;
  let ids = '';
  for (let i = 0; i < outputs.length; i++) ids += `${i > 0 ? ',' : ''}${outputs[i]!.id}`;
  let lowered = byIds.get(ids);
  if (lowered === undefined) {
    lowered = lowerNow(outputs);
    byIds.set(ids, lowered);
  }
  byArray.set(outputs, lowered);
  return lowered;
}

/**
 * How many parameters a kernel copies into locals before its loop; further ones (huge expressions only) are
 * read from the parameter array where they are used, so the function's frame stays small.
 */
const PARAM_LOCALS = 256;

/**
 * The code of a constant node inside a kernel: the local `p<slot>` that the kernel's prologue loads from its
 * parameter array `P` (see {@link paramPrologue}), or `P[slot]` past the first {@link PARAM_LOCALS}.
 */
export function paramCode(lowered: Lowered): (node: Expr) => string {
  return (node) => {
    const slot = lowered.slots.get(node)!;
    return slot < PARAM_LOCALS ? `p${slot}` : `P[${slot}]`;
  };
}

/**
 * The kernel's prologue (before any loop): the parameter locals `p0, p1, …` copied from `P`, and the scratch
 * array of spilled temporaries when `scratch` is positive (see `StraightLine.scratch`).
 */
export function paramPrologue(lowered: Lowered, indent: string, scratch = 0): string[] {
  const lines: string[] = [];
  const locals = Math.min(lowered.params.length, PARAM_LOCALS);
  for (let i = 0; i < locals; i++) lines.push(`${indent}const p${i} = P[${i}];`);
  if (scratch > 0) lines.push(`${indent}const T = new Float64Array(${scratch});`);
  return lines;
}

/**
 * Checks a list of variable names: an array of distinct non-empty strings. The names never reach generated
 * code (kernels use `v<i>`); they are checked so that two different lists cannot be confused.
 *
 * @throws ArgumentError naming `op` otherwise
 */
export function checkVariables(op: string, variables: unknown): asserts variables is readonly string[] {
  if (!Array.isArray(variables)) {
    throw new ArgumentError(
      op,
      `argument 'variables' must be an array of names, got ${describeValue(variables)}`,
    );
  }
  const seen = new Set<string>();
  for (let i = 0; i < variables.length; i++) {
    const v: unknown = variables[i];
    if (typeof v !== 'string' || v.length === 0) {
      throw new ArgumentError(
        op,
        `argument 'variables[${i}]' must be a non-empty string, got ${describeValue(v)}`,
      );
    }
    if (seen.has(v)) {
      throw new ArgumentError(op, `argument 'variables' names ${JSON.stringify(v)} twice (at ${i})`);
    }
    seen.add(v);
  }
}

/** A cache key for a list of names that two different lists can never share (JSON quotes every name). */
export function namesKey(names: readonly string[]): string {
  // The tensor engine passes the same frozen arrays (a spec's variables) on every call: their key is computed
  // once. Other arrays may change between calls, so theirs is computed each time.
  if (!Object.isFrozen(names)) return JSON.stringify(names);
  let key = namesKeys.get(names);
  if (key === undefined) {
    key = JSON.stringify(names);
    namesKeys.set(names, key);
  }
  return key;
}

/** {@link namesKey} of frozen arrays, by identity. */
const namesKeys = new WeakMap<readonly string[], string>();

let compiledCount = 0;

/**
 * How many kernels the JavaScript code generators have compiled since the module was loaded (a monotonic
 * counter). Kernels are cached by expression structure, so this grows with the number of distinct
 * structures, not with the number of distinct constants: tests use it to check that caching works.
 */
export function compiledKernelCount(): number {
  return compiledCount;
}

/**
 * Compiles generated source (which may use the runtime object `R`) and returns what it returns. A source the
 * engine refuses (too large, nested too deeply) becomes a CompileError naming `op`.
 *
 * @throws CompileError when the JavaScript engine cannot compile the source
 */
export function buildKernel<T>(op: string, source: string): T {
  let made: T;
  try {
    made = new Function('R', source)(runtime satisfies Runtime) as T;
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e);
    throw new CompileError(
      op,
      `the generated kernel could not be compiled (${why}); the expression is too large`,
    );
  }
  compiledCount++;
  return made;
}

/**
 * A kernel of `lowered`'s structure bound to its parameter values, from the per-expression cache when it is
 * there: `make` compiles (or fetches from the structural cache) the generic kernel and binds it.
 */
export function boundKernel<T>(lowered: Lowered, variant: string, make: () => T): T {
  const hit = lowered.bound.get(variant) as T | undefined;
  if (hit !== undefined) return hit;
  const kernel = make();
  lowered.bound.set(variant, kernel);
  return kernel;
}
