/**
 * Generated evaluation stores (the eval types of core/eval) for the panel's tests and
 * benchmark: `items` chains of 1–3 steps, each evaluated by every model, with outputs
 * that share some words with their references so ROUGE-L (core's, scored here) varies.
 * Deterministic (seeded).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, RESULTS_FILE, type StoreContents } from '../../core/eval/store';
import type { EvalConfig, EvalResult, StepScore } from '../../core/eval/types';
import { rougeL } from '../../core/metrics/rouge';
import { seededRandom } from './random';

/** The result lines of the store `dir`, read as they are on disk (not through core's reader, which the tests check). */
export function storedResults(dir: string): EvalResult[] {
  return readFileSync(join(dir, RESULTS_FILE), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EvalResult);
}

export interface GeneratedStoreOptions {
  readonly name?: string;
  readonly items: number;
  /** Model labels; the first is the baseline. Default: base.gguf, tuned.gguf. */
  readonly models?: readonly string[];
  readonly seed?: number;
  /** Output text of item `i`'s last step (for the XSS test); default: generated words. */
  readonly outputOf?: (item: number) => string | undefined;
}

const words = ['the', 'river', 'summary', 'short', 'city', 'report', 'green', 'answer', 'model', 'chain', 'step', 'label', 'french', 'story', 'list', 'paper', 'table', 'quick', 'result', 'data'];

function sentence(random: () => number, length: number): string {
  return Array.from({ length }, () => words[Math.floor(random() * words.length)] ?? 'word').join(' ');
}

/** Share of `reference`'s words kept, the rest replaced: a rough way to get a chosen ROUGE-L. */
function degrade(random: () => number, reference: string, keep: number): string {
  return reference
    .split(' ')
    .map((w) => (random() < keep ? w : (words[Math.floor(random() * words.length)] ?? w)))
    .join(' ');
}

export function generatedStore(dir: string, options: GeneratedStoreOptions): StoreContents {
  const random = seededRandom(options.seed ?? 7);
  const models = options.models ?? ['base.gguf', 'tuned.gguf'];
  const config: EvalConfig = {
    version: 1,
    name: options.name ?? 'generated',
    source: { kind: 'records', files: [join(dir, 'records.json')], format: 'json' },
    models: models.map((label) => ({ key: label, label, spec: label, identity: { backend: 'local', model: label } })),
    modes: ['stepwise'],
    template: 'alpaca',
    seed: 1,
    configHash: 'generated-config',
    dataHash: 'generated-data',
    itemCount: options.items,
    createdAt: '2026-12-01T10:00:00.000Z',
    tool: { name: 'coi', version: '0.1.0' },
  };
  const results: EvalResult[] = [];
  for (let i = 0; i < options.items; i++) {
    const length = 1 + (i % 3);
    const references = Array.from({ length }, () => sentence(random, 6 + Math.floor(random() * 6)));
    models.forEach((model, m) => {
      // Later models are better, and every model gets worse with longer chains (the paper's figure).
      const keep = Math.min(0.95, 0.45 + 0.25 * m - 0.08 * length + random() * 0.1);
      const steps: StepScore[] = references.map((reference, index) => {
        const custom = index === length - 1 ? options.outputOf?.(i) : undefined;
        const output = custom ?? degrade(random, reference, keep);
        return { id: `s${index + 1}`, index, category: 'generation', output, reference, rougeL: rougeL(reference, output).fmeasure * 100, exact: output === reference, contractValid: true, status: 'ok' };
      });
      const last = steps[steps.length - 1];
      results.push({
        item: `record ${String(i + 1).padStart(5, '0')}`,
        model,
        mode: 'stepwise',
        chainLength: length,
        steps,
        final: { ...(last?.output !== undefined ? { output: last.output } : {}), ...(last?.reference !== undefined ? { reference: last.reference } : {}), ...(last?.rougeL !== undefined ? { rougeL: last.rougeL } : {}), exact: last?.exact ?? false },
        splitFailed: false,
        tokensIn: 40 * length,
        tokensOut: 12 * length,
        latencyMs: 50 + Math.round(random() * 200),
        modelCalls: length,
        cached: false,
        runId: `run-${i}-${m}`,
      });
    });
  }
  return { dir, config, results, problems: [], validBytes: 0, tornLine: false };
}

/** Writes the store as `eval.json` + `results.jsonl` into `dir` (created). */
export function writeGeneratedStore(dir: string, options: GeneratedStoreOptions): StoreContents {
  const contents = generatedStore(dir, options);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(contents.config, null, 2));
  writeFileSync(join(dir, RESULTS_FILE), contents.results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return contents;
}
