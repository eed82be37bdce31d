import { ArgumentError } from '@gradkit/autograd';
import { checkOptionKeys, describeValue, ownValue } from '@gradkit/kernels';

/** The seed used by {@link propertyConfig} when `GRADKIT_SEED` is not set and no seed is given. */
export const DEFAULT_SEED = 0x5eed_2024;

/** Options of {@link propertyConfig}. */
export interface PropertyConfigOptions {
  /** How many inputs fast-check tries (default 100). Keep it within 50-200 so the suite stays fast. */
  numRuns?: number;
  /**
   * A fixed seed for this property. When absent, the seed comes from the environment variable
   * `GRADKIT_SEED` if set, else {@link DEFAULT_SEED}.
   */
  seed?: number;
}

/** The seeded parameters {@link propertyConfig} returns, ready to pass to `fc.assert(prop, params)`. */
export interface PropertyConfig {
  /** The seed fast-check starts from (it prints it, with the path, when a property fails). */
  seed: number;
  /** How many inputs fast-check tries. */
  numRuns: number;
}

function envSeed(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.GRADKIT_SEED;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) {
    throw new ArgumentError(
      'propertyConfig',
      `environment variable GRADKIT_SEED must be an integer, got '${raw}'`,
    );
  }
  return seed;
}

/**
 * Seeded parameters for a fast-check property, so that every run of a test tries the same inputs and a
 * failure reproduces: `fc.assert(prop, propertyConfig())`. To explore other inputs, or to replay a seed that
 * fast-check printed, set `GRADKIT_SEED=<seed>` in the environment; an explicit `opts.seed` wins over both.
 *
 * @param opts - number of runs (default 100) and an optional fixed seed
 * @returns `{ seed, numRuns }`
 * @throws ArgumentError when `opts` has an unknown key, `numRuns` is not a positive integer, `seed` is not an
 *   integer, or `GRADKIT_SEED` is not an integer
 */
export function propertyConfig(opts: PropertyConfigOptions = {}): PropertyConfig {
  checkOptionKeys('propertyConfig', 'opts', opts, ['numRuns', 'seed']);
  const numRuns = ownValue(opts, 'numRuns') ?? 100;
  if (typeof numRuns !== 'number' || !Number.isSafeInteger(numRuns) || numRuns < 1) {
    throw new ArgumentError(
      'propertyConfig',
      `argument 'numRuns' must be a positive integer, got ${describeValue(numRuns)}`,
    );
  }
  const given = ownValue(opts, 'seed');
  if (given !== undefined && (typeof given !== 'number' || !Number.isSafeInteger(given))) {
    throw new ArgumentError(
      'propertyConfig',
      `option 'seed' must be an integer, got ${describeValue(given)}`,
    );
  }
  const seed = given ?? envSeed() ?? DEFAULT_SEED;
  return { seed, numRuns };
}
