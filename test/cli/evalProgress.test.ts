// The progress of `coi eval` without a terminal (a log, CI): a line at each tenth done and at
// least every 30 s, so a slow evaluation's log shows it is alive; on a terminal, one line
// redrawn in place. (The bundled CLI's lines as a whole: eval.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressReporter } from '../../cli/commands/eval';
import type { EvalProgressEvent, EvalResult } from '../../core/eval/types';
import type { CliIO } from '../../cli/io';

function io(stderrIsTTY: boolean, written: string[]): CliIO {
  return { stdout: () => undefined, stderr: (t) => written.push(t), cwd: '/', env: {}, stderrIsTTY, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
}

const result = (done: number, total: number): EvalProgressEvent => ({ kind: 'result', result: {} as EvalResult, done, total, failures: 0, etaMs: (total - done) * 60_000 });

void test('in a log: a line per tenth, and one at least every 30 s in between', () => {
  const written: string[] = [];
  let now = 0;
  const report = progressReporter(io(false, written), () => now);
  report({ kind: 'start', done: 0, total: 200, failures: 0 });
  for (let done = 1; done <= 25; done++) {
    now += 4000; // a slow model: an item every 4 s
    report(result(done, 200));
  }
  // 8 and 16: 32 s after the line before; 20: the first tenth; 24 is 16 s after it.
  assert.deepEqual(written.map((line) => Number(/^eval: (\d+)\/200 done/.exec(line)?.[1])), [0, 8, 16, 20]);
  assert.match(written[1]!, /^eval: 8\/200 done, 0 failures, ETA \d+/);
});

void test('on a terminal: every result redraws one line, ended at the end', () => {
  const written: string[] = [];
  const report = progressReporter(io(true, written), () => 0);
  report(result(1, 2));
  report(result(2, 2));
  report.end();
  assert.equal(written.length, 3);
  assert.match(written[0]!, /^\r\x1b\[Keval: 1\/2 done, 0 failures, ETA/);
  assert.equal(written[2], '\n');
});

void test("a run's warning: on a terminal the progress line is ended, the warning is a line of its own, and the progress redraws below it", () => {
  const written: string[] = [];
  const report = progressReporter(io(true, written), () => 0);
  report(result(1, 3));
  report({ kind: 'warning', message: "A composed run is one generation, so the steps' own sampling is not used (temperature of a): it applies to stepwise runs.", model: 'openai:tiny', mode: 'composed' });
  report(result(2, 3));
  report.end();
  assert.match(written[0]!, /^\r\x1b\[Keval: 1\/3 done/);
  assert.deepEqual(written.slice(1, 3), ['\n', "⚠ A composed run is one generation, so the steps' own sampling is not used (temperature of a): it applies to stepwise runs.\n"]);
  assert.match(written[3]!, /^\r\x1b\[Keval: 2\/3 done/);
  assert.equal(written[4], '\n');
});
