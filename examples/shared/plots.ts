import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ExampleIO } from './progress.js';

const SIZE = { width: 420, height: 320 };

/** Compiles a Vega-Lite spec with vega-lite and renders it to SVG text with vega's headless view (no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `spec` to `<io.outDir>/<file>`; returns the path written, or null when `io.outDir` is null. */
export async function writePlot(io: ExampleIO, file: string, spec: TopLevelSpec): Promise<string | null> {
  if (io.outDir === null) return null;
  await mkdir(io.outDir, { recursive: true });
  const path = join(io.outDir, file);
  await writeFile(path, await renderSvg(spec));
  return path;
}

/** One named series of a line chart. */
export interface Series {
  /** The legend entry (the colour). */
  name: string;
  /** A second legend (the dash pattern), e.g. 'train' / 'test' for curves of the same model. */
  style?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

interface Point {
  series: string;
  style: string;
  x: number;
  y: number;
  /** The point's position in its series: lines are drawn in this order, not sorted by x. */
  i: number;
}

function points(series: readonly Series[]): Point[] {
  return series.flatMap((s) =>
    Array.from(s.x, (x, i) => ({ series: s.name, style: s.style ?? '', x, y: s.y[i]!, i })),
  );
}

/** What {@link lineChart} draws besides the series. */
export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Both axes on [0, 1] (ROC and PR curves). */
  unitSquare?: boolean;
  /** A log-scaled y axis (loss curves). */
  logY?: boolean;
  /** `'step-after'` for precision-recall curves; straight segments by default. */
  interpolate?: 'linear' | 'step-after';
  /** A dashed reference line through these two points (the chance diagonal of a ROC plot). */
  reference?: [[number, number], [number, number]];
  /** Where the legend goes: inside the plot's lower right or lower left corner, or on the right (default). */
  legend?: 'bottom-right' | 'bottom-left' | 'right';
}

/** A multi-series line chart: one colour per series, drawn in data order. */
export function lineChart(series: readonly Series[], o: LineChartOptions): TopLevelSpec {
  const domain = o.unitSquare ? { domain: [0, 1] } : {};
  const line = {
    data: { values: points(series) },
    mark: { type: 'line' as const, interpolate: o.interpolate ?? 'linear', strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative' as const, title: o.xTitle, scale: domain },
      y: {
        field: 'y',
        type: 'quantitative' as const,
        title: o.yTitle,
        scale: o.logY ? { type: 'log' as const } : domain,
      },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: null,
        sort: [...new Set(series.map((s) => s.name))],
        legend: { orient: o.legend ?? 'right', labelLimit: 400, fillColor: 'white', padding: 4 },
      },
      ...(series.some((s) => s.style !== undefined)
        ? {
            strokeDash: {
              field: 'style',
              type: 'nominal' as const,
              title: null,
              sort: [...new Set(series.map((s) => s.style ?? ''))],
              legend: { orient: o.legend ?? 'right', fillColor: 'white', padding: 4 },
            },
          }
        : {}),
      order: { field: 'i', type: 'quantitative' as const },
    },
  };
  const layers: TopLevelSpec[] = [];
  if (o.reference) {
    const [[x0, y0], [x1, y1]] = o.reference;
    layers.push({
      data: { values: [{ x: x0, y: y0, x2: x1, y2: y1 }] },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        x2: { field: 'x2' },
        y2: { field: 'y2' },
      },
    } as TopLevelSpec);
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    ...SIZE,
    background: 'white',
    layer: [line, ...layers],
  } as TopLevelSpec;
}

/** A confusion-matrix heat map with the counts written in the cells; rows are true labels. */
export function confusionChart(
  matrix: readonly (readonly number[])[],
  labels: readonly string[],
  title: string,
) {
  const values = matrix.flatMap((row, i) =>
    row.map((count, j) => ({ truth: labels[i]!, predicted: labels[j]!, count })),
  );
  const max = Math.max(...values.map((v) => v.count));
  const axis = (field: string, t: string) => ({
    field,
    type: 'ordinal' as const,
    title: t,
    sort: [...labels],
    axis: { labelAngle: 0 },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: 360,
    background: 'white',
    data: { values },
    encoding: { x: axis('predicted', 'predicted label'), y: axis('truth', 'true label') },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'count',
            type: 'quantitative',
            scale: { scheme: 'blues', type: 'sqrt' },
            title: 'count',
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 3}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as TopLevelSpec;
}
