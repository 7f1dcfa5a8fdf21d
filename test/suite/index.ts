// Mocha entry point loaded INSIDE the extension host (as @vscode/test-electron does):
// scripts/e2e/run.mjs passes it as extensionTestsPath to code-server's web workbench, and
// .vscode-test.mjs points @vscode/test-cli at the same files on machines with a desktop VS Code.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

/** One line the e2e runner parses for its summary (names of passed and failed tests). */
const REPORT_PREFIX = 'COI_E2E_SUITE_REPORT ';

export function run(): Promise<void> {
  const grep = process.env.COI_E2E_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, ...(grep ? { grep: new RegExp(grep, 'i') } : {}) });
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, file));
  return new Promise((resolve, reject) => {
    const passed: string[] = [];
    const failed: { name: string; error: string }[] = [];
    const runner = mocha.run((failures) => {
      console.log(REPORT_PREFIX + JSON.stringify({ passed, failed }));
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (test) => passed.push(test.fullTitle()));
    runner.on('fail', (test, err: Error) => failed.push({ name: test.fullTitle(), error: err.stack ?? err.message }));
  });
}
