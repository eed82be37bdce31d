import type { EpochPoint, FinalRow, TrainRequest } from './training.js';

/** A message from the page to the training worker. */
export interface TrainMessage {
  readonly type: 'train';
  readonly request: TrainRequest;
}

/** A message from the training worker to the page. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly points: EpochPoint[] }
  | { readonly type: 'done'; readonly rows: FinalRow[]; readonly seconds: number }
  | { readonly type: 'error'; readonly message: string };
