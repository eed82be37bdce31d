/**
 * The default device before `initWebGPU()` (its own file, so that no other test has initialised WebGPU in
 * this module graph): `setDefaultDevice('webgpu')` and creating on webgpu are DeviceErrors that say to call
 * `await initWebGPU()` first, and the default stays 'cpu'.
 */
import { getDefaultDevice, setDefaultDevice, tensor, zeros } from '@gradkit/autograd';
import { DeviceError } from '@gradkit/kernels';
import { describe, expect, it } from 'vitest';

describe('the default device before initWebGPU', () => {
  it("'webgpu' as the default (or a creation on webgpu) before initWebGPU() is a DeviceError that says so", () => {
    expect(() => setDefaultDevice('webgpu')).toThrow(DeviceError);
    expect(() => setDefaultDevice('webgpu')).toThrow(/^setDefaultDevice: .*await initWebGPU\(\)/);
    expect(getDefaultDevice()).toBe('cpu');
    expect(tensor([1]).device).toBe('cpu');
    expect(() => zeros([2], { device: 'webgpu' })).toThrow(DeviceError);
    expect(() => zeros([2], { device: 'webgpu' })).toThrow(/^zeros: .*await initWebGPU\(\)/);
  });
});
