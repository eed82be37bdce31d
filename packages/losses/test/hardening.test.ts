/**
 * Issue 8 (hardening) for the losses: own-key options and unknown keys, parameter names, domains of targets
 * and parameters, errors of user factors named by the loss, and one program for many parameter values.
 */
import { ArgumentError, DomainError, fromArray, GradkitError, grad, type Tensor } from '@gradkit/autograd';
import {
  asymmetric,
  BCELoss,
  BCEWithLogitsLoss,
  bce,
  bceWithLogits,
  defineModulatedLoss,
  FocalLoss,
  focal,
  poly1,
  qfocal,
  sigmoidFocal,
  varifocal,
} from '@gradkit/losses';
import { describe, expect, test } from 'vitest';
import { cachedProgramCount, PROGRAM_CACHE_CAPACITY } from '../src/modulated.js';
import { leaf, maxRelDiff } from './helpers.js';

const f64 = (data: number[], shape = [data.length]) => fromArray(data, shape, { dtype: 'float64' });
const x = f64([0.4, -1.3, 2.5]);
const y = f64([1, 0, 0.25]);

/** Runs `body` with `props` set on Object.prototype, then removes them. */
function polluted<T>(props: Record<string, unknown>, body: () => T): T {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [k, v] of Object.entries(props)) {
    Object.defineProperty(proto, k, { value: v, configurable: true, writable: true, enumerable: false });
  }
  try {
    return body();
  } finally {
    for (const k of Object.keys(props)) delete proto[k];
  }
}

const POLLUTION = {
  gamma: 5,
  alpha: 0.9,
  reduction: 'sum',
  weight: f64([3, 3, 3]),
  posWeight: f64([2, 2, 2]),
  detachWeight: false,
  clip: 0.5,
  epsilon: 7,
  params: { gamma: 9 },
  additive: () => 100,
};

describe('options are read by own keys only', () => {
  const calls: Array<[string, () => Tensor]> = [
    ['bce', () => bce(x.sigmoid(), y)],
    ['bceWithLogits', () => bceWithLogits(x, y)],
    ['focal', () => focal(x, y)],
    ['focal {}', () => focal(x, y, {})],
    ['sigmoidFocal', () => sigmoidFocal(x, y, {})],
    ['qfocal', () => qfocal(x, y, {})],
    ['varifocal', () => varifocal(x, y, {})],
    ['asymmetric', () => asymmetric(x, y, {})],
    ['poly1', () => poly1(x, y, {})],
    ['BCELoss', () => new BCELoss().forward(x.sigmoid(), y)],
    ['BCEWithLogitsLoss', () => new BCEWithLogitsLoss({}).forward(x, y)],
    ['FocalLoss', () => new FocalLoss(new BCEWithLogitsLoss()).forward(x, y)],
    [
      'defineModulatedLoss',
      () =>
        defineModulatedLoss({ name: 'own', factor: ({ pt }, { g }) => pt.pow(g), params: { g: 2 } })(x, y),
    ],
  ];
  test.each(calls)('%s: a polluted Object.prototype changes nothing', (_, call) => {
    const clean = call();
    const dirty = polluted(POLLUTION, call);
    expect(dirty.shape).toEqual(clean.shape);
    expect(Array.from(dirty.data)).toEqual(Array.from(clean.data));
  });

  test('an options object inheriting a key does not pass it', () => {
    const inherited = Object.create({ gamma: 5, reduction: 'none' }) as object;
    expect(focal(x, y, inherited).item()).toBe(focal(x, y).item());
  });

  test('each option is read once (a getter cannot change a value between check and use)', () => {
    let reads = 0;
    const options = {
      get gamma() {
        reads++;
        return reads === 1 ? 2 : -1;
      },
    };
    expect(focal(x, y, options).item()).toBe(focal(x, y, { gamma: 2 }).item());
    expect(reads).toBe(1);
  });

  test('unknown option keys are ArgumentErrors that list the valid keys', () => {
    expect(() => focal(x, y, { gama: 5 } as never)).toThrow(ArgumentError);
    expect(() => focal(x, y, { gama: 5 } as never)).toThrow(/unknown key "gama".*valid keys:.*gamma/);
    expect(() => bce(x.sigmoid(), y, { posWeight: f64([1]) } as never)).toThrow(/unknown key "posWeight"/);
    expect(() => bceWithLogits(x, y, { reductio: 'sum' } as never)).toThrow(/valid keys: weight, posWeight/);
    expect(() => asymmetric(x, y, { gamma: 2 } as never)).toThrow(/unknown key "gamma".*gammaNeg/);
    expect(() => varifocal(x, y, { epsilon: 1 } as never)).toThrow(ArgumentError);
    expect(() => new BCELoss({ pos_weight: 1 } as never)).toThrow(ArgumentError);
    expect(() => new BCEWithLogitsLoss({ pos_weight: 1 } as never)).toThrow(ArgumentError);
    const own = JSON.parse('{"__proto__": {"gamma": 5}}') as object;
    expect(() => focal(x, y, own)).toThrow(/unknown key "__proto__"/);
    expect(() => focal(x, y, { [Symbol('s')]: 1 } as never)).toThrow(ArgumentError);
    expect(() => focal(x, y, 5 as never)).toThrow(ArgumentError);
    expect(() => focal(x, y, null as never)).toThrow(ArgumentError);
  });

  test('option values of the wrong type are ArgumentErrors', () => {
    expect(() => bce(x.sigmoid(), y, { weight: [1, 2, 3] as never })).toThrow(/'weight' must be a Tensor/);
    expect(() => bceWithLogits(x, y, { posWeight: 2 as never })).toThrow(ArgumentError);
    expect(() => focal(x, y, { gamma: '2' as never })).toThrow(/parameter 'gamma' must be a finite number/);
    expect(() => focal(x, y, { gamma: null as never })).toThrow(ArgumentError);
    expect(() => focal(x, y, { alpha: '0.2' as never })).toThrow(ArgumentError);
    expect(() => asymmetric(x, y, { detachWeight: 'no' as never })).toThrow(/detachWeight/);
    expect(() => new BCELoss({ weight: 3 as never })).toThrow(ArgumentError);
    expect(() => new FocalLoss({} as never)).toThrow(/BCEWithLogitsLoss/);
  });

  test('a definition is read by own keys, and unknown definition keys are refused', () => {
    const def = Object.create({ params: { gamma: 2 }, alpha: 0.5 }) as Record<string, unknown>;
    def.name = 'inh';
    def.factor = () => 1;
    const l = polluted({ additive: () => 100, reduction: 'sum' }, () => defineModulatedLoss(def as never));
    expect(l.defaults).toEqual({});
    expect(l(x, y).item()).toBe(bceWithLogits(x, y).item());
    expect(() => defineModulatedLoss({ name: 'typo', factor: () => 1, parms: { g: 1 } } as never)).toThrow(
      /unknown key "parms"/,
    );
    expect(() => defineModulatedLoss(undefined as never)).toThrow(ArgumentError);
    expect(() => defineModulatedLoss({ name: 'nf' } as never)).toThrow(/'factor'.*function/);
  });
});

describe('parameter names', () => {
  test.each([
    'weight',
    'posWeight',
    'reduction',
    'detachWeight',
    'x',
    'y',
    'p',
    'pt',
    'logPt',
    'log1mPt',
    '1a',
    'a-b',
    '',
    'gamma ',
  ])('%j is refused at definition', (name) => {
    expect(() => defineModulatedLoss({ name: 'n', factor: () => 1, params: { [name]: 1 } })).toThrow(
      ArgumentError,
    );
  });

  test('a parameter named weight is refused (it used to apply twice)', () => {
    expect(() =>
      defineModulatedLoss({ name: 'w2', factor: (_, { weight }) => weight, params: { weight: 2 } }),
    ).toThrow(/parameter "weight" of 'w2' is not allowed/);
  });

  test('__proto__ and symbol keys are refused; defaults must be finite numbers', () => {
    const proto = JSON.parse('{"__proto__": 1}') as Record<string, number>;
    expect(() => defineModulatedLoss({ name: 'n', factor: () => 1, params: proto })).toThrow(ArgumentError);
    expect(() =>
      defineModulatedLoss({ name: 'n', factor: () => 1, params: { [Symbol('s')]: 1 } as never }),
    ).toThrow(ArgumentError);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, '1', null]) {
      expect(() => defineModulatedLoss({ name: 'n', factor: () => 1, params: { g: v as number } })).toThrow(
        /finite numeric default/,
      );
    }
  });

  test('alpha may be a parameter (varifocal) but not also the class-balance default', () => {
    expect(() =>
      defineModulatedLoss({
        name: 'a2',
        factor: (_, { alpha }) => alpha,
        params: { alpha: 0.5 },
        alpha: 0.25,
      }),
    ).toThrow(/'alpha'/);
    const vf = defineModulatedLoss({ name: 'a1', factor: (_, { alpha }) => alpha, params: { alpha: 0.5 } });
    expect(vf(x, y, { alpha: 0.3 }).item()).toBeCloseTo(0.3 * bceWithLogits(x, y).item(), 14);
  });
});

describe('domains', () => {
  const MODULATED: Array<[string, (x: Tensor, y: Tensor) => Tensor]> = [
    ['focal', (a, b) => focal(a, b)],
    ['sigmoidFocal', (a, b) => sigmoidFocal(a, b, { reduction: 'sum' })],
    ['qfocal', (a, b) => qfocal(a, b)],
    ['varifocal', (a, b) => varifocal(a, b)],
    ['asymmetric', (a, b) => asymmetric(a, b)],
    ['poly1', (a, b) => poly1(a, b)],
    ['FocalLoss', (a, b) => new FocalLoss(new BCEWithLogitsLoss()).forward(a, b)],
    ['custom', (a, b) => defineModulatedLoss({ name: 'custom', factor: ({ pt }) => pt })(a, b)],
  ];

  test.each(MODULATED)('%s: targets outside [0, 1] or NaN are DomainErrors naming the element', (_, loss) => {
    const a = f64([0.3, 2, -1]);
    expect(() => loss(a, f64([0, 2, 1]))).toThrow(DomainError);
    expect(() => loss(a, f64([0, 2, 1]))).toThrow(/element 1 is 2/);
    expect(() => loss(a, f64([0, 1, -0.5]))).toThrow(/element 2 is -0.5/);
    expect(() => loss(a, f64([Number.NaN, 1, 0]))).toThrow(/element 0 is NaN/);
    expect(() => loss(a, f64([0, Number.POSITIVE_INFINITY, 0]))).toThrow(DomainError);
    // Also in float32.
    const a32 = fromArray([0.3, 2], [2], { dtype: 'float32' });
    expect(() => loss(a32, fromArray([1, 1.5], [2], { dtype: 'float32' }))).toThrow(DomainError);
    // Hard and soft targets, and targets within rounding of the interval, are fine.
    expect(Number.isFinite(loss(a, f64([0, 1, 0.5])).item())).toBe(true);
    expect(Number.isFinite(loss(a, f64([-1e-7, 1 + 1e-6, 0.5])).item())).toBe(true);
  });

  test('the target check also runs in the broadcast (strided) loop', () => {
    const a = f64([0.3, 2, -1, 0, 1, 4], [2, 3]);
    const weight = f64([1, 2, 3]);
    expect(() => focal(a, f64([0, 1, 1, 0, 1.5, 0], [2, 3]), { weight })).toThrow(/element 4 is 1.5/);
    expect(() => poly1(a, f64([0, 1, 1, 0, 1, Number.NaN], [2, 3]), { posWeight: weight })).toThrow(
      /element 5 is NaN/,
    );
    expect(Number.isFinite(focal(a, f64([0, 1, 1, 0, 1, 0.5], [2, 3]), { weight }).item())).toBe(true);
  });

  test('focal with y = 2 was a plausible-looking number (1.7e-151); now a DomainError', () => {
    expect(() => focal(f64([400]), f64([2]))).toThrow(DomainError);
  });

  test('bce and bceWithLogits keep PyTorch semantics: targets are not range-checked', () => {
    const t = f64([2, -1, 0.5]);
    const got = bceWithLogits(x, t, { reduction: 'none' }).data;
    const want = Array.from(
      x.data,
      (v, i) => (1 - t.data[i]!) * Math.log1p(Math.exp(v)) + t.data[i]! * Math.log1p(Math.exp(-v)),
    );
    expect(maxRelDiff(got, want)).toBeLessThan(1e-14);
    const p = x.sigmoid();
    const gotB = bce(p, t, { reduction: 'none' }).data;
    const wantB = Array.from(p.data, (v, i) => (t.data[i]! - 1) * Math.log1p(-v) - t.data[i]! * Math.log(v));
    expect(maxRelDiff(gotB, wantB)).toBeLessThan(1e-14);
  });

  test('gamma < 0 is a DomainError (number, per-class tensor, FocalLoss); NaN and inf are ArgumentErrors', () => {
    for (const l of [focal, sigmoidFocal, qfocal, varifocal]) {
      expect(() => l(x, y, { gamma: -0.5 })).toThrow(DomainError);
      expect(() => l(x, y, { gamma: -0.5 })).toThrow(
        /parameter 'gamma' must be in \[0, Infinity\], got -0.5/,
      );
      expect(() => l(x, y, { gamma: f64([1, -1, 2]) })).toThrow(/element 1 is -1/);
      expect(() => l(x, y, { gamma: f64([1, Number.NaN, 2]) })).toThrow(DomainError);
      expect(() => l(x, y, { gamma: Number.POSITIVE_INFINITY })).toThrow(ArgumentError);
      expect(() => l(x, y, { gamma: Number.NaN })).toThrow(ArgumentError);
    }
    expect(() => asymmetric(x, y, { gammaNeg: -1 })).toThrow(DomainError);
    expect(() => asymmetric(x, y, { gammaPos: -1 })).toThrow(DomainError);
    expect(() => new FocalLoss(new BCEWithLogitsLoss(), -1)).toThrow(DomainError);
    expect(() => new FocalLoss(new BCEWithLogitsLoss(), Number.NaN)).toThrow(ArgumentError);
    expect(focal(x, y, { gamma: -0 }).item()).toBe(focal(x, y, { gamma: 0 }).item());
  });

  test('alpha: [0, 1], negative disables, above 1 or a per-class element outside [0, 1] is a DomainError', () => {
    for (const l of [focal, sigmoidFocal, qfocal, poly1]) {
      expect(() => l(x, y, { alpha: 1.5 })).toThrow(DomainError);
      expect(() => l(x, y, { alpha: f64([0.25, 1.5, 0.25]) })).toThrow(/'alpha'.*element 1 is 1.5/);
      expect(() => l(x, y, { alpha: f64([0.25, -0.5, 0.25]) })).toThrow(DomainError);
      expect(() => l(x, y, { alpha: Number.NaN })).toThrow(ArgumentError);
      expect(() => l(x, y, { alpha: Number.NEGATIVE_INFINITY })).toThrow(ArgumentError);
    }
    expect(focal(x, y, { alpha: -1 }).item()).toBe(focal(x, y, { alpha: null }).item());
    expect(() => new FocalLoss(new BCEWithLogitsLoss(), 2, 1.01)).toThrow(DomainError);
    // varifocal's alpha scales the negatives: any alpha >= 0.
    expect(() => varifocal(x, y, { alpha: -0.1 })).toThrow(DomainError);
    expect(Number.isFinite(varifocal(x, y, { alpha: 2 }).item())).toBe(true);
  });

  test('asymmetric clip in [0, 1]: negative or above 1 is a DomainError; clip = 1 ignores every negative', () => {
    expect(() => asymmetric(x, y, { clip: -0.05 })).toThrow(/parameter 'clip' must be in \[0, 1\]/);
    expect(() => asymmetric(x, y, { clip: 1.5 })).toThrow(DomainError);
    expect(() => asymmetric(x, y, { clip: f64([0.1, -0.1, 0.1]) })).toThrow(DomainError);
    const negatives = f64([0, 0, 0]);
    expect(asymmetric(x, negatives, { clip: 1 }).item()).toBe(0);
  });

  test('poly1 epsilon may be negative (PolyLoss uses epsilon = -1)', () => {
    const got = poly1(x, y, { epsilon: -1, reduction: 'none' }).data;
    const base = bceWithLogits(x, y, { reduction: 'none' }).data;
    const p = Array.from(x.data, (v) => 1 / (1 + Math.exp(-v)));
    const want = Array.from(base, (b, i) => {
      const t = y.data[i]!;
      return b - (1 - (t * p[i]! + (1 - t) * (1 - p[i]!)));
    });
    expect(maxRelDiff(got, want)).toBeLessThan(1e-13);
  });

  test('defineModulatedLoss ranges: checked on defaults, numbers and tensor elements', () => {
    expect(() =>
      defineModulatedLoss({ name: 'r', factor: () => 1, params: { k: -1 }, ranges: { k: [0, 1] } }),
    ).toThrow(DomainError);
    expect(() =>
      defineModulatedLoss({ name: 'r', factor: () => 1, params: { k: 0 }, ranges: { k: [1, 0] } }),
    ).toThrow(ArgumentError);
    expect(() =>
      defineModulatedLoss({ name: 'r', factor: () => 1, params: { k: 0 }, ranges: { j: [0, 1] } as never }),
    ).toThrow(/unknown key "j"/);
    const r = defineModulatedLoss({
      name: 'r',
      factor: ({ pt }, { k }) => pt.mul(k),
      params: { k: 0.5 },
      ranges: { k: [0, 1] },
    });
    expect(() => r(x, y, { k: 2 })).toThrow(/parameter 'k' must be in \[0, 1\], got 2/);
    expect(() => r(x, y, { k: f64([0.5, 0.5, 3]) })).toThrow(DomainError);
  });
});

describe('errors of user factors name the loss', () => {
  test('a factor reading an undeclared parameter', () => {
    const l = defineModulatedLoss({
      name: 'no-gamma',
      factor: ({ pt }, params) => pt.pow((params as unknown as Record<string, never>).gamma),
    });
    expect(() => l(x, y)).toThrow(ArgumentError);
    expect(() => l(x, y)).toThrow(
      /no-gamma: the factor reads parameter 'gamma', which the loss does not declare/,
    );
    const m = defineModulatedLoss({
      name: 'typo',
      factor: ({ pt }, params) => pt.pow((params as unknown as Record<string, never>).gama),
      params: { gamma: 2 },
    });
    expect(() => m(x, y)).toThrow(/typo: .*'gama'.*parameters: gamma/);
  });

  test('a factor reading an unknown quantity', () => {
    const l = defineModulatedLoss({
      name: 'q',
      factor: (q) => (q as unknown as Record<string, never>).prob,
    });
    expect(() => l(x, y)).toThrow(/q: the factor reads quantity 'prob'.*x, y, p, pt, logPt, log1mPt/);
  });

  test('a factor returning a non-Value, or throwing, is an ArgumentError naming the loss and keeping the cause', () => {
    const obj = defineModulatedLoss({ name: 'obj', factor: () => ({}) as never });
    expect(() => obj(x, y)).toThrow(/obj: the factor function must return a Value or a number/);
    const boom = new TypeError('boom');
    const thrower = defineModulatedLoss({
      name: 'thrower',
      factor: () => {
        throw boom;
      },
    });
    let caught: unknown;
    try {
      thrower(x, y);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ArgumentError);
    expect((caught as Error).message).toMatch(/thrower: the factor function threw: TypeError: boom/);
    expect((caught as Error).cause).toBe(boom);
    const add = defineModulatedLoss({
      name: 'add',
      factor: () => 1,
      additive: (_, p) => (p as unknown as Record<string, never>).eps,
    });
    expect(() => add(x, y)).toThrow(/add: the factor reads parameter 'eps'/);
    const nan = defineModulatedLoss({ name: 'nan', factor: () => 1, additive: () => Number.NaN });
    expect(() => nan(x, y)).toThrow(/nan: the additive function must return/);
  });
});

describe('numeric parameters are run-time arguments: one program for many values', () => {
  test('100 distinct gammas build one program (and run the factor once)', () => {
    let calls = 0;
    const l = defineModulatedLoss({
      name: 'gammas',
      factor: ({ pt }, { gamma }) => {
        calls++;
        return pt.neg().add(1).pow(gamma);
      },
      params: { gamma: 1.3 },
      alpha: 0.25,
    });
    for (let i = 0; i < 100; i++) l(x, y, { gamma: 1.01 + i * 1e-3, alpha: 0.1 + i * 1e-3 });
    expect(cachedProgramCount(l)).toBe(1);
    expect(calls).toBe(1);
    const before = cachedProgramCount(focal);
    for (let i = 0; i < 100; i++) focal(x, y, { gamma: 1 + (i + 1) * 1e-4 });
    expect(cachedProgramCount(focal) - before).toBeLessThanOrEqual(1);
  });

  test('values that change the code (0 and half-integers up to 16) get their own programs, bounded', () => {
    const l = defineModulatedLoss({
      name: 'bounded',
      factor: ({ pt }, { g }) => pt.neg().add(1).pow(g),
      params: { g: 2 },
    });
    for (let k = 0; k <= 32; k++) {
      l(x, y, { g: k / 2, alpha: 0.5 });
      l(x, y, { g: k / 2, alpha: null });
    }
    expect(cachedProgramCount(l)).toBe(PROGRAM_CACHE_CAPACITY);
  });

  test('a run-time gamma gives the same loss and gradients as the plain formula', () => {
    const xs = f64([0.4, -1.3, 2.5, -6, 30, -30]);
    const ys = f64([1, 0, 0.25, 1, 0, 1]);
    for (const gamma of [0.3, 1.3, 2.2, 2 + 1e-9]) {
      const u = leaf(xs);
      const got = focal(u, ys, { gamma, alpha: 0.3, reduction: 'none' });
      const [g] = grad(got.sum(), [u]) as [Tensor];
      const v = leaf(xs);
      const p = v.sigmoid();
      const q = ys.mul(p.neg().add(1)).add(ys.neg().add(1).mul(p));
      const ce = v.softplus().sub(v.mul(ys));
      const at = ys.mul(0.3).add(ys.neg().add(1).mul(0.7));
      const want = ce.mul(at).mul(q.pow(gamma));
      const [gw] = grad(want.sum(), [v]) as [Tensor];
      // The reference loses digits where 1 − pt rounds (|x| = 30): compare moderately there.
      expect(maxRelDiff(got.data.slice(0, 4), want.data.slice(0, 4))).toBeLessThan(1e-12);
      expect(maxRelDiff(g.data.slice(0, 4), gw.data.slice(0, 4))).toBeLessThan(1e-11);
      expect(got.data.every(Number.isFinite)).toBe(true);
    }
    const near = focal(xs, ys, { gamma: 2 + 1e-12, reduction: 'none' }).data;
    const at2 = focal(xs, ys, { gamma: 2, reduction: 'none' }).data;
    expect(maxRelDiff(near, at2)).toBeLessThan(1e-10);
  });

  test('errors are typed GradkitErrors', () => {
    expect(() => focal(x, y, { gama: 1 } as never)).toThrow(GradkitError);
  });
});
