/**
 * Running chains in the editor (issue 5): commands, CodeLens, inline previews,
 * the model picker in the status bar, API keys, and the Test Explorer.
 * Registered from client/extension.ts with one line.
 */
import * as vscode from 'vscode';
import { togetherBaseUrl, togetherBaseUrlProblem } from '../../core/finetune';
import { disposeSharedWorkerHosts } from '../../core/backends/index';
import type { ModelProfile } from '../../core/chain';
import { registerPanel } from '../panel/index';
import type { Services } from '../services';
import { CoiTestExplorer } from '../testing/testController';
import { ApiKeys } from './apiKeys';
import { RunCodeLenses } from './codeLens';
import { RunController } from './controller';
import { escapeInput, unescapeInput } from './inputText';
import { chainOf, isCoiDocument } from './documents';
import { ModelSelection } from './models';
import { InlinePreviews, SHOW_STEP_OUTPUT } from './previews';
import { RunState } from './state';
import { LANGUAGE_ID } from '../../server/protocol';
import { showInfo } from '../notify';

/** The document a command is about: the CodeLens argument, else the active .coi editor. */
async function targetDocument(uri: unknown): Promise<vscode.TextDocument | undefined> {
  if (typeof uri === 'string' || uri instanceof vscode.Uri) {
    return vscode.workspace.openTextDocument(typeof uri === 'string' ? vscode.Uri.parse(uri) : uri);
  }
  const active = vscode.window.activeTextEditor?.document;
  if (active !== undefined && isCoiDocument(active)) return active;
  void showInfo('Open a .coi file first.');
  return undefined;
}

/** Extra options a command may get from code: `{inputs: {name: value}}`. */
function commandInputs(options: unknown): { inputs?: Record<string, string> } {
  const inputs = (options as { inputs?: unknown } | undefined)?.inputs;
  return inputs !== null && typeof inputs === 'object' ? { inputs: inputs as Record<string, string> } : {};
}

/** Asks which step when a command comes from the palette. */
async function targetStep(document: vscode.TextDocument, stepId: unknown, title: string): Promise<string | undefined> {
  if (typeof stepId === 'string') return stepId;
  const steps = chainOf(document).chain.steps;
  const editorLine = vscode.window.activeTextEditor?.document === document ? vscode.window.activeTextEditor.selection.active.line : -1;
  const atCursor = steps.find((s) => document.positionAt(s.span.start).line <= editorLine && editorLine <= document.positionAt(s.span.end).line);
  if (atCursor !== undefined) return atCursor.id;
  const picked = await vscode.window.showQuickPick(
    steps.map((s) => ({ label: s.id, description: s.instruction.split('\n')[0] })),
    { title },
  );
  return picked?.label;
}

export function registerRunFeatures(context: vscode.ExtensionContext, services: Services): void {
  const state = new RunState();
  const apiKeys = new ApiKeys(context.secrets);
  const models = new ModelSelection(context, apiKeys, state, services.log);
  const runs = new RunController(context, services, models, state);
  const previews = new InlinePreviews(state, () => services.languageClient.running);
  services.languageClient.hoverFirst = (document, position) => previews.hover(document, position);
  const tests = new CoiTestExplorer(runs, models);
  void tests.discoverAll();
  registerPanel(context, services, runs, models);

  const command = (id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, handler);
  context.subscriptions.push(
    state,
    models,
    previews,
    tests,
    { dispose: () => void disposeSharedWorkerHosts() },
    vscode.languages.registerCodeLensProvider({ language: LANGUAGE_ID }, new RunCodeLenses(state)),
    // Each returns the run record (or undefined), so other extensions and tests can use it.
    command('coi.run', async (uri, options) => {
      const document = await targetDocument(uri);
      return document !== undefined ? runs.run(document, commandInputs(options)) : undefined;
    }),
    command('coi.runComposed', async (uri, options) => {
      const document = await targetDocument(uri);
      return document !== undefined ? runs.run(document, { mode: 'composed', ...commandInputs(options) }) : undefined;
    }),
    command('coi.runToStep', async (uri, stepId, options) => {
      const document = await targetDocument(uri);
      const step = document && (await targetStep(document, stepId, 'Run to which step?'));
      return document !== undefined && step !== undefined ? runs.run(document, { stopAfter: step, ...commandInputs(options) }) : undefined;
    }),
    command('coi.rerunFromStep', async (uri, stepId, options) => {
      const document = await targetDocument(uri);
      const step = document && (await targetStep(document, stepId, 'Re-run from which step?'));
      return document !== undefined && step !== undefined ? runs.run(document, { rerunFrom: step, ...commandInputs(options) }) : undefined;
    }),
    command('coi.pinStepOutput', async (uri, stepId) => {
      const document = await targetDocument(uri);
      const step = document && (await targetStep(document, stepId, 'Pin the output of which step?'));
      if (document === undefined || step === undefined) return;
      const docRuns = state.get(document.uri);
      const value = await vscode.window.showInputBox({
        title: `Pinned output of step ${step}`,
        prompt: 'Later runs use this text instead of generating the step (Re-run from a later step to see its effect; \\n for a new line). Empty to unpin.',
        value: escapeInput(docRuns.pins.get(step) ?? docRuns.steps.get(step)?.text ?? ''),
        ignoreFocusOut: true,
      });
      if (value === undefined) return;
      state.setPin(document.uri, step, value === '' ? undefined : unescapeInput(value));
    }),
    command('coi.runTest', async (uri, name) => {
      const document = await targetDocument(uri);
      if (document === undefined) return undefined;
      const tests_ = chainOf(document).chain.tests;
      const testName = typeof name === 'string' ? name : (await vscode.window.showQuickPick(tests_.map((t) => t.name), { title: 'Run which test?' }));
      return testName !== undefined ? tests.runOne(document.uri, testName) : undefined;
    }),
    command('coi.selectModel', async (uri) => {
      const document = await targetDocument(uri);
      if (document !== undefined) await models.pick(document);
    }),
    // Returns the WorkerInfo of the active file's local model (undefined for other models), for tests and automation.
    command('coi.showModelInfo', async (uri) => {
      const document = await targetDocument(uri);
      return document !== undefined ? runs.showModelInfo(document) : undefined;
    }),
    // From a step's hover: the whole output, partial one (or a failed composed run's raw or partial generation) in a plain-text editor.
    command(SHOW_STEP_OUTPUT, async (uri, stepId, raw) => {
      if (typeof uri !== 'string' || typeof stepId !== 'string') return;
      const docRuns = state.peek(vscode.Uri.parse(uri));
      const view = docRuns?.steps.get(stepId);
      const composed = docRuns?.record?.composed;
      const content = raw === true ? (composed?.rawOutput ?? composed?.partialOutput) : (view?.result?.rawOutput ?? view?.result?.partialOutput ?? view?.text);
      if (content === undefined) {
        void showInfo(`Step ${stepId} has no output to show (run it first).`);
        return;
      }
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'plaintext', content }), { preview: true });
    }),
    command('coi.clearStepCache', () => {
      const { entries } = runs.stepCache().stats();
      runs.clearCache();
      void showInfo(`Cleared the step cache (${entries} entr${entries === 1 ? 'y' : 'ies'}).`);
    }),
    command('coi.setApiKey', async () => {
      const document = vscode.window.activeTextEditor?.document;
      const profiles: readonly ModelProfile[] = document !== undefined && isCoiDocument(document) ? chainOf(document).chain.profiles : [];
      // Also Together AI's: its fine-tuning jobs use the key stored for its base URL.
      // A TOGETHER_BASE_URL holding a secret is refused when a job uses it, and never shown in the picker.
      const together = togetherBaseUrlProblem(process.env) === undefined ? [togetherBaseUrl(process.env)] : [];
      await apiKeys.promptAndStore([...profiles.flatMap((p) => (p.provider === 'openai' ? [p.baseUrl] : [])), ...together]);
    }),
    command('coi.openRunRecord', async () => {
      const list = runs.runStore().list();
      if (list.length === 0) {
        void showInfo('No runs recorded yet.');
        return;
      }
      const picked = await vscode.window.showQuickPick(
        list.slice(0, 200).map((r) => ({ label: `${r.status === 'ok' ? '$(pass)' : r.status === 'failed' ? '$(error)' : '$(circle-slash)'} ${r.chain}`, description: `${r.mode} · ${r.model}`, detail: new Date(r.startedAt).toLocaleString(), path: r.path })),
        { title: 'CoI: Open Run Record', matchOnDescription: true },
      );
      if (picked !== undefined) await vscode.window.showTextDocument(vscode.Uri.file(picked.path));
    }),
  );
}
