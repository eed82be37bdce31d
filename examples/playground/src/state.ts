import { DATASETS, type DatasetName, MODELS, type ModelName } from './training.js';

/** What the URL keeps: the factor, its parameter values, focal's γ, the dataset and the model. */
export interface PageState {
  factor: string;
  params: Record<string, number>;
  focalGamma: number;
  dataset: DatasetName;
  model: ModelName;
}

/** The state a fresh page starts from. */
export const DEFAULT_STATE: Readonly<PageState> = {
  factor: '(1 - pt)^gamma * exp(-beta * pt)',
  params: {},
  focalGamma: 2,
  dataset: 'breast_cancer',
  model: 'logistic',
};

const PARAM_PREFIX = 'p.';

function finite(s: string | null): number | undefined {
  if (s === null || s.trim() === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Reads the state from a URL hash (`#f=<factor>&p.gamma=2&fg=2&ds=breast_cancer&m=logistic`); anything missing
 * or malformed keeps its default.
 */
export function readState(hash: string): PageState {
  const q = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const params: Record<string, number> = {};
  for (const [k, v] of q) {
    const n = finite(v);
    if (k.startsWith(PARAM_PREFIX) && n !== undefined && /^[A-Za-z_]\w*$/.test(k.slice(2))) {
      Object.defineProperty(params, k.slice(2), { value: n, enumerable: true, writable: true });
    }
  }
  const ds = q.get('ds');
  const m = q.get('m');
  return {
    factor: q.get('f') ?? DEFAULT_STATE.factor,
    params,
    focalGamma: finite(q.get('fg')) ?? DEFAULT_STATE.focalGamma,
    dataset: ds !== null && Object.hasOwn(DATASETS, ds) ? (ds as DatasetName) : DEFAULT_STATE.dataset,
    model: m !== null && Object.hasOwn(MODELS, m) ? (m as ModelName) : DEFAULT_STATE.model,
  };
}

/** The URL hash of a state (only the parameters the factor reads are kept). */
export function writeState(s: PageState, used: readonly string[]): string {
  const q = new URLSearchParams();
  q.set('f', s.factor);
  for (const p of used) if (Object.hasOwn(s.params, p)) q.set(`${PARAM_PREFIX}${p}`, String(s.params[p]));
  q.set('fg', String(s.focalGamma));
  q.set('ds', s.dataset);
  q.set('m', s.model);
  return `#${q.toString()}`;
}
