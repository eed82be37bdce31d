import { keep, Tensor } from '@gradkit/autograd';
import {
  DeviceArray,
  DeviceError,
  deviceFusedMap,
  type Expr,
  type NumericArray,
  variable,
} from '@gradkit/kernels';

/** Where a tensor's elements live, as an optimizer update reads and writes them. */
export type UpdateArray = NumericArray | DeviceArray;

/** The storage of `t` for a fused update: its host array, or its device array on webgpu. */
export function storageOf(t: Tensor): UpdateArray {
  return t.deviceArray ?? t.data;
}

/**
 * Checks that an optimizer's parameter and its gradient are on one device.
 *
 * @throws DeviceError naming both devices otherwise
 */
export function checkSameDevice(op: string, p: Tensor, g: Tensor): void {
  if (p.device !== g.device) {
    throw new DeviceError(
      op,
      `expected the parameter and its gradient on the same device, but the parameter is on ${p.device} and its gradient is on ${g.device}`,
    );
  }
}

/**
 * Runs an optimizer's update expressions on webgpu as ONE in-place WGSL kernel: every array is a device array
 * of `n` elements, the arrays named in `writes` are written in place, and every hyperparameter is an f32
 * uniform (one pipeline serves every learning rate, beta, step count).
 *
 * @throws DeviceError when an array is not on the device
 */
export function runUpdateOnDevice(
  op: string,
  outputs: readonly Expr[],
  arrayNames: readonly string[],
  scalarNames: readonly string[],
  writes: readonly string[],
  arrays: Readonly<Record<string, UpdateArray>>,
  scalars: Readonly<Record<string, number>>,
  n: number,
): void {
  const device: DeviceArray[] = arrayNames.map((name) => {
    const a = arrays[name]!;
    if (!(a instanceof DeviceArray)) {
      throw new DeviceError(op, `optimizer state '${name}' is on the cpu while the parameter is on webgpu`);
    }
    return a;
  });
  const rt = device[0]!.runtime;
  deviceFusedMap(rt, op, {
    outputs,
    variables: [...arrayNames, ...scalarNames],
    operands: [...device.map((array) => ({ array, shape: [n] })), ...scalarNames.map((s) => scalars[s]!)],
    shape: [n],
    targets: writes.map((w) => arrayNames.indexOf(w)),
  });
}

/** A zero tensor shaped like `p`, on `p`'s device (a fresh optimizer state buffer). */
export function zerosOnDevice(p: Tensor): Tensor {
  // Optimizer state lives across steps: it must survive the `tidy` of the step that created it.
  return keep(new Tensor(p.deviceArray!.runtime.upload(new Float32Array(p.size)), [...p.shape]));
}

const COPY = variable('a');

/** A copy of a webgpu tensor, made on the device (nothing is read back). */
export function cloneOnDevice(t: Tensor): Tensor {
  const d = t.deviceArray!;
  const [copy] = deviceFusedMap(d.runtime, 'clone', {
    outputs: [COPY],
    variables: ['a'],
    operands: [{ array: d, shape: [d.length] }],
    shape: [d.length],
  });
  return keep(new Tensor(copy!, [...t.shape]));
}
