/**
 * Fuzz: every exported loss function and class with malformed inputs — shape mismatches, mixed dtypes,
 * NaN/inf logits and targets, hostile option objects (`__proto__` keys, inherited keys, getters), unknown
 * keys, weird reductions, parameters of the wrong type. Each call must either throw a typed GradkitError or
 * return a tensor of the input's dtype and the right shape (that equals the result of a plain copy of the
 * options' own values); never a TypeError, a RangeError or a crash. Modulated losses must never return for
 * targets outside [0, 1].
 */
import { fromArray, GradkitError, Tensor } from '@gradkit/autograd';
import {
  asymmetric,
  BCELoss,
  BCEWithLogitsLoss,
  bce,
  bceWithLogits,
  FocalLoss,
  focal,
  poly1,
  qfocal,
  sigmoidFocal,
  varifocal,
} from '@gradkit/losses';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cubicFocal } from './helpers.js';

type Options = Record<string, unknown> | undefined;

/** A loss under fuzz: its call, its default reduction, its option keys, whether targets must be in [0, 1]. */
interface Fuzzed {
  readonly name: string;
  readonly call: (x: unknown, y: unknown, options: unknown) => unknown;
  readonly reduction: 'none' | 'mean' | 'sum';
  readonly keys: readonly string[];
  readonly probabilityTargets: boolean;
}

const BCE_KEYS = ['weight', 'reduction'];
const LOGIT_KEYS = ['weight', 'posWeight', 'reduction'];
const FOCAL_KEYS = [...LOGIT_KEYS, 'alpha', 'gamma'];

const LOSSES: readonly Fuzzed[] = [
  {
    name: 'bce',
    call: (x, y, o) => bce(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: BCE_KEYS,
    probabilityTargets: false,
  },
  {
    name: 'bceWithLogits',
    call: (x, y, o) => bceWithLogits(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: LOGIT_KEYS,
    probabilityTargets: false,
  },
  {
    name: 'focal',
    call: (x, y, o) => focal(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
  {
    name: 'sigmoidFocal',
    call: (x, y, o) => sigmoidFocal(x as Tensor, y as Tensor, o as never),
    reduction: 'none',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
  {
    name: 'qfocal',
    call: (x, y, o) => qfocal(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
  {
    name: 'varifocal',
    call: (x, y, o) => varifocal(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
  {
    name: 'asymmetric',
    call: (x, y, o) => asymmetric(x as Tensor, y as Tensor, o as never),
    reduction: 'sum',
    keys: [...LOGIT_KEYS, 'alpha', 'gammaPos', 'gammaNeg', 'clip', 'detachWeight'],
    probabilityTargets: true,
  },
  {
    name: 'poly1',
    call: (x, y, o) => poly1(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: [...LOGIT_KEYS, 'alpha', 'epsilon'],
    probabilityTargets: true,
  },
  {
    name: 'cubic-focal',
    call: (x, y, o) => cubicFocal(x as Tensor, y as Tensor, o as never),
    reduction: 'mean',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
  {
    name: 'BCELoss',
    call: (x, y, o) => new BCELoss(o as never).forward(x as Tensor, y as Tensor),
    reduction: 'mean',
    keys: BCE_KEYS,
    probabilityTargets: false,
  },
  {
    name: 'BCEWithLogitsLoss',
    call: (x, y, o) => new BCEWithLogitsLoss(o as never).forward(x as Tensor, y as Tensor),
    reduction: 'mean',
    keys: LOGIT_KEYS,
    probabilityTargets: false,
  },
  {
    name: 'FocalLoss',
    call: (x, y, o) => {
      const opts = (o ?? {}) as Record<string, unknown>;
      const gamma = Object.hasOwn(opts, 'gamma') ? opts.gamma : undefined;
      const alpha = Object.hasOwn(opts, 'alpha') ? opts.alpha : undefined;
      const rest = Object.fromEntries(Object.entries(opts).filter(([k]) => k !== 'gamma' && k !== 'alpha'));
      const inner = new BCEWithLogitsLoss(
        o === undefined || typeof o !== 'object' || o === null ? (o as never) : rest,
      );
      return new FocalLoss(inner, gamma as number, alpha as number).forward(x as Tensor, y as Tensor);
    },
    reduction: 'mean',
    keys: FOCAL_KEYS,
    probabilityTargets: true,
  },
];

const dtype = fc.constantFrom('float32' as const, 'float64' as const);
const shape = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 3 });
const element = fc.oneof(
  fc.double({ min: -4, max: 4, noNaN: true }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    1,
    2,
    -1,
    0.5,
    1e300,
    5e-324,
  ),
);
const junk = fc.constantFrom<unknown>(
  null,
  0,
  Number.NaN,
  'mean',
  true,
  {},
  [],
  [1, 2],
  () => 1,
  2n,
  Symbol('s'),
);

/** A tensor spec (kept as data so fast-check can print and shrink it). */
interface TensorSpec {
  readonly shape: number[];
  readonly dtype: 'float32' | 'float64';
  readonly data: number[];
}
/** Mostly well-formed elements: logits, probabilities, and now and then one of the special values. */
const saneElement = fc.oneof(
  { weight: 10, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1) },
  { weight: 1, arbitrary: element },
);
const tensorSpec = (
  s: fc.Arbitrary<number[]>,
  dt: fc.Arbitrary<'float32' | 'float64'> = dtype,
  el: fc.Arbitrary<number> = element,
): fc.Arbitrary<TensorSpec> =>
  fc.tuple(s, dt).chain(([sh, d]) => {
    const n = sh.reduce((a, b) => a * b, 1);
    return fc.array(el, { minLength: n, maxLength: n }).map((data) => ({ shape: sh, dtype: d, data }));
  });
const toTensor = (t: TensorSpec) => fromArray(t.data, t.shape, { dtype: t.dtype });

/** An argument: a tensor spec, or junk. */
type ArgSpec = { tensor: TensorSpec } | { junk: unknown };
const argSpec = (s: fc.Arbitrary<number[]>, sane?: Sane): fc.Arbitrary<ArgSpec> =>
  sane === undefined
    ? fc.oneof(
        { weight: 6, arbitrary: tensorSpec(s).map((tensor) => ({ tensor })) },
        { weight: 1, arbitrary: junk.map((j) => ({ junk: j })) },
      )
    : tensorSpec(s, fc.constant(sane.dtype), saneElement).map((tensor) => ({ tensor }));

/** For the mostly well-formed runs: the dtype every tensor shares. */
interface Sane {
  readonly dtype: 'float32' | 'float64';
}
const argValue = (a: ArgSpec): unknown => ('tensor' in a ? toTensor(a.tensor) : a.junk);

const optionValue = (inputShape: number[], sane?: Sane): fc.Arbitrary<ArgSpec | { num: unknown }> =>
  sane !== undefined
    ? fc.oneof(
        argSpec(fc.constantFrom(inputShape, inputShape.slice(-1), []), sane),
        fc.constantFrom<unknown>(-1, 0, 0.25, 0.5, 1, 1.5, 2, 0.3, 1.3, 2.7).map((num) => ({ num })),
        fc.constantFrom<unknown>('none', 'mean', 'sum').map((num) => ({ num })),
      )
    : fc.oneof(
        argSpec(
          fc.oneof(
            fc.constant(inputShape),
            fc.constant(inputShape.slice(-1)),
            fc.constant<number[]>([]),
            shape,
          ),
        ),
        fc
          .constantFrom<unknown>(
            -1,
            -0,
            0,
            0.25,
            0.5,
            1,
            1.5,
            2,
            3.7,
            1e300,
            -1e-300,
            Number.NaN,
            Number.POSITIVE_INFINITY,
          )
          .map((num) => ({ num })),
        fc
          .constantFrom<unknown>('none', 'mean', 'sum', 'Mean', 'avg', '', false, undefined)
          .map((num) => ({ num })),
      );
const optionValueOf = (v: ArgSpec | { num: unknown }): unknown => ('num' in v ? v.num : argValue(v));

/** How the options object is built. */
interface OptionsSpec {
  readonly kind: 'undefined' | 'junk' | 'object';
  readonly junk?: unknown;
  readonly own: Array<[string, ArgSpec | { num: unknown }]>;
  /** Keys set on the object's prototype instead (must be ignored). */
  readonly inherited: Array<[string, ArgSpec | { num: unknown }]>;
  /** Own keys defined as getters. */
  readonly getters: boolean;
}

function optionsSpec(keys: readonly string[], inputShape: number[], sane?: Sane): fc.Arbitrary<OptionsSpec> {
  const key =
    sane !== undefined
      ? fc.constantFrom(...keys)
      : fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...keys) },
          { weight: 1, arbitrary: fc.constantFrom('gama', '__proto__', 'constructor', 'toString', 'foo') },
        );
  const entries = fc.uniqueArray(fc.tuple(key, optionValue(inputShape, sane)), {
    maxLength: 4,
    selector: ([k]) => k,
  });
  // Inherited keys are hostile in every run: they must be ignored.
  const inherited = fc.uniqueArray(fc.tuple(fc.constantFrom(...keys, 'gama'), optionValue(inputShape)), {
    maxLength: 4,
    selector: ([k]) => k,
  });
  if (sane !== undefined) {
    return fc
      .record({ own: entries, inherited, getters: fc.boolean() })
      .map((r): OptionsSpec => ({ kind: 'object', ...r }));
  }
  return fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constant<OptionsSpec>({ kind: 'undefined', own: [], inherited: [], getters: false }),
    },
    {
      weight: 1,
      arbitrary: junk.map(
        (j): OptionsSpec => ({ kind: 'junk', junk: j, own: [], inherited: [], getters: false }),
      ),
    },
    {
      weight: 8,
      arbitrary: fc
        .record({ own: entries, inherited, getters: fc.boolean() })
        .map((r): OptionsSpec => ({ kind: 'object', ...r })),
    },
  );
}

/** The options object of a spec: own keys (possibly getters), inherited keys, `__proto__` as an own key. */
function buildOptions(spec: OptionsSpec): { options: unknown; plain: Options } {
  if (spec.kind === 'undefined') return { options: undefined, plain: undefined };
  if (spec.kind === 'junk') return { options: spec.junk, plain: undefined };
  const proto: Record<string, unknown> = {};
  for (const [k, v] of spec.inherited)
    Object.defineProperty(proto, k, { value: optionValueOf(v), enumerable: true });
  const options = Object.create(proto) as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const [k, v] of spec.own) {
    const value = optionValueOf(v);
    if (spec.getters) Object.defineProperty(options, k, { get: () => value, enumerable: true });
    else Object.defineProperty(options, k, { value, enumerable: true, writable: true });
    Object.defineProperty(plain, k, { value, enumerable: true, writable: true });
  }
  return { options, plain };
}

/** Runs a call: a GradkitError is fine; anything else thrown is a failure. */
function attempt(run: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: run() };
  } catch (e) {
    if (!(e instanceof GradkitError)) throw e;
    return { ok: false };
  }
}

/** Checks one loss over generated calls; returns how many returned a tensor. */
function fuzz(loss: Fuzzed, sane: boolean): number {
  const inputShape = fc.oneof(shape, fc.constant<number[]>([2, 3]));
  const cases = fc.tuple(inputShape, dtype).chain(([sh, d]) => {
    const s = sane ? { dtype: d } : undefined;
    return fc.record({
      input: sane
        ? tensorSpec(fc.constant(sh), fc.constant(d)).map((tensor) => ({ tensor }))
        : argSpec(fc.constant(sh)),
      target: sane
        ? argSpec(fc.constant(sh), s)
        : fc.oneof(
            { weight: 4, arbitrary: argSpec(fc.constant(sh)) },
            { weight: 1, arbitrary: argSpec(shape) },
          ),
      options: optionsSpec(loss.keys, sh, s),
    });
  });
  let successes = 0;
  fc.assert(
    fc.property(cases, (c) => {
      const x = argValue(c.input);
      const y = argValue(c.target);
      const { options, plain } = buildOptions(c.options);
      const r = attempt(() => loss.call(x, y, options));
      if (!r.ok) return;
      successes++;
      expect(r.value).toBeInstanceOf(Tensor);
      expect(x).toBeInstanceOf(Tensor);
      const out = r.value as Tensor;
      const xt = x as Tensor;
      const own = plain !== undefined && Object.hasOwn(plain, 'reduction') ? plain.reduction : undefined;
      const reduction = own ?? loss.reduction;
      expect(out.shape).toEqual(reduction === 'none' ? xt.shape : []);
      expect(out.dtype).toBe(xt.dtype);
      if (loss.probabilityTargets) {
        for (const v of (y as Tensor).data) expect(v >= -1e-5 && v <= 1 + 1e-5).toBe(true);
      }
      // Inherited keys and getters had no effect: a plain copy of the own values gives the same result.
      const again = loss.call(x, y, plain);
      expect(Array.from((again as Tensor).data)).toEqual(Array.from(out.data));
    }),
    propertyConfig({ numRuns: 150 }),
  );
  return successes;
}

describe.each(LOSSES)('fuzz $name', (loss) => {
  test('malformed inputs and options: a GradkitError or a right-shaped result', () => {
    fuzz(loss, false);
  });

  test('mostly well-formed calls with hostile option objects: a GradkitError or a right-shaped result', () => {
    // The generators reach the success path too, not only the errors.
    expect(fuzz(loss, true)).toBeGreaterThan(0);
  });
});
