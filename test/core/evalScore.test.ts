import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactMatch, rougeL100, scoreRun } from '../../core/eval/score';
import { itemsFromRecords } from '../../core/eval/items';
import { rougeL } from '../../core/metrics/rouge';
import { joinStepOutputs } from '../../core/records/markers';
import { runChain } from '../../core/runner/run';
import type { ModelBackend } from '../../core/backends/types';
import { seededRandom } from '../helpers/random';

/** The definition: equal after trimming and collapsing whitespace. */
const plainExactMatch = (a: string, b: string): boolean => a.trim().replace(/\s+/g, ' ') === b.trim().replace(/\s+/g, ' ');

void test('exact match ignores leading, trailing and repeated whitespace, nothing else', () => {
  assert.equal(exactMatch('Paris', 'Paris'), true);
  assert.equal(exactMatch('  New   York\n', 'New York'), true);
  assert.equal(exactMatch('New\u00a0York', 'New York'), true);
  assert.equal(exactMatch('NewYork', 'New York'), false);
  assert.equal(exactMatch('new york', 'New York'), false);
  assert.equal(exactMatch('New York.', 'New York'), false);
  assert.equal(exactMatch('', '   '), true);
  assert.equal(exactMatch('a', ''), false);
});

void test('exact match equals the definition on random texts', () => {
  const random = seededRandom(5);
  const pieces = ['a', 'b', 'ab', 'A', '.', 'é', ' ', '  ', '\n', '\t', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u200b'];
  const text = (): string => Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)] ?? '').join('');
  for (let n = 0; n < 5000; n++) {
    const a = text();
    const b = random() < 0.3 ? a.replace(/\s+/g, (s) => (random() < 0.5 ? ' ' : s + '\n')) : text();
    assert.equal(exactMatch(a, b), plainExactMatch(a, b), JSON.stringify({ a, b }));
  }
});

/** A backend (in process: scoring is under test) answering each call with the next of `answers`. */
function scripted(answers: () => string): ModelBackend {
  return {
    identity: { backend: 'scripted', model: 'scripted' },
    generate: async (request) => {
      const text = answers();
      request.onText?.(text);
      return { text, promptTokens: 1, completionTokens: 1, durationMs: 0, stopReason: 'stop' };
    },
    dispose: async () => undefined,
  };
}

void test("every ROUGE-L of a run (steps, final, whole) equals rougeL on the texts themselves, for every model of an item, across a start-over of the token tables", async () => {
  const random = seededRandom(11);
  const pieces = ['Paris', 'river', 'rivers', 'running', 'the', 'a', 'İstanbul', 'KELVIN', 'ΣΟΦΟΣ', 'é', 'x1', '42', ' ', '  ', '\n', '.', ',', '-', ':', 'Task 2 output:'];
  const text = (): string => Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)] ?? '').join(random() < 0.5 ? ' ' : '');
  const records = Array.from({ length: 40 }, (_, i) => {
    const steps = 1 + (i % 3);
    const outputs = Array.from({ length: steps }, () => text().replace(/task/gi, 'job') || 'word');
    return { instruction: Array.from({ length: steps }, (_, s) => `Do thing ${s}.`).join(' and then '), input: text() || 'input', output: joinStepOutputs(outputs) };
  });
  const items = itemsFromRecords(JSON.stringify(records), 'json', { source: 'random.json' });
  const answers = (): string => (random() < 0.2 ? joinStepOutputs([text(), text()]) : text());
  for (const model of ['first', 'second', 'third']) {
    if (model === 'third') rougeL(Array.from({ length: 120_000 }, (_, i) => `w${i}q`).join(' '), 'w1q'); // fills the tables: they start over
    for (const item of items) {
      for (const mode of ['stepwise', 'composed'] as const) {
        const record = await runChain(item.chain, { backend: () => scripted(answers), inputs: item.inputs, mode, template: 'chat' });
        const result = await scoreRun(item, model, mode, record);
        const where = JSON.stringify({ model, item: item.id, mode });
        for (const step of result.steps) {
          if (step.reference === undefined) continue;
          assert.equal(step.rougeL, step.output === undefined || result.splitFailed ? 0 : rougeL100(step.reference, step.output), `${where} ${step.id}`);
        }
        if (result.final.reference !== undefined) assert.equal(result.final.rougeL, result.final.output === undefined ? 0 : rougeL100(result.final.reference, result.final.output), `${where} final`);
        const generated = mode === 'composed' ? (record.composed?.rawOutput ?? '') : joinStepOutputs(record.steps.map((s) => s.output ?? s.rawOutput ?? ''));
        assert.equal(result.whole?.rougeL, rougeL100(item.wholeReference ?? '', generated), `${where} whole`);
      }
    }
  }
});
