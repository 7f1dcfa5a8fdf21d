/**
 * A progress line on a terminal and the messages that interrupt it: an error, a cancellation or a
 * retry notice starts on a line of its own, the line is ended once and never leaves a blank line.
 * The bundled CLI under a real pseudo-terminal (util-linux's `script`), standard error on it too;
 * then the shared state itself, with a terminal's `io`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { retryReporter } from '../../cli/commands/runSupport';
import { REDRAW_LINE, type CliIO } from '../../cli/io';
import { endingProgressLines, statusLine } from '../../cli/statusLine';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { coiOnTerminal, terminalAvailable } from './cliProcess';

/** The lines a terminal shows for `text`: each line as its last redraw left it. */
function screenLines(text: string): string[] {
  return text.split('\n').map((line) => line.slice(line.lastIndexOf('\r') + 1).replaceAll('\x1b[K', ''));
}

const skip = terminalAvailable() ? false : "util-linux's script is not here (no pseudo-terminal)";

void describe('a progress line on a terminal, interrupted (bundled CLI)', { skip }, () => {
  let server: OpenAITestServer;
  before(async () => {
    workerScriptPath();
    server = await startOpenAITestServer();
  });
  after(async () => {
    await server.close();
  });

  void test('coi dataset build --tokenizer, Ctrl-C while tokens are counted: "cancelled; nothing written" on a line of its own, no blank line', async () => {
    const dir = tempDir();
    const row = (i: number): string => JSON.stringify({ instruction: 'Summarize the text. and then Translate the summary into French.', input: `Report ${i}: ${'the storm closed the roads. '.repeat(10)}`, output: `Task 1 output and task 2 input: Roads ${i} closed.\nTask 2 output: Routes ${i} fermées.` });
    writeFileSync(join(dir, 'big.jsonl'), Array.from({ length: 2000 }, (_, i) => row(i)).join('\n') + '\n');
    const cancelled = await coiOnTerminal(['dataset', 'build', 'big.jsonl', '--out', 'out', '--tokenizer', tinyModelPath()], { cwd: dir, stderrToo: true, interruptWhen: /Counting tokens: \d+\/2000/ });
    assert.equal(cancelled.code, 130, cancelled.stdout);
    const lines = screenLines(cancelled.stdout);
    assert.deepEqual(lines.slice(-2), ['coi dataset: cancelled; nothing written.', ''], JSON.stringify(cancelled.stdout));
    assert.ok(lines.includes('Cancelling... (Ctrl-C again to quit at once)'), JSON.stringify(cancelled.stdout));
    assert.ok(!lines.slice(0, -1).includes(''), `no blank line: ${JSON.stringify(cancelled.stdout)}`);
  });

  void test('coi eval, a server that answers 500 until the model is out: the retry notice, then "Stopped:" on the next line, no blank line', async () => {
    const cwd = tempDir();
    const tests = Array.from({ length: 3 }, (_, i) => `test "case ${i + 1}" {\n  given report = "Report ${i + 1}: the east dock reopened."\n  expect summary rouge_l >= 0.5 "The dock reopened."\n}`);
    writeFileSync(join(cwd, 'dock.coi'), `chain dock\ninput report: text\n\nstep summary {\n  instruction "Summarize the report in one sentence."\n}\n\n${tests.join('\n\n')}\n`);
    server.setFaultChooser(() => ({ kind: 'status', status: 500, retryAfter: '0', message: 'the server broke' }));
    try {
      const down = await coiOnTerminal(['eval', 'dock.coi', '--model', 'openai:tiny', '--base-url', server.baseURL, '--out', 'down', '--no-cache', '--concurrency', '1'], {
        cwd,
        stderrToo: true,
        env: { COI_MODEL: '', COI_CACHE_DIR: join(cwd, 'cache'), OPENAI_API_KEY: 'test-key' },
      });
      assert.equal(down.code, 1, down.stdout);
      const lines = screenLines(down.stdout);
      const retry = lines.findIndex((l) => /^tiny at http:\/\/127\.0\.0\.1:\d+\/v1: HTTP 500; trying again in 0 ms \(retry 1\)$/.test(l));
      assert.ok(retry >= 0, JSON.stringify(down.stdout));
      assert.match(lines[retry + 1] ?? '', /^Stopped: openai:tiny failed 3 items in a row/, JSON.stringify(down.stdout));
      assert.ok(!lines.slice(0, -1).includes(''), `no blank line: ${JSON.stringify(down.stdout)}`);
    } finally {
      server.setFaultChooser(undefined);
    }
  });
});

void describe("one open-line state per terminal io: the status lines', the retry notices' and every message's", () => {
  const terminal = (written: string[]): CliIO => endingProgressLines({ stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY: true, readStdin: () => Promise.resolve(Buffer.alloc(0)) });

  void test('a retry notice clears the open line: the end of the progress adds no blank line', () => {
    const written: string[] = [];
    const io = terminal(written);
    const status = statusLine(io);
    status.show('eval: 0/3 done, 0 failures');
    retryReporter(io, () => 0)('tiny', { attempt: 1, delayMs: 0, reason: 'HTTP 500' });
    status.end();
    assert.deepEqual(written, [`${REDRAW_LINE}eval: 0/3 done, 0 failures`, `${REDRAW_LINE}tiny: HTTP 500; trying again in 0 ms (retry 1)\n`]);
  });

  void test("any other message ends the open line once; one that begins with a line feed ends it itself; the line redrawn after it is ended by the next", () => {
    const written: string[] = [];
    const io = terminal(written);
    const status = statusLine(io);
    status.show('Counting tokens: 256/2000');
    io.stderr('\nCancelling... (Ctrl-C again to quit at once)\n');
    status.show('Counting tokens: 512/2000');
    io.stderr('coi dataset: cancelled; nothing written.\n');
    status.end();
    io.stderr('after\n');
    assert.equal(written.join(''), `${REDRAW_LINE}Counting tokens: 256/2000\nCancelling... (Ctrl-C again to quit at once)\n${REDRAW_LINE}Counting tokens: 512/2000\ncoi dataset: cancelled; nothing written.\nafter\n`);
  });

  void test('piped, the io is the same and its lines as they were', () => {
    const written: string[] = [];
    const piped: CliIO = { stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY: false, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
    assert.equal(endingProgressLines(piped), piped);
    const status = statusLine(piped);
    status.show('eval: 0/3 done');
    retryReporter(piped, () => 0)('tiny', { attempt: 1, delayMs: 0, reason: 'HTTP 500' });
    status.end();
    assert.deepEqual(written, ['eval: 0/3 done\n', 'tiny: HTTP 500; trying again in 0 ms (retry 1)\n']);
  });
});
