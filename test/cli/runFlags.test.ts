/**
 * What `coi run`'s flags and a chain's settings send to the model, as the OpenAI-protocol server
 * receives it (sampling per step and profile, pinned outputs), and the words `coi run` writes about
 * it. The bundled CLI in a child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type ChatBody, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';

void describe('coi run: what reaches the model', () => {
  let server: OpenAITestServer;
  let dir: string;
  /** The reply of the next requests; undefined: the tiny model answers. */
  let reply: string | undefined = 'Rain on Tuesday.';
  before(async () => {
    server = await startOpenAITestServer({ reply: () => reply, models: ['tiny', 'other'] });
    dir = tempDir();
  });
  after(async () => server.close());

  const coi = (args: readonly string[]): Promise<CliResult> => coiAsync(args, { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });
  const chatRequests = (from: number): ChatBody[] => server.chatRequests(from).map((r) => r.body as ChatBody);
  const userText = (body: ChatBody | undefined): string => body?.messages?.find((m) => m.role === 'user')?.content ?? '';
  const profile = (name: string, model: string, sampling: string): string => `model ${name} {\n  provider openai\n  base_url "${server.baseURL}"\n  model "${model}"\n${sampling}}\n\n`;

  void test("each step is sent its profile's sampling with its own keys over it; --profile changes the default of the steps that name none", async () => {
    writeFileSync(
      join(dir, 'sampling.coi'),
      'chain sampling\ninput article: text\n\n' +
        profile('api', 'tiny', '  temperature 0.3\n  top_p 0.9\n  max_tokens 50\n  seed 7\n  stop ["###"]\n') +
        profile('other', 'other', '  temperature 1.1\n  max_tokens 11\n') +
        'step summary {\n  instruction "Summarize the article."\n}\n\n' +
        'step title {\n  instruction "Give it a title."\n  model other\n  seed 99\n}\n\n' +
        'step louder {\n  instruction "Say it louder."\n  temperature 0.5\n  stop ["X"]\n}\n',
    );
    const start = server.requests.length;
    const run = await coi(['run', 'sampling.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache']);
    assert.equal(run.code, 0, run.stderr);
    const [summary, title, louder] = chatRequests(start);
    assert.deepEqual([summary?.model, summary?.temperature, summary?.top_p, summary?.max_tokens, summary?.seed, summary?.stop], ['tiny', 0.3, 0.9, 50, 7, ['###']]);
    assert.deepEqual([title?.model, title?.temperature, title?.max_tokens, title?.seed, title?.top_p], ['other', 1.1, 11, 99, undefined], "the step's profile, and its own seed");
    assert.deepEqual([louder?.model, louder?.temperature, louder?.stop, louder?.seed], ['tiny', 0.5, ['X'], 7], "the step's temperature and stop over the default profile's");

    const withProfile = server.requests.length;
    const other = await coi(['run', 'sampling.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache', '--profile', 'other', '--max-tokens', '5']);
    assert.equal(other.code, 0, other.stderr);
    const sent = chatRequests(withProfile);
    assert.deepEqual(
      sent.map((b) => [b.model, b.temperature, b.max_tokens, b.seed]),
      [
        ['other', 1.1, 5, undefined],
        ['other', 1.1, 5, 99],
        ['other', 0.5, 5, undefined],
      ],
    );
  });

  void test('--pin before --from feeds a list pin on as "- " lines; a pin at or after --from is a usage error, not a silently skipped generation', async () => {
    writeFileSync(
      join(dir, 'pins.coi'),
      'chain pins\ninput article: text\n\n' +
        profile('api', 'tiny', '') +
        'step facts {\n  instruction "List the key facts."\n  output list max_items=3\n}\n\n' +
        'step mood {\n  instruction "Say how it feels."\n  from article\n  output label [good, bad]\n}\n\n' +
        'step write {\n  instruction "Write a sentence from the facts and the mood."\n  from facts, mood\n}\n',
    );
    const start = server.requests.length;
    reply = 'good'; // mood's label; write takes any text
    const run = await coi(['run', 'pins.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache', '--pin', 'facts=["rain", "Tuesday"]', '--from', 'mood']);
    reply = 'Rain on Tuesday.';
    assert.equal(run.code, 0, run.stderr);
    const sent = chatRequests(start);
    assert.equal(sent.length, 2, 'the pinned step makes no request; mood and write are generated');
    assert.match(userText(sent[1]), /\[facts\]\n- rain\n- Tuesday\n\n\[mood\]\n/);

    for (const [pins, from, words] of [
      [['--pin', 'mood=good'], 'mood', /coi run: --pin mood: step 'mood' is at or after --from mood, which generates it afresh\. Pin only steps before 'mood'/],
      [['--pin', 'write=Done.', '--pin', 'mood=good'], 'facts', /coi run: --pin mood: steps 'mood', 'write' are at or after --from facts, which generates them afresh\./],
    ] as const) {
      const before = server.requests.length;
      const refused = await coi(['run', 'pins.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache', ...pins, '--from', from]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, words);
      assert.equal(server.requests.length, before, 'nothing is sent');
    }
    const composed = await coi(['run', 'pins.coi', '-i', 'Heavy rain on Tuesday.', '--mode', 'composed', '--pin', 'facts=rain', '--from', 'mood']);
    assert.equal(composed.code, 2, composed.stderr);
    assert.match(composed.stderr, /coi run: --mode composed with --pin and --from: A composed run generates the whole chain in one model call, so it cannot use pinned outputs \(facts\) or a re-run from "mood"/);

    // A pin past --to stands for a step this run does not reach: not refused, as without --from; a warning says it is not used.
    reply = 'good';
    const short = await coi(['run', 'pins.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache', '--pin', 'write=Done.', '--from', 'facts', '--to', 'mood']);
    reply = 'Rain on Tuesday.';
    assert.equal(short.code, 0, short.stderr);
    assert.match(short.stderr, /coi run: warning: --pin write: step 'write' comes after --to mood, so the run does not reach it; the pin is not used\.\n/);
  });

  void describe('the inputs a run needs: those read by the steps it generates', () => {
    // facts reads article (the first input), mood reads notes; extra is read by no step (COI207).
    const chain =
      'chain needs\ninput article: text\ninput notes: text\ninput extra: text\n\n' +
      'step facts {\n  instruction "List the key facts."\n}\n\n' +
      'step mood {\n  instruction "Say how it feels."\n  from notes\n  output label [good, bad]\n}\n\n' +
      'step write {\n  instruction "Write a sentence from the facts and the mood."\n  from facts, mood\n}\n';
    before(() => writeFileSync(join(dir, 'needs.coi'), chain.replace('\n\n', `\n\n${profile('api', 'tiny', '')}`)));
    const article = ['-i', 'article=Heavy rain on Tuesday.'];

    void test('an input only pinned steps read is not required: with --to, for a whole run; with --from the steps before it still need theirs', async () => {
      const start = server.requests.length;
      const upTo = await coi(['run', 'needs.coi', ...article, '--no-cache', '--pin', 'mood=good', '--to', 'mood']);
      assert.equal(upTo.code, 0, upTo.stderr);
      assert.deepEqual(chatRequests(start).length, 1, 'facts alone is generated');

      const whole = server.requests.length;
      const all = await coi(['run', 'needs.coi', ...article, '--no-cache', '--pin', 'mood=good', '--json']);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual((JSON.parse(all.stdout) as { inputs: Record<string, string> }).inputs, { article: 'Heavy rain on Tuesday.' }, 'notes, not given, is no input of the run');
      const sent = chatRequests(whole);
      assert.equal(sent.length, 2, 'facts and write are generated');
      assert.match(userText(sent[1]), /\[mood\]\ngood$/);

      // Before --from, facts comes from the step cache, keyed on its prompt (the article), or is generated: the article is still needed.
      const fromWrite = await coi(['run', 'needs.coi', '--pin', 'mood=good', '--from', 'write']);
      assert.equal(fromWrite.code, 2, fromWrite.stderr);
      assert.match(fromWrite.stderr, /coi run: Missing chain input article: give --input article=\.\.\./);
      const withArticle = await coi(['run', 'needs.coi', ...article, '--pin', 'mood=good', '--from', 'write']);
      assert.equal(withArticle.code, 0, withArticle.stderr);
    });

    void test('a pin past --to is neither checked against its contract nor used: one warning line, and the run goes on', async () => {
      const start = server.requests.length;
      const run = await coi(['run', 'needs.coi', ...article, '--no-cache', '--to', 'facts', '--pin', 'write=Done.', '--pin', 'mood=meh', '--json']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /^coi run: warning: --pin mood: steps 'mood', 'write' come after --to facts, so the run does not reach them; the pins are not used\.$/m);
      assert.doesNotMatch(run.stderr, /label|contract/, 'mood\'s pin "meh" (no label of it) is not read');
      const record = JSON.parse(run.stdout) as { steps: { id: string; status: string; pinned: boolean }[] };
      assert.deepEqual(record.steps.map((s) => [s.status, s.pinned]), [['ok', false], ['skipped', false], ['skipped', false]]);
      assert.equal(chatRequests(start).length, 1);
      // Up to mood, its pin is read: a value outside the label is refused (exit 2), nothing sent.
      const reached = server.requests.length;
      const refused = await coi(['run', 'needs.coi', ...article, '-i', 'notes=A wet week.', '--no-cache', '--to', 'mood', '--pin', 'mood=meh']);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /The pinned output of step "mood"/);
      assert.equal(server.requests.length, reached);
    });

    void test('an input that no step reads is not required, nor in the record, nor in a composed prompt', async () => {
      reply = 'good';
      const run = await coi(['run', 'needs.coi', ...article, '-i', 'notes=A wet week.', '--no-cache', '--json']);
      const composedFrom = server.requests.length;
      const composed = await coi(['run', 'needs.coi', ...article, '-i', 'notes=A wet week.', '-i', 'extra=Unread words.', '--mode', 'composed', '--no-cache']);
      reply = 'Rain on Tuesday.';
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual((JSON.parse(run.stdout) as { inputs: Record<string, string> }).inputs, { article: 'Heavy rain on Tuesday.', notes: 'A wet week.' });
      assert.notEqual(composed.code, 2, composed.stderr);
      const prompt = userText(chatRequests(composedFrom)[0]);
      assert.match(prompt, /\[article\]\nHeavy rain on Tuesday\.\n\n\[notes\]\nA wet week\.$/);
      assert.doesNotMatch(prompt, /Unread words|\[extra\]/);
    });
  });

  void test('a one-token output is said as "1 token", in the step line and in the warning of an output cut at its bound', async () => {
    writeFileSync(join(dir, 'one.coi'), 'chain one\ninput article: text\n\n' + profile('api', 'tiny', '') + 'step mood {\n  instruction "Say how it feels."\n}\n');
    reply = 'good';
    const first = await coi(['run', 'one.coi', '-i', 'Heavy rain on Tuesday.']);
    const cached = await coi(['run', 'one.coi', '-i', 'Heavy rain on Tuesday.']);
    reply = undefined; // the tiny model, stopped at its bound
    const cut = await coi(['run', 'one.coi', '-i', 'Heavy rain on Tuesday.', '--no-cache', '--max-tokens', '1']);
    reply = 'Rain on Tuesday.';
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /✓ mood \(\d+ ms, 1 token\)\n/);
    assert.match(cached.stderr, /✓ mood \(cached, 1 token\)\n/);
    assert.equal(cut.code, 0, cut.stderr);
    assert.match(cut.stderr, /⚠ mood: the output was cut at 1 token \(finish reason: length\)/);
  });
});
