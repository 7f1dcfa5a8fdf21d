// A fine-tuning job on Together AI, started from the editor as a user does it: the key stored
// with "CoI: Set API Key" (VS Code's SecretStorage), the New job form with the Together
// engine, the modal that says what will be uploaded where, the job followed to the end and
// its result downloaded and converted to GGUF. The service is test/rig/togetherServer.ts,
// started by scripts/e2e/run.mjs (code-server's TOGETHER_BASE_URL points at it) with a key
// made up for the run; its result is a tiny Llama made here. Checked too: the key reached the
// service on every request and was written to no file of the workspace and no log.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultArchive } from '../rig/togetherServer';
import type { TestEnv, UiTest } from './index';
import { shoot } from './panel.e2e';
import { openJobForm, prepareTinyModel, waitForLine } from './finetune.e2e';
import type { Workbench } from './workbench';

function together(env: TestEnv): NonNullable<TestEnv['together']> {
  assert.ok(env.together !== undefined, 'scripts/e2e/run.mjs starts the Together AI test server');
  return env.together;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** CoI: Set API Key → Together's base URL (offered by the command) → the key, typed into the password box. */
async function storeKey(wb: Workbench, baseURL: string, key: string): Promise<void> {
  await wb.runCommand('CoI: Set API Key', { opensQuickPick: true });
  await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: baseURL }).click();
  const box = wb.page.locator('.quick-input-widget input[type=password]');
  await box.waitFor({ state: 'visible' });
  await box.fill(key);
  await box.press('Enter');
  // (This code-server hides notification toasts: the job below is what shows the key was stored.)
  await wb.quickInput.waitFor({ state: 'hidden' });
}

export const tests: UiTest[] = [
  {
    name: 'fine-tuning tab: a Together AI job with the key from Set API Key: the upload shown first, followed to the end, the result converted',
    async setup(workspace, env) {
      together(env).server.setResult(resultArchive(await prepareTinyModel(workspace)));
    },
    async run(wb, env) {
      const { server, apiKey } = together(env);
      await wb.openFile('run-demo.coi'); // the extension is then active and its commands listed
      await storeKey(wb, server.baseURL, apiKey);

      const { frame, form } = await openJobForm(wb, 'meta-llama/Llama-3.2-1B-Instruct', 'data/train.jsonl');
      await form.locator('select[aria-label="Engine"]').selectOption('together');
      await form.locator('vscode-button', { hasText: 'Start' }).click();

      // Nothing is uploaded before the user has read what goes where.
      const dialog = wb.page.locator('.monaco-dialog-box', { hasText: /Start this fine-tuning job on Together AI\?/ });
      await dialog.waitFor({ state: 'visible' });
      const said = await dialog.innerText();
      assert.match(said, /This uploads your training data to Together AI: \d+ examples as chat JSONL/, said);
      assert.ok(said.includes(server.baseURL), `the dialog names the endpoint: ${said}`);
      assert.equal(server.count('/v1/files'), 0, 'nothing uploaded before the confirmation');
      await shoot(wb, 'together-confirmation');
      await dialog.locator('.dialog-buttons .monaco-button', { hasText: 'Upload and Start' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // Followed to the end; the result comes down and becomes a GGUF beside the job.
      const done = await waitForLine(frame, /^completed · /, 180_000);
      await shoot(wb, 'together-completed');
      const jobs = join(env.workspace, '.coi-jobs');
      const ggufs = filesUnder(jobs).filter((f) => f.endsWith('model-f16.gguf'));
      assert.equal(ggufs.length, 1, `one converted model in ${jobs}: ${done}`);
      assert.equal(readFileSync(ggufs[0] as string).subarray(0, 4).toString('latin1'), 'GGUF');

      // The key went to the service on every request, and nowhere else.
      const api = server.requests.filter((r) => !r.path.startsWith('/v1/uploads/'));
      assert.ok(server.count('/v1/fine-tunes', 'POST') === 1 && api.every((r) => r.authorization === `Bearer ${apiKey}`), JSON.stringify(api.map((r) => [r.method, r.path, r.authorization === `Bearer ${apiKey}`])));
      const written = [...filesUnder(env.workspace), ...(env.logsDir !== undefined ? filesUnder(env.logsDir) : [])];
      const leaking = written.filter((f) => readFileSync(f).includes(apiKey));
      assert.deepEqual(leaking, [], 'the key is in no file of the workspace or the logs');
    },
  },
];
