/** The Fine-tuning tab. Jobs are read through the fine-tuning job model once it is part of CoI Studio; until then the tab says so, with no invented data. */
import { clear, h, message } from './dom';
import { request } from './rpc';

export class JobsTab {
  constructor(private readonly root: HTMLElement) {}

  async render(): Promise<void> {
    try {
      const view = await request('listJobs', {});
      const parts: HTMLElement[] = [
        message(
          view.jobs.length === 0
            ? 'No fine-tuning jobs in this workspace. A fine-tuning job keeps its folder under .coi-jobs/<name>/ of the workspace; jobs show here with their status, loss and learning-rate charts once this build includes the fine-tuning engine (not yet: this version cannot start or read jobs).'
            : 'Fine-tuning job folders found. This build cannot read a job yet (the fine-tuning engine is not part of it), so only their names are shown:',
        ),
      ];
      if (view.jobs.length > 0) parts.push(h('ul', { 'aria-label': 'Fine-tuning job folders' }, ...view.jobs.map((j) => h('li', { title: j.folder }, j.name))));
      if (view.searched.length > 0) parts.push(h('p', { class: 'muted small' }, `Looked in: ${view.searched.join(', ')}`));
      clear(this.root);
      this.root.appendChild(h('section', { 'aria-label': 'Fine-tuning' }, ...parts));
    } catch (error) {
      clear(this.root);
      this.root.appendChild(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }
}
