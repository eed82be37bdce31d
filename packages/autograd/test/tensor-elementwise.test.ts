/**
 * Every elementwise tensor op, driven by one table: each primitive of the kernels table must appear as a tensor
 * op and method; values equal the primitive's own definition element by element under broadcasting (float64,
 * bit for bit); gradients and second derivatives agree with finite differences over random broadcast shapes
 * (size-1 and size-0 dimensions included); float32 results are the float64 results rounded once; fused chains
 * equal the unfused ones.
 */

import * as gk from '@gradkit/autograd';
import {
  clamp,
  fuse,
  grad,
  noGrad,
  reciprocal,
  ShapeError,
  square,
  type Tensor,
  toDtype,
  type Value,
  where,
} from '@gradkit/autograd';
import { PRIMITIVE_NAMES, PRIMITIVES, type PrimitiveName } from '@gradkit/kernels';
import {
  broadcastShapes,
  describeWorst,
  gradcheckTensor,
  gradgradcheckTensor,
  shape,
  type TensorOptions,
  tensorOf,
  tensorsOf,
} from '@gradkit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SEED = 0x7e_05_01;

/** Small broadcast shapes: gradient checks cost ~ (input size) × (output size) evaluations. */
const SHAPES = { maxRank: 3, maxDim: 3, allowZero: true, maxSize: 18 } as const;

/**
 * Values on two interleaved grids: a and b never tie, not even after rounding to float32 (so comparisons,
 * min/max and clamp are differentiable at every drawn point, with the same branch taken in both dtypes).
 */
const gridA = fc.integer({ min: -30, max: 30 }).map((k) => k / 10 + 0.013);
const gridB = fc.integer({ min: -30, max: 30 }).map((k) => k / 10 + 0.051);
const wide: TensorOptions = { min: -3, max: 3 };
const awayFromZero: TensorOptions = { min: -3, max: 3, minAbs: 0.05 };
const positive: TensorOptions = { min: 0.2, max: 5 };
const condition: TensorOptions = { values: fc.constantFrom(0, 1, -0, 2, -1, Number.NaN) };
const logical: TensorOptions = { values: fc.oneof(fc.constant(0), gridA) };

/** One elementwise op: how to call it, as a function and as a method, and where it is smooth. */
interface OpCase {
  /** The export (and method) name. */
  readonly name: string;
  /** The primitive it exposes, when it is one. */
  readonly primitive?: PrimitiveName;
  /** The function form. */
  readonly fn: (...xs: Tensor[]) => Tensor;
  /** The method form (absent for ops that have none, like `where`). */
  readonly method?: (...xs: Tensor[]) => Tensor;
  /** Per argument: the smooth domain, and whether the argument gets a gradient (default true). */
  readonly args: ReadonlyArray<TensorOptions & { noGrad?: boolean }>;
}

const unary = (name: string, primitive: PrimitiveName | undefined, domain: TensorOptions): OpCase => ({
  name,
  primitive,
  fn: (x) => (gk as unknown as Record<string, (x: Tensor) => Tensor>)[name]!(x),
  method: (x) => (x as unknown as Record<string, () => Tensor>)[name]!(),
  args: [domain],
});

const binary = (
  name: string,
  primitive: PrimitiveName | undefined,
  a: TensorOptions,
  b: TensorOptions,
): OpCase => ({
  name,
  primitive,
  fn: (x, y) => (gk as unknown as Record<string, (x: Tensor, y: Tensor) => Tensor>)[name]!(x, y),
  method: (x, y) => (x as unknown as Record<string, (y: Tensor) => Tensor>)[name]!(y),
  args: [a, b],
});

const CASES: readonly OpCase[] = [
  binary('add', 'add', wide, wide),
  binary('sub', 'sub', wide, wide),
  binary('mul', 'mul', wide, wide),
  binary('div', 'div', wide, awayFromZero),
  binary('pow', 'pow', { min: 0.3, max: 3 }, { min: -2, max: 2 }),
  binary('minimum', 'min', { values: gridA }, { values: gridB }),
  binary('maximum', 'max', { values: gridA }, { values: gridB }),
  unary('neg', 'neg', wide),
  unary('exp', 'exp', wide),
  unary('log', 'log', positive),
  unary('log1p', 'log1p', { min: -0.8, max: 5 }),
  unary('expm1', 'expm1', wide),
  unary('sqrt', 'sqrt', positive),
  unary('abs', 'abs', awayFromZero),
  unary('sign', 'sign', awayFromZero),
  unary('sigmoid', 'sigmoid', { min: -6, max: 6 }),
  unary('softplus', 'softplus', { min: -6, max: 6 }),
  unary('logSigmoid', 'logSigmoid', { min: -6, max: 6 }),
  unary('tanh', 'tanh', wide),
  unary('erf', 'erf', wide),
  unary('relu', 'relu', awayFromZero),
  binary('lt', 'lt', { values: gridA }, { values: gridB }),
  binary('le', 'le', { values: gridA }, { values: gridB }),
  binary('gt', 'gt', { values: gridA }, { values: gridB }),
  binary('ge', 'ge', { values: gridA }, { values: gridB }),
  binary('eq', 'eq', { values: gridA }, { values: gridB }),
  binary('ne', 'ne', { values: gridA }, { values: gridB }),
  binary('logicalAnd', 'and', logical, logical),
  binary('logicalOr', 'or', logical, logical),
  unary('logicalNot', 'not', logical),
  {
    name: 'where',
    primitive: 'where',
    fn: (c, a, b) => where(c!, a!, b!),
    method: (c, a, b) => a!.where(c!, b!),
    args: [{ ...condition, noGrad: true }, wide, wide],
  },
  unary('square', undefined, wide),
  unary('reciprocal', undefined, awayFromZero),
  {
    name: 'clamp',
    fn: (x, lo, hi) => clamp(x!, lo, hi),
    method: (x, lo, hi) => x!.clamp(lo, hi),
    args: [
      { values: gridA },
      { values: gridB.map((v) => -Math.abs(v) - 0.5) },
      { values: gridB.map((v) => Math.abs(v) + 0.5) },
    ],
  },
  {
    name: 'clamp(min)',
    fn: (x, lo) => clamp(x!, lo),
    method: (x, lo) => x!.clamp(lo),
    args: [{ values: gridA }, { values: gridB }],
  },
  {
    name: 'clamp(max)',
    fn: (x, hi) => clamp(x!, undefined, hi),
    method: (x, hi) => x!.clamp(undefined, hi),
    args: [{ values: gridA }, { values: gridB }],
  },
  { name: 'clamp(-1, 1)', fn: (x) => clamp(x!, -1, 1), method: (x) => x!.clamp(-1, 1), args: [wide] },
  { name: 'pow(x, 3)', fn: (x) => gk.pow(x!, 3), method: (x) => x!.pow(3), args: [wide] },
  { name: 'pow(x, 0.5)', fn: (x) => gk.pow(x!, 0.5), method: (x) => x!.pow(0.5), args: [positive] },
  { name: 'pow(2, x)', fn: (x) => gk.pow(2, x!), args: [wide] },
  { name: 'sub(1.5, x)', fn: (x) => gk.sub(1.5, x!), args: [wide] },
  { name: 'div(x, -2)', fn: (x) => gk.div(x!, -2), method: (x) => x!.div(-2), args: [wide] },
];

/** Primitives that are not a stand-alone op of the table above, and where they are covered instead. */
const ELSEWHERE: Partial<Record<PrimitiveName, string>> = {
  detach: 'Tensor.detach() (tested below: same values, no gradient)',
};

const props = (numRuns: number) => ({ seed: SEED, numRuns });

function inputs(c: OpCase, extra: TensorOptions = {}): fc.Arbitrary<Tensor[]> {
  return tensorsOf(
    broadcastShapes(c.args.length, SHAPES),
    // tensorsOf refuses unknown option keys: noGrad is this file's own flag.
    c.args.map(({ noGrad: off, ...a }) => ({
      ...a,
      ...extra,
      requiresGrad: !off && (extra.requiresGrad ?? true),
    })),
  );
}

/** Same value bit for bit (NaN equals NaN, -0 differs from 0). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The element of `t` that output index `flat` of the broadcast shape `shape` reads. */
function broadcastRead(t: Tensor, shape: readonly number[], flat: number): number {
  let off = 0;
  let rest = flat;
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const i = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
    const k = d - (shape.length - t.ndim);
    if (k >= 0) {
      if (t.shape[k] !== 1) off += i * stride;
      stride *= t.shape[k]!;
    }
  }
  return t.data[off]!;
}

describe('the op table', () => {
  it('covers every primitive of the kernels table with a tensor op and a method', () => {
    const missing = PRIMITIVE_NAMES.filter((p) => !CASES.some((c) => c.primitive === p) && !(p in ELSEWHERE));
    expect(missing, `primitives without a tensor op case: ${missing.join(', ')}`).toEqual([]);
    for (const c of CASES) {
      if (c.primitive === undefined) continue;
      expect(typeof (gk as Record<string, unknown>)[c.name], `export ${c.name}`).toBe('function');
      if (c.name !== 'where') {
        expect(
          typeof (gk.Tensor.prototype as unknown as Record<string, unknown>)[c.name],
          `method ${c.name}`,
        ).toBe('function');
      }
    }
    expect(typeof gk.Tensor.prototype.detach).toBe('function');
  });
});

/** Ops whose derivative is zero everywhere it exists: their results do not join the graph. */
const NON_DIFFERENTIABLE = new Set([
  'sign',
  'lt',
  'le',
  'gt',
  'ge',
  'eq',
  'ne',
  'logicalAnd',
  'logicalOr',
  'logicalNot',
]);

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
  if (c.primitive !== undefined) {
    const prim = PRIMITIVES[c.primitive];
    it('equals the primitive element by element under broadcasting, bit for bit (edge values, ±inf, NaN)', () => {
      const anyDouble = c.args.map(({ noGrad: _, ...a }) => ({ ...a, values: fc.double() }));
      const both = fc.oneof(
        inputs(c, { edges: true, requiresGrad: false }),
        tensorsOf(broadcastShapes(c.args.length, SHAPES), anyDouble),
      );
      fc.assert(
        fc.property(both, (xs) => {
          const out = c.fn(...xs);
          expect(out.dtype).toBe('float64');
          expect(out.shape).toEqual(gk.broadcastShapes('test', ...xs.map((x) => x.shape)));
          const expected = Float64Array.from({ length: out.size }, (_, i) =>
            prim.evaluate(...xs.map((x) => broadcastRead(x, out.shape, i))),
          );
          expect(sameBits(out.data, expected)).toBe(true);
        }),
        props(60),
      );
    });
  }

  if (c.method !== undefined) {
    it('method form equals function form', () => {
      fc.assert(
        fc.property(inputs(c, { requiresGrad: false }), (xs) => {
          expect(sameBits(c.method!(...xs).data, c.fn(...xs).data)).toBe(true);
        }),
        props(20),
      );
    });
  }

  if (NON_DIFFERENTIABLE.has(c.name)) {
    it('has no derivative: the result does not require grad, as in PyTorch', () => {
      fc.assert(
        fc.property(inputs(c), (xs) => {
          expect(xs.some((x) => x.requiresGrad)).toBe(true);
          const out = c.fn(...xs);
          expect(out.requiresGrad).toBe(false);
          expect(out.gradFn).toBeNull();
        }),
        props(20),
      );
    });
  }

  if (!NON_DIFFERENTIABLE.has(c.name))
    it('gradcheck and gradgradcheck (float64) over random broadcast shapes', () => {
      fc.assert(
        fc.property(inputs(c), (xs) => {
          const r1 = gradcheckTensor(c.fn, xs);
          expect(r1.ok, describeWorst(r1)).toBe(true);
          const r2 = gradgradcheckTensor(c.fn, xs, { seed: 7 });
          expect(r2.ok, describeWorst(r2)).toBe(true);
        }),
        props(50),
      );
    });

  if (!NON_DIFFERENTIABLE.has(c.name))
    it('gradients have the input shapes (size-0 and broadcast dims reduced)', () => {
      fc.assert(
        fc.property(inputs(c), (xs) => {
          const out = c.fn(...xs);
          const u = gk.onesLike(out);
          const active = xs.filter((x) => x.requiresGrad);
          const gs = grad(out, active, { gradOutputs: [u], allowUnused: true });
          gs.forEach((g, k) => {
            if (g !== null) {
              expect(g.shape).toEqual(active[k]!.shape);
              expect(g.dtype).toBe('float64');
            }
          });
        }),
        props(50),
      );
    });

  it('float32 results are the float64 results rounded once, and within float32 tolerance of float64 truth', () => {
    fc.assert(
      fc.property(inputs(c), (xs) => {
        const truth = noGrad(() => c.fn(...xs));
        const xs32 = xs.map((x) =>
          gk.fromArray(x.data, x.shape, { dtype: 'float32', requiresGrad: x.requiresGrad }),
        );
        const out32 = c.fn(...xs32);
        expect(out32.dtype).toBe('float32');
        // The loop computes in float64 from the float32 inputs and rounds once.
        const onRounded = noGrad(() => c.fn(...xs32.map((x) => toDtype(x, 'float64'))));
        expect(sameBits(out32.data, Float32Array.from(onRounded.data))).toBe(true);
        for (let i = 0; i < truth.size; i++) {
          const t = truth.data[i]!;
          const r = out32.data[i]!;
          if (!Number.isFinite(t))
            expect(Object.is(r, Math.fround(t)) || (Number.isNaN(r) && Number.isNaN(t))).toBe(true);
          else
            expect(Math.abs(r - t), `element ${i}: float32 ${r} vs float64 ${t}`).toBeLessThanOrEqual(
              2e-6 * (1 + Math.abs(t)),
            );
        }
        // Gradients in float32 agree with float64 ones, and are float32.
        const active = xs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
        if (active.length === 0 || NON_DIFFERENTIABLE.has(c.name)) return;
        const g64 = grad(
          c.fn(...xs),
          active.map((i) => xs[i]!),
          { gradOutputs: [gk.onesLike(truth)], allowUnused: true },
        );
        const g32 = grad(
          out32,
          active.map((i) => xs32[i]!),
          { gradOutputs: [gk.onesLike(out32)], allowUnused: true },
        );
        g64.forEach((g, k) => {
          const h = g32[k];
          if (g === null || h === null || h === undefined) {
            expect(h ?? null).toBe(g);
            return;
          }
          expect(h.dtype).toBe('float32');
          const scale = 1 + Math.max(0, ...Array.from(g.data, Math.abs));
          for (let i = 0; i < g.size; i++) {
            expect(Math.abs(h.data[i]! - g.data[i]!), `grad ${k} element ${i}`).toBeLessThanOrEqual(
              2e-5 * scale,
            );
          }
        });
      }),
      props(50),
    );
  });
});

describe('detach (the detach primitive)', () => {
  const mulDetached = fuse((v: Value) => v.mul(v.detach()), 'mulDetached');
  it('keeps the values and stops the gradient', () => {
    fc.assert(
      fc.property(
        tensorOf(shape({ maxRank: 3, allowZero: true }), { requiresGrad: true, min: -3, max: 3 }),
        (x) => {
          const d = x.detach();
          expect(d.requiresGrad).toBe(false);
          expect(d.isLeaf).toBe(true);
          expect(sameBits(d.data, x.data)).toBe(true);
          // x * detach(x): the gradient is detach(x) only (the detached factor is a constant).
          const [g] = grad(x.mul(d).sum(), [x]);
          expect(sameBits(g!.data, x.data)).toBe(true);
          // Inside a fused function the primitive itself does the same.
          const y = mulDetached(x);
          expect(sameBits(y.data, x.mul(x).data)).toBe(true);
          const [gf] = grad(y.sum(), [x]);
          expect(sameBits(gf!.data, x.data)).toBe(true);
        },
      ),
      props(20),
    );
  });
});

describe('broadcasting is checked as in PyTorch', () => {
  const incompatible = fc
    .tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }))
    .filter(([a, b]) => a !== b && b !== 1);
  it('refuses shapes that do not broadcast, naming the op and both shapes (ShapeError)', () => {
    fc.assert(
      fc.property(incompatible, ([a, b, lead]) => {
        const x = gk.zeros([...Array(lead).fill(2), a]);
        const y = gk.zeros([b]);
        for (const [name, f] of [
          ['add', () => x.add(y)],
          ['mul', () => gk.mul(y, x)],
          ['minimum', () => x.minimum(y)],
          ['where', () => where(gk.zeros([1]), x, y)],
          ['clamp', () => clamp(x, y)],
        ] as const) {
          let err: unknown;
          try {
            f();
          } catch (e) {
            err = e;
          }
          expect(err, name).toBeInstanceOf(ShapeError);
          const msg = (err as Error).message;
          expect(msg).toContain(name);
          expect(msg).toContain(gk.formatShape(x.shape));
          expect(msg).toContain(gk.formatShape(y.shape));
        }
      }),
      props(40),
    );
  });

  it('a size-0 dimension broadcasts only against 0 or 1', () => {
    expect(gk.zeros([2, 0]).add(gk.zeros([1])).shape).toEqual([2, 0]);
    expect(gk.zeros([2, 0]).add(gk.zeros([2, 1])).shape).toEqual([2, 0]);
    expect(gk.zeros([0]).add(gk.zeros([])).shape).toEqual([0]);
    expect(() => gk.zeros([2, 0]).add(gk.zeros([2]))).toThrow(ShapeError);
    expect(() => gk.zeros([0]).add(gk.zeros([3]))).toThrow(/\[0\] and \[3\]/);
  });

  it('broadcastTo refuses to shrink, to drop dimensions and negative sizes', () => {
    expect(() => gk.broadcastTo(gk.zeros([3]), [1])).toThrow(ShapeError);
    expect(() => gk.broadcastTo(gk.zeros([2, 3]), [3])).toThrow(ShapeError);
    expect(() => gk.broadcastTo(gk.zeros([0]), [1])).toThrow(ShapeError);
    expect(() => gk.broadcastTo(gk.zeros([1]), [-2])).toThrow(ShapeError);
    expect(gk.broadcastTo(gk.zeros([1]), [0]).shape).toEqual([0]);
  });
});

describe('clamp', () => {
  it('follows torch.clamp: min(max(x, lo), hi), so lo > hi gives hi everywhere', () => {
    const x = gk.tensor([-5, 0, 1.5, 5], { dtype: 'float64' });
    expect(clamp(x, 2, 1).tolist()).toEqual([1, 1, 1, 1]);
    expect(clamp(x, -1, 1).tolist()).toEqual([-1, 0, 1, 1]);
    expect(clamp(x, 0).tolist()).toEqual([0, 0, 1.5, 5]);
    expect(clamp(x, undefined, 0).tolist()).toEqual([-5, 0, 0, 0]);
    expect(clamp(gk.tensor([Number.NaN]), -1, 1).item()).toBeNaN();
    expect(() => clamp(x)).toThrow(gk.ArgumentError);
  });

  it('passes the gradient to x at the bounds (inclusive), to an active tensor bound elsewhere', () => {
    const x = gk.tensor([-2, -1, 0, 1, 2], { dtype: 'float64', requiresGrad: true });
    const lo = gk.tensor([-1], { dtype: 'float64', requiresGrad: true });
    const hi = gk.tensor([1], { dtype: 'float64', requiresGrad: true });
    const [gx, glo, ghi] = grad(clamp(x, lo, hi).sum(), [x, lo, hi]);
    expect(gx!.tolist()).toEqual([0, 1, 1, 1, 0]);
    expect(glo!.tolist()).toEqual([1]);
    expect(ghi!.tolist()).toEqual([1]);
  });
});

describe('square and reciprocal', () => {
  it('square is x·x and reciprocal is 1/x, bit for bit', () => {
    fc.assert(
      fc.property(tensorOf(shape({ maxRank: 3 }), { edges: true, min: -1e6, max: 1e6 }), (x) => {
        expect(sameBits(square(x).data, x.mul(x).data)).toBe(true);
        expect(
          sameBits(
            reciprocal(x).data,
            Float64Array.from(x.data, (v) => 1 / v),
          ),
        ).toBe(true);
      }),
      props(50),
    );
  });
});

/** The elementwise methods both `Value` (symbolic, for fuse) and `Tensor` have. */
interface Chainable<T> {
  add(o: T | number): T;
  sub(o: T | number): T;
  mul(o: T | number): T;
  div(o: T | number): T;
  pow(o: T | number): T;
  neg(): T;
  exp(): T;
  log(): T;
  log1p(): T;
  expm1(): T;
  sqrt(): T;
  abs(): T;
  sigmoid(): T;
  softplus(): T;
  logSigmoid(): T;
  tanh(): T;
  relu(): T;
}

interface Chain {
  readonly name: string;
  readonly args: readonly TensorOptions[];
  readonly f: <T extends Chainable<T>>(...xs: T[]) => T;
}

const CHAINS: readonly Chain[] = [
  {
    name: 'issue example: |sigmoid(x) - y|²',
    args: [wide, { min: -2, max: -0.1 }],
    f: (x, y) => x!.sigmoid().sub(y!).abs().pow(2),
  },
  {
    name: '10-op chain',
    args: [wide, awayFromZero],
    f: (x, y) =>
      x!.mul(y!).add(1).tanh().mul(x!).exp().log1p().div(y!.abs().add(1)).sqrt().add(x!.softplus()).neg(),
  },
  {
    name: 'three inputs with shared subexpressions',
    args: [wide, { min: -1, max: 1 }, wide],
    f: (x, y, z) =>
      x!.logSigmoid().mul(z!).add(y!.expm1().pow(3)).div(z!.mul(z!).add(1)).sub(x!.logSigmoid().mul(0.5)),
  },
  {
    name: 'unary with a kink kept away',
    args: [awayFromZero],
    f: (x) => x!.mul(x!).add(0.5).log().mul(x!.relu()).add(x!.neg().exp().sigmoid()),
  },
];

describe.each(CHAINS.map((c) => [c.name, c] as const))('fuse: %s', (_, c) => {
  // fuse traces fn with fn.length symbolic inputs: declare the parameters.
  const arity = c.args.length;
  const fusedN =
    arity === 1
      ? fuse((a: Value) => c.f(a), c.name)
      : arity === 2
        ? fuse((a: Value, b: Value) => c.f(a, b), c.name)
        : fuse((a: Value, b: Value, d: Value) => c.f(a, b, d), c.name);
  const unfused = (...xs: Tensor[]) => c.f(...xs);
  const args = () =>
    tensorsOf(
      broadcastShapes(arity, SHAPES),
      c.args.map((a) => ({ ...a, requiresGrad: true })),
    );

  it('refuses a function whose parameters it cannot count, and a wrong number of inputs', () => {
    expect(() => fuse((...vs: Value[]) => c.f(...vs))).toThrow(gk.ArgumentError);
    expect(() => fusedN(...Array.from({ length: arity + 1 }, () => gk.zeros([1])))).toThrow(/expects/);
  });

  it('float64: fused equals unfused bit for bit; gradients agree to rounding', () => {
    fc.assert(
      fc.property(args(), (xs) => {
        const a = fusedN(...xs);
        const b = unfused(...xs);
        expect(a.shape).toEqual(b.shape);
        // The fused loop evaluates the same expression DAG in float64 as the op-by-op chain, which stores
        // every intermediate in float64 too: the same operations in the same order give the same bits.
        expect(sameBits(a.data, b.data)).toBe(true);
        const u = gk.fromArray(
          Float64Array.from({ length: a.size }, (_, i) => Math.cos(i + 1)),
          a.shape,
          {
            dtype: 'float64',
          },
        );
        const ga = grad(a, xs, { gradOutputs: [u] });
        const gb = grad(b, xs, { gradOutputs: [u] });
        // Gradients: the same local derivatives multiplied in the same order, so without broadcasting they
        // are equal bit for bit. With broadcasting, the fused backward reduces the broadcast dimensions once
        // at the end while the unfused one reduces after each op: the sums associate differently (measured:
        // at most ~1 ulp apart), so they are compared with a tolerance of a few ulps per summed element.
        const noBroadcast = xs.every((x) => gk.sameShape(x.shape, a.shape));
        ga.forEach((g, k) => {
          const h = gb[k]!;
          expect(g!.shape).toEqual(h.shape);
          if (noBroadcast) {
            expect(sameBits(g!.data, h.data), `input ${k}`).toBe(true);
            return;
          }
          for (let i = 0; i < g!.size; i++) {
            const x = g!.data[i]!;
            const y = h.data[i]!;
            expect(Math.abs(x - y), `input ${k} element ${i}: ${x} vs ${y}`).toBeLessThanOrEqual(
              1e-13 * (1 + Math.abs(y)) * (1 + a.size),
            );
          }
        });
      }),
      props(40),
    );
  });

  it('is differentiable twice (gradcheck, gradgradcheck)', () => {
    fc.assert(
      fc.property(args(), (xs) => {
        const r1 = gradcheckTensor(fusedN, xs);
        expect(r1.ok, describeWorst(r1)).toBe(true);
        const r2 = gradgradcheckTensor(fusedN, xs, { seed: 3 });
        expect(r2.ok, describeWorst(r2)).toBe(true);
      }),
      props(15),
    );
  });

  it('float32: fused is the float64 result rounded once; unfused is within float32 tolerance', () => {
    fc.assert(
      fc.property(args(), (xs) => {
        const xs32 = xs.map((x) => toDtype(x, 'float32').detach());
        const truth = noGrad(() => fusedN(...xs32.map((x) => toDtype(x, 'float64'))));
        const f32 = fusedN(...xs32);
        const u32 = unfused(...xs32);
        expect(f32.dtype).toBe('float32');
        expect(u32.dtype).toBe('float32');
        expect(sameBits(f32.data, Float32Array.from(truth.data))).toBe(true);
        for (let i = 0; i < truth.size; i++) {
          const t = truth.data[i]!;
          expect(Math.abs(u32.data[i]! - t)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(t)));
        }
      }),
      props(50),
    );
  });
});
