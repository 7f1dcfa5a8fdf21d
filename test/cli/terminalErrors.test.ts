/**
 * Errors of models and servers reach the terminal with their control characters shown, not
 * obeyed: a GGUF file's first bytes in a load error, a server's words in an HTTP error, as
 * `coi run`, `coi test` and `coi eval` print them (the bundled CLI in a child process).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';

const CHAIN = 'chain st\ninput x: text\n\nstep a {\n  instruction "Say hello."\n}\n\ntest "greets" {\n  given x = "go"\n  expect a contains "hello"\n}\n';
/** Any control character but the line feeds and tabs that lay out the output. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

void describe('model and server errors on the terminal', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'Hello.' });
    dir = tempDir();
    writeFileSync(join(dir, 'st.coi'), CHAIN);
    writeFileSync(join(dir, 'rows.jsonl'), '{"x":"a"}\n');
  });
  after(async () => server.close());
  const env = { COI_MODEL: '', COI_CACHE_DIR: '' };
  const coi = (args: readonly string[]): ReturnType<typeof coiAsync> => coiAsync(args, { cwd: dir, env: { ...env, COI_CACHE_DIR: join(dir, 'cache') } });

  void test('a GGUF file that starts with an escape sequence: its load error shows \\u001b (coi run and coi test)', async () => {
    writeFileSync(join(dir, 'esc.gguf'), Buffer.concat([Buffer.from('\x1b[31m'), Buffer.alloc(64, 0x58)]));
    const run = await coi(['run', 'st.coi', '--model', './esc.gguf', '--threads', '1', '-i', 'hi', '--no-cache']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /✗ Step "a": Could not load the GGUF model .*esc\.gguf: Invalid GGUF magic\. Expected "GGUF" but got "\\u001b\[31"/);
    assert.match(run.stderr, /\nFailed: Step "a": Could not load the GGUF model .* got "\\u001b\[31"/);
    assert.doesNotMatch(run.stderr, CONTROL);
    const tested = await coi(['test', 'st.coi', '--model', './esc.gguf', '--threads', '1', '--no-cache']);
    assert.equal(tested.code, 1, tested.stderr);
    assert.match(tested.stdout, /error: Step "a": Could not load the GGUF model .* got "\\u001b\[31"/);
    assert.doesNotMatch(tested.stdout + tested.stderr, CONTROL);
  });

  void test("a server's error words with escape sequences: shown escaped by coi run, and by coi eval when it stops", async () => {
    server.setFaultChooser(() => ({ kind: 'status', status: 400, message: 'bad \x1b]0;pwned\x07 \x1b[2J request' }));
    try {
      const run = await coi(['run', 'st.coi', '--model', 'openai:tiny', '--base-url', server.baseURL, '-i', 'hi', '--no-cache']);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /HTTP 400: bad \\u001b\]0;pwned\\u0007 \\u001b\[2J request/);
      assert.doesNotMatch(run.stderr, CONTROL);

      server.setFaultChooser(() => ({ kind: 'status', status: 401, message: 'no \x1b[2J entry' }));
      const evaluated = await coi(['eval', 'st.coi', '--dataset', 'rows.jsonl', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache', '--out', 'ev']);
      assert.equal(evaluated.code, 1, evaluated.stderr);
      assert.match(evaluated.stderr, /Stopped: openai:tiny cannot serve the evaluation: .*no \\u001b\[2J entry/);
      assert.doesNotMatch(evaluated.stderr, CONTROL);
    } finally {
      server.setFaultChooser(undefined);
    }
  });
});
