/**
 * `CoI: Cancel Fine-tuning Job` and `CoI: Resume Fine-tuning Job`: the panel's Cancel and
 * Resume buttons call them with the job folder; from the palette the job is picked from
 * the workspace's jobs. Both act through core/finetune's TRL engine and, like runs, are
 * refused in Restricted Mode (resuming starts a process the workspace's files configure).
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { trlEngine } from '../../core/finetune';
import type { JobRow } from '../../webview/protocol';
import { readJobs, workspaceOf } from './jobSources';

type JobAction = 'cancel' | 'resume';

export function registerFinetuneJobCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('coi.cancelFinetuneJob', (folder?: unknown) => runAction('cancel', folder, log)),
    vscode.commands.registerCommand('coi.resumeFinetuneJob', (folder?: unknown) => runAction('resume', folder, log)),
  );
}

/** Resolves to whether the action was taken. */
async function runAction(action: JobAction, argument: unknown, log: vscode.LogOutputChannel): Promise<boolean> {
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showErrorMessage('Fine-tuning jobs cannot be cancelled or resumed in Restricted Mode: the training process runs what this workspace configures. Trust the workspace first.', 'Manage Workspace Trust');
    if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }
  const folder = typeof argument === 'string' ? argument : argument instanceof vscode.Uri ? argument.fsPath : await pickJob(action);
  if (folder === undefined) return false;
  const id = basename(folder);
  try {
    const context = { workspace: workspaceOf(folder) };
    const state = action === 'cancel' ? await trlEngine.cancel(id, context) : await trlEngine.resume(id, context);
    log.info(`Fine-tuning job ${id}: ${action} → ${state.status}`);
    void vscode.window.showInformationMessage(`Fine-tuning job ${id} is ${state.status}.`);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Fine-tuning job ${id}: ${action} failed: ${message}`);
    void vscode.window.showErrorMessage(`Could not ${action} fine-tuning job ${id}: ${message}`);
    return false;
  }
}

async function pickJob(action: JobAction): Promise<string | undefined> {
  const workspaces = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const candidates = readJobs(workspaces).jobs.filter((row: JobRow) => (action === 'cancel' ? row.canCancel : row.canResume));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(action === 'cancel' ? 'No queued or running fine-tuning job to cancel.' : 'No cancelled or failed fine-tuning job with a checkpoint to resume.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((row) => ({ label: row.id, description: `${row.status} · ${row.method ?? '?'} · ${row.baseModel ?? '?'}`, detail: `step ${row.stepsDone}${row.stepsTotal === undefined ? '' : `/${row.stepsTotal}`}`, folder: row.folder })),
    { title: action === 'cancel' ? 'Cancel which fine-tuning job?' : 'Resume which fine-tuning job?' },
  );
  return picked?.folder;
}
