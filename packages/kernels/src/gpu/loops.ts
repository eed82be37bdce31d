import type { KExpr, KStmt, LoopBound, ScalarType } from './ir.js';
import { constantValue } from './settings.js';

/**
 * Which loops the webgpu backend may run without a `loopMaxIterations` cap: a GPU cannot interrupt a thread
 * that never stops, so a loop runs uncapped only when its trip count is finite for every input, in the
 * backend's own arithmetic (i32 counters wrap at 2^31; f32 counters stop moving once the step is below half an
 * ulp). Everything else needs the cap.
 */

/** The largest |limit| + |step| of an i32 counter: far enough from 2^31 that it can never wrap. */
const INT_COUNTER_RANGE = 2 ** 30;
/** An f32 counter moves by at least 3/4 of its step while |value| <= 2^22 |step|. */
const FLOAT_COUNTER_SPAN = 2 ** 22;
const MIN_NORMAL_F32 = 2 ** -126;

/**
 * The value of an expression made only of literals, constants, arithmetic and Math functions, or undefined
 * when it depends on anything known only at run time (arguments, array elements, this.thread, this.output).
 */
export function foldConstant(e: KExpr, constants: Readonly<Record<string, number>>): number | undefined {
  switch (e.k) {
    case 'num':
      return e.value;
    case 'constant':
      return constantValue(constants, e.name);
    case 'unary': {
      if (e.op === '!') return undefined;
      const v = foldConstant(e.arg, constants);
      return v === undefined ? undefined : e.op === '-' ? -v : v;
    }
    case 'binary': {
      const l = foldConstant(e.left, constants);
      const r = l === undefined ? undefined : foldConstant(e.right, constants);
      if (l === undefined || r === undefined) return undefined;
      switch (e.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return l / r;
        case '%':
          return l % r;
        case '**':
          return l ** r;
        default:
          return undefined;
      }
    }
    case 'math': {
      const args: number[] = [];
      for (const a of e.args) {
        const v = foldConstant(a, constants);
        if (v === undefined) return undefined;
        args.push(v);
      }
      return (Math[e.fn] as (...a: number[]) => number)(...args);
    }
    default:
      return undefined;
  }
}

/**
 * Why a counting loop's trip count is not finite and known when the kernel is compiled (so that the webgpu
 * backend needs `loopMaxIterations` for it), or null when it is. Without `counterType` (before argument types
 * are known) only what does not depend on types is checked.
 *
 * @param bound - the loop's bound (null: not a counting loop)
 * @param counterType - the counter's type once typed (`int`: i32 on webgpu, else f32)
 * @param limitType - the limit's type once typed
 */
export function loopBoundProblem(
  bound: LoopBound | null,
  constants: Readonly<Record<string, number>>,
  counterType?: ScalarType,
  limitType?: ScalarType,
): string | null {
  if (bound === null) return 'this loop has no bound known before it starts';
  const limit = foldConstant(bound.limit, constants);
  if (limit === undefined) {
    return (
      "this loop's limit is not known when the kernel is compiled (it depends on an argument, an array " +
      'element, this.thread or this.output), so a hostile value could make it run for ever'
    );
  }
  if (!Number.isFinite(limit)) return `this loop's limit is ${limit}, not a finite number`;
  if (counterType === undefined) return null;
  const { step } = bound;
  // An i32 counter from any start reaches a limit well inside the i32 range without wrapping.
  if (counterType !== 'float') return intCounterProblem(bound, constants, counterType, limitType ?? 'float');
  // An f32 counter: the start must be known too, and every step must move it.
  const start = bound.start === null ? undefined : foldConstant(bound.start, constants);
  if (start === undefined || !Number.isFinite(start)) {
    return "this loop's counter is a float whose start is not known when the kernel is compiled";
  }
  const s = Math.abs(Math.fround(step));
  const span = Math.max(Math.abs(Math.fround(start)), Math.abs(Math.fround(limit))) + s;
  if (s < MIN_NORMAL_F32 || span > s * FLOAT_COUNTER_SPAN) {
    return (
      `this loop's float counter cannot advance reliably in float32 (step ${step} from ${start} to ${limit}); ` +
      'use an integer counter'
    );
  }
  return null;
}

/**
 * Why a counting loop's integer counter could wrap around in i32 arithmetic (where JavaScript's would not), or
 * null. Its limit is a compile-time number beyond +-2^30 (or infinite) and, when the loop is capped at `cap`
 * iterations, the counter can get beyond 2^31 - 1 within the cap. Checked on webgpu with or without a cap,
 * since a wrapped counter gives a different answer even when the cap stops the loop.
 */
export function intCounterProblem(
  bound: LoopBound | null,
  constants: Readonly<Record<string, number>>,
  counterType: ScalarType,
  limitType: ScalarType,
  cap?: number,
): string | null {
  if (bound === null || counterType === 'float') return null;
  const limit = foldConstant(bound.limit, constants);
  if (limit === undefined || Number.isNaN(limit)) return null;
  const L = limitType === 'float' ? Math.fround(limit) : limit;
  if (Math.abs(L) + Math.abs(bound.step) <= INT_COUNTER_RANGE) return null;
  if (cap !== undefined) {
    const start = bound.start === null ? undefined : foldConstant(bound.start, constants);
    if (start !== undefined && Math.abs(start) + cap * Math.abs(bound.step) <= 2 ** 31 - 1) return null;
  }
  return (
    `this loop's integer counter could pass the 32-bit range (limit ${limit}, step ${bound.step}), ` +
    'where the webgpu backend (i32) wraps around and JavaScript does not'
  );
}

/** The first loop in `stmts` (outermost first) for which `problem` gives a reason, with the reason. */
export function findLoop(
  stmts: readonly KStmt[],
  problem: (loop: Extract<KStmt, { k: 'loop' }>) => string | null,
): { loop: Extract<KStmt, { k: 'loop' }>; reason: string } | null {
  for (const s of stmts) {
    let found: { loop: Extract<KStmt, { k: 'loop' }>; reason: string } | null = null;
    if (s.k === 'loop') {
      const reason = problem(s);
      if (reason !== null) return { loop: s, reason };
      found = findLoop(s.body, problem);
    } else if (s.k === 'if') {
      found = findLoop(s.consequent, problem) ?? (s.otherwise ? findLoop(s.otherwise, problem) : null);
    } else if (s.k === 'block') {
      found = findLoop(s.body, problem);
    }
    if (found !== null) return found;
  }
  return null;
}
