/**
 * `coi eval` end to end: the bundled CLI against the real backends — the
 * OpenAI-protocol test server told what to reply (the references, so ROUGE-L is
 * 100; altered texts, checked against `rougeL` computed directly; held answers
 * to kill the CLI mid-way) and the tiny generated GGUF model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '../../core/backends/types';
import { rougeL } from '../../core/metrics/rouge';
import { parseCsv } from '../../core/eval/items';
import type { EvalReport, EvalResult } from '../../core/eval/types';
import { joinStepOutputs } from '../../core/records/markers';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { tinyModelPath } from '../rig/tinyModel';
import { workerScriptPath } from '../rig/worker';
import { tempDir } from '../helpers/tempDir';
import { storedResults } from '../helpers/evalStore';
import { LOCK_FILE } from '../../core/eval/storeLock';
import { readEvalStore } from '../../core/eval/store';
import { coiAsync, type CliResult } from './cliProcess';

const SUMMARIZE = 'Summarize the report in one sentence.';
const TITLE = 'Write a short title for the summary.';

interface Case {
  readonly input: string;
  readonly summary: string;
  readonly title: string;
}

const CASES: readonly Case[] = Array.from({ length: 6 }, (_, i) => ({
  input: `Report ${i + 1}: the harbour crew repaired ${i + 2} cranes after the storm and reopened the east dock on day ${i + 3}.`,
  summary: `The crew repaired ${i + 2} cranes and reopened the east dock.`,
  title: `Dock ${i + 1} reopens`,
}));

/** `stepExtra`: lines added to each step (the tiny model needs short outputs: `max_tokens 6`). */
function chainText(cases: readonly Case[], stepExtra = ''): string {
  const tests = cases.map(
    (c, i) => `test "case ${i + 1}" {
  given report = ${JSON.stringify(c.input)}
  expect summary rouge_l >= 0.5 ${JSON.stringify(c.summary)}
  expect title rouge_l >= 0.5 ${JSON.stringify(c.title)}
}`,
  );
  return `chain dock_news
input report: text

step summary {
  instruction ${JSON.stringify(SUMMARIZE)}${stepExtra}
}

step title {
  instruction ${JSON.stringify(TITLE)}${stepExtra}
}

${tests.join('\n\n')}
`;
}

/** What the server answers for (instruction, input): the references, stepwise and composed. */
function referenceReplies(cases: readonly Case[], alter: (text: string) => string = (t) => t): Map<string, { reply: string; item: number }> {
  const replies = new Map<string, { reply: string; item: number }>();
  cases.forEach((c, item) => {
    replies.set(`${SUMMARIZE}\u0000${c.input}`, { reply: alter(c.summary), item });
    replies.set(`${TITLE}\u0000${alter(c.summary)}`, { reply: alter(c.title), item });
    replies.set(`${SUMMARIZE} and then ${TITLE}\u0000${c.input}`, { reply: joinStepOutputs([alter(c.summary), alter(c.title)]), item });
  });
  return replies;
}

function lookup(replies: Map<string, { reply: string; item: number }>, messages: readonly ChatMessage[]): { reply: string; item: number } | undefined {
  const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const split = user.indexOf('\n\nInput:\n');
  return split < 0 ? undefined : replies.get(`${user.slice(0, split)}\u0000${user.slice(split + '\n\nInput:\n'.length)}`);
}

/** What a result scores, without timings and ids (equal between an interrupted and an uninterrupted run). */
function scores(results: readonly EvalResult[]): unknown[] {
  return results
    .map((r) => ({ item: r.item, model: r.model, mode: r.mode, steps: r.steps.map((s) => [s.id, s.output, s.rougeL, s.exact, s.contractValid]), final: r.final, whole: r.whole, split: r.splitFailed, expectations: r.expectations?.map((e) => e.status) }))
    .sort((a, b) => (`${a.item}${a.model}${a.mode}` < `${b.item}${b.model}${b.mode}` ? -1 : 1));
}

/**
 * A CSV report read as a tool reads it (RFC 4180): rows keyed by the header's columns.
 * Every row must have exactly as many fields as the header.
 */
function csvTable(text: string): Record<string, string>[] {
  const { records, problem } = parseCsv(text);
  assert.equal(problem, undefined);
  const [header, ...rows] = records.map((r) => r.fields);
  for (const [i, row] of rows.entries()) assert.equal(row.length, header!.length, `row ${i + 2} has ${row.length} fields, the header ${header!.length}: ${row.join(',')}`);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]!])));
}

/** CSV fields that must be plain numbers equal (to the CSV's 6 decimals) to the JSON's values, in order. */
function assertNumbersClose(fields: readonly (string | undefined)[], expected: readonly number[]): void {
  assert.equal(fields.length, expected.length);
  fields.forEach((field, i) => {
    assert.match(field ?? '', /^-?\d+(\.\d+)?$/, `a number, not ${JSON.stringify(field)}`);
    assert.ok(Math.abs(Number(field) - expected[i]!) < 1e-6, `${field} vs ${expected[i]}`);
  });
}

void describe('coi eval (bundled CLI, real backends)', () => {
  let server: OpenAITestServer;
  let cacheDir: string;
  before(async () => {
    workerScriptPath();
    server = await startOpenAITestServer();
    cacheDir = tempDir();
  });
  after(async () => {
    await server.close();
  });

  const env = (): Record<string, string> => ({ COI_MODEL: '', COI_CACHE_DIR: cacheDir, OPENAI_API_KEY: 'test-key' });
  const remote = (): string[] => ['--model', 'openai:tiny', '--base-url', server.baseURL];
  const project = (cases: readonly Case[] = CASES, stepExtra = ''): string => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dock.coi'), chainText(cases, stepExtra));
    return dir;
  };
  const coi = (args: readonly string[], cwd: string, onSpawn?: (child: ChildProcess) => void): Promise<CliResult> => coiAsync(args, { cwd, env: env(), ...(onSpawn !== undefined ? { onSpawn } : {}) });
  /** The server's key named with --api-key-env ($OPENAI_API_KEY goes only to api.openai.com). */
  const withKey = (args: readonly string[], cwd: string, apiKey: string): Promise<CliResult> => coiAsync([...args, '--api-key-env', 'EVAL_KEY'], { cwd, env: { ...env(), EVAL_KEY: apiKey } });

  void test('replies equal to the references score ROUGE-L 100 on every step, the final and the whole output, in both modes', async () => {
    const replies = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const cwd = project();
    const r = await coi(['eval', 'dock.coi', ...remote(), '--mode', 'both', '--out', 'store', '--json', '--no-cache'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as EvalReport;
    assert.deepEqual(report.counts, { items: 6, expected: 12, results: 12, missing: 0, failures: 0, splitFailures: 0 });
    assert.deepEqual(report.groups.map((g) => g.mode), ['stepwise', 'composed']);
    for (const group of report.groups) {
      for (const metric of ['final.rougeL', 'step.rougeL', 'whole.rougeL', 'final.exact', 'expectations.passRate', 'contractValid'] as const) {
        assert.deepEqual(group.metrics[metric], { mean: 100, low: 100, high: 100, n: 6 }, `${group.mode} ${metric}`);
      }
      assert.deepEqual(group.byLength.map((b) => [b.key, b.n, b.rougeL.mean]), [['2', 6, 100]]);
      assert.deepEqual(group.byPosition.map((b) => [b.key, b.rougeL.mean]), [['1', 100], ['2', 100]]);
      assert.deepEqual(group.expectations, { passed: 12, failed: 0, total: 12 });
    }
    const modes = report.comparisons.find((c) => c.metric === 'final.rougeL');
    assert.deepEqual(modes && [modes.a.mode, modes.b.mode, modes.difference.mean, modes.ties], ['stepwise', 'composed', 0, 6]);
    assert.match(r.stderr, /eval: 12\/12 done, 0 failures/);
    const results = storedResults(join(cwd, 'store'));
    assert.equal(results.length, 12);
    assert.equal(new Set(results.map((x) => `${x.item}|${x.mode}`)).size, 12);
    assert.ok(results.every((x) => x.modelCalls === (x.mode === 'stepwise' ? 2 : 1) && !x.cached));
  });

  void test('altered replies score exactly what rougeL computes directly; report, --format and compare re-read the store', async () => {
    const alter = (text: string): string => text.replace(/the east dock/, 'the western pier').replace(/reopens/, 'is open again');
    const replies = referenceReplies(CASES, alter);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const cwd = project();
    const r = await coi(['eval', 'dock.coi', ...remote(), '--out', 'altered', '--json', '--no-cache'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const results = storedResults(join(cwd, 'altered'));
    assert.equal(results.length, 6);
    for (const result of results) {
      const c = CASES[Number(/case (\d+)/.exec(result.item)![1]) - 1]!;
      assert.equal(result.steps[0]!.rougeL, rougeL(c.summary, alter(c.summary)).fmeasure * 100);
      assert.equal(result.steps[1]!.rougeL, rougeL(c.title, alter(c.title)).fmeasure * 100);
      assert.equal(result.final.rougeL, rougeL(c.title, alter(c.title)).fmeasure * 100);
      assert.ok(result.final.rougeL! < 100);
      assert.equal(result.final.exact, false);
    }
    const report = JSON.parse(r.stdout) as EvalReport;
    const expectedMean = results.reduce((t, x) => t + x.final.rougeL!, 0) / results.length;
    assert.ok(Math.abs(report.groups[0]!.metrics['final.rougeL']!.mean - expectedMean) < 1e-9);

    // The report is computed from the store: re-printed identically, in every format.
    const again = await coi(['eval', 'report', 'altered', '--format', 'json'], cwd);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), report);
    const csv = await coi(['eval', 'report', 'altered', '--format', 'csv'], cwd);
    assert.match(csv.stdout, /^section,model,mode,metric,key,n,mean,low,high,wins,ties,losses\n/);
    assert.match(csv.stdout, /\nmetric,openai:tiny,stepwise,final\.rougeL,,6,/);
    const reportCsv = csvTable(csv.stdout);
    const finalRow = reportCsv.find((r) => r.section === 'metric' && r.metric === 'final.rougeL')!;
    const finalJson = report.groups[0]!.metrics['final.rougeL']!;
    assertNumbersClose([finalRow.n, finalRow.mean, finalRow.low, finalRow.high], [finalJson.n, finalJson.mean, finalJson.low, finalJson.high]);
    assert.equal(reportCsv.find((r) => r.section === 'count' && r.metric === 'failures')?.n, '0');
    const table = await coi(['eval', 'report', 'altered'], cwd);
    assert.match(table.stdout, /model · mode\s+n\s+ROUGE-L final/);
    assert.match(table.stdout, /openai:tiny · stepwise\s+6\s+\d+\.\d \[\d+\.\d, \d+\.\d\]/);
    const markdown = await coi(['eval', 'report', 'altered', '--format', 'markdown'], cwd);
    assert.match(markdown.stdout, /^# Evaluation dock\n/);
    assert.match(markdown.stdout, /\| model · mode \| n \| ROUGE-L final/);

    // Compared with a store of the reference replies: the paired difference is the reference minus the altered score.
    const exact = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(exact, messages)?.reply);
    const ref = await coi(['eval', 'dock.coi', ...remote(), '--out', 'reference', '--json', '--no-cache'], cwd);
    assert.equal(ref.code, 0, ref.stderr);
    const compared = await coi(['eval', 'compare', 'altered', 'reference', '--format', 'json'], cwd);
    assert.equal(compared.code, 0, compared.stderr);
    const comparison = JSON.parse(compared.stdout) as { commonItems: number; sameData: boolean; comparisons: { metric: string; n: number; difference: { mean: number; low: number; high: number }; wins: number; losses: number }[] };
    assert.equal(comparison.commonItems, 6);
    assert.equal(comparison.sameData, true);
    const final = comparison.comparisons.find((c) => c.metric === 'final.rougeL')!;
    assert.equal(final.n, 6);
    assert.equal(final.wins, 6);
    assert.ok(Math.abs(final.difference.mean - (100 - expectedMean)) < 1e-9);

    // The CSV has the same numbers, each in its own numeric column (not "31.6 [25.0, 38.1]").
    const comparedCsv = await coi(['eval', 'compare', 'altered', 'reference', '--format', 'csv'], cwd);
    assert.equal(comparedCsv.code, 0, comparedCsv.stderr);
    assert.match(comparedCsv.stdout, /^b,a,mode,metric,n,difference,low,high,wins,ties,losses\n/);
    const csvFinal = csvTable(comparedCsv.stdout).find((r) => r.metric === 'final.rougeL')!;
    assert.deepEqual([csvFinal.b, csvFinal.a, csvFinal.mode], ['openai:tiny', 'openai:tiny', 'stepwise']);
    assertNumbersClose([csvFinal.n, csvFinal.difference, csvFinal.low, csvFinal.high, csvFinal.wins, csvFinal.losses], [final.n, final.difference.mean, final.difference.low, final.difference.high, final.wins, final.losses]);
  });

  void test('killed with SIGKILL mid-way and resumed: the results equal an uninterrupted run, each triple once, only in-flight items asked again', async () => {
    const replies = referenceReplies(CASES);
    const cwd = project();
    // The uninterrupted run.
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const whole = await coi(['eval', 'dock.coi', ...remote(), '--out', 'whole', '--json', '--no-cache', '--concurrency', '2'], cwd);
    assert.equal(whole.code, 0, whole.stderr);

    // The interrupted one: items 4 and later are held until the CLI is killed.
    const held: (() => void)[] = [];
    const asked: number[] = [];
    let holdFrom = 3;
    let onHeld: (() => void) | undefined;
    server.setReplier(async ({ messages }) => {
      const found = lookup(replies, messages);
      if (found === undefined) return undefined;
      asked.push(found.item);
      if (found.item >= holdFrom) {
        await new Promise<void>((resolve) => {
          held.push(resolve);
          onHeld?.();
        });
      }
      return found.reply;
    });
    const store = join(cwd, 'killed');
    const bothHeld = new Promise<void>((resolve) => {
      onHeld = () => {
        if (held.length >= 2) resolve();
      };
    });
    let child: ChildProcess | undefined;
    const running = coi(['eval', 'dock.coi', ...remote(), '--out', 'killed', '--no-cache', '--concurrency', '2'], cwd, (c) => (child = c));
    await bothHeld;
    // Two workers wait on held items; the three before them are written.
    const finishedAtKill = storedResults(store);
    assert.deepEqual(finishedAtKill.map((x) => x.item).sort(), ['dock.coi#case 1', 'dock.coi#case 2', 'dock.coi#case 3']);
    child!.kill('SIGKILL');
    const killed = await running;
    assert.equal(killed.code, null);
    const inFlight = new Set(asked.filter((i) => i >= holdFrom));
    // A kill in the middle of a write leaves a torn last line: it must be discarded and redone.
    appendFileSync(join(store, 'results.jsonl'), '{"item":"dock.coi#case 4","model":"openai:tiny","mo');
    holdFrom = Infinity;
    held.forEach((release) => release());
    asked.length = 0;

    const resumed = await coi(['eval', '--resume', 'killed', '--json'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming dock/);
    const report = JSON.parse(resumed.stdout) as EvalReport;
    assert.equal(report.counts.results, 6);
    assert.equal(report.counts.missing, 0);
    assert.deepEqual(report.storeProblems, []);
    const results = storedResults(store);
    assert.equal(results.length, 6, 'each triple exactly once');
    assert.equal(new Set(results.map((x) => x.item)).size, 6);
    assert.deepEqual(scores(results), scores(storedResults(join(cwd, 'whole'))));
    // Asked again: the items in flight at the kill, and the ones never started; none that had finished.
    const finished = new Set(finishedAtKill.map((x) => Number(/case (\d+)/.exec(x.item)![1]) - 1));
    assert.ok(asked.every((i) => !finished.has(i)), `asked again for finished items: ${asked.join(', ')}`);
    for (const item of inFlight) assert.ok(asked.includes(item), `in-flight item ${item} was not redone`);
    const wholeReport = JSON.parse(whole.stdout) as EvalReport;
    assert.deepEqual(report.groups.map((g) => g.metrics['final.rougeL']), wholeReport.groups.map((g) => g.metrics['final.rougeL']));
  });

  void test('the tiny GGUF model: scored against the references, and an unchanged re-evaluation makes no model call', async () => {
    server.setReplier(undefined);
    const cwd = project(CASES.slice(0, 2), '\n  max_tokens 6\n  temperature 0');
    const args = ['eval', 'dock.coi', '--model', tinyModelPath(), '--threads', '1', '--json'];
    const first = await coi([...args, '--out', 'first'], cwd);
    assert.equal(first.code, 0, first.stderr);
    const results = storedResults(join(cwd, 'first'));
    assert.equal(results.length, 2);
    for (const result of results) {
      assert.equal(result.error, undefined);
      // The tiny model may write the same summary for both items: the second title then comes from the cache.
      assert.ok(result.modelCalls >= 1 && !result.cached);
      const c = CASES[Number(/case (\d+)/.exec(result.item)![1]) - 1]!;
      assert.equal(result.steps[0]!.rougeL, rougeL(c.summary, result.steps[0]!.output ?? '').fmeasure * 100);
      assert.ok(result.tokensOut > 0);
    }
    const second = await coi([...args, '--out', 'second'], cwd);
    assert.equal(second.code, 0, second.stderr);
    const cached = storedResults(join(cwd, 'second'));
    assert.ok(cached.every((x) => x.cached && x.modelCalls === 0));
    assert.deepEqual(scores(cached), scores(results));
  });

  void test('--max-tokens bounds every answer, is kept in the store, and cannot be changed on --resume', async () => {
    server.setReplier(undefined);
    const cwd = project(CASES.slice(0, 2), '\n  temperature 0');
    const r = await coi(['eval', 'dock.coi', '--model', tinyModelPath(), '--threads', '1', '--max-tokens', '3', '--no-cache', '--out', 'bounded', '--json'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const results = storedResults(join(cwd, 'bounded'));
    assert.equal(results.length, 2);
    for (const result of results) assert.ok(result.tokensOut > 0 && result.tokensOut <= 2 * 3, `${result.item}: ${result.tokensOut} tokens out`);
    assert.equal((JSON.parse(readFileSync(join(cwd, 'bounded', 'eval.json'), 'utf8')) as { settings?: { maxTokens?: number } }).settings?.maxTokens, 3);
    const changed = await coi(['eval', '--resume', 'bounded', '--max-tokens', '50'], cwd);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /--max-tokens cannot be given with it/);
  });

  void test('a composed answer without markers: a split failure scoring 0 per step, while its whole text is still scored', async () => {
    const unsplit = (c: Case): string => `${c.summary} ${c.title}`;
    server.setReplier(({ messages }) => {
      const hit = lookup(referenceReplies(CASES), messages);
      return hit === undefined ? undefined : unsplit(CASES[hit.item]!);
    });
    const cwd = project(CASES.slice(0, 2));
    const r = await coi(['eval', 'dock.coi', ...remote(), '--mode', 'composed', '--out', 'unsplit', '--json', '--no-cache'], cwd);
    assert.equal(r.code, 0, r.stderr);
    for (const result of storedResults(join(cwd, 'unsplit'))) {
      const c = CASES[Number(/case (\d+)/.exec(result.item)![1]) - 1]!;
      assert.equal(result.splitFailed, true);
      assert.deepEqual(result.steps.map((s) => s.rougeL), [0, 0]);
      assert.equal(result.final?.rougeL, 0);
      assert.equal(result.whole?.rougeL, rougeL(joinStepOutputs([c.summary, c.title]), unsplit(c)).fmeasure * 100);
      assert.ok((result.whole?.rougeL ?? 0) > 50);
    }
  });

  void test('an answer of 1 MB of one letter is recorded once per step and scored (its stemming once overflowed the stack, losing the output)', async () => {
    const ys = 'y'.repeat(1 << 20);
    server.setReplier(() => ys);
    try {
      const cwd = project(CASES.slice(0, 1));
      const r = await coi(['eval', 'dock.coi', ...remote(), '--out', 'ys', '--json', '--no-cache'], cwd);
      assert.equal(r.code, 0, r.stderr);
      const [result, ...others] = storedResults(join(cwd, 'ys'));
      assert.equal(others.length, 0);
      assert.equal(result!.error, undefined);
      assert.deepEqual(result!.steps.map((s) => [s.output === ys, s.rougeL]), [[true, 0], [true, 0]]);
      assert.equal(result!.final.rougeL, 0);
      // The final output is the last step's: written once (the line held 3 MB, now 2 MB), read back in place.
      const line = readFileSync(join(cwd, 'ys', 'results.jsonl'), 'utf8');
      assert.equal(line.split(ys).length - 1, 2);
      assert.ok(line.length < 2.1 * ys.length, `${line.length} characters`);
      assert.equal(readEvalStore(join(cwd, 'ys')).results[0]!.final.output, ys);
    } finally {
      server.setReplier(undefined);
    }
  });

  void test('bad input: one clear message and exit 2, nothing run', async () => {
    server.setReplier(() => 'never asked');
    const before = server.count('/v1/chat/completions');
    const cwd = project();
    writeFileSync(join(cwd, 'rows.jsonl'), '{"report": "one"}\n{"report": "two"}\n{"report": \n');
    writeFileSync(join(cwd, 'rows.csv'), 'text,expected.summary\nhello,hi\n');
    writeFileSync(join(cwd, 'empty.jsonl'), '\n\n');
    writeFileSync(join(cwd, 'missing.json'), '[{"report": "one"}, {"other": "two"}]');
    writeFileSync(join(cwd, 'records.json'), '{"instruction": "x"}');
    writeFileSync(join(cwd, 'broken.json'), '[\n{"report": }\n]');
    writeFileSync(join(cwd, 'broken-records.jsonl'), '{"instruction": "x"\n');
    writeFileSync(join(cwd, 'file'), 'not a folder');
    const cases: readonly [readonly string[], RegExp][] = [
      // The place is said once, first (not "line 3: ... at line 3, column 11").
      [['eval', 'dock.coi', '--dataset', 'rows.jsonl', ...remote()], /rows\.jsonl: line 3, column 12: invalid JSON: [^\n]+\.\n/],
      [['eval', 'dock.coi', '--dataset', 'broken.json', ...remote()], /broken\.json: line 2, column 12: invalid JSON: Unexpected token '}'\.\n/],
      [['eval', '--records', 'broken-records.jsonl', ...remote()], /broken-records\.jsonl: line 1, column 20: Invalid JSON: [^\n]+\.\n/],
      [['eval', 'dock.coi', '--dataset', 'rows.csv', ...remote()], /rows\.csv: line 1: the header has no column 'report' for the chain input \(columns: text, expected\.summary\)/],
      [['eval', 'dock.coi', '--dataset', 'empty.jsonl', ...remote()], /empty\.jsonl: the dataset is empty/],
      [['eval', 'dock.coi', '--dataset', 'missing.json', ...remote()], /missing\.json: row 2: no value for the chain input 'report'/],
      [['eval', '--records', 'records.json', ...remote()], /records\.json: .*not the paper's record format/s],
      [['eval', 'dock.coi', ...remote(), '--out', 'file/store'], /Cannot write the evaluation store .*file\/store/],
      [['eval', 'dock.coi'], /No model to evaluate with/],
      [['eval', 'dock.coi', ...remote(), '--name', ' '], /--name is empty: give the evaluation a name/],
      [['eval', '--resume', 'nowhere'], /'.*nowhere' does not exist: name an evaluation store/],
      // report and compare run nothing: an evaluation's option would be silently ignored.
      [['eval', 'report', 'nowhere', '--model', 'openai:tiny'], /^coi eval: --model goes with 'coi eval', not with 'coi eval report' \(it reads a store and runs nothing\)\.$/m],
      [['eval', 'report', 'nowhere', '--concurrency', '2', '--mode', 'both'], /^--concurrency goes with 'coi eval', not with 'coi eval report' \(it reads a store and runs nothing\)\.$/m],
      [['eval', 'compare', 'a', 'b', '--fail-on-expectations'], /--fail-on-expectations goes with 'coi eval' and 'coi eval report', not with 'coi eval compare' \(it reads two stores and runs nothing\)\./],
      [['eval', 'compare', 'a', 'b', '--resume', 'a'], /--resume goes with 'coi eval', not with 'coi eval compare'/],
    ];
    for (const [args, message] of cases) {
      const r = await coi(args, cwd);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stderr, /(at|on) line \d|at column \d/, 'the place is said once');
    }
    assert.equal(server.count('/v1/chat/completions'), before);

    // A store of another configuration, and data changed since: refused, results kept.
    const replies = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const ok = await coi(['eval', 'dock.coi', ...remote(), '--out', 'kept', '--no-cache'], cwd);
    assert.equal(ok.code, 0, ok.stderr);
    const again = await coi(['eval', 'dock.coi', ...remote(), '--mode', 'composed', '--out', 'kept'], cwd);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /holds another evaluation: the modes \(stored: stepwise; now: composed\) changed/);
    writeFileSync(join(cwd, 'dock.coi'), chainText(CASES.map((c, i) => (i === 0 ? { ...c, title: 'A changed title' } : c))));
    const changed = await coi(['eval', '--resume', 'kept'], cwd);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /The data of the evaluation in '.*kept' changed since it started/);
    assert.equal(storedResults(join(cwd, 'kept')).length, 6);
  });

  void test('a model that cannot serve (the key refused, nothing listening) stops the evaluation at once, records nothing, and resumes once fixed', async () => {
    const replies = referenceReplies(CASES);
    const reply: Parameters<typeof startOpenAITestServer>[0] = { apiKey: 'the-right-key', reply: ({ messages }) => lookup(replies, messages)?.reply };
    const keyed = await startOpenAITestServer(reply);
    const cwd = project();
    try {
      const refused = await withKey(['eval', 'dock.coi', '--model', 'openai:tiny', '--base-url', keyed.baseURL, '--out', 'key', '--no-cache'], cwd, 'a-wrong-key');
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /Stopped: openai:tiny cannot serve the evaluation: The server at .* rejected the API key \(401\)/);
      assert.match(refused.stderr, /\n0\/6 done; what finished is in the store, the items that failed for this reason are not\. When it is fixed: coi eval --resume key --api-key-env EVAL_KEY\n/);
      assert.deepEqual(storedResults(join(cwd, 'key')), [], 'no item recorded as failed: a resume runs them all');
      assert.equal(refused.stdout, '', 'no table of zeros: nothing was scored');
      assert.ok(keyed.count('/v1/chat/completions') <= 4, `stopped at once (${keyed.count('/v1/chat/completions')} requests, concurrency 4)`);
      const resumed = await withKey(['eval', '--resume', 'key', '--json'], cwd, 'the-right-key');
      assert.equal(resumed.code, 0, resumed.stderr);
      const stored = storedResults(join(cwd, 'key'));
      assert.equal(stored.length, 6);
      assert.equal(new Set(stored.map((r) => r.item)).size, 6, 'every item once');
      assert.ok(stored.every((r) => r.error === undefined && r.final.rougeL === 100));
    } finally {
      await keyed.close();
    }

    // Nothing listening at the base URL; the same server back on its port, the resume completes.
    const gone = await startOpenAITestServer(reply);
    const port = Number(new URL(gone.baseURL).port);
    await gone.close();
    const down = await withKey(['eval', 'dock.coi', '--model', 'openai:tiny', '--base-url', gone.baseURL, '--out', 'down', '--no-cache'], cwd, 'the-right-key');
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /Stopped: openai:tiny cannot serve the evaluation: Could not reach .*connection refused/);
    assert.deepEqual(storedResults(join(cwd, 'down')), []);
    const back = await startOpenAITestServer({ ...reply, port });
    try {
      const resumed = await withKey(['eval', '--resume', 'down'], cwd, 'the-right-key');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(storedResults(join(cwd, 'down')).length, 6);
    } finally {
      await back.close();
    }
  });

  void test("server failures: three items in a row stop the evaluation unrecorded; among answers an item runs once more, then its failure is its own", async () => {
    const replies = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const cwd = project();
    // Every try of three items in a row (1 + 4 retries each, at once: Retry-After 0) answers 500.
    const fiveHundred = (): { kind: 'status'; status: number; retryAfter: string }[] => Array.from({ length: 5 }, () => ({ kind: 'status', status: 500, retryAfter: '0' }));
    server.injectFaults([...fiveHundred(), ...fiveHundred(), ...fiveHundred()]);
    const down = await coi(['eval', 'dock.coi', ...remote(), '--out', 'down', '--no-cache', '--concurrency', '1'], cwd);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /Stopped: openai:tiny failed 3 items in a row: The server at .* answered HTTP 500/);
    assert.match(down.stderr, /\ntiny at http:\/\/127\.0\.0\.1:\d+\/v1: HTTP 500; trying again in 0 ms \(retry 1\)\n/, 'the retries are shown');
    assert.deepEqual(storedResults(join(cwd, 'down')), [], 'the held failures are not recorded');
    const resumed = await coi(['eval', '--resume', 'down', '--json'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as EvalReport).counts.failures, 0);
    assert.equal(storedResults(join(cwd, 'down')).length, 6);

    // Case 1 fails once on the server's side (a restart): run again once case 2 answered, it
    // succeeds. Cases 3 and 6 fail on every try (prompts that crash the server): case 3 is
    // recorded as its own failure after its second chance, case 6 when the evaluation ends.
    const crashing = [CASES[2]!.input, CASES[5]!.input];
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    server.setFaultChooser(({ body }) => (crashing.some((input) => JSON.stringify(body).includes(input)) ? { kind: 'status', status: 500, retryAfter: '0' } : undefined));
    server.injectFaults(fiveHundred());
    const asked = (input: string): number => server.requests.filter((r) => r.path === '/v1/chat/completions' && JSON.stringify(r.body).includes(input)).length;
    const before = CASES.map((c) => asked(c.input));
    let some: CliResult;
    try {
      some = await coi(['eval', 'dock.coi', ...remote(), '--out', 'some', '--no-cache', '--concurrency', '1', '--json'], cwd);
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.equal(some.code, 0, some.stderr);
    const stored = storedResults(join(cwd, 'some'));
    assert.equal(stored.length, 6);
    assert.deepEqual(stored.filter((r) => r.error !== undefined).map((r) => r.item).sort(), ['dock.coi#case 3', 'dock.coi#case 6']);
    assert.ok(stored.filter((r) => r.error !== undefined).every((r) => /HTTP 500/.test(r.error ?? '')));
    assert.equal(stored.find((r) => r.item === 'dock.coi#case 1')?.final.rougeL, 100, 'case 1 ran again and succeeded');
    // First-step requests (a failing try is 1 + 4 retries): case 1 five, then one more; case 3
    // five on each of its two chances; case 6 five on its one.
    assert.deepEqual(CASES.map((c, i) => asked(c.input) - (before[i] ?? 0)), [6, 1, 10, 1, 1, 5]);
    assert.equal((JSON.parse(some.stdout) as EvalReport).counts.failures, 2);
  });

  void test('failed items are named after the summary on stderr (5 at most, escaped, with the command that lists them all); --json keeps stdout JSON; --resume too; report --failures lists every one', async () => {
    const replies = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const cwd = project();
    // Cases 1 to 4 are refused in both modes (8 failed results); the error's first line carries an escape sequence.
    const refused = CASES.slice(0, 4).map((c) => c.input);
    server.setFaultChooser(({ body }) => (refused.some((input) => JSON.stringify(body).includes(input)) ? { kind: 'status', status: 400, message: 'Refused \u001b]0;pwned\u0007 input\nsecond line of the error' } : undefined));
    let many: CliResult;
    let resumed: CliResult;
    try {
      many = await coi(['eval', 'dock.coi', ...remote(), '--mode', 'both', '--out', 'many', '--no-cache', '--concurrency', '1', '--json'], cwd);
      resumed = await coi(['eval', '--resume', 'many', '--json'], cwd);
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.equal(many.code, 0, many.stderr);
    assert.equal((JSON.parse(many.stdout) as EvalReport).counts.failures, 8, 'stdout is the JSON report alone');
    const section = /\nFailed items \(8\):\n((?: {2}.*\n){6})$/.exec(many.stderr);
    assert.ok(section !== null, many.stderr);
    const lines = section[1]!.split('\n').slice(0, 6);
    assert.deepEqual(lines.slice(0, 5).map((l) => /^ {2}(dock\.coi#case \d) \((stepwise|composed)\): /.exec(l)?.slice(1, 3).join(' ')), ['dock.coi#case 1 stepwise', 'dock.coi#case 1 composed', 'dock.coi#case 2 stepwise', 'dock.coi#case 2 composed', 'dock.coi#case 3 stepwise']);
    for (const line of lines.slice(0, 5)) {
      assert.match(line, /: (Step "summary"|The composed generation): The server at http:\/\/127\.0\.0\.1:\d+\/v1 \(model tiny\) answered HTTP 400: "Refused \\u001b\]0;pwned\\u0007 input\\nsecond line of the error"\.$/, 'the error, its control characters escaped');
      assert.ok(!line.includes('\u001b') && !line.includes('\u0007'), line);
    }
    assert.equal(lines[5], '  … and 3 more: coi eval report many --failures lists them all.');
    assert.ok(/Done: 12 run now, 0 already in the store, 8 failures\.\nFailed items/.test(many.stderr), 'after the summary');

    assert.equal(resumed.code, 0, resumed.stderr);
    JSON.parse(resumed.stdout);
    assert.match(resumed.stderr, /Done: 0 run now, 12 already in the store, 8 failures\.\nFailed items \(8\):\n {2}dock\.coi#case 1 \(stepwise\): [^\n]*\n(?: {2}[^\n]*\n){4} {2}… and 3 more: coi eval report many --failures lists them all\.\n$/);

    // The command named lists every one: as JSON, and as a table with each whole error.
    const listed = await coi(['eval', 'report', 'many', '--failures', '--json'], cwd);
    assert.equal(listed.code, 0, listed.stderr);
    const all = JSON.parse(listed.stdout) as { item: string; model: string; label: string; mode: string; error: string }[];
    assert.deepEqual(all.map((f) => `${f.item} ${f.mode}`), [1, 2, 3, 4].flatMap((n) => [`dock.coi#case ${n} stepwise`, `dock.coi#case ${n} composed`]));
    assert.ok(all.every((f) => f.model === 'openai:tiny' && /HTTP 400: "Refused \\u001b\]0;pwned\\u0007 input\\nsecond line of the error"/.test(f.error)));
    const table = await coi(['eval', 'report', 'many', '--failures'], cwd);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^dock\.coi#case 1 · openai:tiny · stepwise\n {2}Step "summary": .*HTTP 400: "Refused \\u001b\]0;pwned\\u0007 input\\nsecond line of the error"\.\ndock\.coi#case 1 · openai:tiny · composed\n/);
    const misplaced = await coi(['eval', 'dock.coi', ...remote(), '--failures'], cwd);
    assert.equal(misplaced.code, 2, misplaced.stderr);

    // Few failures, one model and mode: every one by its id alone, and the command for the whole errors.
    server.injectFaults([{ kind: 'status', status: 400, message: 'Injected refusal' }]);
    const few = await coi(['eval', 'dock.coi', ...remote(), '--out', 'few', '--no-cache', '--concurrency', '1'], cwd);
    assert.equal(few.code, 0, few.stderr);
    assert.match(few.stderr, /\nFailed item \(1\):\n {2}dock\.coi#case 1: Step "summary": [^\n]*Injected refusal\.\n {2}With its whole error: coi eval report few --failures\n$/);
    const none = await coi(['eval', 'dock.coi', ...remote(), '--out', 'none', '--no-cache'], cwd);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /Done: 6 run now, 0 already in the store, 0 failures\.\n$/, 'no section without failures');
  });

  void test('a model failing on some items: recorded as failures, the evaluation goes on; --max-failures stops it; --fail-on-expectations', async () => {
    const replies = referenceReplies(CASES);
    server.setReplier(({ messages }) => lookup(replies, messages)?.reply);
    const cwd = project();
    mkdirSync(join(cwd, 'sub'));
    server.injectFaults([{ kind: 'status', status: 400, message: 'Injected refusal' }]);
    const r = await coi(['eval', 'dock.coi', ...remote(), '--out', 'failing', '--no-cache', '--concurrency', '1', '--json'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as EvalReport;
    assert.equal(report.counts.failures, 1);
    assert.equal(report.groups[0]!.n, 5);
    const failed = storedResults(join(cwd, 'failing')).filter((x) => x.error !== undefined);
    assert.equal(failed.length, 1);
    assert.match(failed[0]!.error!, /Injected refusal/);

    server.injectFaults([{ kind: 'status', status: 400 }, { kind: 'status', status: 400 }]);
    const stopped = await coi(['eval', 'dock.coi', ...remote(), '--out', 'stopped', '--no-cache', '--concurrency', '1', '--max-failures', '2'], cwd);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /Stopped: 2 items failed in this run \(--max-failures 2\); 2\/6 done\. The failures are recorded as those items' results; a resume does not run them again\. Once the cause is fixed, coi eval --resume stopped runs the 4 not yet run\.\n/);
    assert.equal(storedResults(join(cwd, 'stopped')).length, 2);
    // The resume the message names gets past the stop: the limit (kept in the store) counts this run's failures only.
    server.injectFaults([{ kind: 'status', status: 400 }]);
    const resumed = await coi(['eval', '--resume', 'stopped', '--json'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Done: 4 run now, 2 already in the store, 3 failures\./);
    const all = storedResults(join(cwd, 'stopped'));
    assert.equal(all.length, 6);
    assert.equal(new Set(all.map((x) => x.item)).size, 6, 'every item once');
    assert.equal(all.filter((x) => x.error !== undefined).length, 3, 'the earlier failures stay recorded');

    server.setReplier(() => 'Something else entirely');
    const expectations = await coi(['eval', 'dock.coi', ...remote(), '--out', 'wrong', '--no-cache', '--fail-on-expectations'], cwd);
    assert.equal(expectations.code, 1, expectations.stderr);
    assert.match(expectations.stderr, /12 expectations failed \(--fail-on-expectations\)/);

    // The report of a stored evaluation gates CI the same way (the flag was accepted and ignored).
    const gated = await coi(['eval', 'report', 'wrong', '--fail-on-expectations'], cwd);
    assert.equal(gated.code, 1, gated.stderr);
    assert.match(gated.stderr, /12 expectations failed \(--fail-on-expectations\)/);
    assert.match(gated.stdout, /Evaluation dock/);
    const passing = await coi(['eval', 'report', 'failing', '--fail-on-expectations'], cwd);
    assert.equal(passing.code, 0, passing.stderr);
    assert.equal((await coi(['eval', 'report', 'wrong'], cwd)).code, 0);
  });

  /** Answers with `reply` but holds items `holdFrom` and later until `release()`; `held(n)` resolves once n are held. */
  const holdingServer = (reply: (messages: readonly ChatMessage[]) => string | undefined, holdFrom: number) => {
    const replies = referenceReplies(CASES);
    const waiting: (() => void)[] = [];
    let onHeld: (() => void) | undefined;
    let holding = true;
    server.setReplier(async ({ messages }) => {
      const found = lookup(replies, messages);
      if (found === undefined) return undefined;
      if (holding && found.item >= holdFrom) {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          onHeld?.();
        });
      }
      return reply(messages);
    });
    return {
      held: (count: number): Promise<void> =>
        new Promise((resolve) => {
          onHeld = () => waiting.length >= count && resolve();
          onHeld();
        }),
      release: (): void => {
        holding = false;
        waiting.splice(0).forEach((resume) => resume());
      },
    };
  };

  void test('--fail-on-expectations is kept in the store: a run cancelled with Ctrl-C and resumed exits 1 as the uninterrupted one would', async () => {
    const cwd = project();
    const hold = holdingServer(() => 'Something else entirely', 3);
    let child: ChildProcess | undefined;
    const running = coi(['eval', 'dock.coi', ...remote(), '--out', 'strict', '--no-cache', '--concurrency', '2', '--fail-on-expectations'], cwd, (c) => (child = c));
    await hold.held(2);
    child!.kill('SIGINT');
    const cancelled = await running;
    hold.release();
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /Continue with: coi eval --resume strict\n/);
    assert.equal(existsSync(join(cwd, 'strict', LOCK_FILE)), false, 'Ctrl-C released the store');
    assert.equal((JSON.parse(readFileSync(join(cwd, 'strict', 'eval.json'), 'utf8')) as { settings?: { failOnExpectations?: boolean } }).settings?.failOnExpectations, true);

    const resumed = await coi(['eval', '--resume', 'strict'], cwd);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, /12 expectations failed \(--fail-on-expectations\)/);

    // What --resume refuses says what it takes, --fail-on-expectations among them.
    const refused = await coi(['eval', '--resume', 'strict', '--mode', 'composed'], cwd);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--mode cannot be given with it \(only --api-key-env, --api-key-header, --threads, --context, --no-cache, --timeout, --concurrency, --endpoint, --max-failures, --fail-on-expectations, --format, --json\)/);
  });

  void test('one process writes a store at a time: a second evaluation of it is refused (exit 2) and writes nothing; a stale lock is taken over', async () => {
    const cwd = project();
    const replies = referenceReplies(CASES);
    const hold = holdingServer((messages) => lookup(replies, messages)?.reply, 3);
    let first: ChildProcess | undefined;
    const running = coi(['eval', 'dock.coi', ...remote(), '--out', 'busy', '--no-cache', '--concurrency', '2'], cwd, (c) => (first = c));
    try {
      await hold.held(2);
      const asked = server.count('/v1/chat/completions');
      const second = await coi(['eval', '--resume', 'busy'], cwd);
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`is being written by coi \\(pid ${first!.pid!} on [^)]+\\): wait for it to finish, or delete .*busy/${LOCK_FILE} if no such process runs`));
      assert.equal(server.count('/v1/chat/completions'), asked, 'the second one asked the model nothing');
      assert.equal(storedResults(join(cwd, 'busy')).length, 3, 'and wrote nothing');
      const report = await coi(['eval', 'report', 'busy', '--json'], cwd);
      assert.equal(report.code, 0, 'a report needs no lock');
    } finally {
      hold.release();
    }
    const done = await running;
    assert.equal(done.code, 0, done.stderr);
    const results = storedResults(join(cwd, 'busy'));
    assert.equal(results.length, 6);
    assert.equal(new Set(results.map((x) => x.item)).size, 6, 'every item once');
    assert.equal(existsSync(join(cwd, 'busy', LOCK_FILE)), false, 'released when it finished');

    // A lock left by a coi that was killed (no such process any more) does not block a resume.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(cwd, 'busy', LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const resumed = await coi(['eval', '--resume', 'busy'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Done: 0 run now, 6 already in the store/);
    assert.equal(existsSync(join(cwd, 'busy', LOCK_FILE)), false);
  });
});
