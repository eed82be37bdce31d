/**
 * Fuzzing the webgpu run path: random sizes, random numbers of calls in flight at once and every argument kind
 * (each typed array type, plain and nested arrays, input(), NaN and ±inf, sometimes invalid) — every call gives
 * the right result or a typed GradkitError, never zeros, another call's output or a crash. The adapter is a
 * CPU, so the number of runs is kept small.
 */
import { type GPU, GradkitError, input, mul, variable } from '@gradkit/kernels';
import { propertyConfig } from '@gradkit/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWebGpu } from './gpu-harness.js';

const { gpu } = await setupWebGpu('fuzz-webgpu.test.ts');
afterAll(() => gpu?.destroy());

const TYPED = [
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
] as const;

/** A float that may be NaN, ±inf, ±0 or any finite float32. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.float({ noDefaultInfinity: true, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0) },
);

type Call =
  | { readonly kind: 'typed'; readonly type: number; readonly values: number[] }
  | { readonly kind: 'array'; readonly values: number[] }
  | { readonly kind: 'input'; readonly values: number[] }
  | { readonly kind: 'nested'; readonly values: number[] }
  | { readonly kind: 'ragged'; readonly values: number[] }
  | { readonly kind: 'string'; readonly values: number[] };

const call = (n: number): fc.Arbitrary<Call> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('typed' as const),
      type: fc.integer({ min: 0, max: TYPED.length - 1 }),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
    fc.record({
      kind: fc.constant('array' as const),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
    fc.record({
      kind: fc.constant('input' as const),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
    fc.record({
      kind: fc.constant('nested' as const),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
    fc.record({
      kind: fc.constant('ragged' as const),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
    fc.record({
      kind: fc.constant('string' as const),
      values: fc.array(value, { minLength: n, maxLength: n }),
    }),
  );

/** The argument a call passes, and the flat float32 values the kernel sees (null when the call is invalid). */
function argument(c: Call): { arg: unknown; seen: Float32Array | null } {
  const n = c.values.length;
  switch (c.kind) {
    case 'typed': {
      const arr = new TYPED[c.type]!(n);
      for (let i = 0; i < n; i++) arr[i] = c.values[i]!;
      return { arg: arr, seen: Float32Array.from(arr) };
    }
    case 'array':
      return { arg: [...c.values], seen: Float32Array.from(c.values) };
    case 'input':
      return { arg: input(Float64Array.from(c.values), [n]), seen: Float32Array.from(c.values) };
    case 'nested':
      // One row: a[0][x].
      return { arg: [Float64Array.from(c.values)], seen: Float32Array.from(c.values) };
    case 'ragged':
      return { arg: [[...c.values], [...c.values, 1]], seen: null };
    case 'string':
      return { arg: [...c.values.slice(0, -1), 'x'], seen: null };
  }
}

const sameFloats = (got: ArrayLike<number>, want: ArrayLike<number>): boolean => {
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i]) && !(got[i] === want[i])) return false;
  return true;
};

describe.skipIf(gpu === null)('fuzz: the webgpu run path', () => {
  it('concurrent kernel calls of every argument kind: each its own correct result or a GradkitError', async () => {
    const flat = gpu!.createKernel('function (a) { return a[this.thread.x] * 2; }', { output: [1] });
    const rows = gpu!.createKernel('function (a) { return a[0][this.thread.x] * 2; }', { output: [1] });
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(call(n), { minLength: 1, maxLength: 8 }))),
        async ([n, calls]) => {
          flat.setOutput([n]);
          rows.setOutput([n]);
          const made = calls.map((c) => ({ c, ...argument(c) }));
          const settled = await Promise.allSettled(
            made.map(({ c, arg }) => {
              const k = c.kind === 'nested' || c.kind === 'ragged' ? rows : flat;
              return k.run(arg as number[]);
            }),
          );
          settled.forEach((s, i) => {
            const { c, seen } = made[i]!;
            if (seen === null) {
              expect(s.status, `${c.kind} must be refused`).toBe('rejected');
              expect((s as PromiseRejectedResult).reason).toBeInstanceOf(GradkitError);
              return;
            }
            expect(s.status, `${c.kind}: ${(s as PromiseRejectedResult).reason}`).toBe('fulfilled');
            const got = (s as PromiseFulfilledResult<unknown>).value as Float32Array;
            const want = seen.map((v) => v * 2);
            expect(sameFloats(got, want), `${c.kind} call ${i} of ${calls.length}`).toBe(true);
          });
        },
      ),
      propertyConfig({ numRuns: 20 }),
    );
    flat.destroy();
    rows.destroy();
  });

  it('concurrent createElementwise runs with random sizes: each its own outputs', async () => {
    const x = variable('x');
    const s = variable('s');
    const run = gpu!.createElementwise([mul(x, s)], ['x', 's'], ['array', 'scalar']);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            values: fc.array(value, { minLength: 0, maxLength: 200 }),
            scale: fc.constantFrom(1, 2, -0.5, 4),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (runs) => {
          const outs = await Promise.all(
            runs.map((r) => run.run([Float32Array.from(r.values), r.scale], r.values.length)),
          );
          runs.forEach((r, i) => {
            const want = Float32Array.from(r.values).map((v) => v * r.scale);
            expect(sameFloats(outs[i]![0]!, want), `run ${i}`).toBe(true);
          });
        },
      ),
      propertyConfig({ numRuns: 15 }),
    );
  });

  it('sizes around the workgroup boundaries in 1-3 dimensions, pipeline and plain, give thread ids', async () => {
    const g = gpu as GPU<'webgpu'>;
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(
          fc.integer({ min: 1, max: 130 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 3 }),
          fc.boolean(),
        ),
        async ([X, Y, Z, pipeline]) => {
          const src = 'function () { return this.thread.x + 1000 * this.thread.y + 100000 * this.thread.z; }';
          const k = g.createKernel(src, { output: [X, Y, Z], pipeline });
          const out = pipeline
            ? await (k() as unknown as { readFlat(): Promise<Float32Array> }).readFlat()
            : await k.run();
          const flatOut =
            out instanceof Float32Array
              ? out
              : Float32Array.from((out as Float32Array[][]).flat(2).flatMap((r) => [...r]));
          let i = 0;
          for (let z = 0; z < Z; z++)
            for (let y = 0; y < Y; y++)
              for (let x0 = 0; x0 < X; x0++) expect(flatOut[i++]).toBe(x0 + 1000 * y + 100000 * z);
          k.destroy();
        },
      ),
      propertyConfig({ numRuns: 10 }),
    );
  });
});
