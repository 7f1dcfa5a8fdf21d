// A `text lang=fr` step answered in English, run from the editor against the OpenAI-protocol
// test server on 127.0.0.1 (told to reply with an English sentence): the run succeeds, the
// record carries the warning, and the step's hover shows it.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { RunRecord } from '../../core/runner/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { activateExtension, fixtureUri, hoverText, testServerProfile } from './util';

const ENGLISH = 'The storm will reach the coast tonight and the authorities have asked the people who live near the river to leave their homes.';

function chainText(baseUrl: string): string {
  return `chain french_summary

${testServerProfile(baseUrl)}

input article: text

step summary {
  instruction "Summarize the article in French."
  output text lang=fr
}
`;
}


describe('language of a text output', function () {
  this.timeout(60_000);
  let server: OpenAITestServer;
  const uri = fixtureUri('french-summary.coi');

  before(async () => {
    await activateExtension();
    server = await startOpenAITestServer();
    writeFileSync(uri.fsPath, chainText(server.baseURL));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    rmSync(uri.fsPath, { force: true });
    await server.close();
  });

  it('accepts an English answer to a French step with a warning, in the record and in the step hover', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    server.injectFaults([{ kind: 'reply', content: ENGLISH }]);
    const record = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), { inputs: { article: 'A storm is coming to the coast tonight.' } });
    assert.equal(record.status, 'ok', record.error);
    assert.equal(record.steps[0]!.output, ENGLISH);
    assert.match(record.steps[0]!.warnings?.[0] ?? '', /^the output reads as English, not French/);
    assert.equal(server.count('/v1/chat/completions'), 1, 'the step was answered by the test server');

    const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(11, 6)));
    assert.match(hover, /⚠ the output reads as English, not French/);
  });
});
