// URIs with no local path (issue 12 item 13): a UNC host and an encoded '/' are checked,
// hovered and fixed like any document, and one such workspace folder does not stop
// workspace symbols from searching the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, Hover, SymbolInformation } from 'vscode-languageserver-protocol';
import { LspClient } from './harness';

const TEXT = 'chain c\ninput x: text\nstep summary {\n  instruction "Summarize the text."\n  from x\n  output text\n}\nstep label {\n  instruction "Classify the summary."\n  from sumary\n  output label [a, b]\n}\n';

for (const uri of ['file://server/share/chains/x.coi', 'file:///tmp/a%2Fb.coi']) {
  void test(`${uri}: diagnostics, hover and code actions answer (no internal error)`, async () => {
    const client = await LspClient.start();
    try {
      await client.open(uri, TEXT);
      const diagnostics = await client.pullDiagnostics(uri);
      const unknown = diagnostics.find((d) => typeof d.message === 'string' && /sumary/.test(d.message));
      assert.ok(unknown, JSON.stringify(diagnostics));
      const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 6 } });
      assert.ok(hover !== null);
      const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: unknown.range, context: { diagnostics: [unknown] } });
      assert.ok(actions.some((a) => a.title === "Change to 'summary'"), JSON.stringify(actions.map((a) => a.title)));
    } finally {
      await client.stop();
    }
  });
}

void test('a workspace folder with no local path is skipped; the others are searched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-uris-'));
  writeFileSync(join(dir, 'news.coi'), 'chain news\ninput article: text\nstep summarize_news {\n  instruction "Summarize the text."\n}\n');
  const client = await LspClient.start({ workspaceFolders: ['file://server/share', pathToFileURL(dir).href] });
  try {
    const found = await client.connection.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'summarize_news' });
    assert.ok(found.some((s) => s.name === 'summarize_news'), JSON.stringify(found.map((s) => s.name)));
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
