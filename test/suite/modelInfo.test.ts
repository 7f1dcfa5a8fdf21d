// `CoI: Show Model Info` inside the extension host: it loads the active file's model
// (the tiny generated GGUF, coi.defaultModel, one thread) and returns where it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { WorkerInfo } from '../../core/backends/index';
import { serveTinyModel, tinyModelPath } from '../rig/tinyModel';
import { useTinyModelChain } from './util';

const CHAIN = `chain model_info_demo
input article: text

step summary {
  instruction "Summarize the article."
  output text
  max_tokens 4
}
`;

describe('model info', function () {
  this.timeout(120_000);
  const { uri } = useTinyModelChain('model-info-demo.coi', CHAIN);
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('coi');

  it('CoI: Show Model Info loads the active file\'s local model and returns where it runs (CPU, one thread)', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('coi.showModelInfo'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const info = await vscode.commands.executeCommand<WorkerInfo | undefined>('coi.showModelInfo');
    assert.ok(info !== undefined, 'the info of a local model');
    // This machine has no GPU: the worker runs on the CPU with the thread count the settings ask for.
    assert.equal(info.gpu, false);
    assert.equal(info.maxThreads, 1);
    assert.ok(info.loadedModels.some((m) => m.path === tinyModelPath()), JSON.stringify(info.loadedModels));
    assert.ok(info.pid > 0);
  });

  it('a model given as a URL is downloaded into coi.local.modelsDir before its info is shown', async () => {
    const server = await serveTinyModel();
    const modelsDir = mkdtempSync(join(tmpdir(), 'coi-suite-models-'));
    try {
      await config().update('local.modelsDir', modelsDir, vscode.ConfigurationTarget.Global);
      await config().update('defaultModel', server.url('downloaded-tiny.gguf'), vscode.ConfigurationTarget.Workspace);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const info = await vscode.commands.executeCommand<WorkerInfo | undefined>('coi.showModelInfo');
      assert.deepEqual(readdirSync(modelsDir).filter((f) => f.endsWith('.gguf')), ['downloaded-tiny.gguf']);
      assert.ok(info?.loadedModels.some((m) => m.path === join(modelsDir, 'downloaded-tiny.gguf')), JSON.stringify(info?.loadedModels));
    } finally {
      server.close();
      await config().update('local.modelsDir', undefined, vscode.ConfigurationTarget.Global);
      await config().update('defaultModel', tinyModelPath(), vscode.ConfigurationTarget.Workspace);
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });
});
