/**
 * The CoI Studio side panel (a webview view in its own activity-bar container): serves
 * the HTML with a strict CSP, answers the webview's typed requests, and pushes events
 * when runs or the active chain change. The webview never reads files itself.
 */
import * as vscode from 'vscode';
import { fileWorkspaceFolders } from './workspaces';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { filterRuns } from '../../webview/model/runs';
import { isRequestMessage, type EventMessage, type PanelRequests, type PanelTab, type RequestMessage, type RunRow, type StartJobResult, type ToWebview } from '../../webview/protocol';
import { formatReport } from '../../core/eval';
import { chainOf } from '../run/documents';
import { knownJobFolder, readJobMetrics, readJobs } from './jobSources';
import { insideFolders } from './insideFolders';
import type { RunRecord } from '../../core/runner';
import { jobFormView } from './startJob';
import { engineContexts, jobRefresh, type EngineContextFor } from './engineContext';
import { evalStoreFolderGlobs, type EvalSources } from './evalSources';
import type { ModelsSource } from './modelsSource';
import { panelHtml, makeNonce } from './html';
import { rerunInputs } from './runView';
import { workspaceRunsGlob, type RunSources } from './runSources';
import { showWarning } from '../notify';

export const panelViewId = 'coi.panel';

type Handlers = { [M in keyof PanelRequests]: (params: PanelRequests[M]['params']) => Promise<PanelRequests[M]['result']> };

export class PanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pendingRunsEvent: ReturnType<typeof setTimeout> | undefined;
  private pendingTab: PanelTab | undefined;
  /** The current webview's script has made a request (so it receives events). */
  private webviewReady = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runs: RunSources,
    private readonly models: ModelsSource,
    private readonly evals: EvalSources,
    private readonly log: vscode.LogOutputChannel,
    editorRunsFolder: string,
  ) {
    this.engineContextFor = engineContexts(context.secrets);
    const workspaceRuns = vscode.workspace.createFileSystemWatcher(workspaceRunsGlob);
    const editorRuns = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(editorRunsFolder), '*.json'));
    for (const watcher of [workspaceRuns, editorRuns]) {
      this.disposables.push(watcher, watcher.onDidCreate(() => this.runsChanged()), watcher.onDidDelete(() => this.runsChanged()), watcher.onDidChange(() => this.runsChanged()));
    }
    const evalChanged = (uri: vscode.Uri): void => this.evalChanged(dirname(uri.fsPath));
    for (const glob of evalStoreFolderGlobs) {
      const evalResults = vscode.workspace.createFileSystemWatcher(`${glob}/{eval.json,results.jsonl}`);
      this.disposables.push(evalResults, evalResults.onDidCreate(evalChanged), evalResults.onDidChange(evalChanged), evalResults.onDidDelete(evalChanged));
    }
    // A training process appends a metric line per logging step, rewrites state.json and writes exit.json when it stops: one event per job every half second.
    const jobFiles = vscode.workspace.createFileSystemWatcher('**/.coi-jobs/*/{state.json,metrics.jsonl,exit.json}');
    const jobChanged = (uri: vscode.Uri): void => this.throttled(`job:${dirname(uri.fsPath)}`, { kind: 'event', event: 'jobChanged', folder: dirname(uri.fsPath) });
    this.disposables.push(jobFiles, jobFiles.onDidCreate(jobChanged), jobFiles.onDidChange(jobChanged), jobFiles.onDidDelete(jobChanged));
    this.disposables.push(vscode.window.onDidChangeActiveTextEditor(() => this.post({ kind: 'event', event: 'activeChainChanged' })));
  }

  dispose(): void {
    if (this.pendingRunsEvent !== undefined) clearTimeout(this.pendingRunsEvent);
    for (const timer of this.pendingEvalEvents.values()) clearTimeout(timer);
    for (const d of this.disposables) d.dispose();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.webviewReady = false;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce((size) => randomBytes(size)),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    });
    view.webview.onDidReceiveMessage((message: unknown) => void this.answer(message), undefined, this.disposables);
    view.onDidDispose(() => ((this.view = undefined), (this.webviewReady = false)), undefined, this.disposables);
    // Hidden, the view's document is dropped (retainContextWhenHidden is off); shown again, its script starts over.
    view.onDidChangeVisibility(() => view.visible && (this.webviewReady = false), undefined, this.disposables);
  }

  /** Shows the panel (and a tab): for the `coi.showPanel` command. */
  async reveal(tab?: PanelTab): Promise<void> {
    // A view shown for the first time has no script running yet: the tab is sent with the answer to its first request.
    this.pendingTab = tab;
    await vscode.commands.executeCommand(`${panelViewId}.focus`);
    if (this.webviewReady) this.sendPendingTab();
  }

  private sendPendingTab(): void {
    if (this.pendingTab === undefined) return;
    this.post({ kind: 'event', event: 'showTab', tab: this.pendingTab });
    this.pendingTab = undefined;
  }

  private post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  /** Record files come in bursts (a run writes, the store prunes): one event per burst. */
  private runsChanged(): void {
    if (this.pendingRunsEvent !== undefined) clearTimeout(this.pendingRunsEvent);
    this.pendingRunsEvent = setTimeout(() => {
      this.pendingRunsEvent = undefined;
      const event: EventMessage = { kind: 'event', event: 'runsChanged' };
      this.post(event);
    }, 150);
  }

  /** An evaluation appends a line per result: at most one event per store every half second. */
  private readonly pendingEvalEvents = new Map<string, ReturnType<typeof setTimeout>>();
  private evalChanged(store: string): void {
    this.throttled(store, { kind: 'event', event: 'evalsChanged', store });
  }

  private throttled(key: string, event: EventMessage): void {
    if (this.pendingEvalEvents.has(key)) return;
    this.pendingEvalEvents.set(
      key,
      setTimeout(() => {
        this.pendingEvalEvents.delete(key);
        this.post(event);
      }, 500),
    );
  }

  private async answer(message: unknown): Promise<void> {
    if (!isRequestMessage(message)) return;
    if (!this.webviewReady) {
      this.webviewReady = true;
      this.sendPendingTab();
    }
    try {
      const result = await this.handle(message);
      this.post({ kind: 'response', id: message.id, ok: true, result });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log.warn(`Panel request ${message.method} failed: ${text}`);
      this.post({ kind: 'response', id: message.id, ok: false, error: text });
    }
  }

  private handle(message: RequestMessage): Promise<unknown> {
    const handler = this.handlers[message.method] as (params: unknown) => Promise<unknown>;
    return handler(message.params);
  }

  private readonly handlers: Handlers = {
    // The answer carries the request's sequence number back: the webview drops an older answer that comes last.
    listRuns: async (filter) => ({
      ...filterRuns(await this.runs.rows(), { ...(typeof filter.chain === 'string' ? { chain: filter.chain } : {}), ...(filter.status === 'ok' || filter.status === 'failed' || filter.status === 'cancelled' ? { status: filter.status } : {}) }),
      seq: typeof filter.seq === 'number' ? filter.seq : 0,
    }),
    openRun: (params) => this.runs.detail(String(params.id)),
    openChainAtStep: async (params) => {
      const found = await this.runs.record(String(params.id));
      const document = await this.chainDocumentOf(found);
      const step = chainOf(document).chain.steps.find((s) => s.id === params.step);
      const editor = await vscode.window.showTextDocument(document);
      if (step === undefined) {
        void showWarning(`Step ${params.step} is no longer in ${vscode.workspace.asRelativePath(document.uri)}.`);
        return false;
      }
      const range = new vscode.Range(document.positionAt(step.headerSpan.start), document.positionAt(step.headerSpan.end));
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return true;
    },
    rerunFromStep: async (params) => {
      const found = await this.runs.record(String(params.id));
      const inputs = rerunInputs(found.record); // refused when the record cut an input
      const document = await this.chainDocumentOf(found);
      await vscode.window.showTextDocument(document);
      // The existing command, with the recorded run's inputs: same chain, same inputs, from this step on.
      const rerun = await vscode.commands.executeCommand('coi.rerunFromStep', document.uri, String(params.step), { inputs });
      return rerun !== undefined;
    },
    models: () => this.models.view(),
    detectCompute: () => this.models.compute(),
    listJobs: () => readJobs(fileWorkspaceFolders(), jobRefresh(this.engineContextFor)),
    jobMetrics: (params) => readJobMetrics(this.knownJobFolder(params.folder), Number(params.fromLine) || 0, jobRefresh(this.engineContextFor)),
    cancelJob: async (params) => (await vscode.commands.executeCommand<boolean>('coi.cancelFinetuneJob', this.knownJobFolder(params.folder))) === true,
    resumeJob: async (params) => (await vscode.commands.executeCommand<boolean>('coi.resumeFinetuneJob', this.knownJobFolder(params.folder))) === true,
    evaluateJobAgainstBase: async (params) => (await vscode.commands.executeCommand<boolean>('coi.evaluateFinetunedModel', this.knownJobFolder(params.folder))) === true,
    useJobAsProfile: async (params) => (await vscode.commands.executeCommand<boolean>('coi.useFinetunedModel', this.knownJobFolder(params.folder))) === true,
    jobForm: () => Promise.resolve(jobFormView()),
    pickPath: async (params) => {
      const folder = params.kind === 'folder';
      const workspace = fileWorkspaceFolders()[0];
      const picked = await vscode.window.showOpenDialog({ title: String(params.title), canSelectFolders: folder, canSelectFiles: !folder, canSelectMany: false, ...(workspace !== undefined ? { defaultUri: vscode.Uri.file(workspace) } : {}) });
      return picked?.[0]?.fsPath ?? null;
    },
    startJob: async (params) => (await vscode.commands.executeCommand<StartJobResult>('coi.startFinetuneJob', params)) ?? null,
    listEvals: () => this.evals.stores(),
    openEval: (params) => this.evals.overview(String(params.store)),
    evalPage: (query) => this.evals.page(query),
    resumeEval: async (params) => {
      const report = await this.evals.report(String(params.store));
      await vscode.commands.executeCommand('coi.resumeEvaluation', report.store);
      return true;
    },
    exportEval: async (params) => {
      const format = params.format === 'markdown' ? 'markdown' : 'csv';
      const report = await this.evals.report(String(params.store));
      const target = await vscode.window.showSaveDialog({
        title: `Export evaluation ${report.name}`,
        defaultUri: vscode.Uri.file(join(report.store, `report.${format === 'csv' ? 'csv' : 'md'}`)),
        filters: format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
      });
      if (target === undefined) return null;
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(formatReport(report, format)));
      return target.fsPath;
    },
  };

  /** Each job is read through its engine, with the keys it needs (engineContext.ts). */
  private readonly engineContextFor: EngineContextFor;

  /** The webview names a job by folder: only a listed job of an open workspace folder is accepted. */
  private knownJobFolder(folder: unknown): string {
    return knownJobFolder(folder, fileWorkspaceFolders());
  }

  /**
   * The chain a run record names. A record in the workspace's `.coi-cache/runs/` is a file like any
   * other (a repository can commit one): its chain is opened, and re-run, only from inside a
   * workspace folder. The editor's own records (its storage) name what the user ran.
   */
  private async chainDocumentOf({ record, origin }: { record: RunRecord; origin: RunRow['origin'] }): Promise<vscode.TextDocument> {
    const file = record.file;
    if (file === undefined) throw new Error('This run record does not name its .coi file.');
    if (!existsSync(file)) throw new Error(`The chain file of this run is gone: ${file}`);
    if (origin === 'workspace' && !insideFolders(realpathSync(file), fileWorkspaceFolders().map(realPath))) {
      throw new Error(`This run record names a chain outside the workspace folders (${file}): the chain of a record in .coi-cache/runs/ is opened and re-run only from inside a workspace folder.`);
    }
    return vscode.workspace.openTextDocument(vscode.Uri.file(file));
  }
}

/** The path with its symbolic links resolved (a link inside a folder may point out of it); as given when it cannot be. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
