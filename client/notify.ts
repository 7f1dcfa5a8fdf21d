/**
 * Every notification of the extension goes through here, with its text made inert
 * (notificationText.ts): VS Code turns `[label](command:…)` in a notification into a link
 * that runs the command, and our messages carry text that a workspace wrote. Each function
 * takes the whole message, so a caller cannot forget which part came from a file.
 * eslint.config.mjs forbids `vscode.window.show*Message` and `withProgress` elsewhere in client/.
 */
import * as vscode from 'vscode';
import { inertLinks } from './notificationText';

export function showError<T extends string>(message: string, ...actions: T[]): Thenable<T | undefined> {
  return vscode.window.showErrorMessage(inertLinks(message), ...actions);
}

export function showWarning<T extends string>(message: string, ...actions: T[]): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(inertLinks(message), ...actions);
}

export function showInfo<T extends string>(message: string, ...actions: T[]): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(inertLinks(message), ...actions);
}

/** The action that reveals the extension's log (the "CoI Studio" output channel). */
export const SHOW_OUTPUT = 'Show Output';

function revealed<T extends string>(log: vscode.OutputChannel, choice: T | typeof SHOW_OUTPUT | undefined): T | undefined {
  if (choice !== SHOW_OUTPUT) return choice as T | undefined;
  log.show(true);
  return undefined;
}

/** An error with the given actions and Show Output last, which reveals `log` (then resolves to undefined). */
export async function showErrorWithLog<T extends string>(log: vscode.OutputChannel, message: string, ...actions: T[]): Promise<T | undefined> {
  return revealed(log, await showError<T | typeof SHOW_OUTPUT>(message, ...actions, SHOW_OUTPUT));
}

/** A warning with the given actions and Show Output last, which reveals `log` (then resolves to undefined). */
export async function showWarningWithLog<T extends string>(log: vscode.OutputChannel, message: string, ...actions: T[]): Promise<T | undefined> {
  return revealed(log, await showWarning<T | typeof SHOW_OUTPUT>(message, ...actions, SHOW_OUTPUT));
}

/** A modal question with `detail` below it; resolves to the action chosen (undefined: closed). */
export function askModal<T extends string>(message: string, detail: string, ...actions: T[]): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(inertLinks(message), { modal: true, detail: inertLinks(detail) }, ...actions);
}

export type NotificationProgress = vscode.Progress<{ message?: string; increment?: number }>;

/** A progress notification with Cancel; its title and every message it reports are inert. */
export function withNotificationProgress<R>(title: string, task: (progress: NotificationProgress, token: vscode.CancellationToken) => Thenable<R>): Thenable<R> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: inertLinks(title), cancellable: true }, (progress, token) =>
    task({ report: (value) => progress.report(value.message === undefined ? value : { ...value, message: inertLinks(value.message) }) }, token),
  );
}
