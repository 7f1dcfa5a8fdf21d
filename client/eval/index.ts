/**
 * Evaluations in the editor (issue 9): `CoI: Run Evaluation…` (palette and an
 * "Evaluate" CodeLens on a chain with tests) asks for the source, the models and
 * the mode, runs core/eval's `runEvaluation` under a cancellable progress
 * notification with a status bar item, and opens the Markdown report written to
 * the store folder. `CoI: Resume Evaluation…` continues an interrupted store
 * (under `.coi-evals/`, or a fine-tuning job's evaluation against its base). Registered from client/extension.ts with one line.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import * as vscode from 'vscode';
import {
  computeReport,
  createEvalConfig,
  EvalInputError,
  EvalStoreError,
  claimStoreFolder,
  editorStoreParent,
  failedItems,
  failedItemsSummary,
  CONFIG_FILE,
  formatReport,
  readConfig,
  readEvalStore,
  runEvaluation,
  withSubset,
  type EvalConfig,
  type EvalItem,
  type EvalReport,
  type EvalRunSummary,
  type EvalSource,
} from '../../core/eval/index';
import { profileFromModelSpec } from '../../core/runner';
import { makeDirectories } from '../../core/syntax';
import type { Services } from '../services';
import { ApiKeys } from '../run/apiKeys';
import { chainDeclSpan, chainOf, isCoiDocument, rangeOf } from '../run/documents';
import { codeLensMode } from '../run/codeLens';
import { pickedModelChoice, RestrictedModeError, requireTrustedWorkspace } from '../run/models';
import { runSettings, specKeyHeader } from '../run/settings';
import { evalBackends, OPENAI_CONCURRENCY } from './backends';
import { keptKeyHeader, modelConfigOf, modesOf, statusText, storeProgress, usesChain, type ModeChoice, type ModelRequest } from './plan';
import { loadItems } from './sources';
import { EvalAnswerError, EvalPrompts, type EvalAnswers } from './prompts';
import { LANGUAGE_ID } from '../../server/protocol';
import { showError, showErrorWithLog, showInfo, showWarningWithLog, withNotificationProgress } from '../notify';
import { evalStoreFolderGlobs } from '../panel/evalSources';
import { fileWorkspaceFolders } from '../panel/workspaces';

/** What the commands return (for automation and the extension-host suite). */
export interface EvalOutcome {
  readonly summary: EvalRunSummary;
  readonly report: EvalReport;
  /** The Markdown report (written on completion). */
  readonly reportFile?: string;
}

class EvalError extends Error {}

export function registerEvalFeatures(context: vscode.ExtensionContext, services: Services): void {
  const evaluations = new Evaluations(context, services);
  context.subscriptions.push(
    evaluations,
    vscode.languages.registerCodeLensProvider({ language: LANGUAGE_ID }, new EvalCodeLenses()),
    vscode.commands.registerCommand('coi.runEvaluation', (uri?: unknown, answers?: EvalAnswers) => evaluations.runNew(uri, answers ?? {})),
    vscode.commands.registerCommand('coi.resumeEvaluation', (store?: unknown) => evaluations.resume(typeof store === 'string' ? store : undefined)),
    vscode.commands.registerCommand('coi.cancelEvaluation', () => evaluations.cancel()),
  );
}

/** "Evaluate" on the `chain` line of a chain with test blocks. */
class EvalCodeLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    // Only `off` hides it: `minimal` keeps the chain-level actions (Run, Evaluate).
    if (codeLensMode(document.uri) === 'off') return [];
    const { chain, file } = chainOf(document);
    if (chain.tests.length === 0) return [];
    const tooltip = `Evaluate the chain on its ${chain.tests.length} test${chain.tests.length === 1 ? '' : 's'} (or a dataset) with one or more models, and report the scores`;
    return [new vscode.CodeLens(rangeOf(document, chainDeclSpan(file)), { title: '$(beaker) Evaluate', command: 'coi.runEvaluation', arguments: [document.uri.toString()], tooltip })];
  }
}

class Evaluations implements vscode.Disposable {
  private readonly apiKeys: ApiKeys;
  private readonly prompts: EvalPrompts;
  private running: AbortController | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
  ) {
    this.apiKeys = new ApiKeys(context.secrets);
    this.prompts = new EvalPrompts();
  }

  dispose(): void {
    this.running?.abort();
  }

  cancel(): boolean {
    if (this.running === undefined) return false;
    this.services.log.info('Evaluation: cancel requested.');
    this.running.abort();
    return true;
  }

  /** `CoI: Run Evaluation…`: undefined when the user dismissed a pick or the evaluation could not start. */
  async runNew(uri: unknown, answers: EvalAnswers): Promise<EvalOutcome | undefined> {
    return this.guarded(async () => {
      // Before any question or save: a second evaluation could not start anyway.
      this.refuseWhileRunning();
      let candidate = await this.targetDocument(uri);
      // An untitled chain's tests (its Evaluate lens) are offered too: picking them saves it first
      // (Save As), since the items are read from disk and the store goes beside the file.
      const untitled = candidate?.isUntitled === true ? candidate : undefined;
      const saveFirst =
        untitled === undefined
          ? undefined
          : async (): Promise<string | undefined> => {
              const saved = await vscode.workspace.save(untitled.uri);
              if (saved?.scheme !== 'file') return undefined;
              candidate = await vscode.workspace.openTextDocument(saved);
              return saved.fsPath;
            };
      const chainFile = candidate?.uri.scheme === 'file' ? candidate.uri.fsPath : saveFirst;
      const source = await this.prompts.source(chainFile, candidate !== undefined ? chainOf(candidate).chain.tests.length : 0, answers);
      if (source === undefined) return undefined;
      // A records file brings its own chains: the open chain (broken, unsaved or another one) is not used.
      const document = usesChain(source.kind) ? candidate : undefined;
      if (document !== undefined && chainOf(document).hasErrors) throw new EvalError('This chain has errors; fix them before evaluating it.');
      // The items are read from disk (as a resume reads them): unsaved edits would not be evaluated.
      if (document?.isDirty === true) await document.save();
      const loaded = loadItems(source);
      const profiles = [...new Map(loaded.chains.flatMap((c) => c.profiles.map((p) => [p.name, p] as const))).values()];
      const scope = vscode.Uri.file(source.chainFile ?? source.files[0] ?? '');
      const picked = document !== undefined ? pickedModelChoice(this.context.workspaceState, document.uri) : undefined;
      const models = await this.prompts.models(profiles, picked, runSettings(scope), dirname(source.chainFile ?? source.files[0] ?? ''), answers);
      if (models === undefined || models.length === 0) return undefined;
      const mode = await this.prompts.mode(answers);
      if (mode === undefined) return undefined;
      const chosen = await this.prompts.subset(loaded.items.length, answers);
      if (chosen === undefined) return undefined;
      const { source: evaluated, items } = withSubset(chosen.subset !== undefined ? { ...source, subset: chosen.subset } : source, loaded.items);
      const anchor = source.chainFile ?? source.files[0] ?? '';
      const name = source.kind === 'tests' ? basename(anchor, '.coi') : `${source.chainFile !== undefined ? `${basename(source.chainFile, '.coi')}-` : ''}${basename(anchor, extname(anchor))}`;
      const config = this.configOf(name, evaluated, models, mode, items, answers.template ?? runSettings(scope).template, answers.maxTokens);
      // Only now that nothing can refuse it: a refused evaluation leaves no empty store folder behind.
      this.refuseWhileRunning();
      const out = answers.out ?? this.claimStore(anchor, name);
      return this.execute(config, items, models, out, scope);
    });
  }

  /** `CoI: Resume Evaluation…`: the interrupted stores under `.coi-evals/` of the workspace, or the given one. */
  async resume(store: string | undefined): Promise<EvalOutcome | undefined> {
    return this.guarded(async () => {
      this.refuseWhileRunning();
      const dir = store ?? (await this.prompts.store(await this.interruptedStores()));
      if (dir === undefined) return undefined;
      const stored = readConfig(dir);
      const loaded = loadItems(stored.source);
      const root = stored.source.root ?? dirname(dir);
      // The setting when it is set, else the header the evaluation started with (kept in eval.json
      // by `coi eval --api-key-header` and by the editor): a resume sends the key as the run did.
      const keyHeader = specKeyHeader({ openaiApiKeyHeader: runSettings(vscode.Uri.file(root)).openaiApiKeyHeader ?? stored.settings?.apiKeyHeader });
      const models = stored.models.map((m): ModelRequest => {
        if (m.spec !== undefined) return { kind: 'spec', spec: m.spec, ...(m.baseUrl !== undefined ? { baseUrl: m.baseUrl } : {}), profile: profileFromModelSpec(m.spec, { cwd: root, ...(m.baseUrl !== undefined ? { baseUrl: m.baseUrl } : {}), ...keyHeader }) };
        const name = m.profile ?? m.label;
        const profile = loaded.chains.flatMap((c) => c.profiles).find((p) => p.name === name);
        if (profile === undefined) throw new EvalError(`The chain no longer declares the model profile '${name}' this evaluation ran with.`);
        return { kind: 'profile', name, profile };
      });
      const config = createEvalConfig({
        name: stored.name,
        source: stored.source,
        models: stored.models,
        modes: stored.modes,
        template: stored.template,
        items: loaded.items,
        seed: stored.seed,
        toolVersion: this.version(),
        ...(stored.settings !== undefined ? { settings: stored.settings } : {}),
        createdAt: stored.createdAt,
      });
      const scope = vscode.Uri.file(stored.source.chainFile ?? stored.source.files[0] ?? dir);
      return this.execute(config, loaded.items, models, dir, scope);
    });
  }

  /**
   * A new store folder, made at once and exclusively (two evaluations started in the same
   * millisecond get two): beside the file, or in a workspace folder where Resume and the panel find it.
   */
  private claimStore(anchor: string, name: string): string {
    const placed = editorStoreParent(anchor, fileWorkspaceFolders());
    if (placed.why !== undefined) this.services.log.info(`Evaluation ${name}: the store goes to ${placed.parent} (${placed.why}).`);
    return claimStoreFolder(placed.parent, name);
  }

  private version(): string {
    return String((this.context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0');
  }

  private configOf(name: string, source: EvalSource, models: readonly ModelRequest[], mode: ModeChoice, items: readonly EvalItem[], template: EvalConfig['template'], maxTokens: number | undefined): EvalConfig {
    try {
      return createEvalConfig({
        name,
        source,
        models: models.map(modelConfigOf),
        modes: modesOf(mode),
        template,
        items,
        toolVersion: this.version(),
        // The editor's step cache is per window: an evaluation measures the models, so it calls them.
        settings: { noCache: true, concurrency: OPENAI_CONCURRENCY, ...(maxTokens !== undefined ? { maxTokens } : {}), ...keptKeyHeader(models) },
      });
    } catch (error) {
      throw new EvalError((error as Error).message);
    }
  }

  /** Runs the evaluation under a progress notification and a status bar item; opens the report when it completes. */
  private refuseWhileRunning(): void {
    if (this.running !== undefined) throw new EvalError('An evaluation is already running. Cancel it (the status bar item or its notification) first.');
  }

  private async execute(config: EvalConfig, items: readonly EvalItem[], models: readonly ModelRequest[], out: string, scope: vscode.Uri): Promise<EvalOutcome> {
    // Asked again here: the questions of another command may have been answered meanwhile.
    this.refuseWhileRunning();
    const controller = new AbortController();
    this.running = controller;
    void vscode.commands.executeCommand('setContext', 'coi.evaluationRunning', true);
    const log = this.services.log;
    /** Shows a retry (a rate limit waited out) in the progress notification. */
    let showRetry: ((line: string, waitMs: number) => void) | undefined;
    // A store's own concurrency (`coi eval --concurrency N`) holds for a resume from the editor too.
    const concurrency = config.settings?.concurrency ?? OPENAI_CONCURRENCY;
    // And its endpoints (`coi eval --endpoint URL`): the items spread over them, as the CLI resumes it.
    const backends = evalBackends(this.context, this.apiKeys, models, scope, dirname(config.source.chainFile ?? config.source.files[0] ?? out), concurrency, config.settings?.endpoints, (line, waitMs) => {
      log.warn(`Evaluation ${config.name}: ${line}`);
      showRetry?.(line, waitMs);
    });
    const status = vscode.window.createStatusBarItem('coi.evaluation', vscode.StatusBarAlignment.Left, 50);
    status.name = 'CoI Evaluation';
    status.command = 'coi.cancelEvaluation';
    status.tooltip = `Evaluating ${config.name} into ${out}. Click to cancel (resumable).`;
    log.info(`Evaluation ${config.name}: ${items.length} item(s) × ${config.models.length} model(s) (${config.models.map((m) => m.label).join(', ')}) × ${config.modes.join(' and ')}. Store: ${out}`);
    try {
      makeDirectories(dirname(out));
      const summary = await withNotificationProgress(
        `Evaluating ${config.name}`,
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let lastPercent = 0;
          let counts = '';
          // The last retry stays beside the counts for as long as it waits: the other items'
          // results keep coming meanwhile, and would replace it at once.
          let retry: { readonly line: string; readonly until: number } | undefined;
          const message = (): string => (retry !== undefined && Date.now() < retry.until ? (counts === '' ? retry.line : `${counts} · ${retry.line}`) : counts);
          showRetry = (line, waitMs) => {
            retry = { line, until: Date.now() + waitMs };
            progress.report({ message: message() });
          };
          return runEvaluation(
            { config, items, models: backends.plans },
            {
              out,
              signal: controller.signal,
              // So does its failure limit (`coi eval --max-failures N`).
              ...(config.settings?.maxFailures !== undefined ? { maxFailures: config.settings.maxFailures } : {}),
              ...(runSettings(scope).timeoutMs !== undefined ? { timeoutMs: runSettings(scope).timeoutMs } : {}),
              onProgress: (event) => {
                if (event.kind === 'endpoint') {
                  log.warn(`Evaluation ${config.name}: endpoint ${event.url} ${event.state === 'down' ? `out of the pool for ${Math.round((event.retryInMs ?? 0) / 1000)} s: ${event.error ?? ''}` : 'back in the pool'}`);
                  return;
                }
                if (event.kind === 'warning') {
                  // As a run's warnings are shown (its log in the output): each distinct one once, not once per item.
                  log.warn(`Evaluation ${config.name}: ⚠ ${event.message}`);
                  return;
                }
                if (event.kind === 'stopped') return;
                status.text = statusText(config.name, event.done, event.total, event.failures);
                status.show();
                const percent = event.total === 0 ? 100 : Math.floor((event.done / event.total) * 100);
                const eta = event.kind === 'result' && event.etaMs !== undefined && event.done < event.total ? `, about ${Math.ceil(event.etaMs / 1000)} s left` : '';
                counts = `${event.done}/${event.total} done, ${event.failures} failed${eta}`;
                progress.report({ message: message(), increment: percent - lastPercent });
                lastPercent = percent;
                if (event.kind === 'result' && event.result.error !== undefined) log.warn(`Evaluation ${config.name}: ${event.result.item} on ${event.result.model} (${event.result.mode}) failed: ${event.result.error}`);
              },
            },
          );
        },
      );
      return await this.finish(config, summary);
    } finally {
      this.running = undefined;
      void vscode.commands.executeCommand('setContext', 'coi.evaluationRunning', false);
      status.dispose();
      await backends.dispose();
    }
  }

  private async finish(config: EvalConfig, summary: EvalRunSummary): Promise<EvalOutcome> {
    const report = computeReport(summary.store);
    const log = this.services.log;
    if (summary.status !== 'complete') {
      const resume = (choice: string | undefined): void => {
        if (choice === 'Resume') void vscode.commands.executeCommand('coi.resumeEvaluation', summary.store);
      };
      if (summary.status === 'cancelled') {
        log.info(`Evaluation ${config.name} cancelled after ${summary.done}/${summary.total}; what finished is in ${summary.store}.`);
        void showInfo(`Evaluation ${config.name} cancelled after ${summary.done}/${summary.total}; what finished is kept. Resume it with CoI: Resume Evaluation…`, 'Resume').then(resume);
        return { summary, report };
      }
      const why = summary.message ?? (summary.status === 'max-failures' ? `${summary.failedNow} items failed` : summary.status);
      log.warn(`Evaluation ${config.name} stopped after ${summary.done}/${summary.total}: ${why}. What finished is in ${summary.store}.`);
      void showWarningWithLog(log, `Evaluation ${config.name} stopped after ${summary.done}/${summary.total}: ${why}. What finished is kept; resume it once the cause is fixed.`, 'Resume').then(resume);
      return { summary, report };
    }
    const reportFile = join(summary.store, 'report.md');
    writeFileSync(reportFile, formatReport(report, 'markdown'));
    log.info(`Evaluation ${config.name} done: ${summary.ranNow} run now, ${summary.done - summary.ranNow} already in the store, ${summary.failures} failure(s). Report: ${reportFile}`);
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(reportFile));
    this.sayFailures(config, summary.store);
    return { summary, report, reportFile };
  }

  /**
   * A completed evaluation whose items failed (each scored 0) says so: the failed items, as
   * `coi eval` lists them after its summary, go to the log, and a warning counts them.
   */
  private sayFailures(config: EvalConfig, store: string): void {
    const contents = readEvalStore(store);
    const failures = failedItems(contents);
    if (failures.length === 0) return;
    const log = this.services.log;
    log.warn(`Evaluation ${config.name}: ${failedItemsSummary(failures, { models: config.models.length, modes: config.modes.length, listAll: `coi eval report ${store} --failures` }).trimEnd()}`);
    const runs = contents.results.length;
    void showWarningWithLog(log, `Evaluation ${config.name}: ${failures.length} of ${runs} item runs failed (scored 0 in the report); their errors are in the output.`);
  }

  /**
   * Stores whose results are incomplete, newest first: under `.coi-evals/`, and a fine-tuning
   * job's evaluations against its base (`.coi-jobs/<id>/eval/<time>/`), as the panel lists them.
   */
  private async interruptedStores(): Promise<{ dir: string; name: string; done: number; expected: number; createdAt: string }[]> {
    const configs = (await Promise.all(evalStoreFolderGlobs.map((glob) => vscode.workspace.findFiles(`${glob}/${CONFIG_FILE}`, '**/node_modules/**', 500)))).flat();
    const stores = configs.flatMap((uri) => {
      const dir = dirname(uri.fsPath);
      try {
        const contents = readEvalStore(dir);
        const progress = storeProgress(contents.config, contents.results);
        return progress.interrupted ? [{ dir, name: contents.config.name, done: progress.done, expected: progress.expected, createdAt: contents.config.createdAt }] : [];
      } catch (error) {
        this.services.log.warn(`Skipping the evaluation store ${dir}: ${(error as Error).message}`);
        return [];
      }
    });
    return stores.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private async targetDocument(uri: unknown): Promise<vscode.TextDocument | undefined> {
    if (typeof uri === 'string' || uri instanceof vscode.Uri) return vscode.workspace.openTextDocument(typeof uri === 'string' ? vscode.Uri.parse(uri) : uri);
    const active = vscode.window.activeTextEditor?.document;
    return active !== undefined && isCoiDocument(active) ? active : undefined;
  }

  /** Restricted Mode, bad input and store problems become one clear message, never an exception. */
  private async guarded(work: () => Promise<EvalOutcome | undefined>): Promise<EvalOutcome | undefined> {
    try {
      requireTrustedWorkspace();
      return await work();
    } catch (error) {
      const message = error instanceof RestrictedModeError ? 'Evaluations are disabled in Restricted Mode: an evaluation loads the model files and calls the endpoints this workspace names, with your API keys. Trust the workspace to evaluate.' : (error as Error).message;
      this.services.log.error(`Evaluation: ${message}`);
      if (error instanceof RestrictedModeError) {
        const choice = await showError(message, 'Manage Workspace Trust');
        if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
      } else if (error instanceof EvalError || error instanceof EvalAnswerError || error instanceof EvalInputError || error instanceof EvalStoreError) {
        void showErrorWithLog(this.services.log, message);
      } else {
        void showErrorWithLog(this.services.log, `The evaluation failed: ${message}`);
      }
      return undefined;
    }
  }
}
