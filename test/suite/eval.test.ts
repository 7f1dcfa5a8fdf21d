// Evaluations from the editor (issue 9), inside the extension host: CoI: Run Evaluation with
// the quick picks answered in advance (this chain's tests, its `api` profile, stepwise) against
// the OpenAI-protocol test server on 127.0.0.1, told to reply with the references (ROUGE-L 100);
// the Markdown report opens; an evaluation cancelled mid-way keeps what finished, and
// CoI: Resume Evaluation runs only what is missing, to the full result.
// Audited: a records evaluation ignores the active chain; a second one is refused before it asks or saves;
// Resume lists a fine-tuning job's evaluation and resumes a store on its --endpoint servers.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { EvalReport, EvalResult, EvalRunSummary } from '../../core/eval/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { storedResults } from '../helpers/evalStore';
import { writeCompletedJob } from '../helpers/jobFixture';
import { venvLocation } from '../../core/finetune';
import { activateExtension, fixtureUri, testServerProfile, waitFor } from './util';

interface EvalOutcome {
  readonly summary: EvalRunSummary;
  readonly report: EvalReport;
  readonly reportFile?: string;
}

const CASES = Array.from({ length: 4 }, (_, i) => ({
  article: `Report ${i + 1}: the harbour crew repaired ${i + 2} cranes and reopened the east dock.`,
  summary: `The crew repaired ${i + 2} cranes.`,
}));

function chainText(baseUrl: string): string {
  const tests = CASES.map((c, i) => `test "case ${i + 1}" {\n  given article = ${JSON.stringify(c.article)}\n  expect summary rouge_l >= 0.5 ${JSON.stringify(c.summary)}\n}`);
  return `chain dock_eval

${testServerProfile(baseUrl)}

input article: text

step summary {
  instruction "Summarize the article in one sentence."
}

${tests.join('\n\n')}
`;
}

/** The index of the case a chat request is about (its article is in the last user message). */
function caseOf(messages: readonly { role: string; content: string }[]): number {
  const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return CASES.findIndex((c) => user.includes(c.article));
}

/** The cases as the paper's records (JSON array), the references as outputs; returns the path. */
function writeRecords(path: string): string {
  writeFileSync(path, JSON.stringify(CASES.map((c) => ({ instruction: 'Summarize the article in one sentence.', input: c.article, output: c.summary }))));
  return path;
}

/** Replies to a record's prompt with its reference. */
function referenceOfRecord({ messages }: { readonly messages: readonly { content: string }[] }): string {
  return CASES.find((c) => messages.some((m) => m.content.includes(c.article)))?.summary ?? 'No idea.';
}

/** The store's results; none before the evaluation has created its results file. */
function readResults(dir: string): EvalResult[] {
  return existsSync(join(dir, 'results.jsonl')) ? storedResults(dir) : [];
}

/** Resolves when `dir/results.jsonl` holds `count` results, re-checking on each change of the folder. */
function waitForResults(dir: string, count: number, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, () => check());
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`timed out waiting for ${count} results in ${dir} (have ${readResults(dir).length})`));
    }, timeoutMs);
    function check(): void {
      if (readResults(dir).length < count) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
    check();
  });
}

describe('evaluations in the editor', function () {
  this.timeout(120_000);
  let server: OpenAITestServer;
  let stores: string;
  const uri = fixtureUri('dock-eval.coi');
  /** Chat requests per case index. */
  const asked = (): number[] => {
    const counts = CASES.map(() => 0);
    for (const r of server.requests) {
      if (r.path !== '/v1/chat/completions') continue;
      const index = caseOf((r.body as { messages: { role: string; content: string }[] }).messages);
      if (index >= 0) counts[index] = (counts[index] ?? 0) + 1;
    }
    return counts;
  };

  before(async () => {
    await activateExtension();
    server = await startOpenAITestServer();
    writeFileSync(uri.fsPath, chainText(server.baseURL));
    stores = mkdtempSync(join(tmpdir(), 'coi-suite-evals-'));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await server.close();
    rmSync(uri.fsPath, { force: true });
    rmSync(stores, { recursive: true, force: true });
  });

  it('offers Evaluate on a chain with tests', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    const evaluate = lenses.find((l) => l.command?.command === 'coi.runEvaluation');
    assert.ok(evaluate, 'an Evaluate lens');
    assert.equal(evaluate.range.start.line, 0);
    assert.deepEqual(evaluate.command?.arguments, [uri.toString()]);
  });

  it('evaluates the chain on its tests with the chosen profile; the report opens as a Markdown preview', async () => {
    server.setReplier(({ messages }) => CASES[caseOf(messages)]?.summary);
    const out = join(stores, 'complete');
    const outcome = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out });
    assert.ok(outcome, 'the evaluation ran');
    assert.equal(outcome.summary.status, 'complete');
    assert.equal(outcome.summary.done, 4);
    const group = outcome.report.groups[0];
    assert.equal(group?.label, 'api');
    assert.equal(group?.n, 4);
    assert.equal(group?.metrics['final.rougeL']?.mean, 100, 'the server replied with the references');
    assert.deepEqual(group?.expectations, { passed: 4, failed: 0, total: 4 });
    assert.equal(outcome.reportFile, join(out, 'report.md'));
    assert.match(readFileSync(outcome.reportFile, 'utf8'), /\| api · stepwise \| 4 \| 100\.0 \[100\.0, 100\.0\] \|/);
    const preview = await waitFor(vscode.window.tabGroups.onDidChangeTabs, () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.includes('report.md')), 'the report preview');
    assert.ok(preview.input instanceof vscode.TabInputWebview, `a preview, not the file: ${preview.label}`);
    assert.equal(readResults(out).length, 4);
  });

  it('is cancelled mid-way with what finished kept, and resumes to the full result asking only for the rest', async () => {
    const out = join(stores, 'cancelled');
    const before = asked();
    let release: () => void = () => undefined;
    const held = new Promise<string | undefined>((resolve) => (release = () => resolve(undefined)));
    let heldSeen: () => void = () => undefined;
    const heldArrived = new Promise<void>((resolve) => (heldSeen = resolve));
    let heldCount = 0;
    // Cases 1 and 2 are answered; 3 and 4 are held until the evaluation is cancelled. The
    // cancel waits for both held requests to reach the server: one sent but not yet read there
    // (the server shares the extension host's thread) would be counted during the resume.
    server.setReplier(({ messages }) => {
      const index = caseOf(messages);
      if (index < 2) return CASES[index]?.summary;
      if (++heldCount === 2) heldSeen();
      return held;
    });
    const running = vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out });
    await heldArrived;
    await waitForResults(out, 2);
    assert.equal(await vscode.commands.executeCommand('coi.cancelEvaluation'), true);
    const cancelled = await running;
    release();
    assert.ok(cancelled);
    assert.equal(cancelled.summary.status, 'cancelled');
    assert.equal(cancelled.summary.done, 2);
    assert.equal(cancelled.reportFile, undefined, 'no report for an unfinished evaluation');
    assert.deepEqual(readResults(out).map((r) => r.item).sort(), ['dock-eval.coi#case 1', 'dock-eval.coi#case 2']);

    server.setReplier(({ messages }) => CASES[caseOf(messages)]?.summary);
    const beforeResume = asked();
    const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation', out);
    assert.ok(resumed);
    assert.equal(resumed.summary.status, 'complete');
    assert.equal(resumed.summary.ranNow, 2);
    assert.equal(resumed.report.groups[0]?.metrics['final.rougeL']?.mean, 100);
    const items = readResults(out).map((r) => r.item).sort();
    assert.deepEqual(items, CASES.map((_, i) => `dock-eval.coi#case ${i + 1}`), 'every item exactly once');
    const askedOnResume = asked().map((n, i) => n - (beforeResume[i] ?? 0));
    assert.deepEqual(askedOnResume, [0, 0, 1, 1], 'only the unfinished items were asked again');
    assert.deepEqual(asked().map((n, i) => n - (before[i] ?? 0)), [1, 1, 2, 2]);
  });

  it('evaluates a sample of a large dataset, kept in the store, and a resume keeps to the same items', async () => {
    const rows = join(stores, 'rows.jsonl');
    const articles = Array.from({ length: 60 }, (_, i) => `Dock log ${i + 1}: the crew moved ${i + 3} containers.`);
    writeFileSync(rows, articles.map((article) => JSON.stringify({ article })).join('\n') + '\n');
    server.setReplier(() => 'The crew moved containers.');
    const out = join(stores, 'sample');
    const subset = { kind: 'sample', count: 5, seed: 3 } as const;
    // The key refused at first: nothing recorded, so the resume below runs the whole sample.
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
    let stopped: EvalOutcome | undefined;
    try {
      stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'dataset', file: rows, models: ['profile:api'], mode: 'stepwise', subset, out });
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.equal(stopped?.summary.status, 'model-down');
    assert.equal(stopped?.summary.total, 5, 'five of the sixty rows');
    const stored = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { source: { subset?: unknown } };
    assert.deepEqual(stored.source.subset, subset, 'the sample is kept in eval.json');
    const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation', out);
    assert.equal(resumed?.summary.status, 'complete');
    assert.equal(resumed?.summary.ranNow, 5);
    const items = readResults(out).map((r) => r.item);
    assert.equal(new Set(items).size, 5);
    assert.notDeepEqual(items.sort(), ['row 1', 'row 2', 'row 3', 'row 4', 'row 5'], 'drawn at random, not the first five');
  });

  it('stops when the model cannot serve (the key refused), records nothing, and resumes once it can', async () => {
    const out = join(stores, 'refused');
    server.setReplier(({ messages }) => CASES[caseOf(messages)]?.summary);
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
    let stopped: EvalOutcome | undefined;
    try {
      stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out });
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.ok(stopped);
    assert.equal(stopped.summary.status, 'model-down');
    assert.match(stopped.summary.message ?? '', /^api cannot serve the evaluation: The server at .* rejected the .*\(401\)/);
    assert.equal(stopped.summary.done, 0);
    assert.equal(stopped.reportFile, undefined);
    assert.deepEqual(readResults(out), [], 'nothing recorded: the resume runs every item');
    const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation', out);
    assert.ok(resumed);
    assert.equal(resumed.summary.status, 'complete');
    assert.equal(resumed.summary.ranNow, 4);
    assert.equal(resumed.report.groups[0]?.metrics['final.rougeL']?.mean, 100);
  });

  it("a resume from the editor keeps the store's failure limit and concurrency (coi eval --max-failures 1 --concurrency 1)", async () => {
    const out = join(stores, 'limited');
    server.setReplier(({ messages }) => CASES[caseOf(messages)]?.summary);
    const refused = { kind: 'status', status: 401, message: 'Incorrect API key provided' } as const;
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? refused : undefined));
    try {
      const stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out });
      assert.equal(stopped?.summary.status, 'model-down');
      // As `coi eval --max-failures 1 --concurrency 1` keeps them in the store (settings are not part of its configuration hash).
      const config = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { settings?: Record<string, unknown> };
      writeFileSync(join(out, 'eval.json'), JSON.stringify({ ...config, settings: { ...config.settings, maxFailures: 1, concurrency: 1 } }, null, 2));
      // Every item now fails on its own (a request the server rejects), not the model.
      server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 400, message: 'This request is malformed' } : undefined));
      const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation', out);
      assert.equal(resumed?.summary.status, 'max-failures', 'stopped at the first failed item, as the CLI would');
      assert.equal(readResults(out).length, 1);
    } finally {
      server.setFaultChooser(undefined);
    }
  });
  // The editor, audited (1): a records file brings its own chains; the active chain is not used.
  it('evaluates a records file with a broken, unsaved chain active: the chain is neither refused nor saved', async () => {
    const records = writeRecords(join(stores, 'held-out.json'));
    const brokenUri = fixtureUri('audit-broken-active.coi');
    const onDisk = 'chain broken_active\n\ninput text: text\n\nstep s {\n  instruction "Repeat the text."\n}\n';
    writeFileSync(brokenUri.fsPath, onDisk);
    try {
      const document = await vscode.workspace.openTextDocument(brokenUri);
      const editor = await vscode.window.showTextDocument(document);
      await editor.edit((b) => b.insert(new vscode.Position(4, 0), 'step {\n'));
      assert.ok(document.isDirty && vscode.window.activeTextEditor?.document === document, 'the broken chain is active and unsaved');
      server.setReplier(referenceOfRecord);
      const out = join(stores, 'records-beside-broken');
      const outcome = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', undefined, { source: 'records', file: records, models: ['openai:tiny'], baseUrl: server.baseURL, mode: 'composed', out });
      assert.equal(outcome?.summary.status, 'complete', 'the records were evaluated');
      assert.equal(outcome.summary.done, CASES.length);
      assert.ok(document.isDirty, 'the unrelated chain was saved');
      assert.equal(readFileSync(brokenUri.fsPath, 'utf8'), onDisk, 'the unrelated chain was written to disk');
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      rmSync(brokenUri.fsPath, { force: true });
    }
  });

  // The editor, audited (4): a second evaluation is refused before it asks or saves anything.
  it('refuses a second evaluation while one runs, before saving the chain', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<string | undefined>((resolve) => (release = () => resolve(undefined)));
    let heldSeen: () => void = () => undefined;
    const heldArrived = new Promise<void>((resolve) => (heldSeen = resolve));
    server.setReplier(() => {
      heldSeen();
      return held;
    });
    const running = vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out: join(stores, 'first-of-two') });
    try {
      await heldArrived;
      const document = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(document);
      await editor.edit((b) => b.insert(new vscode.Position(document.lineCount, 0), '\n# an unsaved note\n'));
      const second = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out: join(stores, 'second-of-two') });
      assert.equal(second, undefined, 'a second evaluation started');
      assert.ok(document.isDirty, 'the refused evaluation saved the chain first');
      assert.ok(!existsSync(join(stores, 'second-of-two')), 'the refused evaluation made a store');
    } finally {
      await vscode.commands.executeCommand('coi.cancelEvaluation');
      release();
      await running;
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  // The editor, audited (3): a fine-tuning job's evaluation against its base is resumable from the palette.
  it("CoI: Resume Evaluation… offers a fine-tuning job's interrupted evaluation (.coi-jobs/<id>/eval/<time>/)", async () => {
    const records = writeRecords(join(stores, 'held-out-job.json'));
    const jobs = fixtureUri('.coi-jobs').fsPath;
    const out = join(jobs, 'job-audit', 'eval', '2026-01-01T00-00-00-000Z');
    mkdirSync(join(jobs, 'job-audit', 'eval'), { recursive: true });
    server.setReplier(referenceOfRecord);
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
    const window = vscode.window as { showQuickPick: unknown };
    const showQuickPick = window.showQuickPick;
    try {
      const stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', undefined, { source: 'records', file: records, models: ['openai:tiny'], baseUrl: server.baseURL, mode: 'composed', out });
      assert.equal(stopped?.summary.status, 'model-down', 'interrupted, nothing recorded');
      server.setFaultChooser(undefined);
      let offered: string[] = [];
      window.showQuickPick = async (items: readonly { dir?: string }[]) => {
        offered = items.map((i) => i.dir ?? '');
        return items.find((i) => i.dir === out);
      };
      const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation');
      assert.ok(offered.includes(out), `the job's store is offered: ${JSON.stringify(offered)}`);
      assert.equal(resumed?.summary.status, 'complete');
      assert.equal(resumed.summary.ranNow, CASES.length);
    } finally {
      window.showQuickPick = showQuickPick;
      server.setFaultChooser(undefined);
      rmSync(jobs, { recursive: true, force: true });
    }
  });

  // The editor, audited (5): a store started with `coi eval --endpoint URL` resumes on its endpoints.
  it("resumes a store on its --endpoint servers, not only the base URL", async () => {
    const first = await startOpenAITestServer();
    const second = await startOpenAITestServer();
    let firstOpen = true;
    try {
      const records = writeRecords(join(stores, 'held-out-pool.json'));
      for (const s of [first, second]) s.setReplier(referenceOfRecord);
      first.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
      const out = join(stores, 'pooled');
      const stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', undefined, { source: 'records', file: records, models: ['openai:tiny'], baseUrl: first.baseURL, mode: 'composed', out });
      assert.equal(stopped?.summary.status, 'model-down');
      // As `coi eval --model openai:tiny --base-url FIRST --endpoint SECOND` keeps it; the first server is then gone.
      const config = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { settings?: Record<string, unknown> };
      writeFileSync(join(out, 'eval.json'), JSON.stringify({ ...config, settings: { ...config.settings, endpoints: [first.baseURL, second.baseURL] } }, null, 2));
      await first.close();
      firstOpen = false;
      const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation', out);
      assert.equal(resumed?.summary.status, 'complete', `resumed on the second server: ${resumed?.summary.message ?? ''}`);
      assert.equal(second.count('/v1/chat/completions'), CASES.length, 'the second server served every item');
    } finally {
      await second.close();
      if (firstOpen) await first.close();
    }
  });
});

// The editor, audited again (2026-12): where the store goes, what is left behind, Escape, an
// untitled chain, a way to the log, failures said, a conversion cancelled. Notifications and
// questions are answered by stand-ins for vscode.window's functions (toasts are hidden here).
describe('evaluations in the editor: stores, questions and messages', function () {
  this.timeout(120_000);
  type Shown = { readonly message: string; readonly items: readonly unknown[] };
  const win = vscode.window as unknown as Record<string, unknown>;
  const space = vscode.workspace as unknown as Record<string, unknown>;
  const stubbed = ['showQuickPick', 'showInputBox', 'showErrorMessage', 'showWarningMessage', 'showInformationMessage', 'withProgress'] as const;
  const saved = new Map<string, unknown>();
  const savedSave = space.save;
  let shown: { error: Shown[]; warning: Shown[]; info: Shown[] };
  /** What the next error or warning's button is (undefined: dismissed). */
  let answerWith: string | undefined;
  let server: OpenAITestServer;
  const chain = fixtureUri('store-place.coi');
  const evals = (): string => fixtureUri('.coi-evals').fsPath;
  const storesNow = (): string[] => (existsSync(evals()) ? readdirSync(evals()) : []);
  const answer = (kind: keyof typeof shown) => async (message: string, ...items: unknown[]) => {
    shown[kind].push({ message, items });
    return kind === 'info' ? undefined : answerWith;
  };

  before(async () => {
    await activateExtension();
    server = await startOpenAITestServer();
    writeFileSync(chain.fsPath, chainText(server.baseURL));
    for (const name of stubbed) saved.set(name, win[name]);
  });
  beforeEach(() => {
    shown = { error: [], warning: [], info: [] };
    answerWith = undefined;
    win.showErrorMessage = answer('error');
    win.showWarningMessage = answer('warning');
    win.showInformationMessage = answer('info');
    server.setReplier(({ messages }) => CASES[caseOf(messages)]?.summary ?? referenceOfRecord({ messages }));
  });
  afterEach(() => {
    for (const [name, fn] of saved) win[name] = fn;
    space.save = savedSave;
    server.setFaultChooser(undefined);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await server.close();
    rmSync(chain.fsPath, { force: true });
    rmSync(evals(), { recursive: true, force: true });
  });

  it('a records file outside the workspace: its store goes to the workspace .coi-evals/, and Resume offers it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'coi-suite-outside-'));
    try {
      const records = writeRecords(join(outside, 'held-out.json'));
      server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
      const stopped = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', undefined, { source: 'records', file: records, models: ['openai:tiny'], baseUrl: server.baseURL, mode: 'composed' });
      server.setFaultChooser(undefined);
      assert.equal(stopped?.summary.status, 'model-down');
      assert.equal(dirname(stopped.summary.store), evals(), 'the store is in the workspace folder');
      assert.ok(!existsSync(join(outside, '.coi-evals')), 'nothing written beside the records');
      let offered: string[] = [];
      win.showQuickPick = async (items: readonly { dir?: string }[]) => {
        offered = items.map((i) => i.dir ?? '');
        return items.find((i) => i.dir === stopped.summary.store);
      };
      const resumed = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.resumeEvaluation');
      assert.ok(offered.includes(stopped.summary.store), `offered for resume: ${JSON.stringify(offered)}`);
      assert.equal(resumed?.summary.status, 'complete');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('an evaluation refused after its questions leaves no store folder; the error offers Show Output, which reveals the log', async () => {
    const before = storesNow();
    answerWith = 'Show Output';
    const outcome = await vscode.commands.executeCommand('coi.runEvaluation', chain.toString(), { source: 'tests', models: ['openai:tiny', 'openai:tiny'], baseUrl: server.baseURL, mode: 'stepwise' });
    assert.equal(outcome, undefined);
    assert.deepEqual(storesNow(), before, 'no store folder left behind');
    assert.match(shown.error[0]?.message ?? '', /given twice/);
    assert.deepEqual(shown.error[0]?.items, ['Show Output']);
    await waitFor(vscode.window.onDidChangeVisibleTextEditors, () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'output' && e.document.uri.path.includes('CoI Studio')), 'the CoI Studio output shown');
  });

  it('Escape in the "Another model" box cancels the whole command', async () => {
    let picks = 0;
    win.showQuickPick = async (items: readonly (vscode.QuickPickItem & { kind_?: string; key?: string; mode?: string })[]) => {
      picks++;
      if (picks === 1) return items.find((i) => i.kind_ === 'tests');
      if (picks === 2) return [items.find((i) => i.key === 'profile:api'), items.find((i) => i.key === '')];
      return items.find((i) => i.mode === 'stepwise');
    };
    win.showInputBox = async () => undefined;
    const before = storesNow();
    const requests = server.count('/v1/chat/completions');
    const outcome = await vscode.commands.executeCommand('coi.runEvaluation', chain.toString());
    assert.equal(outcome, undefined, 'nothing was evaluated');
    assert.equal(picks, 2, 'no question after the Escape');
    assert.equal(server.count('/v1/chat/completions'), requests);
    assert.deepEqual(storesNow(), before);
  });

  it("the Evaluate lens of an untitled chain offers its tests, saved first (Save As); a Save As dismissed evaluates nothing", async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'coi', content: chainText(server.baseURL) });
    await vscode.window.showTextDocument(document);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri, 100);
    const evaluate = lenses.find((l) => l.command?.command === 'coi.runEvaluation');
    assert.ok(evaluate, 'an Evaluate lens');
    let labels: string[] = [];
    win.showQuickPick = async (items: readonly vscode.QuickPickItem[]) => {
      labels = items.map((i) => `${i.label} (${i.description ?? ''})`);
      return undefined;
    };
    await vscode.commands.executeCommand('coi.runEvaluation', ...(evaluate.command?.arguments ?? []));
    assert.ok(labels.some((l) => l.includes("This chain's tests") && l.includes('saved first')), `the tests are offered: ${JSON.stringify(labels)}`);
    // The Save As dialog stands in here: dismissed, then answered with a file of the workspace.
    space.save = async () => undefined;
    assert.equal(await vscode.commands.executeCommand('coi.runEvaluation', document.uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise' }), undefined);
    const target = fixtureUri('saved-untitled.coi');
    space.save = async () => {
      writeFileSync(target.fsPath, document.getText());
      return target;
    };
    try {
      const out = join(evals(), 'untitled-saved');
      const outcome = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', document.uri.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out });
      assert.equal(outcome?.summary.status, 'complete');
      assert.equal(outcome.summary.done, CASES.length);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(target.fsPath, { force: true });
    }
  });

  it('a stopped evaluation offers Resume and Show Output', async () => {
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
    const outcome = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', chain.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out: join(evals(), 'stopped') });
    assert.equal(outcome?.summary.status, 'model-down');
    assert.deepEqual(shown.warning.map((w) => w.items), [['Resume', 'Show Output']]);
  });

  it('an evaluation that completes with failed items says how many, with Show Output; the log lists them', async () => {
    // Case 2 is refused as malformed (a failure of its own); the others are answered.
    server.setFaultChooser(({ path, body }) => (path === '/v1/chat/completions' && caseOf((body as { messages: { role: string; content: string }[] }).messages) === 1 ? { kind: 'status', status: 400, message: 'This request is malformed' } : undefined));
    const outcome = await vscode.commands.executeCommand<EvalOutcome | undefined>('coi.runEvaluation', chain.toString(), { source: 'tests', models: ['profile:api'], mode: 'stepwise', out: join(evals(), 'one-failed') });
    assert.equal(outcome?.summary.status, 'complete');
    assert.equal(outcome.summary.failures, 1);
    assert.equal(shown.warning.length, 1, `one warning: ${JSON.stringify(shown)}`);
    assert.match(shown.warning[0]?.message ?? '', /1 of 4 item runs failed/);
    assert.deepEqual(shown.warning[0]?.items, ['Show Output']);
  });

  it('a GGUF conversion cancelled in its notification is not an error', async () => {
    const workspace = fixtureUri('.').fsPath;
    const cache = mkdtempSync(join(tmpdir(), 'coi-suite-cache-'));
    const before = process.env.COI_CACHE_DIR;
    process.env.COI_CACHE_DIR = cache;
    const { folder, state } = writeCompletedJob(workspace, 'never-converted.gguf');
    try {
      mkdirSync(state.resultDir ?? '', { recursive: true });
      // A training environment that looks set up; the conversion is cancelled before it runs anything.
      const venv = venvLocation(process.env);
      mkdirSync(venv.dir, { recursive: true });
      writeFileSync(join(venv.dir, '.coi-ready'), '');
      win.withProgress = (_options: unknown, task: (progress: unknown, token: vscode.CancellationToken) => Thenable<unknown>) =>
        task({ report: () => undefined }, { isCancellationRequested: true, onCancellationRequested: (listener: () => void) => (listener(), { dispose: () => undefined }) } as unknown as vscode.CancellationToken);
      assert.equal(await vscode.commands.executeCommand('coi.useFinetunedModel', folder), false);
      assert.deepEqual(shown.error, [], 'no error for a cancel');
      assert.ok(shown.info.some((i) => /cancelled/.test(i.message)), `said cancelled: ${JSON.stringify(shown.info)}`);
    } finally {
      if (before === undefined) delete process.env.COI_CACHE_DIR;
      else process.env.COI_CACHE_DIR = before;
      rmSync(cache, { recursive: true, force: true });
      rmSync(fixtureUri('.coi-jobs').fsPath, { recursive: true, force: true });
    }
  });
});
