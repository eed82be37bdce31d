/**
 * The loss laboratory's page: the factor editor, parameter controls, live plots, checks, training in a Web
 * Worker, the TypeScript export and the state in the URL. Test hooks are the `data-testid`s of index.html and
 * `window.__gradkitPlayground`.
 */
import { checkGradients, checkSaturation } from './checks.js';
import { CURVE_KINDS, type CurveKind, type CurvePoint, type Curves, computeCurves } from './curves.js';
import { createEditor } from './editor.js';
import { type CompiledFactor, CUSTOM_LOSS_NAME, compileFactor, defaultParam } from './factor.js';
import { factorCode } from './lang/codegen.js';
import { FactorSyntaxError } from './lang/error.js';
import { comparedLosses } from './losses.js';
import { drawLineChart } from './plots.js';
import type { TrainMessage, WorkerMessage } from './protocol.js';
import { type PageState, readState, writeState } from './state.js';
import {
  DATASETS,
  type DatasetName,
  type EpochPoint,
  type FinalRow,
  MODELS,
  type ModelName,
} from './training.js';

/** What the page exposes for tests and the console. */
export interface PlaygroundHook {
  /** The printed factor whose curves were computed last (the last good one). */
  factor: string;
  /** The factor whose plots are drawn (set once vega has rendered them). */
  plotted: string;
  /** The plotted numbers of the last good factor. */
  curves: Curves | null;
  /** The parameter values those curves were computed with. */
  params: Record<string, number>;
}

declare global {
  interface Window {
    __gradkitPlayground: PlaygroundHook;
  }
}

const hook: PlaygroundHook = { factor: '', plotted: '', curves: null, params: {} };
window.__gradkitPlayground = hook;

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`index.html has no #${id}`);
  return e as T;
}

const state: PageState = readState(location.hash);
let current: CompiledFactor | null = null;

// ---- factor editor --------------------------------------------------------------------------------------
const errorBox = el('factor-error');
let timer: ReturnType<typeof setTimeout> | undefined;
const editor = createEditor(el('editor'), state.factor, (text) => {
  clearTimeout(timer);
  timer = setTimeout(() => applyFactor(text), 120);
});

function showError(from: number, to: number, message: string): void {
  errorBox.textContent = message;
  errorBox.dataset.from = String(from);
  errorBox.dataset.to = String(to);
  editor.showError({ from, to, message });
}

function clearError(): void {
  errorBox.textContent = '';
  delete errorBox.dataset.from;
  delete errorBox.dataset.to;
  editor.showError(null);
}

/** Parses the editor's text; a good factor replaces the current one, a bad one only shows its error. */
function applyFactor(text: string): void {
  let compiled: CompiledFactor;
  try {
    compiled = compileFactor(text);
  } catch (e) {
    if (!(e instanceof FactorSyntaxError)) throw e;
    showError(e.from, e.to, e.message);
    return;
  }
  for (const p of compiled.params) {
    if (!Object.hasOwn(state.params, p)) state.params[p] = defaultParam(p);
  }
  if (refresh(compiled)) {
    state.factor = text;
    if (current === null || current.params.join() !== compiled.params.join()) renderParams(compiled.params);
    current = compiled;
    saveState();
  }
}

function currentParams(names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((p) => [p, state.params[p]!]));
}

// ---- parameters -----------------------------------------------------------------------------------------
const paramsBox = el('params');

function renderParams(names: readonly string[]): void {
  paramsBox.replaceChildren();
  for (const name of names) {
    const v = state.params[name]!;
    const row = document.createElement('label');
    row.className = 'param';
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = name;
    const slider = document.createElement('input');
    slider.type = 'range';
    slider.min = String(v < 0 ? Math.min(-10, 2 * v) : 0);
    slider.max = String(Math.max(10, 2 * Math.abs(v)));
    slider.step = '0.05';
    slider.value = String(v);
    slider.setAttribute('aria-label', `${name} slider`);
    const input = document.createElement('input');
    input.type = 'number';
    input.step = 'any';
    input.value = String(v);
    input.dataset.testid = `param-${name}`;
    input.setAttribute('aria-label', name);
    const set = (raw: string, from: HTMLInputElement) => {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) return;
      state.params[name] = n;
      if (from !== input) input.value = raw;
      if (from !== slider) slider.value = raw;
      scheduleRefresh();
    };
    slider.addEventListener('input', () => set(slider.value, slider));
    input.addEventListener('input', () => set(input.value, input));
    row.append(label, slider, input);
    paramsBox.append(row);
  }
}

const focalInput = el<HTMLInputElement>('focal-gamma');
focalInput.value = String(state.focalGamma);
focalInput.addEventListener('input', () => {
  const n = Number(focalInput.value);
  if (focalInput.value.trim() === '' || !Number.isFinite(n) || n < 0) return;
  state.focalGamma = n;
  scheduleRefresh();
});

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRefresh(): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    if (current !== null && refresh(current)) saveState();
  }, 60);
}

// ---- curves, checks, plots, export ----------------------------------------------------------------------
const TITLES: Record<CurveKind, [string, string]> = {
  factor: ['modulating factor', 'factor'],
  loss: ['loss = factor · BCE', 'L'],
  grad: ['gradient dL/dx', 'dL/dx'],
  hess: ['second derivative d²L/dx²', 'd²L/dx²'],
};

function setBadge(id: string, text: string, ok: boolean, title: string): void {
  const b = el(id);
  b.textContent = text;
  b.title = title;
  b.className = `badge ${ok ? 'ok' : 'bad'}`;
}

/** Computes and draws everything for a factor; false (and an error shown) when it cannot be evaluated. */
function refresh(compiled: CompiledFactor): boolean {
  const params = currentParams(compiled.params);
  const losses = comparedLosses(compiled, params, state.focalGamma);
  let curves: Curves;
  try {
    curves = computeCurves(losses);
  } catch (e) {
    showError(
      0,
      compiled.text.length,
      `the factor cannot be evaluated: ${e instanceof Error ? e.message : e}`,
    );
    return false;
  }
  clearError();
  const gc = checkGradients(losses[0]!);
  setBadge('gradcheck-status', gc.ok ? 'pass' : 'fail', gc.ok, gc.detail);
  const sat = checkSaturation(losses[0]!);
  setBadge(
    'saturation-status',
    sat.status,
    sat.finite,
    'loss, dL/dx and d²L/dx² at x = ±30, ±100, ±1e4, y = 0 and 1',
  );
  el('export-code').textContent = factorCode(compiled.tree, {
    exportName: 'customFactor',
    lossName: CUSTOM_LOSS_NAME,
    params,
  });
  hook.factor = compiled.text;
  hook.curves = curves;
  hook.params = params;
  const names = losses.map((l) => l.name);
  const text = compiled.text;
  void Promise.all(
    CURVE_KINDS.map((kind) =>
      drawLineChart(el(`plot-${kind}`), {
        title: TITLES[kind][0],
        xTitle: 'logit x',
        yTitle: TITLES[kind][1],
        faceted: true,
        series: names,
        points: curves[kind].map((p: CurvePoint) => ({
          x: p.x,
          value: p.value,
          series: p.loss,
          panel: `y = ${p.y}`,
        })),
      }),
    ),
  ).then(() => {
    if (hook.factor === text) hook.plotted = text;
  });
  return true;
}

function saveState(): void {
  const hash = writeState(state, current?.params ?? []);
  history.replaceState(null, '', hash);
  el<HTMLAnchorElement>('share-link').href = location.href;
}

// ---- training -------------------------------------------------------------------------------------------
const datasetSelect = el<HTMLSelectElement>('dataset-select');
for (const [key, spec] of Object.entries(DATASETS)) datasetSelect.add(new Option(spec.label, key));
datasetSelect.value = state.dataset;
datasetSelect.addEventListener('change', () => {
  state.dataset = datasetSelect.value as DatasetName;
  saveState();
});
const modelSelect = el<HTMLSelectElement>('model-select');
for (const [key, label] of Object.entries(MODELS)) modelSelect.add(new Option(label, key));
modelSelect.value = state.model;
modelSelect.addEventListener('change', () => {
  state.model = modelSelect.value as ModelName;
  saveState();
});

const trainButton = el<HTMLButtonElement>('train-button');
const trainStatus = el('train-status');
let worker: Worker | null = null;
let points: EpochPoint[] = [];
let drawing = false;
let drawAgain = false;

async function drawTraining(): Promise<void> {
  if (drawing) {
    drawAgain = true;
    return;
  }
  drawing = true;
  const series = [...new Set(points.map((p) => p.loss))];
  await Promise.all([
    drawLineChart(el('train-loss-plot'), {
      title: 'train loss (each its own loss)',
      xTitle: 'epoch',
      yTitle: 'mean loss',
      faceted: false,
      series,
      points: points.map((p) => ({ x: p.epoch, value: p.trainLoss, series: p.loss })),
    }),
    drawLineChart(el('train-ap-plot'), {
      title: 'test average precision',
      xTitle: 'epoch',
      yTitle: 'AP',
      faceted: false,
      series,
      points: points.map((p) => ({ x: p.epoch, value: p.testAp, series: p.loss })),
    }),
  ]);
  drawing = false;
  if (drawAgain) {
    drawAgain = false;
    await drawTraining();
  }
}

function showResults(rows: readonly FinalRow[]): void {
  const body = el('train-results').querySelector('tbody')!;
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = r.loss;
      tr.append(th);
      for (const v of [r.ap, r.rocAuc, r.f1]) {
        const td = document.createElement('td');
        td.textContent = v.toFixed(4);
        tr.append(td);
      }
      return tr;
    }),
  );
}

trainButton.addEventListener('click', () => {
  if (current === null || trainStatus.textContent === 'running') return;
  const epochs = Math.round(Number(el<HTMLInputElement>('epochs').value));
  const message: TrainMessage = {
    type: 'train',
    request: {
      factor: current.text,
      params: currentParams(current.params),
      focalGamma: state.focalGamma,
      dataset: state.dataset,
      model: state.model,
      epochs: Number.isFinite(epochs) && epochs >= 1 ? Math.min(epochs, 2000) : 150,
      lr: 0.02,
      every: Math.max(1, Math.round(epochs / 30)),
    },
  };
  if (worker === null) {
    worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === 'progress') {
        points.push(...m.points);
        void drawTraining();
      } else if (m.type === 'done') {
        showResults(m.rows);
        el('train-note').textContent = `trained in ${m.seconds.toFixed(1)} s in a Web Worker`;
        trainStatus.textContent = 'done';
        trainButton.disabled = false;
      } else {
        el('train-error').textContent = m.message;
        trainStatus.textContent = 'error';
        trainButton.disabled = false;
      }
    };
  }
  points = [];
  el('train-results').querySelector('tbody')!.replaceChildren();
  el('train-error').textContent = '';
  el('train-note').textContent = '';
  trainStatus.textContent = 'running';
  trainButton.disabled = true;
  worker.postMessage(message);
});

// ---- backend --------------------------------------------------------------------------------------------
interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

async function detectBackend(): Promise<void> {
  const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
  let adapter: unknown = null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  // gradkit's tensors have no WebGPU backend yet: the curves, the checks and training run on the CPU.
  el('backend').textContent = 'cpu';
  el('backend-note').textContent =
    adapter === null
      ? '(this browser offers no WebGPU adapter)'
      : '(a WebGPU adapter is present, but gradkit tensors have no WebGPU backend yet)';
}

// ---- start ------------------------------------------------------------------------------------------------
void detectBackend();
applyFactor(state.factor);
