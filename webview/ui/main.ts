/**
 * The CoI Studio side panel in the browser: four tabs (Runs, Evaluations, Fine-tuning,
 * Models) as an ARIA tablist with arrow-key navigation. The state (tab, filters, what is
 * open) survives hiding through getState/setState; the data always comes from the extension.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { h } from './dom';
import { EvalsTab } from './evalsTab';
import { JobsTab } from './jobsTab';
import { ModelsTab } from './modelsTab';
import type { EventMessage, PanelState, PanelTab } from '../protocol';
import { loadState, onEvent, saveState } from './rpc';
import { RunsTab } from './runsTab';

const tabs: readonly { id: PanelTab; title: string }[] = [
  { id: 'runs', title: 'Runs' },
  { id: 'evals', title: 'Evaluations' },
  { id: 'jobs', title: 'Fine-tuning' },
  { id: 'models', title: 'Models' },
];

const saved = loadState();
let current: PanelTab = saved?.tab ?? 'runs';
const panels = new Map(tabs.map((t) => [t.id, h('div', { role: 'tabpanel', id: `panel-${t.id}`, 'aria-labelledby': `tab-${t.id}`, class: 'tabpanel', tabindex: 0 })]));
const panel = (id: PanelTab): HTMLElement => panels.get(id) ?? h('div');

const persist = (): void => {
  const state: PanelState = { tab: current, ...runs.state(), ...evals.state(), ...jobs.state() };
  saveState(state);
};
const runs = new RunsTab(panel('runs'), saved, persist);
const evals = new EvalsTab(panel('evals'), saved, persist);
const jobs = new JobsTab(panel('jobs'), saved, persist, (store) => {
  evals.open(store);
  select('evals', true);
});
const models = new ModelsTab(panel('models'));

const tabButtons = tabs.map((t) =>
  h('button', { role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`, type: 'button', class: 'tab', 'data-tab': t.id }, t.title),
);

function select(tab: PanelTab, focus = false): void {
  current = tab;
  for (const button of tabButtons) {
    const selected = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    if (selected && focus) button.focus();
  }
  for (const [id, element] of panels) element.hidden = id !== tab;
  // A tab out of sight reads nothing (the jobs tab's 3 s re-read of an active job stops); chosen again, it is read at once.
  if (tab !== 'jobs') jobs.hide();
  persist();
  void renderTab(tab);
}

function renderTab(tab: PanelTab): Promise<void> {
  switch (tab) {
    case 'runs':
      return runs.render();
    case 'evals':
      return evals.render();
    case 'jobs':
      return jobs.render();
    case 'models':
      return models.render();
  }
}

const tablist = h('div', { role: 'tablist', 'aria-label': 'CoI Studio', class: 'tablist' }, ...tabButtons);
tablist.addEventListener('click', (event) => {
  const tab = (event.target as HTMLElement).closest<HTMLElement>('[role=tab]')?.dataset.tab as PanelTab | undefined;
  if (tab !== undefined) select(tab);
});
// Arrow keys move between tabs (WAI-ARIA tabs pattern); Home/End jump to the ends.
tablist.addEventListener('keydown', (event) => {
  const index = tabs.findIndex((t) => t.id === current);
  const next = event.key === 'ArrowRight' ? index + 1 : event.key === 'ArrowLeft' ? index - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? tabs.length - 1 : undefined;
  if (next === undefined) return;
  event.preventDefault();
  const target = tabs[(next + tabs.length) % tabs.length];
  if (target !== undefined) select(target.id, true);
});

/**
 * The changes the extension told of while the panel's document was hidden, by what changed:
 * each is read once when it is visible again, not as it came.
 */
const missed = new Map<string, EventMessage>();

function changed(event: EventMessage): void {
  if (event.event === 'showTab') return select(event.tab, true);
  if (document.visibilityState === 'hidden') {
    // The jobs tab is read anew anyway when the panel is visible again.
    if (event.event !== 'jobChanged') missed.set(event.event === 'evalsChanged' ? `${event.event} ${event.store}` : event.event, event);
    return;
  }
  if (event.event === 'runsChanged' && current === 'runs') void runs.refresh();
  else if (event.event === 'evalsChanged' && current === 'evals') void evals.refresh(event.store);
  else if (event.event === 'jobChanged' && current === 'jobs') void jobs.changed(event.folder);
  else if (event.event === 'activeChainChanged' && current === 'models') void models.render();
}

onEvent(changed);

// A narrow side bar: a control focused inside a side-scrolling box (a table's scroller, the tab
// list) is scrolled wholly into view there, not left cut off at its edge (the browser scrolls
// only a control wholly out of view).
document.addEventListener('focusin', (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.closest('.table-scroll, .tablist') !== null) target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
});

// The panel's document hidden (VS Code's window minimised, a web VS Code's browser tab in the
// background) reads nothing; visible again, the shown tab reads what changed meanwhile at once,
// and the jobs tab its list or open job (a job can end without a file changing). A view that is
// collapsed or moved out of sight is another matter: VS Code drops its document (the view does
// not retain its context when hidden), and shown again, the panel starts over from its state.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    jobs.hide();
    return;
  }
  const events = [...missed.values()];
  missed.clear();
  for (const event of events) changed(event);
  if (current === 'jobs') void jobs.render();
});

const app = document.getElementById('app') ?? document.body;
app.replaceChildren(tablist, ...panels.values());
app.removeAttribute('aria-busy');
select(current);
