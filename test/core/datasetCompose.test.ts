/**
 * Composing chains from single tasks, the paper's way, against the project's
 * OpenAI-protocol test server (the real `openai` SDK; the tiny model writes the
 * later outputs, the summaries are told to the server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAIBackend } from '../../core/backends/openai/openaiBackend';
import { composeChains, exampleFrom, SUMMARY_PROMPT, type TrainingExample } from '../../core/dataset';
import { splitStepOutputs } from '../../core/records/markers';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';

const tasks: TrainingExample[] = [
  ['Summarize the passage in one sentence, keeping the main event.', 'Heavy rain flooded the main road on Monday, so the school closed early.', 'Flooding closed the school early.'],
  ['Translate the text into French, keeping its meaning.', 'The museum opens at nine.', 'Le musée ouvre à neuf heures.'],
  ['Rewrite the text in a formal tone suitable for a letter.', 'hey, the meeting is moved to friday', 'Please note that the meeting has been moved to Friday.'],
  ['Classify the sentiment of the review as positive or negative.', 'I loved the food.', 'positive'],
].map(([instruction, input, output], index) => exampleFrom(instruction!, input!, output!, { source: 'alpaca', file: 'tasks.jsonl', line: index + 1, index }));
const summaries = ['Summarize the passage', 'Translate into French.', 'Make the text formal', 'Classify the sentiment.'];

interface ChatBody {
  readonly messages: { role: string; content: string }[];
}

void describe('composeChains against the OpenAI test server', () => {
  let server: OpenAITestServer;
  const backend = (): OpenAIBackend => new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: 'sk-test', retry: { baseDelayMs: 10, maxDelayMs: 100 } });

  before(async () => {
    server = await startOpenAITestServer();
  });
  after(async () => {
    await server.close();
  });

  void it('makes chains of 2 and 3 steps from composable tasks, feeding each output to the next, with provenance', async () => {
    server.injectFaults(summaries.map((content) => ({ kind: 'reply', content })));
    const seen = server.requests.length;
    const progress: string[] = [];
    const result = await composeChains(tasks, {
      backend: backend(),
      generatedBy: 'openai:tiny',
      maxLength: 3,
      chainsPerLength: 3,
      seed: 7,
      params: { maxTokens: 12 },
      onProgress: (p) => progress.push(`${p.phase} ${p.done}/${p.total}`),
    });
    const requests = server.requests.slice(seen).map((r) => r.body as ChatBody);
    // The first four calls summarise the four instructions, in order, with our prompt.
    for (const [i, task] of tasks.entries()) assert.equal(requests[i]?.messages[0]?.content, `${SUMMARY_PROMPT}\n\nInstruction:\n${task.instruction}`);

    assert.ok(result.examples.length >= 4, `${result.examples.length} chains: ${result.notes.join(' ')}`);
    assert.deepEqual(new Set(result.examples.map((e) => e.steps.length)), new Set([2, 3]));
    for (const example of result.examples) {
      const parts = example.provenance.parts ?? [];
      assert.equal(example.provenance.source, 'composed');
      assert.equal(example.provenance.generatedBy, 'openai:tiny');
      assert.equal(parts.length, example.steps.length);
      const first = tasks[parts[0]!.index!]!;
      // The chain starts from the first task's own input and output.
      assert.equal(example.input, first.input);
      assert.equal(example.steps[0]?.output, first.output);
      assert.deepEqual(example.provenance.generatedSteps, example.steps.slice(1).map((_, i) => i + 2));
      // The short forms are the summaries, each ending with a period, joined as the paper does.
      assert.deepEqual(example.steps.map((s) => s.instruction), parts.map((p) => summaries[p.index!]!.replace(/([^.])$/, '$1.')));
      assert.equal(example.instruction, example.steps.map((s) => s.instruction).join(' and then '));
      // Classification gives a label: the static check never lets it feed a later step.
      assert.ok(!parts.slice(0, -1).some((p) => p.index === 3), `classifier not last in ${example.instruction}`);
      // The output is every step's output behind the paper's markers.
      const split = splitStepOutputs(example.output, example.steps.length);
      assert.ok(split.ok);
      assert.deepEqual(split.outputs, example.steps.map((s) => s.output));
      // Each later step was generated from the previous step's output.
      for (const [i, step] of example.steps.entries()) {
        if (i === 0) continue;
        const task = tasks[parts[i]!.index!]!;
        const call = requests.find((r) => r.messages.some((m) => m.role === 'user' && m.content === `${task.instruction}\n\nInput:\n${example.steps[i - 1]!.output}`));
        assert.ok(call !== undefined, `no generation call for step ${i + 1} of ${example.instruction}`);
        assert.notEqual(step.output, '');
      }
    }
    assert.ok(result.pairsComposable < result.pairsChecked, 'the classifier-first pairs are rejected');
    assert.equal(progress[0], 'summarise 0/4');
    assert.match(progress.at(-1) ?? '', /^compose (\d+)\/\1$/);
  });

  void it('the same seed gives the same chains', async () => {
    const run = async (): Promise<string[]> => {
      server.injectFaults(summaries.map((content) => ({ kind: 'reply', content })));
      const result = await composeChains(tasks, { backend: backend(), generatedBy: 'm', maxLength: 2, chainsPerLength: 3, seed: 3, params: { maxTokens: 6 } });
      return result.examples.map((e) => (e.provenance.parts ?? []).map((p) => p.index).join('>'));
    };
    const first = await run();
    assert.ok(first.length > 0);
    assert.deepEqual(await run(), first);
  });

  void it('cancelling stops at the next model call', async () => {
    const controller = new AbortController();
    const seen = server.requests.length;
    await assert.rejects(
      composeChains(tasks, {
        backend: backend(),
        generatedBy: 'm',
        maxLength: 2,
        signal: controller.signal,
        params: { maxTokens: 4 },
        onProgress: (p) => {
          if (p.done === 1) controller.abort();
        },
      }),
      (error: Error) => error.name === 'AbortError' || /cancel/i.test(error.message),
    );
    assert.equal(server.requests.length - seen, 1);
  });

  void it('a server that sends its headers and then nothing fails the build after the silence limit', { timeout: 30_000 }, async () => {
    server.injectFaults([{ kind: 'stall', afterHeaders: true }]);
    const quiet = new OpenAIBackend({ baseURL: server.baseURL, model: 'tiny', apiKey: 'sk-test', idleTimeoutMs: 300 });
    await assert.rejects(composeChains(tasks, { backend: quiet, generatedBy: 'm', maxLength: 2, params: { maxTokens: 4 } }), /sent nothing for 300 ms before starting its answer: it seems stalled/);
  });

  void it('with the model verdict, pairs the model calls incompatible are not composed', async () => {
    // Last test: the verdict calls are as many as the pairs looked at, so the queued "no" answers may outlast it.
    server.injectFaults([...summaries.map((content) => ({ kind: 'reply' as const, content })), ...Array.from({ length: 40 }, () => ({ kind: 'reply' as const, content: 'no' }))]);
    const result = await composeChains(tasks, { backend: backend(), generatedBy: 'm', maxLength: 2, chainsPerLength: 2, modelVerdict: true, params: { maxTokens: 4 } });
    assert.equal(result.examples.length, 0);
    assert.ok(result.pairsRejectedByModel > 0);
    assert.equal(result.pairsComposable, 0);
    assert.match(result.notes[0] ?? '', /0 of 2 chains of 2 steps/);
  });
});
