/**
 * The training worker: loads the dataset, trains BCE, focal and the new factor side by side (training.ts)
 * and posts progress and the final metrics, so the page stays responsive.
 */
import type { TrainMessage, WorkerMessage } from './protocol.js';
import { DATASETS, prepareTask, trainAll } from './training.js';

/** The CSV files (Vite emits them as assets of the built site). */
const FILES: Record<string, URL> = {
  breast_cancer: new URL('../../data/breast_cancer.csv', import.meta.url),
  spambase: new URL('../../data/spambase.csv', import.meta.url),
};

const texts = new Map<string, Promise<string>>();

function csv(file: string): Promise<string> {
  let t = texts.get(file);
  if (t === undefined) {
    t = fetch(FILES[file]!).then((r) => {
      if (!r.ok) throw new Error(`fetching ${file}.csv: HTTP ${r.status}`);
      return r.text();
    });
    texts.set(file, t);
  }
  return t;
}

function post(m: WorkerMessage): void {
  self.postMessage(m);
}

self.onmessage = async (e: MessageEvent<TrainMessage>) => {
  const { request } = e.data;
  try {
    const t0 = performance.now();
    const task = prepareTask(request.dataset, await csv(DATASETS[request.dataset].file));
    const rows = trainAll(request, task, (points) => post({ type: 'progress', points }));
    post({ type: 'done', rows, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
};
