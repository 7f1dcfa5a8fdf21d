// Fine-tuning jobs the editor refuses before anything is sent or written (CoI: Start Fine-tuning
// Job…, as the side panel's New job… form calls it): a TOGETHER_BASE_URL that holds a secret (a
// user name and password, or a key in its query) — nothing reaches the server and the message does
// not repeat the secret — and a Slurm job whose batch script would name a path with a line break
// (it would end its #SBATCH line and run the rest as a command). No job folder is made either way.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { venvLocation, type JobForm } from '../../core/finetune';
import type { StartJobResult } from '../../webview/protocol';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';
import { activateExtension, fixtureUri } from './util';

type Env = Readonly<Record<string, string | undefined>>;

/** Runs `body` with `vars` set in the extension host's environment (the extension reads process.env), then puts back what was there. */
async function withEnv<T>(vars: Env, body: () => Thenable<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const put = (values: Env): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  put(vars);
  try {
    return await body();
  } finally {
    put(saved);
  }
}

function problemsOf(result: StartJobResult): readonly string[] {
  assert.ok(result !== null && 'problems' in result, `refused, not started: ${JSON.stringify(result)}`);
  return result.problems;
}

describe('fine-tuning jobs refused before anything is sent or written', function () {
  this.timeout(60_000);
  const win = vscode.window as unknown as Record<string, unknown>;
  const stubbed = ['showInformationMessage', 'showErrorMessage'] as const;
  const saved = new Map<string, unknown>();
  /** The confirmations asked (modal) and the errors shown, while a test runs. */
  let asked: string[];
  let errors: string[];
  let inputs: string;
  const jobs = (): string => fixtureUri('.coi-jobs').fsPath;
  const jobsNow = (): string[] => (existsSync(jobs()) ? readdirSync(jobs()).sort() : []);
  let jobsBefore: string[];

  before(async () => {
    await activateExtension();
    for (const name of stubbed) saved.set(name, win[name]);
    inputs = mkdtempSync(join(tmpdir(), 'coi-suite-refusals-'));
    mkdirSync(join(inputs, 'base-model'));
    writeFileSync(join(inputs, 'base-model', 'config.json'), '{"model_type": "llama"}\n');
    writeFileSync(join(inputs, 'train.jsonl'), ['Name a colour.', 'Name a fruit.'].map((prompt, i) => JSON.stringify({ prompt, completion: ['Blue.', 'A pear.'][i] })).join('\n') + '\n');
  });
  beforeEach(() => {
    asked = [];
    errors = [];
    jobsBefore = jobsNow();
    // A confirmation (modal) is answered with its last button (Start, Submit, Upload and Start): were a
    // refusal missing, the job would go ahead and the test would see what it sent and wrote.
    win.showInformationMessage = async (message: string, ...rest: unknown[]) => {
      const modal = typeof rest[0] === 'object' && rest[0] !== null && (rest[0] as { modal?: boolean }).modal === true;
      if (!modal) return undefined;
      asked.push(message);
      return rest.at(-1);
    };
    win.showErrorMessage = async (message: string) => {
      errors.push(message);
      return undefined;
    };
  });
  afterEach(() => {
    for (const [name, fn] of saved) win[name] = fn;
  });
  after(() => {
    rmSync(inputs, { recursive: true, force: true });
  });

  describe('Together AI with a TOGETHER_BASE_URL that holds a secret', () => {
    let server: OpenAITestServer;
    before(async () => {
      server = await startOpenAITestServer();
    });
    after(async () => {
      await server.close();
    });

    for (const { what, url, secret } of [
      { what: 'a user name and password', url: (base: string) => base.replace('http://', 'http://coi-user:s3cret-pass@'), secret: /s3cret-pass|coi-user/ },
      { what: 'a key in its query', url: (base: string) => `${base}?api_key=q-key-4242`, secret: /q-key-4242/ },
    ]) {
      it(`the New job form's start is refused for ${what}: nothing sent, no job folder, the secret not repeated`, async () => {
        // A key is set, so it is the URL, not a missing key, that refuses the job.
        const result = await withEnv({ TOGETHER_BASE_URL: url(server.baseURL), TOGETHER_API_KEY: 'suite-made-up-key' }, () =>
          vscode.commands.executeCommand<StartJobResult>('coi.startFinetuneJob', { engine: 'together', baseModel: 'org/model', data: join(inputs, 'train.jsonl'), method: 'lora' } satisfies JobForm),
        );
        const problems = problemsOf(result);
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0] ?? '', new RegExp(`^TOGETHER_BASE_URL holds ${what}`));
        assert.doesNotMatch(problems.join('\n'), secret);
        assert.deepEqual(server.requests.map((r) => `${r.method} ${r.path}`), [], 'no request reached the server');
        assert.deepEqual(asked, [], 'refused before the confirmation');
        assert.deepEqual(jobsNow(), jobsBefore, 'no job folder made');
      });
    }
  });

  describe('Slurm with a path that holds a line break', () => {
    let caches: string;
    before(() => {
      caches = mkdtempSync(join(tmpdir(), 'coi-suite-slurm-'));
    });
    after(() => {
      rmSync(caches, { recursive: true, force: true });
    });

    /** COI_CACHE_DIR of a training environment that counts as set up (prepare() asks that first), under `name`. */
    function readyCacheNamed(name: string): string {
      const cache = join(caches, name);
      const venv = venvLocation({ COI_CACHE_DIR: cache });
      mkdirSync(venv.dir, { recursive: true });
      writeFileSync(join(venv.dir, '.coi-ready'), 'suite\n');
      return cache;
    }

    it("the New job form's start is refused when the training environment's Python would be named with a line break", async () => {
      // The form has no output folder field and the workspace is the suite's own: the path of the form's
      // job that can hold a line break is the environment's python, under COI_CACHE_DIR (a folder
      // named so, made ready here; nothing runs it).
      const cache = readyCacheNamed('cache\ntouch PWNED #');
      const result = await withEnv({ COI_CACHE_DIR: cache }, () =>
        vscode.commands.executeCommand<StartJobResult>('coi.startFinetuneJob', { engine: 'slurm', baseModel: join(inputs, 'base-model'), data: join(inputs, 'train.jsonl'), method: 'lora' } satisfies JobForm),
      );
      const problems = problemsOf(result);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /^The training environment's Python \(under COI_CACHE_DIR\) ".*cache\\ntouch PWNED #.*" holds a line break/);
      assert.deepEqual(asked, [], 'refused before the batch script is shown');
      assert.deepEqual(jobsNow(), jobsBefore, 'no job folder (nor job.sbatch) made');
    });

    it("a job file's outputDir with a line break is refused the same way", async () => {
      const config = fixtureUri('line-break.coi-finetune.json').fsPath;
      const outputDir = 'trained\ntouch PWNED #';
      writeFileSync(config, JSON.stringify({ engine: 'slurm', baseModel: join(inputs, 'base-model'), data: join(inputs, 'train.jsonl'), method: 'lora', outputDir }, null, 2));
      try {
        const result = await withEnv({ COI_CACHE_DIR: readyCacheNamed('ready') }, () => vscode.commands.executeCommand<StartJobResult>('coi.startFinetuneJob', config));
        const problems = problemsOf(result);
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0] ?? '', /^The output folder \(outputDir, --out\) ".*trained\\ntouch PWNED #" holds a line break/);
        assert.equal(errors.length, 1, 'said in an error message (no form to show it beside)');
        assert.match(errors[0] ?? '', /^Cannot start the fine-tuning job: The output folder/);
        assert.deepEqual(asked, [], 'refused before the batch script is shown');
        assert.deepEqual(jobsNow(), jobsBefore, 'no job folder (nor job.sbatch) made');
        assert.equal(existsSync(fixtureUri(outputDir).fsPath), false, 'the output folder tried for writing is not left behind');
      } finally {
        rmSync(config, { force: true });
      }
    });
  });
});
