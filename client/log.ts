import * as vscode from 'vscode';

/** The one output channel of the extension; the language client writes its log here too. */
export function createLog(context: vscode.ExtensionContext): vscode.LogOutputChannel {
  const log = vscode.window.createOutputChannel('CoI Studio', { log: true });
  context.subscriptions.push(log);
  return log;
}
