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
import type { PanelState, PanelTab } from '../protocol';
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

onEvent((event) => {
  if (event.event === 'showTab') select(event.tab, true);
  else if (event.event === 'runsChanged' && current === 'runs') void runs.refresh();
  else if (event.event === 'evalsChanged' && current === 'evals') void evals.refresh(event.store);
  else if (event.event === 'jobChanged' && current === 'jobs') void jobs.changed(event.folder);
  else if (event.event === 'activeChainChanged' && current === 'models') void models.render();
});

const app = document.getElementById('app') ?? document.body;
app.replaceChildren(tablist, ...panels.values());
app.removeAttribute('aria-busy');
select(current);
