// Keyboard and screen-reader use of the side panel's Runs and Evaluations tabs, in headless
// Chromium with the panel's real HTML, CSP and bundle (test/helpers/panelHarness.ts): real key
// presses, and what a keyboard or screen-reader user notices after each: where the focus is
// (never left on the page's body when a view changes), which live region says what (one
// element, its text updated in place), the accessible names from Chromium's own accessibility
// tree, the focus ring and what a 300 px side bar shows of a focused control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { panelData } from '../helpers/panelData';
import { domPage, type Dom } from '../helpers/domPage';
import type { RunFilter, RunList, RunRow } from '../../webview/protocol';
import { filterRuns } from '../../webview/model/runs';
import type { Answer } from '../helpers/panelHarness';
import { panelSuite } from '../helpers/panelSuite';

let answer: Answer = () => undefined;

const { skip, harness } = panelSuite('panel accessibility tests (runs, evaluations)', () => {
  answer = panelData().answer;
});

function open(reply: Answer = answer, viewport?: { width: number; height: number }): ReturnType<ReturnType<typeof harness>['open']> {
  return harness().open(reply, viewport, { darkTheme: true });
}

/**
 * What has the focus once the page has settled (a vscode-button takes it once it has
 * rendered): `body` when it was dropped, else the element as a user hears it.
 */
async function focused(page: Page): Promise<string> {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return page.evaluate(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) return 'body';
    const name = active.getAttribute('aria-label') ?? (active as HTMLElement).innerText.replace(/\s+/g, ' ').trim();
    return `${active.tagName.toLowerCase()}${active.hasAttribute('disabled') ? '[disabled]' : ''} "${name}"`;
  });
}

function pushEvent(page: Page, event: Record<string, unknown>): Promise<void> {
  return page.evaluate((e) => window.postMessage({ kind: 'event', ...e }, '*'), event);
}

void test('runs: Enter on a run\'s link moves the focus to the run\'s heading; ← Runs returns it to that link; the same for a comparison picked by keyboard', { skip }, async () => {
  const { page, errors } = await open();
  const rows = page.locator('tr[data-run]');
  await rows.nth(1).waitFor();
  const runs = ((await answer('listRuns', {})) as RunList).runs;
  const [newer, older] = [runs[0] ?? assert.fail('two runs'), runs[1] ?? assert.fail('two runs')];

  await rows.nth(1).locator('a.link').focus();
  await page.keyboard.press('Enter');
  await page.locator('details.step').first().waitFor();
  assert.match(await focused(page), new RegExp(`^h2 "${older.chain} \\S+ ${older.status}"$`), 'the run\'s heading, where reading the run starts');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'vscode-button "Back to Runs"');
  await page.keyboard.press('Enter');
  await rows.nth(1).waitFor();
  assert.equal(await focused(page), `a "Open run of ${older.chain} started ${new Date(older.startedAt).toLocaleString()}"`, 'back on the link that opened the run');

  // Compare… on the older run, then Enter on the newer run's link: the comparison's heading; Back: that link.
  await page.keyboard.press('Tab');
  assert.match(await focused(page), /^vscode-button "Compare the run of /);
  await page.keyboard.press('Enter');
  await page.locator('.banner').waitFor();
  assert.match(await focused(page), /^vscode-button "Comparing the run of /, 'the focus stays on the button pressed');
  await rows.nth(0).locator('a.link').focus();
  await page.keyboard.press('Enter');
  await page.locator('.compare-step').first().waitFor();
  assert.equal(await focused(page), `h2 "Compare ${newer.chain} runs"`);
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await rows.nth(1).waitFor();
  assert.equal(await focused(page), `a "Open run of ${newer.chain} started ${new Date(newer.startedAt).toLocaleString()}"`);

  // Cancel in the banner returns to the Compare… button it came from.
  await rows.nth(1).locator('vscode-button').focus();
  await page.keyboard.press('Enter');
  await page.locator('.banner').waitFor();
  await page.locator('vscode-button[aria-label="Cancel comparing"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('.banner').waitFor({ state: 'detached' });
  assert.match(await focused(page), /^vscode-button "Compare the run of /);
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('evaluations: Enter on Last page and First page keeps the focus in the pager, on a button still usable, never a disabled one; the page\'s range is said by one live region updated in place', { skip }, async () => {
  const { page, errors } = await open();
  await page.locator('#tab-evals').click();
  const info = page.locator('.page-info');
  await info.filter({ hasText: '1–50 of 10,000' }).waitFor();
  await page.evaluate(() => ((window as unknown as { info: Element | null }).info = document.querySelector('.page-info')));
  const sameInfo = (): Promise<boolean> => page.evaluate(() => (window as unknown as { info: Element | null }).info === document.querySelector('.page-info'));

  await page.locator('vscode-button[aria-label="Next page"]').focus();
  await page.keyboard.press('Enter');
  await info.filter({ hasText: '51–100 of 10,000' }).waitFor();
  assert.equal(await focused(page), 'vscode-button "Next page"');
  assert.ok(await sameInfo(), 'the live region after Next is the one a screen reader watched: its new text is said');

  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'vscode-button "Last page"');
  await page.keyboard.press('Enter');
  await info.filter({ hasText: '9,951–10,000 of 10,000' }).waitFor();
  assert.equal(await focused(page), 'vscode-button "Previous page"', 'Last and Next are disabled on the last page: the nearest usable button');
  assert.ok(await sameInfo());

  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'vscode-button "First page"');
  await page.keyboard.press('Enter');
  await info.filter({ hasText: '1–50 of 10,000' }).waitFor();
  assert.equal(await focused(page), 'vscode-button "Next page"');
  assert.ok(await sameInfo());
  assert.equal(await info.getAttribute('role'), 'status');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('evaluations: the status line of a running evaluation is one live region, its text updated in place as the store grows', { skip }, async () => {
  let done = 0;
  const { page, errors } = await open(async (method, params) => {
    const reply = (await answer(method, params)) as { report: { counts: { results: number; missing: number } } };
    return method === 'openEval' ? { ...reply, report: { ...reply.report, counts: { ...reply.report.counts, results: reply.report.counts.results - 100 + done, missing: 100 - done } } } : reply;
  });
  await page.locator('#tab-evals').click();
  const status = page.locator('#panel-evals p[role=status]');
  await status.filter({ hasText: '100 missing' }).waitFor();
  await page.evaluate(() => ((window as unknown as { statusLine: Element | null }).statusLine = document.querySelector('#panel-evals p[role=status]')));
  done = 10;
  await pushEvent(page, { event: 'evalsChanged', store: '/ws/.coi-evals/big' });
  await status.filter({ hasText: '90 missing' }).waitFor();
  assert.ok(await page.evaluate(() => (window as unknown as { statusLine: Element | null }).statusLine === document.querySelector('#panel-evals p[role=status]')));
  assert.equal(await status.count(), 1);
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('runs: a live region says how many runs a filter shows, or that none matches, and a new run; one element updated in place, the focus staying on the filter', { skip }, async () => {
  const recorded = ((await answer('listRuns', {})) as RunList).runs;
  const first = recorded[0] ?? assert.fail('the fixture has runs');
  let extra: RunRow[] = [];
  const { page, errors } = await open((method, params) => (method === 'listRuns' ? { ...filterRuns([...recorded, ...extra], params as RunFilter), seq: params.seq } : answer(method, params)));
  await page.locator('tr[data-run]').nth(1).waitFor();
  const region = page.locator('#panel-runs [role=status]');
  assert.equal(await region.innerText(), '2 runs shown');
  await page.evaluate(() => ((window as unknown as { region: Element | null }).region = document.querySelector('#panel-runs [role=status]')));
  const same = (): Promise<boolean> => page.evaluate(() => (window as unknown as { region: Element | null }).region === document.querySelector('#panel-runs [role=status]'));

  // Arrow keys on the status filter: Succeeded, then Failed (none).
  await page.locator('select[aria-label="Filter runs by status"]').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await region.filter({ hasText: 'No run matches these filters.' }).waitFor();
  assert.ok(await same(), 'the region a screen reader watches got the new text');
  assert.equal(await focused(page), 'select "Filter runs by status"');
  await page.keyboard.press('ArrowUp');
  await region.filter({ hasText: '2 runs shown' }).waitFor();
  assert.ok(await same());

  // A run recorded (the extension's runsChanged): said, the focus staying on the filter.
  extra = [{ ...first, id: 'failed-1', status: 'failed', startedAt: new Date(Date.parse(first.startedAt) + 60_000).toISOString() }];
  await pushEvent(page, { event: 'runsChanged' });
  await region.filter({ hasText: '2 of 3 runs shown' }).waitFor();
  assert.ok(await same());
  assert.equal(await focused(page), 'select "Filter runs by status"');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('the tab panel, a Tab stop, shows the focus ring (the theme\'s focusBorder) when reached by keyboard, not when clicked into', { skip }, async () => {
  const { page, errors } = await open();
  await page.locator('tr[data-run]').nth(1).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const ring = (): Promise<{ role: string | null; outline: string }> =>
    page.evaluate(() => {
      const active = document.activeElement as HTMLElement;
      const style = getComputedStyle(active);
      return { role: active.getAttribute('role'), outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}` };
    });
  assert.deepEqual(await ring(), { role: 'tabpanel', outline: 'solid 1px rgb(0, 120, 212)' });
  // A click on the panel's empty space below the list: focused, no ring.
  await page.locator('#tab-evals').focus();
  const box = (await page.locator('#panel-runs').boundingBox()) ?? assert.fail('the panel is drawn');
  await page.mouse.click(box.x + box.width - 2, box.y + box.height - 2);
  assert.equal((await ring()).outline.startsWith('none'), true);
  assert.deepEqual(errors, []);
  await page.context().close();
});

/** The words of a text, without the symbols and punctuation that are not said (← … ▲ and brackets). */
function words(text: string): string {
  return ` ${text.toLowerCase().replace(/[^\p{L}\p{N}_'-]+/gu, ' ').trim()} `.replace(/^ {2}$/, '');
}

/** The visible words of each shown button and link in `scope` and their accessible names, as Chromium computes them, where the name lacks the words. */
async function labelNotInName(page: Page, scope: string): Promise<string[]> {
  const controls = page.locator(`${scope} :is(vscode-button, button, a)`);
  const wrong: string[] = [];
  for (let index = 0; index < (await controls.count()); index++) {
    const control = controls.nth(index);
    if (!(await control.isVisible())) continue;
    const snapshot = await control.ariaSnapshot();
    const name = /^- \w+ "(.*)"/.exec(snapshot)?.[1] ?? snapshot;
    const visible = await control.innerText();
    if (words(visible) !== '' && !words(name).includes(words(visible))) wrong.push(`"${visible}" → "${name}"`);
  }
  return wrong;
}

void test('runs and evaluations: each button\'s and link\'s accessible name holds the words it shows (WCAG 2.5.3 label in name)', { skip }, async () => {
  const { page, errors } = await open();
  const rows = page.locator('tr[data-run]');
  await rows.nth(1).waitFor();
  await rows.nth(1).locator('vscode-button').click();
  await page.locator('.banner').waitFor();
  assert.deepEqual(await labelNotInName(page, '#panel-runs'), [], 'the run list, a run being compared');
  await page.locator('vscode-button[aria-label="Cancel comparing"]').click();
  await rows.nth(1).locator('a.link').click();
  await page.locator('details.step').first().waitFor();
  assert.deepEqual(await labelNotInName(page, '#panel-runs'), [], 'a run\'s view');
  await page.locator('#tab-evals').click();
  await page.locator('.page-info').filter({ hasText: '1–50' }).waitFor();
  assert.deepEqual(await labelNotInName(page, '#panel-evals'), [], 'an evaluation');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('compare view, a run\'s view, an evaluated item: each text block is read with its name (run A or B, the step), as a named group; the run list\'s Compare column has a header', { skip }, async () => {
  const { page, errors } = await open();
  const rows = page.locator('tr[data-run]');
  await rows.nth(1).waitFor();
  assert.match(await page.locator('#panel-runs table thead').ariaSnapshot(), /columnheader "Compare"/);
  assert.equal(await page.locator('#panel-runs thead th').filter({ hasText: /^$/ }).count(), 0);

  await rows.nth(1).locator('vscode-button').click();
  await page.locator('.banner').waitFor();
  await rows.nth(0).locator('a.link').click();
  const step = page.locator('.compare-step[data-step="sentiment"]');
  await step.waitFor();
  const read = await step.ariaSnapshot();
  assert.match(read, /group "Step sentiment in run A": (positive|negative)/);
  assert.match(read, /group "Step sentiment in run B": (positive|negative)/);

  await page.locator('vscode-button[aria-label="Back to Runs"]').click();
  await rows.nth(1).locator('a.link').click();
  await page.locator('details.step[data-step="sentiment"]').waitFor();
  assert.match(await page.locator('details.step[data-step="sentiment"]').ariaSnapshot(), /group "Output of step sentiment": (positive|negative)/);

  await page.locator('#tab-evals').click();
  await page.locator('tr[data-item="record 00001"] button.link').first().click();
  const detail = page.locator('.item-detail .compare-step').first();
  await detail.waitFor();
  const heard = await detail.ariaSnapshot();
  assert.match(heard, /group "Reference of step s1"/);
  assert.match(heard, /group "Output of step s1"/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('a 300 px side bar: a control focused by keyboard in a side-scrolling table or the tab list, and the evaluation picker, are wholly in view', { skip }, async () => {
  const { page, errors } = await open(answer, { width: 300, height: 500 });
  await page.locator('tr[data-run]').nth(1).waitFor();
  const inView = (): Promise<string> =>
    page.evaluate(() => {
      const active = document.activeElement as HTMLElement;
      const box = active.getBoundingClientRect();
      const name = active.getAttribute('aria-label') ?? active.innerText;
      return box.left >= 0 && box.right <= window.innerWidth ? `in view: ${name}` : `${name}: ${Math.round(box.left)}–${Math.round(box.right)} px of ${window.innerWidth}`;
    });
  await page.locator('tr[data-run] a.link').first().focus();
  await page.keyboard.press('Tab');
  assert.match(await inView(), /^in view: Compare the run of /);
  await page.locator('#tab-runs').focus();
  await page.keyboard.press('End');
  assert.equal(await inView(), 'in view: Models');
  await page.keyboard.press('Home');
  assert.equal(await inView(), 'in view: Runs');
  await page.keyboard.press('ArrowRight');
  await page.locator('.page-info').filter({ hasText: '1–50' }).waitFor();
  // Past the tab panel (a Tab stop) to the picker.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await inView(), 'in view: Evaluation');
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('replaceKeepingFocus and patchChildren: the focused control gone, the focus goes to the new view\'s heading, else its first usable control; disabled, to the nearest usable control beside it', { skip }, async () => {
  const page = await domPage(harness().browser);
  const where = await page.evaluate(() => {
    const { dom } = window as unknown as { dom: Dom };
    const box = document.getElementById('box') as HTMLElement;
    const at = (): string => `${document.activeElement?.tagName.toLowerCase() ?? ''} ${document.activeElement?.textContent ?? ''}`;
    const seen: string[] = [];
    dom.replaceKeepingFocus(box, dom.h('button', { 'aria-label': 'Open run 1' }, 'run 1'));
    box.querySelector('button')?.focus();
    dom.replaceKeepingFocus(box, dom.h('div', {}, dom.h('button', {}, 'Back'), dom.h('h2', {}, 'run 1')));
    seen.push(`${at()} tabindex=${document.activeElement?.getAttribute('tabindex') ?? ''}`);
    dom.replaceKeepingFocus(box, dom.h('p', {}, 'text'), dom.h('button', { disabled: true }, 'Off'), dom.h('button', {}, 'Retry'));
    seen.push(at());
    const pager = (last: boolean): Node[] => ['First', 'Previous', 'Next', 'Last'].map((name, index) => dom.h('button', { 'aria-label': name, disabled: last ? index >= 2 : index < 2 }, name));
    dom.replaceKeepingFocus(box, ...pager(false));
    box.querySelector<HTMLElement>('[aria-label="Last"]')?.focus();
    dom.patchChildren(box, ...pager(true));
    seen.push(at());
    box.querySelector<HTMLElement>('[aria-label="First"]')?.focus();
    dom.patchChildren(box, ...pager(false));
    seen.push(at());
    return seen;
  });
  assert.deepEqual(where, ['h2 run 1 tabindex=-1', 'button Retry', 'button Previous', 'button Next']);
  await page.close();
});
