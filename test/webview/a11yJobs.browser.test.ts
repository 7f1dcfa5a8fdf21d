// The Fine-tuning and Models tabs of the side panel used with the keyboard and heard through a
// screen reader: the panel's real HTML, CSP and bundle in headless Chromium (the harness of
// test/helpers/panelHarness.ts), driven with real key presses; what a screen reader gets is read
// from Chromium's own accessibility tree (DevTools protocol). Each test asserts what such a user
// notices: where the focus is after each action, what a field in error says, what the live
// regions say and whether they stay the same element, the names the buttons are heard by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { panelData } from '../helpers/panelData';
import type { ComputeView, JobMetricsBatch, JobRow, JobsView } from '../../webview/protocol';
import { fixtureMetrics } from '../helpers/jobFixture';
import { axNodes } from '../helpers/accessibleNames';
import type { Answer } from '../helpers/panelHarness';
import { panelSuite } from '../helpers/panelSuite';

let answer: Answer = () => undefined;

const compute: ComputeView = { gpu: 'cpu', gpuDevices: [], vramBytes: 0, cpuMathCores: 2, maxThreads: 2, nodeLlamaCppVersion: '3.21.1' };

const { skip, harness } = panelSuite('panel accessibility tests (fine-tuning, models)', () => {
  answer = panelData().answer;
});

/** What a screen reader says of the focused element: role, name, description and whether it is marked invalid; `body` when the focus fell to the document. */
async function heardFocus(page: Page): Promise<string> {
  // Two frames: a focus moved once a component has rendered is in place by then.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  if (await page.evaluate(() => document.activeElement === null || document.activeElement === document.body)) return 'body';
  const focused = (await axNodes(page)).filter((n) => !n.ignored && n.role?.value !== 'RootWebArea' && n.properties?.some((p) => p.name === 'focused' && p.value?.value === true)).pop();
  if (focused === undefined) return 'nothing heard';
  const invalid = focused.properties?.find((p) => p.name === 'invalid')?.value?.value;
  const description = focused.description?.value ?? '';
  return `${focused.role?.value ?? '?'} "${focused.name?.value ?? ''}"${description === '' ? '' : ` (${description})`}${invalid === 'true' ? ' invalid' : ''}`;
}

/** Focuses `selector` and presses `key` on it, as a keyboard user does. */
async function press(page: Page, selector: string, key = 'Enter'): Promise<void> {
  await page.locator(selector).focus();
  await page.keyboard.press(key);
}

/** What the extension pushes (client/panel/provider.ts), sent to the page as VS Code's webview would. */
function pushEvent(page: Page, event: Record<string, unknown>): Promise<void> {
  return page.evaluate((e) => window.postMessage({ kind: 'event', ...e }, '*'), event);
}

/** The fixture's cancelled job (40 steps in all) as the extension would show it: `state()` says its status and the steps logged. */
function jobAs(base: Answer, folder: string, state: () => { status: JobRow['status']; steps: number }): Answer {
  const rowOf = (row: JobRow): JobRow => {
    const { status, steps } = state();
    const live = status === 'running';
    return { ...row, status, canCancel: live, canResume: false, stepsDone: steps, message: undefined };
  };
  return async (method, params) => {
    const result = await base(method, params);
    if (method === 'listJobs') return { ...(result as JobsView), jobs: (result as JobsView).jobs.map((job) => (job.folder === folder ? rowOf(job) : job)) };
    if (method !== 'jobMetrics' || params.folder !== folder) return result;
    const metrics = fixtureMetrics(state().steps);
    const batch: JobMetricsBatch = { ...(result as JobMetricsBatch), row: rowOf((result as JobMetricsBatch).row), metrics: metrics.slice(Number(params.fromLine)), nextLine: metrics.length, more: false };
    return batch;
  };
}

void test('fine-tuning by keyboard: opening a job puts the focus on its heading, ← Jobs back on that job\'s link, Close on New job…; never on the page\'s body', { skip }, async () => {
  const { page, errors } = await harness().open(answer);
  await page.locator('[role=tab]', { hasText: 'Fine-tuning' }).click();
  const rows = page.locator('tr[data-job]');
  await rows.nth(1).waitFor();
  const second = (await rows.nth(1).getAttribute('data-job')) ?? assert.fail('a second job');

  await press(page, `tr[data-job="${second}"] a.link`);
  await page.locator(`section[data-job="${second}"] canvas`).first().waitFor();
  assert.equal(await heardFocus(page), `heading "${second}"`, 'a job opened: the focus is on its heading');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await heardFocus(page), 'button "Use as a model profile: job ' + second + '" (Job ' + second + ' is cancelled: only a completed job has a model to use.)', 'Shift+Tab from the heading goes back up to the toolbar');

  await press(page, `section[data-job] vscode-button[aria-label="Back to Jobs"]`);
  await rows.nth(1).waitFor();
  assert.equal(await heardFocus(page), `link "${second}"`, '← Jobs: the focus is back on the link of the job that was open');

  await press(page, 'vscode-button[aria-label="New job…"]');
  await page.locator('section.job-form').waitFor();
  assert.equal(await heardFocus(page), 'textbox "Base model"');
  await press(page, 'section.job-form vscode-button[aria-label="Close"]');
  await rows.nth(1).waitFor();
  assert.equal(await heardFocus(page), 'button "New job…" (Start a new fine-tuning job)', 'the form closed: the focus is on New job…');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('fine-tuning, the New job form: Start with a bad field puts the focus on that field, marked invalid and described by its problem, which names it by its label; editing it clears the mark; Start keeps the focus while the extension answers', { skip }, async () => {
  let release: (() => void) | undefined;
  let asked = (): void => undefined;
  const held = new Promise<void>((resolve) => (asked = resolve));
  const { page, errors } = await harness().open(async (method, params) => {
    // The confirmation dialog open in VS Code: the answer comes when the test lets it (declined).
    if (method === 'startJob' && params.baseModel === 'held') {
      asked();
      return new Promise((resolve) => (release = () => resolve(null)));
    }
    return answer(method, params);
  });
  await page.locator('[role=tab]', { hasText: 'Fine-tuning' }).click();
  await press(page, 'vscode-button[aria-label="New job…"]');
  const form = page.locator('section.job-form');
  await form.waitFor();
  await page.keyboard.type('hf-model');
  await page.keyboard.press('Tab'); // Browse…
  await page.keyboard.press('Tab');
  await page.keyboard.type('train.jsonl');
  await form.locator('input[aria-label="Learning rate"]').focus();
  await page.keyboard.type('abc');
  await press(page, 'vscode-button[aria-label="Start the fine-tuning job"]');
  const problem = form.locator('[role=alert]', { hasText: "Learning rate: 'abc' is not a number." });
  await problem.waitFor();
  assert.equal(await heardFocus(page), `textbox "Learning rate" (Learning rate: 'abc' is not a number.) invalid`, 'the focus on the field, heard invalid with its problem');
  const rate = form.locator('input[aria-label="Learning rate"]');
  assert.equal(await rate.getAttribute('aria-invalid'), 'true');
  assert.equal(await rate.getAttribute('aria-describedby'), await problem.getAttribute('id'));
  assert.equal(await form.locator('[aria-invalid]').count(), 1, 'only the field in error is marked');

  await page.keyboard.press('Control+A');
  await page.keyboard.type('3e-3');
  assert.equal(await rate.getAttribute('aria-invalid'), null, 'the field edited: no longer marked invalid');
  assert.equal(await heardFocus(page), 'textbox "Learning rate"');

  // Two fields in error (the data file missing, a LoRA rank of 0): the first one in the form gets the focus, each is described by its own problem.
  await form.locator('input[aria-label="Training data"]').fill('missing.jsonl');
  await form.locator('select[aria-label="Method"]').selectOption('lora');
  await form.locator('input[aria-label="LoRA rank"]').fill('0');
  await press(page, 'vscode-button[aria-label="Start the fine-tuning job"]', ' ');
  await form.locator('[role=alert]', { hasText: 'LoRA rank must be a whole number > 0.' }).waitFor();
  assert.equal(await heardFocus(page), 'textbox "LoRA rank" (LoRA rank must be a whole number > 0.) invalid', 'the config rules name the field by its label too');
  await form.locator('input[aria-label="LoRA rank"]').fill('4');
  await press(page, 'vscode-button[aria-label="Start the fine-tuning job"]');
  await form.locator('[role=alert]', { hasText: /^Training data '.*missing\.jsonl' not found/ }).waitFor();
  assert.match(await heardFocus(page), /^textbox "Training data" \(Training data '.*missing\.jsonl' not found .*\) invalid$/);

  // While the extension has not answered, Start keeps the focus, heard unavailable; declined, the focus is still there.
  await form.locator('input[aria-label="Base model"]').fill('held');
  await press(page, 'vscode-button[aria-label="Start the fine-tuning job"]');
  await held;
  assert.equal(await heardFocus(page), 'button "Start the fine-tuning job"', 'Start keeps the focus while the extension answers');
  assert.ok((await axNodes(page)).some((n) => n.name?.value === 'Start the fine-tuning job' && n.properties?.some((p) => p.name === 'disabled' && p.value?.value === true)), 'heard unavailable meanwhile');
  (release ?? assert.fail('the start was asked'))();
  await page.waitForFunction(() => document.querySelector('vscode-button[aria-label="Start the fine-tuning job"]')?.getAttribute('aria-disabled') === null);
  assert.equal(await heardFocus(page), 'button "Start the fine-tuning job"');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('fine-tuning: a running job\'s status and progress are said by one polite live region, changed in place: on a status change and every tenth of the steps, not on every step; the list says its jobs\' status changes', { skip }, async () => {
  const job = ((await answer('listJobs', {})) as JobsView).jobs.find((j) => j.status === 'cancelled') ?? assert.fail('the fixture has a cancelled job');
  const state = { status: 'running' as JobRow['status'], steps: 12 };
  const { page, errors } = await harness().open(jobAs(answer, job.folder, () => state));
  await page.locator('[role=tab]', { hasText: 'Fine-tuning' }).click();
  await press(page, `tr[data-job="${job.id}"] a.link`);
  const detail = page.locator(`section[data-job="${job.id}"]`);
  const facts = detail.locator('p', { hasText: ' · ' }).first();
  await facts.filter({ hasText: 'step 12/40' }).waitFor();
  const live = detail.locator('[role=status]');
  assert.equal(await live.count(), 1, 'one live region in the job');
  await live.evaluate((element) => ((element as unknown as { first: boolean }).first = true));
  const heard = async (): Promise<{ text: string; same: boolean }> => live.evaluate((element) => ({ text: element.textContent ?? '', same: (element as unknown as { first?: boolean }).first === true }));
  assert.deepEqual(await heard(), { text: `Job ${job.id} running: 30 % of 40 steps done.`, same: true });
  /** The training logged more steps (or the job's status changed): the extension says so. */
  const update = async (steps: number, status: JobRow['status'] = 'running'): Promise<void> => {
    Object.assign(state, { steps, status });
    await pushEvent(page, { event: 'jobChanged', folder: job.folder });
    await facts.filter({ hasText: `${status} · ` }).filter({ hasText: `step ${steps}/40` }).waitFor();
  };
  await update(13);
  await update(15);
  assert.deepEqual(await heard(), { text: `Job ${job.id} running: 30 % of 40 steps done.`, same: true }, 'a step within the same tenth says nothing new');
  await update(16);
  assert.deepEqual(await heard(), { text: `Job ${job.id} running: 40 % of 40 steps done.`, same: true }, 'the next tenth is said, by the same element');
  // Cancel has the focus when the job ends: the focus goes to the job's heading, not the page's body.
  await page.locator(`vscode-button[aria-label="Cancel job ${job.id}"]`).focus();
  await update(40, 'completed');
  assert.deepEqual(await heard(), { text: `Job ${job.id} completed.`, same: true }, 'the status change is said');
  assert.equal(await heardFocus(page), `heading "${job.id}"`, 'Cancel gone: the focus on the job\'s heading');
  const region = (await axNodes(page)).find((n) => n.role?.value === 'status' && n.name?.value === '' && !n.ignored);
  assert.ok(region?.properties?.some((p) => p.name === 'live' && p.value?.value === 'polite'), 'a polite live region');

  // The list: a job whose status changes is said by the list's live region.
  state.status = 'running';
  await press(page, 'vscode-button[aria-label="Back to Jobs"]');
  const row = page.locator(`tr[data-job="${job.id}"]`);
  await row.filter({ hasText: 'running' }).waitFor();
  const listLive = page.locator('section[aria-label="Fine-tuning"] [role=status]');
  assert.equal(await listLive.innerText(), '', 'nothing said when the list is drawn');
  await listLive.evaluate((element) => ((element as unknown as { first: boolean }).first = true));
  state.status = 'failed';
  await pushEvent(page, { event: 'jobChanged', folder: job.folder });
  await row.filter({ hasText: 'failed' }).waitFor();
  assert.deepEqual(await listLive.evaluate((element) => ({ text: element.textContent, same: (element as unknown as { first?: boolean }).first === true })), { text: `Job ${job.id} failed.`, same: true });
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('the jobs\' and the Models tab\'s buttons are heard by names that hold their visible words (← Jobs as Back to Jobs); Detect compute and a redraw of the Models tab keep the focus on it', { skip }, async () => {
  const { page, errors } = await harness().open((method, params) => (method === 'detectCompute' ? compute : answer(method, params)));
  /** Each visible button's words (an arrow left out) and the name a screen reader hears it by. */
  const buttons = async (scope: string): Promise<{ shown: string; heard: string }[]> => {
    const shown = await page.locator(`${scope} vscode-button`).allInnerTexts();
    const names = (await axNodes(page)).filter((n) => !n.ignored && n.role?.value === 'button').map((n) => n.name?.value ?? '');
    return shown.map((text) => {
      const words = text.replace(/^←\s*/, '').trim();
      return { shown: words, heard: names.find((name) => name.toLowerCase().includes(words.toLowerCase())) ?? `no button heard with "${words}" in its name` };
    });
  };
  await page.locator('[role=tab]', { hasText: 'Fine-tuning' }).click();
  await page.locator('tr[data-job]').nth(1).waitFor();
  assert.deepEqual(await buttons('#panel-jobs'), [{ shown: 'New job…', heard: 'New job…' }]);
  const completed = ((await answer('listJobs', {})) as JobsView).jobs.find((j) => j.status === 'completed') ?? assert.fail('the fixture has a completed job');
  await press(page, `tr[data-job="${completed.id}"] a.link`);
  await page.locator(`section[data-job="${completed.id}"]`).waitFor();
  const heard = await buttons('#panel-jobs');
  assert.deepEqual(
    heard.filter((b) => !b.shown.startsWith('Show')),
    [
      { shown: 'Jobs', heard: 'Back to Jobs' },
      { shown: 'Evaluate against the base model', heard: `Evaluate against the base model: job ${completed.id}` },
      { shown: 'Use as a model profile', heard: `Use as a model profile: job ${completed.id}` },
    ],
  );
  assert.deepEqual((await axNodes(page)).filter((n) => !n.ignored && n.role?.value === 'button' && (n.name?.value ?? '').includes('←')).map((n) => n.name?.value), [], 'no button is heard with the arrow');

  await page.locator('[role=tab]', { hasText: 'Models' }).click();
  await page.locator('section[aria-label="Models"]').waitFor();
  assert.deepEqual(await buttons('#panel-models'), [{ shown: 'Detect compute', heard: 'Detect compute' }]);
  await press(page, '#panel-models vscode-button');
  await page.locator('table[aria-label="Detected compute"]').waitFor();
  assert.equal(await heardFocus(page), 'button "Detect again" (Asks the local model worker which compute it can use)', 'Detect compute: the focus stays on the button');
  // The redraw replaces the section: mark it, and wait for a new one.
  await page.evaluate(() => document.querySelector('#panel-models section')?.setAttribute('data-redrawn', 'old'));
  await pushEvent(page, { event: 'activeChainChanged' });
  await page.waitForFunction(() => document.querySelector('#panel-models section')?.getAttribute('data-redrawn') === null);
  assert.equal(await heardFocus(page), 'button "Detect again" (Asks the local model worker which compute it can use)', 'a redraw for another chain keeps the focus on the button');
  assert.deepEqual(errors, []);
  await page.context().close();
});
