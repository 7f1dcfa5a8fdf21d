/**
 * core/eval and core/records after the audit: default store folders made exclusively, CSV cells a
 * spreadsheet would run as formulas, control characters in the table and in JSON errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatReport, formatStoreComparison } from '../../core/eval/format';
import { parseCsv } from '../../core/eval/items';
import { compareStores, computeReport } from '../../core/eval/report';
import { claimStoreFolder } from '../../core/eval/store';
import { parseJsonWithPosition } from '../../core/records/jsonPosition';
import { generatedStore } from '../helpers/evalStore';
import { tempDir } from '../helpers/tempDir';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff]/;

void describe('default store folders', () => {
  void test('two evaluations of one name in the same millisecond get two folders, made at once', () => {
    const parent = join(tempDir(), '.coi-evals');
    const now = new Date('2026-12-05T01:02:03.456Z');
    const first = claimStoreFolder(parent, 'inj', now);
    const second = claimStoreFolder(parent, 'inj', now);
    assert.equal(basename(first), '2026-12-05T01-02-03-456Z-inj');
    assert.equal(basename(second), '2026-12-05T01-02-03-456Z-inj-2');
    assert.ok(existsSync(first) && existsSync(second));
  });
});

void describe('report formats', () => {
  const store = (): ReturnType<typeof generatedStore> => {
    const contents = generatedStore(join(tempDir(), 'S\u001b]0;PWNED\u0007'), { items: 6, models: ['./=2+5*cmd.gguf', '@SUM(A1)', '-x', '+y'] });
    return { ...contents, config: { ...contents.config, name: 'run\u001b[2J\nname' } };
  };

  void test('CSV: a text cell a spreadsheet would run as a formula starts with an apostrophe; numbers stay numbers', () => {
    const csv = formatReport(computeReport(store()), 'csv');
    const cells = parseCsv(csv).records.flatMap((r) => r.fields);
    const formulas = cells.filter((c) => /^[=+@\t\r]/.test(c) || (/^-/.test(c) && !/^-\d/.test(c)));
    assert.deepEqual(formulas, [], 'no cell starts a formula');
    assert.ok(cells.includes("'./=2+5*cmd.gguf") === false && cells.some((c) => c.startsWith("'=2+5*cmd.gguf")), 'the label (its file name) kept, behind an apostrophe');
    assert.ok(cells.includes("'@SUM(A1)") && cells.includes("'-x") && cells.includes("'+y"));
    assert.ok(cells.some((c) => /^-\d/.test(c)), 'negative differences written as numbers');
    const compared = formatStoreComparison(compareStores(store(), store()), 'csv');
    assert.ok(parseCsv(compared).records.flatMap((r) => r.fields).includes("'@SUM(A1)"));
  });

  void test('the table and the comparison show control characters of names, labels and paths as escapes', () => {
    const table = formatReport(computeReport(store()), 'table');
    assert.doesNotMatch(table, RAW_CONTROL);
    assert.match(table, /Evaluation run\\u001b\[2J\\nname/);
    assert.match(table, /S\\u001b\]0;PWNED\\u0007/);
    for (const format of ['table', 'markdown'] as const) assert.doesNotMatch(formatStoreComparison(compareStores(store(), store()), format), RAW_CONTROL);
  });
});

void describe('JSON errors', () => {
  void test('the message never carries a control character, the bad text cut or not', () => {
    for (const text of [`T\u001b]0;PWNED\u0007 ${'more '.repeat(20)}`, 'T\u001b]0;X\u0007', '[1,\u001b]', `\ufeff{"a":1} x\u001b${'y'.repeat(40)}`]) {
      const parsed = parseJsonWithPosition(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.doesNotMatch(parsed.error.message, RAW_CONTROL, JSON.stringify(parsed.error.message));
    }
  });
});
