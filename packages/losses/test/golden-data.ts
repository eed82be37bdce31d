import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DType, fromArray, type Tensor } from '@gradkit/autograd';
import { BCEWithLogitsLoss, bce, bceWithLogits, FocalLoss, qfocal, sigmoidFocal } from '@gradkit/losses';

/** A tensor as stored in losses.json (non-finite numbers as strings). */
export interface JsonTensor {
  shape: number[];
  data: Array<number | string>;
}

/** Expected values of a case. */
export interface Expected {
  loss: JsonTensor;
  grad_input: JsonTensor;
  grad_target: JsonTensor;
  grad_weight?: JsonTensor;
  grad_pos_weight?: JsonTensor;
  double_backward?: { v: JsonTensor; hvp_input: JsonTensor };
}

/** One golden case. */
export interface GoldenCase {
  id: string;
  loss: 'bce' | 'bce_with_logits' | 'focal' | 'qfocal' | 'sigmoid_focal_torchvision';
  dtype: DType;
  tags: string[];
  input: JsonTensor;
  target: JsonTensor;
  weight?: JsonTensor;
  pos_weight?: JsonTensor;
  params: { reduction: 'none' | 'mean' | 'sum'; gamma?: number; alpha?: number };
  grad_output?: JsonTensor;
  expected?: Expected;
  expected_f64?: Expected;
  error?: 'shape_mismatch' | 'input_out_of_range';
}

/** Reads the copy of the golden vectors next to this file (never the shared folder). */
export function loadGolden(): GoldenCase[] {
  const path = fileURLToPath(new URL('./golden/losses.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: GoldenCase[] }).cases;
}

/** Decodes the JSON number encoding ("NaN", "Infinity", "-Infinity"). */
export function numbers(t: JsonTensor): Float64Array {
  return Float64Array.from(t.data, (v) =>
    typeof v === 'number' ? v : v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : -Infinity,
  );
}

/** A tensor of `dtype` from a JSON tensor. */
export function toTensor(t: JsonTensor, dtype: DType, requiresGrad = false): Tensor {
  return fromArray(numbers(t), t.shape, { dtype, requiresGrad });
}

/** Tolerances of one comparison. */
export interface Tolerance {
  atol: number;
  rtol: number;
  /** Where the expected value is NaN, accept any value. */
  nanIsWildcard: boolean;
  /** Alternative accepted values (float32 cases whose non-finite pattern differs between dtypes). */
  alternative?: Float64Array;
}

/**
 * Compares `actual` with `expected` elementwise with the README's rule
 * |a − e| ≤ atol·max(1, max|e| over the finite elements) + rtol·|e|; ±inf must match exactly; NaN expected
 * matches NaN (or anything when `nanIsWildcard`). Returns a description of the first failure, or null.
 */
export function compare(
  what: string,
  actual: ArrayLike<number>,
  expected: Float64Array,
  tol: Tolerance,
): string | null {
  if (actual.length !== expected.length)
    return `${what}: ${actual.length} elements, expected ${expected.length}`;
  let scale = 1;
  for (const e of expected) if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
  const ok = (a: number, e: number): boolean => {
    if (Number.isNaN(e)) return tol.nanIsWildcard || Number.isNaN(a);
    if (!Number.isFinite(e)) return a === e;
    if (!Number.isFinite(a)) return false;
    return Math.abs(a - e) <= tol.atol * scale + tol.rtol * Math.abs(e);
  };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (ok(a, e)) continue;
    const alt = tol.alternative?.[i];
    if (alt !== undefined && (Object.is(a, alt) || ok(a, alt))) continue;
    return `${what}[${i}]: got ${a}, expected ${e}${alt === undefined ? '' : ` (or ${alt})`} (scale ${scale}, atol ${tol.atol}, rtol ${tol.rtol})`;
  }
  return null;
}

/** A case's tensors, on whatever device and dtype the test made them. */
export interface Inputs {
  input: Tensor;
  target: Tensor;
  weight?: Tensor;
  posWeight?: Tensor;
}

/** Runs the case's loss with the gradkit function (or class) that mirrors the PyTorch code. */
export function run(c: GoldenCase, t: Inputs): Tensor {
  const { reduction, gamma, alpha } = c.params;
  switch (c.loss) {
    case 'bce':
      return bce(t.input, t.target, { weight: t.weight, reduction });
    case 'bce_with_logits':
      return bceWithLogits(t.input, t.target, { weight: t.weight, posWeight: t.posWeight, reduction });
    case 'focal':
      // The YOLOv5 pattern: FocalLoss wrapping a BCEWithLogitsLoss that carries posWeight and the reduction.
      return new FocalLoss(
        new BCEWithLogitsLoss({ posWeight: t.posWeight, reduction }),
        gamma,
        alpha,
      ).forward(t.input, t.target);
    case 'qfocal':
      return qfocal(t.input, t.target, { gamma, alpha, posWeight: t.posWeight, reduction });
    case 'sigmoid_focal_torchvision':
      return sigmoidFocal(t.input, t.target, { gamma, alpha, reduction });
  }
}
