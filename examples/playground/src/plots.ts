import embed, { type Result, type VisualizationSpec } from 'vega-embed';

/** A point of a line chart: `value` of `series` at `x` (null is drawn as a gap), optionally per `panel`. */
export interface LinePoint {
  readonly x: number;
  readonly value: number | null;
  readonly series: string;
  readonly panel?: string;
}

/** What a line chart shows. */
export interface LineChart {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly points: readonly LinePoint[];
  /** One panel per distinct `panel` value, side by side. */
  readonly faceted: boolean;
  /** The series' order (and colours). */
  readonly series: readonly string[];
}

/** Fixed colours of the compared losses (the same in every chart); other series get vega's scheme. */
const COLOURS: readonly [RegExp, string][] = [
  [/^new factor$/, '#d62728'],
  [/^BCE$/, '#1f77b4'],
  [/^focal/, '#ff7f0e'],
];

function colour(series: string, i: number): string {
  const fixed = COLOURS.find(([re]) => re.test(series));
  return fixed ? fixed[1] : ['#2ca02c', '#9467bd', '#8c564b'][i % 3]!;
}

/** The vega-lite spec of a line chart. */
export function lineSpec(c: LineChart): VisualizationSpec {
  const width = c.faceted ? 170 : 300;
  const height = c.faceted ? 140 : 170;
  const encoding = {
    x: { field: 'x', type: 'quantitative', title: c.xTitle },
    y: { field: 'value', type: 'quantitative', title: c.yTitle },
    color: {
      field: 'series',
      type: 'nominal',
      title: null,
      scale: { domain: [...c.series], range: c.series.map(colour) },
    },
  } as const;
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    data: { values: c.points.map((p) => ({ ...p })) },
    config: { legend: { orient: 'bottom' }, view: { stroke: '#ddd' } },
  } as const;
  if (!c.faceted) {
    return { ...base, width, height, mark: { type: 'line', clip: true }, encoding } as VisualizationSpec;
  }
  return {
    ...base,
    facet: { column: { field: 'panel', type: 'nominal', title: null } },
    spec: { width, height, mark: { type: 'line', clip: true }, encoding },
    resolve: { scale: { y: 'shared' } },
  } as VisualizationSpec;
}

const views = new WeakMap<HTMLElement, Result>();

/** Draws (or redraws) a line chart into `el` as SVG; the previous view is finalized. */
export async function drawLineChart(el: HTMLElement, c: LineChart): Promise<void> {
  const result = await embed(el, lineSpec(c), { renderer: 'svg', actions: false });
  views.get(el)?.finalize();
  views.set(el, result);
}
