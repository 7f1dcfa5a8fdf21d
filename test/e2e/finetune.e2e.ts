// The Fine-tuning tab in the real VS Code, as a user drives it: the New job form refuses
// training data it cannot read (a truncated JSON file) beside the form, with no job made; it starts a
// real CPU fine-tune of a tiny Llama (made in setup with the project's Python environment),
// confirmed in VS Code's modal dialog; the loss chart draws and the steps grow while it
// trains; Cancel stops it with a checkpoint; Resume continues it to the end; "Evaluate
// against the base model" converts both models to GGUF and evaluates them side by side on
// the held-out records beside the training data, and the comparison opens in the
// Evaluations tab. Screenshots go to test-results/panel/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { ensureVenv } from '../../core/finetune';
import { repoPath } from '../helpers/paths';
import type { UiTest } from './index';
import { canvasIsDrawn, openPanel, shoot } from './panel.e2e';
import type { Workbench } from './workbench';

const STEPS = 60;

/** One thread for local models, the dark theme, a tiny Llama made with the training environment (its folder is returned), and data/train.jsonl. */
export async function prepareTinyModel(workspace: string): Promise<string> {
  // One thread for the local models (MACHINE-NOTES: the default is very slow on these 2 shared cores); the dark theme of the screenshots.
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'coi.local.threads': 1, 'workbench.colorTheme': 'Default Dark Modern' }, null, 2));
  const venv = await ensureVenv();
  const examples = repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl');
  const text = join(workspace, 'tokenizer-text.txt');
  const rows = readFileSync(examples, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { prompt: string; completion: string });
  writeFileSync(text, rows.map((r) => `${r.prompt}\n${r.completion}`).join('\n'));
  const made = spawnSync(venv.python, [repoPath('python', 'make_tiny_hf_model.py'), join(workspace, 'tiny-hf'), text], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  mkdirSync(join(workspace, 'data'), { recursive: true });
  copyFileSync(examples, join(workspace, 'data', 'train.jsonl'));
  return join(workspace, 'tiny-hf');
}

async function prepareJobInputs(workspace: string): Promise<void> {
  await prepareTinyModel(workspace);
  // The held-out records `coi dataset build` would write beside it: the paper's format, two chains.
  const records = (JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[]).slice(0, 2);
  writeFileSync(join(workspace, 'data', 'validation.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** The job detail's summary line ("running · full · … · step 12/60 · last loss …"). */
export async function jobLine(frame: FrameLocator): Promise<string> {
  return frame.locator('section[data-job] > p').first().innerText();
}

export async function waitForLine(frame: FrameLocator, pattern: RegExp, timeoutMs: number): Promise<string> {
  await frame.locator('section[data-job] > p').first().filter({ hasText: pattern }).waitFor({ state: 'visible', timeout: timeoutMs });
  return jobLine(frame);
}

function stepOf(line: string): number {
  return Number(/step (\d+)/.exec(line)?.[1] ?? NaN);
}

export async function confirmModal(wb: Workbench, title: RegExp, button: string): Promise<void> {
  const dialog = wb.page.locator('.monaco-dialog-box', { hasText: title });
  await dialog.waitFor({ state: 'visible' });
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: button }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** The panel's Fine-tuning tab, its New job form open with the base model and the data filled in. */
export async function openJobForm(wb: Workbench, baseModel: string, data: string): Promise<{ frame: FrameLocator; form: Locator }> {
  const frame = await openPanel(wb);
  await frame.locator('[role=tab]', { hasText: 'Fine-tuning' }).click();
  await frame.locator('vscode-button[aria-label="New job…"]').click();
  const form = frame.locator('section[aria-label="New fine-tuning job"]');
  await form.waitFor({ state: 'visible' });
  await form.locator('input[aria-label="Base model"]').fill(baseModel);
  await form.locator('input[aria-label="Training data"]').fill(data);
  return { frame, form };
}

export const tests: UiTest[] = [
  {
    name: 'fine-tuning tab: start a tiny job from the form, watch the loss chart grow, cancel, resume, evaluate against the base',
    setup: prepareJobInputs,
    async run(wb, { workspace }) {
      const { frame, form } = await openJobForm(wb, 'tiny-hf', 'data/train.jsonl');
      await form.locator('input[aria-label="Max steps"]').fill(String(STEPS));
      // Settings that make the tiny random model learn visibly in a few dozen steps.
      await form.locator('input[aria-label="Learning rate"]').fill('3e-3');
      await form.locator('input[aria-label="Batch size per device"]').fill('8');
      await form.locator('input[aria-label="Gradient accumulation"]').fill('1');
      await shoot(wb, 'fine-tuning-form');

      // Data the trainer cannot read is refused beside the form, before any job exists.
      writeFileSync(join(workspace, 'data', 'truncated.json'), '[{"instruction": "Summarise", "input": "x", "out');
      await form.locator('input[aria-label="Training data"]').fill('data/truncated.json');
      await form.locator('vscode-button', { hasText: 'Start' }).click();
      await form.locator('p.error[role=alert]', { hasText: /truncated\.json:1:\d+: no training example could be read: invalid JSON/ }).waitFor({ state: 'visible' });
      assert.equal(existsSync(join(workspace, '.coi-jobs')) ? readdirSync(join(workspace, '.coi-jobs')).length : 0, 0, 'no job folder');

      await form.locator('input[aria-label="Training data"]').fill('data/train.jsonl');
      await form.locator('vscode-button', { hasText: 'Start' }).click();
      // The confirmation says what it trains on (converted in the job folder).
      await wb.page.locator('.monaco-dialog-box', { hasText: /Trains on \d+ examples of train\.jsonl \(trl-prompt-completion\)/ }).waitFor({ state: 'visible' });
      await confirmModal(wb, /Start this fine-tuning job\?/, 'Start');

      // The job's detail opens; it trains: the steps grow and the loss chart is drawn.
      const first = await waitForLine(frame, /running · full · .* · step [1-9]\d*\//, 120_000);
      const later = await waitForLine(frame, new RegExp(`step (?!${stepOf(first)}/)\\d+/${STEPS}`), 60_000);
      assert.ok(stepOf(later) > stepOf(first), `${first} → ${later}`);
      assert.equal(await canvasIsDrawn(frame, 0), true, 'the loss chart is drawn');
      await shoot(wb, 'fine-tuning-running');

      // Cancel: the job saves a checkpoint and stops.
      await frame.locator('section[data-job] vscode-button', { hasText: 'Cancel' }).click();
      const cancelled = await waitForLine(frame, /^cancelled · /, 60_000);
      await frame.locator('section[data-job] p', { hasText: /Checkpoint \(step \d+\)/ }).waitFor({ state: 'visible' });
      assert.ok(stepOf(cancelled) < STEPS, cancelled);

      // Resume: it continues from the checkpoint to the end.
      await frame.locator('section[data-job] vscode-button', { hasText: 'Resume' }).click();
      await waitForLine(frame, new RegExp(`^completed · .* step ${STEPS}/${STEPS}`), 180_000);
      await shoot(wb, 'fine-tuning-completed');

      // Evaluate against the base: both converted to GGUF, evaluated side by side, the comparison shown.
      await frame.locator('section[data-job] vscode-button', { hasText: 'Evaluate against the base model' }).click();
      const summary = frame.locator('table.summary tbody tr');
      await summary.nth(1).waitFor({ state: 'visible', timeout: 240_000 });
      const rows = await summary.allInnerTexts();
      assert.equal(rows.length, 2, rows.join('\n'));
      assert.ok(rows.some((r) => /base-f16\.gguf/.test(r)) && rows.some((r) => /model-f16\.gguf/.test(r)), rows.join('\n'));
      await shoot(wb, 'fine-tuning-evaluation');
    },
  },
  {
    name: 'fine-tuning form: no job folder while the confirmation is open, none after it is declined; Start is unavailable while it is open',
    async setup(workspace) {
      await ensureVenv(); // the form's Start is refused before the dialog without the training environment
      mkdirSync(join(workspace, 'hf-model'));
      writeFileSync(join(workspace, 'hf-model', 'config.json'), '{"model_type": "llama"}\n'); // a model folder to the checks before the dialog
      mkdirSync(join(workspace, 'data'), { recursive: true });
      copyFileSync(repoPath('test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl'), join(workspace, 'data', 'train.jsonl'));
    },
    async run(wb, { workspace }) {
      const { form } = await openJobForm(wb, 'hf-model', 'data/train.jsonl');
      const jobs = (): string[] => (existsSync(join(workspace, '.coi-jobs')) ? readdirSync(join(workspace, '.coi-jobs')) : []);
      const start = form.locator('vscode-button', { hasText: 'Start' });
      await start.click();
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: /Start this fine-tuning job\?/ });
      await dialog.waitFor({ state: 'visible' });
      // While the user reads the dialog, no queued job exists (a window closed now would leave none behind).
      assert.deepEqual(jobs(), [], 'no job folder before the job is confirmed');
      // Unavailable, not disabled: it keeps the focus (a disabled vscode-button drops it to the body).
      assert.equal(await start.getAttribute('aria-disabled'), 'true', 'Start is unavailable while the dialog is open');
      await confirmModal(wb, /Start this fine-tuning job\?/, 'Cancel');
      await form.locator('vscode-button:not([aria-disabled]):not([disabled])', { hasText: 'Start' }).waitFor({ state: 'visible' });
      assert.deepEqual(jobs(), [], 'declined: no job folder');
      assert.equal(await wb.page.locator('.monaco-dialog-box').count(), 0, 'one dialog only');
    },
  },
];
