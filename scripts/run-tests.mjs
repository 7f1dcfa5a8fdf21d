#!/usr/bin/env node
// Runs the compiled test files (out/test/**/*.test.js) with node's test runner.
//   node scripts/run-tests.mjs            every layer except e2e
//   node scripts/run-tests.mjs core cli   only those layers (folders under test/)
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const outTest = join(root, 'out', 'test');
const layers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const excluded = new Set(['e2e', 'suite', 'bench', 'fixtures']);

function collect(dir, acc) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, acc);
    else if (name.endsWith('.test.js')) acc.push(full);
  }
  return acc;
}

if (!existsSync(outTest)) {
  console.error('No compiled tests in out/test: run `npm run build` first.');
  process.exit(2);
}
const roots = layers.length > 0 ? layers.map((l) => join(outTest, l)) : readdirSync(outTest).filter((d) => !excluded.has(d)).map((d) => join(outTest, d));
const files = roots.filter((r) => existsSync(r) && statSync(r).isDirectory()).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error(`No test files found under ${roots.map((r) => relative(root, r)).join(', ')}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
