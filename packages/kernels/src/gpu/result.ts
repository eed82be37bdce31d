import type { NumericArray } from '../codegen/js.js';
import { StateError } from '../errors.js';
import { readBuffers, type WebGpuBufferLike, type WebGpuDeviceLike } from './webgpu.js';

/** How a {@link GPU} picks its backend: `auto` takes webgpu when an adapter exists, else cpu. */
export type GPUMode = 'cpu' | 'webgpu' | 'auto';

/** The backend a kernel runs on. */
export type Backend = 'cpu' | 'webgpu';

/** A value that is returned directly in `cpu` mode and as a Promise in `webgpu` and `auto` modes. */
export type ModeResult<M extends GPUMode, T> = M extends 'cpu' ? T : Promise<T>;

/**
 * A kernel's result as arrays, shaped like GPU.js's: a 1-D output is one typed array, a 2-D output an array
 * of rows (`result[y][x]`), a 3-D output an array of 2-D slices (`result[z][y][x]`). Rows are views into one
 * contiguous buffer. Float32Array, except Float64Array for `precision: 'double'` on cpu.
 */
export type KernelOutput = NumericArray | NumericArray[] | NumericArray[][];

/** @internal What a result needs from the GPU that made it. */
export interface ResultOwner {
  readonly device: WebGpuDeviceLike | null;
  readonly destroyed: boolean;
  forget(r: KernelResult<GPUMode>): void;
}

/** @internal Where a result's numbers live. */
export type ResultStore =
  | { readonly kind: 'cpu'; readonly data: NumericArray }
  | { readonly kind: 'webgpu'; readonly buffer: WebGpuBufferLike; readonly ready: Promise<void> };

/**
 * Shapes flat row-major data (x fastest) into GPU.js's nested output. With `width` 2-4 (a kernel returning
 * vectors) each element is a typed array of `width` numbers (a view), and the innermost level is an Array.
 */
export function shapeOutput(flat: NumericArray, output: readonly number[], width = 1): KernelOutput {
  if (width > 1) return shapeVectors(flat, output, width);
  const [X, Y = 1, Z = 1] = output;
  if (output.length === 1) return flat;
  const rows = (z: number): NumericArray[] => {
    const r: NumericArray[] = new Array(Y);
    for (let y = 0; y < Y; y++) r[y] = flat.subarray((z * Y + y) * X!, (z * Y + y + 1) * X!);
    return r;
  };
  if (output.length === 2) return rows(0);
  const slices: NumericArray[][] = new Array(Z);
  for (let z = 0; z < Z; z++) slices[z] = rows(z);
  return slices;
}

function shapeVectors(flat: NumericArray, output: readonly number[], width: number): KernelOutput {
  const [X, Y = 1, Z = 1] = output;
  const row = (z: number, y: number): NumericArray[] => {
    const r: NumericArray[] = new Array(X!);
    const base = (z * Y + y) * X!;
    for (let x = 0; x < X!; x++) r[x] = flat.subarray((base + x) * width, (base + x + 1) * width);
    return r;
  };
  if (output.length === 1) return row(0, 0);
  const rows = (z: number): NumericArray[][] => Array.from({ length: Y }, (_, y) => row(z, y));
  if (output.length === 2) return rows(0) as unknown as NumericArray[][];
  return Array.from({ length: Z }, (_, z) => rows(z)) as unknown as NumericArray[][];
}

/**
 * A kernel result kept where it was computed (GPU.js's pipeline mode): on webgpu a device buffer, on cpu a
 * typed array. Pass it straight to another kernel of the same {@link GPU}, read it with `toArray()` (returns
 * the arrays directly in `cpu` mode and a Promise in the other modes) or `read()` (always a Promise), and
 * free it with `delete()`. Each call of a pipeline kernel makes a new result.
 */
export class KernelResult<M extends GPUMode = GPUMode> {
  /** The output size `[x]`, `[x, y]` or `[x, y, z]`. */
  readonly output: readonly number[];
  /** Numbers per element: 1, or 2-4 when the kernel returns vectors. */
  readonly width: number;
  /** @internal */
  readonly owner: ResultOwner;
  /** @internal */
  store: ResultStore | null;
  private readonly syncRead: boolean;

  /** @internal Made by kernels; users receive results, they do not construct them. */
  constructor(
    owner: ResultOwner,
    output: readonly number[],
    store: ResultStore,
    syncRead: boolean,
    width = 1,
  ) {
    this.owner = owner;
    this.output = output;
    this.width = width;
    this.store = store;
    this.syncRead = syncRead;
  }

  /** Where the numbers live. */
  get backend(): Backend {
    return this.live('backend').kind;
  }

  /** True once `delete()` (or the GPU's `destroy()`) has released the result. */
  get deleted(): boolean {
    return this.store === null;
  }

  /** The number of numbers (elements times {@link width}). */
  get length(): number {
    return this.output.reduce((a, b) => a * b, this.width);
  }

  /** @internal */
  live(op: string): ResultStore {
    if (this.store === null) {
      throw new StateError(
        `KernelResult.${op}`,
        'the result was deleted (by delete() or gpu.destroy()); it cannot be used',
      );
    }
    return this.store;
  }

  /** The values, shaped like GPU.js's output: synchronous in `cpu` mode, a Promise otherwise. */
  toArray(): ModeResult<M, KernelOutput> {
    if (this.syncRead)
      return shapeOutput(this.flatSync('toArray'), this.output, this.width) as ModeResult<M, KernelOutput>;
    return this.read() as ModeResult<M, KernelOutput>;
  }

  /** The values as one flat row-major typed array (x fastest): synchronous in `cpu` mode, else a Promise. */
  toFlatArray(): ModeResult<M, NumericArray> {
    if (this.syncRead) return this.flatSync('toFlatArray').slice() as ModeResult<M, NumericArray>;
    return this.readFlat() as ModeResult<M, NumericArray>;
  }

  /** The values, shaped like GPU.js's output; always a Promise, in every mode. */
  async read(): Promise<KernelOutput> {
    return shapeOutput(await this.readFlat(), this.output, this.width);
  }

  /** The values as one flat row-major typed array (a copy); always a Promise. */
  async readFlat(): Promise<NumericArray> {
    const store = this.live('read');
    if (store.kind === 'cpu') return store.data.slice();
    await store.ready;
    const device = this.owner.device;
    if (device === null || this.owner.destroyed) {
      throw new StateError('KernelResult.read', 'the GPU that made this result was destroyed');
    }
    const [out] = await readBuffers(
      device,
      [store.buffer],
      [this.length * 4],
      undefined,
      'KernelResult.read',
    );
    return out!;
  }

  private flatSync(op: string): NumericArray {
    const store = this.live(op);
    if (store.kind !== 'cpu') {
      throw new StateError(
        `KernelResult.${op}`,
        'a webgpu result can only be read asynchronously; use await result.read()',
      );
    }
    return store.data;
  }

  /** Frees the result (its device buffer on webgpu). Idempotent. */
  delete(): void {
    const store = this.store;
    if (store === null) return;
    this.store = null;
    if (store.kind === 'webgpu') store.buffer.destroy();
    this.owner.forget(this as KernelResult<GPUMode>);
  }
}
