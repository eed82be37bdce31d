/**
 * The tiled matrix product on WebGPU: C[b] = Σ_r op(A)[b, r] · op(B)[b, r] (+ bias), float32 with float32
 * accumulation. Each workgroup of 16×16 threads computes a 64×64 tile of C, each thread a 4×4 block held in
 * registers; 64×16 slices of op(A) and 16×64 slices of op(B) are staged in workgroup memory. Operands are
 * read through element strides (row, column), so a transposed operand is read in place; a table of
 * per-product offsets expresses batches, broadcast batch dimensions (repeated offsets) and sums over
 * batches (the gradient of a broadcast operand) in the same kernel.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { DeviceArray, WebGpuArrays } from './device-arrays.js';
import { uniformU32, uploadU32 } from './wgsl-common.js';

/** Rows and columns of C per workgroup. */
const TILE = 64;
/** Depth of the staged slices of op(A) and op(B). */
const DEPTH = 16;
/** Rows (and columns) of C per thread. */
const PER_THREAD = 4;

function matmulWgsl(): string {
  const acc: string[] = [];
  for (let i = 0; i < PER_THREAD; i++) {
    for (let j = 0; j < PER_THREAD; j++) acc.push(`acc[${i * PER_THREAD + j}] += a${i} * b${j};`);
  }
  const loadA = [0, 1, 2, 3].map((i) => `let a${i} = ta[kk * ${TILE}u + ty + ${i}u];`).join('\n        ');
  const loadB = [0, 1, 2, 3].map((j) => `let b${j} = tb[kk * ${TILE}u + tx + ${j}u];`).join('\n        ');
  return `
struct P {
  m: u32, n: u32, k: u32, nred: u32,
  sai: u32, sak: u32, sbk: u32, sbj: u32,
  rowbase: u32, colbase: u32, batchbase: u32, hasbias: u32,
  biasstride: u32, p0: u32, p1: u32, p2: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> offs: array<u32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;
var<workgroup> ta: array<f32, ${TILE * DEPTH}>;
var<workgroup> tb: array<f32, ${TILE * DEPTH}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = p.batchbase + wg.z;
  let row0 = (p.rowbase + wg.y) * ${TILE}u;
  let col0 = (p.colbase + wg.x) * ${TILE}u;
  let tid = lid.y * 16u + lid.x;
  let ty = lid.y * ${PER_THREAD}u;
  let tx = lid.x * ${PER_THREAD}u;
  var acc: array<f32, ${PER_THREAD * PER_THREAD}>;
  for (var r = 0u; r < p.nred; r++) {
    let oa = offs[(batch * p.nred + r) * 2u];
    let ob = offs[(batch * p.nred + r) * 2u + 1u];
    for (var k0 = 0u; k0 < p.k; k0 += ${DEPTH}u) {
      for (var l = 0u; l < ${(TILE * DEPTH) / 256}u; l++) {
        let e = tid + l * 256u;
        let ai = e / ${DEPTH}u;
        let ak = e % ${DEPTH}u;
        var va = 0.0;
        if (row0 + ai < p.m && k0 + ak < p.k) { va = a[oa + (row0 + ai) * p.sai + (k0 + ak) * p.sak]; }
        ta[ak * ${TILE}u + ai] = va;
        let bk = e / ${TILE}u;
        let bj = e % ${TILE}u;
        var vb = 0.0;
        if (k0 + bk < p.k && col0 + bj < p.n) { vb = b[ob + (k0 + bk) * p.sbk + (col0 + bj) * p.sbj]; }
        tb[bk * ${TILE}u + bj] = vb;
      }
      workgroupBarrier();
      for (var kk = 0u; kk < ${DEPTH}u; kk++) {
        ${loadA}
        ${loadB}
        ${acc.join('\n        ')}
      }
      workgroupBarrier();
    }
  }
  let cbase = batch * p.m * p.n;
  for (var i = 0u; i < ${PER_THREAD}u; i++) {
    for (var j = 0u; j < ${PER_THREAD}u; j++) {
      let row = row0 + ty + i;
      let col = col0 + tx + j;
      if (row < p.m && col < p.n) {
        var v = acc[i * ${PER_THREAD}u + j];
        if (p.hasbias != 0u) { v += bias[col * p.biasstride]; }
        c[cbase + row * p.n + col] = v;
      }
    }
  }
}`;
}

const MATMUL_WGSL = matmulWgsl();

/** What {@link deviceMatmul} computes. */
export interface DeviceMatmulSpec {
  /** Rows of op(A) and of C. */
  readonly m: number;
  /** Columns of op(B) and of C. */
  readonly n: number;
  /** Columns of op(A), rows of op(B). */
  readonly k: number;
  /** Matrices in C (stacked row-major, each m×n). */
  readonly batches: number;
  /** Products summed into each matrix of C (1 for a plain batched product). */
  readonly reduce: number;
  /**
   * Element offsets of the A and B matrices of each product: `[a, b]` pairs for product `r` of batch `i` at
   * `2 * (i * reduce + r)`; `2 * batches * reduce` entries.
   */
  readonly offsets: Uint32Array;
  /** Element strides of op(A): between rows, between columns (`[k, 1]` for a row-major A, `[1, m]` for Aᵀ). */
  readonly aStrides: readonly [number, number];
  /** Element strides of op(B): between rows, between columns. */
  readonly bStrides: readonly [number, number];
  /** Added to every row of C (see {@link DeviceMatmulBias}). */
  readonly bias?: DeviceMatmulBias;
}

/** A bias {@link deviceMatmul} adds to every row of C: element `j * stride` of `array` for column `j`. */
export interface DeviceMatmulBias {
  /** The bias values. */
  readonly array: DeviceArray;
  /** The element stride between columns (0 broadcasts one value to every column). */
  readonly stride: number;
}

function checkReads(op: string, what: string, arr: DeviceArray, offsets: number[], last: number): void {
  for (const o of offsets) {
    if (o + last >= arr.length) {
      throw new ShapeError(
        op,
        `${what} reads element ${o + last} but the array has ${arr.length} elements (check the offsets and strides)`,
      );
    }
  }
}

/**
 * Runs the tiled matrix product (see the module's description) and returns C, `batches * m * n` values.
 * Grids wider than the adapter's maxComputeWorkgroupsPerDimension are split into several dispatches.
 *
 * @throws ArgumentError for sizes that are not non-negative integers or an offset table of the wrong length
 * @throws ShapeError when an offset or stride reads past an operand, or C exceeds the buffer limits
 */
export function deviceMatmul(
  rt: WebGpuArrays,
  op: string,
  a: DeviceArray,
  b: DeviceArray,
  spec: DeviceMatmulSpec,
): DeviceArray {
  const { m, n, k, batches, reduce, offsets, aStrides, bStrides, bias } = spec;
  const sizes = [m, n, k, batches, reduce, ...aStrides, ...bStrides, bias?.stride ?? 0];
  if (!sizes.every((v) => Number.isSafeInteger(v) && v >= 0 && v < 2 ** 32)) {
    throw new ArgumentError(
      op,
      `matmul sizes and strides must be integers in 0…2^32-1, got ${sizes.join(', ')}`,
    );
  }
  if (!(offsets instanceof Uint32Array) || offsets.length !== 2 * batches * reduce) {
    throw new ArgumentError(op, `the offset table must be a Uint32Array of ${2 * batches * reduce} entries`);
  }
  const total = batches * m * n;
  if (m > 0 && k > 0) {
    const aOffs: number[] = [];
    const bOffs: number[] = [];
    for (let i = 0; i < offsets.length; i += 2) {
      aOffs.push(offsets[i]!);
      bOffs.push(offsets[i + 1]!);
    }
    checkReads(op, 'op(A)', a, aOffs, (m - 1) * aStrides[0] + (k - 1) * aStrides[1]);
    if (n > 0) checkReads(op, 'op(B)', b, bOffs, (k - 1) * bStrides[0] + (n - 1) * bStrides[1]);
  }
  if (bias !== undefined && n > 0) checkReads(op, 'the bias', bias.array, [0], (n - 1) * bias.stride);
  const limit = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.ceil(n / TILE);
  const gy = Math.ceil(m / TILE);
  const table = uploadU32(rt, op, offsets);
  try {
    let out: DeviceArray | null = null;
    const empty = total === 0 || reduce === 0;
    for (let z = 0; z < (empty ? 1 : batches); z += limit) {
      for (let y = 0; y < (empty ? 1 : gy); y += limit) {
        for (let x = 0; x < (empty ? 1 : gx); x += limit) {
          const params = uniformU32([
            m,
            n,
            k,
            reduce,
            aStrides[0],
            aStrides[1],
            bStrides[0],
            bStrides[1],
            y,
            x,
            z,
            bias === undefined ? 0 : 1,
            bias?.stride ?? 0,
            0,
            0,
            0,
          ]);
          const workgroups: [number, number, number] = empty
            ? [0, 1, 1]
            : [Math.min(limit, gx - x), Math.min(limit, gy - y), Math.min(limit, batches - z)];
          const inputs = [a, b, table, bias?.array ?? table];
          if (out === null) {
            out = rt.compute(op, { code: MATMUL_WGSL, inputs, outputs: [total], params, workgroups })[0]!;
          } else {
            rt.compute(op, { code: MATMUL_WGSL, inputs, inOut: [out], outputs: [], params, workgroups });
          }
        }
      }
    }
    return out!;
  } finally {
    table.dispose();
  }
}
