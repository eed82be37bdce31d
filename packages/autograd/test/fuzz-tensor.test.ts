/**
 * Fuzz: every public function exported by @gradkit/autograd (enumerated from the module, so new exports are
 * covered unless listed below with a reason) and every Tensor method and getter, called with malformed
 * inputs — bad shapes, dtypes, NaN/inf, holes, hostile objects (`__proto__` keys, throwing getters,
 * Proxies), huge sizes, wrong argument counts and types. Each call must return normally (a returned Tensor
 * must be well formed: data length = product of a valid shape) or throw a typed GradkitError — never a
 * crash, a hang, a RangeError, a TypeError or a malformed tensor.
 */
import * as AG from '@gradkit/autograd';
import { GradkitError, setMatmulKernel, Tensor } from '@gradkit/autograd';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HostileError, hostileProxy, throwingArray, throwingGetter } from '../../testing/test/hostile.js';

/**
 * Exports not fuzzed, each with the reason. Everything else that is a function is fuzzed.
 */
const KERNELS = 're-exported from @gradkit/kernels, whose own tests cover its input checks';
const BUILDING_BLOCK =
  'building block for writing ops: its arguments come from validated tensors and from the calling op ' +
  '(op names are strings in code), so it does not re-validate them on every call';
const NOT_FUZZED: Record<string, string> = {
  allocate: BUILDING_BLOCK,
  allocateOutput: BUILDING_BLOCK,
  applyElementwise: BUILDING_BLOCK,
  broadcastStrides: BUILDING_BLOCK,
  checkCpuTensor: BUILDING_BLOCK,
  checkTensor: BUILDING_BLOCK,
  contiguousStrides: BUILDING_BLOCK,
  elementwiseSpec: BUILDING_BLOCK,
  expressionOp: BUILDING_BLOCK,
  normalizeAxes: BUILDING_BLOCK,
  normalizeAxis: BUILDING_BLOCK,
  record: BUILDING_BLOCK,
  record1: BUILDING_BLOCK,
  reducedShape: BUILDING_BLOCK,
  requireSameDtype: BUILDING_BLOCK,
  sameShape: BUILDING_BLOCK,
  sizeOf: BUILDING_BLOCK,
  compile: KERNELS,
  derive: KERNELS,
  evaluate: KERNELS,
  evaluateBatch: KERNELS,
  gradient: KERNELS,
};

// ---------------------------------------------------------------------------------------------------------
// The pool of hostile and ordinary arguments. Each entry is a factory, so in-place ops cannot leak state
// between calls.
// ---------------------------------------------------------------------------------------------------------

/**
 * The error hostile user objects throw. An exception raised by user code (a getter, a Proxy trap) may
 * propagate unchanged — it is the user's own error, as in PyTorch — but gradkit must not fail on its own.
 */
const getter = throwingGetter('dtype');
const getterArray = throwingArray([1, 2]);
const proxy = hostileProxy([1, 2]);

/** A small tensor of `shape` with values -1.5, -0.5, 0.5, 1.5, 2.5, -1.5, ... */
const small = (shape: number[], dtype: 'float32' | 'float64' = 'float32', requiresGrad = false): Tensor =>
  AG.fromArray(
    Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => (i % 5) - 1.5),
    shape,
    { dtype, requiresGrad },
  );

const POOL: Record<string, () => unknown> = {
  // numbers
  zero: () => 0,
  one: () => 1,
  two: () => 2,
  minusOne: () => -1,
  half: () => 1.5,
  nan: () => Number.NaN,
  inf: () => Number.POSITIVE_INFINITY,
  negInf: () => Number.NEGATIVE_INFINITY,
  negZero: () => -0,
  huge31: () => 2 ** 31,
  huge53: () => 2 ** 53,
  e300: () => 1e300,
  // other primitives
  str: () => 'abc',
  numStr: () => '2',
  dtypeStr: () => 'float64',
  nul: () => null,
  undef: () => undefined,
  yes: () => true,
  no: () => false,
  big: () => 3n,
  sym: () => Symbol('s'),
  // functions
  fn0: () => () => 1,
  fn1: () => (x: unknown) => x,
  fn2: () => (a: unknown, _b: unknown) => a,
  // objects
  obj: () => ({}),
  protoKey: () => JSON.parse('{"__proto__": {"dtype": "float64", "requiresGrad": true}}'),
  unknownKey: () => ({ dtyp: 'float64' }),
  opts64: () => ({ dtype: 'float64' }),
  optsGrad: () => ({ requiresGrad: true, dtype: 'float64' }),
  getter,
  date: () => new Date(0),
  // arrays and shapes
  empty: () => [],
  shape23: () => [2, 3],
  shapeNeg: () => [2, -1],
  shapeFrac: () => [1.5],
  shapeNaN: () => [Number.NaN],
  shapeHuge: () => [2 ** 31, 2 ** 31],
  shapeBig: () => [65536, 65536],
  shape53: () => [2 ** 53],
  holes: () => {
    const a = [1, 2, 3];
    delete a[1];
    return a;
  },
  nested: () => [
    [1, 2],
    [3, 4],
  ],
  ragged: () => [[1, 2], [3]],
  strings: () => ['a', 'b'],
  getterArray,
  proxy,
  typed: () => new Float64Array([1, 2, 3]),
  int32: () => new Int32Array([1, 2]),
  bigArr: () => new BigInt64Array([1n, 2n ** 60n]),
  // tensors
  t0: () => AG.scalarTensor(2),
  t3: () => small([3]),
  t23: () => small([2, 3]),
  t32: () => small([3, 2], 'float64'),
  t234: () => small([2, 3, 4]),
  t1: () => small([1]),
  tEmpty: () => small([0, 3]),
  tGrad: () => small([2, 3], 'float64', true),
  tNaN: () => AG.full([3], Number.NaN),
  tNonLeaf: () => small([3], 'float64', true).mul(2),
  value: () => AG.value(2),
  sym2: () => AG.symbol('q'),
};
const POOL_NAMES = Object.keys(POOL);

/** An argument list: 0–5 pool entries, drawn by name (so counterexamples print readably). */
const argNames = fc.array(fc.constantFrom(...POOL_NAMES), { minLength: 0, maxLength: 5 });

function wellFormed(x: unknown, where: string): void {
  if (x instanceof Tensor) {
    expect(Array.isArray(x.shape), where).toBe(true);
    for (const d of x.shape)
      expect(Number.isSafeInteger(d) && d >= 0, `${where}: shape ${x.shape}`).toBe(true);
    expect(x.data.length, `${where}: data length vs shape ${x.shape}`).toBe(
      x.shape.reduce((a, d) => a * d, 1),
    );
    expect(x.dtype === 'float32' || x.dtype === 'float64', where).toBe(true);
  } else if (Array.isArray(x)) {
    x.forEach((y, i) => {
      wellFormed(y, `${where}[${i}]`);
    });
  }
}

const BINARY = new Set([
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'minimum',
  'maximum',
  'lt',
  'le',
  'gt',
  'ge',
  'eq',
]);
const UNARY = new Set([
  'neg',
  'exp',
  'log',
  'abs',
  'sqrt',
  'sigmoid',
  'tanh',
  'relu',
  'square',
  'clone',
  'softmax',
]);
const INPLACE = new Set([
  'add_',
  'sub_',
  'mul_',
  'div_',
  'copy_',
  'fill_',
  'zero_',
  'clamp_',
  'lerp_',
  'maximum_',
]);

/** The shape a call must produce, where it is known from the arguments alone (else undefined). */
function expectedShape(name: string, args: readonly unknown[]): readonly number[] | undefined {
  const shapeOf = (a: unknown) => (a instanceof Tensor ? a.shape : typeof a === 'number' ? [] : undefined);
  if (BINARY.has(name) && args.length >= 2) {
    const [a, b] = [shapeOf(args[0]), shapeOf(args[1])];
    if (a === undefined || b === undefined) return undefined;
    const rank = Math.max(a.length, b.length);
    return Array.from({ length: rank }, (_, i) => {
      const x = a[a.length - rank + i] ?? 1;
      const y = b[b.length - rank + i] ?? 1;
      return x === 1 ? y : x;
    });
  }
  if ((UNARY.has(name) || INPLACE.has(name)) && args[0] instanceof Tensor) return args[0].shape;
  return undefined;
}

/**
 * Calls `f`; passes when it returns a well-formed result or throws a GradkitError (or lets a hostile
 * object's own exception through unchanged).
 */
function expectTypedOutcome(where: string, f: () => unknown): void {
  let result: unknown;
  try {
    result = f();
  } catch (e) {
    if (e instanceof GradkitError || e instanceof HostileError) return;
    const err = e as Error;
    throw new Error(`${where} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`);
  }
  wellFormed(result, where);
}

afterAll(() => {
  setMatmulKernel('auto');
  AG.manualSeed(0);
});

const functions = Object.entries(AG)
  .filter(([name, v]) => typeof v === 'function' && !(name in NOT_FUZZED))
  .filter(([, v]) => !/^class\b/.test(Function.prototype.toString.call(v)));

describe('fuzz: exported functions', () => {
  it('enumerates the exports (new ones are fuzzed by default)', () => {
    expect(functions.length).toBeGreaterThan(100);
    for (const name of Object.keys(NOT_FUZZED)) expect(name in AG, name).toBe(true);
  });
  for (const [name, fn] of functions) {
    it(`${name}(...) gives a typed error or a well-formed result`, () => {
      fc.assert(
        fc.property(argNames, (names) => {
          const args = names.map((n) => POOL[n]!());
          const where = `${name}(${names.join(', ')})`;
          const want = expectedShape(name, args);
          expectTypedOutcome(where, () => {
            const r = (fn as (...a: unknown[]) => unknown)(...args);
            if (want !== undefined && r instanceof Tensor) expect(r.shape, where).toEqual(want);
            if (INPLACE.has(name) && r !== undefined) expect(r, `${where} returns its target`).toBe(args[0]);
            return r;
          });
        }),
        propertyConfig({ numRuns: 120 }),
      );
    });
  }
});

/** Tensor members not fuzzed, with the reason. */
const NOT_FUZZED_METHODS: Record<string, string> = {
  runHooks: `@internal ${BUILDING_BLOCK}`,
};
const methodNames = Object.getOwnPropertyNames(Tensor.prototype).filter(
  (m) => m !== 'constructor' && !(m in NOT_FUZZED_METHODS),
);
const receivers = ['t0', 't3', 't23', 't234', 'tEmpty', 'tGrad', 'tNonLeaf', 'tNaN'];

describe('fuzz: Tensor methods and getters', () => {
  for (const m of methodNames) {
    it(`Tensor.${m} gives a typed error or a well-formed result`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...receivers), argNames, (recv, names) => {
          const self = POOL[recv]!() as Tensor;
          const desc = Object.getOwnPropertyDescriptor(Tensor.prototype, m)!;
          if (desc.get !== undefined) {
            expectTypedOutcome(`${recv}.${m}`, () => desc.get!.call(self));
            return;
          }
          const args = names.map((n) => POOL[n]!());
          expectTypedOutcome(`${recv}.${m}(${names.join(', ')})`, () =>
            (desc.value as (...a: unknown[]) => unknown).apply(self, args),
          );
        }),
        propertyConfig({ numRuns: 120 }),
      );
    });
  }
});
