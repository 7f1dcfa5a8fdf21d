/**
 * `CoI: Start Fine-tuning Job` (startJob.ts), `CoI: Cancel Fine-tuning Job` and
 * `CoI: Resume Fine-tuning Job`: the panel's Cancel and
 * Resume buttons call them with the job folder; from the palette the job is picked from
 * the workspace's jobs. Both act through core/finetune's TRL engine and, like runs, are
 * refused in Restricted Mode (resuming starts a process the workspace's files configure).
 */
import * as vscode from 'vscode';
import { fileWorkspaceFolders } from './workspaces';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BASE_EVALUATION_MAX_TOKENS, baseGgufPath, ensureBaseGguf, ensureJobGguf, outTypeOf, profileInsertion, resultIsAdapter, profileRefusal, readConfig, readState, cancelActiveJob, resumeJob, updateState, validationDataOf, venvLocation, type JobConfig, type JobState, type VenvLocation } from '../../core/finetune';
import { LANGUAGE_ID } from '../../server/protocol';
import type { JobRow } from '../../webview/protocol';
import { knownJobFolder, readJobs, workspaceOf } from './jobSources';
import { startFinetuneJob } from './startJob';
import type { EngineContextFor } from './engineContext';
import { engineContexts, jobRefresh } from './engineContext';
import { showError, showErrorWithLog, showInfo, withNotificationProgress } from '../notify';

type JobAction = 'cancel' | 'resume';

export function registerFinetuneJobCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  const contextFor = engineContexts(context.secrets);
  context.subscriptions.push(
    vscode.commands.registerCommand('coi.startFinetuneJob', (argument?: unknown) => startFinetuneJob(argument, log, contextFor)),
    vscode.commands.registerCommand('coi.cancelFinetuneJob', (folder?: unknown) => runAction('cancel', folder, log, contextFor)),
    vscode.commands.registerCommand('coi.resumeFinetuneJob', (folder?: unknown) => runAction('resume', folder, log, contextFor)),
    vscode.commands.registerCommand('coi.useFinetunedModel', (folder?: unknown) => useFinetunedModel(folder, log, contextFor)),
    vscode.commands.registerCommand('coi.evaluateFinetunedModel', (folder?: unknown) => evaluateAgainstBase(folder, log, contextFor)),
  );
}

/** Resolves to whether the action was taken. */
async function runAction(action: JobAction, argument: unknown, log: vscode.LogOutputChannel, contextFor: EngineContextFor): Promise<boolean> {
  if (!vscode.workspace.isTrusted) {
    const choice = await showError('Fine-tuning jobs cannot be cancelled or resumed in Restricted Mode: the training process runs what this workspace configures. Trust the workspace first.', 'Manage Workspace Trust');
    if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }
  let folder: string | undefined;
  try {
    folder = isJobArgument(argument) ? namedJobFolder(argument) : await pickJob(action, contextFor);
  } catch (error) {
    const message = `Could not ${action} the fine-tuning job: ${error instanceof Error ? error.message : String(error)}`;
    log.error(message);
    void showErrorWithLog(log, message);
    return false;
  }
  if (folder === undefined) return false;
  const id = basename(folder);
  try {
    const context = await contextFor(workspaceOf(folder));
    // A job that has already ended is refused with its state, why it ended and its log, as `coi finetune cancel` says it.
    const state = action === 'cancel' ? await cancelActiveJob(id, context) : await resumeJob(id, context);
    log.info(`Fine-tuning job ${id}: ${action} → ${state.status}`);
    void showInfo(`Fine-tuning job ${id} is ${state.status}.`);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Fine-tuning job ${id}: ${action} failed: ${message}`);
    void showErrorWithLog(log, `Could not ${action} fine-tuning job ${id}: ${message}`);
    return false;
  }
}

/**
 * The job folder a command was given (by the panel, or by anyone who can run a command): only a
 * listed job of an open workspace folder, since the folder decides which state.json is acted on.
 */
function namedJobFolder(argument: string | vscode.Uri): string {
  return knownJobFolder(argument instanceof vscode.Uri ? argument.fsPath : argument, fileWorkspaceFolders());
}

/** A command given a folder (a path or a Uri) acts on it; without one it asks which job. */
function isJobArgument(argument: unknown): argument is string | vscode.Uri {
  return typeof argument === 'string' || argument instanceof vscode.Uri;
}

async function pickJob(action: JobAction, contextFor: EngineContextFor): Promise<string | undefined> {
  const workspaces = fileWorkspaceFolders();
  const candidates = (await readJobs(workspaces, contextFor)).jobs.filter((row: JobRow) => (action === 'cancel' ? row.canCancel : row.canResume));
  if (candidates.length === 0) {
    void showInfo(action === 'cancel' ? 'No queued or running fine-tuning job to cancel.' : 'No cancelled or failed fine-tuning job with a checkpoint to resume.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((row) => ({ label: row.id, description: `${row.status} · ${row.method ?? '?'} · ${row.baseModel ?? '?'}`, detail: `step ${row.stepsDone}${row.stepsTotal === undefined ? '' : `/${row.stepsTotal}`}`, folder: row.folder })),
    { title: action === 'cancel' ? 'Cancel which fine-tuning job?' : 'Resume which fine-tuning job?' },
  );
  return picked?.folder;
}

/**
 * `CoI: Use Fine-tuned Model as Profile`: adds a completed job's GGUF as a `model` block
 * to a `.coi` file — the active one, else one picked from the workspace — and shows it.
 * Resolves to whether the profile was added.
 */
export async function useFinetunedModel(argument: unknown, log: vscode.LogOutputChannel, contextFor: EngineContextFor): Promise<boolean> {
  const job = await completedJob(argument, log, contextFor);
  if (job === undefined) return false;
  const { state } = job;
  const document = await targetCoiDocument();
  if (document === undefined) return false;
  // A LoRA adapter's profile names its base model's GGUF too (converted once, kept in the job folder).
  const adapter = resultIsAdapter(state, job.config);
  const base = adapter ? await baseGgufWithProgress(job, log) : undefined;
  if (adapter && base === undefined) return false;
  const coiPath = document.uri.scheme === 'file' ? document.uri.fsPath : undefined;
  const insertion = base === undefined ? profileInsertion(document.getText(), state.id, job.gguf, coiPath) : profileInsertion(document.getText(), state.id, base, coiPath, job.gguf);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(document.uri, document.positionAt(insertion.offset), insertion.text);
  if (!(await vscode.workspace.applyEdit(edit))) {
    void showError(`Could not edit ${vscode.workspace.asRelativePath(document.uri)}.`);
    return false;
  }
  const editor = await vscode.window.showTextDocument(document);
  const start = document.positionAt(insertion.offset + insertion.text.indexOf('model '));
  editor.selection = new vscode.Selection(start, start);
  editor.revealRange(new vscode.Range(start, start));
  log.info(`Fine-tuning job ${state.id}: added as model profile '${insertion.name}' to ${document.uri.toString()}`);
  void showInfo(`Added model profile '${insertion.name}' (job ${state.id}). Select it for a step with "model ${insertion.name}", or for the file with CoI: Select Model.`);
  return true;
}

/**
 * The job a command names (its folder as the argument, else picked among the completed ones),
 * read, with the GGUF of its model; undefined, after saying why, when it has none to use.
 */
interface CompletedJob {
  readonly folder: string;
  readonly state: JobState;
  readonly config: JobConfig;
  /** The job's GGUF: the model, or for a LoRA adapter result (resultIsAdapter) the adapter. */
  readonly gguf: string;
}

async function completedJob(argument: unknown, log: vscode.LogOutputChannel, contextFor: EngineContextFor): Promise<CompletedJob | undefined> {
  let folder: string | undefined;
  let state: JobState;
  let config: JobConfig | undefined;
  try {
    folder = isJobArgument(argument) ? namedJobFolder(argument) : await pickCompletedJob(contextFor);
    if (folder === undefined) return undefined;
    state = readState(folder);
    config = existsSync(join(folder, 'config.json')) ? readConfig(folder) : undefined;
  } catch (error) {
    void showError(`Cannot read the fine-tuning job${folder === undefined ? '' : ` in ${folder}`}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  const refusal = profileRefusal(state) ?? (config === undefined ? `Job ${state.id} has no config.json: its base model is not known.` : undefined);
  if (refusal !== undefined || config === undefined) {
    void showError(refusal ?? '');
    return undefined;
  }
  if (state.ggufPath !== undefined && existsSync(state.ggufPath)) return { folder, state, config, gguf: state.ggufPath };
  // Converted on first use (f16), kept in the job folder and recorded in its state.
  const what = resultIsAdapter(state, config) ? 'LoRA adapter' : 'model';
  const converted = await withConversion(`Job ${state.id}: its ${what} as GGUF`, log, (venv, signal) => {
    if (!venv.ready) throw new Error(`The training environment is not set up (it converts the ${what}): run 'coi finetune setup' in a terminal.`);
    return ensureJobGguf({ jobFolder: folder, state, config, venv, signal });
  });
  return converted === undefined ? undefined : { folder, state: converted.state, config, gguf: converted.gguf };
}

/**
 * Runs a llama.cpp conversion (Python) with a progress notification and Cancel; undefined,
 * after saying why, when it cannot run (Restricted Mode, no training environment) or fails.
 */
async function withConversion<T>(title: string, log: vscode.LogOutputChannel, convert: (venv: VenvLocation, signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  if (!vscode.workspace.isTrusted) {
    void showError(`${title}: converting runs Python on the workspace's model files, which Restricted Mode does not allow. Trust the workspace first.`);
    return undefined;
  }
  const venv = venvLocation(process.env);
  const controller = new AbortController();
  try {
    return await withNotificationProgress(title, (_progress, token) => {
      token.onCancellationRequested(() => controller.abort());
      return convert(venv, controller.signal);
    });
  } catch (error) {
    // Cancel in the notification is not a failure: the conversion left nothing (core/finetune/gguf.ts).
    if (controller.signal.aborted) {
      log.info(`${title}: cancelled.`);
      void showInfo(`${title}: cancelled.`);
      return undefined;
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error(`${title}: ${message}`);
    void showErrorWithLog(log, `${title}: ${message}`);
    return undefined;
  }
}

/** The active `.coi` editor's document, else one picked among the workspace's `.coi` files. */
async function targetCoiDocument(): Promise<vscode.TextDocument | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  if (active !== undefined && active.languageId === LANGUAGE_ID) return active;
  const files = await vscode.workspace.findFiles('**/*.coi', '**/{node_modules,.git,.coi-cache,.coi-jobs}/**', 200);
  if (files.length === 0) {
    void showError('No .coi file in the workspace to add the model profile to: create or open one first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Add the model profile to which chain?' },
  );
  return picked === undefined ? undefined : vscode.workspace.openTextDocument(picked.uri);
}

async function pickCompletedJob(contextFor: EngineContextFor): Promise<string | undefined> {
  const workspaces = fileWorkspaceFolders();
  const candidates = (await readJobs(workspaces, jobRefresh(contextFor))).jobs.filter((row) => row.status === 'completed' && row.profileRefusal === undefined);
  if (candidates.length === 0) {
    void showInfo('No completed fine-tuning job in this workspace.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((row) => ({ label: row.id, description: `${row.method ?? '?'} · ${row.baseModel ?? '?'}`, folder: row.folder })),
    { title: 'Use which fine-tuned model as a profile?' },
  );
  return picked?.folder;
}

/**
 * `CoI: Evaluate Fine-tuned Model Against Base…`: the job's GGUF and its base (converted to
 * GGUF once, kept in the job folder) through CoI: Run Evaluation on held-out records — the
 * job's validation file, else one the user picks — composed, with the Alpaca prompt the
 * training used. The store goes into the job folder and the job records it.
 */
async function evaluateAgainstBase(argument: unknown, log: vscode.LogOutputChannel, contextFor: EngineContextFor): Promise<boolean> {
  if (!vscode.workspace.isTrusted) {
    const choice = await showError('Evaluations are disabled in Restricted Mode: converting the base model runs Python, and the evaluation loads the model files. Trust the workspace first.', 'Manage Workspace Trust');
    if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }
  const job = await completedJob(argument, log, contextFor);
  if (job === undefined) return false;
  const { folder, state, config } = job;
  const data = validationDataOf(config) ?? (await pickRecords(state.id));
  if (data === undefined) return false;
  const base = await baseGgufWithProgress(job, log);
  if (base === undefined) return false;
  const out = join(folder, 'eval', new Date().toISOString().replace(/[:.]/g, '-'));
  const outcome = await vscode.commands.executeCommand<unknown>('coi.runEvaluation', undefined, { source: 'records', file: data, models: [base, resultIsAdapter(state, config) ? `${base}?lora=${job.gguf}` : job.gguf], mode: 'composed', template: 'alpaca', out, maxTokens: BASE_EVALUATION_MAX_TOKENS });
  if (existsSync(join(out, 'eval.json'))) updateState(folder, state.status, { evaluation: out });
  return outcome !== undefined;
}

/** The job's base model as GGUF, converted once (with a progress notification and Cancel) and kept in the job folder; undefined after saying why it could not be. */
async function baseGgufWithProgress(job: CompletedJob, log: vscode.LogOutputChannel): Promise<string | undefined> {
  const { folder, state, config } = job;
  if (existsSync(baseGgufPath(folder, outTypeOf(job.gguf)))) return baseGgufPath(folder, outTypeOf(job.gguf));
  return withConversion(`Job ${state.id}: the base model as GGUF`, log, (venv, signal) => {
    if (!venv.ready) throw new Error("The training environment is not set up (it converts the base model): run 'coi finetune setup' in a terminal.");
    return ensureBaseGguf({ jobFolder: folder, state, config, venv, signal });
  });
}

async function pickRecords(jobId: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: `Job ${jobId} has no validation file: pick held-out records (the paper's format)`, canSelectMany: false, filters: { Records: ['json', 'jsonl'] } });
  return picked?.[0]?.fsPath;
}
