// @vscode/test-cli configuration, for machines with a desktop VS Code (or where
// @vscode/test-electron can download one): `npx tsc -b && npx vscode-test` runs the same
// extension-host suite as `npm run test:e2e` does inside code-server (test/suite/*.test.ts,
// compiled into out/test/suite). See docs/testing.md.
import { defineConfig } from '@vscode/test-cli';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The suite edits files and workspace settings: give it a copy of the fixture workspace,
// as the code-server rig does, never the fixture itself.
const workspace = mkdtempSync(join(tmpdir(), 'coi-vscode-test-'));
cpSync(join(import.meta.dirname, 'test', 'fixtures', 'e2e-workspace'), workspace, { recursive: true });

export default defineConfig({
  label: 'extension-host suite',
  files: 'out/test/suite/**/*.test.js',
  workspaceFolder: workspace,
  mocha: { ui: 'bdd', timeout: 60000, color: true },
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
});
