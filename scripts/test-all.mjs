#!/usr/bin/env node
// `npm test`: build, lint, then every test layer — unit/LSP/backends/runner/CLI with node's
// test runner, then end-to-end in a real VS Code — and one closing line with the totals.
// A failing layer does not hide the others: all run, the exit code says whether any failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Runs a command, echoing its output, and returns its exit code and output. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const echo = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

function lastCount(output, pattern) {
  const matches = [...output.matchAll(pattern)];
  return matches.length > 0 ? Number(matches[matches.length - 1][1]) : undefined;
}

const layers = [];
let failedSteps = 0;

for (const [name, command, args] of [
  ['bundle', process.execPath, ['scripts/build.mjs']],
  ['type-check', npx, ['tsc', '-b']],
  ['lint', npx, ['eslint', '.']],
]) {
  console.log(`\n=== ${name} ===`);
  const { code } = await run(command, args);
  if (code !== 0) {
    console.error(`\n${name} failed (exit ${code}); the tests were not run.`);
    console.log('all: 0 passed, 1 failed');
    process.exit(1);
  }
}

console.log('\n=== unit, LSP, grammar, backends, runner, CLI (node --test) ===');
const unit = await run(process.execPath, ['scripts/run-tests.mjs']);
layers.push({
  name: 'node --test',
  code: unit.code,
  passed: lastCount(unit.output, /^# pass (\d+)$/gm) ?? lastCount(unit.output, /^ℹ pass (\d+)$/gm) ?? 0,
  failed: lastCount(unit.output, /^# fail (\d+)$/gm) ?? lastCount(unit.output, /^ℹ fail (\d+)$/gm) ?? (unit.code === 0 ? 0 : 1),
});

console.log('\n=== end-to-end in VS Code (code-server + Chromium) ===');
const e2e = await run(process.execPath, ['scripts/e2e/run.mjs', '--no-build']);
layers.push({
  name: 'e2e',
  code: e2e.code,
  passed: lastCount(e2e.output, /^e2e: (\d+) passed/gm) ?? 0,
  failed: lastCount(e2e.output, /^e2e: \d+ passed, (\d+) failed/gm) ?? (e2e.code === 0 ? 0 : 1),
});

let passed = 0;
let failed = 0;
console.log('\n=== summary ===');
for (const layer of layers) {
  console.log(`${layer.name}: ${layer.passed} passed, ${layer.failed} failed${layer.code === 0 ? '' : ` (exit ${layer.code})`}`);
  passed += layer.passed;
  failed += layer.failed;
  if (layer.code !== 0) failedSteps++;
}
if (failedSteps > 0 && failed === 0) failed = failedSteps;
console.log(`all: ${passed} passed, ${failed} failed`);
process.exit(failedSteps > 0 ? 1 : 0);
