// Completion over the protocol at marked positions of test/fixtures/server/completion.coi.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompletionItem, CompletionList, TextEdit } from 'vscode-languageserver-protocol';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fixture, fixtureFile, LspClient, minimalCapabilities, newUri } from './harness';

const { text, at } = fixtureFile('completion.coi');

void describe('completion', () => {
  let client: LspClient;
  let uri: string;
  let doc: TextDocument;

  const complete = async (marker: string): Promise<CompletionItem[]> => {
    const offset = at[marker];
    assert.ok(offset !== undefined, `marker ${marker} missing`);
    const list = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: doc.positionAt(offset) });
    return list.items;
  };
  const labels = async (marker: string): Promise<string[]> => (await complete(marker)).map((i) => i.label);

  before(async () => {
    client = await LspClient.start();
    uri = newUri('completion');
    doc = await client.open(uri, text);
  });
  after(() => client.stop());

  void test('top level: declaration keywords and snippets for a new step and test', async () => {
    const items = await complete('topLevel');
    const names = items.map((i) => i.label);
    for (const k of ['model', 'input', 'step', 'test']) assert.ok(names.includes(k), k);
    assert.ok(!names.includes('chain'), 'the file already has its chain declaration');
    const stepSnippet = items.find((i) => i.label === 'step' && i.insertTextFormat === 2);
    assert.ok(stepSnippet, 'a snippet for a new step');
    assert.match((stepSnippet.textEdit as TextEdit).newText, /^step \$\{1:step4\} \{\n  instruction """/);
    assert.ok(items.some((i) => i.label === 'test' && i.insertTextFormat === 2));
    const repeated = names.filter((name, i) => names.indexOf(name) !== i);
    assert.deepEqual(repeated, [], 'each word is offered once (a keyword with a snippet of its name is the snippet)');
  });

  void test('after given NAME =: the labels of a label input, true and false for a boolean one, nothing for text', async () => {
    const valuesUri = newUri('given-values');
    const lines = ['chain c', 'input tone: label [calm, "very angry"]', 'input ok: boolean', 'input a: text', 'step s {', '  instruction "x"', '}', 'test "t" {', '  given tone = ', '  given ok = ', '  given a = ', '  expect s contains "x"', '}', ''];
    await client.open(valuesUri, lines.join('\n'));
    const at = async (line: number): Promise<string[]> => {
      const list = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri: valuesUri }, position: { line, character: (lines[line] ?? '').length } });
      return list.items.map((i) => (i.textEdit as TextEdit | undefined)?.newText ?? i.insertText ?? i.label);
    };
    assert.deepEqual(await at(8), ['calm', '"very angry"'], 'a label that is not a bare word is written quoted');
    assert.deepEqual(await at(9), ['true', 'false']);
    assert.deepEqual(await at(10), []);
  });

  void test('in a step block: the members not yet written', async () => {
    const names = await labels('stepMember');
    for (const k of ['task', 'needs', 'temperature', 'max_tokens']) assert.ok(names.includes(k), k);
    for (const k of ['instruction', 'from', 'output', 'model']) assert.ok(!names.includes(k), `${k} is already in the step`);
  });

  void test('in a model block: profile keys not yet written', async () => {
    const names = await labels('modelMember');
    for (const k of ['temperature', 'context', 'gpu', 'max_tokens']) assert.ok(names.includes(k), k);
    assert.ok(!names.includes('provider') && !names.includes('path'));
  });

  void test('after from: chain inputs and earlier steps only, minus those already listed', async () => {
    assert.deepEqual((await labels('fromFirst')).sort(), ['article', 'question', 'third']);
    const second = await labels('fromSecond');
    assert.deepEqual(second.sort(), ['article', 'question', 'third'], 'summary is already listed; sentiment itself and later steps are not offered');
  });

  void test('replacing the word under the cursor', async () => {
    const [first] = await complete('fromFirst');
    const edit = first?.textEdit as TextEdit;
    assert.equal(doc.getText(edit.range), 'article');
  });

  void test('contract kinds after output, then that contract’s options and values', async () => {
    const kinds = await labels('outputKind');
    assert.deepEqual(kinds, ['text', 'label', 'list', 'json', 'number', 'boolean', 'code']);
    assert.deepEqual(await labels('textOption'), ['lang=', 'max_words=', 'max_chars=']);
    const langs = await labels('langValue');
    assert.ok(langs.includes('fr') && langs.includes('en'));
  });

  void test('contract kinds after an input name, task categories after task, providers after provider', async () => {
    assert.deepEqual(await labels('inputKind'), ['text', 'label', 'list', 'json', 'number', 'boolean', 'code']);
    const tasks = await labels('taskValue');
    for (const t of ['summarization', 'translation', 'classification']) assert.ok(tasks.includes(t), t);
    assert.deepEqual(await labels('providerValue'), ['local', 'openai']);
  });

  void test('profile names after model in a step', async () => {
    assert.deepEqual(await labels('stepModel'), ['local', 'api']);
  });

  void test('in a test block: given/expect, input names, targets, matchers and labels', async () => {
    const members = await labels('testMember');
    assert.ok(members.includes('given') && members.includes('expect'));
    const repeated = members.filter((name, i) => members.indexOf(name) !== i);
    assert.deepEqual(repeated, [], 'given is offered once (as its snippet), not also as a bare keyword');
    // `question` is given on another line of the test: offered again, it would be given twice (COI404).
    assert.deepEqual((await labels('givenName')).sort(), ['article', 'third']);
    assert.deepEqual((await labels('expectTarget')).sort(), ['answer', 'output', 'sentiment', 'summary']);
    const matchers = await labels('matcher');
    assert.ok(matchers.includes('not'));
    for (const m of ['equals', 'contains', 'matches', 'label', 'one_of', 'valid_json', 'rouge_l', 'judge']) assert.ok(matchers.includes(m), m);
    assert.deepEqual(await labels('labelValue'), ['positive', 'negative', 'neutral']);
    assert.deepEqual(await labels('oneOfValue'), ['negative', 'neutral']);
  });

  void test('nothing inside strings', async () => {
    assert.deepEqual(await labels('inString'), []);
  });

  void test('the step snippet, inserted, gives a file without new errors', async () => {
    const items = await complete('topLevel');
    const snippet = items.find((i) => i.label === 'step' && i.insertTextFormat === 2);
    const expanded = (snippet?.textEdit as TextEdit).newText
      .replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, '$1')
      .replace(/\$\{\d+:([^}]*)\}/g, '$1')
      .replace(/\$\d+/g, '');
    const { text: base } = fixture('chain c\ninput a: text\nstep one {\n  instruction "Summarize the text."\n}\n');
    const checkUri = newUri('snippet');
    await client.open(checkUri, `${base}${expanded}\n`);
    const errors = (await client.pullDiagnostics(checkUri)).filter((d) => d.severity === 1);
    assert.deepEqual(errors, []);
  });
});

void describe('completion for a client without snippets', () => {
  void test('snippets are left out, keywords stay', async () => {
    const client = await LspClient.start({ capabilities: minimalCapabilities() });
    try {
      const uri = newUri('nosnippet');
      await client.open(uri, 'chain c\n\n');
      const list = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 0 } });
      assert.ok(list.items.some((i) => i.label === 'step'));
      assert.ok(list.items.every((i) => i.insertTextFormat !== 2));
      // Every contract kind after `output`, `label` too (its snippet stands for the bare word).
      const stepUri = newUri('nosnippet-output');
      await client.open(stepUri, 'chain c\nstep s {\n  instruction "x"\n  output \n}\n');
      const kinds = await client.connection.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri: stepUri }, position: { line: 3, character: 9 } });
      assert.deepEqual(
        kinds.items.map((i) => [i.label, (i.textEdit as TextEdit).newText, i.insertTextFormat]),
        ['text', 'label', 'list', 'json', 'number', 'boolean', 'code'].map((k) => [k, k, undefined]),
      );
    } finally {
      await client.stop();
    }
  });
});
