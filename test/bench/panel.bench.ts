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
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { panelHtml } from '../../client/panel/html';
import { computeReport } from '../../core/eval/report';
import { queryResults } from '../../core/eval/store';
import { maxEvalPageSize, type EvalPageQuery } from '../../webview/protocol';
import { generatedStore } from '../helpers/evalStore';
import { repoPath } from '../helpers/paths';
import { formatSummary, summarize } from './stats';

const storeDir = '/bench/.coi-evals/generated';

export async function run(): Promise<void> {
  const js = statSync(repoPath('dist', 'webview.js')).size;
  const css = statSync(repoPath('dist', 'webview.css')).size;
  console.log(`bundle: dist/webview.js ${(js / 1024).toFixed(1)} KB + dist/webview.css ${(css / 1024).toFixed(1)} KB = ${((js + css) / 1024).toFixed(1)} KB minified (goal < 400 KB)`);

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

  const server = await serve();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const firstPaint: number[] = [];
    const evalRender: number[] = [];
    const nextPage: number[] = [];
    const reports: number[] = [];
    const violations: string[] = [];
    for (let i = 0; i < 6; i++) {
      const context = await browser.newContext({ viewport: { width: 600, height: 900 } });
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && violations.push(m.text()));
      await page.exposeFunction('__panelRequest', (text: string) => {
        const message = JSON.parse(text) as { id: number; method: string; params: Record<string, unknown> };
        try {
          return JSON.stringify({ kind: 'response', id: message.id, ok: true, result: answer(message.method, message.params) });
        } catch (error) {
          return JSON.stringify({ kind: 'response', id: message.id, ok: false, error: String(error) });
        }
      });
      await page.addInitScript(() => {
        const w = window as unknown as { acquireVsCodeApi: () => unknown; __panelRequest: (t: string) => Promise<string> };
        w.acquireVsCodeApi = () => ({
          postMessage: (m: unknown) => void w.__panelRequest(JSON.stringify(m)).then((r) => window.postMessage(JSON.parse(r), '*')),
          getState: () => undefined,
          setState: () => undefined,
        });
      });
      await page.goto(`${origin}/`);
      await page.locator('[role=tablist]').waitFor();
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
      await context.close();
    }
    console.log(formatSummary('first contentful paint of the panel', summarize(firstPaint)));
    console.log(formatSummary('Evaluations tab → 10,000-result evaluation rendered (summary, 2 charts, first page)', summarize(evalRender)));
    console.log(formatSummary('  of which computeReport in the extension (bootstrap intervals)', summarize(reports)));
    console.log(formatSummary('next page of 50 items', summarize(nextPage)));
    if (violations.length > 0) console.log(`console errors (CSP violations among them): ${violations.join(' | ')}`);
    else console.log('no console errors, no CSP violation');
  } finally {
    await browser.close();
    server.close();
  }
}

/** The harness page with the panel's CSP (as a header too), and dist/. */
function serve(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/') {
      const nonce = Math.random().toString(36).slice(2);
      const origin = `http://${request.headers.host ?? ''}`;
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(panelHtml({ cspSource: origin, nonce, scriptUri: '/dist/webview.js', styleUri: '/dist/webview.css' }));
    } else if (url === '/dist/webview.js' || url === '/dist/webview.css') {
      response.writeHead(200, { 'content-type': url.endsWith('.js') ? 'text/javascript' : 'text/css' });
      response.end(readFileSync(repoPath(url.slice(1))));
    } else if (url === '/favicon.ico') {
      response.writeHead(204);
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
