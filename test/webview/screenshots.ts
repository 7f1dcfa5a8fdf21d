// `node out/test/webview/screenshots.js [folder]` (default docs/images): PNGs of the panel's
// tabs for the documentation, rendered by the real bundle in headless Chromium with VS Code's
// Dark Modern colours (test/helpers/darkModern.css) and the data of test/helpers/panelData.ts.
// The end-to-end test takes the same views inside VS Code (test-results/panel/).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { panelData } from '../helpers/panelData';
import { startPanelHarness } from '../helpers/panelHarness';
import { repoPath } from '../helpers/paths';

async function main(): Promise<void> {
  const folder = process.argv[2] ?? repoPath('docs', 'images');
  mkdirSync(folder, { recursive: true });
  const { answer } = panelData();
  const harness = await startPanelHarness();
  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(folder, `panel-${name}.png`), fullPage: false });
  try {
    const { page, errors } = await harness.open(answer, { width: 640, height: 760 }, { darkTheme: true });
    const rows = page.locator('tr[data-run]');
    await rows.nth(1).waitFor();
    await shot(page, 'runs');
    await rows.nth(1).locator('vscode-button', { hasText: 'Compare…' }).click();
    await rows.nth(0).locator('a.link').click();
    await page.locator('.compare-step').first().waitFor();
    await shot(page, 'compare');
    await page.locator('[role=tab]', { hasText: 'Evaluations' }).click();
    await page.locator('canvas').nth(1).waitFor();
    await page.locator('tr[data-item]').first().waitFor();
    await shot(page, 'evaluations');
    await page.locator('#eval-charts').scrollIntoViewIfNeeded();
    await page.locator('.items').scrollIntoViewIfNeeded();
    await page.locator('tr[data-item="record 00002"] button.link').first().click();
    await page.locator('tr.item-detail').waitFor();
    await page.locator('tr.item-detail').scrollIntoViewIfNeeded();
    await shot(page, 'items');
    await page.locator('[role=tab]', { hasText: 'Models' }).click();
    await page.locator('section[aria-label="Models"]').waitFor();
    await shot(page, 'models');
    if (errors.length > 0) throw new Error(`console errors: ${errors.join(' | ')}`);
    console.log(`screenshots in ${folder}`);
  } finally {
    await harness.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
