// The language features through the VS Code API, inside the extension host: what the editor
// gets from the real language client and server.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, fixtureUri, hoverText, waitFor } from './util';

/** Opens a fixture in an editor (the client syncs and checks open documents). */
async function open(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(fixtureUri(name));
  return vscode.window.showTextDocument(doc);
}

function diagnosticsWhere(uri: vscode.Uri, predicate: (all: vscode.Diagnostic[]) => boolean, what: string): Promise<vscode.Diagnostic[]> {
  return waitFor(
    vscode.languages.onDidChangeDiagnostics,
    () => {
      const all = vscode.languages.getDiagnostics(uri);
      return predicate(all) ? all : undefined;
    },
    what,
  );
}

async function revert(editor: vscode.TextEditor): Promise<void> {
  await vscode.window.showTextDocument(editor.document);
  await vscode.commands.executeCommand('workbench.action.files.revert');
  // The command can return before the reverted text reaches the extension host: wait for it,
  // so no late revert changes the document under the next test.
  await waitFor(vscode.workspace.onDidChangeTextDocument, () => (editor.document.isDirty ? undefined : true), 'the reverted document');
}

/**
 * The code actions VS Code gets for `range`, asked once. An earlier version asked again when
 * the first answer was empty (3 of 16 full runs): the test waited for diagnostics, and those
 * could be *pushed* ones, which the server sent even to VS Code (which pulls; issue 12 item 10)
 * and which could arrive before the client had processed the server's one bulk registration —
 * the code action provider included — so the first request found no provider. Now that VS Code
 * only pulls, diagnostics appear only through the pull provider of that same registration, so
 * the code action provider is there when they are.
 */
async function codeActionTitled(document: vscode.TextDocument, range: vscode.Range, title: string): Promise<{ action: vscode.CodeAction | undefined; seen: string[][] }> {
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', document.uri, range, vscode.CodeActionKind.QuickFix.value);
  return { action: actions.find((a) => a.title === title), seen: [actions.map((a) => a.title)] };
}

// Positions in test/fixtures/e2e-workspace/summarize.coi (0-based line, character).
const STEP_SUMMARY_ID = new vscode.Position(6, 5); //  7: step summary {
const STEP_FRENCH_ID = new vscode.Position(13, 5); // 14: step french {
const FROM_SUMMARY = new vscode.Position(15, 8); //   16:   from summary

describe('language features through the client', function () {
  before(async () => {
    await activateExtension();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('reports the errors of broken.coi at their lines, and clears one when the text is fixed', async () => {
    const editor = await open('broken.coi');
    const uri = editor.document.uri;
    const all = await diagnosticsWhere(uri, (ds) => ds.some((d) => d.range.start.line === 7) && ds.some((d) => d.range.start.line === 12), 'errors at lines 8 and 13');
    const unterminated = all.find((d) => d.range.start.line === 7);
    assert.equal(unterminated?.severity, vscode.DiagnosticSeverity.Error);
    assert.match(unterminated?.message ?? '', /unterminated string/i);
    assert.equal(unterminated?.range.start.character, 14);
    const unknown = all.find((d) => d.range.start.line === 12);
    assert.match(unknown?.message ?? '', /summry/);
    assert.equal(unknown?.severity, vscode.DiagnosticSeverity.Error);
    // Each problem once: VS Code shows the union of every diagnostic collection (the tab's
    // count, the status bar, the hover), so a pushed copy beside the pulled one doubled them.
    const keys = all.map((d) => `${d.range.start.line}:${d.range.start.character} ${String(typeof d.code === 'object' ? d.code.value : d.code)} ${d.message}`);
    assert.deepEqual(keys, [...new Set(keys)], `a problem is reported twice: ${keys.join(' | ')}`);

    const line8 = editor.document.lineAt(7).range;
    await editor.edit((b) => b.replace(line8, '  instruction "Summarize the article."'));
    await diagnosticsWhere(uri, (ds) => !ds.some((d) => d.range.start.line === 7), 'no error at line 8 after the fix');
    await revert(editor);
  });

  it('offers a quick fix for an unknown reference that names the closest step', async () => {
    const editor = await open('broken.coi');
    const uri = editor.document.uri;
    // Both errors of the file as written (line 8 comes back only once an earlier test's
    // revert has been checked), so the quick fix is asked of the current document.
    const all = await diagnosticsWhere(uri, (ds) => ds.some((d) => d.range.start.line === 7) && ds.some((d) => d.range.start.line === 12), 'the errors at lines 8 and 13');
    const unknown = all.find((d) => d.range.start.line === 12)!;
    const { action: change, seen } = await codeActionTitled(editor.document, unknown.range, "Change to 'summary'");
    assert.ok(change?.edit, `a "Change to 'summary'" fix; the answer was ${JSON.stringify(seen[0])} (document version ${editor.document.version}, line 13: ${JSON.stringify(editor.document.lineAt(12).text)})`);
    assert.ok(await vscode.workspace.applyEdit(change.edit));
    assert.equal(editor.document.lineAt(12).text, '  from summary');
    await diagnosticsWhere(uri, (ds) => !ds.some((d) => d.range.start.line === 12), 'no error at line 13 after the fix');
    await revert(editor);
  });

  it('hovers a step header with its position in the chain and what it reads', async () => {
    const editor = await open('summarize.coi');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, STEP_FRENCH_ID);
    const text = hoverText(hovers);
    assert.match(text, /step `french`/);
    assert.match(text, /step 2 of 2/);
    assert.match(text, /summary/);
  });

  it('completes the earlier steps and the chain inputs after `from`', async () => {
    const editor = await open('summarize.coi');
    const line = editor.document.lineAt(FROM_SUMMARY.line).range;
    await editor.edit((b) => b.replace(line, '  from '));
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, new vscode.Position(FROM_SUMMARY.line, 7));
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('summary'), JSON.stringify(labels));
    assert.ok(labels.includes('article'), JSON.stringify(labels));
    assert.ok(!labels.includes('french'), `a step cannot read itself: ${JSON.stringify(labels)}`);
    await revert(editor);
  });

  it('goes to the definition of a step reference', async () => {
    const editor = await open('summarize.coi');
    const found = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', editor.document.uri, FROM_SUMMARY);
    assert.equal(found.length, 1);
    const target = found[0]!;
    const range = 'targetSelectionRange' in target ? target.targetSelectionRange : 'range' in target ? target.range : undefined;
    assert.ok(range, 'the definition has a range');
    assert.deepEqual([range.start.line, range.start.character, range.end.character], [6, 5, 12]);
  });

  it('renames a step and every reference to it, not the comments', async () => {
    const editor = await open('summarize.coi');
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', editor.document.uri, STEP_SUMMARY_ID, 'gist');
    const changes = edit.get(editor.document.uri);
    const lines = changes.map((c) => c.range.start.line).sort((a, b) => a - b);
    assert.deepEqual(lines, [6, 15, 21], `edits at the declaration and both references: ${JSON.stringify(changes)}`);
    assert.ok(changes.every((c) => c.newText === 'gist'));
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.match(editor.document.getText(), /^ {2}from gist$/m);
    await revert(editor);
  });
});

describe('document structure and formatting', function () {
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('outlines the chain with its input, steps and test (what the Outline view and breadcrumbs show)', async () => {
    const editor = await open('summarize.coi');
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', editor.document.uri);
    assert.equal(symbols.length, 1);
    const chain = symbols[0]!;
    assert.equal(chain.name, 'summarize_then_translate');
    const children = chain.children.map((c) => c.name);
    for (const name of ['article', 'summary', 'french']) assert.ok(children.includes(name), `${name} in ${JSON.stringify(children)}`);
    assert.ok(children.some((c) => c.includes('storm warning')), `the test in ${JSON.stringify(children)}`);
    const french = chain.children.find((c) => c.name === 'french')!;
    assert.equal(french.selectionRange.start.line, 13);
  });

  it('formats a badly indented document back to the canonical layout', async () => {
    const editor = await open('summarize.coi');
    const original = editor.document.getText();
    await editor.edit((b) => b.replace(editor.document.lineAt(15).range, '        from summary'));
    const edits = await vscode.commands.executeCommand<vscode.TextEdit[]>('vscode.executeFormatDocumentProvider', editor.document.uri, { tabSize: 2, insertSpaces: true });
    assert.ok(edits.length > 0, 'the formatter proposes edits');
    const applied = new vscode.WorkspaceEdit();
    applied.set(editor.document.uri, edits);
    assert.ok(await vscode.workspace.applyEdit(applied));
    assert.equal(editor.document.lineAt(15).text, '  from summary');
    assert.equal(editor.document.getText(), original);
  });
});

describe('CoI: Restart Language Server', function () {
  it('restarts the server, which then answers requests again', async () => {
    const editor = await open('broken.coi');
    await diagnosticsWhere(editor.document.uri, (ds) => ds.some((d) => d.range.start.line === 7), 'the error at line 8');
    // The extension's exports (its services) hold the running language client.
    const services = vscode.extensions.getExtension('coi-studio.coi-studio')?.exports as { languageClient?: { client?: unknown } } | undefined;
    const before = services?.languageClient?.client;
    assert.ok(before, 'a language client is running before the restart');
    await vscode.commands.executeCommand('coi.restartServer');
    const after = services?.languageClient?.client;
    assert.ok(after, 'a language client is running after the restart');
    assert.notEqual(after, before, 'the restart started a new client and server');
    // A new server process: diagnostics and hover come from it.
    await diagnosticsWhere(editor.document.uri, (ds) => ds.some((d) => d.range.start.line === 7), 'the error at line 8 after the restart');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(6, 6));
    assert.match(hoverText(hovers), /step `summary`/);
  });
});
