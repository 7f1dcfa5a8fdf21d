// Document and range formatting over the protocol, checked by applying the edits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextEdit } from 'vscode-languageserver-protocol';
import { format } from '../../core/syntax/formatter';
import { applyTextEdits, LspClient, newUri } from './harness';

const MESSY = [
  'chain   messy',
  'input article:   text   lang=en',
  'step one {',
  '      instruction "Summarize the article."',
  '  output text    max_words=40',
  '}',
  'step two {',
  'instruction "Translate the text into French."',
  '        output text lang=fr',
  '}',
  '',
].join('\n');

void describe('formatting', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start();
  });
  after(() => client.stop());

  void test('document formatting gives the core formatter’s layout', async () => {
    const uri = newUri('format');
    await client.open(uri, MESSY);
    const edits = await client.connection.sendRequest<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    assert.ok(edits.length > 0);
    const formatted = applyTextEdits(MESSY, edits);
    assert.equal(formatted, format(MESSY));
    assert.match(formatted, /^step one \{\n {2}instruction "Summarize the article\."\n {2}output text max_words=40\n\}/m);
    // Formatting a formatted document changes nothing.
    const again = newUri('format-again');
    await client.open(again, formatted);
    assert.deepEqual(await client.connection.sendRequest('textDocument/formatting', { textDocument: { uri: again }, options: { tabSize: 2, insertSpaces: true } }), []);
  });

  void test('the tab size of the request is the indentation', async () => {
    const uri = newUri('format4');
    await client.open(uri, MESSY);
    const edits = await client.connection.sendRequest<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 4, insertSpaces: true } });
    assert.match(applyTextEdits(MESSY, edits), /\n {4}instruction "Translate the text into French\."/);
  });

  void test('range formatting changes only the declarations in the range', async () => {
    const uri = newUri('range');
    const doc = await client.open(uri, MESSY);
    const start = MESSY.indexOf('step two');
    const range = { start: doc.positionAt(start), end: doc.positionAt(MESSY.length - 1) };
    const edits = await client.connection.sendRequest<TextEdit[]>('textDocument/rangeFormatting', { textDocument: { uri }, range, options: { tabSize: 2, insertSpaces: true } });
    const result = applyTextEdits(MESSY, edits);
    assert.match(result, /step two \{\n {2}instruction "Translate the text into French\."\n {2}output text lang=fr\n\}/);
    assert.ok(result.startsWith('chain   messy\ninput article:   text   lang=en\nstep one {\n      instruction'), 'the first declarations are untouched');
  });

  // Applied as an editor does (positions, not offsets): an edit that ended between the \r and
  // \n of a pair left a stray line break; a byte order mark was dropped.
  for (const [name, input, expected] of [
    ['a byte order mark stays', '\uFEFFchain x\ninput a: text\nstep s {\n instruction "hi"\n}\n', '\uFEFFchain x\ninput a: text\n\nstep s {\n  instruction "hi"\n}\n'],
    ['lone CR line breaks stay', 'chain x\rinput a: text\rstep s {\r  instruction "hi"\r}\r', 'chain x\rinput a: text\r\rstep s {\r  instruction "hi"\r}\r'],
    ['a CRLF after a first LF becomes LF', 'chain x\n# c\r\ninput a: text\n', 'chain x\n# c\ninput a: text\n'],
  ] as const) {
    void test(`document formatting: ${name}`, async () => {
      const uri = newUri('eol');
      await client.open(uri, input);
      const edits = await client.connection.sendRequest<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
      assert.equal(applyTextEdits(input, edits), expected);
    });
  }

  void test('a file with syntax errors is left alone', async () => {
    const uri = newUri('broken');
    await client.open(uri, 'chain x\nstep one {\n   instruction "unterminated\n}\n');
    assert.deepEqual(await client.connection.sendRequest('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
  });
});
