/**
 * `coi finetune eval` converts the fine-tune and its base to GGUF before it evaluates them, and
 * shows each conversion's progress as `coi finetune gguf` does: piped, a line per stage of the
 * converter; on a terminal, one line redrawn in place and ended before what follows. A real `coi`
 * process; the converter is a stand-in (test/helpers/standInConverter.ts) that logs as llama.cpp's
 * does and writes the tiny GGUF, so the evaluation that follows runs on it. No Python.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob, jobDir, PAPER_DEFAULTS, updateState, type JobState } from '../../core/finetune';
import { coi, coiOnTerminal, terminalAvailable } from '../cli/cliProcess';
import { repoPath } from '../helpers/paths';
import { standInLlamaCpp, standInVenv } from '../helpers/standInConverter';
import { tempDir } from '../helpers/tempDir';
import { tinyModelPath } from '../rig/tinyModel';

/** A converter that says what llama.cpp's says as it loads a model and converts two tensors, then writes the tiny GGUF. */
const loggingConverter = (model: string): string => `const args = process.argv.slice(2);
console.error('INFO:hf-to-gguf:Loading model: ' + args[0]);
console.error('INFO:hf-to-gguf:blk.0.attn_q.weight, torch.float32 --> F16, shape = {64, 64}');
console.error('INFO:hf-to-gguf:blk.0.attn_k.weight, torch.float32 --> F16, shape = {64, 64}');
require('node:fs').copyFileSync(${JSON.stringify(model)}, args[args.indexOf('--outfile') + 1]);
`;

/** A completed full fine-tune not yet converted, its base model a folder here; the workspace, the job, and the environment coi converts it in. */
function unconvertedJob(): { workspace: string; state: JobState; env: Record<string, string> } {
  const workspace = tempDir();
  const env = standInLlamaCpp(tempDir(), loggingConverter(tinyModelPath()));
  standInVenv(env);
  const baseModel = join(workspace, 'base-model');
  const resultDir = join(workspace, 'tuned');
  for (const folder of [baseModel, resultDir]) mkdirSync(folder);
  const created = createJob(workspace, { engine: 'trl', baseModel, data: join(workspace, 'train.jsonl'), method: 'full', training: PAPER_DEFAULTS });
  updateState(jobDir(workspace, created.id), 'running', { pid: 999_999 });
  const state = updateState(jobDir(workspace, created.id), 'completed', { resultDir });
  const [record] = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[];
  writeFileSync(join(workspace, 'held-out.json'), JSON.stringify([record]));
  return { workspace, state, env };
}

const evalArgs = (state: JobState): string[] => ['finetune', 'eval', state.id, '--data', 'held-out.json', '--max-tokens', '8', '--threads', '1'];
const progress = (stage: string): string => `Converting: \\d+ s, ${stage} \\(details in \\S+gguf\\.log\\)`;

void test("coi finetune eval shows each conversion's progress as coi finetune gguf does; piped, a line per stage of the converter", () => {
  const { workspace, state, env } = unconvertedJob();
  const result = coi(evalArgs(state), { cwd: workspace, env });
  assert.equal(result.code, 0, result.stderr);
  const stages = `${progress('starting Python and its libraries')}\\n${progress('loading the model')}\\n${progress('converting tensors: 1')}\\n`;
  assert.match(result.stderr, new RegExp(`^Converting job \\S+'s model to f16 GGUF [^\\n]*\\n${stages}Base model: converting \\S+base-model to GGUF [^\\n]*\\n${stages}Evaluating `, 'm'));
});

void test('on a terminal the conversion line is redrawn in place and ended before the next conversion is announced', { skip: terminalAvailable() ? false : 'needs script (util-linux)' }, async () => {
  const { workspace, state, env } = unconvertedJob();
  const result = await coiOnTerminal(evalArgs(state), { cwd: workspace, env, stderrToo: true });
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, new RegExp(`\\r\\x1b\\[K${progress('converting tensors: 2')}\\nBase model: converting `));
  assert.match(result.stdout, new RegExp(`\\r\\x1b\\[K${progress('converting tensors: 2')}\\n(?:[^\\n]*\\n)*?Evaluating `));
});
