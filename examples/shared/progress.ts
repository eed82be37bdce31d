import cliProgress from 'cli-progress';

/** Where an example writes: its lines of text, whether it draws progress bars, and its output folder. */
export interface ExampleIO {
  /** Prints one line (default `console.log`). */
  log: (line: string) => void;
  /** Draw progress bars on stdout (default: when stdout is a terminal); otherwise one plain line per epoch. */
  tty: boolean;
  /** The folder plots and checkpoints are written to (default examples/out/), or null to write nothing. */
  outDir: string | null;
}

/** The defaults for a run from the command line. */
export function defaultIO(): ExampleIO {
  return {
    log: (line) => console.log(line),
    tty: process.stdout.isTTY === true,
    outDir: new URL('../out/', import.meta.url).pathname,
  };
}

/** Per-epoch numbers as text: `loss 0.1234  acc 0.965`. Keys ending in `loss` get 4 decimals, others 3. */
export function formatStats(stats: Readonly<Record<string, number>>): string {
  return Object.entries(stats)
    .map(([k, v]) => `${k} ${v.toFixed(k.endsWith('loss') ? 4 : 3)}`)
    .join('  ');
}

/**
 * Reports the epochs of one training run: a cli-progress bar with the latest numbers on a terminal, one plain
 * line per epoch elsewhere (CI, pipes, tests).
 */
export class EpochProgress {
  readonly #io: ExampleIO;
  readonly #title: string;
  readonly #epochs: number;
  readonly #bar: cliProgress.SingleBar | null;

  constructor(io: ExampleIO, title: string, epochs: number) {
    this.#io = io;
    this.#title = title;
    this.#epochs = epochs;
    this.#bar = io.tty
      ? new cliProgress.SingleBar(
          {
            format: `${title} {bar} {value}/{total} epochs | {stats}`,
            stream: process.stdout,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.#bar?.start(epochs, 0, { stats: '' });
  }

  /** Epoch `epoch` (1-based) is done; `stats` are its numbers. */
  update(epoch: number, stats: Readonly<Record<string, number>>): void {
    const text = formatStats(stats);
    if (this.#bar) this.#bar.update(epoch, { stats: text });
    else {
      const width = String(this.#epochs).length;
      this.#io.log(`${this.#title} epoch ${String(epoch).padStart(width)}/${this.#epochs}  ${text}`);
    }
  }

  /** Ends the bar (a no-op without one). */
  stop(): void {
    this.#bar?.stop();
  }
}
