// Helpers for the extension-host suite: fixture files and waiting for editor events.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { tinyModelPath } from '../rig/tinyModel';

/** A file of the opened fixture workspace (a copy of test/fixtures/e2e-workspace). */
export function fixtureUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the suite must run with the fixture workspace open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Resolves when `check()` returns a value (not undefined), re-checking on each event. */
export function waitFor<T>(event: vscode.Event<unknown>, check: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first !== undefined) return resolve(first);
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event(() => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

/** Activates CoI Studio (installed in the test VS Code) and waits for it. */
export async function activateExtension(): Promise<void> {
  const ext = vscode.extensions.getExtension('coi-studio.coi-studio');
  assert.ok(ext, 'the extension is installed');
  await ext.activate();
}

/** A `model api` block for the OpenAI-protocol test server at `baseUrl` (model "tiny", temperature 0). */
export function testServerProfile(baseUrl: string): string {
  return `model api {\n  provider openai\n  base_url "${baseUrl}"\n  model "tiny"\n  temperature 0\n}`;
}

/**
 * For one `describe` block: writes `text` as `fileName` into the workspace and points the
 * extension at the tiny generated model (one thread); undone afterwards.
 */
export function useTinyModelChain(fileName: string, text: string): { readonly uri: vscode.Uri } {
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('coi');
  const uri = fixtureUri(fileName);
  before(async () => {
    await activateExtension();
    writeFileSync(uri.fsPath, text);
    await config().update('defaultModel', tinyModelPath(), vscode.ConfigurationTarget.Workspace);
    await config().update('local.threads', 1, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await config().update('defaultModel', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('local.threads', undefined, vscode.ConfigurationTarget.Workspace);
    rmSync(uri.fsPath, { force: true });
  });
  return { uri };
}

/** The text of hovers, read as plain text (MarkdownString.appendText escapes spaces and punctuation). */
export function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n')
    .replace(/&nbsp;/g, ' ')
    .replace(/\\([\\`*_{}[\]()#+\-.!|])/g, '$1');
}
