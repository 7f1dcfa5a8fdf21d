/**
 * A file's regular expression on a model's output, through the real `coi` (a child process)
 * and the OpenAI test server: a pattern that backtracks catastrophically (`^(a|a)+$` on
 * `aaaa…ab` takes JavaScript's engine hours) is stopped after a second and reported, in
 * `expect … matches` (coi test) and in an output's JSON Schema `pattern` (coi run). Before,
 * the process hung and no Cancel reached it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync, type CliResult } from './cliProcess';

/** What the model answers: 40 `a` and a `b`, the input `^(a|a)+$` backtracks on for hours. */
const EVIL_TEXT = `${'a'.repeat(40)}b`;
/** A child still running after this was hung (the limit is 1 s per pattern): killed, so the test fails instead of waiting. */
const HUNG_AFTER_MS = 60_000;

const TESTED = `chain tested
input x: text
step a {
  instruction "Repeat the text."
  output text
}
test "slow pattern" {
  given x = "go"
  expect a matches '^(a|a)+$'
}
test "slow pattern, negated" {
  given x = "go"
  expect a not matches '^(a|a)+$'
}
`;

const SCHEMA = `chain schema
input x: text
step a {
  instruction "Give a name as JSON."
  output json schema='{"type": "object", "properties": {"name": {"type": "string", "pattern": "^(a|a)+$"}}}'
}
`;

void describe('a catastrophically backtracking pattern on a model output (bundled CLI)', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({ models: ['tiny'] });
  });
  after(async () => server.close());

  /** `coi ARGS` in `dir` against the test server, killed once it counts as hung. */
  function coi(args: readonly string[], dir: string): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const onSpawn = (child: ChildProcess): void => {
      timer = setTimeout(() => child.kill('SIGKILL'), HUNG_AFTER_MS);
    };
    const env = { COI_MODEL: '', COI_CACHE_DIR: tempDir(), OPENAI_API_KEY: 'sk-test' };
    return coiAsync([...args, '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache'], { cwd: dir, env, onSpawn }).then((r) => {
      clearTimeout(timer);
      return r;
    });
  }

  void test('coi test: `expect … matches` fails (negated or not) saying the pattern was stopped, and the command ends', { timeout: HUNG_AFTER_MS + 30_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tested.coi'), TESTED);
    server.setReplier(() => EVIL_TEXT);
    try {
      const r = await coi(['test', 'tested.coi', '--reporter', 'json'], dir);
      assert.notEqual(r.code, null, `coi test hung and was killed after ${HUNG_AFTER_MS} ms`);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { name: string; status: string; expectations: { status: string; message: string; actual?: string }[] }[];
      assert.deepEqual(
        report.map((t) => [t.status, t.expectations.map((e) => e.status)]),
        [
          ['failed', ['failed']],
          ['failed', ['failed']],
        ],
      );
      for (const [i, what] of ['a matches "^(a|a)+$"', 'a not matches "^(a|a)+$"'].entries()) {
        const e = report[i]!.expectations[0]!;
        assert.equal(e.actual, EVIL_TEXT);
        assert.equal(e.message, `${what} failed (the pattern took longer than 1 s on this output and was stopped: it backtracks catastrophically, as a nested quantifier such as (a+)+ or (a|a)+ does; simplify it)`);
      }
    } finally {
      server.setReplier(undefined);
    }
  });

  void test('coi test prints the reason in its terminal report', { timeout: HUNG_AFTER_MS + 30_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tested.coi'), TESTED);
    server.setReplier(() => EVIL_TEXT);
    try {
      const r = await coi(['test', 'tested.coi'], dir);
      assert.notEqual(r.code, null, `coi test hung and was killed after ${HUNG_AFTER_MS} ms`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout + r.stderr, /the pattern took longer than 1 s on this output and was stopped: it backtracks catastrophically/);
    } finally {
      server.setReplier(undefined);
    }
  });

  void test("coi run: an output's JSON Schema `pattern` stopped on the model's value fails the step, naming the pattern", { timeout: HUNG_AFTER_MS + 30_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'schema.coi'), SCHEMA);
    server.setReplier(() => JSON.stringify({ name: EVIL_TEXT }));
    try {
      const r = await coi(['run', 'schema.coi', '--input', 'go'], dir);
      assert.notEqual(r.code, null, `coi run hung and was killed after ${HUNG_AFTER_MS} ms`);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /the pattern "\^\(a\|a\)\+\$" took longer than 1 s on "a{40}"… and was stopped: it backtracks catastrophically/);
    } finally {
      server.setReplier(undefined);
    }
  });
});
