/**
 * `CoI: Start Fine-tuning Job…`: a job from a `*.coi-finetune.json` file (the explorer's
 * context menu, the active editor, or one picked), from a few questions in the palette, or
 * from the side panel's form. Every way ends in the same place: the resolved job shown in a
 * modal for confirmation, then (only once confirmed) core/finetune creates the job folder and its engine starts it
 * (a local job runs on after VS Code closes). Refused in Restricted Mode: training runs what
 * the workspace's files configure.
 */
import * as vscode from 'vscode';
import { fileWorkspaceFolders } from './workspaces';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { batchScript, slurmScriptProblem, describeOutputFolderProblem, outputFolderProblem, slurmTarget, createJob, newJobId, ENGINE_NAMES, planTogetherUpload, readTrainingData, writeTrainingFile, type TrainingDataRead, TOGETHER_API_KEY_ENV, togetherBaseUrl, togetherBaseUrlProblem, writeTogetherUpload, type EngineContext, type TogetherUploadPlan, FORM_DEFAULTS, jobConfigFromForm, jobDir, jobSummary, jobConfigFromFile, startNewJob, venvLocation, type FormField, type JobConfig, type JobForm } from '../../core/finetune';
import type { JobFormView, StartJobResult } from '../../webview/protocol';
import type { EngineContextFor } from './engineContext';
import { askModal, showError, showErrorWithLog, showInfo } from '../notify';

/** Starts a job; `argument`: a config file (Uri or path), the panel's form, or nothing (ask). */
export async function startFinetuneJob(argument: unknown, log: vscode.LogOutputChannel, contextFor: EngineContextFor): Promise<StartJobResult> {
  if (!vscode.workspace.isTrusted) {
    const choice = await showError('Fine-tuning jobs cannot be started in Restricted Mode: the training process runs what this workspace configures. Trust the workspace first.', 'Manage Workspace Trust');
    if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
    return null;
  }
  const chosen = isJobForm(argument) ? fromForm(argument) : await fromFileOrQuestions(argument);
  if (chosen === undefined) return null;
  const refuse = (problems: readonly string[], fields?: readonly (FormField | null)[]): StartJobResult => {
    // The panel shows the form's problems beside it, each at its field; elsewhere they go to a message.
    if (!isJobForm(argument)) void showError(`Cannot start the fine-tuning job: ${problems.join(' ')}`);
    return fields === undefined ? { problems } : { problems, fields };
  };
  if ('problems' in chosen) return refuse(chosen.problems, chosen.fields);
  const { config, workspace } = chosen;
  const context = await contextFor(workspace);
  const prepared = prepare(config, workspace, context, config.engine === 'slurm' ? await slurmTarget(context.env ?? process.env) : undefined);
  if ('problems' in prepared) return refuse(prepared.problems);
  // The folder is named now (the Slurm script shown in the dialog names it) but made only once the
  // user confirms: while the dialog is open no queued job is listed, and a window closed on the
  // dialog leaves nothing behind.
  const now = new Date();
  const id = newJobId(now);
  const folder = jobDir(workspace, id);
  const where = config.engine === 'slurm' ? ' on Slurm' : config.engine === 'together' ? ' on Together AI' : '';
  const details = prepared.details(folder);
  const confirmed = await askModal(`Start this fine-tuning job${where}?`, `${jobSummary(config)}\n\nThe job runs in the background (it goes on if VS Code closes) in ${join(workspace, '.coi-jobs')}.${details}`, prepared.button);
  if (confirmed !== prepared.button) return null;
  const created = createJob(workspace, config, now, id);
  try {
    prepared.beforeStart?.(folder);
    // A start that is refused (sbatch rejecting the script) removes the job folder it made: no dead job is left.
    const state = await startNewJob(created.id, context);
    log.info(`Fine-tuning job ${state.id}: ${state.status}. Command: ${readCommand(folder)}`);
    void showInfo(`Fine-tuning job ${state.id} started${where}.`, 'Show in Panel').then((action) => {
      if (action === 'Show in Panel') void vscode.commands.executeCommand('coi.showPanel', 'jobs');
    });
    return { folder };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Fine-tuning job ${created.id}: start failed: ${message}`);
    void showErrorWithLog(log, `Could not start fine-tuning job ${created.id}: ${message}`);
    return { problems: [message] };
  }
}

/** What an engine needs checked and shown before the confirmation, and done right before it starts. */
interface Prepared {
  /** What the modal dialog adds below the job's summary (the Slurm batch script, the Together upload). */
  details(folder: string): string;
  readonly button: string;
  beforeStart?(folder: string): void;
}

function prepare(config: JobConfig, workspace: string, context: EngineContext, target: string | undefined): Prepared | { readonly problems: readonly string[] } {
  const env = context.env ?? process.env;
  if (config.engine === 'together') {
    // Nothing leaves the machine before the user has seen what goes where; nor with a TOGETHER_BASE_URL that holds a secret.
    const baseUrlProblem = togetherBaseUrlProblem(env);
    if (baseUrlProblem !== undefined) return { problems: [baseUrlProblem] };
    if ((env[TOGETHER_API_KEY_ENV] ?? '').trim() === '') return { problems: [`No Together AI key: run CoI: Set API Key and pick ${togetherBaseUrl(env)}, or set ${TOGETHER_API_KEY_ENV}.`] };
    let plan: TogetherUploadPlan;
    try {
      plan = planTogetherUpload(config, env);
    } catch (error) {
      return { problems: [error instanceof Error ? error.message : String(error)] };
    }
    return {
      details: () => `\n\nThis uploads your training data to Together AI: ${plan.examples} examples as chat JSONL from ${plan.source}, ${plan.bytes.toLocaleString('en-US')} bytes${leftOut(plan.issues)}, to ${plan.endpoint}.`,
      button: 'Upload and Start',
      beforeStart: (folder) => writeTogetherUpload(folder, plan),
    };
  }
  if (!venvLocation(env).ready) return { problems: ["The training environment is not set up: run 'coi finetune setup' in a terminal (it makes the Python environment once, outside the workspace)."] };
  const outputProblem = outputFolderProblemText(config, workspace);
  if (outputProblem !== undefined) return { problems: [outputProblem] };
  // Data the trainer cannot read is refused here, as `coi finetune start` refuses it, not left to fail the job.
  let data: TrainingDataRead;
  try {
    data = readTrainingData(config.data);
  } catch (error) {
    return { problems: [error instanceof Error ? error.message : String(error)] };
  }
  const trains = `\n\nTrains on ${data.examples.length} examples of ${basename(data.file)} (${data.format}), converted to prompt-completion JSONL in the job folder${leftOut(data.issues)}.`;
  const beforeStart = (folder: string): void => void writeTrainingFile(folder, data);
  if (config.engine === 'slurm') {
    // A path with a line break would break out of its #SBATCH line: refused, as `coi finetune start` refuses it.
    const lineBreak = slurmScriptProblem(jobDir(workspace, newJobId()), workspace, config, venvLocation(env).python, env);
    if (lineBreak !== undefined) return { problems: [lineBreak] };
    // The batch script is shown before it is submitted: it is what runs on the cluster.
    return {
      details: (folder) => `${trains}\n\nSubmitted to ${target ?? 'the Slurm cluster of the sbatch on PATH'}; the batch script:\n\n${batchScript(folder, workspace, config, venvLocation(env).python, env, undefined)}`,
      button: 'Submit',
      beforeStart,
    };
  }
  return { details: () => trains, button: 'Start', beforeStart };
}

/** A CONFIG file's outputDir, tried before the job exists as `coi finetune start` tries it. */
function outputFolderProblemText(config: JobConfig, workspace: string): string | undefined {
  if (config.outputDir === undefined) return undefined;
  const dir = resolve(workspace, config.outputDir);
  const problem = outputFolderProblem(dir);
  return problem === undefined ? undefined : `outputDir '${dir}' ${describeOutputFolderProblem(problem, (error) => (error instanceof Error ? error.message : String(error)))}`;
}

/** ` (2 unreadable rows left out, e.g. line 7)`, or nothing. */
function leftOut(issues: readonly { readonly line?: number }[]): string {
  return issues.length > 0 ? ` (${issues.length} unreadable row${issues.length === 1 ? '' : 's'} left out, e.g. line ${issues[0]?.line ?? '?'})` : '';
}

/** What the panel's form shows before anything is typed. */
export function jobFormView(): JobFormView {
  const workspace = fileWorkspaceFolders()[0];
  return { defaults: FORM_DEFAULTS, engines: ENGINE_NAMES, environmentReady: venvLocation(process.env).ready, ...(workspace !== undefined ? { workspace } : {}) };
}

type Chosen = { readonly config: JobConfig; readonly workspace: string } | { readonly problems: readonly string[]; readonly fields?: readonly (FormField | null)[] };

function fromForm(form: JobForm): Chosen {
  const workspace = fileWorkspaceFolders()[0];
  if (workspace === undefined) return { problems: ['Open a folder first: a job lives in the workspace (.coi-jobs/).'] };
  return fromFormIn(form, workspace);
}

async function fromFileOrQuestions(argument: unknown): Promise<Chosen | undefined> {
  const file = argument instanceof vscode.Uri ? argument : typeof argument === 'string' ? vscode.Uri.file(argument) : activeConfigFile() ?? (await pickConfigOrQuestions());
  if (file === 'questions') return fromQuestions();
  return file === undefined ? undefined : fromConfigFile(file);
}

function fromConfigFile(uri: vscode.Uri): Chosen {
  const workspace = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? dirname(uri.fsPath);
  let text: string;
  try {
    text = readFileSync(uri.fsPath, 'utf8');
  } catch (error) {
    return { problems: [`Cannot read ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`] };
  }
  // Paths in the file are relative to its workspace folder, as `coi finetune start` run there reads them (a Together base model is a name).
  const { config, problems } = jobConfigFromFile(text, basename(uri.fsPath), workspace);
  return config === undefined ? { problems } : { config, workspace };
}

function activeConfigFile(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document !== undefined && document.uri.scheme === 'file' && document.uri.fsPath.endsWith('.coi-finetune.json') ? document.uri : undefined;
}

async function pickConfigOrQuestions(): Promise<vscode.Uri | 'questions' | undefined> {
  const files = await vscode.workspace.findFiles('**/*.coi-finetune.json', '**/{node_modules,.git,.coi-jobs}/**', 100);
  const picked = await vscode.window.showQuickPick(
    [
      ...files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), description: 'job configuration', uri })),
      { label: '$(question) Answer a few questions…', description: 'base model, data, method, steps', uri: undefined },
      { label: '$(window) Fill in the form in the side panel', description: 'every hyper-parameter', uri: undefined, panel: true },
    ],
    { title: 'Start a fine-tuning job from' },
  );
  if (picked === undefined) return undefined;
  if ('panel' in picked) {
    await vscode.commands.executeCommand('coi.showPanel', 'jobs');
    return undefined;
  }
  return picked.uri ?? 'questions';
}

async function fromQuestions(): Promise<Chosen | undefined> {
  const workspace = fileWorkspaceFolders()[0];
  if (workspace === undefined) return { problems: ['Open a folder first: a job lives in the workspace (.coi-jobs/).'] };
  const base = await vscode.window.showOpenDialog({ title: 'Base model: a Hugging Face model folder', canSelectFolders: true, canSelectFiles: false, defaultUri: vscode.Uri.file(workspace) });
  if (base?.[0] === undefined) return undefined;
  const data = await vscode.window.showOpenDialog({ title: 'Training data (coi dataset build writes it)', canSelectFiles: true, canSelectMany: false, defaultUri: vscode.Uri.file(workspace), filters: { Datasets: ['jsonl', 'json'] } });
  if (data?.[0] === undefined) return undefined;
  const method = await vscode.window.showQuickPick([{ label: 'full', description: 'every weight' }, { label: 'lora', description: 'a LoRA adapter' }], { title: 'Method' });
  if (method === undefined) return undefined;
  const maxSteps = await vscode.window.showInputBox({ title: 'Stop after how many steps? (empty: 3 epochs, the paper\'s default)', validateInput: (v) => (v.trim() === '' || /^[1-9]\d*$/.test(v.trim()) ? undefined : 'A whole number of at least 1, or empty.') });
  if (maxSteps === undefined) return undefined;
  return fromFormIn({ baseModel: base[0].fsPath, data: data[0].fsPath, method: method.label, maxSteps }, workspace);
}

function fromFormIn(form: JobForm, workspace: string): Chosen {
  const result = jobConfigFromForm(form, workspace);
  return result.config === undefined ? result : { config: result.config, workspace };
}

function isJobForm(value: unknown): value is JobForm {
  return typeof value === 'object' && value !== null && !(value instanceof vscode.Uri) && typeof (value as { baseModel?: unknown }).baseModel === 'string' && typeof (value as { data?: unknown }).data === 'string';
}

function readCommand(folder: string): string {
  try {
    return readFileSync(join(folder, 'command'), 'utf8').trim();
  } catch {
    return '(none written)';
  }
}
