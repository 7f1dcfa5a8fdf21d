/**
 * `coi finetune setup|start|status|logs|cancel|resume|list` — fine-tuning jobs
 * (core/finetune). Jobs live in `.coi-jobs/<id>/` of the working directory and run on
 * after this command ends; `--wait` follows one to its end (Ctrl-C then cancels it: the
 * job saves a checkpoint that `coi finetune resume` continues from).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../command';
import { numberOption, parseArgs, type ParsedArgs } from '../args';
import { CliError, describeFsError, EXIT_OK, FileError, UsageError } from '../errors';
import type { CliIO } from '../io';
import { cancelledExitCode, withInterrupt } from './runSupport';
import {
  BASE_EVALUATION_MAX_TOKENS,
  baseGgufPath,
  convertToGguf,
  createJob,
  ensureBaseGguf,
  ensureJobGguf,
  jobGgufPath,
  FinetuneError,
  ensureVenv,
  jobDir,
  listJobIds,
  missingInputs,
  jobSummary,
  LORA_DEFAULTS,
  PAPER_DEFAULTS,
  outTypeOf,
  parseFinetuneConfig,
  profileRefusal,
  readDistributed,
  readSlurm,
  batchScript,
  slurmTarget,
  PythonSetupError,
  readConfig,
  readMetrics,
  readState,
  TERMINAL_STATUSES,
  updateState,
  validationDataOf,
  venvLocation,
  waitForJob,
  cancelJob,
  jobStatus,
  resumeJob,
  startJob,
  planTogetherUpload,
  writeTogetherUpload,
  TOGETHER_API_KEY_ENV,
  UPLOAD_FILE,
  type TogetherUploadPlan,
  type DistributedParams,
  type SlurmParams,
  type GgufOutType,
  type JobConfig,
  type JobState,
  type MetricEvent,
} from '../../core/finetune';

const SUBCOMMANDS = ['setup', 'start', 'status', 'logs', 'cancel', 'resume', 'list', 'gguf', 'eval'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const command: Command = {
  name: 'finetune',
  usage: 'coi finetune setup|start|status|logs|cancel|resume|list|gguf|eval [options] [JOB|CONFIG]',
  description:
    'setup: make the Python environment (outside the repository, reused). start: start a job from a *.coi-finetune.json CONFIG or from --base/--data/--method; it runs on in the background (--wait follows it). ' +
    'status/logs/cancel/resume JOB: one job (its id from `coi finetune list`). Cancel saves a checkpoint; resume continues a cancelled or failed job from its last checkpoint. ' +
    'eval JOB: evaluate the converted fine-tune against its base model (converted to GGUF once, kept in the job folder) with `coi eval` on the paper\'s records: the job\'s validation file, or --data FILE; the store goes to the job folder and the comparison is printed. ' +
    'Defaults are the paper\'s: 3 epochs, batch 4 per device, gradient accumulation 8, learning rate 2e-5, warm-up 0.03, weight decay 0, bf16 where available.',
  options: [
    { name: 'json', kind: 'flag', description: 'Print JSON (the job state, or a list of them) on standard output.' },
    { name: 'engine', kind: 'value', choices: ['trl', 'slurm', 'together'], defaultValue: 'trl', description: 'start: trl (a local process), slurm (a batch job submitted with the sbatch on PATH; the job folder must be on a filesystem every node sees) or together (Together AI: the data is uploaded after you confirm; the key comes from TOGETHER_API_KEY).' },
    { name: 'partition', kind: 'value', valueName: 'NAME', description: 'start --engine slurm: sbatch --partition.' },
    { name: 'time', kind: 'value', valueName: 'LIMIT', description: 'start --engine slurm: sbatch --time (e.g. 4:00:00); a checkpoint is saved 120 s before it.' },
    { name: 'account', kind: 'value', valueName: 'NAME', description: 'start --engine slurm: sbatch --account.' },
    { name: 'sbatch-arg', kind: 'value', valueName: 'OPTION', description: 'start --engine slurm: another sbatch option, repeatable (--sbatch-arg=--qos=high).' },
    { name: 'dry-run', kind: 'flag', description: 'start --engine slurm: print the batch script and submit nothing.' },
    { name: 'base', kind: 'value', valueName: 'MODEL', description: 'The base model: a Hugging Face model folder (start).' },
    { name: 'data', kind: 'value', valueName: 'FILE', description: 'Prompt-completion JSONL training data (start).' },
    { name: 'base', kind: 'value', valueName: 'MODEL', description: 'The base model (start): a Hugging Face model folder; with --engine together, a Together model name.' },
    { name: 'data', kind: 'value', valueName: 'FILE', description: 'Training data in any dataset format (start).' },
    { name: 'yes', short: 'y', kind: 'flag', description: 'start --engine together: upload without asking (needed when standard input is not a terminal).' },
    { name: 'method', kind: 'value', choices: ['full', 'lora'], defaultValue: 'full', description: 'Full fine-tuning or a LoRA adapter (start).' },
    { name: 'epochs', kind: 'value', valueName: 'N', description: 'Epochs (start).' },
    { name: 'max-steps', kind: 'value', valueName: 'N', description: 'Stop after N optimiser steps (start).' },
    { name: 'strategy', kind: 'value', choices: ['ddp', 'deepspeed-zero2', 'deepspeed-zero3', 'fsdp'], description: 'start: train on several GPUs or nodes with this strategy (writes the job\'s accelerate config; needs --gpus).' },
    { name: 'gpus', kind: 'value', valueName: 'N', description: 'start: GPUs per node (with --strategy).' },
    { name: 'nodes', kind: 'value', valueName: 'N', description: 'start: machines (with --strategy; default 1).' },
    { name: 'learning-rate', kind: 'value', valueName: 'LR', description: 'Learning rate (start).' },
    { name: 'batch-size', kind: 'value', valueName: 'N', description: 'Per-device batch size (start).' },
    { name: 'grad-accum', kind: 'value', valueName: 'N', description: 'Gradient accumulation steps (start).' },
    { name: 'save-steps', kind: 'value', valueName: 'N', description: 'Save a checkpoint every N steps; 0: at the end and on cancel only (start).' },
    { name: 'out', short: 'o', kind: 'value', valueName: 'DIR', description: 'start: output folder of the model and checkpoints (default: in the job folder). gguf: the GGUF file.' },
    { name: 'base-gguf', kind: 'value', valueName: 'FILE', description: 'eval: the base model as GGUF (default: converted from the job\'s base folder).' },
    { name: 'mode', kind: 'value', choices: ['stepwise', 'composed', 'both'], defaultValue: 'composed', description: 'eval: how each record runs (the fine-tune learnt composed instructions).' },
    { name: 'template', kind: 'value', choices: ['chat', 'alpaca'], defaultValue: 'alpaca', description: 'eval: the prompt format (training used the Alpaca prompt).' },
    { name: 'threads', kind: 'value', valueName: 'N', description: 'eval: CPU threads of the local models.' },
    { name: 'max-tokens', kind: 'value', valueName: 'N', description: `eval: the most tokens per answer (default ${BASE_EVALUATION_MAX_TOKENS}).` },
    { name: 'outtype', kind: 'value', choices: ['f32', 'f16', 'bf16', 'q8_0'], defaultValue: 'f16', description: 'GGUF tensor type (gguf).' },
    { name: 'wait', short: 'w', kind: 'flag', description: 'Follow the job to its end, showing progress (start, resume).' },
  ],
  examples: [
    'coi finetune gguf ft-20261205012200-a1b2c3 --outtype q8_0',
    'coi finetune setup',
    'coi finetune start --base ./tiny-hf --data train.jsonl --method lora --max-steps 50 --wait',
    'coi finetune start my-run.coi-finetune.json',
    'TOGETHER_API_KEY=... coi finetune start --engine together --base meta-llama/Meta-Llama-3.1-8B-Instruct-Reference --data train.jsonl --method lora --wait',
    'coi finetune status ft-20261205012200-a1b2c3 --json',
    'coi finetune cancel ft-20261205012200-a1b2c3',
    'coi finetune eval ft-20261205012200-a1b2c3 --data held-out.json --json',
  ],

  async run(context) {
    const [sub, ...rest] = context.args.positionals;
    if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(sub === undefined ? `Name what to do: ${SUBCOMMANDS.join(', ')}.` : `Unknown finetune command '${sub}': the commands are ${SUBCOMMANDS.join(', ')}.`, 'finetune');
    }
    return runSub(sub as Subcommand, rest, context);
  },
};

async function runSub(sub: Subcommand, rest: readonly string[], { args, io }: CommandContext): Promise<number> {
  const workspace = io.cwd;
  const engineContext = { workspace, env: io.env };
  switch (sub) {
    case 'setup':
      return setup(args, io);
    case 'list': {
      // A job whose engine cannot be asked (a service refusing the key) is listed as last recorded, with why.
      const states = await Promise.all(listJobIds(workspace).map((id) => jobStatus(id, engineContext).catch((err: unknown) => ({ ...readState(jobDir(workspace, id)), message: `Not brought up to date: ${err instanceof Error ? err.message : String(err)}` }))));
      if (args.has('json')) io.stdout(JSON.stringify(states, null, 2) + '\n');
      else if (states.length === 0) io.stderr('No fine-tuning jobs in this folder.\n');
      else for (const state of states) io.stdout(summaryLine(state, readMetrics(jobDir(workspace, state.id)).at(-1)) + '\n');
      return EXIT_OK;
    }
    case 'start': {
      const config = startConfig(args, rest, io);
      const upload = config.engine === 'together' ? await confirmUpload(config, args, io) : undefined;
      const state = createJob(workspace, config);
      if (upload !== undefined) writeTogetherUpload(jobDir(workspace, state.id), upload);
      if (config.engine === 'slurm') {
        const shown = await showBatchScript(state.id, args, io);
        if (shown !== undefined) return shown;
      }
      // The resolved job before it starts (also in config.json), then the command line it ran (also in `command`).
      io.stderr(`Job ${state.id}:\n${jobSummary(config).replace(/^/gm, '  ')}\n`);
      const started = await engineCall(() => startJob(state.id, engineContext));
      if (config.engine === 'trl') io.stderr(`Command (saved as ${join(jobDir(workspace, state.id), 'command')}):\n  ${readFileSync(join(jobDir(workspace, state.id), 'command'), 'utf8').trim()}\n`);
      return engineCall(() => follow(started, args, io));
    }
    case 'gguf':
      return gguf(jobIdArgument(rest, workspace, sub), args, io);
    case 'eval':
      return evaluateAgainstBase(jobIdArgument(rest, workspace, sub), args, io);
    case 'status':
    case 'logs':
    case 'cancel':
    case 'resume': {
      const id = jobIdArgument(rest, workspace, sub);
      if (sub === 'logs') {
        const log = `${jobDir(workspace, id)}/log`;
        if (existsSync(log)) io.stdout(readFileSync(log, 'utf8'));
        else io.stderr(`Job ${id} has no log yet.\n`);
        return EXIT_OK;
      }
      const state = await engineCall(() => (sub === 'status' ? jobStatus(id, engineContext) : sub === 'cancel' ? cancelJob(id, engineContext) : resumeJob(id, engineContext)));
      return sub === 'resume' ? engineCall(() => follow(state, args, io)) : print(state, args, io);
    }
  }
}

async function gguf(id: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = jobDir(io.cwd, id);
  const state = await jobStatus(id, { workspace: io.cwd, env: io.env });
  if (state.status !== 'completed' || state.resultDir === undefined) throw new CliError(`Job ${id} is ${state.status}: only a completed job can be converted.`);
  const config = readConfig(dir);
  const outType = (args.value('outtype') ?? 'f16') as GgufOutType;
  const outFile = args.value('out') === undefined ? jobGgufPath(dir, config, outType) : resolve(io.cwd, args.value('out') ?? '');
  const venv = venvLocation(io.env);
  if (!venv.ready) throw new CliError("The training environment is not set up: run 'coi finetune setup' first.");
  if (!args.has('json')) io.stderr(`Converting ${state.resultDir} to ${outType} GGUF...\n`);
  const written = await engineCall(() => withInterrupt(io, (signal) => convertToGguf({ venv, source: state.resultDir ?? '', baseModel: config.baseModel, outFile, outType, env: io.env, signal })));
  const updated = updateState(dir, 'completed', { ggufPath: written });
  if (args.has('json')) io.stdout(JSON.stringify(updated, null, 2) + '\n');
  else io.stdout(`${written}${config.method === 'lora' ? ` (LoRA adapter: load it on ${config.baseModel} converted to GGUF)` : ''}\n`);
  return EXIT_OK;
}

async function setup(args: ParsedArgs, io: CliIO): Promise<number> {
  const before = venvLocation(io.env);
  if (!before.ready) io.stderr(`Making the training environment in ${before.dir} (a few minutes the first time)...\n`);
  const venv = await engineCall(() => withInterrupt(io, (signal) => ensureVenv({ env: io.env, signal, onOutput: (line) => { if (line.startsWith('Successfully') || line.startsWith('Collecting')) io.stderr(`  ${line.trim()}\n`); } })));
  if (args.has('json')) io.stdout(JSON.stringify({ python: venv.python, dir: venv.dir }, null, 2) + '\n');
  else io.stderr(`Training environment ready: ${venv.python}\n`);
  return EXIT_OK;
}

/** Starts or follows a job; with --wait, Ctrl-C cancels it (a checkpoint is saved) and the exit code is 130. */
async function follow(state: JobState, args: ParsedArgs, io: CliIO): Promise<number> {
  if (!args.has('wait')) {
    const where = state.slurmJobId !== undefined ? ` (Slurm job ${state.slurmJobId})` : state.pid !== undefined ? ` (pid ${state.pid})` : '';
    if (!args.has('json')) io.stderr(`Started job ${state.id}${where}. Follow it with 'coi finetune status ${state.id}'.\n`);
    return print(state, args, io);
  }
  const dir = jobDir(io.cwd, state.id);
  let shown = 0;
  let interrupted: AbortSignal | undefined;
  const final = await withInterrupt(io, async (signal) => {
    let said = state.message;
    const onTick = (): void => {
      const metrics = readMetrics(dir);
      for (const event of metrics.slice(shown)) io.stderr(progressLine(event) + '\n');
      shown = metrics.length;
      // What the engine says between steps (a hosted job's queue position, its download's progress).
      const current = readState(dir);
      if (current.message !== undefined && current.message !== said && !TERMINAL_STATUSES.has(current.status)) io.stderr(`${current.message}\n`);
      said = current.message;
    };
    const context = { workspace: io.cwd, env: io.env };
    let result = await waitForJob(context, state.id, { signal, onTick });
    if (signal.aborted) {
      interrupted = signal;
      await cancelJob(state.id, context);
      result = await waitForJob(context, state.id, { onTick });
    }
    return result;
  });
  print(final, args, io);
  if (interrupted !== undefined) return cancelledExitCode(interrupted);
  return final.status === 'completed' ? EXIT_OK : 1;
}

function print(state: JobState, args: ParsedArgs, io: CliIO): number {
  if (args.has('json')) io.stdout(JSON.stringify(state, null, 2) + '\n');
  else io.stdout(summaryLine(state, readMetrics(jobDir(io.cwd, state.id)).at(-1)) + '\n');
  return EXIT_OK;
}

function summaryLine(state: JobState, last: MetricEvent | undefined): string {
  const progress = last === undefined ? '' : ` step ${last.step}${last.maxSteps === undefined ? '' : `/${last.maxSteps}`}${last.loss === undefined ? '' : ` loss ${last.loss.toFixed(4)}`}`;
  const checkpoint = state.lastCheckpoint === undefined ? '' : ` checkpoint ${state.lastCheckpoint.path}`;
  const message = state.message === undefined ? '' : ` — ${state.message}`;
  return `${state.id}  ${state.status}${progress}${checkpoint}${state.resultDir === undefined ? '' : ` model ${state.resultDir}`}${message}`;
}

function progressLine(event: MetricEvent): string {
  const parts = [`step ${event.step}${event.maxSteps === undefined ? '' : `/${event.maxSteps}`}`];
  if (event.epoch !== undefined) parts.push(`epoch ${event.epoch.toFixed(2)}`);
  if (event.loss !== undefined) parts.push(`loss ${event.loss.toFixed(4)}`);
  if (event.learningRate !== undefined) parts.push(`lr ${event.learningRate.toExponential(2)}`);
  if (event.tokensPerSecond !== undefined) parts.push(`${Math.round(event.tokensPerSecond)} tok/s`);
  if (event.etaSeconds !== undefined) parts.push(`ETA ${Math.round(event.etaSeconds)} s`);
  return parts.join('  ');
}

function startConfig(args: ParsedArgs, rest: readonly string[], io: CliIO): JobConfig {
  const [file] = rest;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, file), 'utf8');
    } catch (err) {
      throw new FileError(`Cannot read '${file}': ${describeFsError(err)}.`);
    }
    const parsed = parseFinetuneConfig(text);
    if (parsed.config === undefined) throw new CliError(parsed.problems.map((p) => `${file}:${p.line}:${p.column}: error: ${p.message}`).join('\n'));
    const baseModel = parsed.config.engine === 'together' ? parsed.config.baseModel : resolve(io.cwd, parsed.config.baseModel); // a Together model name, not a path
    const config = { ...parsed.config, baseModel, data: resolve(io.cwd, parsed.config.data) };
    const missing = missingInputs(config);
    if (missing.length > 0) throw new FileError(missing.map((m) => `${file}: ${m}`).join('\n'));
    return config;
  }
  const base = args.value('base');
  const data = args.value('data');
  const engine = (args.value('engine') ?? 'trl') as JobConfig['engine']; // one of the option's choices (the parser checks)
  if (base === undefined || data === undefined) throw new UsageError('Give a CONFIG file, or --base MODEL and --data FILE.', 'finetune');
  const missing = missingInputs({ engine, baseModel: resolve(io.cwd, base), data: resolve(io.cwd, data) });
  if (missing.length > 0) throw new FileError(missing.join('\n'));
  const method = args.value('method') === 'lora' ? 'lora' : 'full';
  const maxSteps = numberOption(args, 'max-steps', 'finetune', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  const pick = (name: string, integer: boolean): number | undefined => numberOption(args, name, 'finetune', { min: 0, max: Number.MAX_SAFE_INTEGER, integer });
  const training = {
    ...PAPER_DEFAULTS,
    ...defined('epochs', pick('epochs', false)),
    ...defined('maxSteps', maxSteps),
    ...defined('learningRate', pick('learning-rate', false)),
    ...defined('perDeviceBatchSize', pick('batch-size', true)),
    ...defined('gradientAccumulationSteps', pick('grad-accum', true)),
    ...defined('saveSteps', pick('save-steps', true)),
  };
  const out = args.value('out');
  const distributed = distributedOption(args);
  const slurm = slurmOptions(args, engine);
  return {
    engine,
    ...(slurm !== undefined ? { slurm } : {}),
    baseModel: engine === 'together' ? base : resolve(io.cwd, base), // a Together model name, not a path
    data: resolve(io.cwd, data),
    method,
    training,
    ...(method === 'lora' ? { lora: LORA_DEFAULTS } : {}),
    ...(out === undefined ? {} : { outputDir: resolve(io.cwd, out) }),
    ...(distributed === undefined ? {} : { distributed }),
  };
}

/** `--partition --time --account --sbatch-arg`, checked as a config file's `slurm` is. */
function slurmOptions(args: ParsedArgs, engine: JobConfig['engine']): SlurmParams | undefined {
  const raw = {
    ...(args.value('partition') !== undefined ? { partition: args.value('partition') } : {}),
    ...(args.value('time') !== undefined ? { timeLimit: args.value('time') } : {}),
    ...(args.value('account') !== undefined ? { account: args.value('account') } : {}),
    ...(args.values('sbatch-arg').length > 0 ? { sbatchArgs: args.values('sbatch-arg') } : {}),
  };
  if (Object.keys(raw).length === 0 && !args.has('dry-run')) return undefined;
  if (engine !== 'slurm') throw new UsageError('--partition, --time, --account, --sbatch-arg and --dry-run go with --engine slurm.', 'finetune');
  const problems: string[] = [];
  const slurm = readSlurm(raw, (_key, message) => problems.push(message));
  if (problems.length > 0) throw new UsageError(problems.join(' '), 'finetune');
  return slurm;
}

/**
 * A Slurm job's batch script, shown before it is submitted (on standard error; with --dry-run
 * on standard output, and nothing is submitted: the job folder is removed again).
 */
async function showBatchScript(id: string, args: ParsedArgs, io: CliIO): Promise<number | undefined> {
  const dir = jobDir(io.cwd, id);
  const venv = venvLocation(io.env);
  const script = batchScript(dir, io.cwd, readConfig(dir), venv.python, io.env, undefined);
  if (args.has('dry-run')) {
    io.stdout(script);
    rmSync(dir, { recursive: true, force: true });
    return EXIT_OK;
  }
  io.stderr(`Submitting to ${await slurmTarget(io.env)}; the batch script (saved as ${join(dir, 'job.sbatch')}):\n${script.replace(/^/gm, '  ')}\n`);
  return undefined;
}

/**
 * What a Together job will upload, and where, shown before anything leaves the machine;
 * it goes ahead only on a typed yes (or --yes). Without a terminal and without --yes it refuses.
 */
async function confirmUpload(config: JobConfig, args: ParsedArgs, io: CliIO): Promise<TogetherUploadPlan> {
  const key = io.env[TOGETHER_API_KEY_ENV];
  if (key === undefined || key.trim() === '') throw new CliError(`No Together API key: set ${TOGETHER_API_KEY_ENV} in the environment.`);
  if (!existsSync(config.data)) throw new FileError(`Training data '${config.data}' not found.`);
  const plan = await engineCall(() => Promise.resolve(planTogetherUpload(config, io.env)));
  const t = config.training;
  const lines = [
    'Together AI fine-tuning: this uploads your training data.',
    `  file      ${UPLOAD_FILE} (kept in the job folder): ${plan.examples} examples as chat JSONL from ${plan.source}, ${plan.bytes.toLocaleString('en-US')} bytes`,
    ...plan.issues.slice(0, 5).map((issue) => `  left out  ${plan.source}:${issue.line}: ${issue.message}`),
    ...(plan.issues.length > 5 ? [`  left out  ${plan.issues.length - 5} more unreadable rows`] : []),
    `  upload to ${plan.endpoint}`,
    `  job       ${config.baseModel}, ${config.method === 'lora' ? `LoRA r ${config.lora?.r ?? '?'}` : 'full'}, ${t.epochs} epochs, learning rate ${t.learningRate}, batch ${t.perDeviceBatchSize} × ${t.gradientAccumulationSteps} accumulation`,
  ];
  io.stderr(lines.join('\n') + '\n');
  if (args.has('yes')) return plan;
  if (io.ask === undefined) throw new UsageError('Nothing was uploaded: standard input is not a terminal, so the upload cannot be confirmed; add --yes to upload without asking.', 'finetune');
  const answer = (await io.ask('Upload and start the job? [y/N] ')).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CliError('Nothing was uploaded (not confirmed).');
  return plan;
}

/** `--strategy S --gpus N [--nodes M]`, checked as a config file's `distributed` is. */
function distributedOption(args: ParsedArgs): DistributedParams | undefined {
  const strategy = args.value('strategy');
  const gpus = numberOption(args, 'gpus', 'finetune', { min: 1, max: 1024, integer: true });
  const nodes = numberOption(args, 'nodes', 'finetune', { min: 1, max: 4096, integer: true });
  if (strategy === undefined) {
    if (gpus !== undefined || nodes !== undefined) throw new UsageError('--gpus and --nodes go with --strategy (ddp, deepspeed-zero2, deepspeed-zero3 or fsdp).', 'finetune');
    return undefined;
  }
  if (gpus === undefined) throw new UsageError('--strategy needs --gpus N (GPUs per node).', 'finetune');
  const problems: string[] = [];
  const distributed = readDistributed({ strategy, gpus, ...(nodes !== undefined ? { nodes } : {}) }, (_key, message) => problems.push(message));
  if (distributed === undefined) throw new UsageError(problems.join(' '), 'finetune');
  return distributed;
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function jobIdArgument(rest: readonly string[], workspace: string, sub: string): string {
  const [id] = rest;
  if (id === undefined) throw new UsageError(`Name the job to ${sub} (see 'coi finetune list').`, 'finetune');
  const known = listJobIds(workspace);
  if (!known.includes(id)) throw new CliError(`No job '${id}' in ${jobDir(workspace, '')}${known.length > 0 ? ` (jobs: ${known.slice(0, 5).join(', ')})` : ''}.`, 2);
  try {
    readConfig(jobDir(workspace, id));
  } catch (err) {
    throw new FileError(`Job '${id}' has no readable config.json: ${describeFsError(err)}.`);
  }
  return id;
}

/** Engine and setup errors are the user's to fix (missing Python, a job in the wrong state): one line, no stack. Others are bugs (exit 70). */
async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof Error && err.name === 'AbortError') throw new CliError('Cancelled.', 130);
    if (err instanceof PythonSetupError || err instanceof FinetuneError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * `coi finetune eval JOB`: the base model and the fine-tune side by side through `coi eval`
 * (the same evaluation, store, report, progress, Ctrl-C and `--resume`), on the paper's
 * records held out from training. The store goes into the job folder; the job records it.
 */
async function evaluateAgainstBase(id: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = jobDir(io.cwd, id);
  let state = await jobStatus(id, { workspace: io.cwd, env: io.env });
  const config = readConfig(dir);
  const refusal = profileRefusal(state);
  if (refusal !== undefined) throw new CliError(refusal);
  const venv = venvLocation(io.env);
  if (state.ggufPath === undefined) {
    if (!venv.ready) throw new CliError(`Job ${id} has no GGUF yet and the training environment (which converts it) is not set up: run 'coi finetune setup', or 'coi finetune gguf ${id}' where it is.`);
    if (!args.has('json')) io.stderr(`Converting job ${id}'s ${config.method === 'lora' ? 'adapter' : 'model'} to f16 GGUF (once; 'coi finetune gguf' picks another type)...\n`);
    state = (await engineCall(() => withInterrupt(io, (signal) => ensureJobGguf({ jobFolder: dir, state, config, venv, env: io.env, signal })))).state;
  }
  const tunedGguf = state.ggufPath ?? '';
  const given = args.value('data');
  const data = given !== undefined ? resolve(io.cwd, given) : validationDataOf(config);
  if (data === undefined) throw new UsageError(`Job ${id} has no validation file beside its training data (${config.data}): give the held-out records with --data FILE (the paper's records, JSON or JSONL).`, 'finetune');
  if (!existsSync(data)) throw new FileError(`Cannot read ${data}: no such file or directory.`);
  const baseOption = args.value('base-gguf');
  let base: string;
  if (baseOption !== undefined) base = resolve(io.cwd, baseOption);
  else {
    const kept = existsSync(baseGgufPath(dir, outTypeOf(tunedGguf)));
    if (!kept && !venv.ready) throw new CliError("The base model must be converted to GGUF and the training environment is not set up: run 'coi finetune setup' first, or give --base-gguf FILE.");
    if (!kept && !args.has('json')) io.stderr(`Base model: converting ${config.baseModel} to GGUF (once; kept in the job folder)...\n`);
    const converted = state;
    base = await engineCall(() => withInterrupt(io, (signal) => ensureBaseGguf({ jobFolder: dir, state: converted, config, venv, env: io.env, signal })));
  }
  const out = join(dir, 'eval', new Date().toISOString().replace(/[:.]/g, '-'));
  // A LoRA adapter runs on the base: `base.gguf?lora=adapter.gguf` (core/runner/modelSpec.ts).
  const tuned = config.method === 'lora' ? `${base}?lora=${tunedGguf}` : tunedGguf;
  const argv = ['--records', data, '--model', base, '--model', tuned, '--mode', args.value('mode') ?? 'composed', '--template', args.value('template') ?? 'alpaca', '--out', out, '--name', `${id} vs base`];
  const threads = args.value('threads');
  if (threads !== undefined) argv.push('--threads', threads);
  argv.push('--max-tokens', args.value('max-tokens') ?? String(BASE_EVALUATION_MAX_TOKENS));
  if (args.has('json')) argv.push('--json');
  const evalCommand = (await import('./eval.js')).command;
  const code = await evalCommand.run({ args: parseArgs(argv, evalCommand.options, 'eval'), io });
  if (existsSync(join(out, 'eval.json'))) updateState(dir, state.status, { evaluation: out });
  return code;
}
