/**
 * `coi eval`, `coi dataset`, `coi import`, `coi export` as the README and the docs tell them:
 * the tour over imported records (a chain the composability analysis rejects is evaluated and
 * taken, flagged), every file with errors named at once, the default store and step cache beside
 * a read-only records folder, the report's three breakdowns, what a chain test gives a training
 * set, records located by line, the messages of a mistyped command, and every documented
 * `coi eval` example over the repository's files runs. The bundled CLI against the
 * OpenAI-protocol test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from '../../core/eval/types';
import { commands } from '../../cli/commands/index';
import { repoPath, repoRoot } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { coi, coiAsync, coiForAnotherUser } from './cliProcess';

/** Two records as the paper writes them; the second feeds a label to a summary (COI301), as records 70 and 323 of coi2_test.json do. */
const RECORDS = [
  {
    instruction: 'Summarize the review in one sentence. and then Write a short title for the summary.',
    input: 'The lamp arrived on time and works well.',
    output: 'Task 1 output and task 2 input: The lamp works.\nTask 2 output: A good lamp',
  },
  {
    instruction: 'Classify the sentiment of the review as positive or negative. and then Summarize the review in one sentence.',
    input: 'The lamp broke after two days.',
    output: 'Task 1 output and task 2 input: negative\nTask 2 output: It broke.',
  },
];

/** A JSON array with one record per line (as `coi export` writes it): record i starts on line i + 2. */
function recordsJson(records: readonly unknown[]): string {
  return `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

/** The ```sh blocks of a Markdown text: each command line, without its comment. */
function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => (m[1] ?? '').split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim());
}

/** A command line's words: double quotes group (a glob stays one argument), as a shell reads them. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

void describe('coi eval, dataset, import and export as the docs tell them', () => {
  let server: OpenAITestServer;
  before(async () => {
    server = await startOpenAITestServer({ reply: () => 'A short answer.' });
  });
  after(async () => {
    await server.close();
  });
  const env = { COI_MODEL: '', OPENAI_API_KEY: 'k' };
  const model = (): string[] => ['--model', 'openai:tiny', '--base-url', server.baseURL];

  void test('the tour: imported records with a COI301 chain are evaluated and built into a set, flagged; files with errors are all named with FILE:LINE:COLUMN', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), recordsJson(RECORDS));
    assert.equal(coi(['import', '--from', 'coi-json', 'records.json', '--out', 'chains/'], { cwd: dir }).code, 0);
    const flaggedFile = 'chains/0001-classify-the-sentiment.coi';
    assert.match(coi(['check', flaggedFile], { cwd: dir }).stdout, /error COI301/, 'the analysis rejects the second chain');

    const evaluated = await coiAsync(['eval', 'chains/', ...model(), '--no-cache', '--out', 'E', '--json'], { cwd: dir, env });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout) as EvalReport;
    assert.equal(report.counts.results, 2, 'both chains evaluated');
    assert.deepEqual(
      report.flagged.map((f) => f.item),
      [`${flaggedFile}#record 1`],
    );
    assert.match(report.flagged[0]!.diagnostic, /^COI301: Step "step1" produces a label/);
    writeFileSync(join(dir, 'rows.jsonl'), `${JSON.stringify({ source: 'The lamp broke.' })}\n`);
    const bound = await coiAsync(['eval', flaggedFile, '--dataset', 'rows.jsonl', ...model(), '--no-cache', '--out', 'D', '--json'], { cwd: dir, env });
    assert.equal(bound.code, 0, bound.stderr);
    assert.deepEqual(
      (JSON.parse(bound.stdout) as EvalReport).flagged.map((f) => f.item),
      ['row 1'],
    );
    const table = coi(['eval', 'report', 'E'], { cwd: dir });
    assert.match(table.stdout, /1 item the composability check rejects \(evaluated anyway\), e\.g\. chains\/0001-classify-the-sentiment\.coi#record 1: COI301/);

    const built = coi(['dataset', 'build', 'chains/', '--out', 'data/'], { cwd: dir });
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /Wrote 2 training and 0 validation examples/);
    // The summary words the finding as `coi check` does; dataset.json keeps it as `CODE: message` (docs/dataset.md).
    assert.match(built.stdout, /\n {2}chains\/0001-classify-the-sentiment\.coi:10:1: error COI301: Step "step1" produces a label/);
    const manifest = JSON.parse(readFileSync(join(dir, 'data', 'dataset.json'), 'utf8')) as { composability: { file: string; line: number; diagnostic: string; examples: number }[] };
    assert.deepEqual(
      manifest.composability.map((f) => [f.file, f.line, f.examples]),
      [[flaggedFile, 10, 1]],
    );
    assert.match(manifest.composability[0]!.diagnostic, /^COI301: Step "step1" produces a label/);

    // Real errors still refuse, naming every such file (not only the first) with the place of each error.
    writeFileSync(join(dir, 'chains', 'typo.coi'), 'chain typo\ninput text: text\n\nstep a {\n  instruction "Summarize."\n  from txet\n}\n');
    writeFileSync(join(dir, 'chains', 'unclosed.coi'), 'chain unclosed\n\nstep a {\n  instruction "Summarize.\n');
    const refused = await coiAsync(['eval', 'chains/', ...model(), '--no-cache', '--out', 'F'], { cwd: dir, env });
    const refusedBuild = coi(['dataset', 'build', 'chains/', '--out', 'data2/'], { cwd: dir });
    for (const [what, r] of [['eval', refused], ['dataset', refusedBuild]] as const) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^coi ${what}: 2 files have errors \\(\\d+ in all\\); fix them before running:\\n`));
      assert.match(r.stderr, /\n {2}chains\/typo\.coi:6:8: error COI205: Unknown reference 'txet'/);
      assert.match(r.stderr, /\n {2}chains\/unclosed\.coi:\d+:\d+: error COI10\d: /);
      assert.doesNotMatch(r.stderr, /0001-classify/, 'the flagged chain is not an error here');
    }
    assert.ok(!existsSync(join(dir, 'F')) && !existsSync(join(dir, 'data2')), 'nothing run, nothing written');
  });

  // Root may write any folder, a dr-xr-xr-x one included: coi treats it as read-only all the same (no write bit for anyone).
  for (const asRoot of [false, true]) {
  void test(`beside a records folder it cannot write (${asRoot ? 'a read-only one, for this process\'s user: root here' : 'as another user'}), the default store and step cache go to the working folder, said, and the cache is used`, async () => {
    const data = tempDir();
    chmodSync(data, 0o755);
    writeFileSync(join(data, 'records.json'), recordsJson(RECORDS.slice(0, 1)));
    chmodSync(join(data, 'records.json'), 0o644);
    chmodSync(data, 0o555);
    const work = tempDir();
    chmodSync(work, 0o777);
    const asAnotherUser = asRoot ? undefined : coiForAnotherUser();
    const run = (): ReturnType<typeof coiAsync> =>
      coiAsync(['eval', '--records', join(data, 'records.json'), ...model(), '--json'], { cwd: work, env: { ...env, HOME: work }, ...(asAnotherUser === undefined ? {} : { asAnotherUser }) });
    const calls = (): number => server.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
    const before = calls();
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Note: the store cannot go beside '[^']*records\.json' \([^)]*\.coi-evals: permission denied\): it goes to the working folder's \.coi-evals\/ instead; --out DIR chooses where\./);
    assert.match(first.stderr, /Note: the step cache cannot go beside '[^']*records\.json' \([^)]*\.coi-cache\/steps: permission denied\): the working folder's \.coi-cache\/ is used instead\./);
    assert.deepEqual(readdirSync(data), ['records.json'], 'nothing written beside the records');
    const [store] = readdirSync(join(work, '.coi-evals'));
    assert.equal((JSON.parse(first.stdout) as EvalReport).store, join(work, '.coi-evals', store!));
    assert.equal(calls() - before, 2, 'two steps');
    const again = await run();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(calls() - before, 2, 'the second evaluation is answered by the step cache');
    assert.equal(readdirSync(join(work, '.coi-evals')).length, 2);
    assert.deepEqual(readdirSync(data), ['records.json'], 'nothing written beside the records, the second time either');
    assert.ok(existsSync(join(work, '.coi-cache', 'steps')), 'the step cache is in the working folder');
  });
  }

  void test('the table and Markdown reports show the breakdowns by chain length, step position and task category', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'records.json'), recordsJson(RECORDS));
    const r = await coiAsync(['eval', '--records', 'records.json', ...model(), '--no-cache', '--out', 'E'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nFinal ROUGE-L by chain length:\nmodel · mode +2 steps\nopenai:tiny · stepwise +\S+ \[\S+, \S+\] \(n=2\)\n/);
    assert.match(r.stdout, /\nStep ROUGE-L by step position:\nmodel · mode +step 1 +step 2\nopenai:tiny · stepwise +\S+ \[\S+, \S+\] \(n=2\) +\S+ \[\S+, \S+\] \(n=2\)\n/);
    assert.match(r.stdout, /\nStep ROUGE-L by task category:\ncategory +openai:tiny · stepwise\nclassification +\S+ \[\S+, \S+\] \(n=1\)\n(?:\w+ +.*\n)*summarization +\S+ \[\S+, \S+\] \(n=2\)\n/);
    const markdown = coi(['eval', 'report', 'E', '--format', 'markdown'], { cwd: dir });
    for (const heading of ['Final ROUGE-L by chain length', 'Step ROUGE-L by step position', 'Step ROUGE-L by task category']) assert.match(markdown.stdout, new RegExp(`\\n## ${heading}\\n\\n\\| `));
    assert.match(markdown.stdout, /\| model · mode \| step 1 \| step 2 \|/);
  });

  void test("a chain test gives a training example only with a reference for every step; the summary's step counts agree", () => {
    const dir = tempDir();
    const chain = [
      'chain st',
      'input text: text',
      'step summary {\n  instruction "Summarize the text."\n  output text\n}',
      'step translate {\n  instruction "Translate the summary into French."\n  output text\n}',
      'test "both" {\n  given text = "A long text about boats."\n  expect summary rouge_l >= 0.5 "Boats."\n  expect translate rouge_l >= 0.5 "Bateaux."\n}',
      'test "final only" {\n  given text = "A long text about cars."\n  expect output rouge_l >= 0.5 "Voitures."\n}',
    ].join('\n\n');
    writeFileSync(join(dir, 'st.coi'), `${chain}\n`);
    const built = coi(['dataset', 'build', 'st.coi', '--out', 'data'], { cwd: dir });
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /\nExamples: 1 \(1 × 2 steps\)\n/);
    assert.match(built.stderr, /st\.coi: note: Chain 'st', test 'final only': no reference for step 'summary' \(a rouge_l or equals expectation\): no example\./);
    // coi export still writes the final-answer test as the paper's final-answer record.
    const exported = coi(['export', 'st.coi', '--quiet'], { cwd: dir });
    assert.equal((JSON.parse(exported.stdout) as unknown[]).length, 2);
  });

  void test('a bad record of a JSON array is named with its line by coi eval --records, coi import and coi dataset alike', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ei.json'), recordsJson([RECORDS[0], RECORDS[0], { ...RECORDS[0], instruction: '' }]));
    const evaluated = await coiAsync(['eval', '--records', 'ei.json', ...model(), '--out', 'E'], { cwd: dir, env });
    assert.equal(evaluated.code, 2);
    assert.equal(evaluated.stderr, 'coi eval: ei.json: line 4: record 2: "instruction" is empty.\n');
    const imported = coi(['import', 'ei.json', '--out', 'chains'], { cwd: dir });
    assert.match(imported.stderr, /^ei\.json:4: record 2: "instruction" is empty\.\n/);
    const stats = coi(['dataset', 'stats', 'ei.json'], { cwd: dir });
    assert.match(stats.stderr, /^ei\.json:4: record 2: "instruction" is empty\.\n/);
  });

  void test('a missing store, a misspelt subcommand and a one-item comparison are said as they are', async () => {
    const dir = tempDir();
    const missing = coi(['eval', 'report', 'nodir'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^coi eval: '[^']*nodir' does not exist: name an evaluation store/);
    mkdirSync(join(dir, 'empty'));
    assert.match(coi(['eval', 'report', 'empty'], { cwd: dir }).stderr, /is not an evaluation store: it has no eval\.json/);
    const misspelt = coi(['eval', 'reprt', 'x'], { cwd: dir });
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /^coi eval: Unknown subcommand 'reprt' \(did you mean 'coi eval report'\?\)/);
    writeFileSync(join(dir, 'records.json'), recordsJson(RECORDS.slice(0, 1)));
    assert.equal((await coiAsync(['eval', '--records', 'records.json', ...model(), '--no-cache', '--out', 'A'], { cwd: dir, env })).code, 0);
    const compared = coi(['eval', 'compare', 'A', 'A'], { cwd: dir });
    assert.match(compared.stdout, /\n1 item paired \(same inputs and references\)/);
  });

  void test('the help of coi eval and coi test tells every form and exit code', () => {
    const help = coi(['eval', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(help, /coi eval report DIR \[--format FORMAT \| --json\] \[--seed N\] \[--fail-on-expectations\]/);
    assert.match(help, /coi eval compare DIR_A DIR_B \[--format FORMAT \| --json\] \[--seed N\]/);
    assert.match(help, /130 when cancelled with Ctrl-C, 143 with SIGTERM/);
    const testHelp = coi(['test', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(testHelp, /1 when any fails or could not run, or --filter matches no test/);
    assert.match(testHelp, /130 when cancelled with Ctrl-C, 143 with SIGTERM/);
  });

  void test('every documented coi eval and coi test example over the repository\'s files runs (the model replaced by the test server)', async () => {
    const entries = await Promise.all(commands.filter((c) => c.name === 'eval' || c.name === 'test').map((c) => c.load()));
    const documented = [
      ...entries.flatMap((c) => c.examples ?? []),
      ...['README.md', ...readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].flatMap((f) => shellLines(readFileSync(repoPath(...f.split('/')), 'utf8'))),
    ]
      .map((line) => words(line.replace(/^npx /, '')))
      .filter((w) => w[0] === 'coi' && (w[1] === 'eval' || w[1] === 'test'));
    // The examples whose files are the repository's (the others name the reader's own files).
    const runnable = documented.filter((w) => w.slice(2).some((a) => a.startsWith('examples')));
    assert.ok(runnable.length >= 4, `examples over examples/: ${runnable.map((w) => w.join(' ')).join('; ')}`);
    for (const example of runnable) {
      const args: string[] = [];
      for (let i = 1; i < example.length; i++) {
        const word = example[i]!;
        if (['--model', '-m', '--threads', '--junit-file', '--reporter'].includes(word)) i++;
        else if (word !== '>' && example[i - 1] !== '>') args.push(word);
      }
      const out = tempDir();
      const extra = args[0] === 'eval' ? ['--out', join(out, 'store')] : [];
      // Run records (coi test) go to $COI_CACHE_DIR, not into the checkout.
      const r = await coiAsync([...args, ...model(), '--no-cache', ...extra], { cwd: repoRoot, env: { ...env, COI_CACHE_DIR: out } });
      // An evaluation runs (0); a test may fail its expectations on the server's answer (1), but no file is refused (2).
      assert.ok(args[0] === 'eval' ? r.code === 0 : r.code === 0 || r.code === 1, `${example.join(' ')}: exit ${r.code}\n${r.stderr}`);
    }
  });
});
