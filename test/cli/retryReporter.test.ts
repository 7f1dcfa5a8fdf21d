// How `coi run` / `coi eval` show a remote model's retries: the first at once, then at most one
// line per model every 5 s with the count of those in between; on a terminal the line first
// clears the progress line it interrupts. (The bundled CLI against a rate-limiting server: run.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryReporter } from '../../cli/commands/runSupport';
import type { CliIO } from '../../cli/io';

function io(stderrIsTTY: boolean, written: string[]): CliIO {
  return { stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
}

void test('retries: the first line at once, the rest within 5 s counted into the next line, per model', () => {
  const written: string[] = [];
  let now = 0;
  const report = retryReporter(io(false, written), () => now);
  report('gpt at https://api.example/v1', { attempt: 1, delayMs: 2000, reason: 'HTTP 429' });
  now = 1000;
  report('gpt at https://api.example/v1', { attempt: 2, delayMs: 4000, reason: 'HTTP 429' });
  report('gpt at https://api.example/v1', { attempt: 1, delayMs: 500, reason: 'HTTP 429' });
  report('other at http://127.0.0.1:8000/v1', { attempt: 1, delayMs: 250, reason: 'HTTP 503' });
  now = 5200;
  report('gpt at https://api.example/v1', { attempt: 3, delayMs: 8000, reason: 'HTTP 429' });
  assert.deepEqual(written, [
    'gpt at https://api.example/v1: HTTP 429; trying again in 2.0 s (retry 1)\n',
    'other at http://127.0.0.1:8000/v1: HTTP 503; trying again in 250 ms (retry 1)\n',
    'gpt at https://api.example/v1: HTTP 429; trying again in 8.0 s (retry 3) (2 more retries since the last message)\n',
  ]);
});

void test('on a terminal a retry line clears the progress line it interrupts', () => {
  const written: string[] = [];
  retryReporter(io(true, written), () => 0)('gpt at https://api.example/v1', { attempt: 1, delayMs: 1500, reason: 'Connection error.' });
  assert.deepEqual(written, ['\r\x1b[Kgpt at https://api.example/v1: Connection error; trying again in 1.5 s (retry 1)\n']);
});
