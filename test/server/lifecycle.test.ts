// Server lifecycle over the protocol: static vs dynamic registration, the standalone
// `coi-language-server --stdio` program, settings pulled per resource, push diagnostics
// for clients without the pull model, workspace symbols from disk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DocumentDiagnosticRequest,
  InitializeRequest,
  ShutdownRequest,
  type FullDocumentDiagnosticReport,
  ExitNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type InitializeResult,
  type SymbolInformation,
} from 'vscode-languageserver-protocol/node';
import { repoPath } from '../helpers/paths';
import { fullCapabilities, heldFirstSettings, LspClient, minimalCapabilities, newUri } from './harness';

const BROKEN = 'chain c\ninput a: text\nstep s {\n  instruction "Summarize the text."\n  from a\n  output lable\n}\n';

void describe('initialize', () => {
  void test('a client with dynamic registration gets every feature registered after initialized', async () => {
    const client = await LspClient.start({ capabilities: fullCapabilities() });
    try {
      // A request round-trip guarantees the registration request (sent at initialized) arrived.
      await client.connection.sendRequest('workspace/symbol', { query: 'zzz' });
      for (const method of [
        'textDocument/diagnostic',
        'textDocument/completion',
        'textDocument/hover',
        'textDocument/definition',
        'textDocument/references',
        'textDocument/rename',
        'textDocument/documentSymbol',
        'textDocument/foldingRange',
        'textDocument/semanticTokens',
        'textDocument/formatting',
        'textDocument/rangeFormatting',
        'textDocument/codeAction',
        'textDocument/selectionRange',
        'workspace/didChangeConfiguration',
        'workspace/didChangeWatchedFiles',
      ]) {
        assert.ok(client.hasRegistration(method), `${method} registered dynamically`);
      }
    } finally {
      await client.stop();
    }
  });

  void test('the standalone program announces every feature statically to a minimal client', async () => {
    // bin/coi-language-server.js is what other editors run.
    const child = spawn(process.execPath, [repoPath('bin', 'coi-language-server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    try {
      const result: InitializeResult = await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: minimalCapabilities() });
      const caps = result.capabilities;
      assert.equal(result.serverInfo?.name, 'coi-language-server');
      assert.deepEqual(caps.textDocumentSync, { openClose: true, change: 2 });
      assert.ok(caps.completionProvider && caps.hoverProvider && caps.definitionProvider && caps.referencesProvider);
      assert.deepEqual(caps.renameProvider, { prepareProvider: true });
      assert.ok(caps.documentSymbolProvider && caps.workspaceSymbolProvider && caps.foldingRangeProvider);
      assert.ok(caps.semanticTokensProvider && caps.documentFormattingProvider && caps.documentRangeFormattingProvider);
      assert.ok(caps.codeActionProvider && caps.selectionRangeProvider);
      assert.equal(caps.diagnosticProvider, undefined, 'no pull diagnostics for a client without them');
    } finally {
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      await new Promise((resolve) => child.once('exit', resolve));
      connection.dispose();
    }
  });
});

void describe('diagnostics', () => {
  void test('pull: the check of the current version, with codes and ranges', async () => {
    const client = await LspClient.start();
    try {
      const uri = newUri('pull');
      const doc = await client.open(uri, BROKEN);
      const items = await client.pullDiagnostics(uri);
      const bad = items.find((d) => doc.getText(d.range) === 'lable');
      assert.ok(bad, `a diagnostic on the misspelled contract: ${JSON.stringify(items)}`);
      assert.equal(bad.source, 'coi');
      assert.match(String(bad.code), /^COI\d{3}$/);
      // Fix it: the next pull reflects the edit.
      const at = BROKEN.indexOf('lable');
      await client.edit(uri, at, at + 5, 'label [yes, no]');
      const after = await client.pullDiagnostics(uri);
      assert.ok(!after.some((d) => d.severity === 1), JSON.stringify(after));
    } finally {
      await client.stop();
    }
  });

  void test('a request still running when its document closes leaves nothing stale for the document opened again', async () => {
    // The first settings request is held until the document has been closed, so the pull
    // finishes for a closed document; the same file then opens again, with other text, at the
    // same version number (editors count versions per opening).
    const held = heldFirstSettings();
    const client = await LspClient.start({ settings: held.settings });
    try {
      const uri = newUri('reopened');
      await client.open(uri, BROKEN);
      const first = client.pullDiagnostics(uri).catch(() => []);
      await held.asked;
      await client.close(uri);
      held.release();
      await first;
      const fixed = BROKEN.replace('lable', 'label [yes, no]');
      await client.open(uri, fixed);
      const items = await client.pullDiagnostics(uri);
      assert.deepEqual(items.filter((d) => d.severity === 1), [], 'the errors of the text as it was before closing must not come back');
    } finally {
      await client.stop();
    }
  });

  void test('settings that change while a pull reads them do not let the next pull answer "unchanged"', async () => {
    let current: Record<string, unknown> = {};
    const held = heldFirstSettings(() => current);
    const client = await LspClient.start({ settings: held.settings });
    try {
      const uri = newUri('settings-race');
      await client.open(uri, BROKEN);
      const first = client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
      await held.asked;
      current = { diagnostics: { enable: false } };
      await client.changeSettings(current);
      held.release();
      const before = await first;
      assert.equal(before.kind, 'full');
      assert.ok((before as FullDocumentDiagnosticReport).items.length > 0, 'checked with the settings it read (diagnostics on)');
      const after = await client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: before.resultId });
      assert.equal(after.kind, 'full', `the settings changed since ${before.resultId}: a full report, not "${after.kind}"`);
      assert.deepEqual((after as FullDocumentDiagnosticReport).items, [], 'diagnostics are now turned off');
    } finally {
      await client.stop();
    }
  });

  void test('push: a client without pull diagnostics gets them published for the latest version', async () => {
    const client = await LspClient.start({ capabilities: minimalCapabilities() });
    try {
      const uri = newUri('push');
      await client.open(uri, BROKEN);
      const first = await client.waitForPublished(uri, (p) => p.version === 1);
      assert.ok(first.diagnostics.some((d) => d.severity === 1));
      const at = BROKEN.indexOf('lable');
      const fixed = await client.edit(uri, at, at + 5, 'label [yes, no]');
      const second = await client.waitForPublished(uri, (p) => p.version === fixed.version);
      assert.ok(!second.diagnostics.some((d) => d.severity === 1), JSON.stringify(second.diagnostics));
    } finally {
      await client.stop();
    }
  });

  void test('pull: a client that pulls diagnostics gets no pushes besides (each problem would show twice)', async () => {
    // debounceMs 0: a push, if the server still made one, would follow each edit at once.
    const client = await LspClient.start({ capabilities: fullCapabilities(), settings: { diagnostics: { debounceMs: 0 } } });
    try {
      const uri = newUri('pull-only');
      await client.open(uri, BROKEN);
      assert.ok((await client.pullDiagnostics(uri)).some((d) => d.severity === 1), 'the pull answers with the error');
      const at = BROKEN.indexOf('lable');
      await client.edit(uri, at, at + 5, 'label [yes, no]');
      assert.ok(!(await client.pullDiagnostics(uri)).some((d) => d.severity === 1), 'the pull sees the fix');
      // Nothing to wait for when nothing comes: give a push the time it would take (the
      // settings are cached, the timer is 0 ms) many times over, then look.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(client.publishedUris, []);
    } finally {
      await client.stop();
    }
  });

  void test('settings are pulled per resource and a change refreshes diagnostics', async () => {
    let enabled = true;
    const client = await LspClient.start({ settings: () => ({ diagnostics: { enable: enabled } }) });
    try {
      const uri = newUri('settings');
      await client.open(uri, BROKEN);
      assert.ok((await client.pullDiagnostics(uri)).length > 0);
      assert.ok(client.configurationRequests >= 1);
      enabled = false;
      const refreshes = client.refreshRequests;
      await client.changeSettings(() => ({ diagnostics: { enable: enabled } }));
      // The refresh request is how the server says "pull again".
      while (client.refreshRequests === refreshes) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await client.pullDiagnostics(uri), []);
    } finally {
      await client.stop();
    }
  });
});

void describe('workspace symbols', () => {
  let dir: string;
  let client: LspClient;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coi-ws-'));
    mkdirSync(join(dir, 'chains'));
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'chains', 'news.coi'), 'chain news_digest\ninput article: text\nstep summarize_news {\n  instruction "Summarize the text."\n}\n');
    writeFileSync(join(dir, 'reviews.coi'), 'chain review_chain\ninput review: text\nstep classify_review {\n  instruction "Classify the review."\n  output label [good, bad]\n}\n');
    writeFileSync(join(dir, 'node_modules', 'ignored.coi'), 'chain ignored\nstep summarize_ignored {\n  instruction "x"\n}\n');
    client = await LspClient.start({ workspaceFolders: [pathToFileURL(dir).href] });
  });
  after(async () => {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('files on disk and open documents are searched with a fuzzy query', async () => {
    const openUri = newUri('open');
    await client.open(openUri, 'chain open_chain\ninput x: text\nstep summarize_open {\n  instruction "Summarize the text."\n}\n');
    const found = await client.connection.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'summ' });
    const names = found.map((s) => s.name).sort();
    assert.deepEqual(names, ['summarize_news', 'summarize_open']);
    const news = found.find((s) => s.name === 'summarize_news');
    assert.equal(news?.location.uri, pathToFileURL(join(dir, 'chains', 'news.coi')).href);
    assert.equal(news?.containerName, 'news_digest');
    assert.deepEqual(news?.location.range.start, { line: 2, character: 5 });
    const all = await client.connection.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'clsrev' });
    assert.deepEqual(all.map((s) => s.name), ['classify_review']);
  });

  void test('a changed file is read again', async () => {
    writeFileSync(join(dir, 'reviews.coi'), 'chain review_chain\ninput review: text\nstep rate_review {\n  instruction "Rate the review."\n}\n');
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(join(dir, 'reviews.coi')).href, type: 2 }] });
    const found = await client.connection.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'review' });
    const names = found.map((s) => s.name);
    assert.ok(names.includes('rate_review') && !names.includes('classify_review'), names.join());
  });
});
