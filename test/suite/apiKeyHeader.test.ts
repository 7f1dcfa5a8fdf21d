// The setting coi.openai.apiKeyHeader, inside the extension host: an evaluation of openai:tiny from
// the editor against the OpenAI-protocol test server that reads its key only from the `api-key`
// header (as Azure OpenAI does). The key is stored with CoI: Set API Key (its questions answered
// in advance); with the setting the server accepts it, without it the key goes as
// `Authorization: Bearer` and the server refuses it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EvalRunSummary } from '../../core/eval/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { activateExtension } from './util';

const KEY = 'azure-like-key-0123456789abcdef';
const RECORDS = [
  { instruction: 'Summarize the article in one sentence.', input: 'The harbour crew repaired two cranes.', output: 'Two cranes were repaired.' },
  { instruction: 'Summarize the article in one sentence.', input: 'The east dock reopened on Monday.', output: 'The dock reopened.' },
];

describe('the setting coi.openai.apiKeyHeader', function () {
  this.timeout(120_000);
  const win = vscode.window as unknown as Record<string, unknown>;
  const stubbed = ['showQuickPick', 'showInputBox', 'showInformationMessage', 'showWarningMessage', 'showErrorMessage'] as const;
  const saved = new Map<string, unknown>();
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('coi');
  let server: OpenAITestServer;
  let dir: string;
  let records: string;

  /** CoI: Set API Key with its questions answered: another base URL (the server's), then `key` ('' removes it). */
  async function setApiKey(key: string): Promise<void> {
    const answers = [server.baseURL, key];
    win.showQuickPick = async (items: readonly string[]) => items.find((i) => i.includes('Another base URL'));
    win.showInputBox = async () => answers.shift();
    await vscode.commands.executeCommand('coi.setApiKey');
    assert.equal(answers.length, 0, 'both questions were asked');
  }

  /** The key headers of the chat requests since `from`: [api-key, authorization]. */
  const headersSince = (from: number): [unknown, unknown][] => server.requests.slice(from).filter((r) => r.path === '/v1/chat/completions').map((r) => [r.headers['api-key'], r.headers.authorization]);

  const evaluate = (out: string): Thenable<{ readonly summary: EvalRunSummary } | undefined> =>
    vscode.commands.executeCommand('coi.runEvaluation', undefined, { source: 'records', file: records, models: ['openai:tiny'], baseUrl: server.baseURL, mode: 'composed', out });

  /** Every file under `path` with its text. */
  const filesUnder = (path: string): { path: string; text: string }[] =>
    statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => filesUnder(join(path, name))) : [{ path, text: readFileSync(path, 'utf8') }];

  before(async () => {
    await activateExtension();
    server = await startOpenAITestServer({ apiKey: KEY, apiKeyHeader: 'api-key', reply: ({ messages }) => RECORDS.find((r) => messages.some((m) => m.content.includes(r.input)))?.output });
    dir = mkdtempSync(join(tmpdir(), 'coi-suite-keyheader-'));
    records = join(dir, 'records.json');
    writeFileSync(records, JSON.stringify(RECORDS));
    for (const name of stubbed) saved.set(name, win[name]);
    win.showInformationMessage = async () => undefined;
    win.showWarningMessage = async () => undefined;
    win.showErrorMessage = async () => undefined;
    await setApiKey(KEY);
  });
  after(async () => {
    try {
      await setApiKey('');
    } finally {
      for (const [name, fn] of saved) win[name] = fn;
      await config().update('openai.apiKeyHeader', undefined, vscode.ConfigurationTarget.Workspace);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('set to api-key: the key goes in that header (bare, no Authorization) and the evaluation completes; unset: it goes as Bearer and the server refuses it', async () => {
    await config().update('openai.apiKeyHeader', 'api-key', vscode.ConfigurationTarget.Workspace);
    const from = server.requests.length;
    const accepted = await evaluate(join(dir, 'with-header'));
    assert.equal(accepted?.summary.status, 'complete', JSON.stringify(accepted?.summary));
    assert.equal(accepted.summary.done, RECORDS.length);
    assert.equal(accepted.summary.failures, 0);
    assert.deepEqual(headersSince(from), RECORDS.map(() => [KEY, undefined]));
    for (const file of filesUnder(join(dir, 'with-header'))) assert.ok(!file.text.includes(KEY), `the key is not written to ${file.path}`);

    await config().update('openai.apiKeyHeader', undefined, vscode.ConfigurationTarget.Workspace);
    const again = server.requests.length;
    const refused = await evaluate(join(dir, 'without-header'));
    assert.equal(refused?.summary.status, 'model-down', JSON.stringify(refused?.summary));
    assert.equal(refused.summary.done, 0);
    const sent = headersSince(again);
    assert.ok(sent.length > 0 && sent.every(([header, authorization]) => header === undefined && authorization === `Bearer ${KEY}`), `the key went as Bearer: ${JSON.stringify(sent.length)} requests`);
  });

  it("keeps the header's name in eval.json, and a resume with the setting unset sends the key in the header the evaluation started with", async () => {
    const settingsOf = (store: string): Record<string, unknown> => (JSON.parse(readFileSync(join(store, 'eval.json'), 'utf8')) as { settings?: Record<string, unknown> }).settings ?? {};
    await config().update('openai.apiKeyHeader', 'api-key', vscode.ConfigurationTarget.Workspace);
    const started = join(dir, 'started-with-header');
    // Stopped at once, as a refusing server stops it (model-down), nothing recorded.
    server.setFaultChooser(({ path }) => (path === '/v1/chat/completions' ? { kind: 'status', status: 401, message: 'Incorrect API key provided' } : undefined));
    let stopped: { readonly summary: EvalRunSummary } | undefined;
    try {
      stopped = await evaluate(started);
    } finally {
      server.setFaultChooser(undefined);
    }
    assert.notEqual(stopped?.summary.status, 'complete', JSON.stringify(stopped?.summary));
    assert.equal(stopped?.summary.done, 0);
    assert.equal(settingsOf(started).apiKeyHeader, 'api-key', 'the name of the header is kept (never the key)');

    // Resumed with the setting unset (another window, or the terminal's coi eval --resume).
    await config().update('openai.apiKeyHeader', undefined, vscode.ConfigurationTarget.Workspace);
    const from = server.requests.length;
    const resumed = (await vscode.commands.executeCommand('coi.resumeEvaluation', started)) as { readonly summary: EvalRunSummary } | undefined;
    assert.equal(resumed?.summary.status, 'complete', JSON.stringify(resumed?.summary));
    assert.equal(resumed.summary.failures, 0);
    assert.deepEqual(headersSince(from), RECORDS.map(() => [KEY, undefined]));
  });
});
