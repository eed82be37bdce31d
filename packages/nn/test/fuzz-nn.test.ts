/**
 * Fuzz: every public export of @gradkit/nn — functions, the `metrics` and `init` namespaces (walked
 * recursively, so new exports are covered unless listed below with a reason), every class (constructed
 * with `new` and hostile arguments) and every public method and getter of a well-formed instance of each
 * class — called with malformed inputs: bad shapes, dtypes, NaN/inf, holes, typed arrays of every kind,
 * hostile objects (`__proto__` keys, throwing getters, Proxies), huge sizes, wrong argument counts and
 * types, broken CSV text and safetensors bytes. Each call must return normally with a well-formed result
 * (tensors: data length = product of a valid shape; metrics: never NaN; layers: the right output shape) or
 * throw a typed GradkitError — never a crash, a hang, a RangeError, a TypeError or a malformed tensor.
 *
 * Policy for user code: an exception raised by the user's own code (a getter, a Proxy trap, an iterator, a
 * closure passed to `step`) may propagate unchanged — it is the user's error, as in PyTorch — but gradkit
 * must not fail on its own. The file functions (`loadCsv`, `loadSafetensorsFile`, `saveSafetensorsFile`)
 * are fuzzed with their paths inside a temporary folder; `loadSafetensorsFile` / `saveSafetensorsFile`
 * document that the file system's own errors (ENOENT, EISDIR, …) pass through as they are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as AG from '@gradkit/autograd';
import { Generator, GradkitError, Tensor } from '@gradkit/autograd';
import * as NN from '@gradkit/nn';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HostileError, hostileProxy, throwingArray, throwingGetter } from '../../testing/test/hostile.js';

// ---------------------------------------------------------------------------------------------------------
// What is not fuzzed, with the reason.
// ---------------------------------------------------------------------------------------------------------

const ABSTRACT =
  'abstract base class (TypeScript refuses `new`); its methods are fuzzed through the concrete subclasses';
/** Exports (dotted names) whose construction is not fuzzed. */
const NOT_CONSTRUCTED: Record<string, string> = {
  Module: ABSTRACT,
  Optimizer: ABSTRACT,
  LRScheduler: ABSTRACT,
};

const PROTECTED = 'protected: called by the base class with validated arguments, not public API';
/** Members (of any class) not fuzzed. */
const NOT_FUZZED_METHODS: Record<string, string> = {
  initState: PROTECTED,
  update: PROTECTED,
  computeLr: PROTECTED,
  currentLrs: PROTECTED,
  init: PROTECTED,
};

/** The file functions: fuzzed asynchronously, with paths inside a temporary folder. */
const FILE_FUNCTIONS = new Set(['loadCsv', 'loadSafetensorsFile', 'saveSafetensorsFile']);

// ---------------------------------------------------------------------------------------------------------
// The pool of hostile and ordinary arguments. Each entry is a factory, so in-place calls cannot leak state
// between calls.
// ---------------------------------------------------------------------------------------------------------

const throwingArrayOf = throwingArray([1, 0, 1]);
const hostileProxyOf = hostileProxy([1, 0], { iterator: true });

/** A Proxy object every trap of which throws. */
const trapProxy = (): unknown =>
  new Proxy(
    {},
    {
      get() {
        throw new HostileError('get trap');
      },
      has() {
        throw new HostileError('has trap');
      },
      ownKeys() {
        throw new HostileError('ownKeys trap');
      },
      getOwnPropertyDescriptor() {
        throw new HostileError('descriptor trap');
      },
      getPrototypeOf() {
        throw new HostileError('prototype trap');
      },
    },
  );

const throwingIterable = (): Iterable<unknown> => ({
  *[Symbol.iterator]() {
    yield AG.zeros([2]);
    throw new HostileError('iterator');
  },
});

/** A small tensor of `shape` with values -1.5, -0.5, 0.5, 1.5, 2.5, -1.5, ... */
const small = (shape: number[], dtype: 'float32' | 'float64' = 'float32', requiresGrad = false): Tensor =>
  AG.fromArray(
    Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => (i % 5) - 1.5),
    shape,
    { dtype, requiresGrad },
  );

/** A parameter with a gradient. */
function paramWithGrad(shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const p = NN.parameter(small(shape, dtype));
  p.grad = small(shape, dtype);
  return p;
}

const holes = (): unknown[] => {
  const a = [1, 0, 1];
  delete a[1];
  return a;
};

const csvText = 'a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n';
const safetensorsBytes = (): Uint8Array =>
  NN.saveSafetensors({ w: small([2, 3]), b: small([3], 'float64') }, { metadata: { k: 'v' } });

const POOL: Record<string, () => unknown> = {
  // numbers
  zero: () => 0,
  one: () => 1,
  two: () => 2,
  three: () => 3,
  minusOne: () => -1,
  half: () => 0.5,
  frac: () => 1.5,
  nan: () => Number.NaN,
  inf: () => Number.POSITIVE_INFINITY,
  negInf: () => Number.NEGATIVE_INFINITY,
  negZero: () => -0,
  huge31: () => 2 ** 31,
  huge53: () => 2 ** 53,
  e300: () => 1e300,
  tiny: () => 5e-324,
  // other primitives
  str: () => 'abc',
  numStr: () => '2',
  emptyStr: () => '',
  dtypeStr: () => 'float64',
  relu: () => 'relu',
  csv: () => csvText,
  csvRagged: () => 'a,b\n1,2\n3\n',
  csvNaN: () => 'a,b\nNaN,2\n1e999,x\n',
  nul: () => null,
  undef: () => undefined,
  yes: () => true,
  no: () => false,
  big: () => 3n,
  sym: () => Symbol('s'),
  // functions
  fn0: () => () => 1,
  fnTensor: () => () => AG.scalarTensor(1.5),
  fnStr: () => () => 'abc',
  fnThrows: () => () => {
    throw new HostileError('closure');
  },
  // objects and options
  obj: () => ({}),
  protoKey: () => JSON.parse('{"__proto__": {"lr": 0.1, "batchSize": 2, "strict": false}}'),
  unknownKey: () => ({ gama: 2 }),
  getterLr: throwingGetter('lr'),
  getterBatch: throwingGetter('batchSize'),
  getterParams: throwingGetter('params'),
  trapProxy,
  date: () => new Date(0),
  map: () => new Map([['weight', small([2, 3])]]),
  mapBadKey: () => new Map([[1, small([2])]]),
  optsLr: () => ({ lr: 0.1 }),
  optsLrNaN: () => ({ lr: Number.NaN }),
  optsMomentum: () => ({ lr: 0.1, momentum: 0.9, nesterov: true }),
  optsBetas: () => ({ betas: [0.9, 2] }),
  // biome-ignore lint/suspicious/noSparseArray: a hole where a beta should be
  optsBetasHole: () => ({ betas: [0.9, ,] }),
  optsBatch: () => ({ batchSize: 2, shuffle: true, seed: 1 }),
  optsBatchHuge: () => ({ batchSize: 2 ** 53 }),
  optsStep: () => ({ stepSize: 1, gamma: 0.5 }),
  optsTMax: () => ({ tMax: 3 }),
  optsCycle: () => ({ maxLr: 0.1, totalSteps: 4 }),
  optsCycleHuge: () => ({ maxLr: 0.1, totalSteps: 2 ** 53 }),
  optsPlateau: () => ({ patience: 0, factor: 0.5 }),
  optsLabelNull: () => ({ label: null }),
  optsLabelCol: () => ({ label: 'b' }),
  optsLabelHuge: () => ({ label: 2 ** 40 }),
  optsSplit: () => ({ testFraction: 0.5, seed: 1 }),
  optsStratify: () => ({ stratify: [0, 1, 0, 1], seed: 2 }),
  optsModulo: () => ({ method: 'modulo', every: 2 }),
  optsMeta: () => ({ metadata: { a: 'b' } }),
  optsMetaBad: () => ({ metadata: { a: 1 } }),
  optsStrict: () => ({ strict: false }),
  opts64: () => ({ dtype: 'float64' }),
  optsGen: () => ({ generator: new Generator(3) }),
  optsWeight: () => ({ sampleWeight: [1, 2, Number.NaN, 1] }),
  optsNormalize: () => ({ normalize: 'true' }),
  optsThreshold: () => ({ threshold: Number.NaN }),
  optsZeroDiv: () => ({ zeroDivision: 'warn' }),
  optsPadding: () => ({ paddingIdx: -1 }),
  optsEps: () => ({ eps: -1 }),
  optsPositive: () => ({ positive: 0 }),
  stateDict: () => ({ weight: small([2, 3]), bias: small([2]) }),
  stateDictBad: () => ({ weight: 'abc' }),
  optimState: () => ({ state: {}, paramGroups: [{ lr: 0.1, params: [0] }] }),
  optimStatePartial: () => ({
    state: { 0: { step: 1 } },
    paramGroups: [{ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0.5, params: [0, 1] }],
  }),
  // biome-ignore lint/suspicious/noSparseArray: a hole where a group should be
  optimStateHole: () => ({ state: {}, paramGroups: [, { lr: 0.1, params: [0, 1] }] }),
  optimStateBad: () => ({
    state: { 0: { step: Number.NaN } },
    paramGroups: [{ lr: 0.1, params: [2 ** 53] }],
  }),
  schedState: () => ({ lastEpoch: 3, lastLr: [0.1] }),
  schedStateBad: () => ({ lastEpoch: -1.5, lastLr: [Number.NaN, 1] }),
  scalerState: () => ({ mean: small([3], 'float64'), scale: AG.ones([3], { dtype: 'float64' }) }),
  generator: () => new Generator(7),
  dataset: () => new NN.TensorDataset(small([4, 3]), small([4])),
  fakeDataset: () => ({ length: 3, getBatch: (i: Int32Array) => i }),
  fakeDatasetHuge: () => ({ length: 2 ** 31 - 1, getBatch: (i: Int32Array) => i.length }),
  linear: () => new NN.Linear(3, 2),
  sgd: () => new NN.SGD([paramWithGrad([2])], { lr: 0.1 }),
  throwingIterable,
  // arrays and shapes
  empty: () => [],
  shape23: () => [2, 3],
  shapeNeg: () => [2, -1],
  shapeFrac: () => [1.5],
  shapeNaN: () => [Number.NaN],
  shapeHuge: () => [2 ** 31, 2 ** 31],
  shape53: () => [2 ** 53],
  labels: () => [0, 1, 1, 0],
  labelsBad: () => [0, 2, 1, Number.NaN],
  scores: () => [0.1, 0.9, 0.8, 0.3],
  scoresNaN: () => [0.1, Number.NaN, 0.8, Number.POSITIVE_INFINITY],
  holes,
  nested: () => [
    [1, 0],
    [0, 1],
  ],
  strings: () => ['a', 'b'],
  getterArray: throwingArrayOf,
  proxy: hostileProxyOf,
  tensorList: () => [small([4, 3]), small([4])],
  paramList: () => [paramWithGrad([2, 3]), paramWithGrad([3], 'float64')],
  paramGroups: () => [{ params: [paramWithGrad([2])], lr: 0.01 }, { params: [paramWithGrad([1])] }],
  modules: () => [new NN.ReLU(), new NN.Linear(3, 2)],
  // typed arrays of every kind
  i8: () => new Int8Array([0, 1, -1, 1]),
  u8: () => new Uint8Array([0, 1, 1, 0]),
  u8c: () => new Uint8ClampedArray([0, 1, 255, 1]),
  i16: () => new Int16Array([0, 1, -1, 1]),
  u16: () => new Uint16Array([0, 1, 65535, 1]),
  i32: () => new Int32Array([0, 1, 2, 3]),
  u32: () => new Uint32Array([0, 1, 2 ** 32 - 1, 1]),
  f32: () => new Float32Array([0.1, 0.9, 0.8, 0.3]),
  f64: () => new Float64Array([0, 1, 1, 0]),
  bi64: () => new BigInt64Array([0n, 1n, -1n, 1n]),
  bu64: () => new BigUint64Array([0n, 1n, 2n ** 64n - 1n, 1n]),
  buffer: () => new ArrayBuffer(16),
  dataView: () => new DataView(new ArrayBuffer(8)),
  safetensors: safetensorsBytes,
  safetensorsCut: () => safetensorsBytes().subarray(0, 20),
  safetensorsBuffer: () => {
    const b = safetensorsBytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  },
  csvBytes: () => new TextEncoder().encode(csvText),
  // tensors
  t0: () => AG.scalarTensor(2),
  t3: () => small([3]),
  t4: () => AG.fromArray([0, 1, 1, 0], [4]),
  t23: () => small([2, 3]),
  t43: () => small([4, 3], 'float64'),
  t32: () => small([3, 2], 'float64'),
  t234: () => small([2, 3, 4]),
  t1: () => small([1]),
  tEmpty: () => small([0, 3]),
  tEmpty1: () => small([0]),
  tGrad: () => small([2, 3], 'float64', true),
  tNaN: () => AG.full([4], Number.NaN),
  tInf: () => AG.full([2, 3], Number.POSITIVE_INFINITY),
  tIdx: () => AG.fromArray([0, 2, 1], [3]),
  tIdxBad: () => AG.fromArray([0.5, -7, 1e10], [3]),
  tNonLeaf: () => small([3], 'float64', true).mul(2),
  param: () => paramWithGrad([2, 3]),
  value: () => AG.value(2),
};
const POOL_NAMES = Object.keys(POOL);

/** An argument list: 0–4 pool entries, drawn by name (so counterexamples print readably). */
const argNames = fc.array(fc.constantFrom(...POOL_NAMES), { minLength: 0, maxLength: 4 });

// ---------------------------------------------------------------------------------------------------------
// Well-formed results and typed errors.
// ---------------------------------------------------------------------------------------------------------

function wellFormed(x: unknown, where: string, depth = 0): void {
  if (depth > 4) return;
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
      wellFormed(y, `${where}[${i}]`, depth + 1);
    });
  } else if (x instanceof Map) {
    for (const [k, v] of x) wellFormed(v, `${where}.get(${String(k)})`, depth + 1);
  } else if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x)) {
    const proto = Object.getPrototypeOf(x);
    if (proto === null || proto === Object.prototype) {
      // Data properties only: a getter in a result is the user's object handed back, not gradkit's output.
      for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(x))) {
        if ('value' in d) wellFormed(d.value, `${where}.${k}`, depth + 1);
      }
    }
  }
}

/** Calls `f`; passes when it returns (the result is checked by `check`) or throws a typed error. */
function expectTypedOutcome(where: string, f: () => unknown, check: (r: unknown) => void = () => {}): void {
  let result: unknown;
  try {
    result = f();
    result = drain(result);
  } catch (e) {
    acceptError(where, e);
    return;
  }
  wellFormed(result, where);
  check(result);
}

function acceptError(where: string, e: unknown, fsErrors = false): void {
  if (e instanceof GradkitError || e instanceof HostileError) return;
  if (fsErrors && e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
    // A Node file-system error (ENOENT, EISDIR, ...): documented to pass through as it is.
    if (/^E[A-Z]+$/.test((e as unknown as { code: string }).code)) return;
  }
  const err = e as Error;
  throw new Error(`${where} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`);
}

/** Iterators (DataLoader epochs) are consumed, up to 20 items, so their lazy checks run too. */
function drain(r: unknown): unknown {
  if (r !== null && typeof r === 'object' && !Array.isArray(r) && !ArrayBuffer.isView(r)) {
    const next = (r as { next?: unknown }).next;
    if (typeof next === 'function' && Symbol.iterator in r) {
      const items: unknown[] = [];
      for (const item of r as Iterable<unknown>) {
        items.push(item);
        if (items.length >= 20) break;
      }
      return items;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// The exports, enumerated.
// ---------------------------------------------------------------------------------------------------------

type Fn = (...a: unknown[]) => unknown;
type Ctor = new (...a: unknown[]) => unknown;

const isClass = (v: unknown): v is Ctor =>
  typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

const functions: Array<[string, Fn]> = [];
const classes: Array<[string, Ctor]> = [];
function walk(ns: object, prefix: string, depth: number): void {
  for (const [name, v] of Object.entries(ns)) {
    const dotted = prefix + name;
    if (isClass(v)) classes.push([dotted, v]);
    else if (typeof v === 'function') functions.push([dotted, v as Fn]);
    else if (v !== null && typeof v === 'object' && depth < 2) walk(v, `${dotted}.`, depth + 1);
  }
}
walk(NN, '', 0);

const METRIC = /^metrics\./;

/** Metrics return numbers that are never NaN (scikit-learn's NaN cases are DomainErrors). */
function checkFunctionResult(name: string, r: unknown, where: string): void {
  if (METRIC.test(name) && typeof r === 'number') expect(Number.isNaN(r), `${where} gave NaN`).toBe(false);
}

const tmp = mkdtempSync(join(tmpdir(), 'gradkit-fuzz-nn-'));
writeFileSync(join(tmp, 'abc'), csvText);
writeFileSync(join(tmp, 'model.safetensors'), safetensorsBytes());
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Strings become paths inside the temporary folder (some of which exist). */
const inTmp = (a: unknown): unknown => (typeof a === 'string' ? join(tmp, a.replace(/[/\\]/g, '_')) : a);

describe('fuzz: exported functions', () => {
  it('enumerates the exports, namespaces included (new ones are fuzzed by default)', () => {
    expect(functions.length).toBeGreaterThan(30);
    expect(functions.some(([n]) => n === 'metrics.rocAucScore')).toBe(true);
    expect(functions.some(([n]) => n === 'init.kaimingUniform_')).toBe(true);
    for (const name of FILE_FUNCTIONS) expect(functions.some(([n]) => n === name)).toBe(true);
  });
  for (const [name, fn] of functions) {
    if (FILE_FUNCTIONS.has(name)) {
      it(`${name}(...) resolves well formed or rejects with a typed error`, async () => {
        await fc.assert(
          fc.asyncProperty(argNames, async (names) => {
            const args = names.map((n, i) => {
              const a = POOL[n]!();
              return (name === 'saveSafetensorsFile' ? i === 1 : i === 0) ? inTmp(a) : a;
            });
            const where = `${name}(${names.join(', ')})`;
            let r: unknown;
            try {
              r = await fn(...args);
            } catch (e) {
              acceptError(where, e, name !== 'loadCsv');
              return;
            }
            wellFormed(r, where);
          }),
          propertyConfig({ numRuns: 60 }),
        );
      });
      continue;
    }
    it(`${name}(...) gives a typed error or a well-formed result`, () => {
      fc.assert(
        fc.property(argNames, (names) => {
          const args = names.map((n) => POOL[n]!());
          const where = `${name}(${names.join(', ')})`;
          expectTypedOutcome(
            where,
            () => {
              const r = fn(...args);
              expect(r instanceof Promise, `${where} returned a Promise`).toBe(false);
              return r;
            },
            (r) => checkFunctionResult(name, r, where),
          );
        }),
        propertyConfig({ numRuns: 100 }),
      );
    });
  }
});

describe('fuzz: constructors', () => {
  for (const [name, C] of classes) {
    if (name in NOT_CONSTRUCTED) continue;
    it(`new ${name}(...) gives a typed error or an instance`, () => {
      fc.assert(
        fc.property(argNames, (names) => {
          const args = names.map((n) => POOL[n]!());
          expectTypedOutcome(`new ${name}(${names.join(', ')})`, () => {
            const r = new C(...args);
            expect(r).toBeInstanceOf(C);
            return undefined;
          });
        }),
        propertyConfig({ numRuns: 100 }),
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Methods of well-formed instances.
// ---------------------------------------------------------------------------------------------------------

function optimizerFor(name: string, params: Tensor[]): NN.Optimizer {
  switch (name) {
    case 'SGD':
      return new NN.SGD(params, { lr: 0.1, momentum: 0.9 });
    case 'Adam':
      return new NN.Adam(params);
    case 'AdamW':
      return new NN.AdamW(params);
    default:
      return new NN.RMSprop(params, { momentum: 0.5 });
  }
}

const stepped = (name: string): NN.Optimizer => {
  const o = optimizerFor(name, [paramWithGrad([2, 3]), paramWithGrad([3], 'float64')]);
  o.step();
  return o;
};

/** Well-formed instances of each concrete class (several where the state matters). */
const INSTANCES: Record<string, Array<() => object>> = {
  GELU: [() => new NN.GELU(), () => new NN.GELU({ approximate: 'tanh' })],
  LeakyReLU: [() => new NN.LeakyReLU(0.2)],
  ReLU: [() => new NN.ReLU()],
  Sigmoid: [() => new NN.Sigmoid()],
  SiLU: [() => new NN.SiLU()],
  Tanh: [() => new NN.Tanh()],
  Dropout: [() => new NN.Dropout(0.5, { generator: new Generator(1) }), () => new NN.Dropout(0.3).eval()],
  Embedding: [() => new NN.Embedding(4, 3), () => new NN.Embedding(3, 2, { paddingIdx: 0 })],
  Flatten: [() => new NN.Flatten(), () => new NN.Flatten(0, 1)],
  LayerNorm: [() => new NN.LayerNorm(3), () => new NN.LayerNorm([2, 3], { dtype: 'float64' })],
  Linear: [() => new NN.Linear(3, 2), () => new NN.Linear(3, 1, { bias: false, dtype: 'float64' })],
  Sequential: [() => new NN.Sequential(new NN.Linear(3, 2), new NN.ReLU()), () => new NN.Sequential()],
  Adam: [() => stepped('Adam')],
  AdamW: [() => stepped('AdamW')],
  RMSprop: [() => stepped('RMSprop')],
  SGD: [() => stepped('SGD'), () => new NN.SGD([paramWithGrad([1])], { lr: 0.5 })],
  StepLR: [() => new NN.StepLR(stepped('SGD'), { stepSize: 2 })],
  CosineAnnealingLR: [() => new NN.CosineAnnealingLR(stepped('Adam'), { tMax: 3 })],
  LinearLR: [() => new NN.LinearLR(stepped('SGD'))],
  OneCycleLR: [() => new NN.OneCycleLR(stepped('SGD'), { maxLr: 0.1, totalSteps: 3 })],
  ReduceLROnPlateau: [() => new NN.ReduceLROnPlateau(stepped('RMSprop'), { patience: 0 })],
  TensorDataset: [() => new NN.TensorDataset(small([4, 3]), small([4]))],
  DataLoader: [
    () => new NN.DataLoader(new NN.TensorDataset(small([5, 3]), small([5])), { batchSize: 2 }),
    () =>
      new NN.DataLoader(new NN.TensorDataset(small([5, 2])), { batchSize: 3, shuffle: true, dropLast: true }),
  ],
  StandardScaler: [() => new NN.StandardScaler(), () => new NN.StandardScaler().fit(small([4, 3]))],
};

/**
 * After a fuzzed call, the instance is used once more in an ordinary way (an optimizer steps, a scheduler
 * steps, a layer runs forward): a call that was accepted must not leave the instance in a state that
 * crashes later (e.g. an optimizer state dict loaded without its moment buffers).
 */
function followUp(self: object): unknown {
  if (self instanceof NN.Optimizer) {
    for (const g of self.paramGroups) for (const p of g.params) p.grad = AG.onesLike(p);
    return self.step();
  }
  if (self instanceof NN.LRScheduler || self instanceof NN.ReduceLROnPlateau) {
    if (self instanceof NN.ReduceLROnPlateau) self.step(1);
    else self.step();
    return self.getLastLr();
  }
  if (self instanceof NN.Embedding) return self.forward([0, 1]);
  if (self instanceof NN.Linear || self instanceof NN.Sequential) return self.forward(small([2, 3]));
  if (self instanceof NN.Module) return self.forward(small([2, 3]));
  if (self instanceof NN.StandardScaler) return self.fitted ? self.transform(small([2, 3])) : undefined;
  if (self instanceof NN.DataLoader) return [...self];
  return undefined;
}

/** The shape `forward` must give for an input of `shape`, where it is known (else undefined). */
function forwardShape(self: object, shape: readonly number[]): readonly number[] | undefined {
  if (
    self instanceof NN.ReLU ||
    self instanceof NN.GELU ||
    self instanceof NN.LeakyReLU ||
    self instanceof NN.Sigmoid ||
    self instanceof NN.SiLU ||
    self instanceof NN.Tanh ||
    self instanceof NN.Dropout ||
    self instanceof NN.LayerNorm
  )
    return shape;
  if (self instanceof NN.Linear) return [...shape.slice(0, -1), self.outFeatures];
  if (self instanceof NN.Embedding) return [...shape, self.embeddingDim];
  return undefined;
}

/** Members of each instance's prototype chain (below Object.prototype), symbol keys included. */
function members(self: object): Array<[string | symbol, PropertyDescriptor]> {
  const out = new Map<string | symbol, PropertyDescriptor>();
  for (
    let p = Object.getPrototypeOf(self);
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const k of Reflect.ownKeys(p)) {
      if (k === 'constructor' || out.has(k)) continue;
      out.set(k, Object.getOwnPropertyDescriptor(p, k)!);
    }
  }
  return [...out.entries()];
}

describe('fuzz: methods and getters of well-formed instances', () => {
  it('has well-formed instances of every class that can be constructed', () => {
    for (const [name] of classes) {
      if (name in NOT_CONSTRUCTED) continue;
      expect(INSTANCES[name], `no instance factory for ${name}`).toBeDefined();
    }
  });
  for (const [cls, factories] of Object.entries(INSTANCES)) {
    const sample = factories[0]!();
    for (const [key, desc] of members(sample)) {
      const m = String(key);
      if (m in NOT_FUZZED_METHODS) continue;
      it(`${cls}.${m} gives a typed error or a well-formed result`, () => {
        fc.assert(
          fc.property(fc.nat({ max: factories.length - 1 }), argNames, (k, names) => {
            const self = factories[k]!();
            if (desc.get !== undefined) {
              expectTypedOutcome(`${cls}#${k}.${m}`, () => desc.get!.call(self));
              return;
            }
            if (typeof desc.value !== 'function') return;
            const args = names.map((n) => POOL[n]!());
            const where = `${cls}#${k}.${m}(${names.join(', ')})`;
            expectTypedOutcome(
              where,
              () => {
                const r = (desc.value as Fn).apply(self, args);
                // The instance must still work; undefined when it needs no check.
                expectTypedOutcome(`${where}, then in use`, () => followUp(self));
                return r;
              },
              (r) => {
                if (m === 'forward' && r instanceof Tensor && args[0] instanceof Tensor) {
                  const want = forwardShape(self, args[0].shape);
                  if (want !== undefined) expect(r.shape, where).toEqual(want);
                }
              },
            );
          }),
          propertyConfig({ numRuns: 80 }),
        );
      });
    }
  }
});
