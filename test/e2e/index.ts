// Runs the UI tests (every `*.e2e.js` beside this file) against a running code-server.
// Called by scripts/e2e/run.mjs, which owns the processes; this file owns the browser pages.
// Each test gets a fresh browser context (fresh workbench state) and its own copy of the
// fixture workspace, so one failure never leaks into the next test.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Workbench } from './workbench';
import type { TogetherTestServer } from '../rig/togetherServer';

export interface UiContext {
  newPage(): Promise<Page>;
  baseUrl: string;
  /** A copy of test/fixtures/e2e-workspace, for this run. */
  workspace: string;
  grep?: string;
  /**
   * Run the tests that need a code-server with workspace trust enabled (`workspaceTrust`),
   * instead of the others (the main server runs with trust disabled).
   */
  workspaceTrust?: boolean;
  /** The code-server's pid (it leads its own process group: the tests can look at its children). */
  serverPid?: number;
  resultsDir: string;
  /** The code-server's log folder (the extension's output channel is written there). */
  logsDir?: string;
  /** The Together AI test server code-server's TOGETHER_BASE_URL points at, and the key it accepts. */
  together?: TogetherService;
  log(message: string): void;
}

export interface TogetherService {
  readonly server: TogetherTestServer;
  readonly apiKey: string;
}

export interface UiTest {
  name: string;
  /** Prepares this test's copy of the workspace before the workbench opens it. */
  setup?(workspace: string, env: TestEnv): void | Promise<void>;
  /**
   * The test needs workspace trust enabled: it runs against a second code-server started
   * without `--disable-workspace-trust` (and without the smoke-test driver, so notification
   * toasts are visible), and handles the trust dialog itself.
   */
  workspaceTrust?: boolean;
  run(wb: Workbench, env: TestEnv): Promise<void>;
}

export interface TestEnv {
  workspace: string;
  /** The code-server's pid, when known (the leader of its process group). */
  serverPid?: number;
  logsDir?: string;
  together?: TogetherService;
}

export interface UiResult {
  name: string;
  ok: boolean;
  error?: string;
  screenshot?: string;
  ms: number;
}

function loadTests(): UiTest[] {
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.e2e.js')).sort();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return files.flatMap((f) => (require(join(__dirname, f)) as { tests: UiTest[] }).tests);
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}

/** The tests a run selects: by name (`grep`), and by whether they need workspace trust. */
export function selectUiTests(grep: string | undefined, workspaceTrust: boolean): UiTest[] {
  const pattern = grep ? new RegExp(grep, 'i') : undefined;
  return loadTests().filter((t) => (!pattern || pattern.test(t.name)) && (t.workspaceTrust ?? false) === workspaceTrust);
}

export async function runUiTests(ctx: UiContext): Promise<UiResult[]> {
  const tests = selectUiTests(ctx.grep, ctx.workspaceTrust ?? false);
  const results: UiResult[] = [];
  for (const [i, test] of tests.entries()) {
    const started = Date.now();
    const workspace = `${ctx.workspace}-${i + 1}`;
    cpSync(ctx.workspace, workspace, { recursive: true });
    const page = await ctx.newPage();
    const wb = new Workbench(page);
    try {
      const env: TestEnv = {
        workspace,
        ...(ctx.serverPid !== undefined ? { serverPid: ctx.serverPid } : {}),
        ...(ctx.logsDir !== undefined ? { logsDir: ctx.logsDir } : {}),
        ...(ctx.together !== undefined ? { together: ctx.together } : {}),
      };
      await test.setup?.(workspace, env);
      await wb.open(ctx.baseUrl, workspace);
      await test.run(wb, env);
      results.push({ name: test.name, ok: true, ms: Date.now() - started });
      ctx.log(`  ✔ ${test.name} (${Date.now() - started} ms)`);
    } catch (err) {
      const screenshot = join(ctx.resultsDir, `${fileSafe(test.name)}.png`);
      await page.screenshot({ path: screenshot }).catch(() => undefined);
      const seen = await wb.describeState().catch((e: unknown) => `(could not read the workbench: ${String(e)})`);
      const error = `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n  what the page showed:\n${seen}`;
      results.push({ name: test.name, ok: false, error, screenshot, ms: Date.now() - started });
      ctx.log(`  ✘ ${test.name} (${Date.now() - started} ms) — screenshot ${screenshot}`);
    } finally {
      await page.context().close().catch(() => undefined);
    }
  }
  return results;
}
