// The language contribution: a .coi file is recognised as CoI and coloured by the grammar.
import assert from 'node:assert/strict';
import type { UiTest } from './index';

export const tests: UiTest[] = [
  {
    name: 'opening a .coi file selects the CoI language and colours it with the grammar',
    async run(wb) {
      await wb.openFile('summarize.coi');
      await wb.statusItem('status.editor.mode').filter({ hasText: 'CoI chain' }).waitFor({ state: 'visible' });
      assert.equal(await wb.languageMode(), 'CoI chain');
      // The grammar gives `chain` (keyword) another token colour than the chain's name.
      const line = wb.editor().locator('.view-line', { hasText: 'chain summarize_then_translate' });
      await line.waitFor({ state: 'visible' });
      // The line is drawn first in one colour; the grammar's tokens arrive asynchronously
      // (the TextMate tokenizer runs in a worker): wait for them rather than read once.
      const classesOf = (): Promise<string[]> => line.locator('span > span').evaluateAll((spans) => spans.map((s) => s.className));
      const coloured = await line
        .elementHandle()
        .then((el) =>
          wb.page.waitForFunction((root) => root !== null && new Set(Array.from(root.querySelectorAll('span > span')).map((s) => s.className)).size >= 2, el, { polling: 100 }),
        )
        .then(
          () => true,
          () => false,
        );
      const classes = await classesOf();
      assert.ok(coloured && new Set(classes).size >= 2, `expected several token colours on the chain line, got ${JSON.stringify(classes)}`);
    },
  },
];
