/**
 * The set-up every browser test file of the side panel shares: skipped with one line when
 * there is no Chromium; one harness (test/helpers/panelHarness.ts) for the whole file, started
 * before its tests, once the file's own data is ready (`prepare`), and closed after them.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromiumPath, startPanelHarness, type PanelHarness } from './panelHarness';

export interface PanelSuite {
  /** Why the file's tests are skipped (each test's `skip` option), or undefined. */
  readonly skip: string | undefined;
  /** The started harness (inside a test). */
  harness(): PanelHarness;
}

export function panelSuite(what: string, prepare?: () => void | Promise<void>): PanelSuite {
  const skip = existsSync(chromiumPath) ? undefined : `no Chromium at ${chromiumPath}`;
  if (skip !== undefined) console.log(`# ${what} skipped: ${skip}`);
  let harness: PanelHarness | undefined;
  before(async () => {
    if (skip !== undefined) return;
    await prepare?.();
    harness = await startPanelHarness();
  });
  after(async () => {
    await harness?.close();
  });
  return { skip, harness: () => harness ?? assert.fail('the panel harness did not start') };
}
