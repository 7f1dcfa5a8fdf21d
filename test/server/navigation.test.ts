// Navigation over the protocol: definition, references, highlights, rename, outline,
// folding, selection ranges, semantic tokens and hover, on a fixture with markers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  DocumentHighlight,
  DocumentSymbol,
  FoldingRange,
  Hover,
  Location,
  LocationLink,
  MarkupContent,
  SelectionRange,
  SemanticTokens,
  TextDocumentEdit,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { applyTextEdits, fixtureFile, LspClient, newUri } from './harness';

const { text, at } = fixtureFile('navigation.coi');

function wordAt(doc: TextDocument, range: { start: { line: number; character: number }; end: { line: number; character: number } }): string {
  return doc.getText(range);
}

void describe('navigation', () => {
  let client: LspClient;
  let uri: string;
  let doc: TextDocument;
  const position = (offset: number | undefined): { line: number; character: number } => {
    assert.ok(offset !== undefined, 'marker missing');
    return doc.positionAt(offset);
  };
  const request = <R>(method: string, params: Record<string, unknown>): Promise<R> =>
    client.connection.sendRequest(method, { textDocument: { uri }, ...params });

  before(async () => {
    client = await LspClient.start();
    uri = newUri('navigation');
    doc = await client.open(uri, text);
  });
  after(() => client.stop());

  void test('go to definition from a from-reference lands on the step id', async () => {
    const links = await request<LocationLink[]>('textDocument/definition', { position: position(at.summaryRef) });
    assert.equal(links.length, 1);
    const link = links[0] as LocationLink;
    assert.equal(doc.offsetAt(link.targetSelectionRange.start), at.summaryDef);
    assert.equal(wordAt(doc, link.targetSelectionRange), 'summary');
    assert.ok(wordAt(doc, link.targetRange).startsWith('step summary {'));
    assert.equal(wordAt(doc, link.originSelectionRange as LocationLink['targetRange']), 'summary');
  });

  void test('definition resolves inputs (from, given) and profiles (model)', async () => {
    for (const [ref, def] of [
      [at.inputRef, at.inputDef],
      [at.givenRef, at.inputDef],
      [at.profileRef, at.profileDef],
      [at.expectRef, at.summaryDef],
    ] as const) {
      const links = await request<LocationLink[]>('textDocument/definition', { position: position(ref) });
      assert.equal(doc.offsetAt((links[0] as LocationLink).targetSelectionRange.start), def);
    }
  });

  void test('no definition on instruction text that spells an id', async () => {
    const inText = text.indexOf('The summary must');
    const links = await request<LocationLink[] | null>('textDocument/definition', { position: doc.positionAt(inText + 5) });
    assert.equal(links, null);
  });

  void test('find references lists every use, with or without the declaration', async () => {
    const withDecl = await request<Location[]>('textDocument/references', { position: position(at.summaryDef), context: { includeDeclaration: true } });
    // declaration, `from summary` in sentiment, `expect summary` in the test
    assert.equal(withDecl.length, 3);
    for (const loc of withDecl) assert.equal(wordAt(doc, loc.range), 'summary');
    const withoutDecl = await request<Location[]>('textDocument/references', { position: position(at.summaryDef), context: { includeDeclaration: false } });
    assert.equal(withoutDecl.length, 2);
    const inputRefs = await request<Location[]>('textDocument/references', { position: position(at.inputDef), context: { includeDeclaration: false } });
    assert.deepEqual(
      inputRefs.map((l) => doc.offsetAt(l.range.start)),
      [at.inputRef, at.givenRef],
    );
  });

  void test('document highlights mark the definition as write and uses as read', async () => {
    const highlights = await request<DocumentHighlight[]>('textDocument/documentHighlight', { position: position(at.profileRef) });
    assert.deepEqual(
      highlights.map((h) => [doc.offsetAt(h.range.start), h.kind]),
      [
        [at.profileDef, 3],
        [at.profileRef, 2],
      ],
    );
  });

  void test('rename changes every occurrence of the id and nothing in the instruction text', async () => {
    const prepared = await request<{ range: { start: { line: number; character: number } }; placeholder: string }>('textDocument/prepareRename', {
      position: position(at.summaryRef),
    });
    assert.equal(prepared.placeholder, 'summary');
    const edit = await request<WorkspaceEdit>('textDocument/rename', { position: position(at.summaryRef), newName: 'digest' });
    const changes = edit.documentChanges as TextDocumentEdit[];
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.textDocument.version, doc.version);
    const renamed = applyTextEdits(text, (changes[0]?.edits ?? []) as TextEdit[]);
    assert.match(renamed, /step digest \{/);
    assert.match(renamed, /from digest\n/);
    assert.match(renamed, /expect digest contains/);
    assert.match(renamed, /The summary must be short/, 'instruction text is untouched');
    assert.match(renamed, /Classify the sentiment of the summary\./);
    // The renamed file is as healthy as the original.
    const checkUri = newUri('renamed');
    await client.open(checkUri, renamed);
    const before = (await client.pullDiagnostics(uri)).map((d) => d.code);
    const after = (await client.pullDiagnostics(checkUri)).map((d) => d.code);
    assert.deepEqual(after, before);
  });

  void test('rename refuses invalid and taken names, and positions without a symbol', async () => {
    await assert.rejects(request('textDocument/rename', { position: position(at.summaryDef), newName: 'two words' }), /not a valid name/);
    await assert.rejects(request('textDocument/rename', { position: position(at.summaryDef), newName: 'sentiment' }), /already defined/);
    await assert.rejects(request('textDocument/rename', { position: position(at.summaryDef), newName: 'review' }), /already defined/);
    await assert.rejects(request('textDocument/rename', { position: position(at.summaryDef), newName: 'output' }), /reserved/);
    const inText = text.indexOf('Summarize the review');
    await assert.rejects(request('textDocument/prepareRename', { position: doc.positionAt(inText) }), /can be renamed/);
  });

  void test('rename refuses, before asking for a new name, a name also written in a block the parser skipped after a syntax error', async () => {
    const broken = 'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstpe draft {\n  instruction "y"\n  from summary\n}\n';
    const brokenUri = newUri('skipped');
    const brokenDoc = await client.open(brokenUri, broken);
    const at = { textDocument: { uri: brokenUri }, position: brokenDoc.positionAt(broken.indexOf('step summary') + 7) };
    const refusal = /Cannot rename 'summary' yet: the 'summary' on line 8 is in text the parser skipped after the syntax error on line 6[\s\S]*Fix the syntax error first/;
    await assert.rejects(client.connection.sendRequest('textDocument/prepareRename', at), refusal);
    await assert.rejects(client.connection.sendRequest('textDocument/rename', { ...at, newName: 'digest' }), refusal);
    // Once the keyword is fixed, both uses are renamed.
    const fixed = await client.edit(brokenUri, broken.indexOf('stpe'), broken.indexOf('stpe') + 4, 'step');
    const edit = await client.connection.sendRequest<WorkspaceEdit>('textDocument/rename', { ...at, newName: 'digest' });
    const renamed = applyTextEdits(fixed.getText(), ((edit.documentChanges as TextDocumentEdit[])[0]?.edits ?? []) as TextEdit[]);
    assert.equal(renamed, 'chain c\ninput a: text\nstep digest {\n  instruction "x"\n}\nstep draft {\n  instruction "y"\n  from digest\n}\n');
  });

  void test('find references and highlights include a use in text the parser skipped after a syntax error (not one in a string there)', async () => {
    const broken = 'chain c\ninput a: text\nstep summary {\n  instruction "x"\n}\nstpe draft {\n  instruction "summary"\n  from summary\n}\n';
    const brokenUri = newUri('skipped-refs');
    const brokenDoc = await client.open(brokenUri, broken);
    const at = { textDocument: { uri: brokenUri }, position: brokenDoc.positionAt(broken.indexOf('step summary') + 7) };
    const skippedUse = broken.indexOf('from summary') + 5;
    const found = await client.connection.sendRequest<Location[]>('textDocument/references', { ...at, context: { includeDeclaration: true } });
    assert.deepEqual(
      found.map((l) => brokenDoc.offsetAt(l.range.start)),
      [broken.indexOf('step summary') + 5, skippedUse],
    );
    for (const l of found) assert.equal(wordAt(brokenDoc, l.range), 'summary');
    const highlights = await client.connection.sendRequest<DocumentHighlight[]>('textDocument/documentHighlight', at);
    assert.deepEqual(
      highlights.map((h) => [brokenDoc.offsetAt(h.range.start), h.kind]),
      [
        [broken.indexOf('step summary') + 5, 3],
        [skippedUse, 1],
      ],
    );
  });

  void test('the outline is chain → profile, input, steps, tests with expectations', async () => {
    const symbols = await request<DocumentSymbol[]>('textDocument/documentSymbol', {});
    assert.equal(symbols.length, 1);
    const chain = symbols[0] as DocumentSymbol;
    assert.equal(chain.name, 'review_pipeline');
    assert.deepEqual(
      chain.children?.map((c) => c.name),
      ['local', 'review', 'summary', 'sentiment', 'happy path'],
    );
    const sentiment = chain.children?.[3];
    assert.match(sentiment?.detail ?? '', /label \[positive, negative, neutral\]/);
    assert.equal(chain.children?.[4]?.children?.length, 3);
    assert.equal(wordAt(doc, (chain.children?.[2] as DocumentSymbol).selectionRange), 'summary');
  });

  void test('an outline entry cut short never ends in half an emoji', async () => {
    // The 59th UTF-16 unit of the instruction's first line is the first half of an emoji.
    const instruction = `${'a'.repeat(58)}😀 and more words after the cut`;
    const emojiUri = newUri('outline-emoji');
    await client.open(emojiUri, `chain c\ninput x: text\nstep s {\n  instruction "${instruction}"\n  output text\n}\n`);
    const [chain] = await client.connection.sendRequest<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: emojiUri } });
    const detail = chain?.children?.find((c) => c.name === 's')?.detail ?? '';
    assert.equal(detail, `→ text · ${'a'.repeat(58)}…`);
  });

  void test('folding ranges cover blocks, the text block, and keep closing lines visible', async () => {
    const ranges = await request<FoldingRange[]>('textDocument/foldingRange', {});
    const lines = text.split('\n');
    const startsWith = (prefix: string): FoldingRange | undefined => ranges.find((r) => lines[r.startLine]?.trimStart().startsWith(prefix));
    const step = startsWith('step summary');
    assert.ok(step, 'the step block folds');
    assert.equal(lines[(step.endLine ?? 0) + 1]?.trim(), '}');
    const block = startsWith('instruction """');
    assert.ok(block, 'the text block folds');
    assert.equal(lines[(block.endLine ?? 0) + 1]?.trim(), '"""');
    assert.ok(startsWith('model local'));
    assert.ok(startsWith('test "happy path"'));
  });

  void test('selection ranges grow from the identifier to the whole file', async () => {
    const [range] = await request<SelectionRange[]>('textDocument/selectionRange', { positions: [position(at.summaryRef)] });
    const texts: string[] = [];
    for (let r: SelectionRange | undefined = range; r; r = r.parent) texts.push(doc.getText(r.range));
    assert.equal(texts[0], 'summary');
    assert.equal(texts[1], 'from summary');
    assert.ok(texts.some((t) => t.startsWith('step sentiment {') && t.endsWith('}')));
    assert.equal(texts[texts.length - 1], text);
    for (let i = 1; i < texts.length; i++) assert.ok((texts[i] as string).includes(texts[i - 1] as string), 'each range contains the previous one');
  });

  void test('semantic tokens mark step ids, inputs, profiles, contracts, matchers and labels', async () => {
    const tokens = await request<SemanticTokens>('textDocument/semanticTokens/full', {});
    const registration = client.registrations.find((r) => r.method === 'textDocument/semanticTokens');
    const legend = (registration?.registerOptions as { legend: { tokenTypes: string[]; tokenModifiers: string[] } }).legend;
    const decoded: { text: string; type: string; declaration: boolean }[] = [];
    let line = 0;
    let char = 0;
    for (let i = 0; i < tokens.data.length; i += 5) {
      const [dl, dc, len, type, mods] = tokens.data.slice(i, i + 5) as [number, number, number, number, number];
      line += dl;
      char = dl === 0 ? char + dc : dc;
      const start = doc.offsetAt({ line, character: char });
      decoded.push({ text: text.slice(start, start + len), type: legend.tokenTypes[type] ?? '?', declaration: (mods & 1) === 1 });
    }
    const find = (t: string, type: string, declaration: boolean): boolean => decoded.some((d) => d.text === t && d.type === type && d.declaration === declaration);
    assert.ok(find('summary', 'function', true));
    assert.ok(find('summary', 'function', false));
    assert.ok(find('review', 'parameter', true));
    assert.ok(find('review', 'parameter', false));
    assert.ok(find('local', 'class', true));
    assert.ok(find('label', 'type', false));
    assert.ok(find('contains', 'method', false));
    assert.ok(find('positive', 'enumMember', false));
    assert.ok(find('output', 'keyword', false));
    assert.ok(!decoded.some((d) => d.text === 'Summarize'), 'instruction text is not tokenized');
  });

  void test('semantic tokens for a range cover only that range', async () => {
    const start = text.indexOf('step sentiment');
    const end = text.indexOf('test "happy path"');
    const full = await request<SemanticTokens>('textDocument/semanticTokens/full', {});
    const ranged = await request<SemanticTokens>('textDocument/semanticTokens/range', { range: { start: doc.positionAt(start), end: doc.positionAt(end) } });
    assert.ok(ranged.data.length > 0 && ranged.data.length < full.data.length);
    const firstLine = ranged.data[0] ?? -1;
    assert.equal(firstLine, doc.positionAt(start).line, 'the first token is on the step line (relative to the start of the document)');
  });

  void test('hover on a step header shows its input, task, contract and composability', async () => {
    const hover = await request<Hover>('textDocument/hover', { position: doc.positionAt(text.indexOf('step sentiment') + 6) });
    const value = (hover.contents as MarkupContent).value;
    assert.match(value, /step `sentiment`.*step 2 of 2/);
    assert.match(value, /Reads:.*step `summary`/);
    assert.match(value, /Task:.*classification/);
    assert.match(value, /Output:.*label \[positive, negative, neutral\]/);
    assert.match(value, /Composability:/);
  });

  void test('hover on the step keyword ranges over the keyword, the position it was asked at', async () => {
    const hover = await request<Hover>('textDocument/hover', { position: position(at.stepKeyword) });
    assert.match((hover.contents as MarkupContent).value, /step `summary`/);
    assert.ok(hover.range, 'a range');
    assert.equal(wordAt(doc, hover.range), 'step');
  });

  void test('expect output: go to definition lands on the last step, hover explains it, rename still refuses', async () => {
    const links = await request<LocationLink[]>('textDocument/definition', { position: position(at.finalOutput) });
    assert.equal(links.length, 1);
    const link = links[0] as LocationLink;
    assert.equal(wordAt(doc, link.targetSelectionRange), 'sentiment');
    assert.equal(wordAt(doc, link.originSelectionRange as LocationLink['targetRange']), 'output');
    const hover = await request<Hover>('textDocument/hover', { position: position(at.finalOutput) });
    assert.match((hover.contents as MarkupContent).value, /`output`.*final output[\s\S]*step `sentiment`/);
    assert.equal(wordAt(doc, hover.range as LocationLink['targetRange']), 'output');
    await assert.rejects(request('textDocument/prepareRename', { position: position(at.finalOutput) }), /Only step ids/);
  });

  void test('hover on references summarizes the target', async () => {
    const input = await request<Hover>('textDocument/hover', { position: position(at.givenRef) });
    assert.match((input.contents as MarkupContent).value, /input `review`.*text lang=en/);
    const profile = await request<Hover>('textDocument/hover', { position: position(at.profileRef) });
    assert.match((profile.contents as MarkupContent).value, /model profile `local`.*the default[\s\S]*provider local/);
    const step = await request<Hover>('textDocument/hover', { position: position(at.summaryRef) });
    assert.match((step.contents as MarkupContent).value, /step `summary`[\s\S]*Reads:.*input `review`/);
    const nothing = await request<Hover | null>('textDocument/hover', { position: doc.positionAt(text.indexOf('Summarize the review')) });
    assert.equal(nothing, null);
  });

  void test('hover shows a broken edge: a label fed to a summarizer', async () => {
    const broken = [
      'chain x',
      'input review: text lang=en',
      'step sentiment {',
      '  instruction "Classify the sentiment of the review."',
      '  output label [positive, negative]',
      '}',
      'step summary {',
      '  instruction "Summarize the text in two sentences."',
      '  output text',
      '}',
      '',
    ].join('\n');
    const brokenUri = newUri('edge');
    const brokenDoc = await client.open(brokenUri, broken);
    const hover = await client.connection.sendRequest<Hover>('textDocument/hover', {
      textDocument: { uri: brokenUri },
      position: brokenDoc.positionAt(broken.indexOf('step summary') + 6),
    });
    const value = (hover.contents as MarkupContent).value;
    assert.match(value, /Reads:.*step `sentiment`.*label \[positive, negative\]/);
    assert.match(value, /Task:.*summarization \(inferred\)/);
    assert.match(value, /✗ .*produces a label.*needs a passage.*\(COI301\)/);
    const fine = await client.connection.sendRequest<Hover>('textDocument/hover', {
      textDocument: { uri: brokenUri },
      position: brokenDoc.positionAt(broken.indexOf('step sentiment') + 6),
    });
    assert.match((fine.contents as MarkupContent).value, /Composability:.*✓/);
  });
});
