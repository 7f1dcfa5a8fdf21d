/** The open workspace folders that are on this machine's disk (jobs, stores and runs live there). */
import * as vscode from 'vscode';

export function fileWorkspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}
