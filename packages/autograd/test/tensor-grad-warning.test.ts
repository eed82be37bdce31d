/**
 * Reading `.grad` of a non-leaf that does not retain its gradient warns once per process (PyTorch's
 * UserWarning); leaves and retained non-leaves never warn. (Own file: the once-per-process flag is module
 * state.)
 */
import { tensor } from '@gradkit/autograd';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('.grad of a non-leaf', () => {
  it('leaves and retainGrad() non-leaves never warn; the first plain non-leaf read warns once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const x = tensor([1, 2], { requiresGrad: true });
    const kept = x.mul(2).retainGrad();
    const y = x.mul(3);
    kept.sum().backward();
    expect(x.grad!.tolist()).toEqual([2, 2]);
    expect(kept.grad!.tolist()).toEqual([1, 1]);
    expect(warn).not.toHaveBeenCalled();
    expect(y.grad).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('not a leaf');
    expect(String(warn.mock.calls[0]![0])).toContain('retainGrad()');
    expect(y.grad).toBeNull();
    expect(x.mul(4).grad).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
