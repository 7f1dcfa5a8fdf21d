/**
 * client/run/previewText.ts: the one-line previews after step headers, the
 * readable run log of the output channel, and the plain message for a model
 * that is not on disk or could not be downloaded.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRecord, StepRunResult } from '../../core/runner/types';
import { abridged, composedHoverText, describeValue, hoverOutput, modelProblemOf, plainModelProblem, PREVIEW_CHARS, previewText, runLog, type StepPreview } from '../../client/run/previewText';

function step(overrides: Partial<StepRunResult> = {}): StepRunResult {
  return { id: 's1', index: 0, status: 'ok', cached: false, pinned: false, durationMs: 1200, promptTokens: 10, completionTokens: 5, definitionHash: 'h', ...overrides };
}

function record(steps: StepRunResult[], overrides: Partial<RunRecord> = {}): RunRecord {
  return { version: 1, id: 'r1', chain: 'demo', mode: 'stepwise', template: 'chat', backend: 'local', model: 'hf:org/repo/m.gguf', inputs: { text: 'hello' }, startedAt: '2026-01-01T00:00:00Z', durationMs: 1500, status: 'ok', steps, modelCalls: steps.length, ...overrides };
}

void describe('previewText', () => {
  const long = 'x'.repeat(300);
  const cases: { name: string; view: StepPreview; stale?: boolean; expected: string }[] = [
    { name: 'an output shows its first non-blank line', view: { status: 'ok', text: '\n\nFirst line\nsecond', result: step() }, expected: '  ✓ First line' },
    { name: 'a cached output is marked cached', view: { status: 'ok', text: 'out', result: step({ cached: true }) }, expected: '  ✓ (cached) out' },
    { name: 'an output cut at its token bound says so', view: { status: 'ok', text: 'out', result: step({ finishReason: 'length' }) }, expected: '  ✓ ⚠ cut at max_tokens out' },
    { name: "an output the provider's content filter cut says so", view: { status: 'ok', text: 'out', result: step({ finishReason: 'content-filter', warnings: ['cut'] }) }, expected: "  ✓ ⚠ cut by the provider's content filter out" },
    { name: 'an output a provider error cut says so', view: { status: 'ok', text: 'out', result: step({ finishReason: 'provider-error', warnings: ['cut'] }) }, expected: '  ✓ ⚠ cut short by a provider error out' },
    { name: 'a failure drops the repeated Step prefix', view: { status: 'failed', text: '', result: step({ status: 'failed', error: { code: 'backend', message: 'Step "s1": the server said no' } }) }, expected: '  ✗ the server said no' },
    { name: 'a pending step says a re-run is under way', view: { status: 'pending', text: 'old', result: step() }, expected: '  … pending (re-run under way)' },
    { name: 'a stale output is marked stale', view: { status: 'ok', text: 'out', result: step() }, stale: true, expected: '  ✓ (stale) out' },
  ];
  for (const c of cases) void test(c.name, () => assert.equal(previewText(c.view, c.stale ?? false), c.expected));

  void test('a long multi-line failure stays one line with an ellipsis', () => {
    const message = `Step "s1": ${long}\nStep "s2": more`;
    const text = previewText({ status: 'failed', text: '', result: step({ status: 'failed', error: { code: 'contract', message } }) }, false);
    assert.ok(!text.includes('\n'), text);
    assert.ok(text.endsWith('…'), text);
    assert.ok(text.length <= PREVIEW_CHARS + 4, `${text.length} characters`);
    assert.ok(!text.includes('Step "'), text);
  });
});

void describe('a step whose call stopped after the model had started answering (partialOutput)', () => {
  const timedOut = step({ status: 'failed', partialOutput: 'Once upon a time\nthere was', error: { code: 'backend', backendCode: 'timed-out', message: 'Step "s1": did not finish within 1 s' } });
  const cancelled = step({ status: 'cancelled', partialOutput: 'The storm', error: { code: 'cancelled', message: 'Step "s1" was cancelled.' } });

  void test('the preview shows the error, then the first line of what it streamed, marked partial', () => {
    assert.equal(previewText({ status: 'failed', text: 'Once upon a time\nthere was', result: timedOut }, false), '  ✗ did not finish within 1 s · partial output before the failure: Once upon a time');
    assert.equal(previewText({ status: 'cancelled', text: 'The storm', result: cancelled }, false), '  ⊘ was cancelled. · partial output before the cancellation: The storm');
    // Long on both sides: one line, each part cut.
    const long = step({ status: 'failed', partialOutput: 'y'.repeat(300), error: { code: 'backend', message: `Step "s1": ${'x'.repeat(300)}` } });
    const text = previewText({ status: 'failed', text: '', result: long }, false);
    assert.match(text, /^ {2}✗ x{39}… · partial output before the failure: y{39}…$/);
  });

  void test('the hover introduces it as partial, never as the output; an output or raw text is shown as before', () => {
    assert.deepEqual(hoverOutput({ status: 'failed', text: 'Once upon a time\nthere was', result: timedOut }), { text: 'Once upon a time\nthere was', heading: 'Partial output before the failure' });
    assert.deepEqual(hoverOutput({ status: 'cancelled', text: 'The storm', result: cancelled }), { text: 'The storm', heading: 'Partial output before the cancellation' });
    assert.deepEqual(hoverOutput({ status: 'ok', text: 'out', result: step({ output: 'out', rawOutput: 'out.' }) }), { text: 'out.' });
    assert.deepEqual(hoverOutput({ status: 'running', text: 'Once up' }), { text: 'Once up' });
  });

  void test('the run log shows it under its label, and a failed composed run its whole streamed text (no raw generation)', () => {
    const stepwise = runLog(record([timedOut], { status: 'failed' })).join('\n');
    assert.match(stepwise, /step s1: failed, 1\.20 s, 10\+5 tokens\n {4}partial output before the failure \(incomplete, never validated\):\n {8}Once upon a time\n {8}there was\n {4}✗ Step "s1": did not finish/);
    const composed = record([step({ status: 'failed', partialOutput: 'They prepared', error: { code: 'backend', message: 'The composed generation: did not finish within 1 s' } })], {
      mode: 'composed',
      status: 'failed',
      composed: { prompt: 'Do A and then B', partialOutput: 'Task 1 output and task 2 input: They prepared', cached: false, durationMs: 5, promptTokens: 0, completionTokens: 0 },
    });
    const lines = runLog(composed).join('\n');
    assert.match(lines, /composed generation, partial output before the failure \(incomplete, never validated\):\n {4}Task 1 output and task 2 input: They prepared/);
    assert.deepEqual(composedHoverText(composed), { text: 'Task 1 output and task 2 input: They prepared', heading: 'Composed generation, partial output before the failure' });
  });
});

void describe('abridged', () => {
  void test('keeps a short text as it is', () => assert.equal(abridged('a\nb'), 'a\nb'));
  void test('says how many lines it left out', () => assert.equal(abridged('1\n2\n3\n4', 2), '1\n2\n… (2 more lines)'));
  void test('never cuts an emoji in half', () => assert.equal(abridged('ab🌊cd', 12, 4), 'ab…'));
});

void describe('describeValue', () => {
  void test('a one-line value on one line', () => assert.equal(describeValue('text', 'hello'), '  text = hello'));
  void test('a multi-line value indented under its name, lines kept apart', () => assert.equal(describeValue('text', 'line one\nline two'), '  text:\n    line one\n    line two'));
});

void describe('runLog', () => {
  void test('shows the inputs, each step prompt and output, and the outcome', () => {
    const lines = runLog(record([step({ prompt: 'Summarize: hello', output: 'A greeting.' }), step({ id: 's2', index: 1, cached: true, output: 'Un saludo.', finishReason: 'length' })])).join('\n');
    assert.match(lines, /^Run r1 of demo \(stepwise, local hf:org\/repo\/m\.gguf\): ok, 2 model calls, 1500 ms/);
    assert.match(lines, /text = hello/);
    assert.match(lines, /step s1: ok, 1\.20 s, 10\+5 tokens\n {4}prompt:\n {8}Summarize: hello\n {4}output:\n {8}A greeting\./);
    assert.match(lines, /step s2: ok, cached, 10\+5 tokens, cut at max_tokens/);
    const filtered = runLog(record([step({ output: 'Half an', finishReason: 'content-filter' }), step({ id: 's2', index: 1, output: 'Un', finishReason: 'provider-error' })])).join('\n');
    assert.match(filtered, /step s1: ok, 1\.20 s, 10\+5 tokens, cut by the provider's content filter\n/);
    assert.match(filtered, /step s2: ok, 1\.20 s, 10\+5 tokens, cut short by a provider error\n/);
    assert.ok(!lines.includes('{'), 'no JSON dump');
  });

  void test('a failed composed run shows the raw generation and the error', () => {
    const failed = step({ status: 'failed', error: { code: 'missing-marker', message: 'Step "s1": the composed output cannot be split' } });
    const lines = runLog(record([failed], { mode: 'composed', status: 'failed', error: 'Step "s1": the composed output cannot be split', composed: { prompt: 'Do A and then B', rawOutput: 'gibberish without markers', cached: false, durationMs: 5, promptTokens: 3, completionTokens: 4 } })).join('\n');
    assert.match(lines, /composed generation:\n {4}gibberish without markers/);
    assert.match(lines, /✗ Step "s1": the composed output cannot be split/);
  });
});

void describe('modelProblemOf', () => {
  const failedWith = (message: string, backendCode = 'model-not-found'): RunRecord => record([step({ status: 'failed', error: { code: 'backend', backendCode, message } })], { status: 'failed' });
  void test('an offline download says the server could not be reached', () => {
    const text = modelProblemOf(failedWith('Step "s1": Could not resolve or download hf:org/repo/m.gguf: Failed to fetch manifest for resolve URI "hf:org/repo/m.gguf": TypeError: fetch failed'));
    assert.equal(text, 'The model hf:org/repo/m.gguf is not on disk and could not be downloaded: the server could not be reached (are you offline?).');
  });
  void test('a missing file names the file', () => assert.equal(modelProblemOf(failedWith('Step "s1": Model file not found: /m/x.gguf')), 'The model file /m/x.gguf does not exist.'));
  void test('a stalled download keeps its own message', () => {
    const stalled = 'Could not download https://x/m.gguf: it stalled: nothing more arrived for 30 s after 1.0 MB. Try again.';
    assert.equal(plainModelProblem(stalled, 'https://x/m.gguf'), stalled);
  });
  void test('other failures are not model problems', () => assert.equal(modelProblemOf(failedWith('Step "s1": rate limited', 'rate-limited')), undefined));
});
