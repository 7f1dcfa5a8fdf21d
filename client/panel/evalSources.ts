/**
 * The Evaluations tab's data: the eval stores of the workspace (`.coi-evals/<name>/` and
 * the fine-tuning jobs' evaluations against their base),
 * found with the workspace's file search and read through EvalStoreCache (core/eval).
 */
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { CONFIG_FILE, displayLabels, readConfig, type EvalReport } from '../../core/eval';
import type { EvalOverview, EvalPage, EvalPageQuery, EvalStoreRow } from '../../webview/protocol';
import { EvalStoreCache } from './evalStoreCache';

/** Where eval stores are: `.coi-evals/<name>/`, and a fine-tuning job's evaluations against its base (`.coi-jobs/<id>/eval/<time>/`). */
export const evalStoreFolderGlobs = ['**/.coi-evals/*', '**/.coi-jobs/*/eval/*'] as const;

export class EvalSources {
  private readonly cache = new EvalStoreCache();
  private known = new Set<string>();

  async stores(): Promise<EvalStoreRow[]> {
    const configs = (await Promise.all(evalStoreFolderGlobs.map((glob) => vscode.workspace.findFiles(`${glob}/${CONFIG_FILE}`, '**/node_modules/**', 1000)))).flat();
    const rows: EvalStoreRow[] = [];
    for (const uri of configs) {
      const store = dirname(uri.fsPath);
      try {
        const config = readConfig(store);
        rows.push({ store, name: config.name, createdAt: config.createdAt, items: config.itemCount, models: [...displayLabels(config.models).values()], modes: [...config.modes] });
      } catch {
        // A folder with a broken eval.json is not an evaluation the tab can show.
      }
    }
    this.known = new Set(rows.map((r) => r.store));
    return rows.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** Only stores the tab listed can be read (the webview names folders; it is not trusted with paths). */
  private async requireKnown(store: string): Promise<void> {
    if (!this.known.has(store)) await this.stores();
    if (!this.known.has(store)) throw new Error(`Not an evaluation store of this workspace: ${store}`);
  }

  async overview(store: string): Promise<EvalOverview> {
    await this.requireKnown(store);
    return this.cache.overview(store);
  }

  async page(query: EvalPageQuery): Promise<EvalPage> {
    await this.requireKnown(query.store);
    return this.cache.page(query);
  }

  async report(store: string): Promise<EvalReport> {
    return (await this.overview(store)).report;
  }
}
