// An evaluation started as a user starts one: the Evaluate CodeLens, the three quick picks
// answered by clicking, against the OpenAI-protocol test server on 127.0.0.1, which
// rate-limits the first request (HTTP 429, Retry-After 4). The progress notification must say
// that the evaluation is waiting out the rate limit (it used to look hung), then the
// evaluation completes and its report opens. Runs on the code-server whose notification
// toasts are visible (the workspace-trust one), trusting the folder.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
        const lines = readFileSync(join(evals, stores[0]!, 'results.jsonl'), 'utf8').trim().split('\n');
        assert.equal(lines.length, CASES.length);
        const chats = server!.requests.filter((r) => r.path === '/v1/chat/completions');
        assert.deepEqual([chats.length, chats.filter((r) => r.fault === 'status').length], [CASES.length + 1, 1], 'one refused request, asked again once');
      } finally {
        await server?.close();
        server = undefined;
      }
    },
  },
];
