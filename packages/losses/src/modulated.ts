import { ArgumentError, DomainError, GradkitError, inputVariable, Tensor, Value } from '@gradkit/autograd';
import {
  checkOptionKeys,
  constant,
  describeValue,
  type Expr,
  freeVariables,
  LruCache,
  ownValue,
} from '@gradkit/kernels';
import { lossScalar } from './device-run.js';
import {
  checkLossTensors,
  checkRange,
  checkReduction,
  checkTensorRange,
  type ExtraTensor,
  formatRange,
  type LossOptions,
  type Range,
  type Reduction,
  readOptions,
} from './options.js';
import { arg, type LossProgram, logitProgram } from './program.js';
import { MAX_FAST_POWER, parameterValue, type Quantities, quantityValues, realize } from './quantities.js';
import { runLoss } from './run.js';

/** Numeric parameters of a factor and their default values, e.g. `{ gamma: 2 }`. */
export type FactorParams = Readonly<Record<string, number>>;

/**
 * The parameters as the factor function receives them: symbolic scalars (`Value`). A number is a run-time
 * argument of the compiled loop (its `data` is undefined), except for the values that change the generated
 * code — 0 and the half-integers up to 16 (`z^k` of a probability is then computed by multiplications, see
 * {@link stabilize}) — which are constants (their `data` is the number); a per-class tensor is a per-element
 * variable. Use Value methods on them (`q.pow(gamma)`, `gamma.mul(2)`), never their `data` or JS arithmetic.
 * Reading a parameter the loss does not declare is an ArgumentError naming the loss and the parameter.
 */
export type ParamValues<P extends FactorParams> = { readonly [K in keyof P]: Value };

/**
 * A function of the per-element quantities and the parameters returning an expression (or a constant). It runs
 * once per program (see {@link defineModulatedLoss}), not once per call; what it throws is rethrown as an
 * ArgumentError naming the loss (the original error is its `cause`).
 */
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
  /**
   * Parameters and their defaults (finite numbers); each can be overridden per call by a finite number or a
   * per-class tensor. Names are identifiers (letters, digits, `_`, `$`) and may be neither an option name
   * (`weight`, `posWeight`, `reduction`, `detachWeight`; `alpha` only as described at {@link alpha}) nor a
   * quantity name (`x`, `y`, `p`, `pt`, `logPt`, `log1mPt`).
   */
  readonly params?: P;
  /**
   * The inclusive domain `[min, max]` of some parameters (either end may be ±Infinity): a default, a number
   * or a tensor element outside it is a DomainError. Parameters without a range accept any finite number.
   */
  readonly ranges?: ParamRanges<P>;
  /** A term added to the modulated loss (Poly-style), before the weight is applied. */
  readonly additive?: QuantityFunction<P>;
  /**
   * Default class-balance alpha in [0, 1] (`alpha_t = y·alpha + (1 − y)·(1 − alpha)` multiplies the factor);
   * null or a negative number means no alpha_t (default null). A loss may instead declare a parameter named
   * `alpha` (then the `alpha` option is that parameter and there is no alpha_t); giving both is an
   * ArgumentError.
   */
  readonly alpha?: number | null;
  /** Default reduction (default 'mean'). */
  readonly reduction?: Reduction;
}

/** Inclusive ranges `[min, max]` of some parameters of a modulated loss. */
export type ParamRanges<P extends FactorParams> = { readonly [K in keyof P]?: readonly [number, number] };

/**
 * Options of a loss made by {@link defineModulatedLoss}: the common ones, alpha, posWeight and the parameters.
 * Only own keys are read; any other key is an ArgumentError listing the valid ones.
 */
export type ModulatedLossOptions<P extends FactorParams> = LossOptions & {
  /**
   * Class balance: a number in [0, 1] or a per-class tensor with elements in [0, 1]; a negative number or
   * null disables it; NaN and ±inf are ArgumentErrors, a number above 1 a DomainError.
   */
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

/**
 * How many programs (built expressions and their derivatives) each modulated loss keeps: the least recently
 * used one is dropped beyond that. Numeric parameters are run-time arguments, so a program is built per
 * distinct *structure* of a call (which optional tensors are given, which parameters are tensors, and the
 * parameter values that change the code: 0 and the half-integers up to 16), never per parameter value.
 */
export const PROGRAM_CACHE_CAPACITY = 64;

/** Keys of a {@link ModulatedLossDefinition}. */
const DEFINITION_KEYS = ['name', 'factor', 'params', 'ranges', 'additive', 'alpha', 'reduction'];

/** Option keys of every modulated loss, besides its parameters. */
const COMMON_OPTION_KEYS = ['weight', 'posWeight', 'alpha', 'reduction'];

/** Names a parameter may not take: option names of modulated losses and the quantity names. */
const RESERVED_PARAM_NAMES = new Set([
  'weight',
  'posWeight',
  'reduction',
  'detachWeight',
  'x',
  'y',
  'p',
  'pt',
  'logPt',
  'log1mPt',
  '__proto__',
]);

/** An identifier-like name. */
const PARAM_NAME = /^[A-Za-z_$][\w$]*$/;

/** Targets of a modulated loss: probabilities (hard or soft). */
const TARGET_RANGE: Range = [0, 1];

/** The class-balance alpha (a number; a negative one disables alpha_t). */
const ALPHA_RANGE: Range = [0, 1];

/** Keys that are not parameters but that JS machinery may read from any object (printing, promises, JSON). */
const PROBED_KEYS = new Set(['then', 'toJSON', 'constructor', 'toString', 'valueOf', 'toLocaleString']);

/** The caches of the modulated losses, for {@link cachedProgramCount}. */
const caches = new WeakMap<object, LruCache<string, LossProgram>>();

/**
 * @internal The number of programs a loss made by {@link defineModulatedLoss} holds in its cache (for tests);
 * 0 for anything else.
 */
export function cachedProgramCount(loss: object): number {
  return caches.get(loss)?.size ?? 0;
}

/**
 * Whether a parameter value changes the generated code (so it is folded in as a constant): 0 and the
 * half-integers up to {@link MAX_FAST_POWER}, the exponents that `stabilize` expands into multiplications.
 * There are 33 of them, so the programs they make stay few.
 */
function changesCode(v: number): boolean {
  return v >= 0 && v <= MAX_FAST_POWER && Number.isInteger(2 * v);
}

/**
 * How one argument of a call reaches the program: a constant folded into the code, a per-element tensor
 * (index among the call's tensors), or a run-time scalar (index among the call's scalars). JSON of these is
 * the program cache key (structural: it cannot collide).
 */
type Slot = readonly ['c', number] | readonly ['t', number] | readonly ['s', number];

/** A record whose unknown string keys throw (a factor reading an undeclared parameter or quantity). */
function strict<T extends object>(name: string, what: string, obj: T): T {
  const valid = Object.keys(obj);
  return new Proxy(Object.freeze(obj), {
    get(target, key, receiver) {
      if (typeof key === 'string' && !Object.hasOwn(target, key) && !PROBED_KEYS.has(key)) {
        throw new ArgumentError(
          name,
          `the factor reads ${what} '${key}', which the loss does not declare; ${what}s: ${valid.length === 0 ? '(none)' : valid.join(', ')}`,
        );
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/** Runs a user's factor or additive function; its errors are rethrown naming the loss. */
function callUser<P extends FactorParams>(
  name: string,
  what: string,
  fn: QuantityFunction<P>,
  params: ParamValues<P>,
): Expr {
  let v: unknown;
  try {
    v = fn(strict(name, 'quantity', { ...quantityValues() }), params);
  } catch (e) {
    if (e instanceof GradkitError && e.op === name) throw e;
    const err = new ArgumentError(
      name,
      `the ${what} function threw: ${e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)}`,
    );
    Object.defineProperty(err, 'cause', { value: e, configurable: true, writable: true });
    throw err;
  }
  if (v instanceof Value) return v.expr;
  if (typeof v === 'number' && !Number.isNaN(v)) return constant(v);
  throw new ArgumentError(
    name,
    `the ${what} function must return a Value or a number (not NaN), got ${describeValue(v)}`,
  );
}

/** Reads and checks the parameter defaults of a definition. */
function readParams(name: string, params: unknown): Record<string, number> {
  const op = 'defineModulatedLoss';
  if (params === undefined) return {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new ArgumentError(
      op,
      `argument 'params' of '${name}' must be an object, got ${describeValue(params)}`,
    );
  }
  const out: Record<string, number> = {};
  for (const key of Reflect.ownKeys(params)) {
    if (typeof key !== 'string' || !PARAM_NAME.test(key) || RESERVED_PARAM_NAMES.has(key)) {
      throw new ArgumentError(
        op,
        `parameter ${typeof key === 'string' ? JSON.stringify(key) : String(key)} of '${name}' is not allowed: ` +
          'a parameter name is an identifier and not one of weight, posWeight, reduction, detachWeight ' +
          '(options) or x, y, p, pt, logPt, log1mPt (quantities)',
      );
    }
    const v = ownValue(params, key);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ArgumentError(
        op,
        `parameter '${key}' of '${name}' must have a finite numeric default, got ${describeValue(v)}`,
      );
    }
    Object.defineProperty(out, key, { value: v, enumerable: true });
  }
  return out;
}

/** Reads and checks the parameter ranges of a definition. */
function readRanges(name: string, ranges: unknown, keys: readonly string[]): Map<string, Range> {
  const op = 'defineModulatedLoss';
  const out = new Map<string, Range>();
  if (ranges === undefined) return out;
  checkOptionKeys(op, 'ranges', ranges, keys);
  for (const k of keys) {
    const r = ownValue(ranges as object, k);
    if (r === undefined) continue;
    const ok =
      Array.isArray(r) &&
      r.length === 2 &&
      typeof r[0] === 'number' &&
      typeof r[1] === 'number' &&
      (r[0] as number) <= (r[1] as number);
    if (!ok) {
      throw new ArgumentError(
        op,
        `the range of parameter '${k}' of '${name}' must be [min, max] with min <= max, got ${describeValue(r)}`,
      );
    }
    out.set(k, [r[0] as number, r[1] as number]);
  }
  return out;
}

/**
 * A class-balance alpha given as a number: null when negative (disabled), else itself.
 *
 * @throws ArgumentError for NaN and ±inf; DomainError above 1
 */
function alphaNumber(op: string, a: number): number | null {
  if (!Number.isFinite(a)) {
    throw new ArgumentError(
      op,
      `argument 'alpha' must be a finite number, a Tensor or null, got ${describeValue(a)}`,
    );
  }
  if (a < 0) return null;
  return checkRange(op, 'alpha', a, ALPHA_RANGE);
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
 * whose base is not the cross entropy, like ASL's shifted negative part). The result is ONE graph node with one
 * fused forward loop and one fused backward loop; its gradients (input, target, weight, posWeight, per-class
 * parameter tensors) and every higher derivative are derived symbolically from the expression: no derivative
 * is written by hand.
 *
 * Stable forms are applied automatically when the expression is built: `1 − p` becomes sigmoid(−x), `1 − pt`
 * is computed without cancellation, logs of p, 1 − p, pt, 1 − pt are taken in logit space, `z^k` of those
 * becomes exp(k·log z), and `y − p` is computed exactly for hard targets. So writing
 * `pt.neg().add(1).pow(gamma)` gives the stable focal kernel, finite with its gradients and Hessian-vector
 * products where PyTorch's `(1 − pt)**gamma` gives NaN. Other subexpressions are kept as written (see
 * `stabilize` in quantities.ts for the exact list).
 *
 * Programs: the factor runs, and the kernels are compiled, once per distinct call structure (which optional
 * tensors are given, which parameters are tensors), not per parameter value: numeric parameters and alpha
 * are run-time arguments of the compiled loop, so training with a new gamma every step builds nothing new.
 * The exception is a parameter equal to 0 or a half-integer up to 16: it is folded into the code as a
 * constant (a power of a probability is then a few multiplications); there are 33 such values. Each loss
 * keeps at most {@link PROGRAM_CACHE_CAPACITY} programs (least recently used dropped).
 *
 * Domains: targets must lie in [0, 1] (hard or soft labels; NaN is refused) — a DomainError naming the
 * first offending element, checked in the fused forward loop. Numbers given for parameters and alpha must
 * be finite (ArgumentError), within the parameter's `ranges` (DomainError); alpha must be in [0, 1] or
 * negative (disabled). Options are read by own keys only; an unknown key is an ArgumentError listing the
 * valid ones.
 *
 * @example
 * ```ts
 * const cubicFocal = defineModulatedLoss({
 *   name: 'cubic-focal',
 *   factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma),
 *   params: { gamma: 3 },
 *   ranges: { gamma: [0, Infinity] },
 * });
 * const loss = cubicFocal(logits, targets, { alpha: 0.25, reduction: 'mean' });
 * ```
 * @throws ArgumentError (at definition) for a definition with unknown keys, a missing name or factor, a
 *   parameter with a reserved or non-identifier name or a non-finite default, or `alpha` given both as a
 *   parameter and as the default alpha; DomainError for a default outside its range
 * @throws ArgumentError (when called) if the factor throws, returns something else than a Value or a number,
 *   reads a parameter the loss does not declare, or uses a symbol that is not one of the quantities or
 *   parameters; see above for the options
 */
export function defineModulatedLoss<P extends FactorParams = Record<never, number>>(
  definition: ModulatedLossDefinition<P>,
): ModulatedLoss<P> {
  const op = 'defineModulatedLoss';
  if (definition === undefined) {
    throw new ArgumentError(op, "argument 'definition' must be an object, got undefined");
  }
  checkOptionKeys(op, 'definition', definition, DEFINITION_KEYS);
  const name = ownValue(definition, 'name');
  if (typeof name !== 'string' || name === '') {
    throw new ArgumentError(op, `argument 'name' must be a non-empty string, got ${describeValue(name)}`);
  }
  const factor = ownValue(definition, 'factor') as QuantityFunction<P> | undefined;
  if (typeof factor !== 'function') {
    throw new ArgumentError(
      op,
      `argument 'factor' of '${name}' must be a function, got ${describeValue(factor)}`,
    );
  }
  const additive = ownValue(definition, 'additive') as QuantityFunction<P> | undefined;
  if (additive !== undefined && typeof additive !== 'function') {
    throw new ArgumentError(
      op,
      `argument 'additive' of '${name}' must be a function, got ${describeValue(additive)}`,
    );
  }
  const defaults = Object.freeze(readParams(name, ownValue(definition, 'params'))) as Readonly<P>;
  const keys = Object.keys(defaults).sort();
  const ranges = readRanges(name, ownValue(definition, 'ranges'), keys);
  for (const [k, r] of ranges) checkRange(op, `${name}.params.${k}`, defaults[k]!, r);
  const alphaIsParam = keys.includes('alpha');
  const alphaDefault = ownValue(definition, 'alpha');
  if (alphaIsParam && alphaDefault !== undefined) {
    throw new ArgumentError(
      op,
      `'${name}' declares a parameter 'alpha' and a default class-balance 'alpha': give one of them`,
    );
  }
  let defaultAlpha: number | null = null;
  if (alphaDefault !== undefined && alphaDefault !== null) {
    if (typeof alphaDefault !== 'number') {
      throw new ArgumentError(
        op,
        `argument 'alpha' of '${name}' must be a number or null, got ${describeValue(alphaDefault)}`,
      );
    }
    defaultAlpha = alphaNumber(op, alphaDefault);
  }
  const defaultReduction = checkReduction(op, ownValue(definition, 'reduction') ?? 'mean');
  const validKeys = [...new Set([...COMMON_OPTION_KEYS, ...keys])];
  const programs = new LruCache<string, LossProgram>(PROGRAM_CACHE_CAPACITY);

  const loss = (input: Tensor, target: Tensor, options?: ModulatedLossOptions<P>) => {
    // Everything is validated before the cache lookup.
    const opts = readOptions(name, options, validKeys);
    const reduction = checkReduction(name, opts.get('reduction') ?? defaultReduction);
    const extras: ExtraTensor[] = [];
    const ranged: Array<{ name: string; tensor: Tensor; range: Range; index: number }> = [];
    const scalars: number[] = [];
    const addTensor = (label: string, t: unknown): number => {
      if (!(t instanceof Tensor)) {
        throw new ArgumentError(name, `argument '${label}' must be a Tensor, got ${describeValue(t)}`);
      }
      extras.push({ name: label, tensor: t });
      return extras.length + 1;
    };
    const addScalar = (v: number): Slot => ['s', scalars.push(v) - 1];
    const w = opts.get('weight');
    const weightIndex = w === undefined ? null : addTensor('weight', w);
    const pw = opts.get('posWeight');
    const posWeightIndex = pw === undefined ? null : addTensor('posWeight', pw);
    let alphaSlot: Slot | null = null;
    if (!alphaIsParam) {
      const a = opts.has('alpha') ? opts.get('alpha') : defaultAlpha;
      if (a instanceof Tensor) {
        alphaSlot = ['t', addTensor('alpha', a)];
        ranged.push({ name: 'alpha', tensor: a, range: ALPHA_RANGE, index: alphaSlot[1] });
      } else if (typeof a === 'number') {
        const v = alphaNumber(name, a);
        if (v !== null) alphaSlot = addScalar(v);
      } else if (a !== null) {
        throw new ArgumentError(
          name,
          `argument 'alpha' must be a finite number, a Tensor or null, got ${describeValue(a)}`,
        );
      }
    }
    const paramSlots: Slot[] = keys.map((k) => {
      const v = opts.has(k) ? opts.get(k) : defaults[k];
      const range = ranges.get(k);
      if (v instanceof Tensor) {
        const index = addTensor(k, v);
        if (range !== undefined) ranged.push({ name: k, tensor: v, range, index });
        return ['t', index];
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ArgumentError(
          name,
          `parameter '${k}' must be a finite number or a Tensor, got ${describeValue(v)}`,
        );
      }
      if (range !== undefined && !(v >= range[0] && v <= range[1])) {
        throw new DomainError(name, `parameter '${k}' must be in ${formatRange(range)}, got ${v}`);
      }
      const n = v === 0 ? 0 : v; // −0 is 0
      return changesCode(n) ? ['c', n] : addScalar(n);
    });
    checkLossTensors(name, input, target, extras);
    // On webgpu the tensor ranges are checked in the kernel instead (NaN where outside: no read-back).
    if (input.device === 'cpu') for (const r of ranged) checkTensorRange(name, r.name, r.tensor, r.range);
    const cacheKey = JSON.stringify([weightIndex, posWeightIndex, alphaSlot, paramSlots]);
    let program = programs.get(cacheKey);
    if (program === undefined) {
      program = buildProgram({
        name,
        factor: factor!,
        additive,
        keys,
        paramSlots,
        alphaSlot,
        weightIndex,
        posWeightIndex,
        tensorCount: 2 + extras.length,
        scalarCount: scalars.length,
        domains: ranged.map((r) => ({ index: r.index, range: r.range })),
      });
      programs.set(cacheKey, program);
    }
    const scalarTensors = scalars.map((v) => lossScalar(v));
    return runLoss(program, [input, target, ...extras.map((e) => e.tensor), ...scalarTensors], reduction);
  };
  caches.set(loss, programs);
  return Object.assign(loss, { lossName: name, defaults }) as ModulatedLoss<P>;
}

/** What {@link buildProgram} needs: the definition and the structure of one call. */
interface ProgramRequest<P extends FactorParams> {
  readonly name: string;
  readonly factor: QuantityFunction<P>;
  readonly additive: QuantityFunction<P> | undefined;
  readonly keys: readonly string[];
  readonly paramSlots: readonly Slot[];
  readonly alphaSlot: Slot | null;
  readonly weightIndex: number | null;
  readonly posWeightIndex: number | null;
  /** Input, target and the optional tensors. */
  readonly tensorCount: number;
  /** Run-time scalars, passed after the tensors. */
  readonly scalarCount: number;
  /** The ranges of the tensor-valued alpha and parameters (checked in the kernel on webgpu). */
  readonly domains: NonNullable<LossProgram['domains']>;
}

/** Builds the program of one call structure: the factor and additive run here, once. */
function buildProgram<P extends FactorParams>(r: ProgramRequest<P>): LossProgram {
  const { name } = r;
  const arity = r.tensorCount + r.scalarCount;
  const slotExpr = (s: Slot): number | Expr =>
    s[0] === 'c' ? s[1] : s[0] === 't' ? arg(s[1]) : arg(r.tensorCount + s[1]);
  const params = strict(
    name,
    'parameter',
    Object.fromEntries(r.keys.map((k, i) => [k, parameterValue(k, slotExpr(r.paramSlots[i]!))])),
  ) as ParamValues<P>;
  const x = arg(0);
  const y = arg(1);
  const factorExpr = realize(callUser(name, 'factor', r.factor, params), x, y);
  const additiveExpr =
    r.additive === undefined ? null : realize(callUser(name, 'additive', r.additive, params), x, y);
  const allowed = new Set(Array.from({ length: arity }, (_, i) => inputVariable(i)));
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
  if (factorExpr.isConst && factorExpr.value === 0 && (r.posWeightIndex !== null || r.alphaSlot !== null)) {
    throw new ArgumentError(
      name,
      "'posWeight' and 'alpha' apply to the cross-entropy term, which this loss does not have (its factor is 0)",
    );
  }
  const alpha = r.alphaSlot === null ? null : slotExpr(r.alphaSlot);
  const program = logitProgram({
    name,
    arity,
    factor: factorExpr.isConst && factorExpr.value === 1 ? null : factorExpr,
    additive:
      additiveExpr === null || (additiveExpr.isConst && additiveExpr.value === 0) ? null : additiveExpr,
    alpha: alpha === null ? null : typeof alpha === 'number' ? constant(alpha) : alpha,
    posWeight: r.posWeightIndex === null ? null : arg(r.posWeightIndex),
    weightIndex: r.weightIndex,
  });
  // Run-time scalars never receive a gradient.
  const grads = program.grads.map((g, i) => (i < r.tensorCount ? g : null));
  return { ...program, grads, targetRange: TARGET_RANGE, domains: r.domains };
}
