import type { Expr } from '../expr/node.js';
import { PRIMITIVES } from '../expr/primitives.js';
import { LruCache } from '../util/lru.js';
import { checkKinds, type InputKind, indexVariables } from './js.js';
import { checkVariables, lower, namesKey } from './lowering.js';
import { type Dialect, straightLine } from './schedule.js';
import { WGSL_MATH_HELPERS, type WgslHelper } from './wgsl-math.js';

/**
 * WGSL code generation for the expression IR, and the library of WGSL helper functions (`gk_*`) that the
 * primitive table's `wgsl` templates and the kernel language's `Math` functions call.
 *
 * WGSL has no f64: everything here is f32. WGSL also leaves inf and NaN handling to the implementation
 * (a const-expression may not even produce them), so the helpers never rely on IEEE propagation: exponent
 * arguments are clamped, NaN tests look at the bits, and inf/NaN values come from a private variable's bits
 * (run-time values, never const-expressions).
 */

type Helper = WgslHelper;

const HELPERS: Readonly<Record<string, Helper>> = {
  ...WGSL_MATH_HELPERS,
  gk_special: {
    code: 'var<private> gk_special: vec2<u32> = vec2<u32>(0x7f800000u, 0x7fc00000u);',
    uses: [],
  },
  gk_inf: { code: 'fn gk_inf() -> f32 { return bitcast<f32>(gk_special.x); }', uses: ['gk_special'] },
  gk_nan: { code: 'fn gk_nan() -> f32 { return bitcast<f32>(gk_special.y); }', uses: ['gk_special'] },
  gk_isnan: {
    code: 'fn gk_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
    uses: [],
  },
  // x !== 0 in JavaScript: true for NaN, false for both zeros.
  gk_nz: { code: 'fn gk_nz(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }', uses: [] },
  // JavaScript truthiness of a number: false for 0, -0 and NaN.
  gk_truthy: {
    code: 'fn gk_truthy(x: f32) -> bool {\n  let b = bitcast<u32>(x) & 0x7fffffffu;\n  return b != 0u && b <= 0x7f800000u;\n}',
    uses: [],
  },
  // 1 / (1 + e^-x) with e^-|x| only (never overflows); the clamp keeps exp's argument finite.
  gk_sigmoid: {
    code: `fn gk_sigmoid(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let e = gk_exp(-min(abs(x), 104.0f));
  let r = 1.0f / (1.0f + e);
  return select(e * r, r, x >= 0.0f);
}`,
    uses: ['gk_isnan', 'gk_exp'],
  },
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
  gk_softplus: {
    code: `fn gk_softplus(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  return max(x, 0.0f) + gk_log1p(gk_exp(-min(abs(x), 104.0f)));
}`,
    uses: ['gk_isnan', 'gk_log1p', 'gk_exp'],
  },
  // log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|).
  gk_logSigmoid: {
    code: `fn gk_logSigmoid(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  return min(x, 0.0f) - gk_log1p(gk_exp(-min(abs(x), 104.0f)));
}`,
    uses: ['gk_isnan', 'gk_log1p', 'gk_exp'],
  },
  // Math.pow semantics: exact repeated squaring for integer exponents up to 64, NaN for a negative base with
  // a fractional exponent, 0^y by sign of y, exp2(y log2 x) otherwise.
  gk_pow: {
    code: `fn gk_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (gk_isnan(x) || gk_isnan(y)) { return gk_nan(); }
  let integral = trunc(y) == y;
  if (integral && abs(y) <= 64.0f) {
    var b = x;
    var e = u32(abs(y));
    var r = 1.0f;
    loop {
      if (e == 0u) { break; }
      if ((e & 1u) == 1u) { r = r * b; }
      b = b * b;
      e = e >> 1u;
    }
    return select(r, 1.0f / r, y < 0.0f);
  }
  if (x == 0.0f) { return select(gk_inf(), 0.0f, y > 0.0f); }
  if (x < 0.0f) {
    if (!integral) { return gk_nan(); }
    let m = exp2(y * log2(-x));
    let odd = abs(y) < 16777216.0f && (trunc(y * 0.5f) * 2.0f != y);
    return select(m, -m, odd);
  }
  return exp2(y * log2(x));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_inf'],
  },
  // Math.round: halves round up (towards +inf), unlike WGSL's round-half-to-even.
  gk_round: {
    code: 'fn gk_round(x: f32) -> f32 {\n  let f = floor(x);\n  return select(f, f + 1.0f, x - f >= 0.5f);\n}',
    uses: [],
  },
  // JavaScript's a % b for floats (truncated remainder, sign of a); the correction steps undo the rounding of
  // a / b that would otherwise give a result off by one multiple of b.
  gk_fmod: {
    code: `fn gk_fmod(a: f32, b: f32) -> f32 {
  var r = a - b * trunc(a / b);
  let m = abs(b);
  if (abs(r) >= m) { r = r - b * trunc(r / b); }
  if (r != 0.0f && ((r < 0.0f) != (a < 0.0f))) { r = r + select(-m, m, a > 0.0f); }
  return r;
}`,
    uses: [],
  },
  // An integer remainder with JavaScript's result for a zero divisor (NaN).
  gk_imod: {
    code: 'fn gk_imod(a: i32, b: i32) -> f32 {\n  if (b == 0i) { return gk_nan(); }\n  return f32(a % b);\n}',
    uses: ['gk_nan'],
  },
};

/** The names of the WGSL helper functions (`gk_*`) that generated code may call. */
export const WGSL_HELPER_NAMES: readonly string[] = Object.freeze(Object.keys(HELPERS));

/**
 * The definitions of the `gk_*` helpers that `code` uses (and those they use), in dependency order, ready to
 * be prepended to a WGSL module.
 */
export function wgslSupport(code: string): string {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    done.add(name);
    const h = HELPERS[name]!;
    for (const u of h.uses) visit(u);
    out.push(h.code);
  };
  const used = code.match(/\bgk_[A-Za-z0-9]+/g) ?? [];
  for (const name of used) if (Object.hasOwn(HELPERS, name)) visit(name);
  return out.join('\n\n');
}

/**
 * A WGSL f32 literal for `v` (rounded to float32). Values that are not finite in float32 (NaN, ±inf, and
 * doubles beyond the float32 range) are written as calls of the run-time helpers `gk_nan()` / `gk_inf()`,
 * since WGSL refuses them in constant expressions.
 */
export function wgslLiteral(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'gk_nan()';
  if (f === Number.POSITIVE_INFINITY) return 'gk_inf()';
  if (f === Number.NEGATIVE_INFINITY) return '(-gk_inf())';
  if (Object.is(f, -0)) return '(-0.0f)';
  const s = String(f);
  return f < 0 ? `(${s}f)` : `${s}f`;
}

/** A WGSL i32 literal. */
export function wgslIntLiteral(v: number): string {
  return v < 0 ? `(${v}i)` : `${v}i`;
}

/** The WGSL dialect for {@link straightLine}: f32 values, `let` temporaries, the primitive table's templates. */
export function wgslDialect(variable: (name: string) => string): Dialect {
  return {
    literal: wgslLiteral,
    variable,
    primitive: (op, args) => PRIMITIVES[op].wgsl(...args),
    declare: (name, code) => `let ${name} = ${code};`,
  };
}

/** The workgroup size of generated compute shaders (threads along x). */
export const WORKGROUP_SIZE = 64;

/** A WGSL compute shader for a fused elementwise expression, and how to bind it. */
export interface WgslElementwise {
  /** The complete WGSL module; entry point `main`. */
  readonly code: string;
  /** The variable names, in the order of the kernel's inputs. */
  readonly variables: readonly string[];
  /** For each input, whether it is read per element or is one scalar. */
  readonly kinds: readonly InputKind[];
  /** How many outputs the shader writes. */
  readonly outputs: number;
  /**
   * Binding layout (group 0): binding 0 is a uniform `array<vec4<u32>, paramVec4s>` holding the element count
   * in `[0].x` and scalar input `k` (in input order among the scalars) as f32 bits in `[1 + k / 4][k % 4]`;
   * bindings 1.. are the array inputs (read-only storage, `array<f32>`) in input order, then the outputs
   * (read-write storage).
   */
  readonly paramVec4s: number;
}

/**
 * Compiles several expressions into ONE WGSL compute shader (the WGSL twin of `compileElementwise`): thread
 * `i` reads element `i` of every array input (or the scalar), computes all outputs sharing their common
 * subexpressions, and stores them. Dispatch `ceil(n / 64)` workgroups along x (spread over y when that
 * exceeds the per-dimension limit; the shader linearises `x + y * 64 * numWorkgroups.x`).
 *
 * @param variables - the variable names, in the order of the kernel's inputs
 * @param kinds - for each variable, whether it is read per element or as one scalar
 * @param splat - for each variable (default: none), whether its array is a one-element buffer that every
 *   thread reads at index 0 (a size-1 tensor broadcast on the device, where it cannot be a uniform scalar)
 * @throws ArgumentError when the expression uses a variable that is not listed
 */
export function compileElementwiseWgsl(
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  splat: readonly boolean[] = [],
): WgslElementwise {
  const op = 'compileElementwiseWgsl';
  const lowered = lower(op, outputs);
  checkVariables(op, variables);
  checkKinds(op, kinds, variables);
  // WGSL shaders keep their constants as literals (f32, folded by the shader compiler): the key is the
  // structure plus the exact constant values.
  let values = '';
  for (let i = 0; i < lowered.params.length; i++) {
    const v = lowered.params[i]!;
    values += `${i > 0 ? ',' : ''}${Object.is(v, -0) ? '-0' : String(v)}`;
  }
  const splats = variables.map((_, i) => splat[i] === true && kinds[i] === 'array');
  const key = `${lowered.key}\u0000${namesKey(variables)}\u0000${kinds.join(',')}\u0000${values}\u0000${splats.map(Number).join('')}`;
  const hit = wgslCache.get(key);
  if (hit !== undefined) return hit;
  const made = generateWgsl(op, lowered.outputs, [...variables], [...kinds], splats);
  wgslCache.set(key, made);
  return made;
}

/** Generated shaders by structure, variables, kinds and constant values. Capacity: 256 shaders. */
const WGSL_CAPACITY = 256;
const wgslCache = new LruCache<string, WgslElementwise>(WGSL_CAPACITY);

function generateWgsl(
  op: string,
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
  splats: readonly boolean[],
): WgslElementwise {
  const index = indexVariables(op, outputs, variables);
  const body = straightLine(
    outputs,
    wgslDialect((name) => `v${index.get(name)!}`),
  );
  const decls: string[] = ['@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, PARAMS>;'];
  const loads: string[] = [];
  let binding = 1;
  let scalar = 0;
  variables.forEach((_, i) => {
    if (kinds[i] === 'array') {
      decls.push(`@group(0) @binding(${binding++}) var<storage, read> gk_in${i}: array<f32>;`);
      loads.push(`let v${i} = gk_in${i}[${splats[i] ? '0u' : 'i'}];`);
    } else {
      const slot = 1 + Math.floor(scalar / 4);
      loads.push(`let v${i} = bitcast<f32>(gk_p[${slot}][${scalar % 4}]);`);
      scalar++;
    }
  });
  outputs.forEach((_, k) => {
    decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> gk_out${k}: array<f32>;`);
  });
  const paramVec4s = 1 + Math.ceil(scalar / 4);
  const stores = body.results.map((r, k) => `gk_out${k}[i] = ${r};`);
  const main = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    `  let i = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;`,
    '  if (i >= gk_p[0].x) { return; }',
    ...[...loads, ...body.statements, ...stores].map((s) => `  ${s}`),
    '}',
  ].join('\n');
  const module = `${decls.join('\n').replace('PARAMS', String(paramVec4s))}\n\n${main}`;
  const support = wgslSupport(module);
  return Object.freeze({
    code: support ? `${support}\n\n${module}\n` : `${module}\n`,
    variables: Object.freeze(variables),
    kinds: Object.freeze(kinds),
    outputs: outputs.length,
    paramVec4s,
  });
}
