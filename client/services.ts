import type * as vscode from 'vscode';
import type { CoiLanguageClient } from './languageClient';
import type { ServerStatusBar } from './statusBar';

/** What every feature module of the extension gets at activation. */
export interface Services {
  /** The language client (`services.languageClient.client` is the running LanguageClient). */
  readonly languageClient: CoiLanguageClient;
  /** The extension's one log channel ("CoI Studio"). */
  readonly log: vscode.LogOutputChannel;
  readonly statusBar: ServerStatusBar;
}

/**
 * A feature of the extension (commands, CodeLens, Test Explorer, ...). Register one by
 * adding it to the `features` list in client/extension.ts. Push disposables to
 * `context.subscriptions`.
 */
export type FeatureModule = (context: vscode.ExtensionContext, services: Services) => void | Promise<void>;
