/**
 * The kernel language's intermediate representation: what `parse.ts` makes of a kernel (or helper) function's
 * JavaScript source, and what the JavaScript and WGSL emitters consume. Nodes carry their source position so
 * that type errors found later still point at the kernel's line and column.
 */

/** A 1-based line and 0-based column in the kernel's source text. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/** The scalar types values take inside a kernel. `int` is a 32-bit integer on the webgpu backend. */
export type ScalarType = 'int' | 'float' | 'bool';

/** A variable: a parameter or a local declared with `let`, `const` or `var`. */
export interface Sym {
  /** Unique within one parsed function; also used to name the variable in generated code. */
  readonly id: number;
  /** The name in the source. */
  readonly name: string;
  /** `param` for the function's parameters (number or array), otherwise how it was declared. */
  readonly kind: 'param' | 'let' | 'const' | 'var';
  /** For parameters, the position in the parameter list. */
  readonly paramIndex: number;
  /** Where the variable is declared. */
  readonly pos: Pos;
  /** Whether the variable is assigned after its declaration (set by the parser). */
  assigned: boolean;
  /** Whether the variable is indexed (`a[i]`), which makes a parameter an array. */
  indexed: boolean;
  /** Whether the variable is read as a plain value. */
  readAsValue: boolean;
}

/** The `Math` functions of the kernel language. */
export type MathName =
  | 'abs'
  | 'acos'
  | 'acosh'
  | 'asin'
  | 'asinh'
  | 'atan'
  | 'atan2'
  | 'atanh'
  | 'cbrt'
  | 'ceil'
  | 'cos'
  | 'cosh'
  | 'exp'
  | 'expm1'
  | 'floor'
  | 'fround'
  | 'hypot'
  | 'log'
  | 'log10'
  | 'log1p'
  | 'log2'
  | 'max'
  | 'min'
  | 'pow'
  | 'round'
  | 'sign'
  | 'sin'
  | 'sinh'
  | 'sqrt'
  | 'tan'
  | 'tanh'
  | 'trunc'
  | 'imul'
  | 'clz32'
  | 'random';

/** Arithmetic and comparison operators (`===`/`!==` are folded into `==`/`!=`, `**` is kept). */
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '**' | '<' | '<=' | '>' | '>=' | '==' | '!=' | BitwiseOp;

/** Bitwise operators: operands are converted to 32-bit integers as in JavaScript (ToInt32). */
export type BitwiseOp = '&' | '|' | '^' | '<<' | '>>' | '>>>';

/** An expression of the kernel language. */
export type KExpr =
  | { readonly k: 'num'; readonly value: number; readonly int: boolean; readonly pos: Pos }
  | { readonly k: 'bool'; readonly value: boolean; readonly pos: Pos }
  | { readonly k: 'var'; readonly sym: Sym; readonly pos: Pos }
  | { readonly k: 'thread'; readonly axis: 0 | 1 | 2; readonly pos: Pos }
  | { readonly k: 'outsize'; readonly axis: 0 | 1 | 2; readonly pos: Pos }
  | { readonly k: 'constant'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'index'; readonly sym: Sym; readonly indices: readonly KExpr[]; readonly pos: Pos }
  | { readonly k: 'unary'; readonly op: '-' | '+' | '!' | '~'; readonly arg: KExpr; readonly pos: Pos }
  | {
      readonly k: 'binary';
      readonly op: BinaryOp;
      readonly left: KExpr;
      readonly right: KExpr;
      /** For `==`/`!=`: written `===`/`!==` (a boolean is then never equal to a number). */
      readonly strict?: boolean;
      readonly pos: Pos;
    }
  | {
      readonly k: 'logical';
      readonly op: '&&' | '||';
      readonly left: KExpr;
      readonly right: KExpr;
      readonly pos: Pos;
    }
  | {
      readonly k: 'cond';
      readonly test: KExpr;
      readonly consequent: KExpr;
      readonly otherwise: KExpr;
      readonly pos: Pos;
    }
  | { readonly k: 'math'; readonly fn: MathName; readonly args: readonly KExpr[]; readonly pos: Pos }
  | { readonly k: 'call'; readonly name: string; readonly args: readonly KExpr[]; readonly pos: Pos };

/** Compound assignment operators (`x++` is `x += 1`). */
export type AssignOp =
  | '='
  | '+='
  | '-='
  | '*='
  | '/='
  | '%='
  | '**='
  | '&='
  | '|='
  | '^='
  | '<<='
  | '>>='
  | '>>>=';

/**
 * The shape of a counting loop: `counter` starts at `start` (null when the loop's init does not set it), moves
 * by the literal `step` after each iteration, and the loop runs while `counter op limit`.
 */
export interface LoopBound {
  readonly counter: Sym;
  readonly start: KExpr | null;
  readonly step: number;
  readonly op: '<' | '<=' | '>' | '>=';
  readonly limit: KExpr;
}

/** A statement of the kernel language. */
export type KStmt =
  | { readonly k: 'decl'; readonly sym: Sym; readonly init: KExpr; readonly pos: Pos }
  /**
   * A function-scoped `var` declared at the top of the function with no value yet (JavaScript's hoisting).
   * The parser checks that every read of it comes after an assignment on every path.
   */
  | { readonly k: 'hoist'; readonly sym: Sym; readonly pos: Pos }
  | {
      readonly k: 'assign';
      readonly sym: Sym;
      readonly op: AssignOp;
      readonly value: KExpr;
      readonly pos: Pos;
    }
  | {
      readonly k: 'if';
      readonly test: KExpr;
      readonly consequent: readonly KStmt[];
      readonly otherwise: readonly KStmt[] | null;
      readonly pos: Pos;
    }
  | {
      readonly k: 'loop';
      /** `for` (test before each iteration, update after) or `do` (test after). `while` is a `for`. */
      readonly form: 'for' | 'do';
      readonly init: readonly KStmt[];
      readonly test: KExpr | null;
      readonly update: readonly KStmt[];
      readonly body: readonly KStmt[];
      /** True when the iteration count is known before the loop starts (see `parse.ts`). */
      readonly bounded: boolean;
      /** For a bounded loop, its counter, start, step and limit (see `loops.ts`); null otherwise. */
      readonly bound: LoopBound | null;
      readonly pos: Pos;
    }
  | { readonly k: 'break'; readonly pos: Pos }
  | { readonly k: 'continue'; readonly pos: Pos }
  | {
      readonly k: 'return';
      readonly value: KExpr;
      /** For `return [a, b, c]` (a vector of 2-4 numbers): the components; `value` is the first. */
      readonly items?: readonly KExpr[];
      readonly pos: Pos;
    }
  | { readonly k: 'block'; readonly body: readonly KStmt[]; readonly pos: Pos }
  | { readonly k: 'call'; readonly call: KExpr; readonly pos: Pos };

/** A parsed kernel or helper function. */
export interface KFunction {
  /** The function's name (`kernel` for an anonymous kernel). */
  readonly name: string;
  /** The parameters, in order. */
  readonly params: readonly Sym[];
  /** The body. */
  readonly body: readonly KStmt[];
  /** The names of the helper functions it calls. */
  readonly calls: ReadonlySet<string>;
  /** Whether any statement or expression reads `this.thread`, `this.output` or `this.constants`. */
  readonly usesThis: boolean;
  /** The source text that was parsed (positions refer to it). */
  readonly source: string;
  /** Functions declared inside this one (`function name() {...}` in its body): helpers it may call. */
  readonly nested: readonly KFunction[];
}
