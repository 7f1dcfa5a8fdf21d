// Helpers for the extension-host suite: fixture files and waiting for editor events.
import * as vscode from 'vscode';

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
