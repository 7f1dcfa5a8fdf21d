/**
 * Side-panel benchmark (issue 10), in headless Chromium (/usr/bin/chromium through
 * playwright-core) with a static harness page: the panel's real HTML and CSP
 * (client/panel/html.ts), the real dist/webview.js + dist/webview.css, and an
 * `acquireVsCodeApi` whose requests are answered in this process by the same core
 * functions the extension uses (computeReport, queryResults) over a generated store of
 * 10,000 results. Not measured here: VS Code's own webview start-up.
 * - bundle size, minified JS + CSS (goal < 400 KB);
 * - time to first paint (navigation → first-contentful-paint of the panel);
 * - time to a rendered 10,000-result evaluation (click on the tab → summary, both charts
 *   and the first page of the table on screen), and to the next page;
 * - a run list of 500 rows redrawn when every row changed (runsChanged → the 500 new rows
 *   on screen), and `patchChildren` (webview/ui/dom.ts) alone on such rows, beside the
 *   former algorithm (test/helpers/formerPatch.ts), which compared each new row with every
 *   old one (250,000 comparisons for 500 changed rows); the new one looks each row up by its HTML.
 */
import { statSync } from 'node:fs';
import { computeReport } from '../../core/eval/report';
import { queryResults } from '../../core/eval/store';
import { maxEvalPageSize, type EvalPageQuery, type RunRow } from '../../webview/protocol';
import { domPage, type Dom } from '../helpers/domPage';
import { generatedStore } from '../helpers/evalStore';
import { startPanelHarness } from '../helpers/panelHarness';
import { repoPath } from '../helpers/paths';
import { formatSummary, summarize, verdict } from './stats';

const storeDir = '/bench/.coi-evals/generated';

export async function run(): Promise<void> {
  const js = statSync(repoPath('dist', 'webview.js')).size;
  const css = statSync(repoPath('dist', 'webview.css')).size;
  console.log(`bundle: dist/webview.js ${(js / 1024).toFixed(1)} KB + dist/webview.css ${(css / 1024).toFixed(1)} KB = ${((js + css) / 1024).toFixed(1)} KB minified (goal < 400 KB: ${verdict(js + css < 400 * 1024)})`);

  const store = generatedStore(storeDir, { items: 5000, models: ['base.gguf', 'tuned.gguf'] });
  let reportMs = 0;
  const answer = (method: string, params: Record<string, unknown>): unknown => {
    switch (method) {
      case 'listRuns':
        return { runs: [], chains: [], total: 0, seq: params.seq };
      case 'listEvals':
        return [{ store: storeDir, name: 'generated', createdAt: store.config.createdAt, items: 5000, models: ['base.gguf', 'tuned.gguf'], modes: ['stepwise'] }];
      case 'openEval': {
        const started = performance.now();
        const report = computeReport(store);
        reportMs = performance.now() - started;
        return { store: storeDir, report, models: store.config.models.map((m) => ({ key: m.key, label: m.label })), modes: store.config.modes };
      }
      case 'evalPage': {
        const q = params as unknown as EvalPageQuery;
        return queryResults(store.results, { ...q, limit: Math.min(maxEvalPageSize, q.limit) });
      }
      default:
        throw new Error(`not in the harness: ${method}`);
    }
  };

  const harness = await startPanelHarness();
  try {
    const firstPaint: number[] = [];
    const evalRender: number[] = [];
    const nextPage: number[] = [];
    const reports: number[] = [];
    const violations: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { page, errors } = await harness.open(answer, { width: 600, height: 900 });
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
      firstPaint.push(fcp);
      const started = performance.now();
      await page.locator('[role=tab]', { hasText: 'Evaluations' }).click();
      await page.locator('tr[data-item]').nth(49).waitFor();
      await page.locator('canvas').nth(1).waitFor();
      evalRender.push(performance.now() - started);
      reports.push(reportMs);
      const pageStarted = performance.now();
      await page.locator('vscode-button', { hasText: 'Next' }).click();
      await page.locator('.page-info', { hasText: '51–100 of 10,000' }).waitFor();
      nextPage.push(performance.now() - pageStarted);
      violations.push(...errors);
      await page.context().close();
    }
    console.log(formatSummary('first contentful paint of the panel', summarize(firstPaint)));
    console.log(formatSummary('Evaluations tab → 10,000-result evaluation rendered (summary, 2 charts, first page)', summarize(evalRender)));
    console.log(formatSummary('  of which computeReport in the extension (bootstrap intervals)', summarize(reports)));
    console.log(formatSummary('next page of 50 items', summarize(nextPage)));
    if (violations.length > 0) console.log(`console errors (CSP violations among them): ${violations.join(' | ')}`);
    else console.log('no console errors, no CSP violation');
    await changedRunRows(harness);
  } finally {
    await harness.close();
  }
}

/** 500 recorded runs, every row changed on each update (its model's name): the time from runsChanged to the new rows on screen. */
async function changedRunRows(harness: Awaited<ReturnType<typeof startPanelHarness>>): Promise<void> {
  const count = 500;
  let round = 0;
  const rows = (): RunRow[] => Array.from({ length: count }, (_, i) => ({ id: `run-${i}`, chain: 'bench_chain', mode: 'stepwise', model: `model-${round}.gguf`, startedAt: new Date(Date.UTC(2026, 0, 1) + (count - i) * 60_000).toISOString(), status: 'ok', durationMs: 1000 + i, origin: 'workspace' }));
  const { page, errors } = await harness.open((method, params) => {
    if (method !== 'listRuns') throw new Error(`not in the harness: ${method}`);
    return { runs: rows(), chains: ['bench_chain'], total: count, seq: params.seq };
  });
  const last = page.locator(`tr[data-run="run-${count - 1}"]`);
  await last.filter({ hasText: 'model-0.gguf' }).waitFor();
  const redraws: number[] = [];
  for (let i = 0; i < 12; i++) {
    round++;
    const started = performance.now();
    await page.evaluate(() => window.postMessage({ kind: 'event', event: 'runsChanged' }, '*'));
    await last.filter({ hasText: `model-${round}.gguf` }).waitFor();
    redraws.push(performance.now() - started);
  }
  if ((await page.locator('tr[data-run]').count()) !== count) throw new Error('the run list lost rows');
  console.log(formatSummary(`Runs tab: ${count} run rows that all changed, redrawn (runsChanged → rows on screen)`, summarize(redraws.slice(2))));
  if (errors.length > 0) console.log(`console errors: ${errors.join(' | ')}`);
  await page.context().close();

  // patchChildren alone, on rows built as the Runs tab builds them, every row changed each time.
  const blank = await domPage(harness.browser);
  const timings = await blank.evaluate((rowCount) => {
    const { dom } = window as unknown as { dom: Dom };
    const time = (patch: Dom['patchChildren']): number[] => {
      const body = document.createElement('tbody');
      document.body.append(document.createElement('table'));
      document.querySelector('table')?.replaceChildren(body);
      const samples: number[] = [];
      for (let round = 0; round < 32; round++) {
        const rows = Array.from({ length: rowCount }, (_, i) =>
          dom.h('tr', { 'data-run': `run-${i}` }, dom.h('td', {}, dom.h('span', { class: 'status status-ok', 'aria-label': 'ok' }, '✓')), dom.h('td', {}, dom.h('a', { href: '#', class: 'link', 'aria-label': `Open run of bench_chain ${i}` }, 'bench_chain')), dom.h('td', { class: 'wide-only' }, 'stepwise'), dom.h('td', { class: 'ellipsis wide-only', title: `model-${round}.gguf` }, `model-${round}.gguf`), dom.h('td', {}, `1/1/2026, ${i}`), dom.h('td', { class: 'wide-only' }, `${i} ms`), dom.h('td', {}, dom.h('vscode-button', { secondary: true }, 'Compare…'))),
        );
        const started = performance.now();
        patch(body, ...rows);
        if (round >= 2) samples.push(performance.now() - started);
      }
      return samples;
    };
    return { linear: time(dom.patchChildren), former: time(dom.formerPatchChildren) };
  }, count);
  // The minimum too: on a shared machine the median carries other processes' load.
  const withMin = (label: string, samples: number[]): string => {
    const summary = summarize(samples);
    return `${formatSummary(label, summary)}, min ${summary.minMs.toFixed(2)} ms`;
  };
  console.log(withMin(`patchChildren: ${count} changed run rows`, timings.linear));
  console.log(withMin('  the former algorithm (findIndex from the last match) on the same rows', timings.former));
  await blank.close();
}
