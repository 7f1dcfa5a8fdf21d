import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accelerateConfigYaml, jobConfigFromFile, jobConfigFromForm, LORA_DEFAULTS, PAPER_DEFAULTS, parseFinetuneConfig } from '../../core/finetune';
import { tempDir } from '../helpers/tempDir';

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
  { name: 'negative learning rate', text: '{ "baseModel": "m", "data": "d",\n "training": {\n   "learningRate": -1 } }', message: /'learningRate' must be a number > 0 and ≤ 1/, line: 3, column: 4 },
  { name: 'batch of 0', text: '{ "baseModel": "m", "data": "d", "training": { "perDeviceBatchSize": 0 } }', message: /'perDeviceBatchSize' must be a whole number ≥ 1/, line: 1, column: 48 },
  { name: 'no gradient accumulation', text: '{ "baseModel": "m", "data": "d", "training": { "gradientAccumulationSteps": 0 } }', message: /'gradientAccumulationSteps' must be a whole number ≥ 1/, line: 1, column: 48 },
  { name: 'fractional batch', text: '{ "baseModel": "m", "data": "d", "training": { "perDeviceBatchSize": 2.5 } }', message: /whole number/, line: 1, column: 48 },
  { name: 'missing base model', text: '{ "data": "d" }', message: /'baseModel' must name/, line: 1, column: 1 },
  { name: 'unknown engine', text: '{ "engine": "pbs", "baseModel": "m", "data": "d" }', message: /Unknown engine "pbs": the engines are "trl", "slurm"/, line: 1, column: 3 },
  { name: 'slurm settings without the slurm engine', text: '{ "baseModel": "m", "data": "d", "slurm": { "partition": "gpu" } }', message: /'slurm' settings go with "engine": "slurm"/, line: 1, column: 34 },
  { name: 'a slurm option with a space', text: '{ "engine": "slurm", "baseModel": "m", "data": "d", "slurm": { "partition": "gpu a" } }', message: /'partition' must be one word/, line: 1, column: 64 },
  { name: 'an sbatch argument that is not an option', text: '{ "engine": "slurm", "baseModel": "m", "data": "d", "slurm": { "sbatchArgs": ["qos=high"] } }', message: /each one argument starting with '-'/, line: 1, column: 64 },
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

void test('distributed: the strategies write the accelerate config keys accelerate reads; bad values are located', () => {
  const parsed = parseFinetuneConfig(JSON.stringify({ baseModel: 'm', data: 'd.jsonl', distributed: { strategy: 'deepspeed-zero3', gpus: 8, nodes: 2 } }));
  assert.deepEqual(parsed.config?.distributed, { strategy: 'deepspeed-zero3', gpus: 8, nodes: 2 });
  const yaml = accelerateConfigYaml(parsed.config?.distributed);
  for (const line of ['distributed_type: DEEPSPEED', '  zero_stage: 3', '  zero3_init_flag: true', 'num_machines: 2', 'num_processes: 16', 'main_process_port: 29500', "mixed_precision: 'bf16'"]) assert.ok(yaml.split('\n').includes(line), `${line} in\n${yaml}`);
  const zero2 = accelerateConfigYaml({ strategy: 'deepspeed-zero2', gpus: 4 }).split('\n');
  assert.ok(zero2.includes('  zero_stage: 2') && zero2.includes('num_processes: 4') && zero2.includes('num_machines: 1') && !zero2.some((l) => l.startsWith('main_process_ip')));
  const fsdp = accelerateConfigYaml({ strategy: 'fsdp', gpus: 2 }).split('\n');
  assert.ok(fsdp.includes('distributed_type: FSDP') && fsdp.includes('  fsdp_sharding_strategy: FULL_SHARD') && fsdp.includes('  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP'));
  assert.ok(accelerateConfigYaml({ strategy: 'ddp', gpus: 8 }).split('\n').includes('distributed_type: MULTI_GPU'));
  const single = accelerateConfigYaml(undefined).split('\n');
  assert.ok(single.includes("distributed_type: 'NO'") && single.includes('num_processes: 1'));

  const bad = parseFinetuneConfig('{\n  "baseModel": "m",\n  "data": "d.jsonl",\n  "distributed": { "strategy": "zero9", "gpus": 0 }\n}');
  assert.equal(bad.config, undefined);
  assert.deepEqual(bad.problems.map((p) => p.message), ["'strategy' must be one of \"ddp\", \"deepspeed-zero2\", \"deepspeed-zero3\", \"fsdp\".", "'gpus' must be a whole number from 1 to 1024."]);
  assert.equal(bad.problems[0]?.line, 4);
});

void test("the side panel's New job form refuses what would train nothing, with the valid range (the same rules as a config file)", () => {
  const form = { baseModel: '.', data: 'train.jsonl', method: 'lora', epochs: '0', learningRate: '0', maxSteps: '0', warmupRatio: '1', loraR: '0', loraAlpha: '0' };
  const result = jobConfigFromForm(form, tempDir());
  assert.equal(result.config, undefined);
  // Each problem names its field as the form labels it (not the config file's key), and says which field it is about.
  assert.deepEqual(result.problems, [
    'Epochs must be a number > 0.',
    'Max steps must be a whole number ≥ 1.',
    'Learning rate must be a number > 0 and ≤ 1.',
    'Warm-up ratio must be a number ≥ 0 and < 1.',
    'LoRA rank must be a whole number > 0.',
    'LoRA alpha must be a whole number > 0.',
  ]);
  assert.deepEqual(result.fields, ['epochs', 'maxSteps', 'learningRate', 'warmupRatio', 'loraR', 'loraAlpha']);
  const text = jobConfigFromForm({ ...form, learningRate: 'abc', loraR: 'x' }, tempDir());
  assert.deepEqual(text.problems, ["Learning rate: 'abc' is not a number.", "LoRA rank: 'x' is not a number."]);
  assert.deepEqual(text.fields, ['learningRate', 'loraR']);
  const fine = jobConfigFromForm({ ...form, method: 'full', epochs: '0.5', learningRate: '1', maxSteps: '1', warmupRatio: '0', loraR: '', loraAlpha: '' }, tempDir());
  assert.deepEqual(fine.problems.filter((p) => / must be /.test(p)), [], 'the edges of the ranges are accepted');
  // What is missing is about the base model or the data field.
  assert.deepEqual(fine.fields, fine.problems.map((p) => (p.startsWith('Base model') ? 'baseModel' : 'data')));
});

void test('a Together job\'s file may not hold what only the local and Slurm engines read (it would be ignored): each is refused at its key, also when --engine together runs a local job\'s file', () => {
  const text = '{\n  "engine": "together",\n  "baseModel": "org/model",\n  "data": "d.jsonl",\n  "outputDir": "model",\n  "distributed": { "strategy": "ddp", "gpus": 2 },\n  "training": { "saveSteps": 10, "loggingSteps": 5, "bf16": true, "maxSteps": 3 }\n}\n';
  const result = parseFinetuneConfig(text);
  assert.equal(result.config, undefined);
  assert.deepEqual(
    result.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    [
      `5:3 'outputDir' does not go with "engine": "together" (the result is downloaded into the job folder): leave it out.`,
      `6:3 'distributed' does not go with "engine": "together" (the service chooses the hardware): leave it out.`,
      `7:17 'saveSteps' does not go with "engine": "together" (the service saves its own checkpoints): leave it out.`,
      `7:34 'loggingSteps' does not go with "engine": "together" (the service reports its metrics at its own pace): leave it out.`,
      `7:53 'bf16' does not go with "engine": "together" (the service chooses the precision): leave it out.`,
      '7:67 Together trains whole epochs and has no step limit: leave out maxSteps (--max-steps) and set epochs instead.',
    ],
  );
  // The same keys go with the local and Slurm engines; a local job's file run with --engine together is refused for them.
  const local = text.replace('"engine": "together"', '"engine": "trl"').replace(', "maxSteps": 3', '');
  assert.deepEqual(parseFinetuneConfig(local).problems, []);
  assert.deepEqual(parseFinetuneConfig(local, { engine: 'together' }).problems.map((p) => p.message.split(' (')[0]), [
    "'outputDir' does not go with --engine together",
    "'distributed' does not go with --engine together",
    "'saveSteps' does not go with --engine together",
    "'loggingSteps' does not go with --engine together",
    "'bf16' does not go with --engine together",
  ]);
  // A Together file with what the service reads is taken as it is.
  const together = parseFinetuneConfig('{ "engine": "together", "baseModel": "org/model", "data": "d.jsonl", "method": "lora", "training": { "epochs": 2, "learningRate": 1e-4, "seed": 7, "maxLength": 2048 } }');
  assert.deepEqual(together.problems, []);
  // The side panel's form goes through the same rules: its checkpoint and step fields are refused for Together.
  const form = jobConfigFromForm({ engine: 'together', baseModel: 'org/model', data: 'd.jsonl', method: 'full', saveSteps: '10', maxSteps: '5' }, tempDir());
  assert.deepEqual(form.problems, [
    `Checkpoint every N steps does not go with "engine": "together" (the service saves its own checkpoints): leave it out.`,
    'Max steps: Together trains whole epochs and has no step limit: leave out maxSteps (--max-steps) and set epochs instead.',
  ]);
});

void test("--engine replaces the file's engine: its value is not checked, and a Slurm job's `slurm` block is refused at its key on another engine (it would be dropped unused)", () => {
  const slurmJob = '{\n  "engine": "slurm",\n  "baseModel": "m",\n  "data": "d.jsonl",\n  "slurm": { "partition": "gpu" }\n}\n';
  assert.deepEqual(parseFinetuneConfig(slurmJob).problems, []);
  assert.deepEqual(parseFinetuneConfig(slurmJob, { engine: 'slurm' }).config?.slurm, { partition: 'gpu' });
  for (const engine of ['trl', 'together'] as const) {
    assert.deepEqual(parseFinetuneConfig(slurmJob, { engine }).problems.map((p) => `${p.line}:${p.column} ${p.message}`), [`5:3 'slurm' settings go with --engine slurm, not --engine ${engine}: leave them out.`]);
  }
  // An engine this coi does not know (a newer coi's, a typo) is the file's problem only when the file's engine is used.
  const unknown = '{ "engine": "pbs", "baseModel": "m", "data": "d.jsonl" }';
  assert.match(parseFinetuneConfig(unknown).problems[0]?.message ?? '', /^Unknown engine "pbs"/);
  const overridden = parseFinetuneConfig(unknown, { engine: 'trl' });
  assert.deepEqual(overridden.problems, []);
  assert.equal(overridden.config?.engine, 'trl');
});

void test('a config file started from the editor: a Together base model stays the service\'s name; a local one becomes a folder of the workspace; problems name the file', () => {
  const workspace = tempDir();
  writeFileSync(join(workspace, 'train.jsonl'), '{"prompt": "a", "completion": "b"}\n');
  const file = (engine: string, baseModel: string): string => JSON.stringify({ engine, baseModel, data: 'train.jsonl', method: 'lora' });
  const together = jobConfigFromFile(file('together', 'meta-llama/Llama-3.2-1B-Instruct'), 'hosted.coi-finetune.json', workspace);
  assert.deepEqual(together.problems, []);
  assert.equal(together.config?.baseModel, 'meta-llama/Llama-3.2-1B-Instruct', 'sent to Together as named, not as a path under the workspace');
  assert.equal(together.config?.data, join(workspace, 'train.jsonl'));
  mkdirSync(join(workspace, 'models', 'base'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'base', 'config.json'), '{}');
  assert.equal(jobConfigFromFile(file('trl', 'models/base'), 'local.coi-finetune.json', workspace).config?.baseModel, join(workspace, 'models', 'base'));
  assert.deepEqual(jobConfigFromFile(file('trl', 'org/model'), 'local.coi-finetune.json', workspace).problems, [`local.coi-finetune.json: Base model folder '${join(workspace, 'org', 'model')}' not found (a Hugging Face model folder: config.json, weights, tokenizer).`]);
  assert.match(jobConfigFromFile('{', 'broken.coi-finetune.json', workspace).problems[0] ?? '', /^broken\.coi-finetune\.json:1:2: /);
});
