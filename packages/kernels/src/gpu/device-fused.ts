import { ArgumentError, ShapeError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import { DeviceArray, type WebGpuArrays } from './device-arrays.js';
import { dispatchSize } from './webgpu.js';
import {
  compileFusedWgsl,
  FUSED_MAP_WORKGROUP,
  FUSED_SUM_WORKGROUP,
  type FusedKernel,
  type FusedOperandKind,
  SUM_PARTIALS_WGSL,
} from './wgsl-fused.js';

/**
 * One operand of a fused device kernel: a number (an f32 uniform: a new value never compiles a new
 * pipeline), or a device array with its shape, broadcast (NumPy rules) to the kernel's shape.
 */
export type FusedOperand =
  | number
  | {
      /** The device array (contiguous, row-major). */
      readonly array: DeviceArray;
      /** Its shape; it must broadcast to the kernel's shape. */
      readonly shape: readonly number[];
    };

/** What {@link deviceFusedMap} and {@link deviceFusedSum} run. */
export interface DeviceFusedCall {
  /** The expressions over `variables`. */
  readonly outputs: readonly Expr[];
  /** Variable names, one per operand. */
  readonly variables: readonly string[];
  /** The operands, in variable order. */
  readonly operands: readonly FusedOperand[];
  /** The shape every array operand broadcasts to (the outputs' shape). */
  readonly shape: readonly number[];
  /**
   * Map only: per output, the operand index it is written into in place, `null` for a new array (default),
   * `'none'` for an output only a guard uses.
   */
  readonly targets?: ReadonlyArray<number | null | 'none'>;
  /** `[k, alt]`: where output `k` is NaN, output `alt` is taken instead (see `compileFusedWgsl`). */
  readonly guards?: ReadonlyArray<readonly [number, number]>;
}

/** Most partial sums the first pass of {@link deviceFusedSum} writes (more elements: a longer grid stride). */
const MAX_PARTIALS = 1024;

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Operand kinds and the broadcast strides, checked against the kernel's shape. */
function classify(
  op: string,
  rt: WebGpuArrays,
  operands: readonly FusedOperand[],
  shape: readonly number[],
): { kinds: FusedOperandKind[]; strides: number[][] } {
  const n = product(shape);
  const kinds: FusedOperandKind[] = [];
  const strides: number[][] = [];
  operands.forEach((o, i) => {
    if (typeof o === 'number') {
      kinds.push('scalar');
      return;
    }
    if (o === null || typeof o !== 'object' || !(o.array instanceof DeviceArray) || o.array.runtime !== rt) {
      throw new ArgumentError(op, `operand #${i} must be a number or a device array of this runtime`);
    }
    const size = product(o.shape);
    if (o.array.length !== size) {
      throw new ShapeError(op, `operand #${i} has ${o.array.length} elements but shape ${fmt(o.shape)}`);
    }
    const pad = shape.length - o.shape.length;
    const fits = pad >= 0 && o.shape.every((d, k) => d === 1 || d === shape[pad + k]);
    if (!fits) {
      throw new ShapeError(op, `operand #${i} of shape ${fmt(o.shape)} does not broadcast to ${fmt(shape)}`);
    }
    if (size === n) kinds.push('array');
    else if (size === 1) kinds.push('splat');
    else {
      kinds.push('broadcast');
      const s = shape.map(() => 0);
      let stride = 1;
      for (let k = o.shape.length - 1; k >= 0; k--) {
        if (o.shape[k] !== 1) s[pad + k] = stride;
        stride *= o.shape[k]!;
      }
      strides.push(s);
    }
  });
  return { kinds, strides };
}

/** The uniform buffer of a fused kernel: the count, the scalars (f32 bits), the shape and the strides. */
function uniforms(
  kernel: FusedKernel,
  n: number,
  operands: readonly FusedOperand[],
  shape: readonly number[],
  strides: readonly number[][],
): ArrayBuffer {
  const params = new ArrayBuffer(kernel.words * 4);
  const u32 = new Uint32Array(params);
  const f32 = new Float32Array(params);
  u32[0] = n;
  let scalar = 0;
  for (const o of operands) if (typeof o === 'number') f32[kernel.scalarWord(scalar++)] = o;
  if (strides.length > 0) {
    shape.forEach((d, k) => {
      u32[kernel.shapeWord(k)] = d;
    });
    strides.forEach((s, b) => {
      s.forEach((v, k) => {
        u32[kernel.strideWord(b, k)] = v;
      });
    });
  }
  return params;
}

function arrayOf(o: FusedOperand): DeviceArray {
  return (o as { array: DeviceArray }).array;
}

/** Workgroups (x, y) for one thread per element. */
function mapGroups(rt: WebGpuArrays, n: number, op: string): [number, number] {
  if (n === 0) return [0, 1];
  return dispatchSize(
    Math.ceil(n / FUSED_MAP_WORKGROUP),
    rt.device.limits.maxComputeWorkgroupsPerDimension,
    op,
  );
}

/**
 * Runs fused elementwise expressions over broadcast device operands as ONE WGSL kernel: outputs with a
 * `null` target come back as new device arrays (in output order); those with an operand index are written
 * into that operand's array in place (each thread loads all its operands before it stores, so an array may be
 * read and written). Nothing is read back.
 *
 * @throws ArgumentError / ShapeError when an operand is not a device array of `rt` or does not broadcast
 */
export function deviceFusedMap(rt: WebGpuArrays, op: string, call: DeviceFusedCall): DeviceArray[] {
  const { shape, operands } = call;
  if (operands.length !== call.variables.length) {
    throw new ArgumentError(op, `${call.variables.length} variables but ${operands.length} operands`);
  }
  const { kinds, strides } = classify(op, rt, operands, shape);
  const targets = call.targets ?? call.outputs.map(() => null);
  targets.forEach((t) => {
    if (typeof t === 'number' && kinds[t] !== 'array') {
      throw new ShapeError(op, `an in-place target must have the kernel's shape ${fmt(shape)}`);
    }
  });
  const kernel = compileFusedWgsl({
    outputs: call.outputs,
    variables: call.variables,
    kinds,
    targets,
    guards: call.guards,
    rank: strides.length > 0 ? shape.length : 0,
    mode: 'map',
  });
  const n = product(shape);
  return rt.compute(op, {
    code: kernel.code,
    inputs: kernel.inputs.map((i) => arrayOf(operands[i]!)),
    inOut: kernel.inOut.map((i) => arrayOf(operands[i]!)),
    outputs: kernel.fresh.map(() => n),
    params: uniforms(kernel, n, operands, shape, strides),
    workgroups: mapGroups(rt, n, op),
  });
}

/**
 * The sum of `call.outputs[0]` over every element, times `scale`, as a new one-element device array: the
 * fused expression and a workgroup tree reduction in ONE kernel (one partial sum per workgroup; a compensated
 * float32 sum per thread, pairwise across the workgroup), then one more pass over the partials. Further
 * outputs may serve as NaN-guard alternatives. Nothing is read back. An empty shape sums to `0 · scale`.
 *
 * @throws ArgumentError / ShapeError when an operand is not a device array of `rt` or does not broadcast
 */
export function deviceFusedSum(rt: WebGpuArrays, op: string, call: DeviceFusedCall, scale = 1): DeviceArray {
  const { shape, operands } = call;
  if (operands.length !== call.variables.length) {
    throw new ArgumentError(op, `${call.variables.length} variables but ${operands.length} operands`);
  }
  const { kinds, strides } = classify(op, rt, operands, shape);
  const n = product(shape);
  if (n === 0) return rt.upload([0 * scale], op);
  const kernel = compileFusedWgsl({
    outputs: call.outputs,
    variables: call.variables,
    kinds,
    targets: call.outputs.map(() => 'none' as const),
    guards: call.guards,
    rank: strides.length > 0 ? shape.length : 0,
    mode: 'sum',
  });
  const groups = Math.min(Math.ceil(n / FUSED_SUM_WORKGROUP), MAX_PARTIALS);
  const [partials] = rt.compute(op, {
    code: kernel.code,
    inputs: kernel.inputs.map((i) => arrayOf(operands[i]!)),
    outputs: [groups],
    params: uniforms(kernel, n, operands, shape, strides),
    workgroups: [groups],
  });
  try {
    return sumPartials(rt, op, partials!, scale);
  } finally {
    partials!.dispose();
  }
}

/** `scale · Σ array` as a new one-element device array (one workgroup; see {@link deviceFusedSum}). */
export function sumPartials(rt: WebGpuArrays, op: string, array: DeviceArray, scale = 1): DeviceArray {
  const params = new ArrayBuffer(16);
  new Uint32Array(params)[0] = array.length;
  new Float32Array(params)[1] = scale;
  const [out] = rt.compute(op, {
    code: SUM_PARTIALS_WGSL,
    inputs: [array],
    outputs: [1],
    params,
    workgroups: [1],
  });
  return out!;
}
