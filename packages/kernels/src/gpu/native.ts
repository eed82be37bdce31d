import { ArgumentError, CompileError } from '../errors.js';
import { describeValue, ownValue } from '../util/own.js';
import type { KFunction } from './ir.js';
import { parseKernelSource } from './parse.js';

/**
 * GPU.js "native functions" are GLSL. gradkit runs every helper through its own kernel language on both
 * backends, so it accepts the simple subset of GLSL that has the same meaning in JavaScript and translates
 * it: `float`/`int`/`bool` parameters, locals and return types, `float(x)` and `int(x)` conversions, and the
 * scalar GLSL built-ins below. Anything else (vectors, matrices, samplers, `uniform`, integer division, the
 * preprocessor, several functions in one source) is a CompileError saying so — never a different result.
 */

/** GLSL built-ins with a JavaScript `Math` function of the same meaning on scalars. */
const GLSL_MATH: Readonly<Record<string, string>> = {
  abs: 'Math.abs',
  sign: 'Math.sign',
  floor: 'Math.floor',
  ceil: 'Math.ceil',
  trunc: 'Math.trunc',
  round: 'Math.round',
  min: 'Math.min',
  max: 'Math.max',
  sqrt: 'Math.sqrt',
  pow: 'Math.pow',
  exp: 'Math.exp',
  log: 'Math.log',
  log2: 'Math.log2',
  sin: 'Math.sin',
  cos: 'Math.cos',
  tan: 'Math.tan',
  asin: 'Math.asin',
  acos: 'Math.acos',
  sinh: 'Math.sinh',
  cosh: 'Math.cosh',
  tanh: 'Math.tanh',
  asinh: 'Math.asinh',
  acosh: 'Math.acosh',
  atanh: 'Math.atanh',
};

/** GLSL built-ins written as small kernel-language expressions (argument text is inserted by position). */
const GLSL_INLINE: Readonly<Record<string, (a: string[]) => string>> = {
  atan: (a) => (a.length === 2 ? `Math.atan2(${a[0]}, ${a[1]})` : `Math.atan(${a[0]})`),
  exp2: (a) => `Math.pow(2, ${a[0]})`,
  inversesqrt: (a) => `(1 / Math.sqrt(${a[0]}))`,
  fract: (a) => `((${a[0]}) - Math.floor(${a[0]}))`,
  mod: (a) => `((${a[0]}) - (${a[1]}) * Math.floor((${a[0]}) / (${a[1]})))`,
  clamp: (a) => `Math.min(Math.max(${a[0]}, ${a[1]}), ${a[2]})`,
  mix: (a) => `((${a[0]}) * (1 - (${a[2]})) + (${a[1]}) * (${a[2]}))`,
  step: (a) => `((${a[1]}) < (${a[0]}) ? 0 : 1)`,
  float: (a) => `(${a[0]})`,
  int: (a) => `Math.trunc(${a[0]})`,
};

const SCALAR = /^(float|int|bool)$/;

/**
 * Validates the `nativeFunctions` setting: an array of `{ name, source }` (GPU.js also gives them as an
 * object of such entries).
 *
 * @throws ArgumentError otherwise
 */
export function checkNativeList(value: unknown, op: string): { name: string; source: string }[] {
  if (value === undefined || value === null) return [];
  const entries: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'object'
      ? Object.keys(value).map((k) => ownValue(value, k))
      : [value];
  if (!Array.isArray(value) && typeof value !== 'object') {
    throw new ArgumentError(
      op,
      `'nativeFunctions' must be an array of { name, source }, got ${describeValue(value)}`,
    );
  }
  return entries.map((e, i) => {
    const name = e !== null && typeof e === 'object' ? ownValue(e, 'name') : undefined;
    const source = e !== null && typeof e === 'object' ? ownValue(e, 'source') : undefined;
    if (typeof name !== 'string' || typeof source !== 'string') {
      throw new ArgumentError(
        op,
        `nativeFunctions[${i}] must be { name: string, source: string }, got ${describeValue(e)}`,
      );
    }
    return { name, source };
  });
}

/**
 * Translates one GLSL function (the simple scalar subset described above) into the kernel language and parses
 * it as a helper named `name`.
 *
 * @throws ArgumentError when `name` or `source` is not a string
 * @throws CompileError for GLSL outside the supported subset
 */
export function parseNativeFunction(name: unknown, source: unknown, op: string): KFunction {
  if (typeof name !== 'string' || !/^[A-Za-z_]\w*$/.test(name)) {
    throw new ArgumentError(op, `a native function needs a name (an identifier), got ${describeValue(name)}`);
  }
  if (typeof source !== 'string') {
    throw new ArgumentError(
      op,
      `native function '${name}': the source must be GLSL text, got ${describeValue(source)}`,
    );
  }
  const refuse = (why: string): never => {
    throw new CompileError(op, `native function '${name}': ${why}`);
  };
  const text = source.replace(/\/\/[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  if (/#/.test(text)) refuse('preprocessor directives are not supported');
  const bad =
    /\b(vec[234]|ivec[234]|bvec[234]|mat[234]\w*|sampler\w*|uniform|varying|attribute|texture\w*|gl_\w+|discard|struct)\b/.exec(
      text,
    );
  if (bad) {
    refuse(
      `'${bad[1]}' is not supported: native functions may use only float, int and bool scalars ` +
        '(write vector code as a JavaScript helper with gpu.addFunction)',
    );
  }
  const head = /^\s*(float|int|bool|void)\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*\{([\s\S]*)\}\s*$/.exec(text);
  if (!head) refuse('expected one GLSL function: `float name(float a, ...) { ... }`');
  const [, ret, fname, paramText, body] = head as unknown as [string, string, string, string, string];
  if (ret === 'void') refuse('a native function must return float, int or bool');
  if (fname !== name) refuse(`the GLSL function is called '${fname}' but was registered as '${name}'`);
  if (/\b(float|int|bool)\s+[A-Za-z_]\w*\s*\(/.test(body)) refuse('define one function per native source');
  const params: string[] = [];
  const ints: string[] = [];
  for (const part of paramText
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== 'void')) {
    const m = /^(?:(?:in|const|highp|mediump|lowp)\s+)*(\w+)\s+([A-Za-z_]\w*)$/.exec(part);
    if (!m || !SCALAR.test(m[1]!))
      refuse(`parameter '${part}' is not supported (only float, int and bool parameters)`);
    params.push(m![2]!);
    if (m![1] === 'int') ints.push(m![2]!);
  }
  const localInts = [...body.matchAll(/\bint\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
  if ((ints.length > 0 || localInts.length > 0 || ret === 'int') && /[^/*]\/[^/*=]|\/=/.test(body)) {
    refuse('integer division (GLSL truncates int / int) is not supported in native functions; use float');
  }
  // Declarations: `float x = ...` → `let x = ...`. Conversions and built-ins → the kernel language.
  let js = body.replace(
    /\b(?:const\s+)?(?:highp\s+|mediump\s+|lowp\s+)?(float|int|bool)\s+(?=[A-Za-z_]\w*\s*(=|;|,))/g,
    'let ',
  );
  js = js.replace(/(\d+\.\d*|\.\d+|\d+)[fF]\b/g, '$1');
  js = rewriteCalls(js, refuse);
  // int parameters hold integers in GLSL (arguments are converted when the function is called).
  const conversions = ints.map((p) => `${p} = Math.trunc(${p});`).join(' ');
  const returnConversion = ret === 'int' ? (v: string) => `Math.trunc(${v})` : (v: string) => v;
  if (ret === 'int')
    js = js.replace(/\breturn\s+([^;]+);/g, (_, v: string) => `return ${returnConversion(v)};`);
  const fnSource = `function ${name}(${params.join(', ')}) { ${conversions} ${js} }`;
  try {
    return { ...parseKernelSource(fnSource, op), name };
  } catch (e) {
    if (e instanceof CompileError) {
      refuse(`this GLSL is outside the supported subset (${e.detail}); translated to: ${fnSource}`);
    }
    throw e;
  }
}

/** Rewrites GLSL built-in calls (innermost first) into kernel-language calls. */
function rewriteCalls(js: string, refuse: (why: string) => never): string {
  const OPEN = '\u0001';
  const CLOSE = '\u0002';
  const mark = (t: string) => t.replace(/\(/g, OPEN).replace(/\)/g, CLOSE);
  let out = js;
  for (let guard = 0; guard < 10000; guard++) {
    const m = /(?<![.\w])([A-Za-z_]\w*)?\s*\(([^()]*)\)/.exec(out);
    if (!m) break;
    const fn = m[1];
    const args = m[2]!;
    let rewritten: string;
    if (fn !== undefined && Object.hasOwn(GLSL_MATH, fn)) rewritten = `${GLSL_MATH[fn]}(${args})`;
    else if (fn !== undefined && Object.hasOwn(GLSL_INLINE, fn)) {
      rewritten = GLSL_INLINE[fn]!(splitTop(args, OPEN, CLOSE));
    } else rewritten = m[0];
    out = out.slice(0, m.index) + mark(rewritten) + out.slice(m.index + m[0].length);
    if (guard === 9999) refuse('the source is too deeply nested');
  }
  return out.replace(new RegExp(OPEN, 'g'), '(').replace(new RegExp(CLOSE, 'g'), ')');
}

/** Splits call arguments at the commas outside (already rewritten, marked) parentheses. */
function splitTop(args: string, open: string, close: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of args) {
    if (ch === open) depth++;
    else if (ch === close) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}
