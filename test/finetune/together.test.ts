// The hosted engine end to end: the real `coi` and the real `together-ai` SDK against the
// project's Together-protocol test server on 127.0.0.1 (test/rig/togetherServer.ts).
// A successful job (events → log, metrics → metrics.jsonl, the result downloaded and
// unpacked), a failed one, 429s, a download cut mid-way, cancel and resume, the upload
// confirmation, and the key never written anywhere.
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Together from 'together-ai';
import { downloadResult } from '../../core/finetune/together/transfer';
import { DOWNLOAD_LOCK, downloadLockHeld } from '../../core/finetune/together/result';
import { processStartIdentity } from '../../core/syntax/processes';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cancelJob, createJob, jobDir, jobStatus, listJobIds, PAPER_DEFAULTS, planTogetherUpload, readMetrics, readState, resumeJob, startJob, waitForJob, withTogetherApiKey, writeTogetherUpload } from '../../core/finetune';
import { runCli } from '../../cli/cli';
import type { CliIO } from '../../cli/io';
import { coiAsync, type CliResult } from '../cli/cliProcess';
import { tempDir } from '../helpers/tempDir';
import { hfModelFolder } from '../helpers/finetuneInputs';
import { converterArgs, recordingConverter, standInLlamaCpp, standInVenv } from '../helpers/standInConverter';
import { resultArchive, startTogetherTestServer, type TogetherTestServer } from '../rig/togetherServer';
import { coi2Excerpt } from '../helpers/finetuneInputs';
import { repoPath } from '../helpers/paths';
import { tinyModelPath } from '../rig/tinyModel';

const data = coi2Excerpt;
const examples = readFileSync(data, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
const KEY = 'tgp_v1_test-secret-key-0123456789';
let server: TogetherTestServer;

/** A downloaded "model": an HF folder's files (the engine only unpacks and finds it; conversion is tested apart). */
function modelFolder(): string {
  const dir = join(tempDir(), 'merged');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' }));
  // Bytes that do not compress, so the archive is big enough to be cut mid-way.
  writeFileSync(join(dir, 'model.safetensors'), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 24) & 0xff)));
  return dir;
}

before(async () => {
  server = await startTogetherTestServer({ apiKey: KEY, result: resultArchive(modelFolder()) });
});
after(() => server.close());

function env(extra: Record<string, string> = {}): Record<string, string> {
  // An empty cache: no training environment, so the result is not converted here (see the GGUF test).
  return { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: server.baseURL, COI_TOGETHER_POLL_MS: '0', COI_TOGETHER_BACKOFF_MS: '0', COI_CACHE_DIR: tempDir(), ...extra };
}

function finetune(workspace: string, args: readonly string[], extra: Record<string, string> = {}): Promise<CliResult> {
  return coiAsync(['finetune', ...args], { cwd: workspace, env: env(extra) });
}

const startArgs = ['start', '--engine', 'together', '--base', 'meta-llama/Llama-3.2-1B-Instruct', '--data', data, '--yes'];

function onlyJob(workspace: string): string {
  const [id, ...others] = listJobIds(workspace);
  assert.ok(id !== undefined && others.length === 0, `one job expected, found ${listJobIds(workspace).join(', ')}`);
  return id;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * A Together LoRA job (`method: lora`) run to its end against the server at `baseURL`, with a
 * stand-in training environment whose converter is `converter`, in a workspace that holds a folder
 * named as the base's Together name (a name, not a path: never to be taken for the base).
 */
async function finishedLoraJob(baseURL: string, converter: string): Promise<{ workspace: string; jobEnv: Record<string, string>; id: string; dir: string }> {
  const converting = standInLlamaCpp(tempDir(), converter);
  standInVenv(converting);
  const jobEnv = { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: baseURL, COI_TOGETHER_POLL_MS: '0', COI_TOGETHER_BACKOFF_MS: '0', ...converting };
  const workspace = tempDir();
  hfModelFolder(join(workspace, 'meta-llama'), 'Llama-3.2-1B-Instruct');
  const started = await coiAsync(['finetune', ...startArgs, '--method', 'lora', '--wait'], { cwd: workspace, env: jobEnv });
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  return { workspace, jobEnv, id, dir: jobDir(workspace, id) };
}

void test("a Together LoRA result that is an adapter says to give its downloaded base with --base DIR (a folder named as the base in the working folder is not it), and 'coi finetune gguf JOB --base DIR' converts it with that folder", async () => {
  const adapter = join(tempDir(), 'adapter');
  mkdirSync(adapter);
  writeFileSync(join(adapter, 'adapter_config.json'), '{"peft_type": "LORA"}\n');
  writeFileSync(join(adapter, 'adapter_model.safetensors'), 'weights');
  const adapterServer = await startTogetherTestServer({ apiKey: KEY, result: resultArchive(adapter) });
  try {
    const record = join(tempDir(), 'converter-args.json');
    // A training environment (the stand-in one), so the result is converted when it can be.
    const { workspace, jobEnv, id, dir } = await finishedLoraJob(adapterServer.baseURL, recordingConverter(record));
    const state = readState(dir);
    assert.equal(state.status, 'completed');
    assert.equal(state.message, `Downloaded a LoRA adapter to ${state.resultDir ?? ''}; converting it needs its base model as a local folder: download meta-llama/Llama-3.2-1B-Instruct (a Hugging Face model folder) and run 'coi finetune gguf ${id} --base DIR' with that folder.`);
    const without = await coiAsync(['finetune', 'gguf', id], { cwd: workspace, env: jobEnv });
    assert.equal(without.code, 2, without.stderr);
    assert.match(without.stderr, new RegExp(`^coi finetune: Job ${id}'s LoRA adapter is converted with the base model it was trained on, and its base model meta-llama/Llama-3\\.2-1B-Instruct is a Together model, not a folder here: download it \\(a Hugging Face model folder\\) and give that folder: 'coi finetune gguf ${id} --base DIR'\\. Nothing was converted\\.$`, 'm'));
    assert.equal(converterArgs(record), undefined);
    const downloaded = hfModelFolder(tempDir(), 'Llama-3.2-1B-Instruct');
    const converted = await coiAsync(['finetune', 'gguf', id, '--base', downloaded], { cwd: workspace, env: jobEnv });
    assert.equal(converted.code, 0, converted.stderr);
    const args = converterArgs(record) ?? [];
    assert.equal(args[0], state.resultDir);
    assert.equal(args[args.indexOf('--base') + 1], downloaded);
    assert.equal(readState(dir).ggufPath, join(dir, 'adapter-f16.gguf'));
  } finally {
    await adapterServer.close();
  }
});

void test("a Together LoRA job brings home Together's merged model: 'coi finetune gguf' converts it as a model (model-f16.gguf, no base, no LoRA-adapter wording) and 'coi finetune eval' runs it on its own, not as an adapter on the base; a folder in the working folder named as the base is not taken for it", async () => {
  const record = join(tempDir(), 'converter-args.json');
  const tiny = tinyModelPath();
  // The stand-in converter records its arguments and writes a GGUF node-llama-cpp loads (the tiny model).
  const { workspace, jobEnv, id, dir } = await finishedLoraJob(server.baseURL, recordingConverter(record, { copies: tiny }));
  const state = readState(dir);
  assert.equal(state.status, 'completed', state.message);
  assert.equal(state.ggufPath, join(dir, 'model-f16.gguf'));

  const converted = await coiAsync(['finetune', 'gguf', id, '--outtype', 'q8_0'], { cwd: workspace, env: jobEnv });
  assert.equal(converted.code, 0, converted.stderr);
  assert.equal(converted.stdout, `${join(dir, 'model-q8_0.gguf')}\n`);
  assert.doesNotMatch(converted.stdout + converted.stderr, /LoRA|adapter/);
  const args = converterArgs(record) ?? [];
  assert.equal(args[0], state.resultDir);
  assert.ok(!args.includes('--base'), `converted with a base: ${args.join(' ')}`);
  assert.equal(readState(dir).ggufPath, join(dir, 'model-q8_0.gguf'));

  const records = join(tempDir(), 'held-out.json');
  writeFileSync(records, JSON.stringify((JSON.parse(readFileSync(repoPath('test', 'fixtures', 'records', 'coi2-excerpt.json'), 'utf8')) as unknown[]).slice(0, 1)));
  const evalArgs = ['finetune', 'eval', id, '--data', records, '--max-tokens', '4', '--threads', '1'];
  // Without --base-gguf, the base is to be converted: a Together name is no folder here, the one in the working folder is not used.
  const noBase = await coiAsync(evalArgs, { cwd: workspace, env: jobEnv });
  assert.equal(noBase.code, 2, noBase.stderr);
  assert.match(noBase.stderr, /^coi finetune: The base model meta-llama\/Llama-3\.2-1B-Instruct is a Together model, not a folder here, so it cannot be converted to GGUF: download it \(a Hugging Face model folder\) and give that folder with --base DIR, or its GGUF with --base-gguf FILE\.$/m);
  assert.equal(existsSync(join(dir, 'base-q8_0.gguf')), false);
  const baseGguf = join(tempDir(), 'base.gguf');
  copyFileSync(tiny, baseGguf);
  const evaluated = await coiAsync([...evalArgs, '--base-gguf', baseGguf, '--json'], { cwd: workspace, env: jobEnv });
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const models = [...new Set((JSON.parse(evaluated.stdout) as { groups: { model: string }[] }).groups.map((g) => g.model))];
  assert.deepEqual(models.sort(), [baseGguf, join(dir, 'model-q8_0.gguf')].sort());
});

void test('a job runs to the end: data uploaded as chat JSONL after the plan is shown, hyper-parameters sent, events and metrics followed, the result downloaded and unpacked', async () => {
  const workspace = tempDir();
  const uploadsBefore = server.uploads.size;
  const result = await finetune(workspace, [...startArgs, '--method', 'lora', '--epochs', '2', '--learning-rate', '0.0001', '--wait']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`${examples} examples as chat JSONL`));
  assert.match(result.stderr, new RegExp(`upload to ${server.baseURL.replace(/[.]/g, '\\.')}/files`));
  assert.match(result.stderr, /step 4\/4 {2}epoch 1\.00 {2}loss 0\.7500/);
  const id = onlyJob(workspace);
  const dir = jobDir(workspace, id);
  const state = readState(dir);
  assert.equal(state.status, 'completed');
  assert.equal(state.engine, 'together');
  assert.ok(state.resultDir !== undefined && existsSync(join(state.resultDir, 'config.json')), 'the model folder is unpacked');
  assert.equal(statSync(join(state.resultDir, 'model.safetensors')).size, 200_000);
  assert.match(state.message ?? '', /coi finetune setup', then 'coi finetune gguf/);
  assert.ok(!existsSync(join(dir, 'result.archive')) && !existsSync(join(dir, 'result.archive.partial')), 'the unpacked archive is not kept');

  const losses = readMetrics(dir).map((m) => m.loss);
  assert.deepEqual(readMetrics(dir).map((m) => m.step), [1, 2, 3, 4]);
  assert.ok(losses.every((loss, i) => i === 0 || (loss ?? 0) < (losses[i - 1] ?? 0)), 'the loss falls');
  const log = readFileSync(join(dir, 'log'), 'utf8');
  assert.match(log, /\[together checkpoint_save\] step 2\/4 Checkpoint saved/);
  assert.match(log, /\[together job_complete\]/);

  const uploaded = [...server.uploads.values()].slice(uploadsBefore);
  assert.equal(uploaded.length, 1);
  const rows = (uploaded[0] ?? Buffer.alloc(0)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string }[] });
  assert.equal(rows.length, examples);
  assert.deepEqual(rows[0]?.messages.map((m) => m.role), ['system', 'user', 'assistant']);
  const create = server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/fine-tunes').at(-1)?.body as Record<string, unknown>;
  assert.equal(create['model'], 'meta-llama/Llama-3.2-1B-Instruct');
  assert.equal(create['n_epochs'], 2);
  assert.equal(create['learning_rate'], 0.0001);
  assert.equal(create['batch_size'], 4);
  assert.equal(create['gradient_accumulation_steps'], 8);
  assert.deepEqual(create['training_type'], { type: 'Lora', lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'all-linear' });
  assert.deepEqual(create['training_method'], { method: 'sft', train_on_inputs: false });
  const download = server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1);
  assert.equal(download?.query['checkpoint'], 'merged');

  // The key went in the Authorization header and nowhere else.
  assert.ok(server.requests.filter((r) => !r.path.startsWith('/v1/uploads/')).every((r) => r.authorization === `Bearer ${KEY}`));
  for (const file of filesUnder(workspace)) assert.ok(!readFileSync(file).includes(KEY), `${file} holds the API key`);
  assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY));
});

void test('a job the service fails shows the service\'s reason as the failure (a job without recorded metrics is still followed)', async () => {
  const workspace = tempDir();
  server.failNextJob('CUDA out of memory: lower the batch size');
  server.injectFaults([{ kind: 'status', status: 404, message: 'no metrics for this job' }], /^\/v1\/fine-tunes\/[^/]+\/metrics$/);
  const result = await finetune(workspace, [...startArgs, '--wait']);
  assert.equal(result.code, 1, result.stderr);
  const state = readState(jobDir(workspace, onlyJob(workspace)));
  assert.equal(state.status, 'failed');
  assert.equal(state.message, 'Together: CUDA out of memory: lower the batch size');
  assert.match(result.stdout, /failed .*Together: CUDA out of memory/);
});

void test('429s are retried with the SDK\'s backoff (honouring retry-after-ms), then the job goes on', async () => {
  const workspace = tempDir();
  const creates = server.count('/v1/fine-tunes', 'POST');
  server.injectFaults([{ kind: 'status', status: 429, retryAfterMs: 20, message: 'rate limited' }, { kind: 'status', status: 429, retryAfterMs: 20, message: 'rate limited' }], '/v1/fine-tunes');
  const result = await finetune(workspace, [...startArgs, '--wait']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(server.count('/v1/fine-tunes', 'POST') - creates, 3, 'two refused creates, then one accepted');
  assert.equal(readState(jobDir(workspace, onlyJob(workspace))).status, 'completed');
});

void test('a download cut mid-way is resumed with a Range request; cut every time, the job fails resumable with the partial file kept, and resume finishes it', async () => {
  const once = tempDir();
  server.injectFaults([{ kind: 'drop', afterBytes: 1000 }], '/v1/finetune/download');
  const resumed = await finetune(once, [...startArgs, '--wait']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const ranged = server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1);
  assert.match(ranged?.range ?? '', /^bytes=\d+-$/);
  const state = readState(jobDir(once, onlyJob(once)));
  assert.equal(state.status, 'completed');
  assert.equal(statSync(join(state.resultDir ?? '', 'model.safetensors')).size, 200_000);

  const broken = tempDir();
  server.injectFaults(Array.from({ length: 4 }, () => ({ kind: 'drop' as const, afterBytes: 500 })), '/v1/finetune/download');
  const failed = await finetune(broken, [...startArgs, '--wait']);
  assert.equal(failed.code, 1, failed.stderr);
  const id = onlyJob(broken);
  const dir = jobDir(broken, id);
  const failedState = readState(dir);
  assert.equal(failedState.status, 'failed');
  assert.match(failedState.message ?? '', /Downloading the result from Together failed 4 times .*kept in .*result\.archive\.partial.*coi finetune resume/);
  assert.ok(!existsSync(join(dir, 'result.archive')) && !existsSync(join(dir, 'result')), 'no archive or model folder that looks complete');
  assert.ok(statSync(join(dir, 'result.archive.partial')).size > 0);

  const again = await finetune(broken, ['resume', id, '--wait']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1)?.range ?? '', /^bytes=\d+-$/, 'continued from the partial file');
  const done = readState(dir);
  assert.equal(done.status, 'completed');
  assert.equal(done.resumes, 1);
  assert.equal(statSync(join(done.resultDir ?? '', 'model.safetensors')).size, 200_000);
});

void test('cancel stops the service\'s job at a checkpoint; resume starts a new one from it', async () => {
  const workspace = tempDir();
  const started = await finetune(workspace, startArgs);
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  for (let read = 0; read < 3; read++) await finetune(workspace, ['status', id]); // running, step 1, step 2 (a checkpoint)
  const cancelling = await finetune(workspace, ['cancel', id, '--json']);
  assert.equal(cancelling.code, 0, cancelling.stderr);
  assert.equal((JSON.parse(cancelling.stdout) as { status: string }).status, 'cancelling');
  const cancelled = await finetune(workspace, ['status', id, '--json']);
  const state = JSON.parse(cancelled.stdout) as { status: string; lastCheckpoint?: { path: string; step: number } };
  assert.equal(state.status, 'cancelled');
  assert.equal(state.lastCheckpoint?.step, 2);
  const remoteId = state.lastCheckpoint?.path.split(':')[0] ?? '';

  const resumed = await finetune(workspace, ['resume', id, '--wait']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const create = server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/fine-tunes').at(-1)?.body as Record<string, unknown>;
  assert.equal(create['from_checkpoint'], `${remoteId}:2`);
  assert.equal(readState(jobDir(workspace, id)).status, 'completed');
});

void test('nothing is uploaded without a confirmation, a key, or readable data; an unreachable service is said in one line', async () => {
  const cases: { args: readonly string[]; env?: Record<string, string>; code: number; message: RegExp; file?: string }[] = [
    { args: startArgs.filter((a) => a !== '--yes'), code: 2, message: /Nothing was uploaded: standard input is not a terminal.*add --yes/ },
    // A usage error (exit 2), as a missing hosted key is in coi run and coi dataset --singles.
    { args: startArgs, env: { TOGETHER_API_KEY: '' }, code: 2, message: /^coi finetune: No Together API key: set TOGETHER_API_KEY in the environment\. Nothing was uploaded\.\nRun 'coi finetune --help' for usage\.\n$/ },
    { args: [...startArgs, '--max-steps', '10'], code: 2, message: /Together trains whole epochs and has no step limit/ },
    { args: startArgs, env: { TOGETHER_BASE_URL: 'http://127.0.0.1:9/v1' }, code: 1, message: /Cannot reach http:\/\/127\.0\.0\.1:9\/v1\/files: fetch failed/ },
    { args: startArgs.map((a) => (a === data ? 'empty.jsonl' : a)), file: 'empty.jsonl', code: 1, message: /empty\.jsonl: no training example could be read \(the file is empty\)/ },
    { args: startArgs.map((a) => (a === data ? 'bad.jsonl' : a)), file: 'bad.jsonl', code: 1, message: /bad\.jsonl:1:12: no training example could be read: invalid JSON: Unexpected token/ },
  ];
  for (const c of cases) {
    const workspace = tempDir();
    if (c.file === 'empty.jsonl') writeFileSync(join(workspace, c.file), '');
    if (c.file === 'bad.jsonl') writeFileSync(join(workspace, c.file), '{"prompt": oops\n');
    const requests = server.requests.length;
    const result = await finetune(workspace, c.args, c.env);
    assert.equal(result.code, c.code, `${c.args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, c.message);
    assert.equal(server.requests.length, requests, 'no request reached the service');
  }
});

void test('a TOGETHER_BASE_URL holding a secret is refused (exit 2) by start and status, never repeated, never written into the job folder', async () => {
  const secret = 'PW-s3cret-9876';
  const withSecret = [server.baseURL.replace('http://', `http://user:${secret}@`), `${server.baseURL}?api_key=${secret}`, `${server.baseURL}?Subscription-Key=${secret}`];
  for (const url of withSecret) {
    const workspace = tempDir();
    const requests = server.requests.length;
    const result = await finetune(workspace, startArgs, { TOGETHER_BASE_URL: url });
    assert.equal(result.code, 2, `${url}: ${result.stderr}`);
    assert.match(result.stderr, /^coi finetune: TOGETHER_BASE_URL holds (a user name and password \(USER:PASSWORD@HOST\)|a key in its query \(\?(api_key|Subscription-Key)=…\)), which the job folder \(its log, together\.json and state\.json\) and messages would keep: set the key in TOGETHER_API_KEY \(or the editor's secret storage\) instead\. Nothing was sent to Together\./);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), result.stderr);
    assert.deepEqual(listJobIds(workspace), [], 'no job folder is made');
    assert.equal(server.requests.length, requests, 'no request reached the service');
  }
  // A job started with a plain URL, followed with one that holds a secret: refused, and nothing in its folder holds the secret.
  const workspace = tempDir();
  assert.equal((await finetune(workspace, startArgs)).code, 0);
  const id = onlyJob(workspace);
  for (const sub of ['status', 'cancel']) {
    const result = await finetune(workspace, [sub, id], { TOGETHER_BASE_URL: withSecret[0] as string });
    assert.equal(result.code, 2, `${sub}: ${result.stderr}`);
    assert.ok(!result.stderr.includes(secret), result.stderr);
  }
  const listed = await finetune(workspace, ['list'], { TOGETHER_BASE_URL: withSecret[1] as string });
  assert.match(listed.stdout, /Not brought up to date: TOGETHER_BASE_URL holds a key in its query/);
  assert.ok(!listed.stdout.includes(secret), listed.stdout);
  for (const file of filesUnder(jobDir(workspace, id))) assert.ok(!readFileSync(file, 'utf8').includes(secret), file);
});

void test('at a terminal the plan is followed by a question: only a typed yes uploads', async () => {
  for (const answer of ['', 'n', 'y']) {
    const workspace = tempDir();
    const uploads = server.uploads.size;
    const questions: string[] = [];
    let stderr = '';
    const io: CliIO = {
      stdout: () => undefined,
      stderr: (text) => void (stderr += text),
      cwd: workspace,
      env: env(),
      readStdin: () => Promise.resolve(Buffer.alloc(0)),
      ask: (question) => {
        questions.push(question);
        return Promise.resolve(answer);
      },
    };
    const code = await runCli(['finetune', ...startArgs.filter((a) => a !== '--yes')], io);
    assert.deepEqual(questions, ['Upload and start the job? [y/N] '], stderr);
    assert.match(stderr, /Together AI fine-tuning: this uploads your training data/);
    if (answer === 'y') {
      assert.equal(code, 0, stderr);
      assert.equal(server.uploads.size, uploads + 1);
      assert.equal(readState(jobDir(workspace, onlyJob(workspace))).status, 'queued');
    } else {
      assert.equal(code, 1, stderr);
      assert.match(stderr, /Nothing was uploaded \(not confirmed\)/);
      assert.equal(server.uploads.size, uploads);
      assert.deepEqual(listJobIds(workspace), []);
    }
  }
});

void test('without the key, or with a wrong one, jobs are still listed as last recorded, with why', async () => {
  const workspace = tempDir();
  const started = await finetune(workspace, startArgs);
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  const noKey = await finetune(workspace, ['list'], { TOGETHER_API_KEY: '' });
  assert.equal(noKey.code, 0, noKey.stderr);
  assert.match(noKey.stdout, new RegExp(`${id} {2}queued .*Not brought up to date: set TOGETHER_API_KEY`));
  const wrongKey = await finetune(workspace, ['list'], { TOGETHER_API_KEY: 'wrong-key' });
  assert.equal(wrongKey.code, 0, wrongKey.stderr);
  assert.match(wrongKey.stdout, /queued .*Not brought up to date: Together refused the API key \(401\): check TOGETHER_API_KEY/);
  const status = await finetune(workspace, ['status', id], { TOGETHER_API_KEY: 'wrong-key' });
  assert.equal(status.code, 1);
  assert.match(status.stderr, /Together refused the API key \(401\)/);
  assert.ok(!status.stderr.includes('wrong-key'));
});

void test('the download runs in the background with its progress in the state; cancel stops it, keeping the partial file, and resume finishes it', async () => {
  const workspace = tempDir();
  const context = { workspace, env: env() };
  const config = { engine: 'together' as const, baseModel: 'org/model', data, method: 'full' as const, training: PAPER_DEFAULTS };
  const { id } = createJob(workspace, config);
  const dir = jobDir(workspace, id);
  writeTogetherUpload(dir, planTogetherUpload(config, context.env));
  server.injectFaults([{ kind: 'stall', afterBytes: 4000 }], '/v1/finetune/download');
  await startJob(id, context);
  let state = await jobStatus(id, context);
  // Until the first bytes are on disk (the progress message names them); each turn yields to I/O.
  while (!/Downloading the result from Together: [\d.]+ of [\d.]+ MB/.test(state.message ?? '')) {
    assert.ok(!['completed', 'failed', 'cancelled'].includes(state.status), `ended before the download: ${state.message ?? ''}`);
    await new Promise(setImmediate);
    state = await jobStatus(id, context);
  }
  assert.equal(state.status, 'running');
  assert.equal((await jobStatus(id, context)).status, 'running', 'a reader is answered while the download hangs');
  assert.equal((await cancelJob(id, context)).status, 'cancelling');
  const cancelled = await waitForJob(context, id, { intervalMs: 20 });
  assert.equal(cancelled.status, 'cancelled');
  assert.match(cancelled.message ?? '', /download was stopped; the training itself succeeded: 'coi finetune resume/);
  assert.ok(existsSync(join(dir, 'result.archive.partial')) && !existsSync(join(dir, 'result.archive')) && !existsSync(join(dir, 'result')));
  assert.ok(!existsSync(join(dir, 'result.archive.lock')), 'the download lock is released');

  assert.equal((await resumeJob(id, context)).status, 'queued');
  const done = await waitForJob(context, id, { intervalMs: 20 });
  assert.equal(done.status, 'completed', done.message);
  assert.equal(statSync(join(done.resultDir ?? '', 'model.safetensors')).size, 200_000);
});

void test('a download that stalls is given up after the idle time and resumed from its bytes on disk', async () => {
  const workspace = tempDir();
  server.injectFaults([{ kind: 'stall', afterBytes: 3000 }], '/v1/finetune/download');
  const result = await finetune(workspace, [...startArgs, '--wait'], { COI_TOGETHER_IDLE_MS: '300' });
  assert.equal(result.code, 0, result.stderr);
  const state = readState(jobDir(workspace, onlyJob(workspace)));
  assert.equal(state.status, 'completed', state.message);
  assert.equal(server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1)?.range, 'bytes=3000-');
  assert.equal(statSync(join(state.resultDir ?? '', 'model.safetensors')).size, 200_000);
});

void test('a refusal while following a job ends --wait with the service\'s reason in one line (exit 1), the job kept as it was', async () => {
  const workspace = tempDir();
  server.injectFaults([{ kind: 'status', status: 403, message: 'Your account is suspended' }], /^\/v1\/fine-tunes\/[^/]+$/);
  const result = await finetune(workspace, [...startArgs, '--wait']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /coi finetune: Together answered 403 .*Your account is suspended/);
  assert.doesNotMatch(result.stderr, /internal error/);
  assert.equal(readState(jobDir(workspace, onlyJob(workspace))).status, 'queued');
});

void test('the editor\'s key (from its secret storage) reaches the engine in memory through withTogetherApiKey', async () => {
  const workspace = tempDir();
  const started = await finetune(workspace, startArgs);
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  const { TOGETHER_API_KEY: _key, ...withoutKey } = env();
  const keyless = { workspace, env: withoutKey };
  assert.match((await jobStatus(id, keyless)).message ?? '', /Not brought up to date: set TOGETHER_API_KEY/);
  const withKey = withTogetherApiKey(keyless, KEY);
  assert.equal(keyless.env['TOGETHER_API_KEY'], undefined, 'the given context is not changed');
  const followed = await waitForJob(withKey, id, { intervalMs: 20 });
  assert.equal(followed.status, 'completed', followed.message);
  for (const file of filesUnder(workspace)) assert.ok(!readFileSync(file).includes(KEY), `${file} holds the API key`);
});

void test('a coi killed mid-download leaves the partial file and a dead lock; the next status takes over and continues from the bytes on disk', async () => {
  const workspace = tempDir();
  server.injectFaults([{ kind: 'stall', afterBytes: 5000 }], '/v1/finetune/download');
  const killed = await coiAsync(['finetune', ...startArgs, '--wait'], {
    cwd: workspace,
    env: env(),
    onSpawn: (child) => {
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/Downloading the result from Together: [\d.]+ of/.test(stderr)) child.kill('SIGKILL');
      });
    },
  });
  assert.equal(killed.code, null, 'killed by the signal');
  const id = onlyJob(workspace);
  const dir = jobDir(workspace, id);
  assert.equal(readState(dir).status, 'running');
  assert.equal(statSync(join(dir, 'result.archive.partial')).size, 5000);
  assert.ok(existsSync(join(dir, 'result.archive.lock')), 'the dead process\'s lock is left');
  const status = await finetune(workspace, ['status', id]);
  assert.equal(status.code, 0, status.stderr);
  const done = await waitForJob({ workspace, env: env() }, id, { intervalMs: 20 });
  assert.equal(done.status, 'completed', done.message);
  assert.equal(server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1)?.range, 'bytes=5000-');
  assert.equal(statSync(join(done.resultDir ?? '', 'model.safetensors')).size, 200_000);
  assert.ok(!existsSync(join(dir, 'result.archive.lock')));
});

/** A job whose `coi finetune start` was killed with SIGKILL while it uploaded the data; its id. */
async function killedDuringUpload(workspace: string): Promise<string> {
  server.injectFaults([{ kind: 'stall', afterBytes: 0 }], '/v1/uploads/');
  const uploading = server.nextRequest('/v1/uploads/');
  const killed = coiAsync(['finetune', ...startArgs], { cwd: workspace, env: env(), onSpawn: (child) => void uploading.then(() => child.kill('SIGKILL')) });
  assert.equal((await killed).code, null, 'killed by the signal');
  return onlyJob(workspace);
}

void test('a coi killed during the upload leaves a job that the next status shows as failed with why, not queued forever', async () => {
  const workspace = tempDir();
  const id = await killedDuringUpload(workspace);
  assert.equal(readState(jobDir(workspace, id)).status, 'queued');
  const status = await finetune(workspace, ['status', id, '--json']);
  const state = JSON.parse(status.stdout) as { status: string; message: string };
  assert.equal(state.status, 'failed');
  assert.match(state.message, /The upload was interrupted \(the coi that started it, pid \d+, ended before Together created the job\); start a new job/);
});

const hasProcStart = processStartIdentity(process.ppid) !== undefined;

void test('after a reboot, the pid of the coi that was uploading can name another process: the job is still shown as interrupted', { skip: hasProcStart ? false : 'no /proc here: no start identity is recorded' }, async () => {
  const workspace = tempDir();
  const id = await killedDuringUpload(workspace);
  const sidecarFile = join(jobDir(workspace, id), 'together.json');
  const sidecar = JSON.parse(readFileSync(sidecarFile, 'utf8')) as Record<string, unknown>;
  assert.equal(typeof sidecar['startedByStart'], 'string', 'the uploading coi recorded its start identity');
  // The machine rebooted; the test runner (alive) now has the pid the uploading coi had.
  writeFileSync(sidecarFile, JSON.stringify({ ...sidecar, startedBy: process.ppid, startedByStart: 'an-earlier-boot:1' }));
  const status = await finetune(workspace, ['status', id, '--json']);
  assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'failed', status.stderr);
});

void test('a download lock whose pid another process has now (a reboot) is not held; its own process\'s is', { skip: hasProcStart ? false : 'no /proc here: no start identity is recorded' }, () => {
  const dir = tempDir();
  const lock = join(dir, DOWNLOAD_LOCK);
  writeFileSync(lock, `${process.ppid} an-earlier-boot:1`);
  assert.equal(downloadLockHeld(dir), false);
  writeFileSync(lock, `${process.ppid} ${processStartIdentity(process.ppid) ?? ''}`);
  assert.equal(downloadLockHeld(dir), true);
  writeFileSync(lock, String(process.ppid)); // as written before the identity was recorded
  assert.equal(downloadLockHeld(dir), true);
});

void test('a partial file that already holds every byte (a coi stopped before the rename) completes on the next try without downloading again', async () => {
  const workspace = tempDir();
  const finished = await finetune(workspace, [...startArgs, '--wait']);
  assert.equal(finished.code, 0, finished.stderr);
  const remoteId = server.requests.filter((r) => r.path === '/v1/finetune/download').at(-1)?.query['ft_id'] ?? '';
  const client = new Together({ apiKey: KEY, baseURL: server.baseURL });
  const whole = join(tempDir(), 'whole.archive');
  await downloadResult(client, { ft_id: remoteId, checkpoint: 'model_output_path' }, whole);
  const target = join(tempDir(), 'again.archive');
  copyFileSync(whole, `${target}.partial`);
  await downloadResult(client, { ft_id: remoteId, checkpoint: 'model_output_path' }, target);
  assert.deepEqual(readFileSync(target), readFileSync(whole));
  assert.equal(server.requests.at(-1)?.range, `bytes=${statSync(whole).size}-`, 'asked only for what was missing (nothing)');
});

void test('a together.json whose service ids are not ids (a crafted "../files") sends nothing to the service with the key', async () => {
  const workspace = tempDir();
  const started = await finetune(workspace, startArgs);
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  const sidecarFile = join(jobDir(workspace, id), 'together.json');
  const sidecar = JSON.parse(readFileSync(sidecarFile, 'utf8')) as Record<string, unknown>;
  for (const crafted of ['../files', 'ft-1/../../files', 'ft-1?purpose=x']) {
    writeFileSync(sidecarFile, JSON.stringify({ ...sidecar, remoteJobId: crafted }));
    const before = server.requests.length;
    const listed = await finetune(workspace, ['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(server.requests.slice(before).map((r) => `${r.method} ${r.path}`), [], `nothing requested for ${crafted}`);
  }
});

void test('a key given with a trailing newline (pasted from a file) is sent trimmed, and Together echoing it back in an error is shown as [key]', async () => {
  const workspace = tempDir();
  server.injectFaults([{ kind: 'status', status: 400, message: `Invalid request for Authorization: Bearer ${KEY}` }], '/v1/fine-tunes');
  const result = await finetune(workspace, startArgs, { TOGETHER_API_KEY: `${KEY}\n` });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /Bearer \[key\]/);
  assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY), result.stderr);
  for (const file of filesUnder(workspace)) assert.ok(!readFileSync(file).includes(KEY), `${file} holds the API key`);
});

void test('without the key, status, cancel and resume of a Together job are usage errors (exit 2) in the words of start; logs needs no key', async () => {
  const workspace = tempDir();
  const started = await finetune(workspace, startArgs);
  assert.equal(started.code, 0, started.stderr);
  const id = onlyJob(workspace);
  for (let read = 0; read < 3; read++) await finetune(workspace, ['status', id]); // running, step 1, step 2 (a checkpoint)
  const noKey = { TOGETHER_API_KEY: '' };
  const requests = server.requests.length;
  for (const sub of ['status', 'cancel']) {
    const result = await finetune(workspace, [sub, id], noKey);
    assert.equal(result.code, 2, `${sub}: ${result.stderr}`);
    assert.equal(result.stderr, "coi finetune: No Together API key: set TOGETHER_API_KEY in the environment. Nothing was sent to Together.\nRun 'coi finetune --help' for usage.\n", sub);
  }
  const logs = await finetune(workspace, ['logs', id], noKey);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(readState(jobDir(workspace, id)).status, 'running', 'the job is as it was');
  // A job that can be resumed: cancelled with the key, resumed without it.
  assert.equal((await finetune(workspace, ['cancel', id])).code, 0);
  assert.equal((await finetune(workspace, ['status', id])).code, 0);
  assert.equal(readState(jobDir(workspace, id)).status, 'cancelled');
  const before = server.requests.length;
  const resumed = await finetune(workspace, ['resume', id], noKey);
  assert.equal(resumed.code, 2, resumed.stderr);
  assert.equal(resumed.stderr, "coi finetune: No Together API key: set TOGETHER_API_KEY in the environment. Nothing was sent to Together.\nRun 'coi finetune --help' for usage.\n");
  assert.equal(server.requests.length, before, 'nothing reached the service without the key');
  assert.ok(requests > 0);
});
