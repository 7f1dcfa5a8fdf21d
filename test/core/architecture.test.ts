// Guards the layering of DESIGN section 2: core/ never imports the editor or LSP,
// and no adapter folder is imported by core. (ESLint enforces the same rule; this
// test keeps it true even when lint is skipped.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoPath } from '../helpers/paths';

const forbiddenModules = [/^vscode$/, /^vscode-languageserver/, /^vscode-languageclient/, /^vscode-languageserver-protocol/];
const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

void test('core/ imports neither vscode nor any LSP package', () => {
  const offenders = sourceFiles(repoPath('core')).flatMap((file) =>
    importsOf(file)
      .filter((spec) => forbiddenModules.some((re) => re.test(spec)))
      .map((spec) => `${relative(repoPath(), file)} imports ${spec}`),
  );
  assert.deepEqual(offenders, []);
});

void test('core/ never imports an adapter folder', () => {
  const adapters = ['server', 'client', 'cli', 'webview'];
  const offenders = sourceFiles(repoPath('core')).flatMap((file) =>
    importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .filter((spec) => {
        const target = relative(repoPath(), join(file, '..', spec));
        return adapters.some((a) => target === a || target.startsWith(`${a}/`));
      })
      .map((spec) => `${relative(repoPath(), file)} imports ${spec}`),
  );
  assert.deepEqual(offenders, []);
});

void test('the import scanner sees the imports it guards against', () => {
  // Keeps the guard honest: if the pattern stopped matching, the tests above would pass vacuously.
  const sample = `import * as vscode from 'vscode';\nconst x = require("vscode-languageserver/node");\nexport { a } from './b';`;
  assert.deepEqual([...sample.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3]), ['vscode', 'vscode-languageserver/node', './b']);
});
