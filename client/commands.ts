import * as vscode from 'vscode';
import type { Services } from './services';

/** `CoI: Restart Language Server` and `CoI: Show Output`. */
export function registerServerCommands(context: vscode.ExtensionContext, services: Services): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('coi.restartServer', async () => {
      services.log.info('Restarting the language server (command).');
      await services.languageClient.restart();
    }),
    vscode.commands.registerCommand('coi.showOutput', () => services.log.show(true)),
  );
}
