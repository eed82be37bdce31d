import { readFileSync } from 'node:fs';
import {
  ArgumentError,
  DomainError,
  fromArray,
  linear,
  noGrad,
  type Tensor,
  tensor,
} from '@gradkit/autograd';
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm,
  clipGradValue,
  LinearLR,
  type LRScheduler,
  OneCycleLR,
  type Optimizer,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
  StepLR,
} from '../src/index.js';

interface Step {
  loss: number;
  w: number[];
  b: number[];
  lr: number[];
  gradNorm?: number;
}
interface Fixture {
  problem: {
    x: number[];
    xShape: number[];
    c: number[];
    cShape: number[];
    w0: number[];
    wShape: number[];
    b0: number[];
    bShape: number[];
    steps: number;
  };
  optimizers: Record<string, { options: Record<string, unknown>; trajectory: Step[] }>;
  groups: Record<
    string,
    { options: Record<string, unknown>; groups: Array<Record<string, unknown>>; trajectory: Step[] }
  >;
  clip: Record<
    string,
    { options: Record<string, unknown>; maxNorm?: number; clipValue?: number; trajectory: Step[] }
  >;
  schedulers: Record<
    string,
    { optimizer: { lr: number; momentum: number }; options: Record<string, unknown>; trajectory: Step[] }
  >;
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/optim/optim.json', import.meta.url), 'utf8'),
) as Fixture;
const P = fixture.problem;
const f64 = { dtype: 'float64' as const };
const X = fromArray(Float64Array.from(P.x), P.xShape, f64);
const C = fromArray(Float64Array.from(P.c), P.cShape, f64);

function problem() {
  const w = fromArray(Float64Array.from(P.w0), P.wShape, { ...f64, requiresGrad: true });
  const b = fromArray(Float64Array.from(P.b0), P.bShape, { ...f64, requiresGrad: true });
  const loss = () => linear(X, w, b).tanh().mul(C).sum().add(w.square().sum().mul(0.25));
  return { w, b, loss };
}

/** Relative closeness with a floor, so values near 0 are compared absolutely at 1e-12. */
function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), 1e-2);
    if (!(err <= 1e-10)) throw new Error(`${what}[${i}]: got ${a}, PyTorch ${e} (relative error ${err})`);
  }
}

type Make = (params: Tensor[] | Array<Record<string, unknown>>) => Optimizer;

function replay(
  name: string,
  make: Make,
  trajectory: Step[],
  extra: {
    groups?: (w: Tensor, b: Tensor) => Array<Record<string, unknown>>;
    clip?: (w: Tensor, b: Tensor) => number | undefined;
    scheduler?: (o: Optimizer) => LRScheduler | ReduceLROnPlateau;
  } = {},
): void {
  const { w, b, loss } = problem();
  const opt = make(extra.groups ? extra.groups(w, b) : [w, b]);
  const sched = extra.scheduler?.(opt);
  trajectory.forEach((expected, k) => {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    const norm = extra.clip?.(w, b);
    opt.step();
    const lrs = opt.paramGroups.map((g) => g.lr);
    if (sched instanceof ReduceLROnPlateau) sched.step(l.item());
    else sched?.step();
    const at = `${name} step ${k + 1}`;
    expectClose([l.item()], [expected.loss], `${at} loss`);
    expectClose(w.data, expected.w, `${at} w`);
    expectClose(b.data, expected.b, `${at} b`);
    expectClose(lrs, expected.lr, `${at} lr`);
    if (expected.gradNorm !== undefined) expectClose([norm!], [expected.gradNorm], `${at} gradNorm`);
  });
}

function camel(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) out[k] = Array.isArray(v) ? [...v] : v;
  return out;
}

const KINDS: Record<string, (p: never, o: never) => Optimizer> = {
  sgd: (p, o) => new SGD(p, o),
  adam: (p, o) => new Adam(p, o),
  adamw: (p, o) => new AdamW(p, o),
  rmsprop: (p, o) => new RMSprop(p, o),
};
const kindOf = (name: string) => name.split('_')[0]!;

describe('optimizers match PyTorch 1.13 step by step (20 steps, float64, rtol 1e-10)', () => {
  for (const [name, { options, trajectory }] of Object.entries(fixture.optimizers)) {
    it(name, () => {
      replay(name, (p) => KINDS[kindOf(name)]!(p as never, camel(options) as never), trajectory);
    });
  }
  for (const [name, { options, groups, trajectory }] of Object.entries(fixture.groups)) {
    it(`${name} (parameter groups)`, () => {
      replay(name, (p) => KINDS[kindOf(name)]!(p as never, camel(options) as never), trajectory, {
        groups: (w, b) => groups.map((g) => ({ ...camel(g), params: [g.params === 'w' ? w : b] })),
      });
    });
  }
  for (const [name, entry] of Object.entries(fixture.clip)) {
    it(`${name} (gradient clipping)`, () => {
      replay(name, (p) => new SGD(p as Tensor[], camel(entry.options) as { lr: number }), entry.trajectory, {
        clip: (w, b) => {
          if (entry.maxNorm !== undefined) return clipGradNorm([w, b], entry.maxNorm);
          clipGradValue([w, b], entry.clipValue!);
          return undefined;
        },
      });
    });
  }
});

describe('learning-rate schedulers match PyTorch 1.13 (SGD with momentum underneath)', () => {
  const make: Record<
    string,
    (o: Optimizer, options: Record<string, unknown>) => LRScheduler | ReduceLROnPlateau
  > = {
    step_lr: (o, x) => new StepLR(o, x as never),
    cosine: (o, x) => new CosineAnnealingLR(o, x as never),
    linear_warmup: (o, x) => new LinearLR(o, x as never),
    one_cycle: (o, x) => new OneCycleLR(o, x as never),
    one_cycle_linear: (o, x) => new OneCycleLR(o, x as never),
    plateau: (o, x) => new ReduceLROnPlateau(o, x as never),
  };
  for (const [name, entry] of Object.entries(fixture.schedulers)) {
    it(name, () => {
      replay(
        name,
        (p) => new SGD(p as Tensor[], { lr: entry.optimizer.lr, momentum: entry.optimizer.momentum }),
        entry.trajectory,
        {
          scheduler: (o) => make[name]!(o, entry.options),
        },
      );
    });
  }
});

describe('optimizer API', () => {
  const param = () => tensor([1, 2, 3], { ...f64, requiresGrad: true });

  it('validates options like PyTorch (negative lr, betas outside [0, 1), nesterov rules, unknown keys)', () => {
    expect(() => new SGD([param()], { lr: -1 })).toThrow(DomainError);
    expect(() => new SGD([param()], {} as { lr: number })).toThrow(/'lr' is required/);
    expect(() => new SGD([param()], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires/);
    expect(() => new Adam([param()], { betas: [0.9, 1] })).toThrow(DomainError);
    expect(() => new Adam([param()], { betas: [-0.1, 0.9] })).toThrow(DomainError);
    expect(() => new Adam([param()], { lr: 0.1, beta1: 0.9 } as never)).toThrow(/unknown key "beta1"/);
    expect(() => new RMSprop([param()], { alpha: 1.5 })).toThrow(DomainError);
    expect(() => new Adam([])).toThrow(/empty parameter list/);
    const p = param();
    expect(() => new Adam([p, p.mul(2)])).toThrow(/non-leaf/);
    expect(() => new Adam([{ params: [p] }, { params: [p] }])).toThrow(/more than one parameter group/);
    expect(() => new Adam([1 as unknown as Tensor])).toThrow(ArgumentError);
    const polluted = Object.create({ lr: -5 }) as { lr?: number };
    expect(new Adam([param()], polluted).defaults.lr).toBe(1e-3);
  });

  it('re-checks hyperparameters changed between steps', () => {
    const p = param();
    const opt = new SGD([p], { lr: 0.1 });
    opt.paramGroups[0]!.lr = Number.NaN;
    p.grad = tensor([1, 1, 1], f64);
    expect(() => opt.step()).toThrow(DomainError);
  });

  it('skips parameters without a gradient and supports a closure', () => {
    const a = param();
    const b = param();
    const opt = new SGD([a, b], { lr: 0.5 });
    const loss = opt.step(() => {
      const l = a.sum();
      l.backward();
      return l;
    });
    expect((loss as Tensor).item()).toBe(6);
    expect(Array.from(a.data)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(b.data)).toEqual([1, 2, 3]);
  });

  it('stateDict / loadStateDict resume training exactly', () => {
    const run = (steps: number, resumeAt?: number) => {
      let { w, b, loss } = problem();
      let opt = new Adam([w, b], { lr: 0.05, amsgrad: true });
      for (let k = 0; k < steps; k++) {
        if (k === resumeAt) {
          const saved = opt.stateDict();
          const fresh = problem();
          noGrad(() => {
            fresh.w.data.set(w.data);
            fresh.b.data.set(b.data);
          });
          ({ w, b, loss } = fresh);
          opt = new Adam([w, b], { lr: 0.05, amsgrad: true });
          opt.loadStateDict(JSON.parse(JSON.stringify({ paramGroups: saved.paramGroups, state: {} })));
          opt.loadStateDict(saved);
        }
        opt.zeroGrad();
        loss().backward();
        opt.step();
      }
      return Array.from(w.data);
    };
    expect(run(10, 4)).toEqual(run(10));
  });

  it('loadStateDict refuses mismatched states and changes nothing', () => {
    const opt = new Adam([param()], { lr: 0.1 });
    const other = new Adam([param(), param()], { lr: 0.2 });
    expect(() => opt.loadStateDict(other.stateDict())).toThrow(ArgumentError);
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
  });

  it('a scheduled learning rate reuses the compiled update kernel (values stay exact)', () => {
    const { w, b, loss } = problem();
    const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9 });
    const sched = new CosineAnnealingLR(opt, { tMax: 50 });
    for (let k = 0; k < 50; k++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
      sched.step();
    }
    expect(w.data.every(Number.isFinite)).toBe(true);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0, 12);
  });

  it('schedulers validate their options', () => {
    const opt = new SGD([param()], { lr: 0.1 });
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(DomainError);
    expect(() => new StepLR(opt, { stepSize: '2' } as never)).toThrow(ArgumentError);
    expect(() => new StepLR(opt, { stepSize: 2, gama: 0.5 } as never)).toThrow(/unknown key "gama"/);
    expect(() => new ReduceLROnPlateau(opt, { factor: 1 })).toThrow(DomainError);
    expect(() => new OneCycleLR(new SGD([param()], { lr: 0.1 }), { maxLr: 1, totalSteps: 0 })).toThrow(
      DomainError,
    );
    // SGD without momentum cannot cycle it.
    expect(
      () => new OneCycleLR(new Adam([param()]), { maxLr: 1, totalSteps: 4, cycleMomentum: false }),
    ).not.toThrow();
    const oc = new OneCycleLR(new SGD([param()], { lr: 0.1, momentum: 0.9 }), { maxLr: 1, totalSteps: 2 });
    oc.step();
    oc.step();
    expect(() => oc.step()).toThrow(/total number of steps is 2/);
    expect(() => new ReduceLROnPlateau(opt).step(Number.NaN)).toThrow(DomainError);
  });

  it('clipGradNorm returns the total norm and validates its arguments', () => {
    const a = param();
    a.grad = tensor([3, 4, 0], f64);
    expect(clipGradNorm([a], 1)).toBe(5);
    expect(Array.from(a.grad.data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.6, 0.8, 0]);
    a.grad = tensor([3, -4, 0], f64);
    expect(clipGradNorm(a, 10, Number.POSITIVE_INFINITY)).toBe(4);
    a.grad = tensor([Number.NaN, 1, 0], f64);
    expect(() => clipGradNorm([a], 1, 2, true)).toThrow(DomainError);
    expect(() => clipGradNorm([a], -1)).toThrow(DomainError);
    expect(() => clipGradValue([a], Number.NaN)).toThrow(DomainError);
  });
});

describe('optimizers and autograd version counters', () => {
  it('a step bumps the parameter version, so a graph that saved the old value refuses backward', () => {
    const w = tensor([1, 2, 3], { ...f64, requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const y = w.mul(w).sum(); // saves w
    w.mul(2).sum().backward();
    const before = w.version;
    opt.step();
    expect(w.version).toBe(before + 1);
    expect(() => y.backward()).toThrow(/modified by an inplace operation/);
  });
});
