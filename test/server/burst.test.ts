// The server under a burst of edits: hundreds of incremental changes to a large
// document sent without waiting, with diagnostic and completion requests (some
// cancelled) in between. Every request answers or fails only by cancellation, and the
// final diagnostics are exactly those of a fresh check of the final text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource, DocumentDiagnosticRequest, LSPErrorCodes, ResponseError, type FullDocumentDiagnosticReport } from 'vscode-languageserver-protocol/node';
import type { CompletionList, Diagnostic } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { checkDocument } from '../../core/check';
import { LineMap } from '../../core/syntax/lineMap';
import { seededRandom } from '../helpers/random';
import { largeChain } from './largeChain';
import { LspClient, newUri } from './harness';

const EDITS = 400;

function key(d: { code?: unknown; message: Diagnostic['message']; range: Diagnostic['range'] }): string {
  const message = typeof d.message === 'string' ? d.message : d.message.value;
  return `${String(d.code)} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${message}`;
}

/** One random edit: type or delete in an instruction, add or remove a line, break an id. */
function randomEdit(doc: TextDocument, random: () => number): { start: number; end: number; text: string } {
  const text = doc.getText();
  const at = Math.floor(random() * text.length);
  const r = random();
  if (r < 0.45) return { start: at, end: at, text: 'abcdefghij '[Math.floor(random() * 11)] ?? 'x' };
  if (r < 0.7) return { start: at, end: Math.min(text.length, at + 1 + Math.floor(random() * 3)), text: '' };
  if (r < 0.8) return { start: at, end: at, text: '\n' };
  if (r < 0.9) {
    const lineStart = text.lastIndexOf('\n', at) + 1;
    return { start: lineStart, end: lineStart, text: '  from step1\n' };
  }
  return { start: at, end: at, text: '"' };
}

void test('hundreds of rapid edits: no request fails except by cancellation, final diagnostics match a fresh check', async () => {
  const client = await LspClient.start();
  try {
    const uri = newUri('burst');
    const initial = largeChain(3000);
    assert.ok(initial.split('\n').length >= 2900);
    await client.open(uri, initial);
    const random = seededRandom(20240229);
    const pending: Promise<unknown>[] = [];
    let cancelledCount = 0;
    const tolerate = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        (value) => value,
        (error: unknown) => {
          const code = error instanceof ResponseError ? error.code : undefined;
          if (code === LSPErrorCodes.RequestCancelled || code === LSPErrorCodes.ContentModified || code === LSPErrorCodes.ServerCancelled) {
            cancelledCount++;
            return undefined;
          }
          throw error;
        },
      );
    for (let i = 0; i < EDITS; i++) {
      const doc = client.document(uri);
      const edit = randomEdit(doc, random);
      void client.edit(uri, edit.start, edit.end, edit.text);
      if (i % 10 === 0) {
        pending.push(tolerate(client.pullDiagnostics(uri)));
        const position = client.document(uri).positionAt(Math.floor(random() * client.document(uri).getText().length));
        const source = new CancellationTokenSource();
        pending.push(tolerate(client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position }, source.token)));
        if (i % 20 === 0) source.cancel();
      }
    }
    const results = await Promise.all(pending);
    assert.equal(results.length, (EDITS / 10) * 2);
    const finalText = client.document(uri).getText();
    const served = await client.pullDiagnostics(uri);
    const lines = new LineMap(finalText);
    const expected = checkDocument(finalText).diagnostics.map((d) => key({ code: d.code, message: d.message, range: lines.rangeOf(d.span) }));
    assert.deepEqual(served.map(key), expected);
    assert.ok(served.length > 0, 'random edits break something');
    assert.ok(cancelledCount <= results.length);
  } finally {
    await client.stop();
  }
});

void test('a pulled report describes the version its result id names, even when an edit lands while it is checked', async () => {
  const client = await LspClient.start();
  try {
    const uri = newUri('shifting');
    const texts = new Map<number, string>();
    const opened = await client.open(uri, 'chain c\ninput a: text\nstep s {\n  instruction "Summarize."\n  output lable\n}\n');
    texts.set(opened.version, opened.getText());
    let full = 0;
    let retriggered = 0;
    for (let i = 0; i < 200; i++) {
      // The pull and an edit that moves every line down, sent back to back.
      const report = client.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
      const edited = await client.edit(uri, 0, 0, `# edit ${i}\n`);
      texts.set(edited.version, edited.getText());
      try {
        const answer = await report;
        assert.equal(answer.kind, 'full');
        const items = (answer as FullDocumentDiagnosticReport).items;
        const version = Number(answer.resultId?.split(':')[0]);
        const text = texts.get(version);
        assert.ok(text !== undefined, `result id ${answer.resultId} names a version the client sent`);
        const doc = TextDocument.create(uri, 'coi', version, text);
        assert.deepEqual(items.map((d) => doc.getText(d.range)), ['lable'], `report ${answer.resultId}: the ranges point into that version's text`);
        full++;
      } catch (error) {
        if (!(error instanceof ResponseError) || error.code !== LSPErrorCodes.ServerCancelled) throw error;
        retriggered++;
      }
    }
    assert.equal(full + retriggered, 200);
  } finally {
    await client.stop();
  }
});
