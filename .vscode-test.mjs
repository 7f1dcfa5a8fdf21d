// @vscode/test-cli configuration, for machines with a desktop VS Code (or where
// @vscode/test-electron can download one): `npx vscode-test` runs the same extension-host
// suite as `npm run test:e2e` does inside code-server (test/suite/*.test.ts, compiled by
// `npx tsc -b` into out/test/suite). See docs/testing.md.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'extension-host suite',
  files: 'out/test/suite/**/*.test.js',
  workspaceFolder: 'test/fixtures/e2e-workspace',
  mocha: { ui: 'bdd', timeout: 60000, color: true },
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
});
