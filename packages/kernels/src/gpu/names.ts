import type { KExpr, KStmt, Sym } from './ir.js';
import type { Specialization, TypedProgram } from './types.js';

/** The generated-code name of a variable: a prefix keeps user names clear of keywords and of `gk_` names. */
export function symName(sym: Sym): string {
  return `u_${sym.name.replace(/[^A-Za-z0-9_]/g, '_')}_${sym.id}`;
}

/** The helper specializations a program really calls (the type fixpoint may leave unused ones behind). */
export function reachableHelpers(program: TypedProgram): Specialization[] {
  const seen = new Set<Specialization>();
  const todo: Specialization[] = [program.kernel];
  while (todo.length > 0) {
    for (const t of todo.pop()!.targets.values()) {
      if (!seen.has(t)) {
        seen.add(t);
        todo.push(t);
      }
    }
  }
  return program.helpers.filter((h) => seen.has(h));
}

/** Calls `f` on every expression in `stmts`, outermost first. */
export function forEachExpr(stmts: readonly KStmt[], f: (e: KExpr) => void): void {
  const walkExpr = (e: KExpr): void => {
    f(e);
    switch (e.k) {
      case 'index':
        e.indices.forEach(walkExpr);
        break;
      case 'unary':
        walkExpr(e.arg);
        break;
      case 'binary':
      case 'logical':
        walkExpr(e.left);
        walkExpr(e.right);
        break;
      case 'cond':
        walkExpr(e.test);
        walkExpr(e.consequent);
        walkExpr(e.otherwise);
        break;
      case 'math':
      case 'call':
        e.args.forEach(walkExpr);
        break;
      default:
        break;
    }
  };
  const walk = (list: readonly KStmt[]): void => {
    for (const s of list) {
      switch (s.k) {
        case 'decl':
          walkExpr(s.init);
          break;
        case 'assign':
          walkExpr(s.value);
          break;
        case 'if':
          walkExpr(s.test);
          walk(s.consequent);
          if (s.otherwise) walk(s.otherwise);
          break;
        case 'loop':
          walk(s.init);
          if (s.test) walkExpr(s.test);
          walk(s.body);
          walk(s.update);
          break;
        case 'block':
          walk(s.body);
          break;
        case 'return':
          walkExpr(s.value);
          break;
        case 'call':
          walkExpr(s.call);
          break;
        default:
          break;
      }
    }
  };
  walk(stmts);
}

/** Whether an expression (or a helper it calls) reads `this.thread` along `axis`. */
export function dependsOnThread(e: KExpr, axis: 0 | 1 | 2, spec: Specialization): boolean {
  let found = false;
  forEachExpr([{ k: 'call', call: e, pos: e.pos }], (x) => {
    if (x.k === 'thread' && x.axis === axis) found = true;
    if (x.k === 'call' && spec.targets.get(x)?.usesThread) found = true;
  });
  return found;
}
