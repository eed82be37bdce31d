import {
  compileElementwise,
  DeviceArray,
  DeviceError,
  type Expr,
  expressionBackend,
  type InputKind,
  type NumericArray,
  variable,
} from '@gradkit/kernels';

import { runUpdateOnDevice, type UpdateArray } from './device-update.js';

/** The expressions of an update: one per state array it writes, over the arrays and scalars it reads. */
export type UpdateBuilder = (v: Readonly<Record<string, Expr>>) => Readonly<Record<string, Expr>>;

/**
 * An in-place elementwise update compiled once into ONE fused loop: it reads per-element arrays (the
 * parameter, its gradient, optimizer state) and scalars (learning rate, betas, bias corrections), and writes
 * some of the arrays back in place. Scalars are kernel arguments, so a changing learning rate never compiles a
 * new kernel. Each iteration loads every input element before it stores, so writing an array that is also
 * read is safe.
 */
export class FusedUpdate {
  /** Names of the per-element arrays, in kernel order. */
  readonly arrays: readonly string[];
  /** Names of the scalar arguments, in kernel order. */
  readonly scalars: readonly string[];
  /** Names of the arrays written, in kernel output order. */
  readonly writes: readonly string[];
  readonly #outputs: readonly Expr[];
  readonly #variables: readonly string[];
  readonly #kinds: readonly InputKind[];

  /**
   * @param arrays - per-element inputs (each a variable of the same name)
   * @param scalars - scalar inputs (each a variable of the same name)
   * @param build - returns the new value of each written array, keyed by array name
   */
  constructor(arrays: readonly string[], scalars: readonly string[], build: UpdateBuilder) {
    const vars: Record<string, Expr> = Object.create(null);
    for (const name of [...arrays, ...scalars]) vars[name] = variable(name);
    const out = build(vars);
    this.arrays = arrays;
    this.scalars = scalars;
    this.writes = Object.keys(out);
    const kinds: InputKind[] = [
      ...arrays.map(() => 'array' as const),
      ...scalars.map(() => 'scalar' as const),
    ];
    this.#outputs = this.writes.map((k) => out[k]!);
    this.#variables = [...arrays, ...scalars];
    this.#kinds = kinds;
    // Compiled (and validated) now on the JavaScript generator; runs on the backend in use at each call.
    compileElementwise(this.#outputs, this.#variables, kinds);
  }

  /**
   * Runs the loop over `n` elements: `arrays` and `scalars` by name; written arrays are updated in place. When
   * the arrays are device arrays (a parameter on webgpu), the same expressions run as ONE in-place WGSL kernel
   * with the scalars as uniforms.
   *
   * @throws DeviceError when some arrays are on the device and others on the cpu
   */
  run(
    arrays: Readonly<Record<string, UpdateArray>>,
    scalars: Readonly<Record<string, number>>,
    n: number,
    op = 'optimizer step',
  ): void {
    if (arrays[this.arrays[0]!] instanceof DeviceArray) {
      runUpdateOnDevice(op, this.#outputs, this.arrays, this.scalars, this.writes, arrays, scalars, n);
      return;
    }
    const ins: Array<NumericArray | number> = [];
    for (const a of this.arrays) {
      const v = arrays[a]!;
      if (v instanceof DeviceArray) {
        throw new DeviceError(op, `optimizer state '${a}' is on webgpu while the parameter is on the cpu`);
      }
      ins.push(v);
    }
    for (const s of this.scalars) ins.push(scalars[s]!);
    expressionBackend().elementwise(this.#outputs, this.#variables, this.#kinds)(
      ins,
      this.writes.map((w) => arrays[w] as NumericArray),
      n,
    );
  }
}
