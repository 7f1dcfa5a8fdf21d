// Protocol errors a client can provoke get the codes the LSP specification gives them
// (issue 12 item 15): bad parameters -32602 with the reason (no stack trace), any request
// after `shutdown` -32600, and a second `initialize` refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InitializeRequest, ShutdownRequest } from 'vscode-languageserver-protocol/node';
import { LspClient, minimalCapabilities, newUri } from './harness';

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
