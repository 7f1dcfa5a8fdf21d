/**
 * Runs chains from the editor: asks for inputs, picks the backends, runs
 * through core's runner with a cancellable progress notification, streams each
 * step into the run state (the inline previews follow it), and saves the run
 * record in the workspace storage.
 */
import * as vscode from 'vscode';
import type { DownloadProgress, WorkerInfo } from '../../core/backends/index';
import { StepCache, describePlacement, localModelPlacement, RunStore, liveComposedOutputs, readRunValues, runChain, stepDefinitionHashes, RunRequestError, type RunMode, type RunRecord } from '../../core/runner';
import type { Services } from '../services';
import { chainOf } from './documents';
import { askInputs } from './inputs';
import { modelProblemOf, plainModelProblem, runLog } from './previewText';
import { NoModelError, RestrictedModeError, requireTrustedWorkspace, type ModelSelection } from './models';
import { modelInfoLabel, runChoice } from './modelChoice';
import { runSettings } from './settings';
import type { RunState } from './state';
import { showError, showInfo, showWarning, withNotificationProgress, type NotificationProgress } from '../notify';

export interface RunRequest {
  readonly mode?: RunMode;
  readonly stopAfter?: string;
  readonly rerunFrom?: string;
  /** Input values (skips the inputs prompt; for automation and tests). */
  readonly inputs?: Readonly<Record<string, string>>;
}

export class RunController {
  private cache: StepCache | undefined;
  private cacheMaxEntries: number | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
    private readonly models: ModelSelection,
    readonly state: RunState,
  ) {}

  private storageRoot(): vscode.Uri {
    return this.context.storageUri ?? this.context.globalStorageUri;
  }

  /** The window's step cache, with the `coi.run.cacheMaxEntries` of now: a changed setting holds from the next step cached, no reload needed. */
  stepCache(scope?: vscode.Uri): StepCache {
    const maxEntries = runSettings(scope).cacheMaxEntries;
    if (this.cache === undefined || this.cacheMaxEntries !== maxEntries) {
      // The entries stay on disk: the new cache reads their index and evicts down to the new bound on its next write.
      this.cache = new StepCache(vscode.Uri.joinPath(this.storageRoot(), 'step-cache').fsPath, { maxEntries });
      this.cacheMaxEntries = maxEntries;
    }
    return this.cache;
  }

  runStore(): RunStore {
    return new RunStore(vscode.Uri.joinPath(this.storageRoot(), 'runs').fsPath, runSettings().runHistory);
  }

  clearCache(): void {
    this.stepCache().clear();
    this.state.clearAll();
  }

  async run(document: vscode.TextDocument, request: RunRequest = {}): Promise<RunRecord | undefined> {
    try {
      requireTrustedWorkspace(); // before asking for inputs that could not be used
    } catch (error) {
      await this.reportModelProblem(error);
      return undefined;
    }
    const parsed = chainOf(document);
    if (parsed.hasErrors) {
      // The same refusal as `coi run` (core's checkForRun); the command returns at once, the message stays.
      const message = `This chain has errors; fix them before running it (${parsed.firstError ?? 'see Problems'}).`;
      this.services.log.warn(`Run of ${document.uri.fsPath} refused: ${parsed.firstError ?? 'the chain has errors'}`);
      void showError(message, 'Show Problems').then((choice) => choice === 'Show Problems' && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return undefined;
    }
    const chain = parsed.chain;
    const docRuns = this.state.get(document.uri);
    if (docRuns.running !== undefined) {
      void showWarning('This chain is already running. Cancel it from the notification first.');
      return undefined;
    }
    const rerunIndex = request.rerunFrom !== undefined ? chain.steps.findIndex((s) => s.id === request.rerunFrom) : -1;
    // Pins stand for steps before the re-run point; the re-run point and later are generated.
    // A composed run is one generation of the whole chain: the document's pins are for stepwise runs.
    const pinned = request.mode === 'composed' ? {} : Object.fromEntries([...docRuns.pins].filter(([id]) => rerunIndex < 0 || chain.steps.findIndex((s) => s.id === id) < rerunIndex));
    // Only the inputs of the steps this run generates are asked for (up to stopAfter, not pinned).
    const inputs = request.inputs !== undefined ? { ...request.inputs } : await askInputs(this.context, document, chain, undefined, { stopAfter: request.stopAfter, pinned });
    if (inputs === undefined) return undefined;
    // The backends load inside the run: their download progress and retry waits go to its notification.
    let reportDownload: ((progress: DownloadProgress) => void) | undefined;
    let reportRetry: ((line: string) => void) | undefined;
    let backends;
    const choice = this.models.choiceFor(document, chain);
    try {
      backends = await this.models.resolverFor(document, chain, choice, { onDownloadProgress: (p) => reportDownload?.(p), onRetry: (line) => reportRetry?.(line) });
    } catch (error) {
      await this.reportModelProblem(error);
      return undefined;
    }
    // Named as its record names it (core's runProfile): a default profile no step runs on is not named.
    const runsWith = this.models.label(runChoice(chain, choice, { mode: request.mode, stopAfter: request.stopAfter, pinned }));
    const hashes = stepDefinitionHashes(chain);
    const baseDir = document.uri.scheme === 'file' ? vscode.Uri.joinPath(document.uri, '..').fsPath : undefined;
    try {
      // A refused input or pin (core's reader, as `coi run`) is said before the run's progress shows.
      readRunValues(chain, { inputs, pinned, ...(baseDir !== undefined ? { baseDir } : {}), ...(request.stopAfter !== undefined ? { stopAfter: request.stopAfter } : {}) });
    } catch (error) {
      if (!(error instanceof RunRequestError)) throw error;
      void showError(error.message);
      return undefined;
    }
    const controller = new AbortController();
    docRuns.running = controller;
    // The steps this run will produce again show as pending, not with their old ✓, until they stream.
    const firstIndex = rerunIndex < 0 ? 0 : rerunIndex;
    const lastIndex = request.stopAfter !== undefined ? chain.steps.findIndex((s) => s.id === request.stopAfter) : chain.steps.length - 1;
    this.state.markPending(document.uri, chain.steps.slice(firstIndex, (lastIndex < 0 ? chain.steps.length - 1 : lastIndex) + 1).map((s) => s.id));
    const settings = runSettings(document.uri);
    const streamed = new Map<string, string>();
    try {
      const record = await withNotificationProgress(
        `Running ${chain.name || 'chain'} with ${runsWith}`,
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          reportDownload = downloadProgressReporter(progress);
          reportRetry = (line) => progress.report({ message: line });
          return runChain(chain, {
            backend: backends.resolver,
            ...(backends.defaultProfile !== undefined ? { defaultProfile: backends.defaultProfile } : {}),
            inputs,
            mode: request.mode ?? 'stepwise',
            template: settings.template,
            cache: this.stepCache(document.uri),
            ...(request.stopAfter !== undefined ? { stopAfter: request.stopAfter } : {}),
            ...(request.rerunFrom !== undefined ? { rerunFrom: request.rerunFrom } : {}),
            ...(Object.keys(pinned).length > 0 ? { pinned } : {}),
            ...(baseDir !== undefined ? { baseDir, file: document.uri.fsPath } : {}),
            ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
            signal: controller.signal,
            events: {
              onStepStart: (step) => {
                progress.report({ message: `step ${step.id} (${step.index + 1}/${chain.steps.length})` });
                streamed.set(step.id, '');
                this.state.setStep(document.uri, step.id, { status: 'running', text: '', definitionHash: hashes.get(step.id) ?? '' });
              },
              onStepText: (id, _chunk, soFar) => {
                streamed.set(id, soFar);
                this.state.setStep(document.uri, id, { status: 'running', text: soFar, definitionHash: hashes.get(id) ?? '' });
              },
              onComposedText: (_chunk, soFar) => {
                // Route the streaming text to the steps by the markers seen so far.
                liveComposedOutputs(soFar, chain.steps.length).forEach((text, i) => {
                  const step = chain.steps[i];
                  if (step !== undefined && (text !== '' || i === 0)) this.state.setStep(document.uri, step.id, { status: 'running', text, definitionHash: hashes.get(step.id) ?? '' });
                });
              },
              onStepEnd: (step) => {
                // A step that stopped keeps what it streamed (partialOutput: in a composed run, its part); the previews mark it partial.
                this.state.setStep(document.uri, step.id, { status: step.status, text: step.output ?? step.partialOutput ?? streamed.get(step.id) ?? '', result: { ...step }, definitionHash: step.definitionHash });
              },
            },
          });
        },
      );
      docRuns.record = record;
      this.state.notify(document.uri);
      const saved = this.save(record);
      this.report(record, saved, () => void this.run(document, { ...request, inputs: record.inputs }));
      return record;
    } catch (error) {
      if (error instanceof RunRequestError) void showError(error.message);
      else await this.reportModelProblem(error);
      return undefined;
    } finally {
      docRuns.running = undefined;
      this.state.settlePending(document.uri);
    }
  }

  /**
   * `CoI: Show Model Info`: loads the model a run of the file loads first (the one
   * the status bar names: runModel, the document's pinned outputs given) if needed
   * (one token, with the download progress in a notification) and says where it
   * runs and where the choice came from. Returns the worker's info for a local
   * model, undefined otherwise.
   */
  async showModelInfo(document: vscode.TextDocument): Promise<WorkerInfo | undefined> {
    const chain = chainOf(document).chain;
    let loaded: { info: WorkerInfo; model: string } | undefined;
    let reportDownload: ((progress: DownloadProgress) => void) | undefined;
    const run = this.models.runModelFor(document, chain);
    let backends;
    try {
      backends = await this.models.resolverFor(document, chain, run?.choice, { onDownloadProgress: (p) => reportDownload?.(p), onLoaded: (info, model) => (loaded = { info, model }) });
    } catch (error) {
      await this.reportModelProblem(error);
      return undefined;
    }
    const label = run !== undefined ? modelInfoLabel(run) : backends.label;
    try {
      const identity = await withNotificationProgress(`Loading ${label}`, async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        reportDownload = downloadProgressReporter(progress);
        const backend = await backends.resolver(undefined);
        // A backend that runs on this machine (it can describe its placement) loads its model on the first token; a hosted one has nothing to load.
        if (backend.describe !== undefined) await backend.generate({ prompt: { kind: 'completion', text: 'Hello' }, params: { maxTokens: 1 }, signal: controller.signal });
        return backend.identity;
      });
      if (loaded === undefined) {
        void showInfo(`${label}: ${identity.model} is served by ${identity.backend === 'openai' ? 'an OpenAI-compatible server' : 'a backend that reports no placement'}; no local device to show.`);
        return undefined;
      }
      const { info, model } = loaded;
      const devices = info.gpu === false ? '' : ` VRAM ${formatGiB(info.vram.free)} free of ${formatGiB(info.vram.total)}.`;
      void showInfo(`${label} runs ${describePlacement(localModelPlacement(model, info))}.${devices} node-llama-cpp ${info.nodeLlamaCppVersion}, worker pid ${info.pid}.`);
      return info;
    } catch (error) {
      await this.reportModelProblem(error);
      return undefined;
    }
  }

  /** Saves the run record; its path, or undefined when it could not be written. */
  private save(record: RunRecord): string | undefined {
    try {
      return this.runStore().save(record);
    } catch (error) {
      this.services.log.warn(`Could not save the run record: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** The run in the output channel as a readable log (inputs, each step's prompt and output). */
  logRun(record: RunRecord, heading?: string): void {
    const [first = '', ...rest] = runLog(record);
    const text = [heading !== undefined ? `${heading}: ${first}` : first, ...rest].join('\n');
    if (record.status === 'failed') this.services.log.warn(text);
    else this.services.log.info(text);
  }

  /**
   * Shows a run made elsewhere (a test run) in the previews: each step that ran
   * replaces the document's preview of that step.
   */
  showRecord(uri: vscode.Uri, record: RunRecord): void {
    const docRuns = this.state.get(uri);
    for (const step of record.steps) {
      if (step.status === 'skipped') continue;
      docRuns.steps.set(step.id, { status: step.status, text: step.output ?? step.rawOutput ?? step.partialOutput ?? '', result: { ...step }, definitionHash: step.definitionHash });
    }
    docRuns.record = record;
    this.state.notify(uri);
  }

  private report(record: RunRecord, savedAt: string | undefined, retry: () => void): void {
    this.logRun(record);
    const modelProblem = record.status === 'failed' ? modelProblemOf(record) : undefined;
    if (modelProblem !== undefined) void this.offerModelActions(modelProblem, savedAt, retry);
    else if (record.status === 'failed') void showError(record.error ?? 'The run failed.');
    else if (record.status === 'cancelled') void showInfo('Run cancelled.');
  }

  /** A model that is not on disk or could not be downloaded: say so, with what the user can do next. */
  private async offerModelActions(message: string, savedAt: string | undefined, retry: () => void): Promise<void> {
    const actions = ['Select Model…', 'Retry', ...(savedAt !== undefined ? ['Open run'] : [])];
    const choice = await showError(message, ...actions);
    if (choice === 'Select Model…') await vscode.commands.executeCommand('coi.selectModel');
    else if (choice === 'Retry') retry();
    else if (choice === 'Open run' && savedAt !== undefined) await vscode.window.showTextDocument(vscode.Uri.file(savedAt));
  }

  async reportModelProblem(error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.services.log.error(message);
    if (error instanceof RestrictedModeError) {
      const choice = await showError(message, 'Manage Workspace Trust');
      if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    if (error instanceof NoModelError) {
      const choice = await showError(message, 'Select Model', 'Open Settings');
      if (choice === 'Select Model') await vscode.commands.executeCommand('coi.selectModel');
      if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'coi.defaultModel');
      return;
    }
    // A BackendError, or its copy from the worker process: its code says the model could not be had.
    if ((error as { code?: unknown } | undefined)?.code === 'model-not-found') {
      const model = /(?:download|resolve or download) (\S+?):/.exec(message)?.[1] ?? 'the model';
      const choice = await showError(plainModelProblem(message, model), 'Select Model…');
      if (choice === 'Select Model…') await vscode.commands.executeCommand('coi.selectModel');
      return;
    }
    void showError(message);
  }
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Download progress in a progress notification: MB and percent in the message, the bar advanced by the percent gained. */
function downloadProgressReporter(progress: NotificationProgress): (p: DownloadProgress) => void {
  const percents = new Map<string, number>();
  return ({ uri, downloadedSize, totalSize }) => {
    const percent = totalSize > 0 ? Math.floor((downloadedSize / totalSize) * 100) : 0;
    const before = percents.get(uri);
    // Many chunks a second arrive: report when the percent changes (or the first time).
    if (before !== undefined && percent === before) return;
    percents.set(uri, percent);
    const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);
    const size = totalSize > 0 ? `${mb(downloadedSize)}/${mb(totalSize)} MB (${percent}%)` : `${mb(downloadedSize)} MB`;
    progress.report({ message: `downloading ${uri}: ${size}`, increment: percent - (before ?? 0) });
  };
}
