import { ArgumentError, Tensor, Value } from '@gradkit/autograd';
import { constant, type Expr, freeVariables } from '@gradkit/kernels';
import {
  checkLossTensors,
  checkReduction,
  type ExtraTensor,
  type LossOptions,
  type Reduction,
} from './options.js';
import { arg, type LossProgram, logitProgram } from './program.js';
import { parameterValue, type Quantities, quantityValues, realize } from './quantities.js';
import { runLoss } from './run.js';

/** Numeric parameters of a factor and their default values, e.g. `{ gamma: 2 }`. */
export type FactorParams = Readonly<Record<string, number>>;

/**
 * The parameters as the factor function receives them: symbolic scalars (`Value`), constant for a number,
 * a per-element variable for a per-class tensor. Use Value methods on them (`q.pow(gamma)`, `gamma.mul(2)`).
 */
export type ParamValues<P extends FactorParams> = { readonly [K in keyof P]: Value };

/** A function of the per-element quantities and the parameters returning an expression (or a constant). */
export type QuantityFunction<P extends FactorParams> = (
  q: Quantities,
  params: ParamValues<P>,
) => Value | number;

/** What {@link defineModulatedLoss} needs. */
export interface ModulatedLossDefinition<P extends FactorParams> {
  /** The loss's name (graph node and messages). */
  readonly name: string;
  /** The modulating factor that multiplies the binary cross entropy. */
  readonly factor: QuantityFunction<P>;
  /** Parameters and their defaults; each can be overridden per call by a number or a per-class tensor. */
  readonly params?: P;
  /** A term added to the modulated loss (Poly-style), before the weight is applied. */
  readonly additive?: QuantityFunction<P>;
  /**
   * Default class-balance alpha (`alpha_t = y·alpha + (1 − y)·(1 − alpha)` multiplies the factor); null or a
   * negative number means no alpha_t (default null). Ignored when the parameters have a key named `alpha`:
   * then `alpha` is a parameter of the factor.
   */
  readonly alpha?: number | null;
  /** Default reduction (default 'mean'). */
  readonly reduction?: Reduction;
}

/** Options of a loss made by {@link defineModulatedLoss}: the common ones, alpha, posWeight and the parameters. */
export type ModulatedLossOptions<P extends FactorParams> = LossOptions & {
  /** Class balance: a number in [0, 1] or a per-class tensor; a negative number or null disables it. */
  alpha?: number | Tensor | null;
  /** Weight of the positive term of the cross entropy, broadcast against the input (`[C]` lines up with the last dim). */
  posWeight?: Tensor;
} & { [K in keyof P]?: number | Tensor };

/** A loss made by {@link defineModulatedLoss}: call it like the built-in losses. */
export interface ModulatedLoss<P extends FactorParams> {
  (input: Tensor, target: Tensor, options?: ModulatedLossOptions<P>): Tensor;
  /** The loss's name. */
  readonly lossName: string;
  /** The default parameter values. */
  readonly defaults: Readonly<P>;
}

const PROGRAM_CACHE_LIMIT = 256;

function toExpr(name: string, what: string, v: Value | number): Expr {
  if (v instanceof Value) return v.expr;
  if (typeof v === 'number' && !Number.isNaN(v)) return constant(v);
  throw new ArgumentError(
    name,
    `the ${what} function must return a Value or a number (not NaN), got ${String(v)}`,
  );
}

/**
 * Defines a binary-classification loss on logits by its modulating factor — the research API. The loss is
 *
 *   loss = weight · (alpha_t · factor · ce + additive),
 *   ce = −[pw·y·log(p) + (1 − y)·log(1 − p)],  p = sigmoid(x),
 *
 * where `factor` and `additive` are expressions over the per-element quantities `x, y, p, pt, logPt, log1mPt`
 * (see {@link Quantities}) built with Value methods — `detach()` stops gradients through a part (ASL/EFL
 * style). A factor of 0 leaves the cross entropy out: the loss is then the additive term alone (for losses
 * whose base is not the cross entropy, like ASL's shifted negative part). The result is ONE graph node with one fused forward loop and one fused backward loop; its gradients
 * (input, target, weight, posWeight, per-class parameter tensors) and every higher derivative are derived
 * symbolically from the expression: no derivative is written by hand.
 *
 * Stable forms are applied automatically when the expression is built: `1 − p` becomes sigmoid(−x), `1 − pt`
 * is computed without cancellation, logs of p, 1 − p, pt, 1 − pt are taken in logit space, `z^k` of those
 * becomes exp(k·log z), and `y − p` is computed exactly for hard targets. So writing
 * `pt.neg().add(1).pow(gamma)` gives the stable focal kernel, finite with its gradients and Hessian-vector
 * products where PyTorch's `(1 - pt)**gamma` gives NaN. Other subexpressions are kept as written (see
 * `stabilize` in quantities.ts for the exact list). Kernels are compiled once per distinct parameter set
 * (numbers are folded in as constants) and cached.
 *
 * @example
 * ```ts
 * const cubicFocal = defineModulatedLoss({
 *   name: 'cubic-focal',
 *   factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
 *   params: { gamma: 3 },
 * });
 * const loss = cubicFocal(logits, targets, { alpha: 0.25, reduction: 'mean' });
 * ```
 * @throws ArgumentError (when called) if the factor returns something else than a Value or a number, or uses
 * a symbol that is not one of the quantities or parameters
 */
export function defineModulatedLoss<P extends FactorParams = Record<never, number>>(
  definition: ModulatedLossDefinition<P>,
): ModulatedLoss<P> {
  const name = definition.name;
  if (typeof name !== 'string' || name === '') {
    throw new ArgumentError(
      'defineModulatedLoss',
      `argument 'name' must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  if (typeof definition.factor !== 'function') {
    throw new ArgumentError('defineModulatedLoss', `argument 'factor' of '${name}' must be a function`);
  }
  const defaults = Object.freeze({ ...(definition.params ?? ({} as P)) }) as Readonly<P>;
  const keys = Object.keys(defaults).sort();
  for (const k of keys) {
    if (typeof defaults[k] !== 'number' || Number.isNaN(defaults[k])) {
      throw new ArgumentError(
        'defineModulatedLoss',
        `parameter '${k}' of '${name}' must have a numeric default`,
      );
    }
  }
  const alphaIsParam = keys.includes('alpha');
  const defaultReduction = checkReduction(name, definition.reduction ?? 'mean');
  const programs = new Map<string, LossProgram>();

  const loss = (
    input: Tensor,
    target: Tensor,
    options: ModulatedLossOptions<P> = {} as ModulatedLossOptions<P>,
  ) => {
    const opts = options as Record<string, unknown> & ModulatedLossOptions<P>;
    const reduction = checkReduction(name, opts.reduction ?? defaultReduction);
    const extras: ExtraTensor[] = [];
    const keyParts: string[] = [];
    const addTensor = (label: string, t: unknown): number => {
      if (!(t instanceof Tensor)) throw new ArgumentError(name, `argument '${label}' must be a Tensor`);
      extras.push({ name: label, tensor: t });
      return extras.length + 1;
    };
    const weightIndex = opts.weight === undefined ? null : addTensor('weight', opts.weight);
    const posWeightIndex = opts.posWeight === undefined ? null : addTensor('posWeight', opts.posWeight);
    keyParts.push(`w${weightIndex ?? '-'}`, `pw${posWeightIndex ?? '-'}`);
    let alpha: number | null = null;
    let alphaIndex: number | null = null;
    if (!alphaIsParam) {
      const a = opts.alpha === undefined ? (definition.alpha ?? null) : opts.alpha;
      if (a instanceof Tensor) alphaIndex = addTensor('alpha', a);
      else if (typeof a === 'number' && !Number.isNaN(a)) alpha = a < 0 ? null : a;
      else if (a !== null)
        throw new ArgumentError(
          name,
          `argument 'alpha' must be a number, a Tensor or null, got ${String(a)}`,
        );
      keyParts.push(`a${alphaIndex === null ? alpha : `#${alphaIndex}`}`);
    }
    const paramArgs: Record<string, number | Expr> = {};
    for (const k of keys) {
      const v = opts[k] === undefined ? defaults[k] : opts[k];
      if (v instanceof Tensor) paramArgs[k] = arg(addTensor(k, v));
      else if (typeof v === 'number' && !Number.isNaN(v)) paramArgs[k] = v;
      else
        throw new ArgumentError(
          name,
          `parameter '${k}' must be a number (not NaN) or a Tensor, got ${String(v)}`,
        );
      const pv = paramArgs[k]!;
      keyParts.push(`${k}=${typeof pv === 'number' ? pv : `#${pv.name}`}`);
    }
    checkLossTensors(name, input, target, extras);
    const cacheKey = keyParts.join('|');
    let program = programs.get(cacheKey);
    if (program === undefined) {
      const arity = 2 + extras.length;
      const params = Object.fromEntries(
        keys.map((k) => [k, parameterValue(k, paramArgs[k]!)]),
      ) as ParamValues<P>;
      const x = arg(0);
      const y = arg(1);
      const factorExpr = realize(toExpr(name, 'factor', definition.factor(quantityValues(), params)), x, y);
      const additiveExpr =
        definition.additive === undefined
          ? null
          : realize(toExpr(name, 'additive', definition.additive(quantityValues(), params)), x, y);
      const allowed = new Set(Array.from({ length: arity }, (_, i) => `x${i}`));
      for (const e of [factorExpr, additiveExpr]) {
        if (e === null) continue;
        const stray = freeVariables(e).filter((v) => !allowed.has(v));
        if (stray.length > 0) {
          throw new ArgumentError(
            name,
            `the factor uses symbol(s) ${stray.join(', ')} that are neither quantities nor parameters of the loss`,
          );
        }
      }
      if (
        factorExpr.isConst &&
        factorExpr.value === 0 &&
        (posWeightIndex !== null || alphaIndex !== null || alpha !== null)
      ) {
        throw new ArgumentError(
          name,
          "'posWeight' and 'alpha' apply to the cross-entropy term, which this loss does not have (its factor is 0)",
        );
      }
      program = logitProgram({
        name,
        arity,
        factor: factorExpr.isConst && factorExpr.value === 1 ? null : factorExpr,
        additive:
          additiveExpr === null || (additiveExpr.isConst && additiveExpr.value === 0) ? null : additiveExpr,
        alpha: alphaIndex !== null ? arg(alphaIndex) : alpha === null ? null : constant(alpha),
        posWeight: posWeightIndex === null ? null : arg(posWeightIndex),
        weightIndex,
      });
      if (programs.size >= PROGRAM_CACHE_LIMIT) programs.delete(programs.keys().next().value!);
      programs.set(cacheKey, program);
    }
    return runLoss(program, [input, target, ...extras.map((e) => e.tensor)], reduction);
  };
  return Object.assign(loss, { lossName: name, defaults }) as ModulatedLoss<P>;
}
