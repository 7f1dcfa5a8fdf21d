import type * as vscode from 'vscode';
import { registerServerCommands } from './commands';
import { CoiLanguageClient } from './languageClient';
import { createLog } from './log';
import { registerEvalFeatures } from './eval/index';
import { registerRunFeatures } from './run/index';
import type { FeatureModule, Services } from './services';
import { ServerStatusBar } from './statusBar';

/**
 * The extension's features, registered in order at activation. To add one, import its
 * `register(context, services)` function and append it here.
 */
const features: FeatureModule[] = [registerServerCommands, registerRunFeatures, registerEvalFeatures];

let services: Services | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Services> {
  const log = createLog(context);
  const statusBar = new ServerStatusBar();
  const languageClient = new CoiLanguageClient(context, log, statusBar);
  context.subscriptions.push(statusBar, languageClient);
  services = { languageClient, log, statusBar };
  for (const register of features) {
    try {
      await register(context, services);
    } catch (error) {
      log.error(`Activating ${register.name || 'a feature'} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  await languageClient.start();
  return services;
}

export async function deactivate(): Promise<void> {
  await services?.languageClient.stop();
  services = undefined;
}
