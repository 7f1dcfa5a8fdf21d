// Running chains as a user does: the CodeLens on the chain runs it with the tiny generated
// model and the inline previews appear under the steps; the Testing view lists the .coi
// tests and runs them.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyModel } from '../rig/tinyModel';
import type { UiTest } from './index';
import type { Workbench } from './workbench';

/** The tiny GGUF inside the test's workspace copy, and settings that select it (1 thread). */
function useTinyModel(workspace: string): void {
  const model = writeTinyModel(join(workspace, '.models', 'tiny.gguf'));
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'coi.defaultModel': model, 'coi.local.threads': 1 }, null, 2));
}

/**
 * Waits until the active editor shows at least `count` inline previews (decorations drawn
 * after the text, whose text lives in CSS `content`) starting with `prefix`; returns them all.
 */
async function waitForPreviews(wb: Workbench, prefix: string, count: number): Promise<string[]> {
  const editor = await wb.editor().elementHandle();
  const handle = await wb.page.waitForFunction(
    ({ root, want, atLeast }) => {
      if (!root) return undefined;
      const texts: string[] = [];
      for (const span of Array.from(root.querySelectorAll('.view-lines .view-line span span'))) {
        for (const pseudo of ['::before', '::after']) {
          const content = getComputedStyle(span, pseudo).content;
          if (content && content !== 'none' && content !== 'normal' && content !== '""') texts.push(content.replace(/^"|"$/g, '').replace(/\\"/g, '"').replace(/\u00a0/g, ' ').trim());
        }
      }
      return texts.filter((t) => t.startsWith(want)).length >= atLeast ? texts : undefined;
    },
    { root: editor, want: prefix, atLeast: count },
    { timeout: 60_000, polling: 200 },
  );
  return (await handle.jsonValue()) ?? [];
}

export const tests: UiTest[] = [
  {
    name: 'run: the Run CodeLens runs the chain with the tiny model and the inline previews show each step’s output',
    setup: useTinyModel,
    async run(wb) {
      await wb.openFile('run-demo.coi');
      // The status bar names the model runs of this file use (the coi.defaultModel setting).
      await wb.page.locator('.part.statusbar [id$="coi.model"]', { hasText: 'tiny.gguf' }).waitFor({ state: 'visible' });
      const run = wb.editor().locator('.codelens-decoration a', { hasText: /^\W*Run$/ }).first();
      await run.waitFor({ state: 'visible' });
      await run.click();
      // The extension asks which input values to use: those of a test block.
      const pick = wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Inputs of test "label is valid"' });
      await pick.waitFor({ state: 'visible' });
      await pick.click();

      const previews = await waitForPreviews(wb, '✓', 2);
      const ok = previews.filter((p) => p.startsWith('✓'));
      assert.equal(ok.length, 2, `a ✓ preview under each of the two steps: ${JSON.stringify(previews)}`);
      assert.ok(
        ok.some((p) => /^✓ (positive|negative)$/.test(p)),
        `the label step's preview is one of its labels: ${JSON.stringify(ok)}`,
      );

      // The hover on a step that ran shows its output with token counts.
      await wb.goTo(7, 6); // step summary {
      await wb.runCommand('Show or Focus Hover');
      await wb.hoverWidget(/Step\s+summary[\s\S]*output\s+tokens/).waitFor({ state: 'visible' });
      await wb.page.keyboard.press('Escape');

      // Editing the first step's instruction makes its preview and the one after it stale.
      await wb.goTo(8, 1);
      await wb.replaceCurrentLine('  instruction "Summarize the article in one word."');
      const stale = (await waitForPreviews(wb, '✓ (stale)', 2)).filter((p) => p.startsWith('✓ (stale)'));
      assert.equal(stale.length, 2, `both steps are stale after the edit: ${JSON.stringify(stale)}`);
      await wb.revertAndClose();
    },
  },
  {
    name: 'testing: the Testing view lists the .coi tests and runs them (one passes, one fails)',
    setup: useTinyModel,
    async run(wb) {
      await wb.openFile('run-demo.coi');
      // The extension's run features (its test controller among them) are registered once the
      // model item shows: only then does the palette list the Testing view's commands.
      await wb.page.locator('.part.statusbar [id$="coi.model"]', { hasText: 'tiny.gguf' }).waitFor({ state: 'visible' });
      await wb.runCommand('Testing: Focus on Test Explorer View');
      const view = wb.page.locator('.test-explorer');
      await view.waitFor({ state: 'visible' });
      const rows = view.locator('.monaco-list-row');
      // Expand the file's node so its tests are listed.
      const fileRow = rows.filter({ hasText: 'run-demo.coi' }).first();
      await fileRow.waitFor({ state: 'visible' });
      if ((await fileRow.getAttribute('aria-expanded')) === 'false') await fileRow.locator('.monaco-tl-twistie').click();
      const passing = rows.filter({ hasText: 'label is valid' }).first();
      const failing = rows.filter({ hasText: 'summary is exact' }).first();
      await passing.waitFor({ state: 'visible' });
      await failing.waitFor({ state: 'visible' });

      // Run the whole file from its row's inline action.
      await fileRow.hover();
      await fileRow.locator('.action-label[class*="testing-run"]').first().click();
      await passing.locator('.codicon-testing-passed-icon').waitFor({ state: 'visible', timeout: 90_000 });
      await failing.locator('.codicon-testing-failed-icon').waitFor({ state: 'visible', timeout: 90_000 });
    },
  },
];
