import { ArgumentError, DomainError, Generator, ShapeError, tensor, zeros } from '@gradkit/autograd';
import { describe, expect, it } from 'vitest';
import { init } from '../src/index.js';

const stats = (d: ArrayLike<number>) => {
  const a = Array.from(d);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...a), max: Math.max(...a) };
};

describe('nn.init', () => {
  it('calculateGain follows PyTorch', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBe(5 / 3);
    expect(init.calculateGain('relu')).toBe(Math.SQRT2);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain('selu')).toBe(0.75);
    expect(() => init.calculateGain('swish' as 'relu')).toThrow(ArgumentError);
  });

  it('fans are computed as PyTorch does (receptive field for >2-D)', () => {
    expect(init.fans(zeros([4, 3]))).toEqual({ fanIn: 3, fanOut: 4 });
    expect(init.fans(zeros([8, 2, 3, 3]))).toEqual({ fanIn: 18, fanOut: 72 });
    expect(() => init.fans(zeros([5]))).toThrow(ShapeError);
  });

  it('uniform / normal / constant fill in place with the requested distribution, seeded', () => {
    const u = init.uniform_(zeros([20000], { dtype: 'float64' }), -2, 3, { generator: new Generator(1) });
    const su = stats(u.data);
    expect(su.min).toBeGreaterThanOrEqual(-2);
    expect(su.max).toBeLessThan(3);
    expect(su.mean).toBeCloseTo(0.5, 1);
    const n = init.normal_(zeros([20000], { dtype: 'float64' }), 1, 2, { generator: new Generator(1) });
    const sn = stats(n.data);
    expect(sn.mean).toBeCloseTo(1, 1);
    expect(Math.abs(sn.std - 2)).toBeLessThan(0.05);
    const again = init.normal_(zeros([20000], { dtype: 'float64' }), 1, 2, { generator: new Generator(1) });
    expect(Array.from(again.data)).toEqual(Array.from(n.data));
    expect(Array.from(init.ones_(zeros([3])).data)).toEqual([1, 1, 1]);
    expect(Array.from(init.zeros_(tensor([1, 2])).data)).toEqual([0, 0]);
    expect(Array.from(init.constant_(zeros([2]), 0.5).data)).toEqual([0.5, 0.5]);
  });

  it('float32 uniform never reaches the upper bound', () => {
    const t = init.uniform_(zeros([50000]), 0, 1e-7, { generator: new Generator(3) });
    expect(stats(t.data).max).toBeLessThan(1e-7);
  });

  it('xavier and kaiming scale with the fans', () => {
    const g = { generator: new Generator(9) };
    const xu = init.xavierUniform_(zeros([200, 100], { dtype: 'float64' }), { gain: 2, ...g });
    const b = 2 * Math.sqrt(6 / 300);
    expect(stats(xu.data).max).toBeLessThanOrEqual(b);
    expect(Math.abs(stats(xu.data).std - b / Math.sqrt(3)) / (b / Math.sqrt(3))).toBeLessThan(0.03);
    const xn = init.xavierNormal_(zeros([200, 100], { dtype: 'float64' }), g);
    expect(Math.abs(stats(xn.data).std - Math.sqrt(2 / 300)) / Math.sqrt(2 / 300)).toBeLessThan(0.03);
    const ku = init.kaimingUniform_(zeros([200, 100], { dtype: 'float64' }), { nonlinearity: 'relu', ...g });
    const kb = Math.SQRT2 * Math.sqrt(3 / 100);
    expect(stats(ku.data).max).toBeLessThanOrEqual(kb);
    const kn = init.kaimingNormal_(zeros([200, 100], { dtype: 'float64' }), { mode: 'fanOut', ...g });
    expect(
      Math.abs(stats(kn.data).std - Math.SQRT2 / Math.sqrt(200)) / (Math.SQRT2 / Math.sqrt(200)),
    ).toBeLessThan(0.03);
  });

  it('refuses bad arguments with typed errors', () => {
    expect(() => init.uniform_(zeros([2]), 1, 0)).toThrow(DomainError);
    expect(() => init.uniform_(zeros([2]), 0, Number.POSITIVE_INFINITY)).toThrow(DomainError);
    expect(() => init.normal_(zeros([2]), 0, -1)).toThrow(DomainError);
    expect(() => init.kaimingUniform_(zeros([2, 2]), { mode: 'fan_in' } as never)).toThrow(ArgumentError);
    expect(() => init.kaimingUniform_(zeros([2, 2]), { gian: 1 } as never)).toThrow(/unknown key "gian"/);
    expect(() => init.xavierUniform_(zeros([3]))).toThrow(ShapeError);
    expect(() => init.uniform_(zeros([2]), 0, 1, { generator: Math.random } as never)).toThrow(ArgumentError);
    expect(() => init.kaimingNormal_(zeros([0, 3]), { mode: 'fanOut' })).toThrow(ShapeError);
  });
});
