import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LORA_DEFAULTS, PAPER_DEFAULTS, parseFinetuneConfig } from '../../core/finetune';

void test('a minimal config gets the paper defaults (3 epochs, batch 4, accumulation 8, lr 2e-5, warm-up 0.03)', () => {
  const result = parseFinetuneConfig('{ "baseModel": "m", "data": "d.jsonl" }');
  assert.deepEqual(result.problems, []);
  assert.equal(result.config?.method, 'full');
  assert.deepEqual(result.config?.training, PAPER_DEFAULTS);
  assert.equal(PAPER_DEFAULTS.epochs, 3);
  assert.equal(PAPER_DEFAULTS.perDeviceBatchSize, 4);
  assert.equal(PAPER_DEFAULTS.gradientAccumulationSteps, 8);
  assert.equal(PAPER_DEFAULTS.learningRate, 2e-5);
  assert.equal(PAPER_DEFAULTS.warmupRatio, 0.03);
  assert.equal(PAPER_DEFAULTS.weightDecay, 0);
});

void test('LoRA gets its defaults, overridden key by key; training keys override the paper defaults', () => {
  const result = parseFinetuneConfig('{ "baseModel": "m", "data": "d", "method": "lora", "lora": { "r": 4 }, "training": { "maxSteps": 10, "bf16": false } }');
  assert.deepEqual(result.config?.lora, { ...LORA_DEFAULTS, r: 4 });
  assert.equal(result.config?.training.maxSteps, 10);
  assert.equal(result.config?.training.bf16, false);
  assert.equal(result.config?.training.epochs, 3);
});

// Node 20 names no position for some JSON errors: then only the line is certain (column undefined).
const bad: readonly { name: string; text: string; message: RegExp; line: number; column: number | undefined }[] = [
  { name: 'broken JSON', text: '{\n  "baseModel": "m",\n  "data": \n}', message: /Not valid JSON/, line: 4, column: undefined },
  { name: 'unknown key', text: '{\n  "baseModel": "m",\n  "data": "d",\n  "epochz": 3\n}', message: /Unknown key 'epochz'/, line: 4, column: 3 },
  { name: 'bad method', text: '{ "baseModel": "m", "data": "d",\n "method": "qlora" }', message: /"full" or "lora"/, line: 2, column: 2 },
  { name: 'negative learning rate', text: '{ "baseModel": "m", "data": "d",\n "training": {\n   "learningRate": -1 } }', message: /'learningRate' must be a number ≥ 0/, line: 3, column: 4 },
  { name: 'fractional batch', text: '{ "baseModel": "m", "data": "d", "training": { "perDeviceBatchSize": 2.5 } }', message: /whole number/, line: 1, column: 48 },
  { name: 'missing base model', text: '{ "data": "d" }', message: /'baseModel' must name/, line: 1, column: 1 },
  { name: 'unknown engine', text: '{ "engine": "slurm", "baseModel": "m", "data": "d" }', message: /Unknown engine "slurm"/, line: 1, column: 3 },
  { name: 'not an object', text: '[1, 2]', message: /one JSON object/, line: 1, column: 1 },
];

for (const c of bad) {
  void test(`bad config (${c.name}) is refused with its line and column`, () => {
    const result = parseFinetuneConfig(c.text);
    assert.equal(result.config, undefined);
    const problem = result.problems.find((p) => c.message.test(p.message));
    assert.ok(problem !== undefined, `expected ${String(c.message)} in ${JSON.stringify(result.problems)}`);
    assert.equal(problem.line, c.line);
    if (c.column !== undefined) assert.equal(problem.column, c.column);
  });
}
