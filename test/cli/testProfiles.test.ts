/**
 * The checks `coi test` makes before its tests run (a local profile's model file must be there,
 * the key-destination warnings COI510/COI511) look at the profiles its tests use: a test's own
 * profile (`model NAME` in the test) replaces the chain's default for that test, so a default
 * that no test runs on is not checked, and a profile only a test names is. The bundled CLI in a
 * child process, against the OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import type { CliResult } from './cliProcess';
import { coiWithKeys, openaiProfileBlock } from './profileChecks';

const REPLY = 'Pluie mardi.';
const HEADER = 'chain weather\ninput article: text\n\n';
const STEP = 'step french {\n  instruction "Translate the article into French."\n}\n\n';
/** Lines 1 to 4 of a local profile block: its `path` is on the third. */
const MISSING_MODEL = (name: string): string => `model ${name} {\n  provider local\n  path "models/missing.gguf"\n}\n\n`;
const testBlock = (name: string, profile: string | undefined): string =>
  `test "${name}" {\n${profile !== undefined ? `  model ${profile}\n` : ''}  given article = "Heavy rain on Tuesday."\n  expect output contains "Pluie"\n}\n\n`;

void describe('coi test checks the profiles its tests use', () => {
  let server: OpenAITestServer;
  let dir: string;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => REPLY });
    dir = tempDir();
  });
  after(async () => server.close());

  const openaiProfile = (name: string, keyVariable: string): string => openaiProfileBlock(server.baseURL, name, keyVariable);
  const coi = (args: readonly string[]): Promise<CliResult> => coiWithKeys(dir, args);

  void test("a default profile whose model file is missing does not stop the tests when each names its own profile (nor with --filter leaving out the one that doesn't)", async () => {
    writeFileSync(join(dir, 'own.coi'), HEADER + MISSING_MODEL('gone') + openaiProfile('api', 'COI_TEST_KEY') + STEP + testBlock('rain', 'api') + testBlock('more rain', 'api'));
    const own = await coi(['test', 'own.coi']);
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /✓ own\.coi:\d+ rain /);
    assert.match(own.stdout, /✓ own\.coi:\d+ more rain /);
    assert.doesNotMatch(own.stderr, /missing\.gguf/);

    // A test on the default is refused at the default's `path` line (line 6)...
    writeFileSync(join(dir, 'mixed.coi'), HEADER + MISSING_MODEL('gone') + openaiProfile('api', 'COI_TEST_KEY') + STEP + testBlock('on api', 'api') + testBlock('on default', undefined));
    const mixed = await coi(['test', 'mixed.coi']);
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /mixed\.coi:6:3: model profile 'gone': cannot read the model 'models\/missing\.gguf': no such file or directory\./);
    // ...but not when --filter leaves it out.
    const filtered = await coi(['test', 'mixed.coi', '--filter', 'on api']);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.match(filtered.stdout, /✓ mixed\.coi:\d+ on api /);
  });

  void test("a test's own local profile whose model file is missing stops coi test before any request, at its `path` line", async () => {
    // The default `api` (lines 4-9), then `gone`, whose `path` is line 13; the first test runs on the default.
    writeFileSync(join(dir, 'named.coi'), HEADER + openaiProfile('api', 'COI_TEST_KEY') + MISSING_MODEL('gone') + STEP + testBlock('on default', undefined) + testBlock('on gone', 'gone'));
    const before = server.count();
    const result = await coi(['test', 'named.coi']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /named\.coi:13:3: model profile 'gone': cannot read the model 'models\/missing\.gguf': no such file or directory\./);
    assert.equal(server.count() - before, 0, 'no test ran: the server received no request');
    assert.doesNotMatch(result.stdout, /on default/);
  });

  void test('the key warning (COI510) of a profile only a test names is printed before the tests', async () => {
    // Profile `foreign` (its api_key_env on line 15) would send OpenAI's key to the test server; only the test names it.
    writeFileSync(join(dir, 'foreign.coi'), HEADER + openaiProfile('plain', 'COI_TEST_KEY') + openaiProfile('foreign', 'OPENAI_API_KEY') + STEP + testBlock('abroad', 'foreign'));
    const result = await coi(['test', 'foreign.coi']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /foreign\.coi:15:15: warning COI510: \$OPENAI_API_KEY is OpenAI's key, and this profile would send it to 127\.0\.0\.1:\d+/);
    assert.ok(result.stderr.indexOf('COI510') < result.stderr.indexOf('▸ foreign.coi › abroad'), 'the warning comes before the test runs');
  });

  void test('--profile NAME runs the tests on that profile, its sampling included (a test naming its own keeps it)', async () => {
    // Both profiles call the test server; only their temperature differs.
    const sampled = (name: string, temperature: string): string => openaiProfile(name, 'COI_TEST_KEY').replace(/\n}\n\n$/, `\n  temperature ${temperature}\n}\n\n`);
    writeFileSync(join(dir, 'sampling.coi'), HEADER + sampled('first', '0.9') + sampled('cold', '0') + STEP + testBlock('on default', undefined) + testBlock('on first', 'first'));
    const before = server.requests.length;
    const result = await coi(['test', 'sampling.coi', '--profile', 'cold']);
    assert.equal(result.code, 0, result.stderr);
    const temperatures = server.requests.slice(before).map((r) => (r.body as { temperature?: number }).temperature);
    assert.deepEqual(temperatures, [0, 0.9], 'the test on the default ran with --profile cold, the one naming `first` with its own');
  });
});
