// Restricted Mode: in a workspace the user does not trust, CoI Studio still checks and edits
// .coi files, but refuses to run chains (a run loads the model files and calls the endpoints
// the workspace names, with the user's API keys), and ignores the workspace's model settings
// (package.json: capabilities.untrustedWorkspaces = limited, restrictedConfigurations).
// These tests run against a code-server with workspace trust enabled (see `workspaceTrust`).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyModel } from '../rig/tinyModel';
import type { UiTest } from './index';
import type { Workbench } from './workbench';

/**
 * A real model and a workspace setting that selects it: in a trusted workspace runs would
 * use it (run.e2e.ts); here the setting must be ignored and nothing loaded.
 */
function workspaceNamesAModel(workspace: string): void {
  const model = writeTinyModel(join(workspace, '.models', 'tiny.gguf'));
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'coi.defaultModel': model, 'coi.local.threads': 1 }, null, 2));
}

/** Answers the workspace trust dialog ("Do you trust the authors…?") with "No". */
async function openInRestrictedMode(wb: Workbench): Promise<void> {
  const dialog = wb.page.locator('.monaco-dialog-box', { hasText: /trust the authors/i });
  await dialog.waitFor({ state: 'visible', timeout: 60_000 });
  await dialog.locator('.monaco-button', { hasText: /don.t trust/i }).first().click();
  await dialog.waitFor({ state: 'hidden' });
  // The workbench says it is in Restricted Mode (status bar indicator).
  await wb.page.locator('.part.statusbar', { hasText: 'Restricted Mode' }).waitFor({ state: 'visible' });
}

/** Processes descending from `rootPid` (by parent id, read from /proc) whose command line contains `needle`. */
function descendantsRunning(rootPid: number, needle: string): string[] {
  const children = new Map<number, number[]>();
  const cmdlines = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const pid = Number(name);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      cmdlines.set(pid, readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      /* the process ended while we read */
    }
  }
  const found: string[] = [];
  const queue = [...(children.get(rootPid) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const cmd = cmdlines.get(pid) ?? '';
    if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The texts of the inline previews (decorations after the text) in the active editor. */
async function previewTexts(wb: Workbench): Promise<string[]> {
  return wb.editor().evaluate((root) => {
    const texts: string[] = [];
    for (const span of Array.from(root.querySelectorAll('.view-lines .view-line span span'))) {
      for (const pseudo of ['::before', '::after']) {
        const content = getComputedStyle(span, pseudo).content;
        if (content && content !== 'none' && content !== 'normal' && content !== '""') texts.push(content.replace(/^"|"$/g, '').trim());
      }
    }
    return texts;
  });
}

export const tests: UiTest[] = [
  {
    name: 'restricted mode: an untrusted workspace still shows problems, ignores the workspace model setting, and refuses to run or evaluate with a Manage Workspace Trust button',
    workspaceTrust: true,
    setup: workspaceNamesAModel,
    async run(wb, { serverPid }) {
      await openInRestrictedMode(wb);

      // (1) Language features keep working: the Problems panel lists broken.coi's errors.
      await wb.openFile('broken.coi');
      await wb.showProblems();
      await wb.waitForProblems(
        (ps) => ps.some((p) => p.line === 8 && p.severity === 'error' && /unterminated string/i.test(p.message)) && ps.some((p) => p.line === 13 && /summry/.test(p.message)),
        'the errors at lines 8 and 13 of broken.coi',
      );

      // (3) coi.defaultModel is a restricted setting: the workspace's value is not used, so the
      // model status bar item says there is no model (run.e2e.ts shows tiny.gguf with the same settings).
      await wb.openFile('run-demo.coi');
      const modelItem = wb.page.locator('.part.statusbar [id$="coi.model"]');
      await modelItem.filter({ hasText: 'no model' }).waitFor({ state: 'visible' });
      assert.doesNotMatch(await modelItem.innerText(), /tiny\.gguf/);

      // (2) Running is refused at once — before asking for inputs that could not be used — with
      // an error notification and a button to manage workspace trust.
      const run = wb.editor().locator('.codelens-decoration a', { hasText: /^\W*Run$/ }).first();
      await run.waitFor({ state: 'visible' });
      await run.click();
      const toast = wb.page.locator('.notification-toast', { hasText: /Running chains is disabled in Restricted Mode/ }).first();
      await toast.waitFor({ state: 'visible' });
      const manage = toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' });
      await manage.waitFor({ state: 'visible' });
      assert.equal(await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Inputs of test' }).count(), 0, 'no input picker in Restricted Mode');

      // The refusal comes before any model is loaded: no preview under the steps, and no
      // inference worker among the code-server's processes.
      const previews = await previewTexts(wb);
      assert.ok(!previews.some((p) => /^[✓✗⟳⊘·]/.test(p)), `no step preview after a refused run: ${JSON.stringify(previews)}`);
      if (serverPid !== undefined) {
        const workers = descendantsRunning(serverPid, 'dist/worker.js');
        assert.deepEqual(workers, [], 'no inference worker was started');
      }
      assert.ok(!(await wb.page.locator('.notification-toast', { hasText: /^Running run_demo/ }).isVisible()), 'no run progress notification');

      // An evaluation is refused the same way, before any question (issue 9: Restricted Mode).
      const evaluate = wb.editor().locator('.codelens-decoration a', { hasText: /Evaluate/ }).first();
      await evaluate.waitFor({ state: 'visible' });
      await evaluate.click();
      const evalToast = wb.page.locator('.notification-toast', { hasText: /Evaluations are disabled in Restricted Mode/ }).first();
      await evalToast.waitFor({ state: 'visible' });
      await evalToast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).waitFor({ state: 'visible' });
      assert.equal(await wb.page.locator('.quick-input-widget:visible').count(), 0, 'no evaluation question in Restricted Mode');
      if (serverPid !== undefined) assert.deepEqual(descendantsRunning(serverPid, 'dist/worker.js'), [], 'no inference worker was started by the evaluation');

      // The button opens the Workspace Trust editor, where the user can trust the folder.
      await manage.click();
      await wb.page.locator('.workspace-trust-editor .workspace-trust-title', { hasText: 'You are in Restricted Mode' }).waitFor({ state: 'visible' });
    },
  },
];
