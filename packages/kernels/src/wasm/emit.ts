/**
 * A minimal WebAssembly binary emitter: one module with an imported memory and exported functions of i32
 * parameters, whose bodies are written with {@link Body}. Only what the expression kernels need.
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function utf8Name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function section(id: number, bytes: readonly number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** Value types. */
/** The i32 value type. */
export const I32 = 0x7f;
/** The v128 value type. */
export const V128 = 0x7b;
const VOID = 0x40;

/** Core opcodes used by the kernels. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  select: 0x1b,
  i32Load: 0x28,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32And: 0x71,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32ShrU: 0x76,
  i32Shl: 0x74,
  f64Add: 0xa0,
  f32DemoteF64: 0xb6,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const SIMD = {
  load: 0x00,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  i32x4Eq: 0x37,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  store32Lane: 0x5a,
  load32Zero: 0x5c,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  f32x4Trunc: 0x69,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4Mul: 0xb5,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Sub: 0xe5,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
  load32Splat: 0x09,
  load64Splat: 0x0a,
  store: 0x0b,
  const: 0x0c,
  f64x2ExtractLane: 0x21,
  f64x2Eq: 0x47,
  f64x2Ne: 0x48,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  not: 0x4d,
  and: 0x4e,
  andnot: 0x4f,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  store64Lane: 0x5b,
  load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  f64x2Trunc: 0x7a,
  f64x2Nearest: 0x94,
  i64x2ExtendLowI32x4S: 0xc7,
  i64x2Shl: 0xcb,
  i64x2ShrS: 0xcc,
  i64x2ShrU: 0xcd,
  i64x2Add: 0xce,
  i64x2Sub: 0xd1,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Min: 0xf4,
  f64x2Max: 0xf5,
  f64x2Pmin: 0xf6,
  f64x2Pmax: 0xf7,
  f64x2Floor: 0x75,
  i32x4TruncSatF64x2SZero: 0xfc,
} as const;

/** The 16 bytes of a v128 holding `v` in both f64 lanes. */
function f64x2Bytes(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, v, true);
  dv.setFloat64(8, v, true);
  return [...b];
}

/** The 16 bytes of a v128 holding `v` in both i64 lanes. */
function i64x2Bytes(v: bigint): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, v, true);
  dv.setBigInt64(8, v, true);
  return [...b];
}

/** The 16 bytes of a v128 holding `v` (rounded to float32) in all four f32 lanes. */
function f32x4Bytes(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setFloat32(4 * i, v, true);
  return [...b];
}

/** The 16 bytes of a v128 holding `v` in all four i32 lanes. */
function i32x4Bytes(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setInt32(4 * i, v, true);
  return [...b];
}

/** A function body under construction: i32 parameters, then locals allocated on demand. */
export class Body {
  /** The instruction bytes. */
  readonly code: number[] = [];
  readonly #params: number;
  readonly #locals: number[] = [];

  /** @param params - the number of i32 parameters (locals 0 … params − 1) */
  constructor(params: number) {
    this.#params = params;
  }

  /** A new local of type `type` (its index). */
  local(type: number = V128): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  /** How many locals have been allocated. */
  get localCount(): number {
    return this.#locals.length;
  }

  /** Appends raw instruction bytes. */
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** `local.get l`. */
  get(l: number): this {
    return this.op(OP.localGet, ...uleb(l));
  }

  /** `local.set l`. */
  set(l: number): this {
    return this.op(OP.localSet, ...uleb(l));
  }

  /** `i32.const v`. */
  i32(v: number): this {
    return this.op(OP.i32Const, ...sleb(v));
  }

  /** A SIMD instruction (0xfd prefix, opcode, immediates). */
  simd(code: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(code), ...imm);
  }

  /** Pushes a v128 with `v` in both f64 lanes. */
  f64x2(v: number): this {
    return this.simd(SIMD.const, ...f64x2Bytes(v));
  }

  /** Pushes a v128 with `v` in both i64 lanes. */
  i64x2(v: bigint): this {
    return this.simd(SIMD.const, ...i64x2Bytes(v));
  }

  /** Pushes a v128 with `v` (rounded to float32) in all four f32 lanes. */
  f32x4(v: number): this {
    return this.simd(SIMD.const, ...f32x4Bytes(v));
  }

  /** Pushes a v128 with `v` in all four i32 lanes. */
  i32x4(v: number): this {
    return this.simd(SIMD.const, ...i32x4Bytes(v));
  }

  /** A memory immediate: alignment (log2) and constant offset. */
  static memarg(alignLog2: number, offset: number): number[] {
    return [...uleb(alignLog2), ...uleb(offset)];
  }

  /** The encoded body: locals (grouped by runs of one type) and code, ending with `end`. */
  encode(): number[] {
    const groups: Array<[number, number]> = [];
    for (const t of this.#locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const bytes = [...uleb(groups.length)];
    for (const [count, t] of groups) bytes.push(...uleb(count), t);
    bytes.push(...this.code, OP.end);
    return [...uleb(bytes.length), ...bytes];
  }
}

/** Blocks and loops without results. */
export const BLOCK = [OP.block, VOID] as const;
/** A loop without results. */
export const LOOP = [OP.loop, VOID] as const;
/** An if without results. */
export const IF = [OP.if, VOID] as const;

/**
 * The imported memory's type: `shared` memories need a `maximum` (in 64 KiB pages), and an import matches
 * a memory only if the shared-ness is the same and the memory's limits lie within the declared ones.
 */
export interface MemoryImport {
  /** Declared minimum size in pages (default 1). */
  readonly minimum?: number;
  /** Declared maximum size in pages (required when shared). */
  readonly maximum?: number;
  /** A shared memory (WebAssembly threads); default false. */
  readonly shared?: boolean;
}

/** The limits of a memory type: flags 0x00 (min), 0x01 (min, max) or 0x03 (shared, min, max). */
function memoryLimits(m: MemoryImport): number[] {
  const min = uleb(m.minimum ?? 1);
  if (m.shared === true) {
    if (m.maximum === undefined) throw new Error('moduleBytes: a shared memory needs a maximum');
    return [0x03, ...min, ...uleb(m.maximum)];
  }
  return m.maximum === undefined ? [0x00, ...min] : [0x01, ...min, ...uleb(m.maximum)];
}

/**
 * A module importing memory `m.mem` (of type `memory`: by default non-shared with a minimum of one page) and
 * exporting each function under its name; every function takes `params` i32 parameters and returns nothing.
 */
export function moduleBytes(
  functions: ReadonlyArray<{ name: string; params: number; body: Body }>,
  memory: MemoryImport = {},
): Uint8Array<ArrayBuffer> {
  const types: number[] = [];
  const byArity = new Map<number, number>();
  for (const f of functions) {
    if (!byArity.has(f.params)) {
      byArity.set(f.params, byArity.size);
      types.push(0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0);
    }
  }
  const bodies = functions.flatMap((f) => f.body.encode());
  const exportsBytes = functions.flatMap((f, i) => [...utf8Name(f.name), 0x00, ...uleb(i)]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...uleb(byArity.size), ...types]),
    ...section(2, [1, ...utf8Name('m'), ...utf8Name('mem'), 0x02, ...memoryLimits(memory)]),
    ...section(3, [...uleb(functions.length), ...functions.flatMap((f) => uleb(byArity.get(f.params)!))]),
    ...section(7, [...uleb(functions.length), ...exportsBytes]),
    ...section(10, [...uleb(functions.length), ...bodies]),
  ];
  return new Uint8Array(bytes);
}
