/**
 * The Fine-tuning tab: the workspace's jobs (read by the extension through core/finetune),
 * and one job's detail with live loss and learning-rate charts, the log's tail (as text)
 * and Cancel / Resume. The extension pushes `jobChanged` when a job's files change; the
 * tab then asks only for the metric lines it has not seen. A training job changes twice a
 * second: the list and the detail are patched (dom.ts `patchChildren`), so what did not
 * change (the buttons, the links, the charts while no new metric came) stays the same
 * element, and a click in progress or the focus on it is not lost. The log keeps its element
 * too: new lines are appended to it (`followLog` in model/jobs.ts), so a user scrolled up to read
 * an earlier line is not thrown back, and the view follows the new lines only from the bottom.
 *
 * Keyboard and screen reader: a view drawn anew by the user's action puts the focus where the
 * action leads (a job opened: its heading; ← Jobs: the link of the job that was open; the form
 * closed: New job…), never on the document's body. A job's status changes, and its progress
 * every tenth of its steps, are said by one polite live region (`role=status`) that stays the
 * same element, its text changed in place; the list says its jobs' status changes the same way.
 */
import type { Chart } from 'chart.js';
import type { MetricEvent } from '../../core/finetune/job';
import { appendMetrics, followLog, metricSeries } from '../model/jobs';
import { oneAtATime } from '../model/serial';
import type { JobMetricsBatch, JobRow, PanelState } from '../protocol';
import { lineChart } from './charts';
import { jobForm } from './jobForm';
import { button, clear, h, message, patchChildren } from './dom';
import { focusInView } from './focus';
import { request } from './rpc';

interface OpenJob {
  readonly folder: string;
  metrics: MetricEvent[];
  nextLine: number;
  /** Reads the job's new lines and draws its detail: one read at a time, a change during a read reads once more. */
  load: () => Promise<void>;
}

export class JobsTab {
  private open: OpenJob | undefined;
  private charts: Chart[] = [];
  /** The list on screen (patched as jobs change). */
  private list: HTMLElement | undefined;
  /** The open job's detail on screen (patched as the job changes), the row it shows and what its charts were drawn from. */
  private detail: { section: HTMLElement; row: JobRow; chartsOf: string } | undefined;
  /** While the open job is active, its detail is re-read now and then: a process that dies writes nothing to watch. */
  private poll: ReturnType<typeof setTimeout> | undefined;
  /** The tab is on screen (its tab chosen, the panel's document visible): only then is an active job re-read every 3 s. */
  private shown = false;
  /** The New job form is shown: job events must not redraw the list over what is being typed. */
  private formOpen = false;
  /** What the form holds (kept with the panel's state: hidden and shown again, the form comes back as it was). */
  private formValues: Readonly<Record<string, string>> | undefined;
  /** Where the focus goes once the view the user asked for is drawn (`placeFocus`). */
  private focusNext: (() => HTMLElement | null) | undefined;
  /** Each listed job's status when the list was last drawn (undefined: the list was not on screen), to say the ones that changed. */
  private listed: ReadonlyMap<string, JobRow> | undefined;

  constructor(
    private readonly root: HTMLElement,
    saved: Pick<PanelState, 'openJob' | 'jobForm'> | undefined,
    private readonly persist: () => void,
    /** Opens an evaluation store in the Evaluations tab. */
    private readonly showEvaluation: (store: string) => void,
  ) {
    if (saved?.openJob !== undefined) this.open = this.openState(saved.openJob);
    else if (saved?.jobForm !== undefined) this.formValues = saved.jobForm;
  }

  state(): Pick<PanelState, 'openJob' | 'jobForm'> {
    if (this.open !== undefined) return { openJob: this.open.folder };
    return this.formValues === undefined ? {} : { jobForm: this.formValues };
  }

  /** Draws the tab, read at once: when it is chosen, and when the panel is visible again after being hidden. */
  render(): Promise<void> {
    this.shown = true;
    if (this.open !== undefined) return this.loadDetail();
    // The form restored from the saved state (or still on screen after another tab was shown).
    if (this.formValues !== undefined && !this.formOpen) return this.showForm();
    return this.renderList();
  }

  /**
   * The tab is left, or the panel's document is hidden: nothing is re-read until `render` (the
   * 3 s re-read of an active job stops, and a read on its way schedules no other).
   */
  hide(): void {
    this.shown = false;
    this.stopPolling();
  }

  /**
   * A job's files changed (a training job: about twice a second): the open job fetches its new
   * lines; the list re-reads, one read at a time, with at most one more queued behind it.
   */
  async changed(folder: string): Promise<void> {
    if (this.formOpen || !this.shown) return;
    if (this.open === undefined) await this.refreshList();
    else if (this.open.folder === folder) await this.loadDetail();
  }

  /** The list re-read on a change: one read in flight, one more queued behind it while the list is still shown. */
  private readonly refreshList = oneAtATime(
    () => this.renderList(),
    () => this.open === undefined && !this.formOpen,
  );

  /** A job opened: its detail is read (and read again on its changes) while it stays open. */
  private openState(folder: string): OpenJob {
    const open: OpenJob = {
      folder,
      metrics: [],
      nextLine: 0,
      load: oneAtATime(
        () => this.readDetail(open),
        () => this.open === open,
      ),
    };
    return open;
  }

  private async renderList(): Promise<void> {
    try {
      const view = await request('listJobs', {});
      // The form or a job's detail opened while the list was on its way: it stays.
      if (this.formOpen || this.open !== undefined) return;
      const newJob = button('New job…', () => void this.showForm(), { focusId: 'new-job' });
      newJob.setAttribute('aria-description', 'Start a new fine-tuning job');
      newJob.title = 'Start a new fine-tuning job';
      const parts: HTMLElement[] = [h('div', { class: 'toolbar' }, newJob)];
      if (view.notice !== undefined) parts.push(message(view.notice));
      if (view.jobs.length === 0) parts.push(message('No fine-tuning jobs in this workspace. Start one with New job…, CoI: Start Fine-tuning Job… or `coi finetune start`; its folder .coi-jobs/<id>/ shows here.'));
      else parts.push(jobTableShell());
      for (const bad of view.unreadable) parts.push(message(`${bad.folder}: ${bad.error}`, 'error'));
      if (view.searched.length > 0) parts.push(h('p', { class: 'muted small' }, `Looked in: ${view.searched.join(', ')}`));
      // Says the jobs whose status changed since the list was last drawn (built empty: the one on screen stays, its text changes).
      parts.push(h('div', { role: 'status', class: 'visually-hidden' }));
      let section = this.list;
      if (section === undefined || section.parentNode !== this.root) {
        section = h('section', { 'aria-label': 'Fine-tuning' });
        this.show(section);
        this.list = section;
      }
      // Redrawn on every change of a running job: what did not change stays (the New job button, the unchanged rows and cells).
      const placed = patchChildren(section, ...parts);
      const table = placed.find((part): part is HTMLTableElement => part instanceof HTMLTableElement);
      if (table !== undefined) patchJobRows(table, view.jobs, (folder) => this.openJob(folder));
      const changes = statusChanges(this.listed, view.jobs);
      const live = placed.at(-1);
      if (changes !== '' && live instanceof HTMLElement) live.textContent = changes;
      this.listed = new Map(view.jobs.map((job) => [job.folder, job]));
      this.placeFocus();
    } catch (error) {
      this.show(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }

  /** Puts the focus where the user's last action leads, once its view is drawn (see `focusNext`). */
  private placeFocus(): void {
    const find = this.focusNext;
    this.focusNext = undefined;
    if (find !== undefined) focusInView(this.root, find());
  }

  private async showForm(): Promise<void> {
    try {
      const view = await request('jobForm', {});
      this.formOpen = true;
      this.formValues ??= {};
      this.persist();
      const keep = (values: Readonly<Record<string, string>>): void => {
        this.formValues = values;
        this.persist();
      };
      this.show(jobForm(view, (folder) => this.openJob(folder), () => this.closeForm(), this.formValues, keep));
      this.root.querySelector<HTMLInputElement>('input')?.focus();
    } catch (error) {
      this.show(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }

  private closeForm(): void {
    this.formOpen = false;
    this.formValues = undefined;
    this.persist();
    this.focusNext = () => this.newJobButton();
    void this.renderList();
  }

  private openJob(folder: string): void {
    this.formOpen = false;
    this.formValues = undefined;
    this.open = this.openState(folder);
    this.persist();
    // Into the job's detail: its heading (or, where the job could not be read, the way back).
    this.focusNext = () => this.root.querySelector<HTMLElement>('section[data-job] h2') ?? this.root.querySelector<HTMLElement>('[data-focus-id="back-to-jobs"]');
    void this.loadDetail();
  }

  private back(): void {
    const folder = this.open?.folder;
    this.open = undefined;
    this.persist();
    // Back on the link of the job that was open (the New job… button if it is no longer listed).
    this.focusNext = () => [...this.root.querySelectorAll<HTMLElement>('tr[data-folder]')].find((row) => row.dataset['folder'] === folder)?.querySelector<HTMLElement>('a.link') ?? this.newJobButton();
    void this.renderList();
  }

  private newJobButton(): HTMLElement | null {
    return this.root.querySelector<HTMLElement>('[data-focus-id="new-job"]');
  }

  /**
   * Reads the open job's detail. A change that comes while it is being read is not dropped:
   * it is read once more when this read is done (the final status of a job that just ended
   * shows at once, not at the next re-read 3 s later).
   */
  private loadDetail(): Promise<void> {
    return this.open?.load() ?? Promise.resolve();
  }

  /** Fetches the metric lines not seen yet (in batches), then draws the detail. */
  private async readDetail(open: OpenJob): Promise<void> {
    if (this.open !== open) return;
    try {
      let batch: JobMetricsBatch;
      do {
        batch = await request('jobMetrics', { folder: open.folder, fromLine: open.nextLine });
        open.metrics = appendMetrics(open.metrics, batch.metrics);
        open.nextLine = batch.nextLine;
      } while (batch.more && this.open === open);
      if (this.open === open) this.renderDetail(batch, open.metrics);
    } catch (error) {
      if (this.open !== open) return;
      this.show(h('div', {}, backButton(() => this.back()), message(error instanceof Error ? error.message : String(error), 'error')));
      this.placeFocus();
    }
  }

  private renderDetail(batch: JobMetricsBatch, metrics: readonly MetricEvent[]): void {
    const row = batch.row;
    let detail = this.detail;
    if (detail === undefined || detail.section.parentNode !== this.root || detail.row.folder !== row.folder) {
      const section = h('section', { 'aria-label': `Fine-tuning job ${row.id}`, 'data-job': row.id });
      this.show(section);
      detail = { section, row, chartsOf: '' };
    } else this.stopPolling();
    this.detail = { ...detail, row };
    // Patched on every change of a running job (twice a second): the buttons that are still
    // offered stay the same elements (a click in progress, the focus), so their handlers read
    // the row on screen when they run.
    const shown = (): JobRow => this.detail?.row ?? row;
    const act = (method: 'cancelJob' | 'resumeJob' | 'useJobAsProfile' | 'evaluateJobAgainstBase') => () => void this.act(method, shown().folder);
    const actions: HTMLElement[] = [backButton(() => this.back())];
    if (row.canCancel) actions.push(button('Cancel', act('cancelJob'), { ariaLabel: `Cancel job ${row.id}` }));
    if (row.canResume) actions.push(button('Resume', act('resumeJob'), { ariaLabel: `Resume job ${row.id}` }));
    // Shown on every job; where they cannot be used (a job not completed, or completed without a
    // model), unavailable (dom.ts button: still reached by Tab) with the reason as their tooltip and accessible description.
    actions.push(
      // The name starts with the words on the button (a user of speech input says them), then says the job.
      button('Evaluate against the base model', act('evaluateJobAgainstBase'), { ariaLabel: `Evaluate against the base model: job ${row.id}`, refusal: row.profileRefusal }),
      button('Use as a model profile', act('useJobAsProfile'), { ariaLabel: `Use as a model profile: job ${row.id}`, secondary: true, refusal: row.profileRefusal }),
    );
    if (row.status === 'completed' && row.evaluation !== undefined) {
      actions.push(
        button('Show the comparison', () => {
          const store = shown().evaluation;
          if (store !== undefined) this.showEvaluation(store);
        }, { ariaLabel: `Show job ${row.id}'s evaluation against its base model`, secondary: true }),
      );
    }
    const hadFocus = detail.section.contains(document.activeElement);
    const placed = patchChildren(
      detail.section,
      h('div', { class: 'toolbar' }),
      // Focusable (not by Tab): the focus goes there when the job is opened.
      h('h2', { tabindex: -1 }, row.id),
      ...(batch.notice === undefined ? [] : [message(batch.notice)]),
      h('p', {}, `${row.status} · ${row.method ?? '?'} · ${row.baseModel ?? '?'} · ${steps(row)} · last loss ${row.lastLoss === undefined ? '—' : row.lastLoss.toFixed(4)}`),
      // The status and progress said to a screen reader (built empty: the one on screen stays, its text changes).
      h('div', { role: 'status', class: 'visually-hidden' }),
      ...(row.message === undefined ? [] : [message(row.message, row.status === 'failed' ? 'error' : 'muted')]),
      ...(row.checkpoint === undefined ? [] : [h('p', { class: 'muted small' }, `Checkpoint (step ${row.checkpointStep ?? '?'}): ${row.checkpoint}`)]),
      h('div', { class: 'job-charts' }),
      h('h3', {}, 'Log (last lines)'),
      // The log's block is built empty, the same each time, so the one on screen stays and its lines are followed.
      batch.logTail === '' ? message('No log yet.') : h('pre', { class: 'text-block log', 'aria-label': `Log of job ${row.id}`, tabindex: 0 }),
    );
    const [toolbar, heading] = placed;
    if (toolbar instanceof HTMLElement) patchChildren(toolbar, ...actions);
    const live = placed.find((part): part is HTMLElement => part instanceof HTMLElement && part.getAttribute('role') === 'status');
    const said = progressWords(row);
    if (live !== undefined && live.textContent !== said) live.textContent = said;
    // A button that had the focus and is no longer offered (Cancel once the job is cancelled): the focus goes to the job's heading, not to the body.
    if (hadFocus && !detail.section.contains(document.activeElement) && heading instanceof HTMLElement) heading.focus();
    this.placeFocus();
    const log = placed.at(-1);
    if (batch.logTail !== '' && log instanceof HTMLElement) showLog(log, batch.logTail);
    this.drawCharts(detail.section.querySelector<HTMLElement>('.job-charts'), metrics);
    if (this.shown && (row.status === 'queued' || row.status === 'running' || row.status === 'cancelling')) {
      const folder = row.folder;
      this.poll = setTimeout(() => {
        if (this.open?.folder === folder) void this.loadDetail();
      }, 3000);
    }
  }

  /** The loss and learning-rate charts, drawn again only when there are new metrics (a job's state alone changing leaves them). */
  private drawCharts(box: HTMLElement | null, metrics: readonly MetricEvent[]): void {
    const detail = this.detail;
    if (box === null || detail === undefined) return;
    const series = metricSeries(metrics);
    const of = JSON.stringify(series);
    if (of === detail.chartsOf && box.childElementCount > 0) return;
    this.destroyCharts();
    const loss = lineChart(series.loss, { title: 'Training loss', xTitle: 'step', yTitle: 'loss', empty: 'no loss logged yet.', format: (v) => v.toFixed(4) });
    const learningRate = lineChart(series.learningRate, { title: 'Learning rate', xTitle: 'step', yTitle: 'learning rate', empty: 'no learning rate logged yet.', format: (v) => v.toExponential(2), tickFormat: (v) => v.toExponential(1) });
    box.replaceChildren(loss.element, learningRate.element);
    this.charts = [loss.chart, learningRate.chart].filter((c): c is Chart => c !== undefined);
    detail.chartsOf = of;
  }

  private async act(method: 'cancelJob' | 'resumeJob' | 'useJobAsProfile' | 'evaluateJobAgainstBase', folder: string): Promise<void> {
    try {
      const done = await request(method, { folder });
      if (method === 'evaluateJobAgainstBase' && done) {
        // The evaluation ran: show its comparison (the job now names its store).
        const { row } = await request('jobMetrics', { folder, fromLine: Number.MAX_SAFE_INTEGER });
        if (row.evaluation !== undefined) {
          this.showEvaluation(row.evaluation);
          return;
        }
      }
      await this.loadDetail();
    } catch (error) {
      this.root.prepend(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }

  /** Draws the tab anew (the list, a job, the form or an error). */
  private show(element: HTMLElement): void {
    this.stopPolling();
    this.destroyCharts();
    this.list = undefined;
    this.listed = undefined;
    this.detail = undefined;
    clear(this.root);
    this.root.appendChild(element);
  }

  private stopPolling(): void {
    if (this.poll !== undefined) clearTimeout(this.poll);
    this.poll = undefined;
  }

  private destroyCharts(): void {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }
}

/**
 * Puts the log's new tail in its block: the new lines are appended and the lines that fell out
 * of the tail removed, the view held on the line it showed; the block stays scrolled to the
 * bottom only if it was there (a new block starts at the bottom, on the last lines).
 */
function showLog(block: HTMLElement, tail: string): void {
  const atBottom = block.scrollHeight - block.clientHeight - block.scrollTop <= 2;
  const text = block.firstChild;
  const step = text instanceof Text && block.childNodes.length === 1 ? followLog(text.data, tail) : block.childNodes.length === 0 ? { drop: 0, append: tail } : undefined;
  if (step === undefined) block.textContent = tail;
  else {
    const node = text instanceof Text ? text : block.appendChild(document.createTextNode(''));
    if (step.drop > 0) {
      const height = block.scrollHeight;
      node.deleteData(0, step.drop);
      if (!atBottom) block.scrollTop -= height - block.scrollHeight;
    }
    if (step.append !== '') node.appendData(step.append);
  }
  if (atBottom) block.scrollTop = block.scrollHeight;
}

/** ← Jobs: back to the list, heard as "Back to Jobs" (not the arrow's name). */
function backButton(back: () => void): HTMLElement {
  return button('← Jobs', back, { secondary: true, ariaLabel: 'Back to Jobs', focusId: 'back-to-jobs' });
}

/**
 * What the job's live region says: its status, and while it runs with a known number of steps,
 * the tenth of them done (10 %, 20 %, …). A training job logs a step about twice a second: each
 * step said would drown the screen reader; a status change and at most ten progress notes a job
 * are what a user waiting for it wants to hear. The text changes only when one of them does.
 */
function progressWords(row: JobRow): string {
  const total = row.stepsTotal;
  if (row.status !== 'running' || total === undefined || total <= 0) return `Job ${row.id} ${row.status}.`;
  const tenths = Math.floor((10 * Math.min(row.stepsDone, total)) / total);
  return `Job ${row.id} running: ${tenths * 10} % of ${total} steps done.`;
}

/** The jobs whose status changed since `before` (the list drawn last; none when it was not on screen), as a sentence each. */
function statusChanges(before: ReadonlyMap<string, JobRow> | undefined, rows: readonly JobRow[]): string {
  if (before === undefined) return '';
  return rows
    .filter((row) => {
      const was = before.get(row.folder);
      return was !== undefined && was.status !== row.status;
    })
    .map((row) => `Job ${row.id} ${row.status}.`)
    .join(' ');
}

function steps(row: JobRow): string {
  return `step ${row.stepsDone}${row.stepsTotal === undefined ? '' : `/${row.stepsTotal}`}`;
}

const jobColumns = ['Job', 'Status', 'Method', 'Base model', 'Steps', 'Last loss', 'Checkpoint'];

/** The jobs table without its rows (the same each time, so the table on screen is kept). */
function jobTableShell(): HTMLElement {
  return h('table', { 'aria-label': 'Fine-tuning jobs' }, h('thead', {}, h('tr', {}, ...jobColumns.map((t) => h('th', { scope: 'col' }, t)))), h('tbody'));
}

/**
 * Puts the rows of `rows` in `table`: a job's row stays the same element, and in it each cell
 * that did not change (a running job's link, while its step and loss cells change).
 */
function patchJobRows(table: HTMLTableElement, rows: readonly JobRow[], open: (folder: string) => void): void {
  const body = table.tBodies[0];
  if (body === undefined) return;
  // The folder is in the row's attributes: a kept row (and its link's handler) is the same job.
  const placed = patchChildren(body, ...rows.map((row) => h('tr', { 'data-job': row.id, 'data-folder': row.folder })));
  rows.forEach((row, index) => {
    const tr = placed[index];
    if (!(tr instanceof HTMLElement)) return;
    const link = h('a', { href: '#', class: 'link' }, row.id);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      open(row.folder);
    });
    patchChildren(
      tr,
      h('td', {}, link),
      h('td', {}, row.status),
      h('td', {}, row.method ?? '?'),
      h('td', { title: row.baseModel ?? '' }, row.baseModel ?? '?'),
      h('td', {}, steps(row).replace('step ', '')),
      h('td', {}, row.lastLoss === undefined ? '—' : row.lastLoss.toFixed(4)),
      h('td', { title: row.checkpoint ?? '' }, row.checkpointStep === undefined ? '—' : `step ${row.checkpointStep}`),
    );
  });
}
