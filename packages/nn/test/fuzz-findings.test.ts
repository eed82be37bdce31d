/**
 * Regression tests for what the fuzz suite (fuzz-nn.test.ts) found: each input used to crash with a
 * TypeError (or, for sparse arrays, to be misread) instead of giving a typed error.
 */
import {
  ArgumentError,
  DomainError,
  fromArray,
  GradkitError,
  ones,
  type Tensor,
  zeros,
} from '@gradkit/autograd';
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm,
  clipGradValue,
  Dropout,
  Embedding,
  init,
  LayerNorm,
  Linear,
  LinearLR,
  OneCycleLR,
  type OptimizerStateDict,
  parameter,
  ReduceLROnPlateau,
  ReLU,
  RMSprop,
  Sequential,
  SGD,
  Sigmoid,
  StepLR,
  Tanh,
  TensorDataset,
} from '@gradkit/nn';
import { describe, expect, it } from 'vitest';

const param = (shape: number[]): Tensor => {
  const p = parameter(zeros(shape, { dtype: 'float64' }));
  p.grad = ones(shape, { dtype: 'float64' });
  return p;
};

describe('optimizers', () => {
  it('refuse options that are not an object', () => {
    for (const make of [
      () => new Adam([param([2])], null as never),
      () => new AdamW([param([2])], null as never),
      () => new RMSprop([param([2])], null as never),
      () => new Adam([param([2])], 'lr' as never),
      () => new RMSprop([param([2])], [0.1] as never),
    ]) {
      expect(make).toThrow(ArgumentError);
      expect(make).toThrow(/argument 'options' must be an object/);
    }
  });

  it('refuse a param group that is not an object', () => {
    const opt = new SGD([param([2])], { lr: 0.1 });
    expect(() => opt.addParamGroup(undefined as never)).toThrow(ArgumentError);
    expect(() => opt.addParamGroup(null as never)).toThrow(ArgumentError);
    expect(() => new Adam([param([1])]).addParamGroup(7 as never)).toThrow(/param group must be an object/);
  });

  it('refuse betas with a hole', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the test
    const betas = [0.9, ,] as unknown as [number, number];
    expect(() => new Adam([param([2])], { betas })).toThrow(DomainError);
  });

  it('loadStateDict refuses a sparse paramGroups list instead of shifting the groups', () => {
    const a = param([2]);
    const b = param([3]);
    const opt = new SGD(
      [
        { params: [a], lr: 0.1 },
        { params: [b], lr: 0.2 },
      ],
      { lr: 0.5 },
    );
    const sd = opt.stateDict();
    sd.paramGroups[1]!.lr = 0.7;
    delete (sd.paramGroups as unknown[])[0];
    expect(() => opt.loadStateDict(sd)).toThrow(ArgumentError);
    // Nothing changed: group 0 did not receive group 1's rate.
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.2]);
  });

  it('loadStateDict refuses a state without the buffers step() needs (was a TypeError at step)', () => {
    const p = param([2]);
    const opt = new Adam([p]);
    opt.step();
    const sd = opt.stateDict() as OptimizerStateDict;
    delete sd.state['0']!.expAvg;
    const fresh = new Adam([param([2])]);
    expect(() => fresh.loadStateDict(sd as never)).toThrow(/lacks 'expAvg'/);
    // A complete one still loads, and steps.
    const ok = new Adam([param([2])]);
    ok.loadStateDict(opt.stateDict());
    expect(() => ok.step()).not.toThrow();
  });

  it('loadStateDict checks the kind of each state entry and the parameter keys', () => {
    const opt = new RMSprop([param([2])], { momentum: 0.5 });
    opt.step();
    const base = () => opt.stateDict() as OptimizerStateDict;
    const bad = (edit: (sd: OptimizerStateDict) => void) => {
      const sd = base();
      edit(sd);
      return () => new RMSprop([param([2])], { momentum: 0.5 }).loadStateDict(sd as never);
    };
    expect(
      bad((sd) => {
        sd.state['0']!.squareAvg = 3;
      }),
    ).toThrow(/must be a Tensor/);
    expect(
      bad((sd) => {
        sd.state['0']!.step = Number.NaN;
      }),
    ).toThrow(/'step' of parameter 0 must be a non-negative integer/);
    expect(
      bad((sd) => {
        sd.state['0']!.step = fromArray([1], [1]);
      }),
    ).toThrow(ArgumentError);
    expect(
      bad((sd) => {
        sd.state['00'] = sd.state['0']!;
        delete sd.state['0'];
      }),
    ).toThrow(/parameter index '00'/);
    // SGD without momentum keeps no state, so momentum buffers are optional there.
    const sgd = new SGD([param([2])], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    const sd = sgd.stateDict();
    const other = new SGD([param([2])], { lr: 0.1, momentum: 0.9 });
    other.loadStateDict(sd);
    expect(() => other.step()).not.toThrow();
  });
});

describe('schedulers', () => {
  const opt = () => new SGD([param([2])], { lr: 0.1 });

  it('refuse an object that is not an Optimizer', () => {
    const fake = { paramGroups: [null] } as never;
    for (const make of [
      () => new StepLR(fake, { stepSize: 1 }),
      () => new LinearLR(fake),
      () => new CosineAnnealingLR(fake, { tMax: 2 }),
      () => new ReduceLROnPlateau(fake),
    ]) {
      expect(make).toThrow(ArgumentError);
      expect(make).toThrow(/must be an Optimizer/);
    }
  });

  it('name the missing required option when options are left out', () => {
    expect(() => new StepLR(opt(), undefined as never)).toThrow(/option 'stepSize'/);
    expect(() => new CosineAnnealingLR(opt(), undefined as never)).toThrow(/option 'tMax'/);
    expect(() => new OneCycleLR(opt(), undefined as never)).toThrow(/option 'maxLr'/);
  });

  it('loadStateDict refuses undefined, inherited keys and a holey lastLr', () => {
    const s = new StepLR(opt(), { stepSize: 1 });
    expect(() => s.loadStateDict(undefined as never)).toThrow(ArgumentError);
    expect(() => s.loadStateDict(Object.create({ lastEpoch: 2, lastLr: [0.1] }))).toThrow(ArgumentError);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the test
    expect(() => s.loadStateDict({ lastEpoch: 2, lastLr: [,] as unknown as number[] })).toThrow(/'lastLr'/);
    s.loadStateDict({ lastEpoch: 2, lastLr: [0.05] });
    expect(s.getLastLr()).toEqual([0.05]);
  });
});

describe('clipping and init', () => {
  it('clipGradNorm / clipGradValue refuse params that are not iterable', () => {
    expect(() => clipGradNorm(0 as never, 1)).toThrow(ArgumentError);
    expect(() => clipGradNorm(null as never, 1)).toThrow(/must be a Tensor or an iterable of Tensors/);
    expect(() => clipGradValue(undefined as never, 1)).toThrow(ArgumentError);
  });

  it('init.fans refuses a non-tensor', () => {
    expect(() => init.fans(undefined as never)).toThrow(ArgumentError);
    expect(() => init.fans([2, 3] as never)).toThrow(/init\.fans/);
  });
});

describe('modules', () => {
  it('namedModules refuses a prefix that is not a string', () => {
    expect(() => new Linear(2, 1).namedModules(3 as never)).toThrow(ArgumentError);
    expect(new Linear(2, 1).namedModules('m').map(([n]) => n)).toEqual(['m']);
  });

  it('Sequential.at refuses a non-integer position', () => {
    const s = new Sequential(new ReLU(), new Tanh());
    expect(() => s.at(Symbol('i') as never)).toThrow(ArgumentError);
    expect(() => s.at(1.5)).toThrow(ArgumentError);
    expect(s.at(-1)).toBeInstanceOf(Tanh);
    expect(s.at(5)).toBeUndefined();
  });

  it('forward refuses an input that is not a tensor', () => {
    for (const m of [
      new ReLU(),
      new Sigmoid(),
      new Tanh(),
      new Dropout(0.5),
      new LayerNorm(3),
      new Embedding(3, 2),
      new Sequential(),
      new Sequential(new ReLU()),
    ]) {
      for (const x of [undefined, null, 3, 'x']) {
        let caught: unknown;
        try {
          m.forward(x as never);
        } catch (e) {
          caught = e;
        }
        expect(caught, `${m.constructor.name}.forward(${String(x)})`).toBeInstanceOf(GradkitError);
      }
    }
  });
});

describe('TensorDataset.getBatch', () => {
  const ds = new TensorDataset(fromArray([1, 2, 3, 4, 5, 6], [3, 2]), fromArray([0, 1, 0], [3]));

  it('accepts an array of integers as well as an Int32Array', () => {
    const [x, y] = ds.getBatch([2, 0]);
    expect(Array.from(x!.data)).toEqual([5, 6, 1, 2]);
    expect(Array.from(y!.data)).toEqual([0, 0]);
    expect(Array.from(ds.getBatch(Int32Array.of(1))[0]!.data)).toEqual([3, 4]);
  });

  it('refuses anything else with a typed error', () => {
    expect(() => ds.getBatch('ab' as never)).toThrow(ArgumentError);
    expect(() => ds.getBatch(undefined as never)).toThrow(ArgumentError);
    expect(() => ds.getBatch([0.5])).toThrow(DomainError);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the test
    expect(() => ds.getBatch([0, , 1] as number[])).toThrow(DomainError);
  });
});
