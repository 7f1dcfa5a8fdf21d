/**
 * Where the panel finds run records: `.coi-cache/runs/` anywhere in the workspace
 * (what `coi run` writes beside a chain) and the editor's own run store (what the
 * Run commands write). Reading goes through core's RunStore.
 */
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { RunStore, type RunRecord } from '../../core/runner';
import type { RunDetail, RunRow } from '../../webview/protocol';
import { runDetail } from './runView';

export const workspaceRunsGlob = '**/.coi-cache/runs/*.json';

export class RunSources {
  /** Run id → the folder its record was listed from. */
  private readonly folders = new Map<string, string>();

  constructor(private readonly editorRuns: () => RunStore) {}

  /** Every recorded run (newest first is the view model's job). */
  async rows(): Promise<RunRow[]> {
    const found = await vscode.workspace.findFiles(workspaceRunsGlob, '**/node_modules/**', 5000);
    const workspaceFolders = [...new Set(found.map((uri) => dirname(uri.fsPath)))];
    const stores: { store: RunStore; origin: RunRow['origin'] }[] = [
      ...workspaceFolders.map((folder) => ({ store: new RunStore(folder), origin: 'workspace' as const })),
      { store: this.editorRuns(), origin: 'editor' as const },
    ];
    this.folders.clear();
    const rows: RunRow[] = [];
    for (const { store, origin } of stores) {
      for (const summary of store.list()) {
        if (this.folders.has(summary.id)) continue;
        this.folders.set(summary.id, store.directory);
        const { path: _path, ...fields } = summary; // the panel opens records by id, not by path
        rows.push({ ...fields, origin });
      }
    }
    return rows;
  }

  async record(id: string): Promise<{ record: RunRecord; origin: RunRow['origin'] }> {
    if (!this.folders.has(id)) await this.rows();
    const folder = this.folders.get(id);
    if (folder === undefined) throw new Error(`No recorded run "${id}" (it may have been deleted).`);
    const record = new RunStore(folder).open(id);
    return { record, origin: folder === this.editorRuns().directory ? 'editor' : 'workspace' };
  }

  async detail(id: string): Promise<RunDetail> {
    const { record, origin } = await this.record(id);
    return runDetail(record, origin);
  }
}
