// Hover, completion, go to definition and rename through the real client and server,
// driven with the keyboard as a user would.
import assert from 'node:assert/strict';
import type { UiTest } from './index';

// test/fixtures/e2e-workspace/summarize.coi:
//   7: step summary {          14: step french {
//  16:   from summary           22:   expect summary contains "rain"
const STEP_SUMMARY = { line: 7, column: 6 };
const STEP_FRENCH = { line: 14, column: 6 };
const FROM_SUMMARY = { line: 16, column: 8 };

export const tests: UiTest[] = [
  {
    name: 'hover: on a step header shows the step, its position in the chain and what it reads',
    async run(wb) {
      await wb.openFile('summarize.coi');
      await wb.goTo(STEP_FRENCH.line, STEP_FRENCH.column);
      await wb.runCommand('Show or Focus Hover');
      const hover = wb.hoverWidget('french');
      await hover.waitFor({ state: 'visible' });
      const text = await hover.innerText();
      assert.match(text, /step french/i);
      assert.match(text, /step 2 of 2/);
      assert.match(text, /summary/, 'it says which step it reads');
    },
  },
  {
    name: 'completion: after `from` lists the earlier steps and the chain inputs',
    async run(wb) {
      await wb.openFile('summarize.coi');
      await wb.goTo(FROM_SUMMARY.line, 1);
      await wb.replaceCurrentLine('  from ');
      await wb.page.keyboard.press('Control+Space');
      const rows = wb.suggestRows();
      await rows.first().waitFor({ state: 'visible' });
      await rows.filter({ hasText: 'summary' }).first().waitFor({ state: 'visible' });
      const labels = await rows.locator('.label-name').allInnerTexts();
      assert.ok(labels.includes('summary'), `completion offers the step "summary": ${JSON.stringify(labels)}`);
      assert.ok(labels.includes('article'), `completion offers the input "article": ${JSON.stringify(labels)}`);
      assert.ok(!labels.includes('french'), `a step cannot read itself: ${JSON.stringify(labels)}`);
      await wb.page.keyboard.press('Escape');
      await wb.revertAndClose();
    },
  },
  {
    name: 'go to definition: F12 on a step reference moves the cursor to the step',
    async run(wb) {
      await wb.openFile('summarize.coi');
      await wb.goTo(FROM_SUMMARY.line, FROM_SUMMARY.column + 2);
      await wb.page.keyboard.press('F12');
      await wb.waitForCursor(STEP_SUMMARY.line, STEP_SUMMARY.column);
      assert.deepEqual(await wb.cursor(), STEP_SUMMARY);
    },
  },
  {
    name: 'rename: F2 on a step id renames the step and every reference',
    async run(wb) {
      await wb.openFile('summarize.coi');
      await wb.goTo(STEP_SUMMARY.line, STEP_SUMMARY.column);
      await wb.page.keyboard.press('F2');
      const input = wb.page.locator('.rename-box input, .rename-box .rename-input').first();
      await input.waitFor({ state: 'visible' });
      await input.fill('gist');
      await wb.page.keyboard.press('Enter');
      await wb.editor().locator('.view-line', { hasText: 'from gist' }).waitFor({ state: 'visible' });
      const text = await wb.visibleText();
      assert.match(text, /^step gist \{$/m);
      assert.match(text, /^ {2}from gist$/m);
      assert.match(text, /^ {2}expect gist contains "rain"$/m);
      // Comments and free text mention the word but are not references: left alone.
      assert.match(text, /^# A valid chain: summarize an article, then translate the summary into French\.$/m);
      assert.match(text, /^description "Two-sentence English summary of an article/m);
      await wb.revertAndClose();
    },
  },
];
