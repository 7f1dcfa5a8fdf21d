#!/usr/bin/env node
// npm run make-tiny-hf-model -- DIR [TEXT_FILE]
// Writes the tiny Hugging Face Llama the fine-tuning tests train (random weights, a
// sentencepiece unigram tokenizer trained on CoI text: TEXT_FILE, or the CoI2 excerpt in
// test/fixtures/finetune). Makes the training environment first if needed (coi finetune setup).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const [out, textFile] = process.argv.slice(2);
if (out === undefined) {
  console.error('Usage: npm run make-tiny-hf-model -- DIR [TEXT_FILE]');
  process.exit(2);
}
const compiled = join(root, 'out', 'core', 'finetune', 'index.js');
if (!existsSync(compiled)) {
  console.error('Build first: node scripts/build.mjs && npx tsc -b');
  process.exit(2);
}
const { ensureVenv } = createRequire(import.meta.url)(compiled);
const venv = await ensureVenv({ onOutput: () => undefined });
let text = textFile === undefined ? undefined : resolve(textFile);
if (text === undefined) {
  // The excerpt is prompt-completion JSONL: its prompts and completions are the text.
  const lines = readFileSync(join(root, 'test', 'fixtures', 'finetune', 'coi2-excerpt.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  text = join(mkdtempSync(join(tmpdir(), 'coi-tiny-hf-')), 'text.txt');
  writeFileSync(text, lines.map((l) => { const r = JSON.parse(l); return `${r.prompt}\n${r.completion}`; }).join('\n') + '\n');
}
const result = spawnSync(venv.python, [join(root, 'python', 'make_tiny_hf_model.py'), resolve(out), text], { stdio: 'inherit' });
process.exit(result.status ?? 1);
