/**
 * Line charts with Chart.js, registered piece by piece so the bundle keeps only what is
 * used. Colours come from the theme's chart variables; no animation (the panel redraws
 * on every page of data, and a chart must be readable at once).
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip } from 'chart.js';
import type { ChartSeries } from '../model/evals';
import { h } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Title);

const paletteVariables = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

function themeColour(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value === '' ? fallback : value;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly yMax?: number;
  /** What the chart says when there is nothing to draw. */
  readonly empty?: string;
  /** How the text alternative writes a value (default: one decimal). */
  readonly format?: (value: number) => string;
  /** How the value axis writes its ticks (default: Chart.js's own, which writes 1e-5 as "1.000000E-5"). */
  readonly tickFormat?: (value: number) => string;
}

/** A canvas with a line chart of the series; the figure's text alternative lists the values. */
export function lineChart(series: ChartSeries, options: LineChartOptions): { element: HTMLElement; chart: Chart | undefined } {
  const canvas = h('canvas', { role: 'img', 'aria-label': `${options.title}: ${describe(series, options.format ?? ((v) => v.toFixed(1)))}` });
  const figure = h('figure', { class: 'chart' }, h('div', { class: 'chart-box' }, canvas));
  if (series.datasets.length === 0) return { element: h('p', { class: 'muted' }, `${options.title}: ${options.empty ?? 'no scored results yet.'}`), chart: undefined };
  const tickFormat = options.tickFormat;
  const foreground = themeColour('--vscode-foreground', '#cccccc');
  const grid = themeColour('--vscode-panel-border', 'rgba(128,128,128,0.35)');
  const font = { family: themeColour('--vscode-font-family', 'sans-serif'), size: 11 };
  const chart = new Chart(canvas, {
    type: 'line',
    data: {
      labels: [...series.labels],
      datasets: series.datasets.map((d, i) => {
        const colour = themeColour(paletteVariables[i % paletteVariables.length] ?? '', '#3794ff');
        return { label: d.label, data: [...d.data], borderColor: colour, backgroundColor: colour, spanGaps: true, pointRadius: 3, borderWidth: 2 };
      }),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      color: foreground,
      font,
      plugins: {
        title: { display: true, text: options.title, color: foreground, font: { ...font, size: 12, weight: 'bold' } },
        legend: { labels: { color: foreground, font, boxWidth: 12 } },
        tooltip: { enabled: true },
      },
      scales: {
        x: { title: { display: true, text: options.xTitle, color: foreground, font }, ticks: { color: foreground, font }, grid: { color: grid } },
        y: { min: 0, ...(options.yMax !== undefined ? { max: options.yMax } : {}), title: { display: true, text: options.yTitle, color: foreground, font }, ticks: { color: foreground, font, ...(tickFormat !== undefined ? { callback: (value: string | number) => (Number(value) === 0 ? '0' : tickFormat(Number(value))) } : {}) }, grid: { color: grid } },
      },
    },
  });
  return { element: figure, chart };
}

function describe(series: ChartSeries, format: (value: number) => string): string {
  return series.datasets.map((d) => `${d.label}: ${d.data.map((v, i) => `${series.labels[i] ?? ''}=${v === null ? 'none' : format(v)}`).join(', ')}`).join('; ');
}
