/**
 * The side panel outside VS Code, for the benchmark: a static page with the panel's real
 * HTML and CSP (client/panel/html.ts) and the real dist/webview.js + .css, in headless
 * Chromium (playwright-core), where `acquireVsCodeApi` hands every request to `answer`
 * in this process. VS Code's own webview frame is not there.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelHtml } from '../../client/panel/html';
import { repoPath } from './paths';

export const chromiumPath = '/usr/bin/chromium';

export type Answer = (method: string, params: Record<string, unknown>) => unknown;

export interface PanelHarness {
  readonly browser: Browser;
  /** A fresh page with the panel loaded (the tab list on screen); `errors` collects console errors. */
  open(answer: Answer, viewport?: { width: number; height: number }, options?: { darkTheme?: boolean }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function startPanelHarness(): Promise<PanelHarness> {
  const server = await serve();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  return {
    browser,
    async open(answer, viewport = { width: 700, height: 900 }, options = {}) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.exposeFunction('__panelRequest', async (text: string) => {
        const message = JSON.parse(text) as { id: number; method: string; params: Record<string, unknown> };
        try {
          return JSON.stringify({ kind: 'response', id: message.id, ok: true, result: await answer(message.method, message.params) });
        } catch (error) {
          return JSON.stringify({ kind: 'response', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
        }
      });
      await page.addInitScript(() => {
        const w = window as unknown as { acquireVsCodeApi: () => unknown; __panelRequest: (t: string) => Promise<string> };
        // Kept across reloads of the page, as VS Code keeps a webview's state when it is hidden and shown again.
        w.acquireVsCodeApi = () => ({
          postMessage: (m: unknown) => void w.__panelRequest(JSON.stringify(m)).then((r) => window.postMessage(JSON.parse(r), '*')),
          getState: () => JSON.parse(sessionStorage.getItem('panel-state') ?? 'null') ?? undefined,
          setState: (s: unknown) => sessionStorage.setItem('panel-state', JSON.stringify(s)),
        });
      });
      if (options.darkTheme === true) {
        await page.addInitScript(() => {
          document.addEventListener('DOMContentLoaded', () => {
            const link = document.createElement('link');
            link.rel = 'stylesheet';
            link.href = '/theme.css';
            document.head.prepend(link);
          });
        });
      }
      await page.goto(`${origin}/`);
      await page.locator('[role=tablist]').waitFor();
      return { page, errors };
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}

function serve(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/') {
      const nonce = Buffer.from(String(Math.random())).toString('base64');
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(panelHtml({ cspSource: `http://${request.headers.host ?? ''}`, nonce, scriptUri: '/dist/webview.js', styleUri: '/dist/webview.css' }));
    } else if (url === '/dist/webview.js' || url === '/dist/webview.css') {
      response.writeHead(200, { 'content-type': url.endsWith('.js') ? 'text/javascript' : 'text/css' });
      response.end(readFileSync(repoPath(url.slice(1))));
    } else if (url === '/theme.css') {
      // Loaded by screenshots only (a <link>, allowed by the CSP's style-src): VS Code's Dark Modern variables.
      response.writeHead(200, { 'content-type': 'text/css' });
      response.end(readFileSync(repoPath('test', 'helpers', 'darkModern.css')));
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
