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
