import { defineModulatedLoss, type ModulatedLoss } from '@gradkit/losses';
import { type Node, parameterNames } from './lang/ast.js';
import { buildFactor } from './lang/build.js';
import { parseFactor } from './lang/parse.js';

/** The loss name of the factor being edited (in the page and in the exported snippet). */
export const CUSTOM_LOSS_NAME = 'custom-factor';

/** Defaults of the parameters a new factor reads, by name (any other parameter starts at 1). */
export const PARAM_DEFAULTS: Readonly<Record<string, number>> = {
  gamma: 2,
  beta: 1,
  alpha: 0.25,
  delta: 0.5,
};

/** The default value of a parameter named `name`. */
export function defaultParam(name: string): number {
  return Object.hasOwn(PARAM_DEFAULTS, name) ? PARAM_DEFAULTS[name]! : 1;
}

/** A parsed factor and the losses made from it. */
export interface CompiledFactor {
  /** The factor's source text. */
  readonly text: string;
  /** Its syntax tree. */
  readonly tree: Node;
  /** The parameters it reads, in order of appearance. */
  readonly params: readonly string[];
  /** `factor · BCE` (no alpha_t), made by defineModulatedLoss. */
  readonly loss: ModulatedLoss<Record<string, number>>;
  /** The factor alone, as a loss (a factor of 0 and the factor as the additive term). */
  readonly factorAlone: ModulatedLoss<Record<string, number>>;
}

/**
 * Parses a factor and defines its losses (parameter defaults from {@link defaultParam}; every call passes
 * the current values as options).
 *
 * @throws FactorSyntaxError for text that does not parse
 */
export function compileFactor(text: string): CompiledFactor {
  const tree = parseFactor(text);
  const params = parameterNames(tree);
  const defaults = Object.fromEntries(params.map((p) => [p, defaultParam(p)]));
  const factor = (q: object, p: object) => buildFactor(tree, { ...q, ...p });
  const loss = defineModulatedLoss({ name: CUSTOM_LOSS_NAME, factor, params: defaults });
  const factorAlone = defineModulatedLoss({
    name: `${CUSTOM_LOSS_NAME} (factor)`,
    factor: () => 0,
    additive: factor,
    params: defaults,
  });
  return { text, tree, params, loss, factorAlone };
}
