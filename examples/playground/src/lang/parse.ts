import { type BinaryOp, isQuantity, type Node } from './ast.js';
import { FactorSyntaxError } from './error.js';
import { FUNCTIONS, isFunction, RESERVED_NAMES } from './functions.js';

/**
 * The factor language (a small expression language, parsed here by recursive descent; nothing is evaluated as
 * JavaScript):
 *
 * ```
 * expr       := additive (('<' | '<=' | '>' | '>=' | '==' | '!=') additive)?   comparisons do not chain
 * additive   := term (('+' | '-') term)*
 * term       := unary (('*' | '/') unary)*
 * unary      := '-' unary | power
 * power      := primary (('^' | '**') unary)?                                     right-associative; -a^b = -(a^b)
 * primary    := number | name | function '(' expr (',' expr)* ')' | '(' expr ')'
 * ```
 *
 * Numbers are decimal (`2`, `0.25`, `.5`, `1e-3`); names are the quantities `x, y, p, pt, logPt, log1mPt` or
 * parameters (any other identifier that is not a function or an option name of the modulated losses).
 */

type TokenKind = 'num' | 'ident' | 'op' | '(' | ')' | ',' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly from: number;
  readonly to: number;
}

/** Longest text a factor may have (a bound on the parser's work and recursion). */
export const MAX_FACTOR_LENGTH = 2000;

/** Deepest nesting of parentheses, calls and unary minus accepted. */
export const MAX_DEPTH = 64;

const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATORS = ['**', '<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '^'];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    NUMBER.lastIndex = i;
    IDENT.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num !== null) {
      const end = i + num[0].length;
      if (IDENT.test(text[end] ?? '')) {
        throw new FactorSyntaxError(i, end + 1, `malformed number '${text.slice(i, end + 1)}'`);
      }
      out.push({ kind: 'num', text: num[0], from: i, to: end });
      i = end;
      continue;
    }
    const id = IDENT.exec(text);
    if (id !== null) {
      out.push({ kind: 'ident', text: id[0], from: i, to: i + id[0].length });
      i += id[0].length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, text: c, from: i, to: i + 1 });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      out.push({ kind: 'op', text: op, from: i, to: i + op.length });
      i += op.length;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    throw new FactorSyntaxError(i, i + ch.length, `unexpected character ${JSON.stringify(ch)}`);
  }
  out.push({ kind: 'end', text: '', from: text.length, to: text.length });
  return out;
}

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** What a token is called in a message. */
function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the factor' : `'${t.text}'`;
}

class Parser {
  #tokens: Token[];
  #pos = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  get #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #next(): Token {
    return this.#tokens[this.#pos++]!;
  }

  #fail(t: Token, reason: string): never {
    // An error at the end underlines the last character (CodeMirror cannot show an empty range well).
    const from = t.kind === 'end' ? Math.max(0, t.from - 1) : t.from;
    throw new FactorSyntaxError(from, Math.max(t.to, from + 1), reason);
  }

  #expect(kind: TokenKind, what: string): Token {
    const t = this.#peek;
    if (t.kind !== kind) this.#fail(t, `expected ${what}, found ${describe(t)}`);
    return this.#next();
  }

  #isOp(...ops: string[]): boolean {
    const t = this.#peek;
    return t.kind === 'op' && ops.includes(t.text);
  }

  #nest<T>(t: Token, f: () => T): T {
    if (++this.#depth > MAX_DEPTH) this.#fail(t, `the factor nests deeper than ${MAX_DEPTH} levels`);
    try {
      return f();
    } finally {
      this.#depth--;
    }
  }

  parseAll(): Node {
    if (this.#peek.kind === 'end') {
      throw new FactorSyntaxError(0, 0, 'the factor is empty; write an expression such as (1 - pt)^gamma');
    }
    const node = this.#expr();
    const t = this.#peek;
    if (t.kind !== 'end') {
      this.#fail(t, `expected an operator or the end of the factor, found ${describe(t)}`);
    }
    return node;
  }

  #expr(): Node {
    const left = this.#additive();
    if (!this.#isOp(...COMPARISONS)) return left;
    const op = this.#next().text as BinaryOp;
    const right = this.#additive();
    if (this.#isOp(...COMPARISONS)) {
      this.#fail(this.#peek, 'comparisons do not chain: use parentheses, e.g. (a < b) * (b < c)');
    }
    return { kind: 'binary', op, left, right, from: left.from, to: right.to };
  }

  #additive(): Node {
    let left = this.#term();
    while (this.#isOp('+', '-')) {
      const op = this.#next().text as BinaryOp;
      const right = this.#term();
      left = { kind: 'binary', op, left, right, from: left.from, to: right.to };
    }
    return left;
  }

  #term(): Node {
    let left = this.#unary();
    while (this.#isOp('*', '/')) {
      const op = this.#next().text as BinaryOp;
      const right = this.#unary();
      left = { kind: 'binary', op, left, right, from: left.from, to: right.to };
    }
    return left;
  }

  #unary(): Node {
    if (this.#isOp('-')) {
      const t = this.#next();
      return this.#nest(t, () => {
        const arg = this.#unary();
        return { kind: 'neg', arg, from: t.from, to: arg.to };
      });
    }
    if (this.#isOp('+')) this.#fail(this.#peek, "unary '+' is not part of the language; drop it");
    return this.#power();
  }

  #power(): Node {
    const base = this.#primary();
    if (!this.#isOp('^', '**')) return base;
    const t = this.#next();
    return this.#nest(t, () => {
      const exponent = this.#unary();
      return { kind: 'binary', op: '^', left: base, right: exponent, from: base.from, to: exponent.to };
    });
  }

  #primary(): Node {
    const t = this.#peek;
    if (t.kind === 'num') {
      this.#next();
      const value = Number(t.text);
      if (!Number.isFinite(value)) this.#fail(t, `the number ${t.text} is not finite in float64`);
      return { kind: 'num', value, from: t.from, to: t.to };
    }
    if (t.kind === 'ident') {
      this.#next();
      if (isFunction(t.text)) return this.#call(t);
      if (this.#peek.kind === '(') {
        this.#fail(t, `unknown function '${t.text}'; functions: ${Object.keys(FUNCTIONS).join(', ')}`);
      }
      if (!isQuantity(t.text) && RESERVED_NAMES.has(t.text)) {
        this.#fail(t, `'${t.text}' is an option of the modulated losses, not a parameter name`);
      }
      return { kind: 'name', name: t.text, from: t.from, to: t.to };
    }
    if (t.kind === '(') {
      this.#next();
      return this.#nest(t, () => {
        const inner = this.#expr();
        const close = this.#expect(')', "')'");
        return { ...inner, from: t.from, to: close.to };
      });
    }
    this.#fail(t, `expected a number, a name, a function or '(', found ${describe(t)}`);
  }

  #call(name: Token): Node {
    const fn = name.text as keyof typeof FUNCTIONS;
    const arity = FUNCTIONS[fn];
    if (this.#peek.kind !== '(') this.#fail(name, `'${fn}' is a function: write ${fn}(…)`);
    this.#next();
    return this.#nest(name, () => {
      const args: Node[] = [this.#expr()];
      while (this.#peek.kind === ',') {
        this.#next();
        args.push(this.#expr());
      }
      const close = this.#expect(')', args.length < arity ? "',' or ')'" : "')'");
      if (args.length !== arity) {
        throw new FactorSyntaxError(
          name.from,
          close.to,
          `${fn} takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}`,
        );
      }
      return { kind: 'call', fn, args, from: name.from, to: close.to };
    });
  }
}

/**
 * Parses a factor into its syntax tree.
 *
 * @throws FactorSyntaxError with the offending range for text that is not a factor (or longer than
 *   {@link MAX_FACTOR_LENGTH}, or nested deeper than {@link MAX_DEPTH})
 */
export function parseFactor(text: string): Node {
  if (text.length > MAX_FACTOR_LENGTH) {
    throw new FactorSyntaxError(
      MAX_FACTOR_LENGTH,
      text.length,
      `the factor is longer than ${MAX_FACTOR_LENGTH} characters`,
    );
  }
  return new Parser(tokenize(text)).parseAll();
}
