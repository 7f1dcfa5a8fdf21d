/**
 * Where the panel finds run records: `.coi-cache/runs/` anywhere in the workspace
 * (what `coi run` writes beside a chain) and the editor's own run store (what the
 * Run commands write). Reading goes through core's RunStore.
 */
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { RunStore } from '../../core/runner/records';
import type { RunRecord } from '../../core/runner/types';
import type { RunDetail, RunRow } from '../../webview/protocol';

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
        rows.push({
          id: summary.id,
          chain: summary.chain,
          ...(summary.file !== undefined ? { file: summary.file } : {}),
          mode: summary.mode,
          model: summary.model,
          startedAt: summary.startedAt,
          status: summary.status,
          durationMs: summary.durationMs,
          origin,
        });
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

export function runDetail(record: RunRecord, origin: RunRow['origin']): RunDetail {
  return {
    row: {
      id: record.id,
      chain: record.chain,
      ...(record.file !== undefined ? { file: record.file } : {}),
      mode: record.mode,
      model: record.model,
      startedAt: record.startedAt,
      status: record.status,
      durationMs: record.durationMs,
      origin,
    },
    template: record.template,
    backend: record.backend,
    inputs: record.inputs,
    ...(record.error !== undefined ? { error: record.error } : {}),
    warnings: record.warnings ?? [],
    ...(record.stopAfter !== undefined ? { stopAfter: record.stopAfter } : {}),
    ...(record.rerunFrom !== undefined ? { rerunFrom: record.rerunFrom } : {}),
    modelCalls: record.modelCalls,
    ...(record.composed !== undefined
      ? { composed: { prompt: record.composed.prompt, rawOutput: record.composed.rawOutput, cached: record.composed.cached, durationMs: record.composed.durationMs, promptTokens: record.composed.promptTokens, completionTokens: record.composed.completionTokens } }
      : {}),
    steps: record.steps.map((s) => ({
      id: s.id,
      index: s.index,
      status: s.status,
      ...(s.prompt !== undefined ? { prompt: s.prompt } : {}),
      ...(s.output !== undefined ? { output: s.output } : {}),
      ...(s.rawOutput !== undefined && s.rawOutput !== s.output ? { rawOutput: s.rawOutput } : {}),
      cached: s.cached,
      pinned: s.pinned,
      durationMs: s.durationMs,
      promptTokens: s.promptTokens,
      completionTokens: s.completionTokens,
      ...(s.error !== undefined ? { error: { code: s.error.backendCode !== undefined ? `${s.error.code}/${s.error.backendCode}` : s.error.code, message: s.error.message } } : {}),
      warnings: s.warnings ?? [],
    })),
  };
}
