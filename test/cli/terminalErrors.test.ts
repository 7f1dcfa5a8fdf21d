/**
 * Errors of models and servers reach the terminal with their control characters shown, not
 * obeyed: a model file's name in its usage error, a server's words in an HTTP error, as
 * `coi run`, `coi test` and `coi eval` print them (the bundled CLI in a child process).
 *
 * So does a model's reply that `coi run` streams to standard output: a reply may hold escape
 * sequences that would drive the terminal (OSC 52 writes the clipboard, OSC 0 sets the title,
 * CSI 2J clears the screen). On a terminal (a pseudo-terminal from `script`) they are shown
 * escaped, `\u001b`, as `coi test` shows them, even when a sequence is split across the
 * streamed chunks; piped to a file the text is kept exactly.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coiAsync, coiOnTerminal, terminalAvailable } from './cliProcess';
import { serverAndFolder } from './serverFolder';

const CHAIN = 'chain st\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n\ntest "greets" {\n  given x = "go"\n  expect a contains "hello"\n}\n';
/** Any control character but the line feeds and tabs that lay out the output. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

void describe('model and server errors on the terminal', () => {
  const fixture = serverAndFolder({ 'st.coi': CHAIN, 'rows.jsonl': '{"x":"a"}\n' });
  const env = { COI_MODEL: '', COI_CACHE_DIR: '' };
  const coi = (args: readonly string[]): ReturnType<typeof coiAsync> => coiAsync(args, { cwd: fixture.dir, env: { ...env, COI_CACHE_DIR: join(fixture.dir, 'cache') } });

  void test('a model file whose name holds an escape sequence and that is no GGUF: the usage error shows \\u001b (coi run and coi test)', async () => {
    const name = '\x1b[31mred.gguf';
    writeFileSync(join(fixture.dir, name), Buffer.concat([Buffer.from('\x1b[31m'), Buffer.alloc(64, 0x58)]));
    for (const args of [['run', 'st.coi', '--model', `./${name}`, '--threads', '1', '-i', 'hi', '--no-cache'], ['test', 'st.coi', '--model', `./${name}`, '--threads', '1', '--no-cache']]) {
      const result = await coi(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /\\u001b\[31mred\.gguf.*is not a GGUF file \(it does not begin with "GGUF"\)/);
      assert.doesNotMatch(result.stdout + result.stderr, CONTROL);
    }
  });

  void test("a server's error words with escape sequences: shown escaped by coi run, and by coi eval when it stops", async () => {
    fixture.server.setFaultChooser(() => ({ kind: 'status', status: 400, message: 'bad \x1b]0;pwned\x07 \x1b[2J request' }));
    try {
      const run = await coi(['run', 'st.coi', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '-i', 'hi', '--no-cache']);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /HTTP 400: "bad \\u001b\]0;pwned\\u0007 \\u001b\[2J request"/);
      assert.doesNotMatch(run.stderr, CONTROL);

      fixture.server.setFaultChooser(() => ({ kind: 'status', status: 401, message: 'no \x1b[2J entry' }));
      const evaluated = await coi(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '--no-cache', '--out', 'ev']);
      assert.equal(evaluated.code, 1, evaluated.stderr);
      assert.match(evaluated.stderr, /Stopped: openai:tiny cannot serve the evaluation: .*no \\u001b\[2J entry/);
      assert.doesNotMatch(evaluated.stderr, CONTROL);
    } finally {
      fixture.server.setFaultChooser(undefined);
    }
  });
});

/** The streamed chunks: ESC alone in one, the rest of its sequence in the next; a C1 CSI; BEL ending OSCs. */
const CHUNKS = ['Hi ', '\x1b', ']52;c;aGVsbG8=\x07', ' title \x1b]0;', 'PWNED\x07', ' clear \x1b[2J', ' c1 \u009b31m', ' tab\tend\nline two'];
const REPLY = CHUNKS.join('');
const SHOWN = 'Hi \\u001b]52;c;aGVsbG8=\\u0007 title \\u001b]0;PWNED\\u0007 clear \\u001b[2J c1 \\u009b31m tab\tend\nline two';

/** An event stream of `chunks`, one chat completion chunk each, as a server streams a reply. */
function eventStream(chunks: readonly string[]): string {
  const event = (choice: unknown): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'tiny', choices: [choice] })}\n\n`;
  return chunks.map((content) => event({ index: 0, delta: { content }, finish_reason: null })).join('') + event({ index: 0, delta: {}, finish_reason: 'stop' }) + 'data: [DONE]\n\n';
}

void describe('model output with escape sequences on standard output', { skip: terminalAvailable() ? false : "util-linux's script is not here (no pseudo-terminal)" }, () => {
  const fixture = serverAndFolder({ 'st.coi': CHAIN });
  before(() =>
    fixture.server.setFaultChooser(({ body }) =>
      (body as { stream?: boolean }).stream === true ? { kind: 'raw', contentType: 'text/event-stream', body: eventStream(CHUNKS) } : { kind: 'reply', content: REPLY },
    ),
  );
  const args = (more: readonly string[] = []): string[] => ['run', 'st.coi', '-i', 'x', '--model', 'openai:tiny', '--base-url', fixture.server.baseURL, '--no-cache', ...more];
  const options = (): { cwd: string; env: Record<string, string> } => ({ cwd: fixture.dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(fixture.dir, 'cache') } });

  void test('coi run on a terminal: every escape shown as \\u001b…, split ones too; line feeds and tabs kept', async () => {
    const r = await coiOnTerminal(args(), options());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${SHOWN}\n`);
    assert.doesNotMatch(r.stdout, CONTROL);
  });

  void test('coi run --mode composed on a terminal: the same', async () => {
    const r = await coiOnTerminal(args(['--mode', 'composed']), options());
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(SHOWN), r.stdout);
    assert.doesNotMatch(r.stdout, CONTROL);
  });

  void test('coi run --json on a terminal: no raw control character, and the JSON still holds the exact output', async () => {
    const r = await coiOnTerminal(args(['--json']), options());
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, CONTROL);
    const record = JSON.parse(r.stdout) as { steps: { output: string }[] };
    assert.equal(record.steps[0]?.output, REPLY);
  });

  void test('coi run piped (not a terminal): the exact text, escapes and all', async () => {
    const r = await coiAsync(args(), options());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${REPLY}\n`);
  });
});
