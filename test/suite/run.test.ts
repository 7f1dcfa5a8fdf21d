// Running chains in the editor (issue 5), inside the extension host: CodeLens,
// the run command and its record, inline preview hovers (fresh, cached, stale),
// and a test block run through the Test Explorer's controller. The model is the
// tiny generated GGUF (coi.defaultModel), one thread.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TestResult } from '../../core/expectations/evaluate';
import type { RunRecord } from '../../core/runner/types';
import { hoverText, useTinyModelChain } from './util';

const CHAIN = `chain run_demo
input article: text

step summary {
  instruction "Summarize the article."
  output text
  max_tokens 10
  temperature 0
}

step sentiment {
  instruction "Classify the sentiment."
  output label [positive, negative]
}

test "labels only" {
  given article = "I loved it."
  expect sentiment one_of [positive, negative]
  expect summary equals "certainly not this"
}
`;


describe('running chains in the editor', function () {
  this.timeout(120_000);
  const { uri } = useTinyModelChain('run-demo.coi', CHAIN);

  it('shows Run / Run composed (and Evaluate: the chain has a test) on the chain, Run to here / Re-run from here on each step, Run test on each test', async () => {
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    const at = (line: number): string[] => lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title ?? '');
    // Two providers (run/, eval/) put lenses on the chain line; their order is VS Code's.
    assert.deepEqual(at(0).sort(), ['$(beaker) Evaluate', '$(play) Run', 'Run composed']);
    assert.deepEqual(at(3), ['Run to here', 'Re-run from here']);
    assert.deepEqual(at(10), ['Run to here', 'Re-run from here']);
    assert.deepEqual(at(15), ['$(beaker) Run test']);
  });

  it('runs the chain; the step hover shows the output, tokens and timing, then "from the cache", then stale after an edit', async () => {
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    const record = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), { inputs: { article: 'I loved it.' } });
    assert.equal(record.status, 'ok', record.error);
    assert.ok(['positive', 'negative'].includes(record.steps[1]!.output!));
    const header = new vscode.Position(3, 6);
    const first = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, header));
    assert.match(first, /Step summary/);
    assert.match(first, /prompt \+ \d+ output tokens/);
    assert.ok(first.includes(record.steps[0]!.rawOutput!), 'the full output is in the hover');

    const again = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), { inputs: { article: 'I loved it.' } });
    assert.equal(again.modelCalls, 0);
    const cached = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, header));
    assert.match(cached, /from the cache/);

    await editor.edit((b) => b.replace(document.lineAt(4).range, '  instruction "Summarize the article in one word."'));
    const stale = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(10, 6)));
    assert.match(stale, /Stale: the step or a step it reads changed/);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('runs a test block: each expectation is reported, a failing one with expected and actual', async () => {
    const result = await vscode.commands.executeCommand<TestResult>('coi.runTest', uri.toString(), 'labels only');
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.expectations.map((e) => e.status), ['passed', 'failed']);
    assert.equal(result.expectations[1]!.expected, 'certainly not this');
    assert.equal(typeof result.expectations[1]!.actual, 'string');
  });
});
