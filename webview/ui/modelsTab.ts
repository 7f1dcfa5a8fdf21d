/**
 * The Models tab: the open chain's profiles, the selected model, GGUF files found, and the compute the local worker detects.
 * Drawn anew on each change (Detect compute, another chain in the editor): the focused control keeps the focus (dom.ts `replaceKeepingFocus`).
 */
import { button, h, message, replaceKeepingFocus } from './dom';
import type { ComputeView, ModelsView } from '../protocol';
import { request } from './rpc';

export class ModelsTab {
  private compute: ComputeView | string | undefined;

  constructor(private readonly root: HTMLElement) {}

  async render(): Promise<void> {
    let view: ModelsView;
    try {
      view = await request('models', {});
    } catch (error) {
      replaceKeepingFocus(this.root, message(error instanceof Error ? error.message : String(error), 'error'));
      return;
    }
    const profiles =
      view.profiles.length === 0
        ? message(view.chainFile === undefined ? 'Open a .coi file to see its model profiles.' : 'This chain declares no model profiles (runs use coi.defaultModel or the model picked with CoI: Select Model).')
        : h(
            'table',
            { class: 'grid', 'aria-label': 'Model profiles of the open chain' },
            h('thead', {}, h('tr', {}, ...['Profile', 'Provider', 'Model'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...view.profiles.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.name, p.isDefault ? h('span', { class: 'muted small' }, ' (default)') : null), h('td', {}, p.provider), h('td', { class: 'ellipsis', title: p.model }, p.model)))),
          );
    const files =
      view.ggufFiles.length === 0
        ? message('No GGUF files found.')
        : h(
            'table',
            { class: 'grid', 'aria-label': 'GGUF model files found' },
            h('thead', {}, h('tr', {}, ...['File', 'Size', 'Found in'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...view.ggufFiles.map((f) => h('tr', {}, h('td', { class: 'ellipsis', title: f.path }, f.path.replace(/^.*[\\/]/, '')), h('td', { class: 'num' }, formatBytes(f.sizeBytes)), h('td', { class: 'ellipsis', title: f.folder }, f.folder)))),
          );
    const searched = h('ul', { class: 'muted small', 'aria-label': 'Folders searched for GGUF files' }, ...view.searched.map((s) => h('li', {}, `${s.folder} (${s.why})${s.exists ? '' : ' — does not exist'}`)));
    const computePart = this.computePart();
    replaceKeepingFocus(
      this.root,
      h(
        'section',
        { 'aria-label': 'Models' },
        h('h3', {}, 'Open chain'),
        h('p', {}, view.chainFile ?? 'No .coi file open.'),
        h('p', {}, h('strong', {}, 'Selected model: '), view.selected),
        profiles,
        h('h3', {}, 'GGUF files'),
        files,
        searched,
        h('h3', {}, 'Compute'),
        computePart,
      ),
    );
  }

  private computePart(): HTMLElement {
    // Named by its words (the focus id finds it again once it says Detect again); what it does as its description and tooltip.
    const detect = button(this.compute === undefined ? 'Detect compute' : 'Detect again', () => void this.detect(), { focusId: 'detect-compute' });
    detect.setAttribute('aria-description', 'Asks the local model worker which compute it can use');
    detect.title = 'Ask the local model worker which compute it can use';
    if (this.compute === undefined) return h('div', {}, message('Starts the local model worker and asks what it can use (CUDA, Metal, Vulkan or CPU).'), detect);
    if (typeof this.compute === 'string') return h('div', {}, message(this.compute, 'error'), detect);
    const c = this.compute;
    const rows: [string, string][] = [
      ['Backend', c.gpu === 'cpu' ? 'CPU only' : c.gpu.toUpperCase()],
      ['Devices', c.gpuDevices.length > 0 ? c.gpuDevices.join(', ') : '–'],
      ['VRAM', c.vramBytes > 0 ? formatBytes(c.vramBytes) : '–'],
      ['CPU math cores', String(c.cpuMathCores)],
      ['Threads', String(c.maxThreads)],
      ['node-llama-cpp', c.nodeLlamaCppVersion],
    ];
    return h('div', {}, h('table', { class: 'grid', 'aria-label': 'Detected compute' }, h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v))))), detect);
  }

  private async detect(): Promise<void> {
    this.compute = 'Detecting…';
    try {
      this.compute = await request('detectCompute', {});
    } catch (error) {
      this.compute = error instanceof Error ? error.message : String(error);
    }
    await this.render();
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
