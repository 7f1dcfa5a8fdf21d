// Evaluations started as a user starts them, against the OpenAI-protocol test server on
// 127.0.0.1:
// - the Evaluate CodeLens and the three quick picks answered by clicking, the server
//   rate-limiting the first request (HTTP 429, Retry-After 4): the progress notification must
//   say that the evaluation is waiting out the rate limit (it used to look hung), then the
//   evaluation completes and its report opens. Runs on the code-server whose notification
//   toasts are visible (the workspace-trust one), trusting the folder;
// - CoI: Run Evaluation… on a dataset of 60 rows, chosen in the file dialog: the extension asks
//   which of the 60 items, and a number drawn at random evaluates only those.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storedResults } from '../helpers/evalStore';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import type { UiTest } from './index';
import type { Workbench } from './workbench';

const CASES = [
  { article: 'The harbour crew repaired two cranes and reopened the east dock.', summary: 'The crew repaired two cranes.' },
  { article: 'Heavy rain closed the mountain road for the whole weekend.', summary: 'Rain closed the road.' },
];

function chainText(baseUrl: string): string {
  const tests = CASES.map((c, i) => `test "case ${i + 1}" {\n  given article = ${JSON.stringify(c.article)}\n  expect summary rouge_l >= 0.5 ${JSON.stringify(c.summary)}\n}`);
  return `chain harbour_eval

model api {
  provider openai
  base_url "${baseUrl}"
  model "tiny"
  temperature 0
}

input article: text

step summary {
  instruction "Summarize the article in one sentence."
}

${tests.join('\n\n')}
`;
}

let server: OpenAITestServer | undefined;

const ROWS = 60;

/** A chain without tests, a dataset of ROWS rows for it, and a server that answers at once. */
async function startDatasetServer(workspace: string): Promise<void> {
  server = await startOpenAITestServer({ reply: () => 'The crew moved containers.' });
  writeFileSync(join(workspace, 'dock-rows.coi'), `chain dock_rows

model api {
  provider openai
  base_url "${server.baseURL}"
  model "tiny"
  temperature 0
}

input article: text

step summary {
  instruction "Summarize the article in one sentence."
}
`);
  writeFileSync(join(workspace, 'rows.jsonl'), Array.from({ length: ROWS }, (_, i) => JSON.stringify({ article: `Dock log ${i + 1}: the crew moved ${i + 3} containers.` })).join('\n') + '\n');
}

/** A reply takes this long, so the other case's result comes while the refused one waits its 4 s. */
const REPLY_DELAY_MS = 1500;

/** The server answers every case with its reference (after REPLY_DELAY_MS), having refused the very first request with a 429. */
async function startRateLimitedServer(workspace: string): Promise<void> {
  server = await startOpenAITestServer({
    reply: async ({ messages }) => {
      const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      await new Promise((resolve) => setTimeout(resolve, REPLY_DELAY_MS));
      return CASES.find((c) => typeof user === 'string' && user.includes(c.article))?.summary;
    },
  });
  let limited = false;
  server.setFaultChooser(({ path }) => {
    if (path !== '/v1/chat/completions' || limited) return undefined;
    limited = true;
    return { kind: 'status', status: 429, retryAfter: '4', message: 'Rate limit reached for requests' };
  });
  writeFileSync(join(workspace, 'harbour-eval.coi'), chainText(server.baseURL));
}

async function trustTheFolder(wb: Workbench): Promise<void> {
  const dialog = wb.page.locator('.monaco-dialog-box', { hasText: /trust the authors/i });
  await dialog.waitFor({ state: 'visible', timeout: 60_000 });
  await dialog.locator('.monaco-button', { hasText: /yes, i trust/i }).first().click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Clicks the quick pick row whose label contains `text`. */
async function pick(wb: Workbench, title: RegExp, text: string): Promise<void> {
  const widget = wb.page.locator('.quick-input-widget', { hasText: title });
  await widget.waitFor({ state: 'visible' });
  await widget.locator('.monaco-list-row', { hasText: text }).first().click();
}

export const tests: UiTest[] = [
  {
    name: 'evaluate: started from the CodeLens and the quick picks; a rate limit shows in its progress notification, then the report opens',
    workspaceTrust: true,
    setup: startRateLimitedServer,
    async run(wb, { workspace }) {
      try {
        await trustTheFolder(wb);
        await wb.openFile('harbour-eval.coi');
        const evaluate = wb.editor().locator('.codelens-decoration a', { hasText: /Evaluate/ }).first();
        await evaluate.waitFor({ state: 'visible' });
        await evaluate.click();
        await pick(wb, /what to evaluate/, "This chain's tests");
        // The models: the file's profile is preselected; OK accepts it.
        const models = wb.page.locator('.quick-input-widget', { hasText: /models \(every item runs on every model\)/ });
        await models.waitFor({ state: 'visible' });
        assert.match(await models.locator('.monaco-list-row', { hasText: 'api' }).first().innerText(), /tiny at http:\/\/127\.0\.0\.1:\d+\/v1/, 'the profile is described by its model and server');
        await models.locator('.quick-input-action .monaco-button, .monaco-button', { hasText: /^OK$/ }).first().click();
        await pick(wb, /mode/, 'Stepwise');

        // The first request is refused with a 429: the notification says so, with the wait, and
        // still says so after the other case's result has come in (1.5 s into the 4 s wait).
        const toast = wb.page.locator('.notification-toast', { hasText: /Evaluating harbour-eval/ });
        const retry = /tiny at http:\/\/127\.0\.0\.1:\d+\/v1: HTTP 429; trying again in 4\.0 s \(retry 1\)/;
        await toast.filter({ hasText: retry }).first().waitFor({ state: 'visible', timeout: 30_000 });
        await toast.filter({ hasText: /1\/2 done, 0 failed/ }).filter({ hasText: retry }).first().waitFor({ state: 'visible', timeout: 30_000 });

        // Then it completes: the report opens, every case scored once, the refused one asked twice.
        await wb.page.locator('.tab', { hasText: 'report.md' }).first().waitFor({ state: 'visible', timeout: 60_000 });
        const evals = join(workspace, '.coi-evals');
        const stores = existsSync(evals) ? readdirSync(evals) : [];
        assert.equal(stores.length, 1, `one store under .coi-evals: ${stores.join(', ')}`);
        const results = storedResults(join(evals, stores[0]!));
        assert.deepEqual(results.map((r) => r.item.replace(/^.*#/, '')).sort(), CASES.map((_, i) => `case ${i + 1}`), 'every case once');
        assert.deepEqual(results.map((r) => r.error), CASES.map(() => undefined), 'the rate-limited case is scored, not a failure');
        const chats = server!.requests.filter((r) => r.path === '/v1/chat/completions');
        assert.deepEqual([chats.length, chats.filter((r) => r.fault === 'status').length], [CASES.length + 1, 1], 'one refused request, asked again once');
      } finally {
        await server?.close();
        server = undefined;
      }
    },
  },
  {
    name: 'evaluate: a dataset of 60 rows chosen in the file dialog; asked which items, 3 drawn at random are evaluated',
    setup: startDatasetServer,
    async run(wb, { workspace }) {
      try {
        await wb.openFile('dock-rows.coi');
        await wb.runCommand('CoI: Run Evaluation…', { opensQuickPick: true });
        await pick(wb, /what to evaluate/, 'A dataset file…');
        // The open dialog of the web workbench: a path in a quick input. It writes the folder's
        // path into the box once it has listed the folder, over anything typed before: type after.
        const dialog = wb.page.locator('.quick-input-widget', { hasText: 'The dataset to run the chain on' });
        await dialog.locator('.monaco-list-row', { hasText: 'rows.jsonl' }).waitFor({ state: 'visible' });
        const path = dialog.locator('.quick-input-box input');
        await path.fill(join(workspace, 'rows.jsonl'));
        await path.press('Enter');
        const models = wb.page.locator('.quick-input-widget', { hasText: /models \(every item runs on every model\)/ });
        await models.waitFor({ state: 'visible' });
        await models.locator('.monaco-button', { hasText: /^OK$/ }).first().click();
        await pick(wb, /mode/, 'Stepwise');
        // More than 50 items: which of them.
        const which = wb.page.locator('.quick-input-widget', { hasText: `which of the ${ROWS} items` });
        await which.waitFor({ state: 'visible' });
        // The list keeps hidden rows of the previous question: read the visible ones, once the last is drawn.
        const rows = which.locator('.monaco-list-row:visible');
        await rows.nth(3).filter({ hasText: 'Another number, drawn at random…' }).waitFor({ state: 'visible' });
        const offered = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
        assert.deepEqual(offered, [`All ${ROWS} items`, 'The first 50a try before all of them', '50 drawn at randomthe same ones each time (seed 42)', 'Another number, drawn at random…']);
        await which.locator('.monaco-list-row', { hasText: 'Another number' }).click();
        const count = wb.page.locator('.quick-input-widget', { hasText: `How many of the ${ROWS} items` }).locator('.quick-input-box input');
        await count.waitFor({ state: 'visible' });
        await count.fill('3');
        await count.press('Enter');

        await wb.page.locator('.tab', { hasText: 'report.md' }).first().waitFor({ state: 'visible', timeout: 60_000 });
        const evals = join(workspace, '.coi-evals');
        const stores = existsSync(evals) ? readdirSync(evals) : [];
        assert.equal(stores.length, 1, `one store under .coi-evals: ${stores.join(', ')}`);
        const evaluated = storedResults(join(evals, stores[0]!)).map((r) => r.item);
        assert.equal(new Set(evaluated).size, 3, `three items evaluated, each once: ${evaluated.join(', ')}`);
        assert.equal(evaluated.length, 3);
        const config = JSON.parse(readFileSync(join(evals, stores[0]!, 'eval.json'), 'utf8')) as { source: { subset?: unknown } };
        assert.deepEqual(config.source.subset, { kind: 'sample', count: 3, seed: 42 });
        assert.equal(server!.requests.filter((r) => r.path === '/v1/chat/completions').length, 3, 'the server was asked about those three only');
      } finally {
        await server?.close();
        server = undefined;
      }
    },
  },
];
