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
  baseGgufPath,
  convertToGguf,
  createJob,
  ensureBaseGguf,
  FinetuneError,
  ensureVenv,
  jobDir,
  listJobIds,
  LORA_DEFAULTS,
  PAPER_DEFAULTS,
  outTypeOf,
  parseFinetuneConfig,
  profileRefusal,
  readDistributed,
  readSlurm,
  describeCluster,
  writeBatchScript,
  PythonSetupError,
  readConfig,
  readMetrics,
  updateState,
  validationDataOf,
  venvLocation,
  waitForJob,
  cancelJob,
  jobStatus,
  resumeJob,
  startJob,
  type DistributedParams,
  type GgufOutType,
  type JobConfig,
  type JobState,
  type MetricEvent,
  type SlurmParams,
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
    { name: 'engine', kind: 'value', choices: ['trl', 'slurm'], description: "start: where the job runs: trl (this machine, the default) or slurm (submitted with the sbatch on PATH; the job folder, Python environment and model on a filesystem the nodes share). Overrides a CONFIG file's engine." },
    { name: 'partition', kind: 'value', valueName: 'NAME', description: 'start --engine slurm: the Slurm partition.' },
    { name: 'account', kind: 'value', valueName: 'NAME', description: 'start --engine slurm: the Slurm account to charge.' },
    { name: 'time-limit', kind: 'value', valueName: 'TIME', description: 'start --engine slurm: the time limit (Slurm format, e.g. 04:00:00); the training saves a checkpoint 120 s before it.' },
    { name: 'sbatch-arg', kind: 'value', valueName: 'OPTION', description: 'start --engine slurm: a further sbatch option, e.g. --sbatch-arg=--qos=high (repeatable).' },
    { name: 'dry-run', kind: 'flag', description: 'start --engine slurm: print the batch script and submit nothing.' },
    { name: 'base', kind: 'value', valueName: 'MODEL', description: 'The base model: a Hugging Face model folder (start).' },
    { name: 'data', kind: 'value', valueName: 'FILE', description: 'Prompt-completion JSONL training data (start).' },
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
    { name: 'max-tokens', kind: 'value', valueName: 'N', description: 'eval: the most tokens per answer.' },
    { name: 'outtype', kind: 'value', choices: ['f32', 'f16', 'bf16', 'q8_0'], defaultValue: 'f16', description: 'GGUF tensor type (gguf).' },
    { name: 'wait', short: 'w', kind: 'flag', description: 'Follow the job to its end, showing progress (start, resume).' },
  ],
  examples: [
    'coi finetune gguf ft-20261205012200-a1b2c3 --outtype q8_0',
    'coi finetune setup',
    'coi finetune start --base ./tiny-hf --data train.jsonl --method lora --max-steps 50 --wait',
    'coi finetune start my-run.coi-finetune.json',
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
      const states = await Promise.all(listJobIds(workspace).map((id) => jobStatus(id, engineContext)));
      if (args.has('json')) io.stdout(JSON.stringify(states, null, 2) + '\n');
      else if (states.length === 0) io.stderr('No fine-tuning jobs in this folder.\n');
      else for (const state of states) io.stdout(summaryLine(state, readMetrics(jobDir(workspace, state.id)).at(-1)) + '\n');
      return EXIT_OK;
    }
    case 'start': {
      const config = startConfig(args, rest, io);
      if (args.has('dry-run') && config.engine !== 'slurm') throw new UsageError('--dry-run goes with --engine slurm (it prints the batch script).', 'finetune');
      const state = createJob(workspace, config);
      if (config.engine === 'slurm' && (await showBatchScript(state.id, args, io))) return EXIT_OK;
      const started = await engineCall(() => startJob(state.id, engineContext));
      return follow(started, args, io);
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
      return sub === 'resume' ? follow(state, args, io) : print(state, args, io);
    }
  }
}

async function gguf(id: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = jobDir(io.cwd, id);
  const state = await jobStatus(id, { workspace: io.cwd, env: io.env });
  if (state.status !== 'completed' || state.resultDir === undefined) throw new CliError(`Job ${id} is ${state.status}: only a completed job can be converted.`);
  const config = readConfig(dir);
  const outType = (args.value('outtype') ?? 'f16') as GgufOutType;
  const outFile = args.value('out') === undefined ? `${dir}/${config.method === 'lora' ? 'adapter' : 'model'}-${outType}.gguf` : resolve(io.cwd, args.value('out') ?? '');
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
    if (!args.has('json')) io.stderr(`Started job ${state.id} (${state.slurmJobId !== undefined ? `Slurm job ${state.slurmJobId}` : `pid ${state.pid ?? '?'}`}). Follow it with 'coi finetune status ${state.id}'.\n`);
    return print(state, args, io);
  }
  const dir = jobDir(io.cwd, state.id);
  let shown = 0;
  let interrupted: AbortSignal | undefined;
  const final = await withInterrupt(io, async (signal) => {
    const onTick = (): void => {
      const metrics = readMetrics(dir);
      for (const event of metrics.slice(shown)) io.stderr(progressLine(event) + '\n');
      shown = metrics.length;
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

/**
 * Writes the job's batch script and shows it before it is submitted (on standard error; on
 * standard output with --dry-run, which then removes the job again). True when nothing is to be submitted.
 */
async function showBatchScript(id: string, args: ParsedArgs, io: CliIO): Promise<boolean> {
  const dir = jobDir(io.cwd, id);
  let script: string;
  try {
    script = writeBatchScript(id, { workspace: io.cwd, env: io.env });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof PythonSetupError) throw new CliError(err.message);
    throw err;
  }
  if (args.has('dry-run')) {
    rmSync(dir, { recursive: true, force: true });
    io.stdout(script);
    io.stderr(`Dry run for ${await describeCluster(io.env)}: nothing was submitted and no job was kept.\n`);
    return true;
  }
  io.stderr(`Submitting ${join(dir, 'job.sbatch')} to ${await describeCluster(io.env)}:\n${script}`); // standard error: --json keeps standard output for the state
  return false;
}

/** `--partition --account --time-limit --sbatch-arg` over the config file's `slurm` settings, checked the same way. */
function slurmOptions(args: ParsedArgs, fromFile: SlurmParams | undefined): SlurmParams | undefined {
  const given: Record<string, unknown> = { ...fromFile };
  for (const [option, key] of [['partition', 'partition'], ['account', 'account'], ['time-limit', 'timeLimit']] as const) {
    const value = args.value(option);
    if (value !== undefined) given[key] = value;
  }
  if (args.values('sbatch-arg').length > 0) given['sbatchArgs'] = [...(fromFile?.sbatchArgs ?? []), ...args.values('sbatch-arg')];
  if (Object.keys(given).length === 0) return undefined;
  const problems: string[] = [];
  const slurm = readSlurm(given, (_key, message) => problems.push(message));
  if (problems.length > 0) throw new UsageError(problems.join(' '), 'finetune');
  return slurm;
}

function startConfig(args: ParsedArgs, rest: readonly string[], io: CliIO): JobConfig {
  const config = configOfArgs(args, rest, io);
  const engine = (args.value('engine') as JobConfig['engine'] | undefined) ?? config.engine;
  const slurm = slurmOptions(args, config.slurm);
  if (engine !== 'slurm' && slurm !== undefined) throw new UsageError('--partition, --account, --time-limit and --sbatch-arg go with --engine slurm.', 'finetune');
  const withoutSlurm: JobConfig = { ...config };
  delete (withoutSlurm as { slurm?: SlurmParams }).slurm;
  return { ...withoutSlurm, engine, ...(slurm === undefined ? {} : { slurm }) };
}

function configOfArgs(args: ParsedArgs, rest: readonly string[], io: CliIO): JobConfig {
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
    return { ...parsed.config, baseModel: resolve(io.cwd, parsed.config.baseModel), data: resolve(io.cwd, parsed.config.data) };
  }
  const base = args.value('base');
  const data = args.value('data');
  if (base === undefined || data === undefined) throw new UsageError('Give a CONFIG file, or --base MODEL and --data FILE.', 'finetune');
  if (!existsSync(resolve(io.cwd, base))) throw new FileError(`Base model folder '${base}' not found.`);
  if (!existsSync(resolve(io.cwd, data))) throw new FileError(`Training data '${data}' not found.`);
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
  return {
    engine: 'trl',
    baseModel: resolve(io.cwd, base),
    data: resolve(io.cwd, data),
    method,
    training,
    ...(method === 'lora' ? { lora: LORA_DEFAULTS } : {}),
    ...(out === undefined ? {} : { outputDir: resolve(io.cwd, out) }),
    ...(distributed === undefined ? {} : { distributed }),
  };
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
  const state = await jobStatus(id, { workspace: io.cwd, env: io.env });
  const config = readConfig(dir);
  const refusal = profileRefusal(state, config);
  if (refusal !== undefined || state.ggufPath === undefined) throw new CliError(refusal ?? `Job ${id} has no GGUF.`);
  const given = args.value('data');
  const data = given !== undefined ? resolve(io.cwd, given) : validationDataOf(config);
  if (data === undefined) throw new UsageError(`Job ${id} has no validation file beside its training data (${config.data}): give the held-out records with --data FILE (the paper's records, JSON or JSONL).`, 'finetune');
  if (!existsSync(data)) throw new FileError(`Cannot read ${data}: no such file or directory.`);
  const baseOption = args.value('base-gguf');
  let base: string;
  if (baseOption !== undefined) base = resolve(io.cwd, baseOption);
  else {
    const venv = venvLocation(io.env);
    const kept = existsSync(baseGgufPath(dir, outTypeOf(state.ggufPath)));
    if (!kept && !venv.ready) throw new CliError("The base model must be converted to GGUF and the training environment is not set up: run 'coi finetune setup' first, or give --base-gguf FILE.");
    if (!kept && !args.has('json')) io.stderr(`Base model: converting ${config.baseModel} to GGUF (once; kept in the job folder)...\n`);
    base = await engineCall(() => withInterrupt(io, (signal) => ensureBaseGguf({ jobFolder: dir, state, config, venv, env: io.env, signal })));
  }
  const out = join(dir, 'eval', new Date().toISOString().replace(/[:.]/g, '-'));
  const argv = ['--records', data, '--model', base, '--model', state.ggufPath, '--mode', args.value('mode') ?? 'composed', '--template', args.value('template') ?? 'alpaca', '--out', out, '--name', `${id} vs base`];
  for (const option of ['threads', 'max-tokens'] as const) {
    const value = args.value(option);
    if (value !== undefined) argv.push(`--${option}`, value);
  }
  if (args.has('json')) argv.push('--json');
  const evalCommand = (await import('./eval.js')).command;
  const code = await evalCommand.run({ args: parseArgs(argv, evalCommand.options, 'eval'), io });
  if (existsSync(join(out, 'eval.json'))) updateState(dir, state.status, { evaluation: out });
  return code;
}
