/**
 * The panel's DOM helpers (webview/ui/dom.ts) on a blank page in headless Chromium, bundled
 * as the panel's bundle is, for the tests of dom.ts and the panel benchmark: `window.dom`
 * holds `h`, `patchChildren`, `replaceKeepingFocus` and `formerPatchChildren` (the algorithm
 * before it was made linear, formerPatch.ts).
 */
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from './paths';

export interface Dom {
  h(tag: string, attributes?: Record<string, string | number | boolean | undefined>, ...children: (Node | string)[]): HTMLElement;
  patchChildren(container: HTMLElement, ...children: Node[]): Node[];
  replaceKeepingFocus(container: HTMLElement, ...children: Node[]): void;
  formerPatchChildren(container: HTMLElement, ...children: Node[]): Node[];
}

let script: Promise<string> | undefined;

function bundle(): Promise<string> {
  script ??= build({
    stdin: {
      contents: "import { h, patchChildren, replaceKeepingFocus } from './webview/ui/dom'; import { formerPatchChildren } from './test/helpers/formerPatch'; Object.assign(window, { dom: { h, patchChildren, replaceKeepingFocus, formerPatchChildren } });",
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  }).then((result) => result.outputFiles[0]?.text ?? assert.fail('dom.ts bundled'));
  return script;
}

/** A blank page (`<div id="box">`) with `window.dom`. */
export async function domPage(browser: Browser): Promise<Page> {
  const content = await bundle();
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="box"></div></body></html>');
  await page.addScriptTag({ content });
  return page;
}
