// The side panel's run view of runs whose model call broke while it streamed, in headless
// Chromium with the panel's real HTML and CSP (test/helpers/panelHarness.ts): the records are
// written by `coi run` against the OpenAI-protocol test server (the tiny model answering, the
// stream cut after a few chunks), read with core's RunStore. What the model had streamed is
// shown, under its own "Partial output before the failure" heading, as text; and the status
// badges are heard as their word, a narrow side bar included.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runDetail } from '../../client/panel/runView';
import { RunStore } from '../../core/runner/runStore';
import type { RunRecord } from '../../core/runner/types';
import { filterRuns } from '../../webview/model/runs';
import type { RunFilter } from '../../webview/protocol';
import { coiAsync } from '../cli/cliProcess';
import { markup } from '../helpers/panelData';
import type { Answer } from '../helpers/panelHarness';
import { panelSuite } from '../helpers/panelSuite';
import { repoPath } from '../helpers/paths';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';

let server: OpenAITestServer | undefined;
let answer: Answer = () => undefined;
const records: Record<'stepwise' | 'composed' | 'markup', RunRecord> = {} as never;

const { skip, harness } = panelSuite('panel tests of partial runs', async () => {
  server = await startOpenAITestServer();
  const workspace = tempDir();
  copyFileSync(repoPath('test', 'fixtures', 'runner', 'two-steps.coi'), join(workspace, 'two-steps.coi'));
  const runsDir = join(workspace, '.coi-cache', 'runs');
  const store = new RunStore(runsDir);
  const broken = async (mode: 'stepwise' | 'composed'): Promise<RunRecord> => {
    const before = new Set(readdirSync(runsDir));
    server!.injectFaults([{ kind: 'broken-stream', afterChunks: 3 }]);
    const ran = await coiAsync(['run', 'two-steps.coi', '-i', 'I loved it.', '--mode', mode, '--model', 'openai:tiny', '--base-url', server!.baseURL, '--no-cache'], {
      cwd: workspace,
      env: { COI_MODEL: '', OPENAI_API_KEY: 'x' },
    });
    assert.equal(ran.code, 1, ran.stderr);
    const saved = readdirSync(runsDir).filter((name) => !before.has(name));
    assert.equal(saved.length, 1, saved.join(', '));
    return store.open(saved[0]!.replace(/\.json$/, ''));
  };
  // A run that succeeds (its record makes the folder, and an `ok` row).
  await coiAsync(['run', 'two-steps.coi', '-i', 'I loved it.', '--to', 'summary', '--model', 'openai:tiny', '--base-url', server.baseURL, '--no-cache'], { cwd: workspace, env: { COI_MODEL: '', OPENAI_API_KEY: 'x' } });
  records.stepwise = await broken('stepwise');
  records.composed = await broken('composed');
  // The same failed step, its streamed text being markup: it must stay text.
  const markupRecord: RunRecord = { ...records.stepwise, id: `${records.stepwise.id}-markup`, steps: records.stepwise.steps.map((s, i) => (i === 0 ? { ...s, partialOutput: markup } : s)) };
  store.save(markupRecord);
  records.markup = store.open(markupRecord.id);
  answer = (method, params) => {
    if (method === 'listRuns') return { ...filterRuns(store.list().map((s) => ({ ...s, origin: 'workspace' as const })), params as RunFilter), seq: params.seq };
    if (method === 'openRun') return runDetail(store.open(String(params.id)), 'workspace');
    throw new Error(`unexpected request ${method}`);
  };
});

after(async () => {
  await server?.close();
});

async function openRun(page: Page, id: string): Promise<void> {
  await page.locator(`tr[data-run="${id}"] a.link`).click();
  await page.locator('details.step[data-step="summary"]').waitFor();
}

const spaced = (text: string): string => text.replace(/\s+/g, ' ').trim();

void test('a stepwise step whose call broke shows what the model had streamed, marked partial, as text', { skip }, async () => {
  const partial = records.stepwise.steps[0]!.partialOutput ?? assert.fail('the broken step kept its streamed text');
  const { page, errors } = await harness().open(answer);
  await openRun(page, records.stepwise.id);
  const step = page.locator('details.step[data-step="summary"]');
  assert.match(await step.locator('h4.partial').innerText(), /^Partial output before the failure \(incomplete, never validated\)$/);
  assert.equal(spaced(await step.locator('pre[aria-label="Partial output before the failure, of step summary"]').innerText()), spaced(partial));
  // Not shown as the step's output.
  assert.equal(await step.locator('pre[aria-label="Output of step summary"]').count(), 0);

  await page.locator('vscode-button', { hasText: '← Runs' }).click();
  await openRun(page, records.markup.id);
  assert.equal(spaced(await page.locator('pre[aria-label="Partial output before the failure, of step summary"]').innerText()), markup);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.locator('b', { hasText: 'bold' }).count(), 0);
  assert.deepEqual(errors, []);
  await page.context().close();
});

void test('a composed generation whose call broke shows its whole streamed text (the record keeps it in composed.partialOutput) and each step its part', { skip }, async () => {
  const composed = records.composed.composed ?? assert.fail('the failed composed run keeps its generation');
  assert.equal(composed.rawOutput, undefined);
  const whole = composed.partialOutput ?? assert.fail('the streamed text is kept');
  const { page, errors } = await harness().open(answer);
  await openRun(page, records.composed.id);
  const block = page.locator('details.block.composed');
  assert.equal(await block.getAttribute('open'), '', 'open: the run failed');
  assert.equal(spaced(await block.locator('pre[aria-label="Partial output before the failure, of the composed generation"]').innerText()), spaced(whole));
  assert.equal(spaced(await page.locator('pre[aria-label="Partial output before the failure, of step summary"]').innerText()), spaced(records.composed.steps[0]!.partialOutput ?? ''));
  assert.deepEqual(errors, []);
  await page.context().close();
});

/** The accessible names of the cells of the run list, as Chromium gives them to assistive technology. */
async function cellNames(page: Page): Promise<string[]> {
  const session = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await session.send('Accessibility.getFullAXTree')) as { nodes: { ignored: boolean; role?: { value?: string }; name?: { value?: string } }[] };
    return nodes.filter((n) => !n.ignored && (n.role?.value === 'cell' || n.role?.value === 'gridcell')).map((n) => (n.name?.value ?? '').trim());
  } finally {
    await session.detach();
  }
}

void test('status badges: heard as their word (not "✗"), in a wide and a narrow side bar; no aria-label on an element without a role that takes one', { skip }, async () => {
  for (const width of [700, 360]) {
    const { page, errors } = await harness().open(answer, { width, height: 900 });
    await page.locator(`tr[data-run="${records.stepwise.id}"]`).waitFor();
    const names = await cellNames(page);
    assert.ok(names.includes('failed'), `${width}px: ${JSON.stringify(names)}`);
    assert.ok(names.includes('ok'), `${width}px: ${JSON.stringify(names)}`);
    assert.ok(!names.some((n) => /[✓✗⊘–]/.test(n)), `${width}px: a symbol is read out: ${JSON.stringify(names)}`);
    await openRun(page, records.stepwise.id);
    // ARIA 1.2: a span, div or p with no role is generic, and aria-label is prohibited on it.
    const misnamed = await page.locator('span[aria-label]:not([role]), div[aria-label]:not([role]), p[aria-label]:not([role])').evaluateAll((nodes) => nodes.map((n) => n.outerHTML.slice(0, 80)));
    assert.deepEqual(misnamed, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  }
});
