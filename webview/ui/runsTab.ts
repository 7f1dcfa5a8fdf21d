/** The Runs tab: recorded runs, a run's steps, and two runs compared word by word. */
import { button, focusById, h, labelledBlock, listen, message, patchChildren, replaceFocusing, replaceKeepingFocus, select, textBlock } from './dom';
import { formatDuration, pairSteps, runNames } from '../model/runs';
import { wordDiff, type DiffSegment } from '../model/wordDiff';
import type { PanelState, RunDetail, RunFilter, RunList, RunRow, RunStepView } from '../protocol';
import { request } from './rpc';
import { PARTIAL_OUTPUT_NOTE, partialOutputHeading } from '../../core/runner/failure';

/** Columns a narrow side bar leaves out (the run's own view shows them). */
const wideOnly = new Set(['Mode', 'Model', 'Duration']);

type View = { kind: 'list' } | { kind: 'run'; id: string } | { kind: 'compare'; a: string; b: string };

export class RunsTab {
  private filter: RunFilter;
  private view: View;
  /** The run whose "Compare with…" was pressed: the next run picked is compared with it. */
  private comparing: string | undefined;
  /** The run list on screen: patched when run records change (the filters, Refresh and the unchanged rows stay). */
  private list: HTMLElement | undefined;
  /** The list's live region ("3 runs shown", "No run matches these filters."): one element, its text updated in place so that a screen reader says it. */
  private listStatus: HTMLElement | undefined;
  /** The focus id of the run's link that opened a run or a comparison: Back returns the focus to it. */
  private returnTo: string | undefined;
  /** The sequence number of the last read asked for, and of the answer on screen (protocol.ts `Sequenced`). */
  private asked = 0;
  private shown = 0;

  constructor(
    private readonly root: HTMLElement,
    state: PanelState | undefined,
    private readonly onStateChange: () => void,
  ) {
    this.filter = state?.runFilter ?? {};
    this.view = state?.compare !== undefined ? { kind: 'compare', a: state.compare[0], b: state.compare[1] } : state?.openRun !== undefined ? { kind: 'run', id: state.openRun } : { kind: 'list' };
  }

  state(): Pick<PanelState, 'runFilter' | 'openRun' | 'compare'> {
    return {
      runFilter: this.filter,
      ...(this.view.kind === 'run' ? { openRun: this.view.id } : {}),
      ...(this.view.kind === 'compare' ? { compare: [this.view.a, this.view.b] as const } : {}),
    };
  }

  /**
   * Reads what the view shows and draws it. Reads overlap (the list is read again on every
   * change of the run records, and at once when a filter changes) and may finish out of
   * order: an answer is drawn only if no newer one is on screen and the user is still on the
   * view it was asked for (an older list must not overwrite a newer one, nor a run just opened).
   */
  async render(): Promise<void> {
    const view = this.view;
    const seq = ++this.asked;
    try {
      if (view.kind === 'list') {
        const list = await request('listRuns', { ...this.filter, seq });
        if (this.current(view, list.seq)) this.showList(list);
      } else if (view.kind === 'run') {
        const run = await request('openRun', { id: view.id });
        if (this.current(view, seq)) this.show(this.runView(run));
      } else {
        const [a, b] = [await request('openRun', { id: view.a }), await request('openRun', { id: view.b })];
        if (this.current(view, seq)) this.show(this.compareView(a, b));
      }
    } catch (error) {
      if (this.current(view, seq)) this.show(h('div', {}, message(error instanceof Error ? error.message : String(error), 'error'), button('Back to Runs', () => this.go({ kind: 'list' }), { secondary: true })));
    }
  }

  /** Whether the answer to read `seq`, asked for `view`, is to be drawn: the user is still on that view and nothing newer is on screen. If so, it is now the one on screen. */
  private current(view: View, seq: number): boolean {
    if (this.view !== view || seq < this.shown) return false;
    this.shown = seq;
    return true;
  }

  /** The extension says run records changed: only the list needs redrawing. */
  async refresh(): Promise<void> {
    if (this.view.kind === 'list') await this.render();
  }

  private go(view: View): void {
    this.view = view;
    this.onStateChange();
    void this.render();
  }

  private show(content: HTMLElement): void {
    replaceKeepingFocus(this.root, content);
  }

  /**
   * Shows the run list, patched when it is on screen already: the filter dropdowns stay the
   * same elements (open, focused, with their choice) while their options are the same, and
   * so do Refresh and the rows of the runs that did not change; a new run's row is put in
   * among them. Their handlers read the filter and the run being compared when they run.
   */
  private showList(list: RunList): void {
    let section = this.list;
    let status = this.listStatus;
    // A new list (the tab drawn, Back from a run) is filled before it is shown, so the focus can go to its row at once.
    const fresh = section === undefined || status === undefined || section.parentNode !== this.root;
    if (fresh) {
      section = h('section', { 'aria-label': 'Runs' });
      status = h('p', { class: 'muted small', role: 'status' });
      this.list = section;
      this.listStatus = status;
    }
    if (section === undefined || status === undefined) return;
    const chainSelect = select('Filter runs by chain', [{ value: '', text: 'All chains' }, ...list.chains.map((c) => ({ value: c, text: c }))], this.filter.chain ?? '', (value) => {
      this.filter = { ...this.filter, ...(value === '' ? { chain: undefined } : { chain: value }) };
      this.go({ kind: 'list' });
    });
    const statusSelect = select('Filter runs by status', [{ value: '', text: 'Any status' }, { value: 'ok', text: 'Succeeded' }, { value: 'failed', text: 'Failed' }, { value: 'cancelled', text: 'Cancelled' }], this.filter.status ?? '', (value) => {
      this.filter = { ...this.filter, status: value === 'ok' || value === 'failed' || value === 'cancelled' ? value : undefined };
      this.go({ kind: 'list' });
    });
    const banner = this.comparing !== undefined ? h('p', { class: 'banner', role: 'status' }, `Pick the run to compare with ${this.comparing}. `, button('Cancel', () => this.cancelCompare(), { secondary: true, ariaLabel: 'Cancel comparing' })) : null;
    const none = list.total === 0 ? 'No runs recorded yet. Run a chain (CoI: Run Chain, or coi run FILE) and it appears here.' : 'No run matches these filters.';
    const shown = list.runs.length;
    // Said politely when it changes (a filter chosen, a run recorded), the focus staying where it is.
    const said = shown === 0 ? none : shown === list.total ? `${shown} run${shown === 1 ? '' : 's'} shown` : `${shown} of ${list.total} runs shown`;
    if (status.textContent !== said) status.textContent = said;
    // The table without its label and rows, built the same each time, so the one on screen is kept.
    const shell = h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Status', 'Chain', 'Mode', 'Model', 'Started', 'Duration'].map((t) => h('th', { scope: 'col', class: wideOnly.has(t) ? 'wide-only' : undefined }, t)),
            // The column of the Compare… buttons: its header is heard ("Compare"), not seen (the buttons say it).
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Compare')),
          ),
        ),
        h('tbody'),
      ),
    );
    const [toolbar, ...rest] = patchChildren(section, h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Run filters' }), status, ...(banner === null ? [] : [banner]), ...(shown === 0 ? [] : [shell]));
    if (toolbar instanceof HTMLElement) patchChildren(toolbar, chainSelect, statusSelect, button('Refresh', () => void this.render(), { secondary: true, ariaLabel: 'Refresh the run list' }));
    const last = rest.at(-1);
    const table = last instanceof HTMLElement ? last.querySelector('table') : null;
    if (table !== null) {
      table.setAttribute('aria-label', `Recorded runs, newest first (${list.runs.length} of ${list.total})`);
      const body = table.tBodies[0];
      const names = runNames(list.runs);
      if (body !== undefined) patchChildren(body, ...list.runs.map((run) => this.runRow(run, names.get(run.id) ?? run.id)));
    }
    const returnTo = this.returnTo;
    this.returnTo = undefined;
    if (!fresh) return;
    if (returnTo !== undefined) replaceFocusing(this.root, returnTo, section);
    else this.show(section);
  }

  /** Cancel in the banner: the focus goes back to the Compare… button it came from (the banner and Cancel go). */
  private cancelCompare(): void {
    const comparing = this.comparing;
    this.comparing = undefined;
    if (comparing !== undefined && this.root.contains(document.activeElement)) focusById(this.root, `compare ${comparing}`);
    void this.render();
  }

  /** Opens a run or a comparison from the run's link: Back comes back to that link. */
  private open(view: View, from: string): void {
    this.returnTo = `open ${from}`;
    this.go(view);
  }

  /** A run's row; `name` (model/runs.ts `runNames`) tells it from the others, also two runs of a chain started in the same second. */
  private runRow(run: RunRow, name: string): HTMLElement {
    // The focus comes back by the run's id (a name may change: a run of the same chain and second comes in).
    const open = listen(h('a', { href: '#', class: 'link', 'aria-label': `Open ${name}`, 'data-focus-id': `open ${run.id}` }, run.chain), 'click', (event) => {
      event.preventDefault();
      if (this.comparing !== undefined && this.comparing !== run.id) {
        const first = this.comparing;
        this.comparing = undefined;
        this.open({ kind: 'compare', a: first, b: run.id }, run.id);
      } else this.open({ kind: 'run', id: run.id }, run.id);
    });
    // Each name starts with the words on the button (WCAG 2.5.3, label in name: "click Compare" works with speech input).
    const comparing = this.comparing === run.id;
    const compare = button(comparing ? 'Comparing…' : 'Compare…', () => {
      this.comparing = run.id;
      void this.render();
    }, { secondary: true, ariaLabel: comparing ? `Comparing the ${name}: pick the run to compare it with` : `Compare the ${name} with another run`, focusId: `compare ${run.id}` });
    return h(
      'tr',
      { 'data-run': run.id, class: this.comparing === run.id ? 'selected' : undefined },
      h('td', {}, statusBadge(run.status)),
      h('td', {}, open, run.origin === 'editor' ? h('span', { class: 'muted small' }, ' (editor)') : null),
      h('td', { class: 'wide-only' }, run.mode),
      h('td', { class: 'ellipsis wide-only', title: run.model }, shortModel(run.model)),
      h('td', {}, new Date(run.startedAt).toLocaleString()),
      h('td', { class: 'wide-only' }, formatDuration(run.durationMs)),
      h('td', {}, compare),
    );
  }

  private runView(run: RunDetail): HTMLElement {
    const header = h(
      'div',
      { class: 'toolbar' },
      backButton(() => this.go({ kind: 'list' })),
      h('h2', {}, run.row.chain, ' ', statusBadge(run.row.status)),
    );
    const facts = h(
      'dl',
      { class: 'facts' },
      ...fact('Started', new Date(run.row.startedAt).toLocaleString()),
      ...fact('Mode', run.row.mode),
      ...fact('Model', `${run.backend}: ${run.row.model}`),
      ...fact('Template', run.template),
      ...fact('Duration', formatDuration(run.row.durationMs)),
      ...fact('Model calls', String(run.modelCalls)),
      ...(run.row.file !== undefined ? fact('File', run.row.file) : []),
      ...(run.rerunFrom !== undefined ? fact('Re-run from', run.rerunFrom) : []),
      ...(run.stopAfter !== undefined ? fact('Stopped after', run.stopAfter) : []),
    );
    const inputs = Object.entries(run.inputs);
    const parts: (HTMLElement | null)[] = [
      header,
      facts,
      run.error !== undefined ? message(run.error, 'error') : null,
      ...run.warnings.map((w) => h('p', { class: 'warning', role: 'note' }, `⚠ ${w}`)),
      inputs.length > 0 ? h('details', { class: 'block' }, h('summary', {}, `Inputs (${inputs.length})`), ...inputs.flatMap(([name, value]) => [h('h4', {}, name), textBlock(value, `Input ${name}`)])) : null,
      run.composed !== undefined ? composedBlock(run, run.composed) : null,
      h('h3', {}, `Steps (${run.steps.length})`),
      ...run.steps.map((step) => this.stepView(run, step)),
    ];
    return h('section', { 'aria-label': `Run of ${run.row.chain}` }, ...parts);
  }

  private stepView(run: RunDetail, step: RunStepView): HTMLElement {
    const flags = [step.cached ? 'cached' : '', step.pinned ? 'pinned' : ''].filter((f) => f !== '').join(', ');
    const summary = h('summary', { 'aria-label': `Step ${step.id}, ${step.status}` }, h('strong', {}, step.id), ' ', statusBadge(step.status), ` · ${step.promptTokens}+${step.completionTokens} tokens · ${formatDuration(step.durationMs)}${flags !== '' ? ` · ${flags}` : ''}`);
    const actions = h(
      'div',
      { class: 'toolbar' },
      button('Open chain at step', () => void request('openChainAtStep', { id: run.row.id, step: step.id }).catch(showError(this.root)), { secondary: true, ariaLabel: `Open chain at step ${step.id}` }),
      button('Re-run from here', () => void request('rerunFromStep', { id: run.row.id, step: step.id }).catch(showError(this.root)), { secondary: true, ariaLabel: `Re-run from here: step ${step.id}, with this run's inputs` }),
    );
    return h(
      'details',
      { class: 'step', 'data-step': step.id, open: run.steps.length <= 3 || step.status !== 'ok' },
      summary,
      step.error !== undefined ? message(`${step.error.code}: ${step.error.message}`, 'error') : null,
      ...step.warnings.map((w) => h('p', { class: 'warning', role: 'note' }, `⚠ ${w}`)),
      h('h4', {}, 'Output'),
      step.output !== undefined ? textBlock(step.output, `Output of step ${step.id}`) : message('No output.'),
      ...(step.partialOutput !== undefined ? partialBlock(step.partialOutput, step.status, `step ${step.id}`) : []),
      step.rawOutput !== undefined ? h('details', {}, h('summary', {}, 'Raw model text (before validation)'), textBlock(step.rawOutput, `Raw output of step ${step.id}`)) : null,
      step.prompt !== undefined ? h('details', {}, h('summary', {}, 'Rendered prompt'), textBlock(step.prompt, `Prompt of step ${step.id}`)) : null,
      h('p', { class: 'muted small' }, `Stop reason: ${stopReasonText(step.finishReason)}`),
      actions,
    );
  }

  private compareView(a: RunDetail, b: RunDetail): HTMLElement {
    const header = h(
      'div',
      { class: 'toolbar' },
      backButton(() => this.go({ kind: 'list' })),
      h('h2', {}, `Compare ${a.row.chain} runs`),
    );
    const columns = h('div', { class: 'compare-head' }, h('div', {}, runCaption('A', a)), h('div', {}, runCaption('B', b)));
    const steps = pairSteps(a.steps, b.steps).map(({ id, a: left, b: right }) => {
      const diff = wordDiff(left?.output ?? '', right?.output ?? '');
      const same = left?.output === right?.output;
      return h(
        'section',
        { class: 'compare-step', 'data-step': id, 'aria-label': `Step ${id}: ${same ? 'same output' : `${diff.changedWords} words differ`}` },
        h('h3', {}, id, ' ', h('span', { class: 'muted small' }, same ? 'same output' : `${diff.changedWords} word${diff.changedWords === 1 ? '' : 's'} differ${diff.approximate ? ' (long outputs: only the common start and end are matched)' : ''}`)),
        h('div', { class: 'compare-row' }, diffBlock(diff.left, left, `Step ${id} in run A`), diffBlock(diff.right, right, `Step ${id} in run B`)),
      );
    });
    return h('section', { 'aria-label': 'Two runs compared' }, header, columns, ...steps);
  }
}

/** A composed run's one generation: the prompt, and the raw text, or the partial text streamed before the call stopped. */
function composedBlock(run: RunDetail, composed: NonNullable<RunDetail['composed']>): HTMLElement {
  const partial = composed.rawOutput === undefined && composed.partialOutput !== undefined;
  return h(
    'details',
    { class: 'block composed', open: partial || run.steps.some((s) => s.error?.code === 'missing-marker') },
    h('summary', {}, `Composed generation (before the split) · ${composed.promptTokens}+${composed.completionTokens} tokens · ${formatDuration(composed.durationMs)}${composed.cached ? ' · cached' : ''}`),
    h('h4', {}, 'Prompt'),
    textBlock(composed.prompt, 'Composed prompt'),
    ...(composed.rawOutput !== undefined
      ? [h('h4', {}, 'Raw generation'), textBlock(composed.rawOutput, 'Raw composed generation')]
      : composed.partialOutput !== undefined
        ? partialBlock(composed.partialOutput, run.row.status, 'the composed generation')
        : [message('No text: the generation stopped before the model wrote any.')]),
  );
}

/**
 * What a step (or a composed generation) had streamed before its call failed, timed out or was
 * cancelled: under its own heading, never as the output, as text (textContent), never HTML.
 */
function partialBlock(text: string, status: string, what: string): HTMLElement[] {
  const heading = partialOutputHeading(status);
  return [h('h4', { class: 'partial' }, heading, h('span', { class: 'muted small' }, ` (${PARTIAL_OUTPUT_NOTE})`)), textBlock(text, `${heading}, of ${what}`)];
}

function runCaption(letter: string, run: RunDetail): HTMLElement {
  return h('p', {}, h('strong', {}, `${letter}: `), `${new Date(run.row.startedAt).toLocaleString()} · ${run.row.mode} · ${shortModel(run.row.model)} `, statusBadge(run.row.status));
}

/** "← Runs", back to the run list: its name holds the words on it (WCAG 2.5.3), the arrow is not said. */
function backButton(onClick: () => void): HTMLElement {
  return button('← Runs', onClick, { secondary: true, ariaLabel: 'Back to Runs' });
}

/** Segments as text nodes; the changed words in <mark> (text again, never markup). Named (run A or B, the step) as a group: a screen reader says which side it reads. */
export function diffBlock(segments: readonly DiffSegment[], step: RunStepView | undefined, label: string): HTMLElement {
  const block = labelledBlock(label, 'text-block diff');
  if (step === undefined) block.appendChild(h('span', { class: 'muted' }, '(no such step in this run)'));
  else if (step.output === undefined) block.appendChild(h('span', { class: 'muted' }, `(no output: ${step.status})`));
  else for (const segment of segments) block.appendChild(segment.changed ? h('mark', {}, segment.text) : document.createTextNode(segment.text));
  return block;
}

/**
 * A status as its symbol and its word. A plain `span` has no role that takes a name (ARIA 1.2
 * prohibits `aria-label` there, and screen readers skip it), so the word is the text that is
 * heard: the symbol is hidden from assistive technology, and a narrow side bar hides the word
 * only visually (panel.css), never from a screen reader.
 */
export function statusBadge(status: string): HTMLElement {
  const symbol = status === 'ok' ? '✓' : status === 'failed' ? '✗' : status === 'skipped' ? '–' : '⊘';
  return h('span', { class: `status status-${status}` }, h('span', { 'aria-hidden': 'true' }, symbol), h('span', { class: 'status-word' }, ` ${status}`));
}

function fact(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function shortModel(model: string): string {
  return model.replace(/^.*[\\/]/, '');
}

export function showError(root: HTMLElement): (error: unknown) => void {
  return (error) => {
    const note = message(error instanceof Error ? error.message : String(error), 'error');
    root.prepend(note);
  };
}

/** The finish reason in words; `length`, `content-filter` and `provider-error` are the ones a user must notice (the output was cut). */
function stopReasonText(reason: string | undefined): string {
  if (reason === undefined) return 'not recorded (pinned output, or a run recorded before stop reasons were kept).';
  if (reason === 'length') return 'length — the output was cut at its token bound (max_tokens).';
  if (reason === 'content-filter') return "content filter — the provider's content filter cut the output short: it is incomplete.";
  if (reason === 'provider-error') return 'provider error — the provider ended the output with an error: it is incomplete.';
  if (reason === 'stop-sequence') return 'a stop sequence.';
  return `${reason} — the model ended its answer.`;
}
