// Protocol errors a client can provoke get the codes the LSP specification gives them
// (issue 12 item 15): bad parameters -32602 with the reason (no stack trace), any request
// after `shutdown` -32600, and a second `initialize` refused. And results that follow the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DidChangeTextDocumentNotification, DidCloseTextDocumentNotification, DidOpenTextDocumentNotification, DocumentDiagnosticRequest, InitializeRequest, ShutdownRequest, type FullDocumentDiagnosticReport } from 'vscode-languageserver-protocol/node';
import { fullCapabilities, LspClient, minimalCapabilities, newUri } from './harness';

const TEXT = 'chain c\ninput x: text\nstep s {\n  instruction "Summarize the text."\n  output text\n}\n';

async function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; message: string };
  }
  assert.fail('the request was answered, not refused');
}

void test('bad parameters get InvalidParams (-32602) with what is wrong, and the server goes on', async () => {
  const client = await LspClient.start({ capabilities: minimalCapabilities() });
  try {
    const uri = newUri('params');
    await client.open(uri, TEXT);
    const cases: [string, unknown, RegExp][] = [
      ['textDocument/hover', { textDocument: { uri }, position: 'here' }, /position must be/],
      ['textDocument/hover', { position: { line: 0, character: 0 } }, /textDocument\.uri must be a string/],
      ['textDocument/completion', { textDocument: { uri }, position: { line: -1, character: 0 } }, /position must be/],
      ['textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0 } }, context: { diagnostics: [] } }, /range must be/],
      ['textDocument/semanticTokens/full', { textDocument: 7 }, /textDocument\.uri must be a string/],
      ['workspace/symbol', { query: 3 }, /query must be a string/],
    ];
    for (const [method, params, reason] of cases) {
      const error = await errorOf(client.connection.sendRequest(method, params));
      assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)}: ${error.message}`);
      assert.match(error.message, reason);
      assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
    }
    const hover = await client.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 6 } });
    assert.ok(hover !== null, 'good requests are still answered');
  } finally {
    await client.stop();
  }
});

void test('a second initialize is refused; after shutdown every request gets InvalidRequest (-32600)', async () => {
  const client = await LspClient.start({ capabilities: minimalCapabilities() });
  try {
    const uri = newUri('lifecycle');
    await client.open(uri, TEXT);
    const again = await errorOf(client.connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: minimalCapabilities() }));
    assert.match(again.message, /already initialized/);
    await client.connection.sendRequest(ShutdownRequest.type);
    const after = await errorOf(client.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 6 } }));
    assert.equal(after.code, -32600, after.message);
    assert.match(after.message, /shutting down/);
  } finally {
    await client.stop();
  }
});

void test('results follow the text, not the version number: a repeated version and a reopen at version 1 get fresh diagnostics (issue 12 item 14)', async () => {
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    const uri = newUri('versions');
    const broken = TEXT.replace('output text', 'output lable');
    await client.open(uri, TEXT);
    const clean = await client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
    assert.equal(clean.kind, 'full');
    assert.deepEqual((clean as FullDocumentDiagnosticReport).items.filter((d) => d.severity === 1), []);
    // A buggy client: other text under the same version number 1.
    await client.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 1 }, contentChanges: [{ text: broken }] });
    const repeated = await client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: clean.resultId });
    assert.equal(repeated.kind, 'full', 'not "unchanged": the text changed');
    assert.ok((repeated as FullDocumentDiagnosticReport).items.some((d) => d.severity === 1), 'the new text is checked');
    // Closed and reopened at version 1 with the first text again: fresh, not the broken one's.
    await client.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'coi', version: 1, text: TEXT } });
    const reopened = await client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: repeated.resultId });
    assert.equal(reopened.kind, 'full');
    assert.deepEqual((reopened as FullDocumentDiagnosticReport).items.filter((d) => d.severity === 1), []);
  } finally {
    await client.stop();
  }
});
