// Guards the layering of DESIGN section 2: core/ never imports the editor or LSP,
// and no adapter folder is imported by core. (ESLint enforces the same rule; this
// test keeps it true even when lint is skipped.) Inside core/, imports run one way: down
// the layer order of docs/architecture.md.
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

/**
 * The layer order of core/ (docs/architecture.md), lowest first. A folder imports only
 * folders of lower layers; folders of one layer do not import each other.
 */
const CORE_LAYERS: readonly (readonly string[])[] = [
  ['syntax', 'metrics'],
  ['diagnostics', 'lexicon'],
  ['chain'],
  ['composability', 'records', 'backends'],
  ['check', 'runner'],
  // dataset below eval and finetune: the evaluation reads a held-out split, the hosted engine uploads chat JSONL.
  ['language', 'expectations', 'dataset'],
  ['eval', 'finetune'],
];

function coreFolderOf(path: string): string | undefined {
  const rel = relative(repoPath('core'), path);
  if (rel.startsWith('..')) return undefined;
  return rel.split('/')[0];
}

function layerOf(folder: string): number {
  return CORE_LAYERS.findIndex((layer) => layer.includes(folder));
}

void test('every core/ folder has a place in the layer order', () => {
  const folders = readdirSync(repoPath('core')).filter((name) => statSync(repoPath('core', name)).isDirectory());
  const unplaced = folders.filter((folder) => layerOf(folder) < 0);
  assert.deepEqual(unplaced, [], 'add the folder to CORE_LAYERS here and to the layer list in docs/architecture.md');
});

void test('core/ imports run down the layer order, never up or sideways', () => {
  const offenders = sourceFiles(repoPath('core')).flatMap((file) => {
    const from = coreFolderOf(file) ?? '';
    return importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .filter((spec) => {
        const to = coreFolderOf(join(file, '..', spec));
        return to !== undefined && to !== from && !(layerOf(to) >= 0 && layerOf(to) < layerOf(from));
      })
      .map((spec) => `${relative(repoPath(), file)} imports ${spec}`);
  });
  assert.deepEqual(offenders, []);
});

void test('the import scanner sees the imports it guards against', () => {
  // Keeps the guard honest: if the pattern stopped matching, the tests above would pass vacuously.
  const sample = `import * as vscode from 'vscode';\nconst x = require("vscode-languageserver/node");\nexport { a } from './b';`;
  assert.deepEqual([...sample.matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? m[3]), ['vscode', 'vscode-languageserver/node', './b']);
});

void test('the adapters (server, client, CLI) use core only through each folder\'s index.ts', () => {
  // The webview is a browser bundle: it imports core's type-only and pure modules directly,
  // so that an index's Node-only neighbours (workers, files) never reach the bundle.
  const offenders = ['server', 'client', 'cli'].flatMap((adapter) =>
    sourceFiles(repoPath(adapter)).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('.'))
        .filter((spec) => {
          const target = relative(repoPath('core'), join(file, '..', spec));
          if (target.startsWith('..')) return false;
          const parts = target.split('/');
          return parts.length > 2 || (parts.length === 2 && parts[1] !== 'index');
        })
        .map((spec) => `${relative(repoPath(), file)} imports ${spec}`),
    ),
  );
  assert.deepEqual(offenders, []);
});
