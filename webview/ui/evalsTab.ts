/**
 * The Evaluations tab: the stores of the workspace; for one, the summary (models ×
 * metrics with intervals), ROUGE-L by chain length and by step position, the paired
 * comparisons, and the item table paged by the extension (never the whole store at once).
 */
import type { Chart } from 'chart.js';
import type { EvalResult } from '../../core/eval/types';
import { lineChart } from './charts';
import { button, h, labelledBlock, listen, message, patchChildren, replaceKeepingFocus, select } from './dom';
import { intervalText, lengthSeries, pageInfo, type PageInfo, positionSeries, reportNotes, resultNames, scoreText, storeStatusText, summaryMetrics, summaryRows } from '../model/evals';
import { wordDiff } from '../model/wordDiff';
import type { EvalOverview, EvalPage, EvalPageQuery, EvalSortKey, EvalStoreRow, PanelState } from '../protocol';
import { request } from './rpc';
import { showError, statusBadge } from './runsTab';

const pageSize = 50;
type Query = Omit<EvalPageQuery, 'store'>;

export class EvalsTab {
  private store: string | undefined;
  private query: Query;
  private charts: Chart[] = [];
  private overview: EvalOverview | undefined;
  /** The store picker and the overview (summary, charts, comparisons): patched as the store grows (what did not change stays). */
  private head: HTMLElement | undefined;
  /** The item filters (kept while the store refreshes: focus, caret and what is typed stay). */
  private filters: HTMLElement | undefined;
  /** The pager and the item table, patched only once the new page has arrived (what did not change stays). */
  private itemsBody: HTMLElement | undefined;
  /** The parts of `itemsBody` that are patched as pages arrive; `info` is the pager's live region ("51–100 of 10,000"), one element whose text is updated in place. */
  private items: { pager: HTMLElement; info: HTMLElement; table: HTMLElement; head: HTMLElement; rows: HTMLElement } | undefined;
  /** The evaluation's status line (a live region: "running · 90 missing"), one element per store shown, its text updated in place. */
  private status: HTMLElement | undefined;
  /** The page on screen: the pager's buttons (kept across updates) go from it when pressed. */
  private shownPage: PageInfo | undefined;
  /** The latest overview and page requests: an older answer arriving late is dropped. */
  private overviewRequest = 0;
  private pageRequest = 0;
  /** The result whose detail is open under the table (`item model mode`). */
  private openItem: string | undefined;

  constructor(
    private readonly root: HTMLElement,
    state: PanelState | undefined,
    private readonly onStateChange: () => void,
  ) {
    this.store = state?.openEval;
    this.query = state?.evalQuery ?? { offset: 0, limit: pageSize };
    this.openItem = state?.openItem;
  }

  state(): Pick<PanelState, 'openEval' | 'evalQuery' | 'openItem'> {
    return { ...(this.store !== undefined ? { openEval: this.store } : {}), evalQuery: this.query, ...(this.openItem !== undefined ? { openItem: this.openItem } : {}) };
  }

  /** Draws the tab from scratch (first view, another store picked). */
  async render(): Promise<void> {
    const asked = ++this.overviewRequest;
    try {
      const stores = await request('listEvals', {});
      if (asked !== this.overviewRequest) return;
      if (this.store !== undefined && !stores.some((s) => s.store === this.store)) this.store = undefined;
      this.store ??= stores[0]?.store;
      if (this.store === undefined) {
        this.show(h('section', { 'aria-label': 'Evaluations' }, message('No evaluations in this workspace. An evaluation (coi eval, or the Run Evaluation command) writes its store under .coi-evals/<name>/ and appears here while it runs.')));
        return;
      }
      const overview = await request('openEval', { store: this.store });
      if (asked !== this.overviewRequest) return;
      this.overview = overview;
      this.head = h('div', { class: 'eval-head' });
      this.status = h('p', { class: 'muted', role: 'status' });
      this.filters = this.itemFilters(overview);
      this.itemsBody = h('div', { class: 'items-body' });
      const itemsSection = h('section', { class: 'items', 'aria-label': 'Evaluated items' }, h('h3', {}, 'Items'), this.filters, this.itemsBody);
      // The picker is in place before the tab is shown: picked by keyboard, it keeps the focus.
      patchChildren(this.head, ...this.headParts(stores, overview));
      this.show(h('section', { 'aria-label': 'Evaluations' }, this.head, itemsSection));
      this.drawCharts(overview);
      await this.renderItems();
    } catch (error) {
      this.show(h('section', {}, message(error instanceof Error ? error.message : String(error), 'error')));
    }
  }

  /** Shows `store` the next time the tab renders (the Fine-tuning tab's "Show the comparison"). */
  open(store: string): void {
    this.store = store;
    this.query = { offset: 0, limit: pageSize };
    this.openItem = undefined;
    this.onStateChange();
  }

  /**
   * The store on screen was appended to (a running evaluation fills in live, about twice a
   * second): the overview and the page are updated in place, each swapped in only once its
   * answer has arrived; the filters are not touched, so what is being typed stays.
   */
  async refresh(store: string): Promise<void> {
    if (this.store !== undefined && store !== this.store) return;
    if (this.store === undefined || this.head === undefined || !this.root.contains(this.head)) return this.render();
    const asked = ++this.overviewRequest;
    const shown = this.store;
    try {
      const stores = await request('listEvals', {});
      if (!stores.some((s) => s.store === shown)) return await this.render();
      const overview = await request('openEval', { store: shown });
      if (asked !== this.overviewRequest || shown !== this.store) return;
      this.overview = overview;
      this.showOverview(stores, overview);
      await this.renderItems();
    } catch {
      // What is on screen stays; the next change (or a click) asks again.
    }
  }

  /** Draws the tab anew; the focus goes back to the control it was on (the store picker once a store is picked by keyboard). */
  private show(content: HTMLElement): void {
    this.destroyCharts();
    replaceKeepingFocus(this.root, content);
  }

  private destroyCharts(): void {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  /**
   * Updates the picker and the overview above the items. Only what changed is replaced: the
   * picker stays the same element (open, focused, with its choice) while the list of stores
   * is the same; the charts are redrawn.
   */
  private showOverview(stores: readonly EvalStoreRow[], overview: EvalOverview): void {
    if (this.head === undefined) return;
    this.destroyCharts();
    patchChildren(this.head, ...this.headParts(stores, overview));
    this.drawCharts(overview);
  }

  private headParts(stores: readonly EvalStoreRow[], overview: EvalOverview): HTMLElement[] {
    return [this.storePicker(stores), ...this.overviewParts(overview)];
  }

  private storePicker(stores: readonly EvalStoreRow[]): HTMLElement {
    if (stores.length === 0) return h('div');
    const choose = select('Evaluation', stores.map((s) => ({ value: s.store, text: `${s.name} · ${s.items} items · ${s.models.join(', ')}` })), this.store ?? '', (value) => {
      this.store = value;
      this.query = { offset: 0, limit: pageSize };
      this.openItem = undefined;
      this.onStateChange();
      void this.render();
    });
    return h('div', { class: 'toolbar' }, choose);
  }

  private overviewParts(overview: EvalOverview): HTMLElement[] {
    const { report } = overview;
    const counts = report.counts;
    const store = overview.store;
    const actions = h(
      'div',
      { class: 'toolbar', 'data-store': store },
      counts.missing > 0 ? button('Resume', () => void request('resumeEval', { store }).catch(showError(this.root)), { ariaLabel: `Resume the evaluation ${report.name}: ${counts.missing} results missing` }) : null,
      button('Export CSV', () => void request('exportEval', { store, format: 'csv' }).catch(showError(this.root)), { secondary: true, ariaLabel: 'Export CSV: the report as a CSV file' }),
      button('Export Markdown', () => void request('exportEval', { store, format: 'markdown' }).catch(showError(this.root)), { secondary: true, ariaLabel: 'Export Markdown: the report as a Markdown file' }),
    );
    // The same element each time, its text changed only when it changes: a screen reader says the new status once.
    const status = this.status ?? h('p', { class: 'muted', role: 'status' });
    this.status = status;
    const statusText = storeStatusText(report);
    if (status.textContent !== statusText) status.textContent = statusText;
    const summary = h(
      'table',
      { class: 'grid summary', 'aria-label': 'Summary: mean and 95% bootstrap interval per model' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col' }, 'n'), h('th', { scope: 'col' }, 'Failed'), ...summaryMetrics.map((m) => h('th', { scope: 'col', title: m.hint }, m.header)))),
      h('tbody', {}, ...summaryRows(report).map((row) => h('tr', {}, h('th', { scope: 'row' }, row.label), h('td', {}, String(row.n)), h('td', {}, String(row.failures)), ...row.cells.map((c) => h('td', { class: 'num' }, c))))),
    );
    const comparisons =
      report.comparisons.length === 0
        ? null
        : h(
            'table',
            { class: 'grid', 'aria-label': 'Paired comparisons' },
            h('thead', {}, h('tr', {}, ...['Baseline (A)', 'Compared (B)', 'Metric', 'n', 'B − A', 'Wins', 'Ties', 'Losses'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...report.comparisons.map((c) =>
                h('tr', {}, h('td', {}, `${labelOf(overview, c.a.model)} (${c.a.mode})`), h('td', {}, `${labelOf(overview, c.b.model)} (${c.b.mode})`), h('td', {}, c.metric), h('td', {}, String(c.n)), h('td', { class: 'num' }, intervalText(c.difference, 1)), h('td', { class: 'num' }, String(c.wins)), h('td', { class: 'num' }, String(c.ties)), h('td', { class: 'num' }, String(c.losses))),
              ),
            ),
          );
    const parts: (HTMLElement | null)[] = [
      actions,
      status,
      ...reportNotes(report).map((note) => h('p', { class: 'warning', role: 'note' }, note)),
      h('div', { class: 'table-scroll' }, summary),
      h('div', { class: 'charts', id: 'eval-charts' }),
      comparisons !== null ? h('h3', {}, 'Paired comparisons') : null,
      comparisons !== null ? h('div', { class: 'table-scroll' }, comparisons) : null,
    ];
    return parts.filter((e): e is HTMLElement => e !== null);
  }

  private drawCharts(overview: EvalOverview): void {
    const box = this.root.querySelector('#eval-charts');
    if (box === null) return;
    const byLength = lineChart(lengthSeries(overview.report), { title: 'ROUGE-L by chain length', xTitle: 'steps in the chain', yTitle: 'ROUGE-L (final output)', yMax: 100 });
    const byPosition = lineChart(positionSeries(overview.report), { title: 'ROUGE-L by step position', xTitle: 'step position', yTitle: 'ROUGE-L (step)', yMax: 100 });
    box.replaceChildren(byLength.element, byPosition.element);
    for (const chart of [byLength.chart, byPosition.chart]) if (chart !== undefined) this.charts.push(chart);
  }

  private setQuery(change: Partial<Query>): void {
    this.query = { ...this.query, offset: 0, ...change };
    this.openItem = undefined;
    this.onStateChange();
    void this.renderItems();
  }

  /** The filters above the table: made once per store shown, never redrawn under the user's typing. */
  private itemFilters(overview: EvalOverview): HTMLElement {
    const q = this.query;
    const filterBox = h('input', { type: 'search', class: 'input', placeholder: 'Filter items by id', 'aria-label': 'Filter items by id', value: q.item ?? '' });
    let typing: ReturnType<typeof setTimeout> | undefined;
    filterBox.addEventListener('input', () => {
      if (typing !== undefined) clearTimeout(typing);
      typing = setTimeout(() => this.setQuery({ item: filterBox.value }), 250);
    });
    const modelSelect = select('Items of model', [{ value: '', text: 'All models' }, ...overview.models.map((m) => ({ value: m.key, text: m.label }))], q.model ?? '', (value) => this.setQuery({ model: value === '' ? undefined : value }));
    const modeSelect = overview.modes.length > 1 ? select('Items of mode', [{ value: '', text: 'Both modes' }, ...overview.modes.map((m) => ({ value: m, text: m }))], q.mode ?? '', (value) => this.setQuery({ mode: value === 'stepwise' || value === 'composed' ? value : undefined })) : null;
    const onlySelect = select('Show only', [{ value: '', text: 'All results' }, { value: 'failures', text: 'Failures' }, { value: 'split-failures', text: 'Split failures' }, { value: 'expectation-failures', text: 'Failed expectations' }], q.only ?? '', (value) => this.setQuery({ only: value === 'failures' || value === 'split-failures' || value === 'expectation-failures' ? value : undefined }));
    return h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Item filters' }, filterBox, modelSelect, modeSelect, onlySelect);
  }

  /** Asks for the page of the current query; the pager and table are swapped in when it arrives (a newer request wins). */
  private async renderItems(): Promise<void> {
    const body = this.itemsBody;
    const overview = this.overview;
    if (body === undefined || overview === undefined || this.store === undefined) return;
    const asked = ++this.pageRequest;
    const q = this.query;
    let page: EvalPage;
    try {
      page = await request('evalPage', { store: this.store, ...q });
    } catch (error) {
      if (asked === this.pageRequest) body.replaceChildren(message(error instanceof Error ? error.message : String(error), 'error'));
      return;
    }
    if (asked !== this.pageRequest || body !== this.itemsBody) return;
    const info = pageInfo(page.total, page.offset, q.limit);
    this.shownPage = info;
    // A running evaluation brings a new page twice a second: the pager, the sort buttons and
    // the rows that did not change stay the same elements (focus and a click in progress
    // stay), so every handler here reads the page and the query when it runs.
    const goTo = (offsetOf: (shown: PageInfo) => number | undefined): void => {
      const offset = this.shownPage === undefined ? undefined : offsetOf(this.shownPage);
      if (offset === undefined) return;
      this.query = { ...this.query, offset };
      this.openItem = undefined;
      this.onStateChange();
      void this.renderItems();
    };
    const header = (text: string, key: EvalSortKey | undefined): HTMLElement => {
      if (key === undefined) return h('th', { scope: 'col' }, text);
      const active = (q.sortBy ?? 'order') === key;
      const sortLabel = active ? (q.descending === true ? 'descending' : 'ascending') : 'none';
      const toggle = listen(h('button', { class: 'sort', type: 'button', 'aria-label': `Sort by ${text}` }, text, active ? (q.descending === true ? ' ▼' : ' ▲') : ''), 'click', () => {
        const sorted = (this.query.sortBy ?? 'order') === key;
        this.setQuery({ sortBy: key, descending: sorted ? this.query.descending !== true : key !== 'item' });
      });
      return h('th', { scope: 'col', 'aria-sort': sortLabel }, toggle);
    };
    let items = this.items;
    if (items === undefined || !body.contains(items.table)) {
      const head = h('thead');
      const rows = h('tbody');
      items = { pager: h('div', { class: 'toolbar pager', role: 'navigation', 'aria-label': 'Item pages' }), info: h('span', { class: 'page-info', role: 'status', 'aria-live': 'polite' }), table: h('table', { class: 'grid items-table' }, head, rows), head, rows };
      this.items = items;
      replaceKeepingFocus(body, items.pager, h('div', { class: 'table-scroll' }, items.table));
    }
    // The page's range is said when it changes (Next, a filter), by the one live region kept in the pager.
    if (items.info.textContent !== info.text) items.info.textContent = info.text;
    patchChildren(
      items.pager,
      button('First', () => goTo(() => 0), { secondary: true, disabled: info.previousOffset === undefined, ariaLabel: 'First page' }),
      button('Previous', () => goTo((shown) => shown.previousOffset), { secondary: true, disabled: info.previousOffset === undefined, ariaLabel: 'Previous page' }),
      items.info,
      button('Next', () => goTo((shown) => shown.nextOffset), { secondary: true, disabled: info.nextOffset === undefined, ariaLabel: 'Next page' }),
      button('Last', () => goTo((shown) => shown.lastOffset), { secondary: true, disabled: info.nextOffset === undefined, ariaLabel: 'Last page' }),
    );
    items.table.setAttribute('aria-label', `Items ${info.text}`);
    items.table.setAttribute('aria-rowcount', String(page.total));
    patchChildren(items.head, h('tr', {}, header('Item', 'item'), header('Model', undefined), header('Steps', undefined), header('ROUGE-L (final)', 'final.rougeL'), header('ROUGE-L (steps)', 'step.rougeL'), header('Latency', 'latencyMs'), header('Status', undefined)));
    const names = resultNames(page.results, (model) => labelOf(overview, model), overview.modes.length > 1);
    patchChildren(items.rows, ...page.results.flatMap((result, index) => this.itemRows(overview, result, page.offset + index + 2, names[index] ?? result.item)));
  }

  /** A result's row (and its detail when open); `name` tells it from the other models' rows of the item (model/evals.ts `resultNames`). */
  private itemRows(overview: EvalOverview, result: EvalResult, rowIndex: number, name: string): HTMLElement[] {
    const key = `${result.item}\u0000${result.model}\u0000${result.mode}`;
    const open = this.openItem === key;
    const stepScores = result.steps.map((s) => s.rougeL).filter((v): v is number => v !== undefined);
    const meanStep = stepScores.length > 0 ? stepScores.reduce((a, b) => a + b, 0) / stepScores.length : undefined;
    // Its name says the model and the score (each model's row of the item is told apart); the focus comes back to it by its focus id.
    const toggle = listen(h('button', { type: 'button', class: 'link', 'aria-expanded': open ? 'true' : 'false', 'aria-label': `${name}: show reference and output`, 'data-focus-id': `item ${key}` }, result.item), 'click', () => {
      this.openItem = this.openItem === key ? undefined : key;
      this.onStateChange();
      void this.renderItems();
    });
    const status = result.error !== undefined ? statusBadge('failed') : result.splitFailed ? h('span', { class: 'status status-failed' }, '✗ split failed') : statusBadge('ok');
    const row = h(
      'tr',
      // The model and mode are in the row's attributes, so that an unchanged row (kept by patchChildren) is the same result.
      { 'aria-rowindex': rowIndex, 'data-item': result.item, 'data-model': result.model, 'data-mode': result.mode },
      h('td', {}, toggle),
      h('td', {}, `${labelOf(overview, result.model)}${overview.modes.length > 1 ? ` (${result.mode})` : ''}`),
      h('td', { class: 'num' }, String(result.chainLength)),
      h('td', { class: 'num' }, scoreText(result.final.rougeL)),
      h('td', { class: 'num' }, scoreText(meanStep)),
      h('td', { class: 'num' }, `${Math.round(result.latencyMs)} ms`),
      h('td', {}, status),
    );
    if (!open) return [row];
    return [row, h('tr', { class: 'item-detail' }, h('td', { colspan: 7 }, itemDetail(result)))];
  }
}

function labelOf(overview: EvalOverview, model: string): string {
  return overview.models.find((m) => m.key === model)?.label ?? model;
}

/** Reference and output side by side per step (differing words marked), with each step's score. */
function itemDetail(result: EvalResult): HTMLElement {
  const parts: HTMLElement[] = [];
  if (result.error !== undefined) parts.push(message(result.error, 'error'));
  if (result.composability !== undefined) parts.push(h('p', { class: 'warning', role: 'note' }, `⚠ ${result.composability}`));
  for (const step of result.steps) {
    const diff = wordDiff(step.reference ?? '', step.output ?? '');
    const score = `${step.category} · ROUGE-L ${scoreText(step.rougeL)}${step.exact === true ? ' · exact' : ''}${step.contractValid ? '' : ' · breaks its contract'}`;
    parts.push(
      h(
        'section',
        { class: 'compare-step', 'aria-label': `Step ${step.index + 1} ${step.id}` },
        h('h4', {}, `${step.index + 1}. ${step.id} `, statusBadge(step.status), h('span', { class: 'muted small' }, ` ${score}`)),
        h('div', { class: 'compare-row' }, segmentsBlock(diff.left, step.reference, `Reference of step ${step.id}`, 'no reference'), segmentsBlock(diff.right, step.output, `Output of step ${step.id}`, 'no output')),
      ),
    );
  }
  return h('div', { class: 'item-detail-body' }, h('div', { class: 'compare-head' }, h('div', {}, h('strong', {}, 'Reference')), h('div', {}, h('strong', {}, 'Output'))), ...parts);
}

function segmentsBlock(segments: ReturnType<typeof wordDiff>['left'], text: string | undefined, label: string, none: string): HTMLElement {
  const block = labelledBlock(label, 'text-block diff');
  if (text === undefined) block.appendChild(h('span', { class: 'muted' }, `(${none})`));
  else for (const segment of segments) block.appendChild(segment.changed ? h('mark', {}, segment.text) : document.createTextNode(segment.text));
  return block;
}
