import { WORKGROUP_SIZE, wgslIntLiteral, wgslLiteral, wgslSupport } from '../codegen/wgsl.js';
import { CompileError } from '../errors.js';
import type { BinaryOp, BitwiseOp, KExpr, KStmt, MathName, ScalarType, Sym } from './ir.js';

function isBitwise(op: BinaryOp): op is BitwiseOp {
  return op === '&' || op === '|' || op === '^' || op === '<<' || op === '>>' || op === '>>>';
}

import { intCounterProblem, loopBoundProblem } from './loops.js';
import { forEachExpr, reachableHelpers, symName } from './names.js';
import { assignedIn } from './parse.js';
import { inlinedConstant } from './settings.js';
import { assignOperator, binaryType, constantType, type Specialization, type TypedProgram } from './types.js';

/**
 * Where each kernel argument lives in the generated shader. Binding 0 is a uniform `array<vec4<u32>, vec4s>`:
 * `[0].xyz` is the output size, each array argument has one vec4 of dimensions (outer to inner), and number
 * arguments are f32 bits packed four to a vec4. Array arguments are read-only storage buffers of f32, bound
 * in argument order from binding 1; the output (read-write storage) comes last.
 */
export interface WgslLayout {
  readonly vec4s: number;
  /** Kernel argument index → vec4 holding its dimensions. */
  readonly dimsSlot: ReadonlyMap<number, number>;
  /** Kernel argument index → [vec4, component] of its f32 bits. */
  readonly numberSlot: ReadonlyMap<number, readonly [number, number]>;
  /** Kernel argument index → binding number of its storage buffer. */
  readonly binding: ReadonlyMap<number, number>;
  /** Binding number of the output buffer. */
  readonly outBinding: number;
  /** Binding numbers of the outputs of mapped helpers (createKernelMap), by output index. */
  readonly mapBindings: readonly number[];
  /** Numbers per output element: 1, or 2-4 for a kernel returning vectors. */
  readonly width: number;
}

/** Options of {@link emitWgsl}. */
export interface EmitWgslOptions {
  /**
   * Cap on the iterations of every loop; without it a loop whose trip count is not finite and known at compile
   * time is a CompileError.
   */
  readonly loopMaxIterations?: number | undefined;
  /** The entry point named in error messages. */
  readonly op: string;
}

const WT: Readonly<Record<ScalarType, string>> = { int: 'i32', float: 'f32', bool: 'bool' };

/**
 * Emits a typed kernel as a WGSL compute shader (entry point `main`, workgroup size 64, one thread per output
 * element, linearised over a 2-D dispatch). Everything is f32 or i32. Reads outside an argument's bounds, or
 * at fractional indices, give NaN as on the cpu backend.
 *
 * @throws CompileError for a loop with no static bound when no `loopMaxIterations` is given: a GPU cannot
 *   interrupt a runaway thread
 */
export function emitWgsl(
  program: TypedProgram,
  options: EmitWgslOptions,
): { code: string; layout: WgslLayout } {
  const params = program.kernel.params;
  const dimsSlot = new Map<number, number>();
  const numberSlot = new Map<number, readonly [number, number]>();
  const binding = new Map<number, number>();
  let vec = 1;
  let b = 1;
  params.forEach((p, i) => {
    if (p.kind === 'array') {
      dimsSlot.set(i, vec++);
      binding.set(i, b++);
    }
  });
  let comp = 0;
  params.forEach((p, i) => {
    if (p.kind === 'scalar') {
      numberSlot.set(i, [vec + Math.floor(comp / 4), comp % 4]);
      comp++;
    }
  });
  const vec4s = vec + Math.ceil(comp / 4);
  const mapCount = program.mapped.size;
  const mapBindings = Array.from({ length: mapCount }, (_, i) => b + 1 + i);
  const width = program.kernel.returnWidth;
  const layout: WgslLayout = { vec4s, dimsSlot, numberSlot, binding, outBinding: b, mapBindings, width };

  const decls: string[] = [`@group(0) @binding(0) var<uniform> gk_p: array<vec4<u32>, ${vec4s}>;`];
  const readers: string[] = [];
  params.forEach((p, i) => {
    if (p.kind !== 'array') return;
    decls.push(`@group(0) @binding(${binding.get(i)}) var<storage, read> gk_a${i}: array<f32>;`);
    const s = dimsSlot.get(i)!;
    const names = ['i', 'j', 'k'].slice(0, p.dims);
    // One unsigned comparison per index covers both ends (a negative i32 becomes a huge u32).
    const dims = names.map((_, d) => `let d${d} = gk_p[${s}][${d}];`).join(' ');
    const checks = names.map((n, d) => `u32(${n}) >= d${d}`).join(' || ');
    let flat = `u32(${names[0]!})`;
    for (let d = 1; d < p.dims; d++) flat = `(${flat}) * d${d} + u32(${names[d]})`;
    readers.push(
      `fn gk_rd${i}(${names.map((n) => `${n}: i32`).join(', ')}) -> f32 {\n  ${dims}\n  if (${checks}) { return gk_nan(); }\n  return gk_a${i}[${flat}];\n}`,
    );
  });
  decls.push(`@group(0) @binding(${b}) var<storage, read_write> gk_out: array<f32>;`);
  mapBindings.forEach((mb, i) => {
    decls.push(`@group(0) @binding(${mb}) var<storage, read_write> gk_m${i}: array<f32>;`);
    readers.push(
      `fn gk_map${i}_f(v: f32) -> f32 { gk_m${i}[gk_lin] = v; return v; }\n` +
        `fn gk_map${i}_i(v: i32) -> i32 { gk_m${i}[gk_lin] = f32(v); return v; }\n` +
        `fn gk_map${i}_b(v: bool) -> bool { gk_m${i}[gk_lin] = select(0.0f, 1.0f, v); return v; }`,
    );
  });
  decls.push(
    'var<private> gk_x: i32;\nvar<private> gk_y: i32;\nvar<private> gk_z: i32;\nvar<private> gk_lin: u32;\nvar<private> gk_rng: u32;',
  );
  readers.push(BITWISE_SUPPORT);
  readers.push(
    'fn gk_fi(v: f32) -> i32 {\n  if (!(floor(v) == v)) { return -1i; }\n  return i32(clamp(v, -1.0f, 2147483520.0f));\n}',
  );

  const fns: string[] = [];
  for (const h of reachableHelpers(program))
    fns.push(new WgslFunctionEmitter(h, program, layout, options).helper());
  fns.push(new WgslFunctionEmitter(program.kernel, program, layout, options).kernel());
  const store =
    width === 1
      ? 'gk_out[lin] = gk_kernel();'
      : `let r = gk_kernel();\n${Array.from({ length: width }, (_, c) => `  gk_out[lin * ${width}u + ${c}u] = r[${c}];`).join('\n')}`;
  const main = `@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lin = gid.x + gid.y * nwg.x * ${WORKGROUP_SIZE}u;
  let nx = gk_p[0].x;
  let ny = gk_p[0].y;
  if (lin >= nx * ny * gk_p[0].z) { return; }
  gk_x = i32(lin % nx);
  gk_y = i32((lin / nx) % ny);
  gk_z = i32(lin / (nx * ny));
  gk_lin = lin;
  gk_rng = gk_pcg(lin ^ gk_pcg(gk_p[0].w));
  ${store}
}`;
  const module = [decls.join('\n'), readers.join('\n\n'), fns.join('\n\n'), main].join('\n\n');
  const support = wgslSupport(module);
  return { code: `${support ? `${support}\n\n` : ''}${module}\n`, layout };
}

/** The error for a loop the webgpu backend cannot run uncapped: no finite compile-time bound and no cap. */
export function unboundedLoopError(
  loop: KStmt,
  op: string,
  fnName: string,
  reason = 'this loop has no bound known before it starts',
  source?: string,
): CompileError {
  return new CompileError(
    op,
    `${reason}, which the webgpu backend refuses: a GPU cannot interrupt a thread that never stops. Write ` +
      'it as a counting loop with a compile-time limit (for (let i = 0; i < N; i++) with N a literal or ' +
      'this.constants.N) or set the `loopMaxIterations` setting' +
      (fnName !== 'kernel' ? ` (in helper '${fnName}')` : ''),
    loop.pos,
    source,
  );
}

/** ToInt32 (JavaScript's conversion for bitwise operators), a 32-bit random stream, and their helpers. */
const BITWISE_SUPPORT = `fn gk_toi32(v: f32) -> i32 {
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { return 0i; }
  let t = trunc(v);
  if (abs(t) < 2147483648.0f) { return i32(t); }
  let m = t - 4294967296.0f * floor(t / 4294967296.0f);
  return bitcast<i32>(u32(m));
}

fn gk_pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn gk_random() -> f32 {
  gk_rng = gk_pcg(gk_rng);
  return f32(gk_rng >> 8u) / 16777216.0f;
}`;

function conv(code: string, from: ScalarType, to: ScalarType): string {
  if (from === to) return code;
  if (from === 'bool') return to === 'int' ? `select(0i, 1i, ${code})` : `select(0.0f, 1.0f, ${code})`;
  if (to === 'bool') return from === 'int' ? `(${code} != 0i)` : `gk_truthy(${code})`;
  if (to === 'float') return `f32(${code})`;
  // float → int is never implicit (indices go through gk_fi).
  return `i32(${code})`;
}

const FLOAT_BUILTIN: Partial<Record<MathName, string>> = {
  acos: 'gk_acos',
  acosh: 'gk_acosh',
  asin: 'gk_asin',
  asinh: 'gk_asinh',
  atan: 'gk_atan',
  atanh: 'gk_atanh',
  cos: 'cos',
  cosh: 'gk_cosh',
  exp: 'gk_exp',
  log: 'gk_log',
  log2: 'gk_log2',
  sin: 'sin',
  sinh: 'gk_sinh',
  sqrt: 'sqrt',
  tan: 'tan',
  cbrt: 'gk_cbrt',
  expm1: 'gk_expm1',
  log1p: 'gk_log1p',
  log10: 'gk_log10',
  tanh: 'gk_tanh',
  floor: 'floor',
  ceil: 'ceil',
  trunc: 'trunc',
  round: 'gk_round',
  abs: 'abs',
  sign: 'sign',
};

class WgslFunctionEmitter {
  private loopCounter = 0;
  /** Unchecked reads of the loop being emitted (see fastReads). */
  private direct: Map<KExpr, string> | null = null;

  constructor(
    private readonly spec: Specialization,
    private readonly program: TypedProgram,
    private readonly layout: WgslLayout,
    private readonly options: EmitWgslOptions,
  ) {}

  private get isKernel(): boolean {
    return this.spec === this.program.kernel;
  }

  private t(e: KExpr): ScalarType {
    return this.spec.exprTypes.get(e) ?? 'float';
  }

  private symType(s: Sym): ScalarType {
    return this.spec.symTypes.get(s) ?? 'float';
  }

  helper(): string {
    const params: string[] = [];
    const copies: string[] = [];
    this.spec.fn.params.forEach((sym, i) => {
      const p = this.spec.params[i]!;
      if (p.kind !== 'scalar') return;
      const ty = WT[this.symType(sym)];
      if (sym.assigned) {
        params.push(`gk_arg_${symName(sym)}: ${WT[p.type]}`);
        copies.push(
          `  var ${symName(sym)}: ${ty} = ${conv(`gk_arg_${symName(sym)}`, p.type, this.symType(sym))};\n`,
        );
      } else {
        params.push(`${symName(sym)}: ${WT[p.type]}`);
      }
    });
    const body = this.block(this.spec.fn.body, '  ');
    return `fn ${this.spec.id}(${params.join(', ')}) -> ${WT[this.spec.returnType]} {\n${copies.join('')}${body}}`;
  }

  kernel(): string {
    const copies: string[] = [];
    this.spec.fn.params.forEach((sym, i) => {
      const p = this.spec.params[i]!;
      if (p.kind === 'scalar' && sym.assigned) {
        copies.push(
          `  var ${symName(sym)}: ${WT[this.symType(sym)]} = ${conv(this.numberParam(i), 'float', this.symType(sym))};\n`,
        );
      }
    });
    const w = this.spec.returnWidth;
    const rt = w === 1 ? 'f32' : `vec${w}<f32>`;
    return `fn gk_kernel() -> ${rt} {\n${copies.join('')}${this.block(this.spec.fn.body, '  ')}}`;
  }

  private numberParam(i: number): string {
    const [v, c] = this.layout.numberSlot.get(i)!;
    return `bitcast<f32>(gk_p[${v}][${c}])`;
  }

  // ------------------------------------------------------------ statements

  private block(list: readonly KStmt[], ind: string): string {
    return list.map((s) => this.stmt(s, ind)).join('');
  }

  private stmt(s: KStmt, ind: string): string {
    switch (s.k) {
      case 'decl': {
        const st = this.symType(s.sym);
        const kw = s.sym.assigned ? 'var' : 'let';
        return `${ind}${kw} ${symName(s.sym)}: ${WT[st]} = ${conv(this.expr(s.init), this.t(s.init), st)};\n`;
      }
      case 'hoist':
        // Every read comes after an assignment (checked by the parser); WGSL zero-initialises it.
        return `${ind}var ${symName(s.sym)}: ${WT[this.symType(s.sym)]};\n`;
      case 'assign':
        return `${ind}${this.assign(s)};\n`;
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
        const items = this.spec.vecReturns.get(s);
        if (this.isKernel && items !== undefined) {
          const parts = items.map((it) => this.as(it, 'float'));
          return `${ind}return vec${items.length}<f32>(${parts.join(', ')});\n`;
        }
        const want = this.isKernel ? 'float' : this.spec.returnType;
        return `${ind}return ${conv(this.expr(s.value), this.t(s.value), want)};\n`;
      }
      case 'block':
        return `${ind}{\n${this.block(s.body, `${ind}  `)}${ind}}\n`;
      case 'call':
        return `${ind}_ = ${this.expr(s.call)};\n`;
    }
  }

  private assign(s: Extract<KStmt, { k: 'assign' }>): string {
    const n = symName(s.sym);
    const st = this.symType(s.sym);
    const vt = this.t(s.value);
    const v = this.expr(s.value);
    if (s.op === '=') return `${n} = ${conv(v, vt, st)}`;
    if (s.op === '**=' || s.op === '/=') {
      const l = conv(n, st, 'float');
      const r = conv(v, vt, 'float');
      return `${n} = ${conv(s.op === '/=' ? `(${l} / ${r})` : `gk_pow(${l}, ${r})`, 'float', st)}`;
    }
    const op = assignOperator(s.op);
    if (isBitwise(op))
      return `${n} = ${conv(this.bitwise(op, n, st, v, vt), binaryType(op, st, vt, true), st)}`;
    const aop = op as '+' | '-' | '*' | '%';
    const code = this.arith(aop, n, st, v, vt, s.value);
    const rt = binaryType(aop, st, vt, aop === '%' ? this.intDivisor(s.value) : true);
    return `${n} = ${conv(code, rt, st)}`;
  }

  private intDivisor(e: KExpr): boolean {
    if (e.k === 'num') return e.int && e.value !== 0;
    if (e.k === 'constant') {
      const v = inlinedConstant(this.program.constants, e.name);
      return constantType(v) === 'int' && v !== 0;
    }
    return false;
  }

  /** A value converted to a 32-bit integer as JavaScript's bitwise operators do (ToInt32). */
  private toInt32(code: string, t: ScalarType): string {
    if (t === 'int') return code;
    if (t === 'bool') return `select(0i, 1i, ${code})`;
    return `gk_toi32(${code})`;
  }

  /** `l op r` for a bitwise operator: i32, except `>>>` (an unsigned result, as f32). */
  private bitwise(op: BitwiseOp, l: string, lt: ScalarType, r: string, rt: ScalarType): string {
    const a = this.toInt32(l, lt);
    const b = this.toInt32(r, rt);
    switch (op) {
      case '<<':
        return `(${a} << (bitcast<u32>(${b}) & 31u))`;
      case '>>':
        return `(${a} >> (bitcast<u32>(${b}) & 31u))`;
      case '>>>':
        return `f32(bitcast<u32>(${a}) >> (bitcast<u32>(${b}) & 31u))`;
      default:
        return `(${a} ${op} ${b})`;
    }
  }

  /** `l op r` for + - * %, in the operands' common numeric type. */
  private arith(
    op: '+' | '-' | '*' | '%',
    l: string,
    lt: ScalarType,
    r: string,
    rt: ScalarType,
    right: KExpr,
  ): string {
    const bothInt = lt !== 'float' && rt !== 'float';
    if (op === '%' && bothInt && !this.intDivisor(right)) {
      return `gk_imod(${conv(l, lt, 'int')}, ${conv(r, rt, 'int')})`;
    }
    const ct: ScalarType = bothInt ? 'int' : 'float';
    if (op === '%' && ct === 'float') return `gk_fmod(${conv(l, lt, ct)}, ${conv(r, rt, ct)})`;
    return `(${conv(l, lt, ct)} ${op} ${conv(r, rt, ct)})`;
  }

  private loop(s: Extract<KStmt, { k: 'loop' }>, ind: string): string {
    const inner = `${ind}  `;
    const max = this.options.loopMaxIterations;
    // With loopMaxIterations every loop is capped; without it only loops whose trip count is finite for every
    // input (a compile-time limit, a counter that cannot wrap or stall) may run.
    if (max === undefined) {
      const reason = loopBoundProblem(
        s.bound,
        this.program.constants,
        s.bound ? this.symType(s.bound.counter) : undefined,
        s.bound ? this.t(s.bound.limit) : undefined,
      );
      if (reason !== null)
        throw unboundedLoopError(s, this.options.op, this.spec.fn.name, reason, this.spec.fn.source);
    } else {
      if (!Number.isInteger(max) || max < 1 || max > 2 ** 31 - 1) {
        throw new CompileError(this.options.op, `'loopMaxIterations' must be a positive integer, got ${max}`);
      }
      const reason = s.bound
        ? intCounterProblem(
            s.bound,
            this.program.constants,
            this.symType(s.bound.counter),
            this.t(s.bound.limit),
            max,
          )
        : null;
      if (reason !== null) {
        throw new CompileError(
          this.options.op,
          `${reason}; use a float counter or a smaller limit`,
          s.pos,
          this.spec.fn.source,
        );
      }
    }
    const init = this.block(s.init, inner);
    const counter = `gk_it${this.loopCounter++}`;
    const cap = max !== undefined;
    const capDecl = cap ? `${inner}var ${counter}: i32 = 0i;\n` : '';
    const capLine = cap
      ? `${inner}  if (${counter} >= ${max}i) { break; }\n${inner}  ${counter} = ${counter} + 1i;\n`
      : '';
    const testLine = s.form === 'for' && s.test ? `${inner}  if (!(${this.cond(s.test)})) { break; }\n` : '';
    const updates = s.update
      .map((u) => `${inner}    ${this.assign(u as Extract<KStmt, { k: 'assign' }>)};\n`)
      .join('');
    const breakIf = s.form === 'do' && s.test ? `${inner}    break if !(${this.cond(s.test)});\n` : '';
    const continuing = updates || breakIf ? `${inner}  continuing {\n${updates}${breakIf}${inner}  }\n` : '';
    const loopOf = (body: string, pad: string) =>
      `${pad}loop {\n${testLine}${capLine}${body}${continuing}${pad}}\n`;
    const fast = this.fastReads(s);
    if (fast === null) {
      const body = this.block(s.body, `${inner}  `);
      return `${ind}{\n${init}${capDecl}${loopOf(body, inner)}${ind}}\n`;
    }
    // Every read of the loop is in range for the whole loop: read the buffers directly (checked once here).
    this.direct = fast.direct;
    const fastBody = this.block(s.body, `${inner}  `);
    this.direct = null;
    const slowBody = this.block(s.body, `${inner}  `);
    return (
      `${ind}{\n${init}${capDecl}${inner}if (${fast.check}) {\n${loopOf(fastBody, inner)}${inner}} else {\n` +
      `${loopOf(slowBody, inner)}${inner}}\n${ind}}\n`
    );
  }

  /**
   * For an innermost counting loop (`for (let i = a; i < b; i++)` / `<=`, integer counter), the reads whose
   * indices are the counter or values the loop does not change: the condition (evaluated once, after the
   * loop's initialisation) under which all of them are in range for every iteration, and their unchecked code.
   */
  private fastReads(s: Extract<KStmt, { k: 'loop' }>): { check: string; direct: Map<KExpr, string> } | null {
    if (!s.bounded || s.form !== 'for' || s.test === null || s.test.k !== 'binary') return null;
    if (s.test.op !== '<' && s.test.op !== '<=') return null;
    if (s.test.left.k !== 'var' || s.update.length !== 1) return null;
    const counter = s.test.left.sym;
    const u = s.update[0]!;
    if (u.k !== 'assign' || u.sym !== counter || u.op !== '+=' || u.value.k !== 'num' || u.value.value !== 1)
      return null;
    if (this.symType(counter) !== 'int') return null;
    let nested = false;
    const visitLoops = (list: readonly KStmt[]): void => {
      for (const st of list) {
        if (st.k === 'loop') nested = true;
        else if (st.k === 'if') {
          visitLoops(st.consequent);
          if (st.otherwise) visitLoops(st.otherwise);
        } else if (st.k === 'block') visitLoops(st.body);
      }
    };
    visitLoops(s.body);
    if (nested) return null;
    const changed = assignedIn(s.body);
    const invariant = (e: KExpr): boolean => {
      if (this.t(e) !== 'int') return false;
      let ok = true;
      forEachExpr([{ k: 'call', call: e, pos: e.pos }], (x) => {
        if (x.k === 'index' || x.k === 'call') ok = false;
        if (x.k === 'var' && (changed.has(x.sym) || x.sym === counter)) ok = false;
      });
      return ok;
    };
    const limit = s.test.right;
    const limitT = this.t(limit);
    const checks: string[] = [`${symName(counter)} >= 0i`];
    const direct = new Map<KExpr, string>();
    forEachExpr(s.body, (e) => {
      if (e.k !== 'index') return;
      const p = this.spec.params[e.sym.paramIndex];
      if (p?.kind !== 'array') return;
      const parts: string[] = [];
      const slot = this.layout.dimsSlot.get(p.arg)!;
      const dim = (k: number) => `gk_p[${slot}][${k}]`;
      for (let k = 0; k < e.indices.length; k++) {
        const ix = e.indices[k]!;
        if (ix.k === 'var' && ix.sym === counter) {
          const l = this.as(limit, limitT === 'float' ? 'float' : 'int');
          const d = limitT === 'float' ? `f32(${dim(k)})` : `i32(${dim(k)})`;
          checks.push(s.test!.k === 'binary' && s.test!.op === '<' ? `${l} <= ${d}` : `${l} < ${d}`);
          parts.push(`u32(${symName(counter)})`);
        } else if (invariant(ix)) {
          const code = this.as(ix, 'int');
          checks.push(`u32(${code}) < ${dim(k)}`);
          parts.push(`u32(${code})`);
        } else return;
      }
      let flat = parts[0]!;
      for (let k = 1; k < parts.length; k++) flat = `(${flat}) * ${dim(k)} + ${parts[k]}`;
      direct.set(e, `gk_a${p.arg}[${flat}]`);
    });
    if (direct.size === 0) return null;
    return { check: [...new Set(checks)].join(' && '), direct };
  }

  // ------------------------------------------------------------ expressions

  private cond(e: KExpr): string {
    return conv(this.expr(e), this.t(e), 'bool');
  }

  private as(e: KExpr, to: ScalarType): string {
    // Integer literals used as floats are written as float literals (2.0f rather than f32(2i)).
    if (to === 'float' && e.k === 'num' && e.int) return wgslLiteral(e.value);
    return conv(this.expr(e), this.t(e), to);
  }

  private expr(e: KExpr): string {
    switch (e.k) {
      case 'num':
        return e.int ? wgslIntLiteral(e.value) : wgslLiteral(e.value);
      case 'bool':
        return e.value ? 'true' : 'false';
      case 'var':
        if (this.isKernel && e.sym.kind === 'param' && !e.sym.assigned)
          return this.numberParam(e.sym.paramIndex);
        return symName(e.sym);
      case 'thread':
        return ['gk_x', 'gk_y', 'gk_z'][e.axis]!;
      case 'outsize':
        return `i32(gk_p[0].${'xyz'[e.axis]})`;
      case 'constant': {
        const v = inlinedConstant(this.program.constants, e.name);
        return constantType(v) === 'int' ? wgslIntLiteral(v) : wgslLiteral(v);
      }
      case 'index': {
        const d = this.direct?.get(e);
        if (d !== undefined) return d;
        const p = this.spec.params[e.sym.paramIndex]!;
        const arg = p.kind === 'array' ? p.arg : -1;
        const idx = e.indices.map((i) =>
          this.t(i) === 'float' ? `gk_fi(${this.expr(i)})` : this.as(i, 'int'),
        );
        return `gk_rd${arg}(${idx.join(', ')})`;
      }
      case 'unary': {
        if (e.op === '!') return `(!${this.cond(e.arg)})`;
        if (e.op === '~') return `(~${this.toInt32(this.expr(e.arg), this.t(e.arg))})`;
        const at = this.t(e.arg) === 'float' ? 'float' : 'int';
        const a = this.as(e.arg, at);
        return e.op === '-' ? `(-${a})` : a;
      }
      case 'binary':
        return this.binary(e);
      case 'logical':
        return `(${this.cond(e.left)} ${e.op} ${this.cond(e.right)})`;
      case 'cond': {
        const t = this.t(e);
        return `select(${this.as(e.otherwise, t)}, ${this.as(e.consequent, t)}, ${this.cond(e.test)})`;
      }
      case 'math':
        return this.math(e);
      case 'call': {
        const target = this.spec.targets.get(e)!;
        const args: string[] = [];
        e.args.forEach((a, i) => {
          const p = target.params[i]!;
          if (p.kind === 'scalar') args.push(this.as(a, p.type));
        });
        const call = `${target.id}(${args.join(', ')})`;
        const m = this.program.mapped.get(target.fn.name);
        if (m === undefined) return call;
        const suffix = target.returnType === 'int' ? 'i' : target.returnType === 'bool' ? 'b' : 'f';
        return `gk_map${m}_${suffix}(${call})`;
      }
    }
  }

  private binary(e: Extract<KExpr, { k: 'binary' }>): string {
    const lt = this.t(e.left);
    const rt = this.t(e.right);
    if (isBitwise(e.op)) return this.bitwise(e.op, this.expr(e.left), lt, this.expr(e.right), rt);
    switch (e.op) {
      case '+':
      case '-':
      case '*':
      case '%':
        return this.arith(e.op, this.expr(e.left), lt, this.expr(e.right), rt, e.right);
      case '/':
        return `(${this.as(e.left, 'float')} / ${this.as(e.right, 'float')})`;
      case '**':
        return `gk_pow(${this.as(e.left, 'float')}, ${this.as(e.right, 'float')})`;
      default: {
        if (lt === 'bool' && rt === 'bool' && (e.op === '==' || e.op === '!=')) {
          return `(${this.expr(e.left)} ${e.op} ${this.expr(e.right)})`;
        }
        const ct: ScalarType = lt !== 'float' && rt !== 'float' ? 'int' : 'float';
        const l = this.as(e.left, ct);
        const r = this.as(e.right, ct);
        // JavaScript's !== is true when either side is NaN; write it as !(==) so that holds on the GPU too.
        if (e.op === '!=') return ct === 'float' ? `(!(${l} == ${r}))` : `(${l} != ${r})`;
        return `(${l} ${e.op} ${r})`;
      }
    }
  }

  private math(e: Extract<KExpr, { k: 'math' }>): string {
    const t = this.t(e);
    const argT: ScalarType = t === 'int' ? 'int' : 'float';
    const args = e.args.map((a) => this.as(a, argT));
    switch (e.fn) {
      case 'min':
      case 'max':
        return args.reduce((acc, a) => `${e.fn}(${acc}, ${a})`);
      case 'hypot':
        if (args.length === 1) return `abs(${args[0]})`;
        return args.reduce((acc, a) => `gk_hypot(${acc}, ${a})`);
      case 'pow':
        return `gk_pow(${args[0]}, ${args[1]})`;
      case 'atan2':
        return `gk_atan2(${args[0]}, ${args[1]})`;
      case 'fround':
        return args[0]!;
      case 'random':
        return 'gk_random()';
      case 'imul':
        return `(${this.toInt32(this.expr(e.args[0]!), this.t(e.args[0]!))} * ${this.toInt32(this.expr(e.args[1]!), this.t(e.args[1]!))})`;
      case 'clz32':
        return `i32(countLeadingZeros(bitcast<u32>(${this.toInt32(this.expr(e.args[0]!), this.t(e.args[0]!))})))`;
      default: {
        if (t === 'int' && (e.fn === 'floor' || e.fn === 'ceil' || e.fn === 'round' || e.fn === 'trunc')) {
          return args[0]!;
        }
        return `${FLOAT_BUILTIN[e.fn]!}(${args[0]})`;
      }
    }
  }
}
