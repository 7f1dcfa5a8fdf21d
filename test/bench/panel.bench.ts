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
 *   and the first page of the table on screen), and to the next page.
 */
import { statSync } from 'node:fs';
import { computeReport } from '../../core/eval/report';
import { queryResults } from '../../core/eval/store';
import { maxEvalPageSize, type EvalPageQuery } from '../../webview/protocol';
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
        return { runs: [], chains: [], total: 0 };
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
  } finally {
    await harness.close();
  }
}
