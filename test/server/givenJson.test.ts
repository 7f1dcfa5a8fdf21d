// A `json` input's value is read one way by the editor (a test's `given`, COI412) and by a
// run (`coi run --input`): JSON as written. A Markdown code fence around it is taken off
// model outputs only, so the editor and the run both refuse a fenced value, and say why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient, newUri } from './harness';
import { coiAsync } from '../cli/cliProcess';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';

const FENCED = '```json\n{"name": "Ada"}\n```';

const chainWithGiven = (given: string): string =>
  [
    'chain person_card',
    'input person: json',
    'step card {',
    '  instruction "Write a one-line card for the person."',
    '  output text',
    '}',
    'test "ada" {',
    '  given person = """',
    ...given.split('\n').map((l) => `    ${l}`),
    '  """',
    '  expect card contains "Ada"',
    '}',
    '',
  ].join('\n');

void describe('a json given: the editor and the run read it alike', () => {
  let client: LspClient;
  let dir: string;
  let model: string;
  before(async () => {
    client = await LspClient.start();
    dir = tempDir();
    workerScriptPath();
    model = tinyModelPath();
  });
  after(() => client.stop());

  const problemsOf = async (text: string): Promise<string[]> => {
    const uri = newUri('given-json');
    await client.open(uri, text);
    return (await client.pullDiagnostics(uri)).filter((d) => d.code === 'COI412').map((d) => (typeof d.message === 'string' ? d.message : d.message.value));
  };

  const run = (input: string): ReturnType<typeof coiAsync> => {
    const file = join(dir, 'card.coi');
    writeFileSync(file, chainWithGiven('{"name": "Ada"}'));
    return coiAsync(['run', file, '--input', `person=${input}`, '--model', model, '--threads', '1', '--max-tokens', '4'], { cwd: dir, env: { COI_MODEL: '', COI_CACHE_DIR: join(dir, 'cache') } });
  };

  void test('a fenced value: the editor reports it (naming the fence) and the run refuses it before any step', async () => {
    const problems = await problemsOf(chainWithGiven(FENCED));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /^Input 'person' is JSON, but the value given is wrapped in a Markdown code fence \(```\), which is not JSON: write the JSON without the fence\.$/);
    const refused = await run(FENCED);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /Chain input "person" is JSON, but the value given is wrapped in a Markdown code fence \(```\), which is not JSON: write the JSON without the fence \(/);
  });

  void test('the same JSON without the fence: no problem in the editor, and it runs', async () => {
    assert.deepEqual(await problemsOf(chainWithGiven('{"name": "Ada"}')), []);
    const ran = await run('{"name": "Ada"}');
    assert.equal(ran.code, 0, ran.stderr);
  });
});
