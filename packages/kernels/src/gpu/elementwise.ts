import { compileElementwise, type InputKind, type NumericArray } from '../codegen/js.js';
import { compileElementwiseWgsl, type WgslElementwise } from '../codegen/wgsl.js';
import { ArgumentError, ShapeError, StateError } from '../errors.js';
import type { Expr } from '../expr/node.js';
import type { KernelHost } from './kernel.js';
import type { GPUMode, ModeResult } from './result.js';
import {
  type BindEntries,
  BufferUsage,
  checkStorageSize,
  createPipelineAsync,
  encodeDispatch,
  readBuffers,
  type WebGpuBufferLike,
  type WebGpuPipelineLike,
  withErrorScopes,
  writableSource,
} from './webgpu.js';

/** The inputs of an elementwise runner: per variable, an array of `n` values or one number. */
export type ElementwiseInputs = ReadonlyArray<ArrayLike<number> | number>;

/**
 * A fused elementwise expression bound to a GPU's backend: call it with the inputs and the element count to
 * get one Float32Array per output (directly in `cpu` mode, else a Promise).
 */
export interface ElementwiseRunner<M extends GPUMode = GPUMode> {
  (inputs: ElementwiseInputs, n: number): ModeResult<M, Float32Array[]>;
  /** The same, always returning a Promise. */
  run(inputs: ElementwiseInputs, n: number): Promise<Float32Array[]>;
  /** The WGSL compute shader of the expression. */
  readonly wgsl: string;
}

function check(
  inputs: ElementwiseInputs,
  n: number,
  kinds: readonly InputKind[],
  variables: readonly string[],
): void {
  const op = 'elementwise';
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError(op, `'n' must be a non-negative integer, got ${n}`);
  if (inputs.length !== kinds.length) {
    throw new ArgumentError(
      op,
      `expected ${kinds.length} input(s) (${variables.join(', ')}), got ${inputs.length}`,
    );
  }
  inputs.forEach((v, i) => {
    if (kinds[i] === 'scalar') {
      if (typeof v !== 'number') throw new ArgumentError(op, `input '${variables[i]}' must be a number`);
    } else if (typeof v === 'number' || v.length !== n) {
      throw new ShapeError(
        op,
        `input '${variables[i]}' must have ${n} values, got ${typeof v === 'number' ? 'a number' : v.length}`,
      );
    }
  });
}

/** @internal Builds the runner (see GPU.createElementwise). */
export function elementwiseRunner<M extends GPUMode>(
  host: KernelHost,
  outputs: readonly Expr[],
  variables: readonly string[],
  kinds: readonly InputKind[],
): ElementwiseRunner<M> {
  const js = compileElementwise(outputs, variables, kinds);
  let shader: WgslElementwise | null = null;
  const wgsl = (): WgslElementwise => {
    shader ??= compileElementwiseWgsl(outputs, variables, kinds);
    return shader;
  };
  let pipeline: Promise<WebGpuPipelineLike> | null = null;

  const cpu = (inputs: ElementwiseInputs, n: number): Float32Array[] => {
    const ins = inputs.map((v) =>
      typeof v === 'number' || v instanceof Float32Array || v instanceof Float64Array
        ? v
        : Float64Array.from(v),
    ) as Array<NumericArray | number>;
    const outs = outputs.map(() => new Float32Array(n));
    js(ins, outs, n);
    return outs;
  };

  const gpu = async (inputs: ElementwiseInputs, n: number): Promise<Float32Array[]> => {
    const op = 'elementwise';
    const first = host.device;
    if (first === null) throw new StateError(op, 'no WebGPU device (the GPU was destroyed)');
    inputs.forEach((v, i) => {
      if (typeof v !== 'number') checkStorageSize(first, op, `input '${variables[i]}'`, v.length * 4);
    });
    outputs.forEach((_, k) => {
      checkStorageSize(first, op, `output ${k} (${n} values)`, n * 4);
    });
    const s = wgsl();
    pipeline ??= createPipelineAsync(first, s.code, 'createElementwise');
    const pipe = await pipeline;
    host.assertUsable(op);
    const device = host.device;
    if (device === null) throw new StateError(op, 'no WebGPU device (the GPU was destroyed)');
    if (n === 0) return outputs.map(() => new Float32Array(0));
    const params = new ArrayBuffer(s.paramVec4s * 16);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    u32[0] = n;
    const temp: WebGpuBufferLike[] = [];
    // Every buffer is this call's own, made and filled with no await before the submission.
    const { value: read, verdict } = withErrorScopes(device, op, () => {
      try {
        const entries: BindEntries = [];
        const paramBuf = device.createBuffer({
          size: params.byteLength,
          usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
        });
        temp.push(paramBuf);
        entries.push({ binding: 0, resource: { buffer: paramBuf } });
        let binding = 1;
        let scalar = 0;
        inputs.forEach((v) => {
          if (typeof v === 'number') {
            f32[4 + scalar++] = v;
            return;
          }
          const data = v instanceof Float32Array ? v : Float32Array.from(v);
          const b = device.createBuffer({
            size: Math.max(4, data.byteLength),
            usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
          });
          temp.push(b);
          device.queue.writeBuffer(b, 0, writableSource(data));
          entries.push({ binding: binding++, resource: { buffer: b } });
        });
        device.queue.writeBuffer(paramBuf, 0, u32);
        const outs = outputs.map(() => {
          const b = device.createBuffer({
            size: n * 4,
            usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC,
          });
          temp.push(b);
          entries.push({ binding: binding++, resource: { buffer: b } });
          return b;
        });
        const encoder = device.createCommandEncoder();
        encodeDispatch(device, encoder, pipe, entries, n, op);
        const reading = readBuffers(
          device,
          outs,
          outs.map(() => n * 4),
          encoder,
          op,
        );
        reading.catch(() => undefined);
        return reading;
      } finally {
        // Submitted (or failed): destroying now is safe, the queue keeps them alive until the work is done.
        for (const b of temp) b.destroy();
      }
    });
    const [, outs] = await Promise.all([verdict, read]);
    return outs;
  };

  /** A copy of the inputs, taken at call time (the call reads them after an await). */
  const snapshot = (inputs: ElementwiseInputs): ElementwiseInputs =>
    inputs.map((v) =>
      typeof v === 'number' ? v : v instanceof Float32Array ? v.slice() : Float64Array.from(v),
    );

  const runAsync = async (inputs: ElementwiseInputs, n: number): Promise<Float32Array[]> => {
    host.assertUsable('elementwise');
    check(inputs, n, kinds, variables);
    const values = snapshot(inputs);
    const backend = await host.ready();
    host.assertUsable('elementwise');
    return backend === 'cpu' ? cpu(values, n) : gpu(values, n);
  };

  const runner = (inputs: ElementwiseInputs, n: number): unknown => {
    if (host.mode === 'cpu') {
      host.assertUsable('elementwise');
      check(inputs, n, kinds, variables);
      return cpu(inputs, n);
    }
    return runAsync(inputs, n);
  };
  Object.defineProperty(runner, 'run', { value: runAsync });
  Object.defineProperty(runner, 'wgsl', { get: () => wgsl().code });
  return runner as ElementwiseRunner<M>;
}
