/**
 * The Evaluations tab's data: the eval stores of the workspace (`.coi-evals/<name>/`),
 * read through core/eval. A store is read once per change of its results file and kept,
 * so paging through 10,000 items reads nothing again; pages are cut by core's
 * `queryResults` and never larger than `maxEvalPageSize`.
 */
import * as vscode from 'vscode';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { computeReport } from '../../core/eval/report';
import { CONFIG_FILE, readConfig, readEvalStore, RESULTS_FILE, queryResults, type StoreContents } from '../../core/eval/store';
import type { EvalReport } from '../../core/eval/types';
import { maxEvalPageSize, type EvalOverview, type EvalPage, type EvalPageQuery, type EvalStoreRow } from '../../webview/protocol';

export const evalStoresGlob = `**/.coi-evals/*/${CONFIG_FILE}`;

interface Loaded {
  readonly stamp: string;
  readonly contents: StoreContents;
  report?: EvalReport;
}

export class EvalSources {
  private readonly loaded = new Map<string, Loaded>();
  private known = new Set<string>();

  async stores(): Promise<EvalStoreRow[]> {
    const configs = await vscode.workspace.findFiles(evalStoresGlob, '**/node_modules/**', 1000);
    const rows: EvalStoreRow[] = [];
    for (const uri of configs) {
      const store = dirname(uri.fsPath);
      try {
        const config = readConfig(store);
        rows.push({ store, name: config.name, createdAt: config.createdAt, items: config.itemCount, models: config.models.map((m) => m.label), modes: [...config.modes] });
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

  private contents(store: string): Loaded {
    const stamp = stampOf(store);
    const cached = this.loaded.get(store);
    if (cached !== undefined && cached.stamp === stamp) return cached;
    const loaded: Loaded = { stamp, contents: readEvalStore(store) };
    this.loaded.set(store, loaded);
    return loaded;
  }

  async overview(store: string): Promise<EvalOverview> {
    await this.requireKnown(store);
    const loaded = this.contents(store);
    loaded.report ??= computeReport(loaded.contents);
    const { config } = loaded.contents;
    return { store, report: loaded.report, models: config.models.map((m) => ({ key: m.key, label: m.label })), modes: [...config.modes] };
  }

  async page(query: EvalPageQuery): Promise<EvalPage> {
    await this.requireKnown(query.store);
    const { contents } = this.contents(query.store);
    const page = queryResults(contents.results, {
      ...(query.model !== undefined ? { model: query.model } : {}),
      ...(query.mode !== undefined ? { mode: query.mode } : {}),
      ...(query.item !== undefined && query.item !== '' ? { item: query.item } : {}),
      ...(query.only !== undefined ? { only: query.only } : {}),
      ...(query.sortBy !== undefined ? { sortBy: query.sortBy } : {}),
      ...(query.descending !== undefined ? { descending: query.descending } : {}),
      offset: Math.max(0, Math.floor(query.offset)),
      limit: Math.min(maxEvalPageSize, Math.max(1, Math.floor(query.limit))),
    });
    return { total: page.total, offset: page.offset, results: page.results };
  }

  async report(store: string): Promise<EvalReport> {
    return (await this.overview(store)).report;
  }
}

/** Changes when the results file is appended to or eval.json rewritten. */
function stampOf(store: string): string {
  const stat = (name: string): string => {
    try {
      const s = statSync(join(store, name));
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return 'none';
    }
  };
  return `${stat(CONFIG_FILE)}|${stat(RESULTS_FILE)}`;
}
