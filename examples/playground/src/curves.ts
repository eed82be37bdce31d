import { fromArray } from '@gradkit/autograd';
import { derivatives, type NamedLoss } from './losses.js';

/** The quantities plotted against the logit. */
export const CURVE_KINDS = ['factor', 'loss', 'grad', 'hess'] as const;

/** One of {@link CURVE_KINDS}. */
export type CurveKind = (typeof CURVE_KINDS)[number];

/** One plotted point: a loss's quantity at logit `x` for target `y` (null where not finite). */
export interface CurvePoint {
  readonly x: number;
  readonly y: 0 | 1;
  readonly loss: string;
  readonly value: number | null;
}

/** The plotted points of every kind. */
export type Curves = Record<CurveKind, CurvePoint[]>;

/** The logits the curves are drawn at: −10 … 10 in steps of 0.1 (float64). */
export function curveLogits(): number[] {
  return Array.from({ length: 201 }, (_, i) => Math.round((i - 100) * 10) / 100);
}

/** Evaluates the losses' factor, loss, dL/dx and d²L/dx² on {@link curveLogits} for y = 0 and y = 1, in float64. */
export function computeCurves(losses: readonly NamedLoss[]): Curves {
  const xs = curveLogits();
  const out: Curves = { factor: [], loss: [], grad: [], hess: [] };
  for (const l of losses) {
    for (const y of [0, 1] as const) {
      const x = fromArray(xs, [xs.length], { dtype: 'float64', requiresGrad: true });
      const t = fromArray(
        xs.map(() => y),
        [xs.length],
        { dtype: 'float64' },
      );
      const d = derivatives(l, x, t);
      const f = l.factor(x.detach(), t);
      const push = (kind: CurveKind, data: ArrayLike<number>) => {
        for (let i = 0; i < xs.length; i++) {
          const v = data[i]!;
          out[kind].push({ x: xs[i]!, y, loss: l.name, value: Number.isFinite(v) ? v : null });
        }
      };
      push('factor', f.data);
      push('loss', d.loss.data);
      push('grad', d.grad.data);
      push('hess', d.hess.data);
    }
  }
  return out;
}
