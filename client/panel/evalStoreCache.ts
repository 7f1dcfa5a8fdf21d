/**
 * The evaluation stores the panel has read: each is read once per change of its files
 * (`eval.json`, `results.jsonl`) and its report computed once, so paging through 10,000
 * results reads nothing again; pages are cut by core's `queryResults` and never larger
 * than `maxEvalPageSize`. No vscode: unit-tested in plain Node.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { computeReport, displayLabels, type ReportOptions, CONFIG_FILE, readEvalStore, RESULTS_FILE, queryResults, type StoreContents, type EvalReport } from '../../core/eval';
import { maxEvalPageSize, type EvalOverview, type EvalPage, type EvalPageQuery } from '../../webview/protocol';

interface Loaded {
  readonly stamp: string;
  readonly contents: StoreContents;
  report?: EvalReport;
}

export class EvalStoreCache {
  private readonly loaded = new Map<string, Loaded>();
  /** How many times a store was read from disk (for tests). */
  reads = 0;

  constructor(private readonly reportOptions: ReportOptions = {}) {}

  private contents(store: string): Loaded {
    const stamp = stampOf(store);
    const cached = this.loaded.get(store);
    if (cached !== undefined && cached.stamp === stamp) return cached;
    const loaded: Loaded = { stamp, contents: readEvalStore(store) };
    this.reads++;
    this.loaded.set(store, loaded);
    return loaded;
  }

  overview(store: string): EvalOverview {
    const loaded = this.contents(store);
    loaded.report ??= computeReport(loaded.contents, this.reportOptions);
    const { config } = loaded.contents;
    const labels = displayLabels(config.models);
    return { store, report: loaded.report, models: config.models.map((m) => ({ key: m.key, label: labels.get(m.key) ?? m.label })), modes: [...config.modes] };
  }

  page(query: EvalPageQuery): EvalPage {
    const { contents } = this.contents(query.store);
    const page = queryResults(contents.results, {
      ...(query.model !== undefined ? { model: query.model } : {}),
      ...(query.mode !== undefined ? { mode: query.mode } : {}),
      ...(query.item !== undefined && query.item !== '' ? { item: query.item } : {}),
      ...(query.only !== undefined ? { only: query.only } : {}),
      ...(query.sortBy !== undefined ? { sortBy: query.sortBy } : {}),
      ...(query.descending !== undefined ? { descending: query.descending } : {}),
      offset: Math.max(0, Math.floor(Number(query.offset) || 0)),
      limit: Math.min(maxEvalPageSize, Math.max(1, Math.floor(Number(query.limit) || 1))),
    });
    return { total: page.total, offset: page.offset, results: page.results };
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
