import { jsLiteral } from '../codegen/schedule.js';
import { CompileError } from '../errors.js';
import type { KExpr, KStmt, ScalarType, Sym } from './ir.js';
import { dependsOnThread, forEachExpr, reachableHelpers, symName } from './names.js';
import { inlinedConstant } from './settings.js';
import { assignOperator, binaryType, type Specialization, type TypedProgram } from './types.js';

/** A kernel argument as the generated JavaScript receives it: a number, or flat data with its shape. */
export type JsArgument = number | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

/**
 * The generated JavaScript of a kernel: fills `out` (row-major, x fastest) for every thread of an
 * `X × Y × Z` output.
 */
export type JsKernelRun = (
  args: readonly JsArgument[],
  out: Float32Array | Float64Array,
  X: number,
  Y: number,
  Z: number,
  /** The outputs of mapped helpers (createKernelMap), one element per thread each. */
  maps: readonly (Float32Array | Float64Array)[],
  /** The seed of this call's Math.random stream (a 32-bit unsigned integer). */
  seed: number,
) => void;

/** Options of {@link emitJs}. */
export interface EmitJsOptions {
  /** Stop every loop after this many iterations (undefined: no limit). */
  readonly loopMaxIterations?: number | undefined;
  /** Allow the loop-interchanged code path for reductions (default true). */
  readonly interchange?: boolean;
}

const ACCESSORS = `function gk_rd1(a, d0, i) { return i >= 0 && i < d0 ? a[i] : NaN; }
function gk_rd2(a, d0, d1, i, j) { return i >= 0 && i < d0 && j >= 0 && j < d1 ? a[i * d1 + j] : NaN; }
function gk_rd3(a, d0, d1, d2, i, j, k) {
  return i >= 0 && i < d0 && j >= 0 && j < d1 && k >= 0 && k < d2 ? a[(i * d1 + j) * d2 + k] : NaN;
}
function gk_int(v) { return Math.floor(v) === v ? v : NaN; }
let gk_rs = 0;
function gk_random() {
  gk_rs = (gk_rs + 0x6d2b79f5) | 0;
  let t = Math.imul(gk_rs ^ (gk_rs >>> 15), 1 | gk_rs);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}`;

const THREAD_PARAMS = 'gk_x, gk_y, gk_z, gk_X, gk_Y, gk_Z';

/**
 * Emits a kernel as one JavaScript function: loops over the output (x fastest), the kernel body inlined in
 * the innermost loop, typed-array reads with bounds checks (out-of-range or fractional indices read NaN, as
 * `undefined` would in plain JavaScript), helpers as plain functions. No allocation per element.
 *
 * When the kernel is a plain reduction (`let s = init; for (let i = a; i < b; i++) s += term; return f(s);`)
 * whose reads are contiguous along `this.thread.x`, the loops are interchanged (i outside x, an accumulator
 * row per y, x-invariant reads hoisted). Each output element still sums the same terms in the same order, so
 * results are bit-for-bit those of the plain loop.
 */
export function emitJs(
  program: TypedProgram,
  options: EmitJsOptions = {},
): { source: string; run: JsKernelRun } {
  const helpers = reachableHelpers(program);
  const parts: string[] = [ACCESSORS];
  const maps = [...program.mapped.values()];
  if (maps.length > 0) parts.push(`let gk_mv = 0;\nlet ${maps.map((i) => `gk_m${i} = null`).join(', ')};`);
  for (const h of helpers) parts.push(new JsFunctionEmitter(h, program, options).helper());
  parts.push(new JsFunctionEmitter(program.kernel, program, options).kernel());
  const source = `${parts.join('\n\n')}\n\nreturn gk_run;`;
  let run: JsKernelRun;
  try {
    run = new Function(source)() as JsKernelRun;
  } catch (e) {
    // The source is generated from a checked IR, so this is the engine's own limit (nesting, size).
    throw new CompileError(
      'kernel',
      `the JavaScript engine refused the generated code (${e instanceof Error ? e.message : 'unknown error'}); ` +
        'simplify the kernel (shorter expressions, fewer nested blocks)',
    );
  }
  return { source, run };
}

/** A loop cap as code: re-checked to be a positive integer, so nothing else reaches the source. */
function capLimit(max: number): string {
  if (!Number.isInteger(max) || max < 1) {
    throw new CompileError('kernel', `'loopMaxIterations' must be a positive integer, got ${String(max)}`);
  }
  return String(max);
}

function conv(code: string, from: ScalarType, to: ScalarType): string {
  if (from === to) return code;
  if (from === 'bool') return `(${code} ? 1 : 0)`;
  if (to === 'bool') return `!!(${code})`;
  return code;
}

interface Reduction {
  readonly sum: Sym;
  readonly init: KExpr;
  readonly loop: Extract<KStmt, { k: 'loop' }>;
  readonly term: KExpr;
  readonly ret: KExpr;
}

class JsFunctionEmitter {
  private readonly types: ReadonlyMap<KExpr, ScalarType>;
  /** Code that replaces an expression (hoisted values, direct row reads); consulted by expr(). */
  private replaced: Map<KExpr, string> | null = null;
  /** The label a kernel `return` continues. */
  private threadLabel = 'gk_thread';
  private loopCounter = 0;

  constructor(
    private readonly spec: Specialization,
    private readonly program: TypedProgram,
    private readonly options: EmitJsOptions,
  ) {
    this.types = spec.exprTypes;
  }

  private t(e: KExpr): ScalarType {
    return this.types.get(e) ?? 'float';
  }

  private symType(s: Sym): ScalarType {
    return this.spec.symTypes.get(s) ?? 'float';
  }

  private paramList(): string {
    const names: string[] = [];
    this.spec.fn.params.forEach((sym, i) => {
      const p = this.spec.params[i]!;
      if (p.kind === 'scalar') names.push(symName(sym));
      else {
        names.push(symName(sym));
        for (let d = 0; d < p.dims; d++) names.push(`${symName(sym)}_d${d}`);
      }
    });
    return names.join(', ');
  }

  helper(): string {
    const params = this.paramList();
    const body = this.block(this.spec.fn.body, '  ');
    return `function ${this.spec.id}(${THREAD_PARAMS}${params ? `, ${params}` : ''}) {\n${body}}`;
  }

  kernel(): string {
    const unpack: string[] = [];
    this.spec.fn.params.forEach((sym, i) => {
      const p = this.spec.params[i]!;
      const n = symName(sym);
      if (p.kind === 'scalar') {
        unpack.push(`let ${n} = gk_args[${i}];`);
      } else {
        unpack.push(`const ${n} = gk_args[${i}].data;`);
        for (let d = 0; d < p.dims; d++) unpack.push(`const ${n}_d${d} = gk_args[${i}].shape[${d}];`);
      }
    });
    const reduction =
      this.options.interchange === false || this.spec.returnWidth !== 1 || this.program.mapped.size > 0
        ? null
        : this.matchReduction();
    const loops = reduction ? this.reductionLoops(reduction) : this.plainLoops();
    return [
      'function gk_run(gk_args, gk_out, gk_X, gk_Y, gk_Z, gk_maps, gk_seed) {',
      '  gk_rs = gk_seed | 0;',
      ...[...this.program.mapped.values()].map((i) => `  gk_m${i} = gk_maps[${i}];`),
      ...unpack.map((l) => `  ${l}`),
      '  let gk_x = 0, gk_y = 0, gk_z = 0, gk_o = 0;',
      loops,
      '}',
    ].join('\n');
  }

  private plainLoops(): string {
    // Reads a[..][this.thread.x] whose other indices are the same for the whole row become direct typed-array
    // reads when, for this row, those indices are in range and the output row fits the array's last dimension.
    const rows = this.rowReads(this.spec.fn.body, (e) => this.rowInvariant(e));
    if (rows.reads.length === 0) {
      const general = this.block(this.spec.fn.body, '        ');
      return `  for (gk_z = 0; gk_z < gk_Z; gk_z++) {
    for (gk_y = 0; gk_y < gk_Y; gk_y++) {
      gk_o = (gk_z * gk_Y + gk_y) * gk_X;
      gk_thread: for (gk_x = 0; gk_x < gk_X; gk_x++, gk_o++) {
${general}      }
    }
  }`;
    }
    this.replaced = rows.direct;
    this.threadLabel = 'gk_thread_fast';
    const fast = this.block(this.spec.fn.body, '          ');
    this.replaced = null;
    this.threadLabel = 'gk_thread';
    const slow = this.block(this.spec.fn.body, '          ');
    return `  for (gk_z = 0; gk_z < gk_Z; gk_z++) {
    for (gk_y = 0; gk_y < gk_Y; gk_y++) {
      const gk_row = (gk_z * gk_Y + gk_y) * gk_X;
      ${rows.setup.join('\n      ')}
      if (${rows.fast}) {
        gk_o = gk_row;
        gk_thread_fast: for (gk_x = 0; gk_x < gk_X; gk_x++, gk_o++) {
${fast}        }
      } else {
        gk_o = gk_row;
        gk_thread: for (gk_x = 0; gk_x < gk_X; gk_x++, gk_o++) {
${slow}        }
      }
    }
  }`;
  }

  /** Whether an expression has the same value for every x of a row: thread y/z, constants, unassigned numbers. */
  private rowInvariant(e: KExpr): boolean {
    let ok = true;
    forEachExpr([{ k: 'call', call: e, pos: e.pos }], (x) => {
      if (x.k === 'thread' && x.axis === 0) ok = false;
      else if (x.k === 'var' && (x.sym.kind !== 'param' || x.sym.assigned)) ok = false;
      else if (x.k === 'index' || x.k === 'call') ok = false;
    });
    return ok;
  }

  /**
   * The reads `a[i][j][this.thread.x]` in `stmts` whose other indices satisfy `invariant`: per row, a setup
   * line computing each read's row offset (-1 when out of range), the condition under which all of them can
   * be read directly, and the direct-read code for each.
   */
  private rowReads(
    stmts: readonly KStmt[],
    invariant: (e: KExpr) => boolean,
  ): { reads: KExpr[]; setup: string[]; fast: string; direct: Map<KExpr, string> } {
    const reads: KExpr[] = [];
    const setup: string[] = [];
    const conds: string[] = [];
    const direct = new Map<KExpr, string>();
    const seen = new Map<string, string>();
    forEachExpr(stmts, (e) => {
      if (e.k !== 'index') return;
      const last = e.indices[e.indices.length - 1]!;
      if (last.k !== 'thread' || last.axis !== 0) return;
      const outer = e.indices.slice(0, -1);
      if (!outer.every(invariant)) return;
      const n = symName(e.sym);
      const D = e.indices.length;
      const idx = outer.map((i) => (this.t(i) === 'float' ? `gk_int(${this.expr(i)})` : this.num(i)));
      const key = `${n}|${idx.join('|')}`;
      let r = seen.get(key);
      if (r === undefined) {
        r = `gk_r${seen.size}`;
        seen.set(key, r);
        if (D === 1) setup.push(`const ${r} = 0;`);
        else {
          const names = idx.map((_, k) => `${r}_${k}`);
          idx.forEach((code, k) => {
            setup.push(`const ${names[k]} = ${code};`);
          });
          const check = names.map((v, k) => `${v} >= 0 && ${v} < ${n}_d${k}`).join(' && ');
          let off = names[0]!;
          for (let k = 1; k < D - 1; k++) off = `(${off} * ${n}_d${k} + ${names[k]})`;
          setup.push(`const ${r} = ${check} ? ${off} * ${n}_d${D - 1} : -1;`);
        }
        conds.push(`${r} >= 0 && gk_X <= ${n}_d${D - 1}`);
      }
      reads.push(e);
      direct.set(e, `${n}[${r} + gk_x]`);
    });
    return { reads, setup, fast: conds.join(' && ') || 'true', direct };
  }

  // ------------------------------------------------------------ reduction fast path

  private matchReduction(): Reduction | null {
    const body = this.spec.fn.body;
    if (body.length !== 3) return null;
    const [d, l, r] = body as [KStmt, KStmt, KStmt];
    if (d.k !== 'decl' || l.k !== 'loop' || r.k !== 'return') return null;
    if (l.form !== 'for' || !l.bounded || l.init.length !== 1 || l.body.length !== 1 || l.test === null)
      return null;
    const sum = d.sym;
    const counterDecl = l.init[0]!;
    if (counterDecl.k !== 'decl') return null;
    const a = l.body[0]!;
    if (a.k !== 'assign' || a.sym !== sum) return null;
    let term: KExpr;
    if (a.op === '+=') term = a.value;
    else if (
      a.op === '=' &&
      a.value.k === 'binary' &&
      a.value.op === '+' &&
      a.value.left.k === 'var' &&
      a.value.left.sym === sum
    ) {
      term = a.value.right;
    } else return null;
    const reads = (e: KExpr, s: Sym): boolean => {
      let found = false;
      forEachExpr([{ k: 'call', call: e, pos: e.pos }], (x) => {
        if (x.k === 'var' && x.sym === s) found = true;
      });
      return found;
    };
    if (reads(term, sum) || reads(l.test, sum) || reads(counterDecl.init, sum)) return null;
    if (dependsOnThread(l.test, 0, this.spec) || dependsOnThread(counterDecl.init, 0, this.spec)) return null;
    if (reads(r.value, counterDecl.sym)) return null;
    // Worth it only when the term's reads are contiguous along x and strided along the counter.
    let xInner = false;
    let counterOuter = false;
    let xOuter = false;
    forEachExpr([{ k: 'call', call: term, pos: term.pos }], (x) => {
      if (x.k !== 'index') return;
      x.indices.forEach((ix, k) => {
        const last = k === x.indices.length - 1;
        if (dependsOnThread(ix, 0, this.spec)) {
          if (last) xInner = true;
          else xOuter = true;
        }
        if (!last && reads(ix, counterDecl.sym)) counterOuter = true;
      });
    });
    if (!xInner || !counterOuter || xOuter) return null;
    return { sum, init: d.init, loop: l, term, ret: r.value };
  }

  private reductionLoops(red: Reduction): string {
    const { sum, loop } = red;
    const sumT = this.symType(sum);
    const counterDecl = loop.init[0] as Extract<KStmt, { k: 'decl' }>;
    const counter = symName(counterDecl.sym);
    const counterT = this.symType(counterDecl.sym);
    // Hoist the maximal x-invariant, non-trivial subexpressions of the term out of the x loop.
    const hoisted = new Map<KExpr, string>();
    const hoistLines: string[] = [];
    const visit = (e: KExpr): void => {
      if (!dependsOnThread(e, 0, this.spec)) {
        if (e.k === 'index' || e.k === 'math' || e.k === 'call' || e.k === 'binary' || e.k === 'cond') {
          const name = `gk_h${hoisted.size}`;
          hoistLines.push(`const ${name} = ${this.expr(e)};`);
          hoisted.set(e, name);
        }
        return;
      }
      switch (e.k) {
        case 'index':
          e.indices.forEach(visit);
          break;
        case 'unary':
          visit(e.arg);
          break;
        case 'binary':
        case 'logical':
          visit(e.left);
          visit(e.right);
          break;
        case 'cond':
          visit(e.test);
          visit(e.consequent);
          visit(e.otherwise);
          break;
        case 'math':
        case 'call':
          e.args.forEach(visit);
          break;
        default:
          break;
      }
    };
    visit(red.term);
    // Contiguous reads along x inside the x loop: direct when this (y, i) row is in range.
    const rows = this.rowReads(
      [{ k: 'call', call: red.term, pos: red.term.pos }],
      (e) => !dependsOnThread(e, 0, this.spec),
    );
    const accT = sumT === 'bool' ? 'int' : sumT;
    this.replaced = hoisted;
    const slowTerm = conv(this.expr(red.term), this.t(red.term), accT);
    const fastMap = new Map(hoisted);
    for (const [k, v] of rows.direct) if (!fastMap.has(k)) fastMap.set(k, v);
    this.replaced = fastMap;
    const fastTerm = conv(this.expr(red.term), this.t(red.term), accT);
    const rowSetup = rows.setup;
    this.replaced = null;
    const init = conv(this.expr(red.init), this.t(red.init), sumT);
    const start = conv(this.expr(counterDecl.init), this.t(counterDecl.init), counterT);
    const test = this.cond(loop.test!);
    const update = loop.update.map((u) => this.assignExpr(u as Extract<KStmt, { k: 'assign' }>)).join(', ');
    const ret = conv(this.expr(red.ret), this.t(red.ret), 'float');
    const max = this.options.loopMaxIterations;
    const capDecl = max === undefined ? '' : ', gk_itr = 0';
    const capLine = max === undefined ? '' : `if (gk_itr++ >= ${capLimit(max)}) break;\n        `;
    const inner =
      rows.reads.length === 0
        ? `for (gk_x = 0; gk_x < gk_X; gk_x++) gk_acc[gk_x] += ${slowTerm};`
        : `${rowSetup.join('\n        ')}
        if (${rows.fast}) {
          for (gk_x = 0; gk_x < gk_X; gk_x++) gk_acc[gk_x] += ${fastTerm};
        } else {
          for (gk_x = 0; gk_x < gk_X; gk_x++) gk_acc[gk_x] += ${slowTerm};
        }`;
    return `  const gk_acc = new Float64Array(gk_X);
  for (gk_z = 0; gk_z < gk_Z; gk_z++) {
    for (gk_y = 0; gk_y < gk_Y; gk_y++) {
      gk_o = (gk_z * gk_Y + gk_y) * gk_X;
      for (gk_x = 0; gk_x < gk_X; gk_x++) gk_acc[gk_x] = ${init};
      for (let ${counter} = ${start}${capDecl}; ${test}; ${update}) {
        ${capLine}${hoistLines.join('\n        ')}
        ${inner}
      }
      for (gk_x = 0; gk_x < gk_X; gk_x++) {
        const ${symName(sum)} = gk_acc[gk_x];
        gk_out[gk_o + gk_x] = ${ret};
      }
    }
  }`;
  }

  // ------------------------------------------------------------ statements

  private block(list: readonly KStmt[], ind: string): string {
    return list.map((s) => this.stmt(s, ind)).join('');
  }

  private stmt(s: KStmt, ind: string): string {
    switch (s.k) {
      case 'decl':
        return `${ind}let ${symName(s.sym)} = ${conv(this.expr(s.init), this.t(s.init), this.symType(s.sym))};\n`;
      case 'hoist':
        // Every read comes after an assignment (checked by the parser); the value here is never read.
        return `${ind}let ${symName(s.sym)} = 0;\n`;
      case 'assign':
        return `${ind}${this.assignExpr(s)};\n`;
      case 'if': {
        let out = `${ind}if (${this.cond(s.test)}) {\n${this.block(s.consequent, `${ind}  `)}${ind}}`;
        if (s.otherwise) out += ` else {\n${this.block(s.otherwise, `${ind}  `)}${ind}}`;
        return `${out}\n`;
      }
      case 'loop':
        return this.loop(s, ind);
      case 'break':
        return `${ind}break;\n`;
      case 'continue':
        return `${ind}continue;\n`;
      case 'return': {
        const isKernel = this.spec === this.program.kernel;
        const want = isKernel ? 'float' : this.spec.returnType;
        const items = this.spec.vecReturns.get(s);
        if (isKernel && items !== undefined) {
          const W = items.length;
          const writes = items.map(
            (it, c) => `gk_out[gk_o * ${W} + ${c}] = ${conv(this.expr(it), this.t(it), 'float')};`,
          );
          return `${ind}{ ${writes.join(' ')} continue ${this.threadLabel}; }\n`;
        }
        const v = conv(this.expr(s.value), this.t(s.value), want);
        return isKernel
          ? `${ind}{ gk_out[gk_o] = ${v}; continue ${this.threadLabel}; }\n`
          : `${ind}return ${v};\n`;
      }
      case 'block':
        return `${ind}{\n${this.block(s.body, `${ind}  `)}${ind}}\n`;
      case 'call':
        return `${ind}${this.expr(s.call)};\n`;
    }
  }

  private assignExpr(s: Extract<KStmt, { k: 'assign' }>): string {
    const n = symName(s.sym);
    const st = this.symType(s.sym);
    const vt = this.t(s.value);
    const v = this.expr(s.value);
    if (s.op === '=') return `${n} = ${conv(v, vt, st)}`;
    const ln = conv(n, st, st === 'bool' ? 'int' : st);
    const rn = conv(v, vt, vt === 'bool' ? 'int' : vt);
    if (s.op === '**=') return `${n} = Math.pow(${ln}, ${rn})`;
    const op = assignOperator(s.op);
    const rt = op === '/' ? 'float' : binaryType(op, st, vt, true);
    return `${n} = ${conv(`(${ln} ${op} ${rn})`, rt, st)}`;
  }

  private loop(s: Extract<KStmt, { k: 'loop' }>, ind: string): string {
    const inner = `${ind}  `;
    const init = this.block(s.init, inner);
    const max = this.options.loopMaxIterations;
    const cap = max !== undefined;
    const counter = `gk_it${this.loopCounter++}`;
    const capLine = cap ? `${inner}  if (${counter}++ >= ${capLimit(max)}) break;\n` : '';
    const capDecl = cap ? `${inner}let ${counter} = 0;\n` : '';
    const body = this.block(s.body, `${inner}  `);
    const test = s.test ? this.cond(s.test) : '';
    let loop: string;
    if (s.form === 'do') {
      loop = `${inner}do {\n${capLine}${body}${inner}} while (${test || 'true'});\n`;
    } else {
      const update = s.update.map((u) => this.assignExpr(u as Extract<KStmt, { k: 'assign' }>)).join(', ');
      loop = `${inner}for (; ${test}; ${update}) {\n${capLine}${body}${inner}}\n`;
    }
    return `${ind}{\n${init}${capDecl}${loop}${ind}}\n`;
  }

  // ------------------------------------------------------------ expressions

  private cond(e: KExpr): string {
    return conv(this.expr(e), this.t(e), 'bool');
  }

  private num(e: KExpr, want?: 'int' | 'float'): string {
    const t = this.t(e);
    return conv(this.expr(e), t, want ?? (t === 'bool' ? 'int' : t));
  }

  private expr(e: KExpr): string {
    const h = this.replaced?.get(e);
    if (h !== undefined) return h;
    switch (e.k) {
      case 'num':
        return jsLiteral(e.value);
      case 'bool':
        return e.value ? 'true' : 'false';
      case 'var':
        return symName(e.sym);
      case 'thread':
        return ['gk_x', 'gk_y', 'gk_z'][e.axis]!;
      case 'outsize':
        return ['gk_X', 'gk_Y', 'gk_Z'][e.axis]!;
      case 'constant':
        return jsLiteral(inlinedConstant(this.program.constants, e.name));
      case 'index': {
        const n = symName(e.sym);
        const dims = e.indices.map((_, d) => `${n}_d${d}`).join(', ');
        const idx = e.indices
          .map((i) => (this.t(i) === 'float' ? `gk_int(${this.expr(i)})` : this.num(i)))
          .join(', ');
        return `gk_rd${e.indices.length}(${n}, ${dims}, ${idx})`;
      }
      case 'unary':
        if (e.op === '!') return `(!${this.cond(e.arg)})`;
        return `(${e.op}${this.num(e.arg)})`;
      case 'binary': {
        const lt = this.t(e.left);
        const rt = this.t(e.right);
        if (e.op === '**') return `Math.pow(${this.num(e.left)}, ${this.num(e.right)})`;
        if (e.op === '==' || e.op === '!=') {
          const op = e.op === '==' ? '===' : '!==';
          if (lt === 'bool' && rt === 'bool') return `(${this.expr(e.left)} ${op} ${this.expr(e.right)})`;
          return `(${this.num(e.left)} ${op} ${this.num(e.right)})`;
        }
        return `(${this.num(e.left)} ${e.op} ${this.num(e.right)})`;
      }
      case 'logical':
        return `(${this.cond(e.left)} ${e.op} ${this.cond(e.right)})`;
      case 'cond': {
        const t = this.t(e);
        return `(${this.cond(e.test)} ? ${conv(this.expr(e.consequent), this.t(e.consequent), t)} : ${conv(this.expr(e.otherwise), this.t(e.otherwise), t)})`;
      }
      case 'math':
        if (e.fn === 'random') return 'gk_random()';
        return `Math.${e.fn}(${e.args.map((a) => this.num(a)).join(', ')})`;
      case 'call':
        return this.call(e);
    }
  }

  private call(e: Extract<KExpr, { k: 'call' }>): string {
    const target = this.spec.targets.get(e)!;
    const args: string[] = [];
    e.args.forEach((a, i) => {
      const p = target.params[i]!;
      if (p.kind === 'array') {
        const n = symName((a as Extract<KExpr, { k: 'var' }>).sym);
        args.push(n);
        for (let d = 0; d < p.dims; d++) args.push(`${n}_d${d}`);
      } else {
        args.push(conv(this.expr(a), this.t(a), p.type));
      }
    });
    const call = `${target.id}(${THREAD_PARAMS}${args.length ? `, ${args.join(', ')}` : ''})`;
    const m = this.program.mapped.get(target.fn.name);
    if (m === undefined) return call;
    // A mapped helper (createKernelMap): its value is also written to its own output.
    return `(gk_mv = ${call}, gk_m${m}[(gk_z * gk_Y + gk_y) * gk_X + gk_x] = gk_mv, gk_mv)`;
  }
}
