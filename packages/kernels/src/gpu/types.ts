import { CompileError } from '../errors.js';
import type { AssignOp, BinaryOp, KExpr, KFunction, KStmt, MathName, Pos, ScalarType, Sym } from './ir.js';
import { constantValue } from './settings.js';

/** How a kernel argument (or helper parameter) is passed: one number, or an array of 1-3 dimensions. */
export type ParamType =
  | { readonly kind: 'scalar'; readonly type: ScalarType }
  /** `arg` is the kernel argument the array is bound to (helpers are specialised per binding). */
  | {
      readonly kind: 'array';
      readonly dims: 1 | 2 | 3;
      readonly arg: number;
      /** The size of the innermost dimension when it is 2-4 (a vector array), else 0. */
      readonly width: number;
    };

/** A function (the kernel or a helper) typed for one set of parameter types. */
export interface Specialization {
  /** Unique name for generated code. */
  readonly id: string;
  readonly fn: KFunction;
  readonly params: readonly ParamType[];
  readonly exprTypes: ReadonlyMap<KExpr, ScalarType>;
  readonly symTypes: ReadonlyMap<Sym, ScalarType>;
  readonly returnType: ScalarType;
  /** How many numbers each `return` gives: 1, or 2-4 for a vector (GPU.js's Array(2..4)). */
  readonly returnWidth: number;
  /** For vector returns: the components each `return` statement gives. */
  readonly vecReturns: ReadonlyMap<KStmt, readonly KExpr[]>;
  /** The specialization each helper call resolves to. */
  readonly targets: ReadonlyMap<KExpr, Specialization>;
  /** Whether the function (or a helper it calls) reads this.thread. */
  readonly usesThread: boolean;
}

/** Everything the backends need to emit one kernel. */
export interface TypedProgram {
  readonly kernel: Specialization;
  /** Helper specializations, callees before callers. */
  readonly helpers: readonly Specialization[];
  readonly constants: Readonly<Record<string, number>>;
  /** Helpers whose results are also written to an output of their own (createKernelMap): name → index. */
  readonly mapped: ReadonlyMap<string, number>;
}

const INT_MAX = 2 ** 31 - 1;

/** The type of a numeric constant: `int` for integers that fit 32 bits, else `float`. */
export function constantType(v: number): ScalarType {
  return Number.isInteger(v) && Math.abs(v) <= INT_MAX ? 'int' : 'float';
}

/** The least type holding both (`bool` < `int` < `float`). */
export function join(a: ScalarType, b: ScalarType): ScalarType {
  if (a === b) return a;
  if (a === 'float' || b === 'float') return 'float';
  return 'int';
}

function numeric(t: ScalarType): 'int' | 'float' {
  return t === 'float' ? 'float' : 'int';
}

const INT_PRESERVING: ReadonlySet<MathName> = new Set([
  'abs',
  'sign',
  'floor',
  'ceil',
  'round',
  'trunc',
  'min',
  'max',
]);

/** The result type of a Math function given its argument types. */
export function mathType(fn: MathName, args: readonly ScalarType[]): ScalarType {
  if (fn === 'imul' || fn === 'clz32') return 'int';
  if (INT_PRESERVING.has(fn) && args.every((a) => a !== 'float')) return 'int';
  return 'float';
}

/** Whether the divisor of an integer `%` is a known non-zero integer (then `%` stays an integer operation). */
export function nonZeroIntDivisor(e: KExpr, constants: Readonly<Record<string, number>>): boolean {
  if (e.k === 'num') return e.int && e.value !== 0;
  if (e.k === 'constant') {
    const v = constantValue(constants, e.name);
    return v !== undefined && constantType(v) === 'int' && v !== 0;
  }
  return false;
}

/** The result type of a binary operator. */
export function binaryType(op: BinaryOp, l: ScalarType, r: ScalarType, intDivisor: boolean): ScalarType {
  switch (op) {
    case '+':
    case '-':
    case '*':
      return numeric(l) === 'int' && numeric(r) === 'int' ? 'int' : 'float';
    case '%':
      return numeric(l) === 'int' && numeric(r) === 'int' && intDivisor ? 'int' : 'float';
    case '/':
    case '**':
      return 'float';
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>':
      return 'int';
    case '>>>':
      // An unsigned 32-bit result may exceed the int range.
      return 'float';
    default:
      return 'bool';
  }
}

/** Looks up helper functions by name. */
export type HelperTable = ReadonlyMap<string, KFunction>;

/**
 * Types a kernel for given argument types: infers each local's type (a fixpoint over assignments), checks
 * every use of arrays, constants and helpers, and specialises each helper for the types it is called with.
 *
 * @throws CompileError with the source position of the offending construct
 */
export function typeProgram(
  kernel: KFunction,
  params: readonly ParamType[],
  constants: Readonly<Record<string, number>>,
  helpers: HelperTable,
  op: string,
  mapped: ReadonlyMap<string, number> = new Map(),
): TypedProgram {
  const ctx = new Context(constants, helpers, op);
  const spec = ctx.specializeAll(kernel, params);
  for (const h of ctx.order) {
    if (h.returnWidth !== 1) {
      const at = [...h.vecReturns.keys()][0]?.pos;
      ctx.fail(at, 'helper functions return one number; only the kernel itself may return an array', h.fn);
    }
  }
  return { kernel: spec, helpers: ctx.order, constants, mapped };
}

/** The operator of a compound assignment (`+=` → `+`, `>>>=` → `>>>`). */
export function assignOperator(op: Exclude<AssignOp, '='>): BinaryOp {
  return op.slice(0, -1) as BinaryOp;
}

/** The most helpers that may be waiting on one another (f0 calls f1 calls ... f{N-1}). */
export const MAX_HELPER_DEPTH = 2000;

/** A helper specialization the function being typed needs first (thrown to the driver; not an error). */
class NeedSpecialization {
  constructor(
    readonly fn: KFunction,
    readonly params: readonly ParamType[],
    readonly key: string,
    readonly at: Pos,
  ) {}
}

interface Job {
  readonly fn: KFunction;
  readonly params: readonly ParamType[];
  readonly key: string;
  readonly kernel: boolean;
}

function specKey(fn: KFunction, params: readonly ParamType[]): string {
  return `${fn.name}(${params.map((p) => (p.kind === 'scalar' ? p.type : `a${p.dims}w${p.width}@${p.arg}`)).join(',')})`;
}

class Context {
  readonly cache = new Map<string, Specialization>();
  readonly order: Specialization[] = [];
  private counter = 0;

  constructor(
    readonly constants: Readonly<Record<string, number>>,
    readonly helpers: HelperTable,
    readonly op: string,
  ) {}

  fail(p: Pos | undefined, message: string, fn?: KFunction): never {
    // (fn's source gives the error its excerpt)
    const where = fn && fn.name !== 'kernel' ? ` (in helper '${fn.name}')` : '';
    throw new CompileError(this.op, `${message}${where}`, p, fn?.source);
  }

  /**
   * Types the kernel and, on demand, every helper specialization it reaches. Iterative: a function that calls
   * a helper not typed yet is set aside (its typing is abandoned), the helper is typed, and the function is
   * typed again; so deep helper chains use no call stack, and the pending jobs are exactly the call chain.
   */
  specializeAll(kernel: KFunction, params: readonly ParamType[]): Specialization {
    const rootKey = specKey(kernel, params);
    const jobs: Job[] = [{ fn: kernel, params, key: rootKey, kernel: true }];
    while (jobs.length > 0) {
      const job = jobs[jobs.length - 1]!;
      if (this.cache.has(job.key)) {
        jobs.pop();
        continue;
      }
      let spec: Specialization;
      try {
        const typer = new FunctionTyper(this, job.fn, job.params);
        spec = typer.run(
          job.kernel ? 'kernel' : `h${this.counter++}_${job.fn.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
        );
      } catch (e) {
        if (!(e instanceof NeedSpecialization)) throw e;
        if (jobs.some((j) => j.fn === e.fn)) {
          this.fail(
            e.at,
            `'${e.fn.name}' calls itself (directly or through other helpers): recursion is not supported because ` +
              'GPU threads have no call stack; rewrite it as a loop',
            job.fn,
          );
        }
        if (jobs.length >= MAX_HELPER_DEPTH) {
          this.fail(
            e.at,
            `helper functions call one another more than ${MAX_HELPER_DEPTH} levels deep; flatten the chain`,
            job.fn,
          );
        }
        jobs.push({ fn: e.fn, params: e.params, key: e.key, kernel: false });
        continue;
      }
      this.cache.set(job.key, spec);
      if (!job.kernel) this.order.push(spec);
      jobs.pop();
    }
    return this.cache.get(rootKey)!;
  }

  /**
   * The specialization of helper `fn` for `params`, when it is typed already.
   *
   * @throws NeedSpecialization (caught by {@link specializeAll}) when it is not
   */
  specialization(fn: KFunction, params: readonly ParamType[], at: Pos): Specialization {
    const key = specKey(fn, params);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    throw new NeedSpecialization(fn, params, key, at);
  }
}

class FunctionTyper {
  private readonly symTypes = new Map<Sym, ScalarType>();
  private readonly exprTypes = new Map<KExpr, ScalarType>();
  private readonly targets = new Map<KExpr, Specialization>();
  private returnType: ScalarType | undefined;
  private returnWidth: number | undefined;
  private readonly vecReturns = new Map<KStmt, readonly KExpr[]>();
  private changed = false;
  private final = false;
  private usesThread = false;

  constructor(
    private readonly ctx: Context,
    private readonly fn: KFunction,
    private readonly params: readonly ParamType[],
  ) {}

  private fail(p: Pos, message: string): never {
    return this.ctx.fail(p, message, this.fn);
  }

  run(id: string): Specialization {
    const { fn, params } = this;
    if (params.length !== fn.params.length) {
      this.fail(
        fn.params[0]?.pos ?? { line: 1, column: 0 },
        `'${fn.name}' takes ${fn.params.length} argument(s), got ${params.length}`,
      );
    }
    fn.params.forEach((sym, i) => {
      const p = params[i]!;
      if (p.kind === 'scalar') {
        if (sym.indexed) {
          this.fail(sym.pos, `'${sym.name}' is a number argument but is indexed like an array`);
        }
        this.symTypes.set(sym, p.type);
      } else if (sym.assigned) {
        this.fail(sym.pos, `'${sym.name}' is an array argument and cannot be assigned`);
      }
    });
    // Fixpoint: a variable's type is the join of everything assigned to it.
    for (let round = 0; round < 10; round++) {
      this.changed = false;
      this.returnType = undefined;
      this.returnWidth = undefined;
      this.stmts(fn.body);
      if (!this.changed) break;
    }
    this.final = true;
    this.returnType = undefined;
    this.returnWidth = undefined;
    this.stmts(fn.body);
    return {
      id,
      fn,
      params,
      exprTypes: this.exprTypes,
      symTypes: this.symTypes,
      returnType: this.returnType ?? 'float',
      returnWidth: this.returnWidth ?? 1,
      vecReturns: this.vecReturns,
      targets: this.targets,
      usesThread: this.usesThread,
    };
  }

  private bind(sym: Sym, t: ScalarType): void {
    const old = this.symTypes.get(sym);
    const next = old === undefined ? t : join(old, t);
    if (next !== old) {
      this.symTypes.set(sym, next);
      this.changed = true;
    }
  }

  private stmts(list: readonly KStmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: KStmt): void {
    switch (s.k) {
      case 'decl':
        this.bind(s.sym, this.value(s.init));
        break;
      case 'assign': {
        if (s.sym.kind === 'param' && this.params[s.sym.paramIndex]?.kind === 'array') {
          this.fail(s.pos, `'${s.sym.name}' is an array argument and cannot be assigned`);
        }
        const v = this.value(s.value);
        const cur = this.symTypes.get(s.sym) ?? v;
        let t: ScalarType;
        if (s.op === '=') t = v;
        else if (s.op === '/=' || s.op === '**=') t = 'float';
        else if (s.op === '%=') t = binaryType('%', cur, v, nonZeroIntDivisor(s.value, this.ctx.constants));
        else t = binaryType(assignOperator(s.op), cur, v, false);
        this.bind(s.sym, t);
        break;
      }
      case 'if':
        this.cond(s.test);
        this.stmts(s.consequent);
        if (s.otherwise) this.stmts(s.otherwise);
        break;
      case 'loop':
        this.stmts(s.init);
        if (s.test && s.form === 'for') this.cond(s.test);
        this.stmts(s.body);
        this.stmts(s.update);
        // A do-while tests after its body (which may give a variable its first value).
        if (s.test && s.form === 'do') this.cond(s.test);
        break;
      case 'block':
        this.stmts(s.body);
        break;
      case 'return': {
        const items = this.returnItems(s);
        let t: ScalarType | undefined;
        for (const item of items) {
          const it = this.value(item);
          t = t === undefined ? it : join(t, it);
        }
        this.returnType = this.returnType === undefined ? t : join(this.returnType, t!);
        const width = items.length;
        if (this.returnWidth !== undefined && this.returnWidth !== width) {
          this.fail(
            s.pos,
            `this returns ${width === 1 ? 'a number' : `${width} numbers`} but another return gives ` +
              `${this.returnWidth === 1 ? 'a number' : `${this.returnWidth} numbers`}; every return must give the same`,
          );
        }
        this.returnWidth = width;
        if (width > 1 && this.final) this.vecReturns.set(s, items);
        break;
      }
      case 'call':
        this.expr(s.call, false);
        break;
      default:
        break;
    }
  }

  private readonly rowReads = new Map<KStmt, KExpr[]>();

  /**
   * The values a `return` gives: its value, the items of an array literal, or for a row of a vector array
   * (`return a[i]` with `a` an Array1D(n) argument) the n reads `a[i][0..n-1]`.
   */
  private returnItems(s: Extract<KStmt, { k: 'return' }>): readonly KExpr[] {
    if (s.items) return s.items;
    const v = s.value;
    if (v.k !== 'index') return [v];
    const p = this.params[v.sym.paramIndex];
    if (p === undefined || p.kind !== 'array' || v.indices.length !== p.dims - 1) return [v];
    if (p.width === 0) {
      this.fail(
        v.pos,
        `'${v.sym.name}' is read with ${v.indices.length} index(es), which gives a row of its last dimension; ` +
          'a kernel may return a row only of 2, 3 or 4 numbers (GPU.js Array1D(n) / Array2D(n) arguments)',
      );
    }
    let reads = this.rowReads.get(s);
    if (reads === undefined || reads.length !== p.width) {
      reads = [];
      for (let c = 0; c < p.width; c++) {
        reads.push({
          k: 'index',
          sym: v.sym,
          indices: [...v.indices, { k: 'num', value: c, int: true, pos: v.pos }],
          pos: v.pos,
        });
      }
      this.rowReads.set(s, reads);
    }
    return reads;
  }

  /** Types an expression whose value is used as a number or stored. */
  private value(e: KExpr): ScalarType {
    return this.expr(e, false);
  }

  /** Types an expression used as a condition. */
  private cond(e: KExpr): ScalarType {
    return this.expr(e, true);
  }

  private expr(e: KExpr, boolContext: boolean): ScalarType {
    const t = this.infer(e, boolContext);
    if (this.final) this.exprTypes.set(e, t);
    return t;
  }

  private infer(e: KExpr, boolContext: boolean): ScalarType {
    switch (e.k) {
      case 'num':
        return e.int ? 'int' : 'float';
      case 'bool':
        return 'bool';
      case 'var': {
        const { sym } = e;
        if (sym.kind === 'param' && this.params[sym.paramIndex]?.kind === 'array') {
          this.fail(e.pos, `'${sym.name}' is an array argument; read its elements (${sym.name}[i]) instead`);
        }
        const t = this.symTypes.get(sym);
        if (t === undefined) this.fail(e.pos, `'${sym.name}' is used before it has a value`);
        return t;
      }
      case 'thread':
        this.usesThread = true;
        return 'int';
      case 'outsize':
        return 'int';
      case 'constant': {
        const v = constantValue(this.ctx.constants, e.name);
        if (v === undefined) {
          const known = Object.keys(this.ctx.constants);
          this.fail(
            e.pos,
            `this.constants.${e.name} is not set (constants: ${known.length ? known.join(', ') : 'none'}); ` +
              'pass it in the `constants` setting',
          );
        }
        return constantType(v);
      }
      case 'index': {
        const p = this.params[e.sym.paramIndex];
        if (p === undefined || p.kind !== 'array') {
          this.fail(e.pos, `'${e.sym.name}' is a number argument but is indexed like an array`);
        }
        if (e.indices.length !== p.dims) {
          this.fail(
            e.pos,
            `'${e.sym.name}' is a ${p.dims}-D array but is read with ${e.indices.length} index(es); ` +
              `index all ${p.dims} dimensions to read one number`,
          );
        }
        for (const i of e.indices) this.value(i);
        return 'float';
      }
      case 'unary': {
        if (e.op === '!') {
          this.cond(e.arg);
          return 'bool';
        }
        if (e.op === '~') {
          this.value(e.arg);
          return 'int';
        }
        return numeric(this.value(e.arg));
      }
      case 'binary': {
        const l = this.value(e.left);
        const r = this.value(e.right);
        if (e.strict && (l === 'bool') !== (r === 'bool')) {
          this.fail(
            e.pos,
            `'${e.op === '==' ? '===' : '!=='}' between a boolean and a number is ${e.op === '==' ? 'always false' : 'always true'} ` +
              'in JavaScript; compare numbers with numbers (e.g. (a > b ? 1 : 0) === 1) or use ==',
          );
        }
        return binaryType(e.op, l, r, nonZeroIntDivisor(e.right, this.ctx.constants));
      }
      case 'logical': {
        const l = this.cond(e.left);
        const r = this.cond(e.right);
        if (!boolContext && (l !== 'bool' || r !== 'bool')) {
          this.fail(
            e.pos,
            `'${e.op}' on numbers gives one of the numbers in JavaScript, which kernels do not support; use it in ` +
              'conditions, or on comparisons (a !== 0 && b !== 0)',
          );
        }
        return 'bool';
      }
      case 'cond': {
        this.cond(e.test);
        const a = this.expr(e.consequent, boolContext);
        const b = this.expr(e.otherwise, boolContext);
        return join(a, b);
      }
      case 'math':
        return mathType(
          e.fn,
          e.args.map((a) => this.value(a)),
        );
      case 'call':
        return this.call(e);
    }
  }

  private call(e: Extract<KExpr, { k: 'call' }>): ScalarType {
    const target = this.ctx.helpers.get(e.name);
    if (target === undefined) {
      this.fail(
        e.pos,
        `'${e.name}' is not a known function; add it with gpu.addFunction(${e.name}) (kernels cannot call ` +
          'functions from the surrounding scope)',
      );
    }
    if (target.params.length !== e.args.length) {
      this.fail(e.pos, `'${e.name}' takes ${target.params.length} argument(s), got ${e.args.length}`);
    }
    const types: ParamType[] = e.args.map((a) => {
      if (a.k === 'var' && a.sym.kind === 'param') {
        const p = this.params[a.sym.paramIndex];
        if (p?.kind === 'array') return p;
      }
      const t = this.value(a);
      return { kind: 'scalar', type: t };
    });
    const spec = this.ctx.specialization(target, types, e.pos);
    if (spec.usesThread) this.usesThread = true;
    if (this.final) this.targets.set(e, spec);
    return spec.returnType;
  }
}
