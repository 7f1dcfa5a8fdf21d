/**
 * Which model a `.coi` file runs with in the editor: one of the file's profiles,
 * the `coi.defaultModel` setting, or a model the user picked with `CoI: Select
 * Model` (remembered per file). Shown in the status bar for the active file.
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { createBackend, describeRetry, isRemoteModelUri, type RetryInfo, resolveModelPath, type BackendFactoryOptions, type DownloadProgress, type WorkerInfo, type ModelBackend } from '../../core/backends';
import type { Chain, ModelProfile } from '../../core/chain';
import { describeProfile, noModelHelp, profileBackendResolver, profileFromModelSpec, localModelPlacement, placementLine, reportingPlacement, type BackendResolver } from '../../core/runner';
import type { ApiKeys } from './apiKeys';
import { chainOf, isCoiDocument } from './documents';
import { choiceLabel, chosenModel, runChoices, runModel, runsUseLine, shortName, type ChosenModel, type ModelChoice, type RunModel } from './modelChoice';
import { runSettings, specKeyHeader } from './settings';
import type { RunState } from './state';

/** What a caller of resolverFor hears while the backends load (the run's progress notification). */
export interface LoadHooks {
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** A local model answered its first call: what the worker chose (GPU, devices, VRAM, threads). */
  readonly onLoaded?: (info: WorkerInfo, model: string) => void;
  /** A remote model waits before retrying (a rate limit, a 5xx), in words (also logged). */
  readonly onRetry?: (line: string) => void;
}

/** The backends of a run, and the profile of the steps that name none (its sampling too). */
export interface RunBackends {
  readonly resolver: BackendResolver;
  readonly label: string;
  readonly defaultProfile?: string;
}

export type { ModelChoice } from './modelChoice';

const stateKey = (uri: vscode.Uri): string => `coi.model:${uri.toString()}`;

/** The model the user picked for a file with `CoI: Select Model` (undefined when none was picked). */
export function pickedModelChoice(state: vscode.Memento, uri: vscode.Uri): ModelChoice | undefined {
  return state.get<ModelChoice>(stateKey(uri));
}

export class ModelSelection implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('coi.model', vscode.StatusBarAlignment.Right, 90);
  private readonly disposables: vscode.Disposable[] = [];
  /** "local model x.gguf on CPU (1 thread)" of the last load, per document, for the tooltip. */
  private readonly placements = new Map<string, string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly apiKeys: ApiKeys,
    /** The documents' pinned step outputs: a pinned step does not name a run. */
    private readonly runs: RunState,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.item.name = 'CoI Model';
    this.item.command = 'coi.selectModel';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => e.document === vscode.window.activeTextEditor?.document && this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('coi.defaultModel') && this.refresh()),
      this.runs.onDidChangePins((uri) => uri.toString() === vscode.window.activeTextEditor?.document.uri.toString() && this.refresh()),
    );
    this.refresh();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** The explicit choice for the document, else its first profile, else the default model setting (chosenModel). */
  chosenFor(document: vscode.TextDocument, chain: Chain): ChosenModel | undefined {
    return chosenModel(chain, pickedModelChoice(this.context.workspaceState, document.uri), runSettings(document.uri).defaultModel);
  }

  /** The model a run of the document defaults to: the profile of the steps that name none, or a spec for every step. */
  choiceFor(document: vscode.TextDocument, chain: Chain): ModelChoice | undefined {
    return this.chosenFor(document, chain)?.choice;
  }

  /** The model a plain run of the document (Run Chain, its pinned outputs given) is named by and loads first, and why (runModel). */
  runModelFor(document: vscode.TextDocument, chain: Chain): RunModel | undefined {
    return runModel(chain, this.chosenFor(document, chain), this.runs.pinned(document.uri));
  }

  label(choice: ModelChoice | undefined): string {
    return choiceLabel(choice);
  }

  /** The GGUF file the choice runs on, when it is a local file (not a hosted model or an hf: URI). */
  localModelFile(document: vscode.TextDocument, chain: Chain, choice: ModelChoice | undefined): string | undefined {
    if (choice === undefined) return undefined;
    const baseDir = document.uri.scheme === 'file' ? vscode.Uri.joinPath(document.uri, '..').fsPath : undefined;
    let profile: ModelProfile | undefined;
    try {
      profile =
        choice.kind === 'profile'
          ? chain.profiles.find((p) => p.name === choice.name)
          : profileFromModelSpec(choice.spec, { ...(baseDir !== undefined ? { cwd: baseDir } : {}), ...(runSettings(document.uri).openaiBaseUrl !== undefined ? { baseUrl: runSettings(document.uri).openaiBaseUrl } : {}) });
    } catch {
      return undefined; // a spec or base URL a run refuses (coi.openai.baseUrl with a password): said when a run starts
    }
    if (profile?.provider !== 'local' || isRemoteModelUri(profile.path)) return undefined;
    return resolveModelPath(profile.path, baseDir);
  }

  refresh(): void {
    const document = vscode.window.activeTextEditor?.document;
    if (document === undefined || !isCoiDocument(document)) {
      this.item.hide();
      return;
    }
    const chain = chainOf(document).chain;
    const chosen = this.chosenFor(document, chain);
    // Named as a plain run of the file is, its pinned steps given (its first generated step's profile, else the chosen one): the model it loads first.
    const pinned = this.runs.pinned(document.uri);
    const run = runModel(chain, chosen, pinned);
    const runs = runChoices(chain, chosen?.choice, pinned);
    // Say it before a run fails on it: the status bar is where the user looks for "which model".
    const file = runs.map((choice) => this.localModelFile(document, chain, choice)).find((path) => path !== undefined && !existsSync(path));
    const missing = file !== undefined;
    this.item.text = `$(${missing ? 'warning' : 'hubot'}) ${this.label(run?.choice)}${missing ? ' (not on disk)' : ''}`;
    const placement = this.placements.get(document.uri.toString());
    this.item.tooltip =
      chosen === undefined || run === undefined
        ? 'No model: click to select one (CoI: Select Model)'
        : missing
          ? `The model file ${file} does not exist. Click to select another model.`
          : `${runsUseLine(chosen, run)}${placement !== undefined ? `\nLast loaded: ${placement}.` : ''}\nClick to change (CoI: Show Model Info tells where it runs).`;
    this.item.show();
  }

  /** `CoI: Select Model`: the file's profiles, the default model, another model. */
  async pick(document: vscode.TextDocument): Promise<void> {
    const chain = chainOf(document).chain;
    type Item = vscode.QuickPickItem & { choice?: ModelChoice; action?: 'enter' | 'browse' };
    const items: Item[] = chain.profiles.map((p) => ({ label: `$(file-code) ${p.name}`, description: describeProfile(p), detail: 'Model profile of this file', choice: { kind: 'profile', name: p.name } }));
    const setting = runSettings(document.uri).defaultModel;
    if (setting !== undefined) items.push({ label: `$(settings-gear) ${shortName(setting)}`, description: setting, detail: 'coi.defaultModel setting', choice: { kind: 'spec', spec: setting } });
    items.push({ label: '$(folder-opened) Choose a GGUF file…', action: 'browse' }, { label: '$(edit) Enter a model: GGUF path, hf: URI or openai:MODEL_ID…', action: 'enter' });
    const picked = await vscode.window.showQuickPick(items, { title: 'CoI: Select Model', placeHolder: `Model for ${vscode.workspace.asRelativePath(document.uri)}` });
    if (picked === undefined) return;
    let choice = picked.choice;
    if (picked.action === 'browse') {
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'GGUF models': ['gguf'] }, title: 'Choose a GGUF model' });
      if (files?.[0] !== undefined) choice = { kind: 'spec', spec: files[0].fsPath };
    } else if (picked.action === 'enter') {
      const spec = await vscode.window.showInputBox({ title: 'CoI: Select Model', prompt: 'A GGUF file path, an hf: URI (downloaded once), or openai:MODEL_ID (base URL from coi.openai.baseUrl)', ignoreFocusOut: true });
      if (spec !== undefined && spec.trim() !== '') choice = { kind: 'spec', spec: spec.trim() };
    }
    if (choice === undefined) return;
    await this.context.workspaceState.update(stateKey(document.uri), choice);
    this.refresh();
  }

  /** Logs what the worker chose for a local model and shows it in the status bar tooltip. */
  private noteLoaded(document: vscode.TextDocument, info: WorkerInfo, model: string): void {
    const line = placementLine(localModelPlacement(model, info));
    this.log?.info(`${line} (worker pid ${info.pid}, node-llama-cpp ${info.nodeLlamaCppVersion}): ${JSON.stringify(info)}`);
    this.placements.set(document.uri.toString(), line);
    if (vscode.window.activeTextEditor?.document === document) this.refresh();
  }

  /**
   * The backends of a run: the chosen profile (steps naming another profile get
   * theirs), or one model for every step when the choice is a spec.
   */
  async resolverFor(document: vscode.TextDocument, chain: Chain, choice: ModelChoice | undefined = this.choiceFor(document, chain), hooks: LoadHooks = {}): Promise<RunBackends> {
    // A run loads the model files and calls the endpoints the workspace names, with the
    // user's API keys: only in a workspace the user trusts (package.json declares this).
    requireTrustedWorkspace();
    if (choice === undefined) throw new NoModelError(noModelHelp('editor'));
    const settings = runSettings(document.uri);
    const baseDir = document.uri.scheme === 'file' ? vscode.Uri.joinPath(document.uri, '..').fsPath : undefined;
    const factory: BackendFactoryOptions = {
      workerPath: this.context.asAbsolutePath('dist/worker.js'),
      ...(baseDir !== undefined ? { baseDir } : {}),
      ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
      ...(settings.gpu !== undefined ? { gpu: settings.gpu } : {}),
      ...(settings.contextSize !== undefined ? { contextSize: settings.contextSize } : {}),
      ...(settings.modelsDir !== undefined ? { modelsDir: settings.modelsDir } : {}),
      ...(hooks.onDownloadProgress ? { onDownloadProgress: hooks.onDownloadProgress } : {}),
    };
    const make = async (profile: ModelProfile): Promise<ModelBackend> => {
      const apiKey = await this.apiKeys.keyFor(profile);
      const onRetry = (info: RetryInfo): void => {
        const line = describeRetry(describeProfile(profile), info);
        this.log?.warn(line);
        hooks.onRetry?.(line);
      };
      const backend = createBackend(profile, { ...factory, ...(apiKey !== undefined ? { apiKey } : {}), onRetry });
      return reportingPlacement(backend, (info, model) => {
        this.noteLoaded(document, info, model);
        hooks.onLoaded?.(info, model);
      });
    };
    if (choice.kind === 'spec') {
      const profile = profileFromModelSpec(choice.spec, { ...(baseDir !== undefined ? { cwd: baseDir } : {}), ...(settings.openaiBaseUrl !== undefined ? { baseUrl: settings.openaiBaseUrl } : {}), ...specKeyHeader(settings) });
      let backend: Promise<ModelBackend> | undefined;
      return { resolver: () => (backend ??= make(profile)), label: shortName(choice.spec) };
    }
    const resolver: BackendResolver = profileBackendResolver(chain.profiles, choice.name, make);
    return { resolver, label: choice.name, defaultProfile: choice.name };
  }
}

export class NoModelError extends Error {}

/** Throws RestrictedModeError unless the workspace is trusted: the one gate before any run. */
export function requireTrustedWorkspace(): void {
  if (!vscode.workspace.isTrusted) throw new RestrictedModeError();
}

export class RestrictedModeError extends Error {
  constructor() {
    super('Running chains is disabled in Restricted Mode: a run loads the model files and calls the endpoints this workspace names, with your API keys. Trust the workspace to run it.');
  }
}
