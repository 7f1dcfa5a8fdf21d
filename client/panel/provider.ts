/**
 * The CoI Studio side panel (a webview view in its own activity-bar container): serves
 * the HTML with a strict CSP, answers the webview's typed requests, and pushes events
 * when runs or the active chain change. The webview never reads files itself.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { filterRuns } from '../../webview/model/runs';
import { isRequestMessage, type EventMessage, type PanelRequests, type RequestMessage, type ToWebview } from '../../webview/protocol';
import { chainOf } from '../run/documents';
import type { ModelsSource } from './modelsSource';
import { panelHtml, makeNonce } from './html';
import { workspaceRunsGlob, type RunSources } from './runSources';

export const panelViewId = 'coi.panel';

type Handlers = { [M in keyof PanelRequests]: (params: PanelRequests[M]['params']) => Promise<PanelRequests[M]['result']> };

export class PanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pendingRunsEvent: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runs: RunSources,
    private readonly models: ModelsSource,
    private readonly log: vscode.LogOutputChannel,
    editorRunsFolder: string,
  ) {
    const workspaceRuns = vscode.workspace.createFileSystemWatcher(workspaceRunsGlob);
    const editorRuns = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(editorRunsFolder), '*.json'));
    for (const watcher of [workspaceRuns, editorRuns]) {
      this.disposables.push(watcher, watcher.onDidCreate(() => this.runsChanged()), watcher.onDidDelete(() => this.runsChanged()), watcher.onDidChange(() => this.runsChanged()));
    }
    this.disposables.push(vscode.window.onDidChangeActiveTextEditor(() => this.post({ kind: 'event', event: 'activeChainChanged' })));
  }

  dispose(): void {
    if (this.pendingRunsEvent !== undefined) clearTimeout(this.pendingRunsEvent);
    for (const d of this.disposables) d.dispose();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce((size) => randomBytes(size)),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    });
    view.webview.onDidReceiveMessage((message: unknown) => void this.answer(message), undefined, this.disposables);
    view.onDidDispose(() => (this.view = undefined), undefined, this.disposables);
  }

  /** Shows the panel (and a tab): for the `coi.showPanel` command. */
  async reveal(tab?: 'runs' | 'evals' | 'jobs' | 'models'): Promise<void> {
    await vscode.commands.executeCommand(`${panelViewId}.focus`);
    if (tab !== undefined) this.post({ kind: 'event', event: 'showTab', tab });
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

  private async answer(message: unknown): Promise<void> {
    if (!isRequestMessage(message)) return;
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
    listRuns: async (filter) => filterRuns(await this.runs.rows(), { ...(typeof filter.chain === 'string' ? { chain: filter.chain } : {}), ...(filter.status === 'ok' || filter.status === 'failed' || filter.status === 'cancelled' ? { status: filter.status } : {}) }),
    openRun: (params) => this.runs.detail(String(params.id)),
    openChainAtStep: async (params) => {
      const { record } = await this.runs.record(String(params.id));
      const document = await this.chainDocumentOf(record.file);
      const step = chainOf(document).chain.steps.find((s) => s.id === params.step);
      const editor = await vscode.window.showTextDocument(document);
      if (step === undefined) {
        void vscode.window.showWarningMessage(`Step ${params.step} is no longer in ${vscode.workspace.asRelativePath(document.uri)}.`);
        return false;
      }
      const range = new vscode.Range(document.positionAt(step.headerSpan.start), document.positionAt(step.headerSpan.end));
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return true;
    },
    rerunFromStep: async (params) => {
      const { record } = await this.runs.record(String(params.id));
      const document = await this.chainDocumentOf(record.file);
      await vscode.window.showTextDocument(document);
      // The existing command, with the recorded run's inputs: same chain, same inputs, from this step on.
      const rerun = await vscode.commands.executeCommand('coi.rerunFromStep', document.uri, String(params.step), { inputs: record.inputs });
      return rerun !== undefined;
    },
    models: () => this.models.view(),
    detectCompute: () => this.models.compute(),
    listJobs: () => Promise.resolve(listJobFolders()),
  };

  private async chainDocumentOf(file: string | undefined): Promise<vscode.TextDocument> {
    if (file === undefined) throw new Error('This run record does not name its .coi file.');
    if (!existsSync(file)) throw new Error(`The chain file of this run is gone: ${file}`);
    return vscode.workspace.openTextDocument(vscode.Uri.file(file));
  }
}

/** Job folders under `.coi-jobs/` of each workspace folder. */
function listJobFolders(): { jobs: { name: string; folder: string }[]; searched: string[] } {
  const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => join(f.uri.fsPath, '.coi-jobs'));
  const jobs = roots.flatMap((root) => {
    try {
      return readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => ({ name: d.name, folder: join(root, d.name) }));
    } catch {
      return [];
    }
  });
  return { jobs, searched: roots };
}
