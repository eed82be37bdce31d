import {
  ArgumentError,
  DomainError,
  DtypeError,
  Generator,
  linear,
  ShapeError,
  type Tensor,
  tensor,
} from '@gradkit/autograd';
import { erfNumber } from '@gradkit/kernels';
import { gradcheckTensor, propertyConfig, shape as shapeArb, tensorOf } from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Dropout,
  Embedding,
  Flatten,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  Module,
  parameter,
  ReLU,
  Sequential,
  Sigmoid,
  SiLU,
  Tanh,
} from '../src/index.js';

const f64 = { dtype: 'float64' as const };

class MLP extends Module {
  fc1: Linear;
  act = new ReLU();
  fc2: Linear;
  constructor(dtype: 'float32' | 'float64' = 'float32', seed = 1) {
    super();
    const generator = new Generator(seed);
    this.fc1 = new Linear(4, 3, { dtype, generator });
    this.fc2 = new Linear(3, 1, { dtype, generator });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

function expectOk(report: { ok: boolean; worst?: unknown }): void {
  expect(report.ok, JSON.stringify(report.worst)).toBe(true);
}

describe('Module', () => {
  it('names parameters by property path, in creation order, like state_dict keys', () => {
    const m = new MLP();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.parameters()).toHaveLength(4);
    expect(m.children()).toHaveLength(3);
    expect(m.namedModules().map(([k]) => k)).toEqual(['', 'fc1', 'act', 'fc2']);
    const seq = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('names arrays of modules by index and lists a shared parameter once', () => {
    class Tied extends Module {
      blocks = [new Linear(2, 2), new Linear(2, 2)];
      constructor() {
        super();
        this.blocks[1]!.weight = this.blocks[0]!.weight;
      }
      forward(x: Tensor): Tensor {
        return this.blocks[1]!.forward(this.blocks[0]!.forward(x));
      }
    }
    expect(new Tied().namedParameters().map(([k]) => k)).toEqual([
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.bias',
    ]);
  });

  it('train() and eval() set the mode on every sub-module', () => {
    const m = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5)));
    expect(m.modules().every((x) => x.training)).toBe(true);
    m.eval();
    expect(m.modules().some((x) => x.training)).toBe(false);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(() => m.train('no' as unknown as boolean)).toThrow(ArgumentError);
  });

  it('zeroGrad clears every gradient', () => {
    const m = new MLP();
    m.forward(tensor([[1, 2, 3, 4]]))
      .sum()
      .backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('stateDict / loadStateDict round-trip between two models', () => {
    const a = new MLP('float32', 1);
    const b = new MLP('float32', 2);
    const x = tensor([[0.5, -1, 2, 0.25]]);
    expect(b.forward(x).item()).not.toBe(a.forward(x).item());
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.forward(x).item()).toBe(a.forward(x).item());
    // The loaded parameters are copies: changing a does not change b.
    a.fc1.weight.data[0] = 42;
    expect(b.fc1.weight.data[0]).not.toBe(42);
  });

  it('a failed load leaves the model unchanged (names, shapes, dtypes all checked first)', () => {
    const a = new MLP('float32', 1);
    const before = a.parameters().map((p) => Array.from(p.data));
    const unchanged = () => expect(a.parameters().map((p) => Array.from(p.data))).toEqual(before);
    const good = new MLP('float32', 2).stateDict();
    const missing = { ...good };
    delete missing['fc2.bias'];
    expect(() => a.loadStateDict(missing)).toThrow(/missing keys: fc2\.bias/);
    unchanged();
    expect(() => a.loadStateDict({ ...good, extra: tensor([1]) })).toThrow(/unexpected keys: extra/);
    unchanged();
    // The shape error is on the last entry, after others would have been copied by a naive loader.
    expect(() => a.loadStateDict({ ...good, 'fc2.bias': tensor([1, 2]) })).toThrow(ShapeError);
    unchanged();
    expect(() => a.loadStateDict({ ...good, 'fc2.bias': tensor([1], f64) })).toThrow(DtypeError);
    unchanged();
    expect(() => a.loadStateDict({ ...good, 'fc2.bias': [1] as unknown as Tensor })).toThrow(ArgumentError);
    unchanged();
    expect(() => a.loadStateDict(good, { strict: true, strcit: false } as { strict: boolean })).toThrow(
      /unknown key "strcit"/,
    );
    const loose = a.loadStateDict(
      { 'fc1.weight': good['fc1.weight']!, extra: tensor([1]) },
      { strict: false },
    );
    expect(loose).toEqual({ missingKeys: ['fc1.bias', 'fc2.weight', 'fc2.bias'], unexpectedKeys: ['extra'] });
    expect(Array.from(a.fc1.weight.data)).toEqual(Array.from(good['fc1.weight']!.data));
  });

  it('loadStateDict accepts a Map and ignores inherited keys', () => {
    const a = new MLP('float32', 1);
    const sd = new MLP('float32', 3).stateDict();
    a.loadStateDict(new Map(Object.entries(sd)));
    expect(Array.from(a.fc2.bias!.data)).toEqual(Array.from(sd['fc2.bias']!.data));
    const proto = { extra: tensor([1]) };
    const inherited = Object.assign(Object.create(proto), sd);
    expect(() => a.loadStateDict(inherited)).not.toThrow();
  });

  it('to(dtype) converts parameters, keeps them parameters and keeps requiresGrad', () => {
    const m = new MLP('float32');
    m.fc1.bias!.requiresGrad = false;
    m.to('float64');
    expect(m.parameters().map((p) => p.dtype)).toEqual(['float64', 'float64', 'float64', 'float64']);
    expect(m.fc1.bias!.requiresGrad).toBe(false);
    expect(m.fc1.weight.requiresGrad).toBe(true);
    expect(m.forward(tensor([[1, 2, 3, 4]], f64)).dtype).toBe('float64');
    expect(() => m.to('int8' as 'float32')).toThrow(DtypeError);
  });

  it('parameter() refuses non-leaves', () => {
    const x = tensor([1], { requiresGrad: true });
    expect(() => parameter(x.mul(2))).toThrow(ArgumentError);
  });
});

describe('Linear', () => {
  it("uses PyTorch's default initialisation bounds ±1/√inFeatures", () => {
    const l = new Linear(50, 40, { generator: new Generator(3) });
    const bound = 1 / Math.sqrt(50);
    for (const v of [...l.weight.data, ...l.bias!.data]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    // Uniform on ±bound: the sample variance is close to bound²/3.
    const w = Array.from(l.weight.data);
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(((bound * bound) / 3) * 0.9);
    expect(variance).toBeLessThan(((bound * bound) / 3) * 1.1);
    expect(l.weight.shape).toEqual([40, 50]);
  });

  it('is seeded: the same generator seed gives the same weights', () => {
    const a = new Linear(3, 2, { generator: new Generator(7) });
    const b = new Linear(3, 2, { generator: new Generator(7) });
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
  });

  it('computes x Wᵀ + b, without bias too, and checks its arguments', () => {
    const l = new Linear(3, 2, f64);
    const x = tensor([[1, 2, 3]], f64);
    expect(l.forward(x).tolist()).toEqual(linear(x, l.weight, l.bias).tolist());
    expect(new Linear(3, 2, { bias: false }).bias).toBeNull();
    expect(() => new Linear(0, 2)).toThrow(ArgumentError);
    expect(() => new Linear(2.5, 2)).toThrow(ArgumentError);
    expect(() => new Linear(2, 2, { bais: false } as never)).toThrow(/valid keys: bias, dtype, generator/);
    expect(() => new Linear(2, 2, { dtype: 'int32' } as never)).toThrow(ArgumentError);
    expect(() => l.forward(tensor([[1, 2]], f64))).toThrow(ShapeError);
  });

  it('has float64 gradients matching finite differences (input, weight, bias)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (i, o, n) => {
          const l = new Linear(i, o, f64);
          const x = tensor(
            Array.from({ length: n }, (_, r) => Array.from({ length: i }, (_, c) => Math.sin(r * 3 + c))),
            { ...f64, requiresGrad: true },
          );
          const fn = (xx: Tensor, w: Tensor, b: Tensor) => {
            l.weight = w;
            l.bias = b;
            return l.forward(xx);
          };
          expectOk(gradcheckTensor(fn, [x, l.weight, l.bias!]));
        },
      ),
      propertyConfig({ numRuns: 20 }),
    );
  });
});

describe('activations', () => {
  const cases: Array<[string, () => Module, (v: number) => number]> = [
    ['ReLU', () => new ReLU(), (v) => Math.max(v, 0)],
    ['Sigmoid', () => new Sigmoid(), (v) => 1 / (1 + Math.exp(-v))],
    ['Tanh', () => new Tanh(), Math.tanh],
    ['SiLU', () => new SiLU(), (v) => v / (1 + Math.exp(-v))],
    ['LeakyReLU', () => new LeakyReLU(0.2), (v) => (v > 0 ? v : 0.2 * v)],
    ['GELU', () => new GELU(), (v) => 0.5 * v * (1 + erfNumber(v / Math.SQRT2))],
    [
      'GELU (tanh)',
      () => new GELU({ approximate: 'tanh' }),
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    ],
  ];
  for (const [name, make, ref] of cases) {
    it(`${name} matches its formula and has float64 gradients matching finite differences`, () => {
      fc.assert(
        fc.property(
          shapeArb({ maxRank: 3, maxSize: 4 }).chain((s) =>
            tensorOf(s, { dtype: 'float64', min: -4, max: 4, minAbs: 1e-3, requiresGrad: true }),
          ),
          (x) => {
            const m = make();
            const y = m.forward(x);
            expect(y.shape).toEqual(x.shape);
            y.data.forEach((v, i) => {
              expect(v).toBeCloseTo(ref(x.data[i]!), 12);
            });
            expectOk(gradcheckTensor((t) => m.forward(t), [x]));
          },
        ),
        propertyConfig({ numRuns: 25 }),
      );
    });
  }

  it('GELU matches PyTorch values (exact by default) and refuses unknown modes', () => {
    // torch.nn.GELU()(torch.tensor([-3., -1., 0.5, 2.], dtype=torch.float64)) and approximate='tanh'.
    const x = tensor([-3, -1, 0.5, 2], f64);
    const exact = [-0.00404969409489031, -0.15865525393145702, 0.34573123063700656, 1.9544997361036416];
    const approx = [-0.0036373920817729943, -0.15880800939172324, 0.34571400982514394, 1.954597694087775];
    new GELU().forward(x).data.forEach((v, i) => {
      expect(Math.abs(v - exact[i]!)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(exact[i]!)));
    });
    new GELU({ approximate: 'tanh' }).forward(x).data.forEach((v, i) => {
      expect(Math.abs(v - approx[i]!)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(approx[i]!)));
    });
    expect(() => new GELU({ approximate: 'erf' } as never)).toThrow(DomainError);
  });

  it('LeakyReLU has slope gradient at 0 like PyTorch and validates its slope', () => {
    const x = tensor([0, -1, 1], { ...f64, requiresGrad: true });
    new LeakyReLU(0.1).forward(x).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0.1, 0.1, 1]);
    expect(() => new LeakyReLU(Number.NaN)).toThrow(DomainError);
  });
});

describe('Dropout', () => {
  it('drops about p of the elements, scales the rest by 1/(1-p), and is seeded', () => {
    const x = tensor(new Array(10000).fill(1), f64);
    const d = new Dropout(0.3, { generator: new Generator(5) });
    const y = d.forward(x);
    const zeros = y.data.filter((v) => v === 0).length;
    expect(zeros / 10000).toBeGreaterThan(0.28);
    expect(zeros / 10000).toBeLessThan(0.32);
    expect(new Set(y.data.filter((v) => v !== 0))).toEqual(new Set([1 / 0.7]));
    const again = new Dropout(0.3, { generator: new Generator(5) }).forward(x);
    expect(Array.from(again.data)).toEqual(Array.from(y.data));
  });

  it('is the identity in eval mode and with p = 0; p = 1 zeroes everything; p outside [0, 1] is refused', () => {
    const x = tensor([1, 2, 3]);
    const d = new Dropout(0.5);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(Array.from(new Dropout(1).forward(x).data)).toEqual([0, 0, 0]);
    expect(() => new Dropout(1.5)).toThrow(DomainError);
    expect(() => new Dropout(Number.NaN)).toThrow(DomainError);
  });

  it('passes gradients through the kept elements only', () => {
    const x = tensor(new Array(100).fill(1), { ...f64, requiresGrad: true });
    const y = new Dropout(0.5, { generator: new Generator(1) }).forward(x);
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(y.data));
  });
});

describe('Flatten, LayerNorm, Embedding', () => {
  it('Flatten keeps the batch dimension by default', () => {
    const x = tensor([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(new Flatten().forward(x).shape).toEqual([2, 4]);
    expect(new Flatten(0).forward(x).shape).toEqual([8]);
  });

  it('LayerNorm normalises the trailing dims (biased variance) and has exact float64 gradients', () => {
    const ln = new LayerNorm(3, f64);
    const x = tensor(
      [
        [1, 2, 4],
        [-1, 0, 10],
      ],
      { ...f64, requiresGrad: true },
    );
    const y = ln.forward(x);
    for (let r = 0; r < 2; r++) {
      const row = Array.from(x.data.slice(r * 3, r * 3 + 3));
      const m = row.reduce((a, b) => a + b) / 3;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 3;
      row.forEach((val, c) => {
        expect(y.data[r * 3 + c]).toBeCloseTo((val - m) / Math.sqrt(v + 1e-5), 12);
      });
    }
    ln.weight!.data.set([0.5, 2, -1]);
    ln.bias!.data.set([0.1, 0.2, 0.3]);
    const fn = (xx: Tensor, w: Tensor, b: Tensor) => {
      ln.weight = w;
      ln.bias = b;
      return ln.forward(xx);
    };
    expectOk(gradcheckTensor(fn, [x, ln.weight!, ln.bias!]));
    expect(() => ln.forward(tensor([[1, 2]], f64))).toThrow(ShapeError);
    expect(new LayerNorm([2, 3], { elementwiseAffine: false }).parameters()).toHaveLength(0);
    expect(() => new LayerNorm(3, { eps: -1 })).toThrow(DomainError);
  });

  it('Embedding looks rows up, scatter-adds gradients, and keeps the padding row out of training', () => {
    const e = new Embedding(5, 3, { ...f64, paddingIdx: 0, generator: new Generator(2) });
    expect(Array.from(e.weight.data.slice(0, 3))).toEqual([0, 0, 0]);
    const y = e.forward(
      [
        [1, 0],
        [1, 4],
      ].flat(),
    );
    expect(y.shape).toEqual([4, 3]);
    expect(Array.from(y.data.slice(0, 3))).toEqual(Array.from(e.weight.data.slice(3, 6)));
    y.sum().backward();
    const g = Array.from(e.weight.grad!.data);
    expect(g.slice(0, 3)).toEqual([0, 0, 0]); // padding row
    expect(g.slice(3, 6)).toEqual([2, 2, 2]); // row 1 used twice
    expect(g.slice(12, 15)).toEqual([1, 1, 1]);
    expect(e.forward(tensor([[1, 2]])).shape).toEqual([1, 2, 3]);
    expect(() => e.forward([5])).toThrow(ShapeError);
    expect(() => e.forward([1.5])).toThrow(ShapeError);
    expect(() => new Embedding(5, 3, { paddingIdx: 5 })).toThrow(ArgumentError);
  });
});
