import {
  type ArrayExpression,
  type ArrowFunctionExpression,
  type AssignmentExpression,
  type Expression,
  type ForStatement,
  type FunctionDeclaration,
  type FunctionExpression,
  type Node,
  type Pattern,
  parseExpressionAt,
  type Statement,
  type SwitchStatement,
  type UpdateExpression,
  type VariableDeclaration,
  type VariableDeclarator,
} from 'acorn';
import { CompileError } from '../errors.js';
import type { AssignOp, BinaryOp, KExpr, KFunction, KStmt, LoopBound, MathName, Pos, Sym } from './ir.js';

/** The `Math` functions a kernel may call, with how many arguments each takes (`-1`: one or more). */
export const MATH_ARITY: Readonly<Record<MathName, number>> = {
  abs: 1,
  acos: 1,
  acosh: 1,
  asin: 1,
  asinh: 1,
  atan: 1,
  atan2: 2,
  atanh: 1,
  cbrt: 1,
  ceil: 1,
  cos: 1,
  cosh: 1,
  exp: 1,
  expm1: 1,
  floor: 1,
  fround: 1,
  hypot: -1,
  log: 1,
  log10: 1,
  log1p: 1,
  log2: 1,
  max: -1,
  min: -1,
  pow: 2,
  round: 1,
  sign: 1,
  sin: 1,
  sinh: 1,
  sqrt: 1,
  tan: 1,
  tanh: 1,
  trunc: 1,
  imul: 2,
  clz32: 1,
  random: 0,
};

const MATH_CONSTANTS: Readonly<Record<string, number>> = {
  E: Math.E,
  LN2: Math.LN2,
  LN10: Math.LN10,
  LOG2E: Math.LOG2E,
  LOG10E: Math.LOG10E,
  PI: Math.PI,
  SQRT1_2: Math.SQRT1_2,
  SQRT2: Math.SQRT2,
};

const AXES: Readonly<Record<string, 0 | 1 | 2>> = { x: 0, y: 1, z: 2 };

/**
 * The deepest nesting of statements and expressions a function may have. Every pass over the kernel IR
 * (typing, loop analysis, both emitters) recurses at most this deep, so none can overflow the call stack.
 */
export const MAX_NESTING = 1000;
const INT_MAX = 2 ** 31 - 1;

type AnyFunction = FunctionExpression | ArrowFunctionExpression | FunctionDeclaration;

/**
 * A local holding a vector (GPU.js's `Array(2)`..`Array(4)`), kept as one variable per component:
 * `const v = [a, b]` (components `comps`), or `const v = arr[i]` reading a row of a vector array argument
 * (`alias`: the array and its indices, frozen into constants when declared).
 */
type VectorBinding =
  | { readonly comps: readonly Sym[] }
  | { readonly alias: Sym; readonly indices: readonly KExpr[] };

/** Reads and assignments of the statement being lowered, in evaluation order (see {@link Lowering.withPre}). */
interface EffectLog {
  tick: number;
  readonly reads: { sym: Sym; at: number; node: Node }[];
  readonly writes: { sym: Sym; start: number; end: number; node: Node }[];
}

/**
 * Parses a kernel or helper function (its `toString()` text) with acorn and lowers it to the kernel IR,
 * refusing, with a {@link CompileError} that carries the line and column, everything outside the kernel
 * language. Type questions (is this parameter an array?) are settled later, when argument types are known.
 *
 * @param source - the function's source text: a `function` expression or an arrow function
 * @param op - the entry point named in error messages (e.g. `createKernel`, `addFunction`)
 */
export function parseKernelSource(source: string, op: string): KFunction {
  try {
    return parseRoot(source, op);
  } catch (e) {
    throw e instanceof CompileError ? e.withSource(source) : e;
  }
}

function parseRoot(source: string, op: string): KFunction {
  let root: Expression;
  try {
    root = parseExpressionAt(source, 0, { ecmaVersion: 'latest', locations: true, sourceType: 'script' });
  } catch (e) {
    const loc = (e as { loc?: { line: number; column: number } }).loc;
    const message = e instanceof Error ? e.message.replace(/ \(\d+:\d+\)$/, '') : String(e);
    if (e instanceof RangeError || /stack/i.test(message)) {
      throw new CompileError(
        op,
        'the function is nested too deeply to parse (parentheses, blocks or a chain of operators); split it ' +
          'into shorter expressions or helper functions',
        loc,
      );
    }
    throw new CompileError(
      op,
      `the function could not be parsed as a JavaScript function expression: ${message}`,
      loc,
    );
  }
  if (root.type !== 'FunctionExpression' && root.type !== 'ArrowFunctionExpression') {
    throw new CompileError(
      op,
      'expected a function (`function (a, b) { ... }` or an arrow function); methods and classes are not kernels',
      pos(root),
    );
  }
  if (source.slice(root.end).trim() !== '') {
    throw new CompileError(op, 'unexpected text after the function', pos(root));
  }
  return guardStack(op, () => new Lowering(source, op).lowerFunction(root));
}

/**
 * Runs a compiler pass, turning a call-stack overflow into a CompileError. Every pass is bounded by
 * {@link MAX_NESTING} and iterates over helper chains, so this only fires when the caller's own stack was
 * already nearly full.
 */
export function guardStack<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new CompileError(
        op,
        'the kernel is nested too deeply for the remaining call stack; simplify it (shorter expressions, ' +
          'fewer nested blocks or helpers)',
      );
    }
    throw e;
  }
}

function pos(node: Node): Pos {
  const loc = node.loc?.start;
  return loc ? { line: loc.line, column: loc.column } : { line: 1, column: 0 };
}

/**
 * A block scope: name → variable, or `null` for a `let`/`const` declared later in the block (JavaScript's
 * temporal dead zone: reading it before its declaration is a ReferenceError, never the outer variable).
 */
type Scope = Map<string, Sym | null>;

class Lowering {
  private readonly scopes: Scope[] = [];
  private nextId = 0;
  private readonly calls = new Set<string>();
  private usesThis = false;
  private loopDepth = 0;
  /** The function's `var`s (one variable per name for the whole function, as in JavaScript). */
  private readonly vars = new Map<string, Sym>();
  /** `var`s declared where their first `var` statement stands (a top-level statement, nothing before it). */
  private readonly declaredInPlace = new Set<Sym>();
  /** `var`s referenced so far (read or assigned). */
  private readonly touched = new Set<Sym>();
  /** True while lowering a statement directly in the function's body. */
  private topLevel = false;
  /** Current nesting of statements and expressions. */
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly op: string,
  ) {}

  private fail(node: Node, message: string): never {
    throw new CompileError(this.op, message, pos(node), this.source);
  }

  /** Functions declared in the body. */
  private readonly nested: KFunction[] = [];
  /** Locals holding vectors, by their placeholder symbol. */
  private readonly vectors = new Map<Sym, VectorBinding>();
  /** Names declared with an array literal or read with an index somewhere (candidates for vectors). */
  private indexedNames = new Set<string>();
  /** Statements an expression with assignments inside it needs first, or null where none may occur. */
  private pre: KStmt[] | null = null;
  private log: EffectLog | null = null;
  private switchLoopDepth = -1;

  /**
   * Lowers what `f` lowers with assignments and ++/-- allowed inside expressions: each is hoisted into the
   * returned statements (run first), its value read from the variable (or, for `x++`, a copy of the old
   * value). Exact when no variable is read before, in evaluation order, an assignment to it in the same
   * statement (`i + i++` is refused); assignments under `&&`, `||` and `?:` are refused (they may not run).
   */
  private withPre<T>(f: () => T): [KStmt[], T] {
    const savedPre = this.pre;
    const savedLog = this.log;
    const pre: KStmt[] = [];
    const log: EffectLog = { tick: 0, reads: [], writes: [] };
    this.pre = pre;
    this.log = log;
    try {
      const value = f();
      for (const w of log.writes) {
        const early = log.reads.find((r) => r.sym === w.sym && r.at < w.start);
        if (early) {
          this.fail(
            early.node,
            `'${w.sym.name}' is read here and assigned later in the same expression; split the statement so ` +
              'the order of the read and the assignment is explicit',
          );
        }
      }
      return [pre, value];
    } finally {
      this.pre = savedPre;
      this.log = savedLog;
    }
  }

  /** Lowers `f` where assignments inside expressions may not run (a branch of `&&`, `||`, `?:`). */
  private noEffects<T>(f: () => T): T {
    const saved = this.pre;
    this.pre = null;
    try {
      return f();
    } finally {
      this.pre = saved;
    }
  }

  lowerFunction(fn: AnyFunction): KFunction {
    if (fn.async)
      this.fail(fn, 'async functions cannot be kernels: a kernel runs synchronously on each thread');
    if (fn.generator) this.fail(fn, 'generator functions cannot be kernels');
    const scope: Scope = new Map();
    this.scopes.push(scope);
    const params: Sym[] = [];
    fn.params.forEach((p, i) => {
      if (p.type !== 'Identifier') {
        this.fail(p, 'parameters must be plain names (no defaults, destructuring or rest parameters)');
      }
      if (scope.has(p.name)) this.fail(p, `parameter '${p.name}' is declared twice`);
      const sym = this.newSym(p.name, 'param', i, pos(p));
      scope.set(p.name, sym);
      params.push(sym);
    });
    let body: KStmt[];
    this.indexedNames = indexedNames(fn.body);
    if (fn.body.type === 'BlockStatement') {
      // `var` is function-scoped: one variable per name, visible (hoisted) in the whole function. A `var`
      // of a parameter's name is that parameter.
      for (const d of varDeclarators(fn.body.body as Statement[])) {
        if (d.id.type !== 'Identifier' || scope.has(d.id.name)) continue;
        const sym = this.newSym(d.id.name, 'var', -1, pos(d.id));
        scope.set(d.id.name, sym);
        this.vars.set(d.id.name, sym);
      }
      body = this.block(fn.body.body as Statement[], true, true);
      const hoisted: KStmt[] = [];
      for (const sym of this.vars.values()) {
        if (this.declaredInPlace.has(sym)) continue;
        sym.assigned = true;
        hoisted.push({ k: 'hoist', sym, pos: sym.pos });
      }
      if (hoisted.length > 0) {
        checkHoistedReads(body, new Set(hoisted.map((h) => (h as { sym: Sym }).sym)), this.op);
        body = [...hoisted, ...body];
      }
    } else {
      body = [{ k: 'return', value: this.expr(fn.body), pos: pos(fn.body) }];
    }
    this.scopes.pop();
    if (!alwaysReturns(body)) {
      const end = fn.loc?.end;
      throw new CompileError(
        this.op,
        'the function must end with a `return` of a number on every path (a kernel writes one number per thread)',
        end ? { line: end.line, column: end.column } : undefined,
      );
    }
    const name = fn.id?.name ?? 'kernel';
    return {
      name,
      params,
      body,
      calls: this.calls,
      usesThis: this.usesThis,
      source: this.source,
      nested: this.nested,
    };
  }

  private newSym(name: string, kind: Sym['kind'], paramIndex: number, p: Pos): Sym {
    return {
      id: this.nextId++,
      name,
      kind,
      paramIndex,
      pos: p,
      assigned: false,
      indexed: false,
      readAsValue: false,
    };
  }

  /**
   * The variable `name` refers to at `node`, or undefined when none is in scope.
   *
   * @throws CompileError when `name` is a `let`/`const` of an enclosing block read before its declaration
   */
  private lookup(name: string, node: Node, touch = true): Sym | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      if (!scope.has(name)) continue;
      const s = scope.get(name);
      if (s === null || s === undefined) {
        this.fail(
          node,
          `'${name}' is used before its let/const declaration in this block (JavaScript throws a ` +
            'ReferenceError here); declare it first, or rename one of the variables',
        );
      }
      if (touch && s.kind === 'var') this.touched.add(s);
      return s;
    }
    return undefined;
  }

  private notDefined(node: Node, name: string): never {
    this.fail(
      node,
      `'${name}' is not defined inside the kernel. Kernels cannot read variables from the surrounding scope ` +
        '(closures); pass the value as an argument or put it in `constants` (this.constants.NAME)',
    );
  }

  // ---------------------------------------------------------------- statements

  private block(stmts: readonly Statement[], newScope: boolean, topLevel = false): KStmt[] {
    if (newScope) this.scopes.push(lexicalScope(stmts));
    const out: KStmt[] = [];
    for (const s of stmts) {
      this.topLevel = topLevel;
      this.stmt(s, out);
    }
    this.topLevel = false;
    if (newScope) this.scopes.pop();
    return out;
  }

  private body(s: Statement): KStmt[] {
    if (s.type === 'BlockStatement') return this.block(s.body as Statement[], true);
    this.scopes.push(new Map());
    const out: KStmt[] = [];
    this.topLevel = false;
    this.stmt(s, out);
    this.scopes.pop();
    return out;
  }

  /** Counts one level of nesting; past {@link MAX_NESTING} the function is refused (bounded recursion). */
  private enter(node: Node): void {
    if (++this.depth > MAX_NESTING) {
      this.fail(
        node,
        `the function is nested too deeply (more than ${MAX_NESTING} levels of expressions and blocks); ` +
          'split it into shorter expressions or helper functions',
      );
    }
  }

  private stmt(s: Statement, out: KStmt[]): void {
    this.enter(s);
    this.lowerStmt(s, out);
    this.depth--;
  }

  private lowerStmt(s: Statement, out: KStmt[]): void {
    switch (s.type) {
      case 'EmptyStatement':
        return;
      case 'BlockStatement':
        this.topLevel = false;
        out.push({ k: 'block', body: this.block(s.body as Statement[], true), pos: pos(s) });
        return;
      case 'VariableDeclaration':
        this.declaration(s, out, this.topLevel);
        return;
      case 'ExpressionStatement': {
        const [pre, list] = this.withPre(() => {
          const l: KStmt[] = [];
          this.effect(s.expression as Expression, l);
          return l;
        });
        out.push(...pre, ...list);
        return;
      }
      case 'IfStatement': {
        const [pre, test] = this.withPre(() => this.expr(s.test));
        out.push(...pre, {
          k: 'if',
          test,
          consequent: this.body(s.consequent),
          otherwise: s.alternate ? this.body(s.alternate) : null,
          pos: pos(s),
        });
        return;
      }
      case 'ForStatement':
        out.push(this.forLoop(s));
        return;
      case 'WhileStatement': {
        const [pre, test] = this.withPre(() => this.expr(s.test));
        this.loopDepth++;
        const body = this.body(s.body);
        this.loopDepth--;
        out.push({
          k: 'loop',
          form: 'for',
          init: [],
          test: pre.length > 0 ? null : test,
          update: [],
          body: pre.length > 0 ? [...pre, breakUnless(test), ...body] : body,
          bounded: false,
          bound: null,
          pos: pos(s),
        });
        return;
      }
      case 'DoWhileStatement': {
        this.loopDepth++;
        const body = this.body(s.body);
        this.loopDepth--;
        const [pre, test] = this.withPre(() => this.expr(s.test));
        if (pre.length > 0) {
          if (jumps(body, 'continue')) {
            this.fail(
              s.test,
              'a do...while test with an assignment inside it is not supported when the body uses `continue`',
            );
          }
          out.push({
            k: 'loop',
            form: 'for',
            init: [],
            test: null,
            update: [],
            body: [...body, ...pre, breakUnless(test)],
            bounded: false,
            bound: null,
            pos: pos(s),
          });
          return;
        }
        out.push({
          k: 'loop',
          form: 'do',
          init: [],
          test,
          update: [],
          body,
          bounded: false,
          bound: null,
          pos: pos(s),
        });
        return;
      }
      case 'BreakStatement':
      case 'ContinueStatement': {
        const word = s.type === 'BreakStatement' ? 'break' : 'continue';
        if (s.label) this.fail(s, `labelled ${word} is not supported; restructure the loops`);
        if (word === 'break' && this.switchLoopDepth === this.loopDepth) {
          this.fail(
            s,
            '`break` inside a switch case is supported only as the last statement of the case; use if / else',
          );
        }
        if (this.loopDepth === 0) this.fail(s, `'${word}' outside a loop`);
        out.push({ k: word, pos: pos(s) });
        return;
      }
      case 'ReturnStatement': {
        const arg = s.argument;
        if (!arg) this.fail(s, '`return` needs a number: a kernel writes one number per thread');
        const [pre, ret] = this.withPre(() => this.returnValue(arg));
        out.push(...pre, ret);
        return;
      }
      case 'FunctionDeclaration': {
        if (this.nested.some((f) => f.name === s.id.name)) {
          this.fail(s, `function '${s.id.name}' is declared twice`);
        }
        const inner = new Lowering(this.source, this.op).lowerFunction(s);
        this.nested.push(inner, ...inner.nested);
        return;
      }
      case 'SwitchStatement':
        this.switchStatement(s, out);
        return;
      case 'LabeledStatement':
        this.fail(s, 'labels are not supported; restructure the loops');
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        this.fail(
          s,
          `'${s.type === 'ForInStatement' ? 'for...in' : 'for...of'}' is not supported; use a counting for loop`,
        );
        break;
      case 'ThrowStatement':
      case 'TryStatement':
        this.fail(s, 'exceptions (throw / try) are not supported in kernels');
        break;
      case 'ClassDeclaration':
        this.fail(s, 'classes are not supported in kernels');
        break;
      default:
        this.fail(s, `'${s.type}' is not supported in kernels`);
    }
  }

  private declaration(d: VariableDeclaration, out: KStmt[], topLevel: boolean): void {
    if (d.kind !== 'let' && d.kind !== 'const' && d.kind !== 'var') {
      this.fail(d, `'${d.kind}' declarations are not supported; use let or const`);
    }
    const scope = this.scopes[this.scopes.length - 1]!;
    for (const decl of d.declarations) {
      if (decl.id.type !== 'Identifier') {
        this.fail(decl.id, 'destructuring is not supported; declare one variable per name');
      }
      const name = decl.id.name;
      if (d.kind === 'var') {
        this.varDeclarator(name, decl.init ?? null, topLevel, decl, out);
        continue;
      }
      if (!decl.init) {
        this.fail(decl, `'${name}' needs an initial value (let ${name} = 0;)`);
      }
      if (scope.get(name)) this.fail(decl.id, `'${name}' is declared twice in the same block`);
      const initNode = decl.init;
      if (initNode.type === 'ArrayExpression' || this.vectorAlias(name, initNode)) {
        const sym = this.newSym(name, d.kind, -1, pos(decl.id));
        this.declareVector(sym, initNode, out);
        scope.set(name, sym);
        continue;
      }
      const [pre, init] = this.withPre(() => this.expr(initNode));
      const sym = this.newSym(name, d.kind, -1, pos(decl.id));
      scope.set(name, sym);
      out.push(...pre, { k: 'decl', sym, init, pos: pos(decl) });
    }
  }

  /**
   * `var name = init`: JavaScript has one such variable per function, so every `var` of a name after the first
   * (or of a parameter's name) is an assignment. The first is a declaration in place when it is a top-level
   * statement of the function with nothing referring to the name before it; otherwise the variable is hoisted
   * to the top of the function and each `var` assigns it.
   */
  private varDeclarator(
    name: string,
    initNode: Expression | null,
    topLevel: boolean,
    node: Node,
    out: KStmt[],
  ): void {
    const sym = this.lookup(name, node, false);
    if (sym === undefined || (sym.kind !== 'var' && sym.kind !== 'param')) {
      // Unreachable after acorn's redeclaration checks; kept so that no path gives a silent difference.
      this.fail(node, `'${name}' is declared with var and with let/const`);
    }
    if (initNode === null) return; // `var x;` only declares (hoists) x
    const fresh = sym.kind === 'var' && !this.touched.has(sym) && !this.declaredInPlace.has(sym);
    const init = this.expr(initNode);
    if (fresh && topLevel && !this.touched.has(sym)) {
      this.declaredInPlace.add(sym);
      out.push({ k: 'decl', sym, init, pos: pos(node) });
      return;
    }
    this.touched.add(sym);
    sym.assigned = true;
    out.push({ k: 'assign', sym, op: '=', value: init, pos: pos(node) });
  }

  /** An expression evaluated for its effect: an assignment, an update, a helper call, or a sequence of those. */
  private effect(e: Expression, out: KStmt[]): void {
    switch (e.type) {
      case 'AssignmentExpression':
        out.push(this.assignment(e));
        return;
      case 'UpdateExpression':
        out.push(this.update(e));
        return;
      case 'SequenceExpression':
        for (const x of e.expressions) this.effect(x, out);
        return;
      case 'CallExpression': {
        const call = this.expr(e);
        out.push({ k: 'call', call, pos: pos(e) });
        return;
      }
      case 'Literal':
        if (typeof e.value === 'string') return; // a directive such as 'use strict'
        this.fail(e, 'this expression has no effect');
        break;
      default:
        this.fail(
          e,
          'this expression has no effect; only assignments, ++/-- and helper calls can be statements',
        );
    }
  }

  private target(p: Pattern, node: Node): Sym {
    if (p.type === 'MemberExpression' && p.computed && p.object.type === 'Identifier') {
      const vs = this.lookup(p.object.name, p.object);
      const vec = vs && this.vectors.get(vs);
      if (vec && 'comps' in vec) {
        const k = p.property;
        const i = k.type === 'Literal' && typeof k.value === 'number' ? k.value : -1;
        const c = vec.comps[i];
        if (c === undefined) {
          this.fail(
            node,
            `'${vs.name}' has ${vec.comps.length} components; assign them with a literal index`,
          );
        }
        c.assigned = true;
        return c;
      }
    }
    if (p.type === 'MemberExpression') {
      if (
        p.object.type === 'ThisExpression' ||
        (p.object.type === 'MemberExpression' && isThisChain(p.object))
      ) {
        this.fail(node, '`this` is read-only inside a kernel');
      }
      this.fail(
        node,
        'array arguments are read-only inside a kernel: each thread returns the value of its own output element',
      );
    }
    if (p.type !== 'Identifier') this.fail(node, 'destructuring assignment is not supported');
    const sym = this.lookup(p.name, p);
    if (sym === undefined) this.notDefined(p, p.name);
    if (this.vectors.has(sym)) {
      this.fail(node, `'${sym.name}' is a vector; assign its components (${sym.name}[0] = ...) instead`);
    }
    if (sym.kind === 'const') this.fail(node, `cannot assign to const '${sym.name}'`);
    sym.assigned = true;
    return sym;
  }

  private assignment(e: AssignmentExpression): KStmt {
    const ops: Record<string, AssignOp> = {
      '=': '=',
      '+=': '+=',
      '-=': '-=',
      '*=': '*=',
      '/=': '/=',
      '%=': '%=',
      '**=': '**=',
      '&=': '&=',
      '|=': '|=',
      '^=': '^=',
      '<<=': '<<=',
      '>>=': '>>=',
      '>>>=': '>>>=',
    };
    const op = Object.hasOwn(ops, e.operator) ? ops[e.operator] : undefined;
    if (op === undefined) {
      this.fail(
        e,
        `the operator '${e.operator}' is not supported (logical assignments are not part of the kernel language)`,
      );
    }
    const start = this.log ? ++this.log.tick : 0;
    const value = this.expr(e.right);
    const sym = this.target(e.left, e);
    if (this.log) this.log.writes.push({ sym, start, end: ++this.log.tick, node: e });
    return { k: 'assign', sym, op, value, pos: pos(e) };
  }

  private update(e: UpdateExpression): KStmt {
    const start = this.log ? ++this.log.tick : 0;
    const sym = this.target(e.argument as Pattern, e);
    if (this.log) this.log.writes.push({ sym, start, end: ++this.log.tick, node: e });
    const one: KExpr = { k: 'num', value: 1, int: true, pos: pos(e) };
    return { k: 'assign', sym, op: e.operator === '++' ? '+=' : '-=', value: one, pos: pos(e) };
  }

  /** An assignment or ++/-- used as a value: hoisted into `this.pre` (see {@link withPre}). */
  private effectValue(x: AssignmentExpression | UpdateExpression, p: Pos): KExpr {
    const pre = this.pre;
    if (pre === null) {
      this.fail(
        x,
        'an assignment or ++/-- here might not run (it is under &&, || or ?:, or in a position kernels ' +
          'cannot order); move it into its own statement',
      );
    }
    if (x.type === 'UpdateExpression' && !x.prefix) {
      // x++ as a value: the old value, kept in a constant before the update.
      const target = x.argument;
      if (target.type !== 'Identifier') this.fail(x, 'only variables can be incremented');
      const sym = this.lookup(target.name, target);
      if (sym === undefined) this.notDefined(target, target.name);
      sym.readAsValue = true;
      const old: KExpr = { k: 'var', sym, pos: pos(target) };
      const tmp = this.newSym(`${target.name}_old`, 'const', -1, p);
      pre.push({ k: 'decl', sym: tmp, init: old, pos: p });
      pre.push(this.update(x));
      return { k: 'var', sym: tmp, pos: p };
    }
    const stmt = x.type === 'AssignmentExpression' ? this.assignment(x) : this.update(x);
    pre.push(stmt);
    const sym = (stmt as { sym: Sym }).sym;
    sym.readAsValue = true;
    return { k: 'var', sym, pos: p };
  }

  /** The value of a `return`: a number, or a vector (`[a, b]`, a vector local, a row of a vector array). */
  private returnValue(arg: Expression): KStmt {
    const p = pos(arg);
    if (arg.type === 'ArrayExpression') {
      const items = this.vectorItems(arg);
      return { k: 'return', value: items[0]!, items, pos: p };
    }
    if (arg.type === 'Identifier') {
      const sym = this.lookup(arg.name, arg);
      const v = sym && this.vectors.get(sym);
      if (v && 'comps' in v) {
        const items = v.comps.map((c): KExpr => ({ k: 'var', sym: c, pos: p }));
        return { k: 'return', value: items[0]!, items, pos: p };
      }
      if (v && 'alias' in v) {
        v.alias.indexed = true;
        return { k: 'return', value: { k: 'index', sym: v.alias, indices: v.indices, pos: p }, pos: p };
      }
    }
    return { k: 'return', value: this.expr(arg), pos: p };
  }

  /** The components of an array literal of 2-4 numbers. */
  private vectorItems(arg: ArrayExpression): KExpr[] {
    const n = arg.elements.length;
    if (n < 2 || n > 4) {
      this.fail(
        arg,
        `arrays made inside a kernel must have 2, 3 or 4 numbers (GPU.js's Array(2..4)), got ${n}`,
      );
    }
    return arg.elements.map((el) => {
      if (el === null || el.type === 'SpreadElement')
        this.fail(arg, 'array holes and spreads are not supported');
      return this.expr(el);
    });
  }

  /** Whether `const name = init` makes a vector alias: `init` indexes an array argument and `name` is indexed. */
  private vectorAlias(name: string, init: Expression): boolean {
    if (!this.indexedNames.has(name) || init.type !== 'MemberExpression' || !init.computed) return false;
    let node: Expression = init;
    while (node.type === 'MemberExpression' && node.computed) node = node.object as Expression;
    if (node.type !== 'Identifier') return false;
    return this.lookup(node.name, node, false)?.kind === 'param';
  }

  /** Declares a vector local (see {@link VectorBinding}). */
  private declareVector(sym: Sym, init: Expression, out: KStmt[]): void {
    const p = sym.pos;
    if (init.type === 'ArrayExpression') {
      const [pre, items] = this.withPre(() => this.vectorItems(init));
      out.push(...pre);
      const comps = items.map((item, i) => {
        const c = this.newSym(`${sym.name}_${i}`, 'let', -1, p);
        out.push({ k: 'decl', sym: c, init: item, pos: p });
        return c;
      });
      this.vectors.set(sym, { comps });
      return;
    }
    // const v = a[i]: the indices are evaluated once, here, as in JavaScript.
    const [pre, read] = this.withPre(() => this.expr(init));
    out.push(...pre);
    if (read.k !== 'index') this.fail(init, 'expected a read of an array argument');
    const indices = read.indices.map((ix, i): KExpr => {
      if (ix.k === 'num' || ix.k === 'thread' || ix.k === 'outsize' || ix.k === 'constant') return ix;
      const c = this.newSym(`${sym.name}_i${i}`, 'const', -1, p);
      out.push({ k: 'decl', sym: c, init: ix, pos: p });
      return { k: 'var', sym: c, pos: p };
    });
    this.vectors.set(sym, { alias: read.sym, indices });
  }

  /** `switch`, lowered to if / else if on `===`; each case must end in break, return or continue. */
  private switchStatement(s: SwitchStatement, out: KStmt[]): void {
    const p = pos(s);
    const [pre, disc] = this.withPre(() => this.expr(s.discriminant));
    out.push(...pre);
    const d = this.newSym('switch', 'const', -1, p);
    out.push({ k: 'decl', sym: d, init: disc, pos: p });
    const all = s.cases.flatMap((c) => c.consequent as Statement[]);
    this.scopes.push(lexicalScope(all));
    const savedSwitch = this.switchLoopDepth;
    this.switchLoopDepth = this.loopDepth;
    type Arm = { tests: KExpr[]; isDefault: boolean; body: KStmt[] };
    const arms: Arm[] = [];
    let pending: Arm = { tests: [], isDefault: false, body: [] };
    try {
      s.cases.forEach((c, i) => {
        if (c.test) {
          const t = c.test;
          const test = this.noEffects(() => this.expr(t));
          pending.tests.push({
            k: 'binary',
            op: '==',
            left: { k: 'var', sym: d, pos: p },
            right: test,
            strict: true,
            pos: pos(t),
          });
        } else pending.isDefault = true;
        const stmts = c.consequent as Statement[];
        if (stmts.length === 0 && i < s.cases.length - 1) return; // case a: case b: ... shares the next body
        const last = stmts[stmts.length - 1];
        const ends = last?.type === 'BreakStatement' && !last.label;
        const body = this.block(ends ? stmts.slice(0, -1) : stmts, false);
        if (!ends && i < s.cases.length - 1 && !alwaysReturns(body) && !endsInContinue(body)) {
          this.fail(
            c,
            'a switch case that falls through into the next one is not supported; end it with break or return',
          );
        }
        pending.body = body;
        arms.push(pending);
        pending = { tests: [], isDefault: false, body: [] };
      });
    } finally {
      this.switchLoopDepth = savedSwitch;
      this.scopes.pop();
    }
    const def = arms.find((a) => a.isDefault);
    let chain: KStmt[] | null = def ? def.body : null;
    for (let i = arms.length - 1; i >= 0; i--) {
      const arm = arms[i]!;
      const tests = arm.tests;
      if (tests.length === 0) continue;
      const test = tests.reduce((a, b): KExpr => ({ k: 'logical', op: '||', left: a, right: b, pos: p }));
      chain = [{ k: 'if', test, consequent: arm.body, otherwise: chain, pos: p }];
    }
    if (chain) out.push({ k: 'block', body: chain, pos: p });
  }

  private forLoop(s: ForStatement): KStmt {
    this.scopes.push(s.init?.type === 'VariableDeclaration' ? lexicalScope([s.init]) : new Map());
    const init: KStmt[] = [];
    if (s.init) {
      if (s.init.type === 'VariableDeclaration') this.declaration(s.init, init, false);
      else this.effect(s.init, init);
    }
    const testNode = s.test;
    const [pre, lowered] = testNode ? this.withPre(() => this.expr(testNode)) : [[], null];
    const test = pre.length > 0 ? null : lowered;
    const update: KStmt[] = [];
    if (s.update) {
      const [upPre, list] = this.withPre(() => {
        const l: KStmt[] = [];
        this.effect(s.update as Expression, l);
        return l;
      });
      update.push(...upPre, ...list);
    }
    this.loopDepth++;
    let body = this.body(s.body);
    this.loopDepth--;
    this.scopes.pop();
    if (pre.length > 0) body = [...pre, breakUnless(lowered!), ...body];
    const bound = loopBound(init, test, update, body);
    return { k: 'loop', form: 'for', init, test, update, body, bounded: bound !== null, bound, pos: pos(s) };
  }

  // ---------------------------------------------------------------- expressions

  private expr(e: Expression | Node): KExpr {
    this.enter(e);
    const x = this.lowerExpr(e);
    this.depth--;
    return x;
  }

  private lowerExpr(e: Expression | Node): KExpr {
    const p = pos(e);
    const x = e as Expression;
    switch (x.type) {
      case 'Literal':
        return this.literal(x, p);
      case 'Identifier': {
        const sym = this.lookup(x.name, x);
        if (sym !== undefined) {
          if (this.vectors.has(sym)) {
            this.fail(
              x,
              `'${x.name}' is a vector (an array of 2-4 numbers); read its components (${x.name}[0])`,
            );
          }
          sym.readAsValue = true;
          if (this.log) this.log.reads.push({ sym, at: ++this.log.tick, node: x });
          return { k: 'var', sym, pos: p };
        }
        if (x.name === 'Infinity') return { k: 'num', value: Number.POSITIVE_INFINITY, int: false, pos: p };
        if (x.name === 'NaN') return { k: 'num', value: Number.NaN, int: false, pos: p };
        if (x.name === 'undefined') this.fail(x, '`undefined` is not a number; kernels compute numbers only');
        if (x.name === 'Math') this.fail(x, '`Math` can only be used as Math.NAME(...) or a Math constant');
        return this.notDefined(x, x.name);
      }
      case 'ParenthesizedExpression':
        return this.expr(x.expression);
      case 'UnaryExpression': {
        if (x.operator === '-' || x.operator === '+' || x.operator === '!') {
          const arg = this.expr(x.argument);
          if (x.operator === '-' && arg.k === 'num') {
            return { k: 'num', value: -arg.value, int: arg.int && arg.value !== 0, pos: p };
          }
          return { k: 'unary', op: x.operator, arg, pos: p };
        }
        if (x.operator === '~') return { k: 'unary', op: '~', arg: this.expr(x.argument), pos: p };
        return this.fail(x, `the '${x.operator}' operator is not supported in kernels`);
      }
      case 'BinaryExpression':
        return this.binary(x.operator, x.left as Expression, x.right, p, x);
      case 'LogicalExpression':
        if (x.operator === '??')
          this.fail(x, '`??` is not supported: values in a kernel are never null or undefined');
        return {
          k: 'logical',
          op: x.operator,
          left: this.expr(x.left),
          right: this.noEffects(() => this.expr(x.right)),
          pos: p,
        };
      case 'ConditionalExpression':
        return {
          k: 'cond',
          test: this.expr(x.test),
          consequent: this.noEffects(() => this.expr(x.consequent)),
          otherwise: this.noEffects(() => this.expr(x.alternate)),
          pos: p,
        };
      case 'MemberExpression':
        return this.member(x, p);
      case 'CallExpression':
        return this.call(x, p);
      case 'ThisExpression':
        return this.fail(
          x,
          '`this` alone is not a value; use this.thread.x, this.output.x or this.constants.NAME',
        );
      case 'TemplateLiteral':
      case 'TaggedTemplateExpression':
        return this.fail(x, 'strings are not supported in kernels; kernels compute numbers only');
      case 'ObjectExpression':
        return this.fail(x, 'objects cannot be created inside a kernel; kernels compute numbers only');
      case 'ArrayExpression':
        return this.fail(
          x,
          'arrays of 2-4 numbers can only be returned or stored in a local (const v = [a, b]); pass other arrays as arguments',
        );
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        return this.fail(
          x,
          'functions cannot be created inside a kernel; add helper functions with gpu.addFunction(fn)',
        );
      case 'NewExpression':
        return this.fail(x, '`new` creates objects, which kernels cannot do');
      case 'AssignmentExpression':
      case 'UpdateExpression':
        return this.effectValue(x, p);
      case 'SequenceExpression':
        return this.fail(x, 'the comma operator is only supported in a for-loop update');
      case 'AwaitExpression':
      case 'YieldExpression':
        return this.fail(
          x,
          `'${x.type === 'AwaitExpression' ? 'await' : 'yield'}' is not supported in kernels`,
        );
      default:
        return this.fail(x, `'${x.type}' is not supported in kernels`);
    }
  }

  private literal(x: Extract<Expression, { type: 'Literal' }>, p: Pos): KExpr {
    const v = x.value;
    if (typeof v === 'number') {
      const raw = x.raw ?? String(v);
      const looksInt = !/[.eE]/.test(raw) || /^0[xXoObB]/.test(raw);
      return { k: 'num', value: v, int: looksInt && Number.isInteger(v) && Math.abs(v) <= INT_MAX, pos: p };
    }
    if (typeof v === 'boolean') return { k: 'bool', value: v, pos: p };
    if (typeof v === 'string')
      this.fail(x, 'strings are not supported in kernels; kernels compute numbers only');
    if (typeof v === 'bigint') this.fail(x, 'BigInt literals are not supported; use ordinary numbers');
    if (v === null && x.regex === undefined && x.bigint === undefined) {
      this.fail(x, '`null` is not a number; kernels compute numbers only');
    }
    return this.fail(x, 'this literal is not supported in kernels; kernels compute numbers only');
  }

  private binary(operator: string, left: Expression, right: Expression, p: Pos, node: Node): KExpr {
    const map: Record<string, BinaryOp> = {
      '+': '+',
      '-': '-',
      '*': '*',
      '/': '/',
      '%': '%',
      '**': '**',
      '<': '<',
      '<=': '<=',
      '>': '>',
      '>=': '>=',
      '==': '==',
      '===': '==',
      '!=': '!=',
      '!==': '!=',
      '&': '&',
      '|': '|',
      '^': '^',
      '<<': '<<',
      '>>': '>>',
      '>>>': '>>>',
    };
    const op = Object.hasOwn(map, operator) ? map[operator] : undefined;
    if (op === undefined) {
      this.fail(node, `the '${operator}' operator is not supported in kernels`);
    }
    const strict = operator === '===' || operator === '!==';
    return { k: 'binary', op, left: this.expr(left), right: this.expr(right), strict, pos: p };
  }

  private member(x: Extract<Expression, { type: 'MemberExpression' }>, p: Pos): KExpr {
    const name = propertyName(x);
    // this.thread.x / this.output.x / this.constants.NAME
    if (x.object.type === 'MemberExpression' && x.object.object.type === 'ThisExpression') {
      const group = propertyName(x.object);
      this.usesThis = true;
      if (group === 'thread' || group === 'output') {
        const axis = name !== undefined && Object.hasOwn(AXES, name) ? AXES[name] : undefined;
        if (axis === undefined) {
          this.fail(x, `this.${group} has only the members x, y and z`);
        }
        return { k: group === 'thread' ? 'thread' : 'outsize', axis, pos: p };
      }
      if (group === 'constants') {
        if (name === undefined) this.fail(x, 'constants must be read by name: this.constants.NAME');
        return { k: 'constant', name, pos: p };
      }
      this.fail(x.object, thisMessage(group));
    }
    if (x.object.type === 'ThisExpression') {
      if (name === 'thread' || name === 'output' || name === 'constants') {
        this.fail(x, `this.${name} is not a number; use this.${name}.${name === 'constants' ? 'NAME' : 'x'}`);
      }
      this.fail(x, thisMessage(name));
    }
    if (
      x.object.type === 'Identifier' &&
      x.object.name === 'Math' &&
      this.lookup('Math', x.object) === undefined
    ) {
      if (name !== undefined && Object.hasOwn(MATH_CONSTANTS, name)) {
        return { k: 'num', value: MATH_CONSTANTS[name]!, int: false, pos: p };
      }
      if (name !== undefined && Object.hasOwn(MATH_ARITY, name)) {
        this.fail(x, `Math.${name} is a function; call it`);
      }
      this.fail(x, `Math.${name ?? '?'} is not part of the kernel language`);
    }
    if (x.computed) {
      // a[i][j][k]: collect the chain down to the array name.
      const indices: KExpr[] = [];
      let node: Expression = x;
      while (node.type === 'MemberExpression' && node.computed) {
        indices.unshift(this.expr(node.property));
        node = node.object as Expression;
      }
      if (node.type !== 'Identifier') {
        this.fail(node, 'only array arguments can be indexed (a[i], a[i][j], a[i][j][k])');
      }
      const sym = this.lookup(node.name, node);
      if (sym === undefined) this.notDefined(node, node.name);
      const vec = this.vectors.get(sym);
      if (vec !== undefined) return this.vectorRead(sym, vec, indices, x, p);
      if (sym.kind !== 'param') {
        this.fail(
          node,
          `'${sym.name}' is a local number, not an array argument; only array arguments can be indexed`,
        );
      }
      if (indices.length > 3) this.fail(x, 'arrays have at most 3 dimensions');
      sym.indexed = true;
      return { k: 'index', sym, indices, pos: p };
    }
    if (name === 'length') {
      this.fail(
        x,
        '`.length` is not supported in kernels; pass sizes as number arguments or constants, or use this.output',
      );
    }
    return this.fail(
      x,
      `property access '.${name ?? '?'}' is not supported: kernels work on numbers and arrays only`,
    );
  }

  /** `v[k]` of a vector local: its component k (a literal index). */
  private vectorRead(sym: Sym, vec: VectorBinding, indices: KExpr[], x: Node, p: Pos): KExpr {
    const k = indices[0];
    if (indices.length !== 1 || k === undefined || k.k !== 'num' || !k.int || k.value < 0 || k.value > 3) {
      this.fail(
        x,
        `'${sym.name}' is a vector; read its components with a literal index (${sym.name}[0] .. ${sym.name}[3])`,
      );
    }
    if ('comps' in vec) {
      const c = vec.comps[k.value];
      if (c === undefined) {
        this.fail(x, `'${sym.name}' has ${vec.comps.length} components; index ${k.value} is out of range`);
      }
      c.readAsValue = true;
      return { k: 'var', sym: c, pos: p };
    }
    vec.alias.indexed = true;
    if (vec.indices.length + 1 > 3) this.fail(x, 'arrays have at most 3 dimensions');
    return { k: 'index', sym: vec.alias, indices: [...vec.indices, k], pos: p };
  }

  private call(x: Extract<Expression, { type: 'CallExpression' }>, p: Pos): KExpr {
    if (x.optional) this.fail(x, 'optional calls (?.) are not supported');
    for (const a of x.arguments) {
      if (a.type === 'SpreadElement') this.fail(a, 'spread arguments are not supported');
    }
    const callee = x.callee;
    if (
      callee.type === 'MemberExpression' &&
      callee.object.type === 'Identifier' &&
      callee.object.name === 'Math'
    ) {
      const name = propertyName(callee);
      if (name === undefined || !Object.hasOwn(MATH_ARITY, name)) {
        this.fail(x, `Math.${name ?? '?'} is not supported in kernels`);
      }
      const fn = name as MathName;
      const arity = MATH_ARITY[fn];
      const n = x.arguments.length;
      if (arity === -1 ? n < 1 : n !== arity) {
        this.fail(
          x,
          `Math.${fn} takes ${arity === -1 ? 'one or more arguments' : `${arity} argument(s)`}, got ${n}`,
        );
      }
      return { k: 'math', fn, args: x.arguments.map((a) => this.expr(a)), pos: p };
    }
    if (callee.type === 'Identifier') {
      const shadow = this.lookup(callee.name, callee);
      if (shadow !== undefined) this.fail(callee, `'${callee.name}' is a variable, not a function`);
      this.calls.add(callee.name);
      const args = x.arguments.map((a) => {
        const arg = a as Expression;
        // An array argument passed through to a helper is a plain identifier.
        if (arg.type === 'Identifier') {
          const s = this.lookup(arg.name, arg);
          if (s !== undefined) return { k: 'var', sym: s, pos: pos(arg) } as KExpr;
        }
        return this.expr(arg);
      });
      return { k: 'call', name: callee.name, args, pos: p };
    }
    if (callee.type === 'MemberExpression' && callee.object.type === 'ThisExpression') {
      this.fail(x, thisMessage(propertyName(callee)));
    }
    return this.fail(
      x,
      'only Math functions and helper functions (gpu.addFunction) can be called in kernels',
    );
  }
}

function thisMessage(name: string | undefined): string {
  return (
    `this.${name ?? '?'} is not part of the kernel language; a kernel can read only this.thread.x/y/z, ` +
    'this.output.x/y/z and this.constants.NAME'
  );
}

function isThisChain(e: Expression | Node): boolean {
  let n = e as Expression;
  while (n.type === 'MemberExpression') n = n.object as Expression;
  return n.type === 'ThisExpression';
}

function propertyName(x: Extract<Expression, { type: 'MemberExpression' }>): string | undefined {
  if (!x.computed && x.property.type === 'Identifier') return x.property.name;
  if (x.computed && x.property.type === 'Literal' && typeof x.property.value === 'string')
    return x.property.value;
  return undefined;
}

/** True when every path through `body` ends in a `return`. */
export function alwaysReturns(body: readonly KStmt[]): boolean {
  for (const s of body) {
    if (s.k === 'return') return true;
    if (s.k === 'block' && alwaysReturns(s.body)) return true;
    if (s.k === 'if' && s.otherwise !== null && alwaysReturns(s.consequent) && alwaysReturns(s.otherwise))
      return true;
  }
  return false;
}

/** The variables assigned anywhere in `stmts`. */
export function assignedIn(stmts: readonly KStmt[], into = new Set<Sym>()): Set<Sym> {
  for (const s of stmts) {
    switch (s.k) {
      case 'assign':
        into.add(s.sym);
        break;
      case 'decl':
        into.add(s.sym);
        break;
      case 'if':
        assignedIn(s.consequent, into);
        if (s.otherwise) assignedIn(s.otherwise, into);
        break;
      case 'loop':
        assignedIn(s.init, into);
        assignedIn(s.update, into);
        assignedIn(s.body, into);
        break;
      case 'block':
        assignedIn(s.body, into);
        break;
      default:
        break;
    }
  }
  return into;
}

/** The variables an expression reads. */
export function symsOf(e: KExpr, into = new Set<Sym>()): Set<Sym> {
  switch (e.k) {
    case 'var':
      into.add(e.sym);
      break;
    case 'index':
      for (const i of e.indices) symsOf(i, into);
      break;
    case 'unary':
      symsOf(e.arg, into);
      break;
    case 'binary':
    case 'logical':
      symsOf(e.left, into);
      symsOf(e.right, into);
      break;
    case 'cond':
      symsOf(e.test, into);
      symsOf(e.consequent, into);
      symsOf(e.otherwise, into);
      break;
    case 'math':
    case 'call':
      for (const a of e.args) symsOf(a, into);
      break;
    default:
      break;
  }
  return into;
}

/**
 * A `for` loop is bounded when its test compares one counter against a limit that the loop does not change,
 * and the update moves the counter towards the limit by a non-zero finite literal step (`i++`, `i += 2`, `i--`
 * with `>`), with the counter not assigned in the body. Such a loop's trip count is known when it starts
 * (whether it is known at compile time, and finite in the backend's arithmetic, is decided in `loops.ts`).
 */
function loopBound(
  init: readonly KStmt[],
  test: KExpr | null,
  update: readonly KStmt[],
  body: readonly KStmt[],
): LoopBound | null {
  if (test === null || test.k !== 'binary' || update.length !== 1) return null;
  const u = update[0]!;
  if (u.k !== 'assign') return null;
  const counter = u.sym;
  let step: number;
  if ((u.op === '+=' || u.op === '-=') && u.value.k === 'num' && Number.isFinite(u.value.value)) {
    step = u.op === '+=' ? u.value.value : -u.value.value;
  } else {
    return null;
  }
  if (step === 0 || !Number.isFinite(step)) return null;
  let op: BinaryOp = test.op;
  let limit: KExpr;
  if (test.left.k === 'var' && test.left.sym === counter) {
    limit = test.right;
  } else if (test.right.k === 'var' && test.right.sym === counter) {
    limit = test.left;
    const flip: Partial<Record<BinaryOp, BinaryOp>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
    const f = Object.hasOwn(flip, op) ? flip[op] : undefined;
    if (f === undefined) return null;
    op = f;
  } else {
    return null;
  }
  const upward = op === '<' || op === '<=';
  const downward = op === '>' || op === '>=';
  if (!((upward && step > 0) || (downward && step < 0))) return null;
  const changed = assignedIn(body);
  if (changed.has(counter)) return null;
  for (const s of symsOf(limit)) if (changed.has(s) || s === counter) return null;
  if (containsNonFinite(limit)) return null;
  // The start: the init's last statement when it sets the counter (and nothing after it changes it).
  const last = init[init.length - 1];
  let start: KExpr | null = null;
  if (last?.k === 'decl' && last.sym === counter) start = last.init;
  else if (last?.k === 'assign' && last.sym === counter && last.op === '=') start = last.value;
  return { counter, start, step, op: op as LoopBound['op'], limit };
}

function containsNonFinite(e: KExpr): boolean {
  if (e.k === 'num') return !Number.isFinite(e.value);
  if (e.k === 'unary') return containsNonFinite(e.arg);
  if (e.k === 'binary') return containsNonFinite(e.left) || containsNonFinite(e.right);
  return false;
}

/** A block's scope on entry: its `let`/`const` names, in their temporal dead zone until declared. */
function lexicalScope(stmts: readonly Statement[]): Scope {
  const scope: Scope = new Map();
  for (const s of stmts) {
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') {
      for (const d of s.declarations) if (d.id.type === 'Identifier') scope.set(d.id.name, null);
    }
  }
  return scope;
}

/** The `var` declarators anywhere in a function body (nested functions are refused elsewhere). */
function varDeclarators(stmts: readonly Statement[]): VariableDeclarator[] {
  const out: VariableDeclarator[] = [];
  const visit = (s: Statement | null | undefined): void => {
    if (!s) return;
    switch (s.type) {
      case 'VariableDeclaration':
        if (s.kind === 'var') out.push(...s.declarations);
        break;
      case 'BlockStatement':
        for (const x of s.body) visit(x as Statement);
        break;
      case 'IfStatement':
        visit(s.consequent);
        visit(s.alternate);
        break;
      case 'ForStatement':
        if (s.init?.type === 'VariableDeclaration') visit(s.init);
        visit(s.body);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if (s.left.type === 'VariableDeclaration') visit(s.left);
        visit(s.body);
        break;
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
        visit(s.body);
        break;
      case 'SwitchStatement':
        for (const c of s.cases) for (const x of c.consequent) visit(x as Statement);
        break;
      case 'TryStatement':
        visit(s.block);
        visit(s.handler?.body);
        visit(s.finalizer);
        break;
      default:
        break;
    }
  };
  for (const s of stmts) visit(s);
  return out;
}

/**
 * Checks that every read of a hoisted `var` (one whose first `var` is not a plain top-level statement) comes
 * after an assignment on every path: JavaScript would read `undefined` there, which kernels cannot represent.
 * Loops count as running zero times; a branch that returns, breaks or continues does not reach what follows.
 *
 * @throws CompileError at the first read that may see no value
 */
function checkHoistedReads(body: readonly KStmt[], hoisted: ReadonlySet<Sym>, op: string): void {
  const fail = (sym: Sym, p: Pos): never => {
    throw new CompileError(
      op,
      `'${sym.name}' (a var) may be read here before any \`var ${sym.name} = ...\` or assignment gives it a ` +
        `value (JavaScript would read undefined); give it a value first, e.g. \`var ${sym.name} = 0;\` at the ` +
        'top of the function',
      p,
    );
  };
  const reads = (e: KExpr | null, set: ReadonlySet<Sym>): void => {
    if (e === null) return;
    for (const s of symsOf(e)) {
      if (hoisted.has(s) && !set.has(s)) {
        let at = e.pos;
        forEachVar(e, (v) => {
          if (v.sym === s) at = v.pos;
        });
        fail(s, at);
      }
    }
  };
  // Returns the set definitely assigned after `list`, or null when `list` never falls through.
  const walk = (list: readonly KStmt[], before: ReadonlySet<Sym>): Set<Sym> | null => {
    let set: Set<Sym> | null = new Set(before);
    for (const s of list) {
      if (set === null) return null;
      set = step(s, set);
    }
    return set;
  };
  const step = (s: KStmt, set: Set<Sym>): Set<Sym> | null => {
    switch (s.k) {
      case 'decl':
        reads(s.init, set);
        set.add(s.sym);
        return set;
      case 'hoist':
        return set;
      case 'assign':
        if (s.op !== '=' && hoisted.has(s.sym) && !set.has(s.sym)) fail(s.sym, s.pos);
        reads(s.value, set);
        set.add(s.sym);
        return set;
      case 'if': {
        reads(s.test, set);
        const a = walk(s.consequent, set);
        const b = s.otherwise ? walk(s.otherwise, set) : new Set(set);
        if (a === null) return b;
        if (b === null) return a;
        return new Set([...a].filter((x) => b.has(x)));
      }
      case 'loop': {
        const init = walk(s.init, set) ?? set;
        if (s.form === 'for') {
          reads(s.test, init);
          walk(s.body, init);
          walk(s.update, init);
          return init;
        }
        // do-while: the body runs once before the test; a `continue` reaches the test early.
        const after = walk(s.body, init);
        const testSet = after !== null && !jumps(s.body, 'continue') ? after : init;
        reads(s.test, testSet);
        return jumps(s.body, 'break') ? init : testSet;
      }
      case 'block':
        return walk(s.body, set);
      case 'return':
        reads(s.value, set);
        return null;
      case 'break':
      case 'continue':
        return null;
      case 'call':
        reads(s.call, set);
        return set;
    }
  };
  walk(body, new Set());
}

/** Whether `list` contains a `break`/`continue` of the enclosing loop (not of a nested one). */
function jumps(list: readonly KStmt[], k: 'break' | 'continue'): boolean {
  for (const s of list) {
    if (s.k === k) return true;
    if (s.k === 'if' && (jumps(s.consequent, k) || (s.otherwise !== null && jumps(s.otherwise, k))))
      return true;
    if (s.k === 'block' && jumps(s.body, k)) return true;
  }
  return false;
}

function forEachVar(e: KExpr, f: (v: Extract<KExpr, { k: 'var' }>) => void): void {
  switch (e.k) {
    case 'var':
      f(e);
      break;
    case 'index':
    case 'math':
    case 'call':
      for (const x of e.k === 'index' ? e.indices : e.args) forEachVar(x, f);
      break;
    case 'unary':
      forEachVar(e.arg, f);
      break;
    case 'binary':
    case 'logical':
      forEachVar(e.left, f);
      forEachVar(e.right, f);
      break;
    case 'cond':
      forEachVar(e.test, f);
      forEachVar(e.consequent, f);
      forEachVar(e.otherwise, f);
      break;
    default:
      break;
  }
}

/** `if (!(test)) break;` */
function breakUnless(test: KExpr): KStmt {
  return {
    k: 'if',
    test: { k: 'unary', op: '!', arg: test, pos: test.pos },
    consequent: [{ k: 'break', pos: test.pos }],
    otherwise: null,
    pos: test.pos,
  };
}

/** Whether the last statement of `body` is a `continue`. */
function endsInContinue(body: readonly KStmt[]): boolean {
  const last = body[body.length - 1];
  return last?.k === 'continue';
}

/** The names read with an index (`name[...]`) or assigned an array literal anywhere in `root`. */
function indexedNames(root: Node): Set<string> {
  const names = new Set<string>();
  const visit = (n: unknown): void => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const node = n as Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (node.type === 'MemberExpression') {
      const m = node as unknown as { computed: boolean; object: Node };
      if (m.computed && m.object.type === 'Identifier')
        names.add((m.object as unknown as { name: string }).name);
    }
    for (const key of Object.keys(node)) {
      if (key === 'loc' || key === 'start' || key === 'end') continue;
      visit(node[key]);
    }
  };
  visit(root);
  return names;
}
