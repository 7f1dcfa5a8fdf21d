/**
 * A `coi run` killed between writing a step cache entry or a run record and renaming it into place
 * leaves its temporary file; the next `coi run` removes those whose process is gone and that are
 * old, and leaves a living writer's and a fresh one. The bundled CLI, the OpenAI test server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { partialPath } from '../../core/syntax/processes';
import { ABANDONED_AFTER_MS } from '../../core/syntax/wholeFile';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coiAsync } from './cliProcess';
import { deadPid } from '../helpers/processes';
import { tempDir } from '../helpers/tempDir';

let server: OpenAITestServer;
before(async () => {
  server = await startOpenAITestServer({ reply: () => 'A short summary.' });
});
after(() => server.close());

function plant(path: string, minutesAgo: number): string {
  writeFileSync(path, '{"text": "cut sh');
  const at = (Date.now() - minutesAgo * 60_000) / 1000;
  utimesSync(path, at, at);
  return path;
}

void test("coi run removes the old temporaries of killed runs from the step cache and the run records; a living process's and a fresh one stay", async () => {
  const dir = tempDir();
  const cache = join(dir, 'cache');
  writeFileSync(join(dir, 'sum.coi'), 'chain sum\ninput article: text\n\nstep summary {\n  instruction "Summarize the article."\n}\n');
  const old = ABANDONED_AFTER_MS / 60_000 + 5;
  const gone: string[] = [];
  const kept: string[] = [];
  for (const sub of ['steps', 'runs']) {
    const folder = join(cache, sub);
    mkdirSync(folder, { recursive: true });
    gone.push(plant(join(folder, `${'a'.repeat(64)}.json.${deadPid()}.tmp`), old), plant(partialPath(join(folder, '2026-01-01T00-00-00-x.json'), deadPid()), old));
    kept.push(plant(join(folder, `${'b'.repeat(64)}.json.${deadPid()}.tmp`), 1), plant(join(folder, `${'c'.repeat(64)}.json.${process.pid}.tmp`), old));
  }
  const run = await coiAsync(['run', 'sum.coi', '-i', 'A storm is coming.', '--model', 'openai:tiny', '--base-url', server.baseURL], { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: cache, OPENAI_API_KEY: 'sk-test' } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'A short summary.');
  assert.match(run.stderr, /Done: 1 step, 0 cached, 1 model call/);
  for (const path of gone) assert.equal(existsSync(path), false, `${path} removed`);
  for (const path of kept) assert.equal(existsSync(path), true, `${path} kept`);
});
