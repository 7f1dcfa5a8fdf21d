// The Test Explorer and the step cache, audited, inside the extension host against the
// OpenAI-protocol test server on 127.0.0.1: the Testing view's Stop cancels a test started from
// its CodeLens (CoI: Run Test…); a changed coi.run.cacheMaxEntries holds without a reload.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TestResult } from '../../core/expectations/evaluate';
import type { RunRecord } from '../../core/runner/types';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { activateExtension, fixtureUri, testServerProfile } from './util';

function chainText(baseUrl: string): string {
  return `chain dock_notes

${testServerProfile(baseUrl)}

input note: text

step summary {
  instruction "Summarize the note."
}

step title {
  instruction "Give the summary a title."
}

test "first" {
  given note = "The east dock reopened."
  expect summary contains "dock"
}
`;
}

/** Resolves to 'still running' when `work` has not settled after `ms` (a run nothing stops). */
function within<T>(work: PromiseLike<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe('the Test Explorer and the step cache', function () {
  this.timeout(90_000);
  let server: OpenAITestServer;
  const uri = fixtureUri('dock-notes.coi');

  before(async () => {
    await activateExtension();
    server = await startOpenAITestServer();
    writeFileSync(uri.fsPath, chainText(server.baseURL));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('coi').update('run.cacheMaxEntries', undefined, vscode.ConfigurationTarget.Workspace);
    rmSync(uri.fsPath, { force: true });
    await server.close();
  });

  it("the Testing view's Stop cancels a test started with Run test (CoI: Run Test…)", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<string | undefined>((resolve) => (release = () => resolve('The east dock reopened.')));
    let arrived: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => (arrived = resolve));
    server.setReplier(() => {
      arrived();
      return held;
    });
    await vscode.commands.executeCommand('coi.clearStepCache');
    const running = vscode.commands.executeCommand<TestResult | undefined>('coi.runTest', uri.toString(), 'first');
    try {
      await asked;
      // What the Testing view's Stop button runs.
      await vscode.commands.executeCommand('testing.cancelRun');
      const result = await within(running, 20_000);
      assert.notEqual(result, 'still running', 'Stop did not stop the test');
      assert.equal((result as TestResult | undefined)?.run?.status, 'cancelled');
    } finally {
      release();
      await running;
      server.setReplier(undefined);
    }
  });

  it('a lowered coi.run.cacheMaxEntries holds at once (no reload)', async () => {
    server.setReplier(() => 'The east dock reopened.');
    const config = vscode.workspace.getConfiguration('coi');
    const inputs = { inputs: { note: 'The crew repaired two cranes.' } };
    await vscode.commands.executeCommand('coi.clearStepCache');
    const cached = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), inputs);
    assert.equal(cached.status, 'ok', cached.error);
    assert.equal((await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), inputs)).modelCalls, 0, 'both steps cached');
    await config.update('run.cacheMaxEntries', 1, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('coi.clearStepCache');
    await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), inputs);
    const again = await vscode.commands.executeCommand<RunRecord>('coi.run', uri.toString(), inputs);
    assert.notEqual(again.modelCalls, 0, 'one entry kept: the steps are generated again');
  });
});
