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

  it('coi.codeLens.mode minimal keeps Run, Evaluate and Run test; off shows no lenses', async () => {
    const config = vscode.workspace.getConfiguration('coi');
    const titles = async (): Promise<string[]> => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)).map((l) => l.command?.title ?? '').sort();
    try {
      await config.update('codeLens.mode', 'minimal', vscode.ConfigurationTarget.Workspace);
      assert.deepEqual(await titles(), ['$(beaker) Evaluate', '$(beaker) Run test', '$(play) Run']);
      await config.update('codeLens.mode', 'off', vscode.ConfigurationTarget.Workspace);
      assert.deepEqual(await titles(), []);
    } finally {
      await config.update('codeLens.mode', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('runs the chain; the step hover shows the output, tokens and timing, then "cached", then stale after an edit', async () => {
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
    // The run output comes before the language server's analysis card (one hover, through the client's middleware).
    assert.ok(first.indexOf('Step summary') < first.indexOf('**Reads:**') && first.includes('**Reads:**'), `run output first:\n${first}`);

    const again = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), { inputs: { article: 'I loved it.' } });
    assert.equal(again.modelCalls, 0);
    const cached = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, header));
    assert.match(cached, /cached/);

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

  it('a test run refreshes the step previews; the hover links to the whole output, which opens as plain text', async () => {
    await vscode.commands.executeCommand('coi.clearStepCache'); // also forgets the previews of earlier runs
    const header = new vscode.Position(3, 6);
    assert.doesNotMatch(hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, header)), /Step summary/);
    const result = await vscode.commands.executeCommand<TestResult>('coi.runTest', uri.toString(), 'labels only');
    const summary = result.expectations[1]!.actual!;
    const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, header));
    assert.match(hover, /Step summary/, 'the test run shows in the previews');
    assert.ok(hover.includes(summary.trim()), `the hover shows the output the test saw:\n${hover}`);
    await vscode.commands.executeCommand('coi.showStepOutput', uri.toString(), 'summary');
    const opened = vscode.window.activeTextEditor?.document;
    assert.equal(opened?.languageId, 'plaintext');
    assert.ok(opened.getText().includes(summary.trim()), opened.getText());
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});

// Issue 12 item 2: the editor refuses what `coi run` refuses (core's one checkForRun decision).
const LABEL_THEN_SUMMARY = `chain refused
input review: text

step sentiment {
  instruction "Determine whether the review is positive or negative."
  output label [positive, negative]
  max_tokens 4
}

step summary {
  instruction "Summarize the text in two sentences."
  output text
  max_tokens 4
}

test "t" {
  given review = "Great."
  expect sentiment one_of [positive, negative]
}
`;

describe('a chain with a composability error (COI301)', function () {
  this.timeout(120_000);
  const { uri } = useTinyModelChain('run-refused.coi', LABEL_THEN_SUMMARY);

  it('Run Chain and the Testing view refuse it, as coi run does; swapping the steps makes it run', async () => {
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    const refused = await vscode.commands.executeCommand<RunRecord | undefined>('coi.run', uri.toString(), { inputs: { review: 'Great.' } });
    assert.equal(refused, undefined, 'Run Chain ran a chain with a COI301 error');
    const test = await vscode.commands.executeCommand<TestResult | undefined>('coi.runTest', uri.toString(), 't');
    assert.equal(test, undefined, 'the Testing view ran a chain with a COI301 error');
    assert.doesNotMatch(hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(3, 6))), /Step sentiment/, 'no step ran');

    // The label feeds nothing that needs a passage once the summary comes first: the chain runs.
    await editor.edit((b) => b.replace(document.lineAt(10).range, '  instruction "Summarize the review in two sentences."'));
    await editor.edit((b) => b.replace(document.lineAt(4).range, '  instruction "Determine whether the summary is positive or negative."'));
    await editor.edit((b) => {
      const sentiment = new vscode.Range(3, 0, 8, 0);
      const summary = new vscode.Range(9, 0, 14, 0);
      b.replace(sentiment, document.getText(summary));
      b.replace(summary, document.getText(sentiment));
    });
    const record = await vscode.commands.executeCommand<RunRecord | undefined>('coi.run', uri.toString(), { inputs: { review: 'Great.' } });
    assert.ok(record !== undefined, `the composable chain did not run:\n${document.getText()}`);
    assert.deepEqual(record.steps.map((s) => s.id), ['summary', 'sentiment']);
  });
});
