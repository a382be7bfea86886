/**
 * The equity chart of a backtest, drawn without a browser: a Vega-Lite spec compiled to Vega and
 * rendered to SVG by Vega's headless renderer (no canvas, no network), then written either as the SVG
 * itself or as a self-contained HTML page (inline SVG, stats table, no script) that opens anywhere.
 * vega 5 / vega-lite 5 are used because their CommonJS builds load under ts-jest and tsx; the 6.x
 * lines are ESM-only.
 */
import { writeFile } from 'node:fs/promises';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { minMaxIndices } from './downsample';
import { statsRows } from './report';
import type { BacktestStats, EquityCurve } from './types';

/** Points drawn at most; a longer curve is thinned by `minMaxIndices` (peaks and troughs kept). */
export const DEFAULT_MAX_POINTS = 2000;

export interface ChartPoint {
  /** Bar end, epoch ms. */
  ts: number;
  equity: number;
  /** Fall below the running peak (starting balance included), percent of the peak; ≤ 0. */
  drawdownPct: number;
}

/** The points to draw: drawdown from the full curve, then at most `maxPoints` of them. */
export function chartPoints(curve: EquityCurve, startingBalance: number, maxPoints = DEFAULT_MAX_POINTS): ChartPoint[] {
  const { ts, equity } = curve;
  const keep = minMaxIndices(equity, maxPoints);
  const out: ChartPoint[] = new Array(keep.length);
  let peak = startingBalance;
  let k = 0;
  for (let i = 0; i < equity.length && k < keep.length; i++) {
    const e = equity[i];
    if (e > peak) peak = e;
    if (keep[k] === i) {
      out[k++] = { ts: ts[i], equity: e, drawdownPct: peak > 0 ? ((e - peak) / peak) * 100 : 0 };
    }
  }
  return out;
}

export interface ChartOptions {
  title?: string;
  /** One line, or several (each drawn on its own line under the title). */
  subtitle?: string | string[];
  width?: number;
  startingBalance: number;
  maxPoints?: number;
}

/** Equity above, drawdown below, on one UTC time axis. */
export function equityChartSpec(points: ChartPoint[], opts: ChartOptions): TopLevelSpec {
  const width = opts.width ?? 960;
  const x = {
    field: 'ts',
    type: 'temporal' as const,
    scale: { type: 'utc' as const },
    title: 'time (UTC)',
    axis: { format: '%Y-%m-%d %H:%M', labelOverlap: true, tickCount: 8 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(opts.title ? { title: { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) } } : {}),
    data: { values: points },
    background: 'white',
    vconcat: [
      {
        width,
        height: 320,
        layer: [
          {
            mark: { type: 'line', strokeWidth: 1.25, color: '#1f6fb4' },
            encoding: {
              x: { ...x, axis: { ...x.axis, title: null, labels: false } },
              y: { field: 'equity', type: 'quantitative', scale: { zero: false }, title: 'equity' },
            },
          },
          {
            data: { values: [{ y: opts.startingBalance }] },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
        ],
      },
      {
        width,
        height: 110,
        mark: { type: 'area', color: '#c0392b', opacity: 0.45, line: { color: '#c0392b', strokeWidth: 0.75 } },
        encoding: {
          x,
          y: { field: 'drawdownPct', type: 'quantitative', title: 'drawdown %' },
        },
      },
    ],
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  };
}

/** Renders the chart to an SVG string; `points` is how many points were drawn. */
export async function renderEquitySvg(curve: EquityCurve, opts: ChartOptions): Promise<{ svg: string; points: number }> {
  const points = chartPoints(curve, opts.startingBalance, opts.maxPoints);
  const vgSpec = compile(equityChartSpec(points, opts)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return { svg: await view.toSVG(), points: points.length };
  } finally {
    view.finalize();
  }
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface ReportInput {
  equityCurve: EquityCurve;
  stats: BacktestStats;
  title?: string;
  subtitle?: string | string[];
  maxPoints?: number;
}

/** A self-contained HTML page: title, the inline SVG chart and the stats table. */
export function reportHtml(svg: string, input: ReportInput, points: number): string {
  const title = escapeHtml(input.title ?? 'Backtest');
  const rows = statsRows(input.stats)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const n = (x: number) => x.toLocaleString('en-US');
  const bars = input.equityCurve.ts.length;
  const drawn = points === bars ? `${n(points)} points, one per bar` : `${n(points)} points drawn of ${n(bars)} bars (lowest and highest of each run kept)`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="MAOTrade backtest">
<title>${title}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.sub { color: #666; margin: 0 0 4px; }
figure { margin: 16px 0 0; }
table { border-collapse: collapse; margin-top: 16px; }
th, td { padding: 4px 12px; border-bottom: 1px solid #eee; text-align: left; font-variant-numeric: tabular-nums; }
th { font-weight: 600; color: #444; }
</style>
</head>
<body>
<h1>${title}</h1>
${[input.subtitle ?? []].flat().map((line) => `<p class="sub">${escapeHtml(line)}</p>`).join('\n')}
<figure data-points="${points}" data-bars="${input.equityCurve.ts.length}">
${svg}
<figcaption>${escapeHtml(drawn)}</figcaption>
</figure>
<table>
${rows}
</table>
</body>
</html>
`;
}

/** Writes the chart: `.svg` → the SVG alone, anything else → the HTML report. */
export async function writeEquityReport(
  file: string,
  input: ReportInput,
): Promise<{ file: string; format: 'svg' | 'html'; points: number; bars: number }> {
  const format = file.toLowerCase().endsWith('.svg') ? 'svg' : 'html';
  const { svg, points } = await renderEquitySvg(input.equityCurve, {
    // The HTML page carries the title itself; a bare SVG needs its own.
    ...(format === 'svg' ? { title: input.title ?? 'Equity', subtitle: input.subtitle } : {}),
    startingBalance: input.stats.startingBalance,
    maxPoints: input.maxPoints,
  });
  await writeFile(file, format === 'svg' ? svg : reportHtml(svg, input, points));
  return { file, format, points, bars: input.equityCurve.ts.length };
}
