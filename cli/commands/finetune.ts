/**
 * `coi finetune setup|start|status|logs|cancel|resume|list` — fine-tuning jobs
 * (core/finetune). Jobs live in `.coi-jobs/<id>/` of the working directory and run on
 * after this command ends; `--wait` follows one to its end (Ctrl-C then cancels it: the
 * job saves a checkpoint that `coi finetune resume` continues from).
 */
import { existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isInsideFolder } from '../../core/syntax';
import { commandHelp, type Command, type CommandContext } from '../command';
import { numberOption, parseArgs, type OptionSpec, type ParsedArgs } from '../args';
import { refuseOptionsOfOtherSubcommands, type SubcommandOptions } from '../subcommandOptions';
import { CliError, describeFsError, EXIT_OK, FileError, UsageError } from '../errors';
import { decodeText, readTextBytes, refuseNonUtf8Source } from '../files';
import type { CliIO } from '../io';
import { statusLine } from '../statusLine';
import { cancellationSubject, cancelledBy, cancelledExitCode, withInterrupt } from './runSupport';
import { plural } from '../plural';
import {
  BASE_EVALUATION_MAX_TOKENS,
  baseFolderProblem,
  baseGgufPath,
  baseModelIn,
  convertToGguf,
  isLoraAdapter,
  describeOutputFolderProblem,
  outputFolderProblem,
  hasGgufMagic,
  createJob,
  ensureBaseGguf,
  jobsRoot,
  readTrainingData,
  togetherRefusal,
  NOT_FOR_TOGETHER,
  writeTrainingFile,
  type OverridableKey,
  type TrainingDataProgress,
  type TrainingDataRead,
  type TrainingParams,
  ensureJobGguf,
  jobGgufPath,
  resultIsAdapter,
  baseModelFolder,
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
  slurmScriptProblem,
  slurmTarget,
  sbatchArgsProblem,
  PythonSetupError,
  readConfig,
  readMetrics,
  readState,
  TERMINAL_STATUSES,
  updateState,
  validationDataOf,
  venvLocation,
  waitForJob,
  cancelActiveJob,
  cancelJob,
  jobStatus,
  resumeJob,
  startNewJob,
  trainingEnvironmentRefusal,
  newJobId,
  withPathsIn,
  trainingDataRecord,
  conversionProblem,
  GGUF_LOG,
  planTogetherUpload,
  writeTogetherUpload,
  TOGETHER_API_KEY_ENV,
  NO_TOGETHER_KEY,
  TogetherBaseUrlError,
  TogetherKeyMissingError,
  togetherKeyNeeded,
  UPLOAD_FILE,
  type TogetherUploadPlan,
  type DistributedParams,
  type SlurmParams,
  type GgufOutType,
  type GgufOptions,
  type GgufProgress,
  type JobConfig,
  type JobState,
  type MetricEvent,
} from '../../core/finetune';
import { readDataset, type DatasetIssue } from '../../core/dataset';

const SUBCOMMANDS = ['setup', 'start', 'status', 'logs', 'cancel', 'resume', 'list', 'gguf', 'eval'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/**
 * An option of `coi finetune` with what it does for each subcommand it goes with: `coi finetune
 * SUB --help` shows that subcommand's words (`--out FILE` for gguf, `--out DIR` for start), and
 * `coi finetune --help` all of them, each after its subcommand (or `description`, where one text
 * says it better). Given to any other subcommand, it is refused (exit 2), not ignored: `--threads
 * 1` with `start` would be read as a limit on training, `--wait` with `status` as a promise to wait.
 */
interface FinetuneOption extends Omit<OptionSpec, 'description' | 'valueName'> {
  readonly for: Readonly<Partial<Record<Subcommand, string>>>;
  /** The value's name, where it differs by subcommand (`--out DIR` for start, `--out FILE` for gguf). */
  readonly valueName?: string | Readonly<Partial<Record<Subcommand, string>>>;
  /** For `coi finetune --help`; default: each subcommand's text after its name. */
  readonly description?: string;
}

const EACH = (text: string, subs: readonly Subcommand[]): Partial<Record<Subcommand, string>> => Object.fromEntries(subs.map((sub) => [sub, text]));
const START = (text: string): Partial<Record<Subcommand, string>> => ({ start: text });
const EVAL = (text: string): Partial<Record<Subcommand, string>> => ({ eval: text });
const SLURM = (text: string): Partial<Record<Subcommand, string>> => START(`--engine slurm: ${text}`);

const FINETUNE_OPTION_LIST: readonly FinetuneOption[] = [
  {
    name: 'json',
    kind: 'flag',
    description: 'Print JSON on standard output: the job state (start, status, cancel, resume, gguf), a list of them (list), the job, its log file and its lines (logs), the environment (setup), the evaluation report (eval).',
    for: {
      setup: 'Print the training environment as JSON on standard output: {"python", "dir"}.',
      start: 'Print the job state as JSON on standard output (with --dry-run: one object with the summary, the batch script, the config and the folder the job would go in).',
      ...EACH('Print the job state as JSON on standard output.', ['status', 'cancel', 'resume']),
      logs: 'Print {"job", "log", "lines"} on standard output: the job, its log file and its lines.',
      list: 'Print the jobs as a JSON array of job states on standard output (one whose folder cannot be read: {"id", "folder", "unreadable"}).',
      gguf: 'Print the job state, with its ggufPath, as JSON on standard output.',
      eval: "Print coi eval's report as JSON on standard output.",
    },
  },
  { name: 'engine', kind: 'value', choices: ['trl', 'slurm', 'together'], defaultValue: 'trl', for: START('trl (a local process), slurm (a batch job submitted with the sbatch on PATH; the job folder must be on a filesystem every node sees) or together (Together AI: the data is uploaded after you confirm; the key comes from TOGETHER_API_KEY).') },
  { name: 'partition', kind: 'value', valueName: 'NAME', for: SLURM('sbatch --partition.') },
  { name: 'time', kind: 'value', valueName: 'LIMIT', for: SLURM('sbatch --time (e.g. 4:00:00); a checkpoint is saved 120 s before it.') },
  { name: 'account', kind: 'value', valueName: 'NAME', for: SLURM('sbatch --account.') },
  { name: 'sbatch-arg', kind: 'value', valueName: 'OPTION', for: SLURM('another sbatch option, repeatable (--sbatch-arg=--qos=high).') },
  { name: 'dry-run', kind: 'flag', for: SLURM('print the job summary and its batch script (with --json, both in one object); no job is made, nothing is submitted.') },
  {
    name: 'base',
    kind: 'value',
    valueName: { start: 'MODEL', gguf: 'DIR', eval: 'DIR' },
    for: {
      start: 'The base model: a Hugging Face model folder; with --engine together, a Together model name.',
      gguf: "A LoRA job's base model folder, in place of the one the job recorded (moved, or a Together model downloaded): the adapter is converted with it.",
      eval: "The job's base model folder, in place of the one the job recorded (moved, or a Together model downloaded): a LoRA adapter not converted yet is converted with it, and the base model to GGUF from it (unless its GGUF is kept or --base-gguf is given).",
    },
  },
  {
    name: 'data',
    kind: 'value',
    valueName: 'FILE',
    for: {
      start: 'Training data in any dataset format (coi dataset convert --help lists them), converted into the job folder as the engine trains on it.',
      eval: "The held-out records to evaluate on: the paper's records, JSON or JSONL (default: the validation file beside the job's training data).",
    },
  },
  { name: 'yes', short: 'y', kind: 'flag', for: START('--engine together: upload without asking (needed when standard input is not a terminal).') },
  { name: 'method', kind: 'value', choices: ['full', 'lora'], defaultValue: 'full', for: START('Full fine-tuning or a LoRA adapter.') },
  { name: 'epochs', kind: 'value', valueName: 'N', for: START('Epochs.') },
  { name: 'max-steps', kind: 'value', valueName: 'N', for: START('Stop after N optimiser steps.') },
  { name: 'strategy', kind: 'value', choices: ['ddp', 'deepspeed-zero2', 'deepspeed-zero3', 'fsdp'], for: START("Train on several GPUs or nodes with this strategy (writes the job's accelerate config; needs --gpus).") },
  { name: 'gpus', kind: 'value', valueName: 'N', for: START('GPUs per node (with --strategy).') },
  { name: 'nodes', kind: 'value', valueName: 'N', for: START('Machines (with --strategy; default 1).') },
  { name: 'learning-rate', kind: 'value', valueName: 'LR', for: START('Learning rate.') },
  { name: 'batch-size', kind: 'value', valueName: 'N', for: START('Per-device batch size.') },
  { name: 'grad-accum', kind: 'value', valueName: 'N', for: START('Gradient accumulation steps.') },
  { name: 'save-steps', kind: 'value', valueName: 'N', for: START('Save a checkpoint every N steps; 0: at the end and on cancel only.') },
  {
    name: 'out',
    short: 'o',
    kind: 'value',
    valueName: { start: 'DIR', gguf: 'FILE' },
    for: {
      start: 'The output folder of the model and checkpoints (default: in the job folder).',
      gguf: "The GGUF file to write (default: model-TYPE.gguf or adapter-TYPE.gguf in the job folder); an existing GGUF there is replaced.",
    },
  },
  { name: 'base-gguf', kind: 'value', valueName: 'FILE', for: EVAL("The base model as GGUF (default: converted from the job's base folder).") },
  { name: 'mode', kind: 'value', choices: ['stepwise', 'composed', 'both'], defaultValue: 'composed', for: EVAL('How each record runs (the fine-tune learnt composed instructions).') },
  { name: 'template', kind: 'value', choices: ['chat', 'alpaca'], defaultValue: 'alpaca', for: EVAL('The prompt format (training used the Alpaca prompt).') },
  { name: 'threads', kind: 'value', valueName: 'N', for: EVAL('CPU threads of the local models.') },
  { name: 'context', kind: 'value', valueName: 'TOKENS', for: EVAL("Context size of the local models (default: node-llama-cpp's choice for the model and memory): raise it when a record's prompt does not fit.") },
  { name: 'max-tokens', kind: 'value', valueName: 'N', for: EVAL(`The most tokens per answer (default ${BASE_EVALUATION_MAX_TOKENS}).`) },
  { name: 'resume', kind: 'value', valueName: 'STORE', for: EVAL('Continue an evaluation of the job that was stopped (Ctrl-C, a model down), running only what is missing: the store it printed (.coi-jobs/JOB/eval/TIMESTAMP). Its data and settings come from the store; only --threads, --context and --json go with it.') },
  { name: 'outtype', kind: 'value', choices: ['f32', 'f16', 'bf16', 'q8_0'], defaultValue: 'f16', for: { gguf: 'GGUF tensor type.' } },
  { name: 'wait', short: 'w', kind: 'flag', for: EACH('Follow the job to its end, showing progress; Ctrl-C then cancels it (a checkpoint is saved).', ['start', 'resume']) },
];

/** The option as `coi finetune --help` shows it: every subcommand's words, each after its name (the same words once, after all their names). */
function generalSpec(option: FinetuneOption): OptionSpec {
  const bySub = Object.entries(option.for) as [Subcommand, string][];
  const texts = [...new Set(bySub.map(([, text]) => text))];
  const after = (subs: string, text: string): string => (text.startsWith('--') ? `${subs} ${text}` : `${subs}: ${/^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text}`);
  const description = option.description ?? texts.map((text) => after(bySub.filter(([, t]) => t === text).map(([sub]) => sub).join(', '), text)).join(' ');
  // A path that is a folder for one subcommand and a file for another is a PATH (still refused empty: PATH_VALUE_NAMES).
  return specWith(option, description, typeof option.valueName === 'object' ? 'PATH' : option.valueName);
}

/** The option as `coi finetune SUB --help` shows it, or nothing when it does not go with SUB. */
function subcommandSpec(option: FinetuneOption, sub: Subcommand): OptionSpec[] {
  const text = option.for[sub];
  if (text === undefined) return [];
  return [specWith(option, text, typeof option.valueName === 'object' ? option.valueName[sub] : option.valueName)];
}

function specWith(option: FinetuneOption, description: string, valueName: string | undefined): OptionSpec {
  const { for: _for, description: _general, valueName: _names, ...spec } = option;
  return { ...spec, description, ...(valueName !== undefined ? { valueName } : {}) };
}

/** The subcommands each option goes with (`--json` goes with every one). */
export const OPTION_SUBCOMMANDS: Readonly<Record<string, readonly Subcommand[]>> = Object.fromEntries(FINETUNE_OPTION_LIST.map((option) => [option.name, Object.keys(option.for) as Subcommand[]]));

export const command: Command = {
  name: 'finetune',
  usage: 'coi finetune setup|start|status|logs|cancel|resume|list|gguf|eval [options] [JOB|CONFIG]',
  description:
    'setup: make the Python environment (outside the repository, reused). start: start a job from a *.coi-finetune.json CONFIG or from --base/--data/--method; it runs on in the background (--wait follows it). ' +
    'status/logs/cancel/resume JOB: one job (its id from `coi finetune list`). Cancel saves a checkpoint; resume continues a cancelled or failed job from its last checkpoint. ' +
    'eval JOB: evaluate the converted fine-tune against its base model (converted to GGUF once, kept in the job folder) with `coi eval` on the paper\'s records: the job\'s validation file, or --data FILE; the store goes to the job folder and the comparison is printed; Ctrl-C keeps what finished, and --resume STORE continues it. ' +
    'Options given with a CONFIG file override its keys (the job summary names them). Defaults are the paper\'s: 3 epochs, batch 4 per device, gradient accumulation 8, learning rate 2e-5, warm-up 0.03, weight decay 0, bf16 where available.',
  options: FINETUNE_OPTION_LIST.map(generalSpec),
  examples: [
    'coi finetune gguf ft-20261205012200-a1b2c3 --outtype q8_0',
    'coi finetune gguf ft-20261205012200-a1b2c3 --base ~/models/Llama-3.2-1B-Instruct',
    'coi finetune setup',
    'coi finetune start --base ./tiny-hf --data train.jsonl --method lora --max-steps 50 --wait',
    'coi finetune start my-run.coi-finetune.json',
    'TOGETHER_API_KEY=... coi finetune start --engine together --base meta-llama/Meta-Llama-3.1-8B-Instruct-Reference --data train.jsonl --method lora --wait',
    'coi finetune status ft-20261205012200-a1b2c3 --json',
    'coi finetune cancel ft-20261205012200-a1b2c3',
    'coi finetune eval ft-20261205012200-a1b2c3 --data held-out.json --json',
    'coi finetune eval ft-20261205012200-a1b2c3 --resume .coi-jobs/ft-20261205012200-a1b2c3/eval/2026-12-05T10-00-00-000Z',
  ],

  // `coi finetune train --help`: the same usage error as `coi finetune train`, not the whole help (exit 0).
  helpFor(word, entry) {
    const sub = knownSubcommand(word);
    const options = FINETUNE_OPTION_LIST.flatMap((option) => subcommandSpec(option, sub));
    const [usage, summary] = SUBCOMMAND_HELP[sub];
    return commandHelp({ ...entry, name: `finetune ${sub}`, summary }, { ...command, usage: `coi finetune ${sub} ${usage}`, description: "'coi finetune --help' describes every subcommand, the defaults and the examples.", options, examples: (command.examples ?? []).filter((e) => e.includes(`coi finetune ${sub} `)) });
  },

  async run(context) {
    const [word, ...rest] = context.args.positionals;
    const sub = knownSubcommand(word);
    refuseOptionsOfOtherSubcommands(sub, context.args, FINETUNE_OPTIONS);
    refuseExtraArguments(sub, rest);
    return runSub(sub, rest, context);
  },
};

/** The subcommand named, or the usage error that says which there are. */
function knownSubcommand(word: string | undefined): Subcommand {
  if (word === undefined) throw new UsageError(`Name what to do: ${SUBCOMMANDS.join(', ')}.`, 'finetune');
  if (!(SUBCOMMANDS as readonly string[]).includes(word)) throw new UsageError(`Unknown finetune command '${word}': the commands are ${SUBCOMMANDS.join(', ')}.`, 'finetune');
  return word as Subcommand;
}

/** Each subcommand's usage (after its name) and what it does, for `coi finetune SUB --help`. */
const SUBCOMMAND_HELP: Readonly<Record<Subcommand, readonly [string, string]>> = {
  setup: ['[--json]', 'Make the Python training environment (outside the repository, reused; a few minutes the first time).'],
  start: ['(CONFIG.coi-finetune.json | --base MODEL --data FILE) [options]', 'Start a fine-tuning job; it runs on in the background (--wait follows it).'],
  status: ['JOB [--json]', "A job's state, brought up to date with its process, scheduler or service."],
  logs: ['JOB [--json]', "The training process's output."],
  cancel: ['JOB [--json]', 'Ask the job to save a checkpoint and stop.'],
  resume: ['JOB [--wait] [--json]', 'Continue a cancelled or failed job from its last checkpoint.'],
  list: ['[--json]', 'The jobs of this folder, newest first.'],
  gguf: ['JOB [--outtype f32|f16|bf16|q8_0] [--out FILE] [--base DIR] [--json]', "Convert a completed job's model or LoRA adapter to GGUF."],
  eval: ['JOB [--data RECORDS] [options] | JOB --resume STORE [--threads N] [--context TOKENS]', 'Evaluate the fine-tune against its base model with coi eval.'],
};

const FINETUNE_OPTIONS: SubcommandOptions<Subcommand> = {
  command: 'finetune',
  goesWith: OPTION_SUBCOMMANDS,
  hint: (sub, option) =>
    sub !== 'start' ? undefined
    : option === 'threads' ? 'it is the CPU threads of the local models in an evaluation; training uses every CPU it is given'
    : option === 'context' ? "it is the context of the local models in an evaluation; training cuts examples at a config file's training.maxLength"
    : undefined,
};

/** setup and list take no argument; start one CONFIG file at most; the others one JOB. */
function refuseExtraArguments(sub: Subcommand, rest: readonly string[]): void {
  const takes = sub === 'setup' || sub === 'list' ? 0 : 1;
  const extra = rest[takes];
  if (extra === undefined) return;
  const what = takes === 0 ? 'takes no argument' : sub === 'start' ? 'takes one CONFIG file at most' : 'takes one JOB';
  throw new UsageError(`'coi finetune ${sub}' ${what}: '${extra}' is one too many.`, 'finetune');
}

async function runSub(sub: Subcommand, rest: readonly string[], { args, io }: CommandContext): Promise<number> {
  const workspace = io.cwd;
  const engineContext = { workspace, env: io.env };
  switch (sub) {
    case 'setup':
      return setup(args, io);
    case 'list': {
      const entries = await Promise.all(jobIds(workspace).map((id) => listEntry(id, engineContext)));
      if (args.has('json')) io.stdout(JSON.stringify(entries, null, 2) + '\n');
      else if (entries.length === 0) io.stderr('No fine-tuning jobs in this folder.\n');
      else for (const entry of entries) io.stdout(('unreadable' in entry ? `${entry.id}  unreadable — ${entry.unreadable}` : summaryLine(entry, readMetrics(jobDir(workspace, entry.id)).at(-1))) + '\n');
      return EXIT_OK;
    }
    case 'start': {
      const { config, overridden } = startConfig(args, rest, io);
      // Everything that would make the job fail is refused before the job folder is made.
      const refusal = config.engine === 'together' ? togetherRefusal(config) : undefined;
      if (refusal !== undefined) throw new UsageError(refusal, 'finetune');
      const upload = config.engine === 'together' ? await confirmUpload(config, args, io) : undefined;
      // A large file takes seconds to read and convert: its progress shows that coi is at work (not with --json).
      const dataProgress = config.engine === 'together' || args.has('json') ? undefined : trainingDataProgress(io, config.data);
      const data = config.engine === 'together' ? undefined : await engineCall(() => Promise.resolve(readTrainingData(config.data, dataProgress?.reading)));
      if (data !== undefined) io.stderr(leftOutLines(data.file, data.issues));
      // A job that could only fail at launch is not made (it would stay failed, with nothing to resume).
      const noEnvironment = trainingEnvironmentRefusal(config.engine, io.env);
      if (noEnvironment !== undefined && !args.has('dry-run')) throw new CliError(noEnvironment);
      // The resolved job before it starts (also in config.json), then the command line it ran (also in `command`).
      const summary = (resolved: JobConfig): string => jobSummary(resolved) + (overridden.length > 0 ? `\nOver ${rest[0] ?? 'the config file'}, from the command line: ${overridden.join(', ')}` : '');
      // A path with a line break would break out of its #SBATCH line: refused before the job folder is made (the job's folder is named as it will be).
      const lineBreak = config.engine === 'slurm' ? slurmScriptProblem(jobDir(workspace, newJobId()), workspace, config, venvLocation(io.env).python, io.env) : undefined;
      if (lineBreak !== undefined) throw new UsageError(lineBreak, 'finetune');
      if (args.has('dry-run')) return dryRun(config, data, summary, noEnvironment, args, io);
      // One handling of Ctrl-C and SIGTERM from the job folder made to the job followed (or printed): a
      // signal before the launch removes the folder, after it cancels the followed job (--wait) or says
      // that the job runs on (StartStage, follow).
      const stage: StartStage = { at: 'making' };
      return withInterrupt(io, async (signal) => {
        const { state, config: written } = await madeUnlessCancelled(workspace, signal, async () => {
          const made = makeJobFolder(workspace, config, upload, data, dataProgress?.converting);
          stage.id = made.state.id;
          dataProgress?.end();
          if (config.engine === 'slurm') await showBatchScript(made.state.id, io);
          return made;
        });
        io.stderr(`Job ${state.id}:\n${summary(written).replace(/^/gm, '  ')}\n`);
        stage.at = 'launching';
        const started = await engineCall(() => startNewJob(state.id, engineContext));
        if (config.engine === 'trl') io.stderr(`Command (saved as ${join(jobDir(workspace, state.id), 'command')}):\n  ${readFileSync(join(jobDir(workspace, state.id), 'command'), 'utf8').trim()}\n`);
        return engineCall(() => follow(started, args, io, signal, stage));
      }, () => quitNote(stage, workspace), (by) => launchGoesOn(stage, args, by));
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
      if (sub === 'logs') return printLog(id, args, io);
      if (sub === 'cancel') return cancel(id, engineContext, args, io);
      if (sub === 'status') return print(await currentState(id, engineContext), args, io);
      // The earlier runs' progress is in metrics.jsonl too: --wait shows this run's steps, not those again.
      const earlierSteps = readMetrics(jobDir(workspace, id)).length;
      // As start: one handling of Ctrl-C and SIGTERM from the launch to the job followed (or printed).
      const stage: StartStage = { at: 'launching', id };
      return withInterrupt(io, async (signal) => {
        const state = await engineCall(() => resumeJob(id, engineContext));
        return engineCall(() => follow(state, args, io, signal, stage, earlierSteps));
      }, () => quitNote(stage, workspace), (by) => launchGoesOn(stage, args, by));
    }
  }
}

async function gguf(id: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = jobDir(io.cwd, id);
  const state = await currentState(id, { workspace: io.cwd, env: io.env });
  if (state.status !== 'completed' || state.resultDir === undefined) throw new CliError(`Job ${id} is ${state.status}: only a completed job can be converted.`);
  // Everything is checked before the converter runs (it takes seconds to fail, in Python's words).
  const config = withGivenBase(jobConfigIn(dir, io), state, args, io, 'gguf');
  const missing = conversionProblem(state, config);
  if (missing !== undefined) throw new FileError(missing);
  const outType = (args.value('outtype') ?? 'f16') as GgufOutType;
  const adapter = resultIsAdapter(state, config);
  const outFile = args.value('out') === undefined ? jobGgufPath(dir, adapter, outType) : resolve(io.cwd, args.value('out') ?? '');
  refuseOverwrite(outFile, dir, state);
  checkGgufFolder(outFile, args.value('out') === undefined ? 'The job folder' : `--out '${outFile}'`);
  const venv = venvLocation(io.env);
  const noEnvironment = trainingEnvironmentRefusal('trl', io.env);
  if (noEnvironment !== undefined) throw new CliError(noEnvironment);
  if (!args.has('json')) io.stderr(`Converting ${state.resultDir} to ${outType} GGUF...\n`);
  const logFile = join(dir, GGUF_LOG);
  const again = ['coi finetune gguf', id, ...(['outtype', 'out', 'base'] as const).flatMap((name) => (args.has(name) ? [`--${name}`, args.value(name) ?? ''] : []))].join(' ');
  const kept = existsSync(outFile) ? `; ${outFile} is as it was` : '';
  const progress = args.has('json') ? undefined : conversionProgress(io, logFile);
  const written = await cancellable(io, `Cancelled while converting: nothing was written${kept}. Run '${again}' to convert it again.`, (signal) =>
    convertToGguf({ venv, source: state.resultDir ?? '', ...baseOf(config), outFile, outType, env: io.env, signal, logFile, ...(progress !== undefined ? { onProgress: progress.show } : {}) }).finally(() => progress?.end()),
  );
  // The job's GGUF, whichever base folder it was made with: eval and the editor reuse it (a later gguf converts anew).
  const updated = updateState(dir, 'completed', { ggufPath: written });
  if (args.has('json')) io.stdout(JSON.stringify(updated, null, 2) + '\n');
  else io.stdout(`${written}${adapter ? ` (LoRA adapter: load it on ${config.baseModel} converted to GGUF)` : ''}\n`);
  return EXIT_OK;
}

/** The base folder a LoRA adapter is converted with (conversionProblem checked it is there); none for a Together model name. */
function baseOf(config: JobConfig): { baseModel?: string } {
  const folder = baseModelFolder(config);
  return folder === undefined ? {} : { baseModel: folder };
}

/**
 * The job's config with `--base DIR` (resolved, checked as `start --base` checks a folder) in
 * place of its recorded base model, for a base that was moved or a Together base downloaded;
 * the config as recorded without it. `gguf` refuses it for a full model, converted on its own.
 */
function withGivenBase(config: JobConfig, state: JobState, args: ParsedArgs, io: CliIO, sub: 'gguf' | 'eval'): JobConfig {
  const given = args.value('base');
  if (given === undefined) return config;
  const result = state.resultDir;
  if (sub === 'gguf' && result !== undefined && existsSync(result) && !isLoraAdapter(result)) {
    throw new UsageError(`--base gives the base model a LoRA adapter is converted with, and job ${state.id}'s result is a full model (${result}), converted on its own: give no --base. Nothing was converted.`, 'finetune');
  }
  const folder = resolve(io.cwd, given);
  const problem = baseFolderProblem(folder);
  if (problem !== undefined) throw new FileError(`--base: ${problem} Nothing was converted.`);
  return { ...config, baseModel: folder };
}

/**
 * A job's config.json with a relative base model or data path read against the workspace (`io.cwd`),
 * as the trainer, which runs there, reads it: `coi finetune start` records them absolute, a config
 * written by hand may not, and the process's own working folder is no part of the job.
 */
function jobConfigIn(dir: string, io: CliIO): JobConfig {
  return withPathsIn(readConfig(dir), io.cwd);
}

/**
 * `eval --base DIR` where nothing would read it, refused (exit 2) rather than checked and ignored:
 * the folder converts a LoRA adapter not converted yet (with its base) and the base model to GGUF,
 * and neither happens when the job trained a whole model or its adapter's GGUF is there, and the
 * base's GGUF is given (--base-gguf) or kept in the job folder.
 */
function refuseUnreadBase(state: JobState, config: JobConfig, dir: string, args: ParsedArgs): void {
  if (!args.has('base')) return;
  const adapter = resultIsAdapter(state, config);
  const adapterConverted = state.ggufPath !== undefined && existsSync(state.ggufPath);
  const keptBase = baseGgufPath(dir, outTypeOf(state.ggufPath ?? ''));
  const baseGgufGiven = args.has('base-gguf');
  if ((adapter && !adapterConverted) || (!baseGgufGiven && !existsSync(keptBase))) return;
  const result = adapter ? `has its LoRA adapter as GGUF already (${state.ggufPath ?? ''})` : 'trained a whole model (its result is a model of its own)';
  const base = baseGgufGiven ? "--base-gguf gives the base model's GGUF" : `keeps its base model's GGUF (${keptBase}: delete it to convert the base again)`;
  throw new UsageError(`--base is the base model folder that a LoRA adapter is converted with and the base model's GGUF is converted from; job ${state.id} ${result} and ${base}, so nothing reads it: give no --base. Nothing was evaluated.`, 'finetune');
}

/**
 * The converter writes over whatever --out names: a folder, the job's training data or its
 * base GGUF would be lost. Only a GGUF that is not one of the job's other files may be replaced.
 */
function refuseOverwrite(outFile: string, jobFolder: string, state: JobState): void {
  if (!existsSync(outFile)) return;
  if (statSync(outFile).isDirectory()) throw new UsageError(`--out '${outFile}' is a folder: give the GGUF file to write (e.g. ${join(outFile, 'model.gguf')}).`, 'finetune');
  if (!hasGgufMagic(outFile)) throw new UsageError(`--out '${outFile}' exists and is not a GGUF file: nothing was written (only an existing GGUF is replaced).`, 'finetune');
  const real = realpathSync(outFile);
  const insideJob = [jobFolder, state.resultDir].some((folder) => folder !== undefined && existsSync(folder) && isInsideFolder(real, realpathSync(folder)));
  const isJobOutput = state.ggufPath !== undefined && existsSync(state.ggufPath) && realpathSync(state.ggufPath) === real;
  if (insideJob && !isJobOutput && !/^(model|adapter)-[a-z0-9_]+\.gguf$/.test(basename(real))) {
    throw new UsageError(`--out '${outFile}' is one of job ${state.id}'s own files, not its converted model: nothing was written.`, 'finetune');
  }
}

/** The folder the GGUF goes into, tried as `start --out` is: one that cannot be made or written is exit 2 before converting. */
function checkGgufFolder(outFile: string, named: string): void {
  const folder = dirname(outFile);
  const problem = outputFolderProblem(folder);
  if (problem === undefined) return;
  const why = problem.kind === 'file' ? `'${folder}' is a file, not a folder` : `its folder '${folder}' cannot be made or written: ${describeFsError(problem.error)}`;
  throw problem.kind === 'file' ? new UsageError(`${named}: ${why}; nothing was converted.`, 'finetune') : new FileError(`${named}: ${why}; nothing was converted.`);
}

async function setup(args: ParsedArgs, io: CliIO): Promise<number> {
  const before = venvLocation(io.env);
  if (!before.ready) io.stderr(`Making the training environment in ${before.dir} (a few minutes the first time)...\n`);
  const cancelled = `Cancelled: the training environment in ${before.dir} is not finished. Run 'coi finetune setup' again to make it.`;
  const venv = await cancellable(io, cancelled, (signal) => ensureVenv({ env: io.env, signal, onOutput: (line) => { if (line.startsWith('Successfully') || line.startsWith('Collecting')) io.stderr(`  ${line.trim()}\n`); } }));
  if (args.has('json')) io.stdout(JSON.stringify({ python: venv.python, dir: venv.dir }, null, 2) + '\n');
  else io.stderr(`Training environment ready: ${venv.python}\n`);
  return EXIT_OK;
}

/**
 * Where `start` (or `resume`) stands, for what Ctrl-C and SIGTERM do there: `making` the job
 * folder (`id` once it is made), `launching` the job, `launched` (printing it, or following it
 * with --wait; `cancelAsked` once the follow asked it to stop), `done` (it has ended).
 */
interface StartStage {
  at: 'making' | 'launching' | 'launched' | 'done';
  id?: string;
  cancelAsked?: boolean;
}

/**
 * What a second Ctrl-C (or SIGTERM) leaves at each stage, as coi quits at once. While the folder
 * is made, the folder is removed first (nothing was started); once the launch began, the job may
 * run on without coi.
 */
function quitNote(stage: StartStage, workspace: string): string | undefined {
  const { id } = stage;
  if (id === undefined || stage.at === 'done') return undefined;
  if (stage.at === 'making') {
    rmSync(jobDir(workspace, id), { recursive: true, force: true });
    return `Nothing was started: job ${id}'s folder was removed.`;
  }
  return quitWhileFollowing(id, stage.cancelAsked === true);
}

/**
 * What a first Ctrl-C (or SIGTERM) is said as while the job is launched without --wait, in place
 * of `Cancelling...`: the launch is not stopped and the job is not cancelled (follow says so once
 * it has started, with how to follow and stop it); undefined elsewhere (it cancels there).
 */
function launchGoesOn(stage: StartStage, args: ParsedArgs, by: string): string | undefined {
  if (args.has('wait') || stage.at !== 'launching' || stage.id === undefined) return undefined;
  return `${by}: coi ends once job ${stage.id}'s launch is done`;
}

/**
 * A job just started or resumed: printed, or with --wait followed to its end. `signal` is the
 * command's Ctrl-C and SIGTERM since before the launch (withInterrupt): one that came while the
 * job was launched cancels it as one while it is followed does (a checkpoint is saved, exit 130,
 * or 143 for SIGTERM); without --wait the job runs on, and coi says so, how to follow it and how
 * to stop it, with the signal's exit code. `shownBefore`: the metric lines already there (a
 * resumed job's earlier runs), not shown again.
 */
async function follow(state: JobState, args: ParsedArgs, io: CliIO, signal: AbortSignal, stage: StartStage, shownBefore = 0): Promise<number> {
  stage.at = 'launched';
  stage.id = state.id;
  if (!args.has('wait')) {
    const where = state.slurmJobId !== undefined ? ` (Slurm job ${state.slurmJobId})` : state.pid !== undefined ? ` (pid ${state.pid})` : '';
    if (signal.aborted) {
      print(state, args, io);
      stage.at = 'done';
      io.stderr(`coi finetune: ${cancellationSubject(signal)} came while job ${state.id} was launched${where}: it was not cancelled and runs on in the background. Follow it with 'coi finetune status ${state.id}'; stop it with 'coi finetune cancel ${state.id}'.\n`);
      return cancelledExitCode(signal);
    }
    if (!args.has('json')) io.stderr(`Started job ${state.id}${where}. Follow it with 'coi finetune status ${state.id}'.\n`);
    return print(state, args, io);
  }
  const dir = jobDir(io.cwd, state.id);
  let shown = shownBefore;
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
  // A signal that came during the launch: the job is asked to stop at once (waitForJob returns its state).
  let final = await waitForJob(context, state.id, { signal, onTick });
  const interrupted = signal.aborted;
  if (interrupted) {
    await cancelJob(state.id, context);
    stage.cancelAsked = true;
    final = await waitForJob(context, state.id, { onTick });
  }
  stage.at = 'done'; // a signal from here on (the job has ended) quits with no note
  print(final, args, io);
  if (interrupted) {
    if (!args.has('json')) io.stderr(afterCancel(final) + '\n');
    return cancelledExitCode(signal);
  }
  return final.status === 'completed' ? EXIT_OK : 1;
}

/**
 * What a second Ctrl-C (or SIGTERM) while `--wait` follows a job leaves: only coi quits; the
 * job runs in its own process group (or on Slurm, or at Together) and goes on without it —
 * stopping and saving its checkpoint once it was asked to, training on if the signal came first.
 */
function quitWhileFollowing(id: string, cancelAsked: boolean): string {
  return cancelAsked
    ? `Job ${id} is still stopping in the background, saving its checkpoint: follow it with 'coi finetune status ${id}'; once it is cancelled, 'coi finetune resume ${id} --wait' goes on from the checkpoint.`
    : `Job ${id} may still be running in the background (it was not yet asked to stop): see 'coi finetune status ${id}', and stop it with 'coi finetune cancel ${id}'.`;
}

/** What a job cancelled by `--wait`'s Ctrl-C left, and how to go on with it. */
function afterCancel(state: JobState): string {
  if (state.status === 'completed') return `Job ${state.id} had finished before it could stop: its model is in ${state.resultDir ?? 'its output folder'}.`;
  if (state.lastCheckpoint !== undefined) return `Job ${state.id} stopped with a checkpoint at step ${state.lastCheckpoint.step}: 'coi finetune resume ${state.id} --wait' goes on from it.`;
  return `Job ${state.id} stopped before it saved a checkpoint (nothing to resume from): run the same 'coi finetune start' command to start it again.`;
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

/** Options that set a key of the job's config; given with a CONFIG file, they override its keys. */
const CONFIG_OPTIONS = ['engine', 'base', 'data', 'method', 'epochs', 'max-steps', 'learning-rate', 'batch-size', 'grad-accum', 'save-steps', 'out', 'strategy', 'gpus', 'nodes', 'partition', 'time', 'account', 'sbatch-arg'] as const;

/** The job to start: a CONFIG file's, with the options given over it, or the options' alone; and which options overrode the file. */
function startConfig(args: ParsedArgs, rest: readonly string[], io: CliIO): { config: JobConfig; overridden: string[] } {
  const [file] = rest;
  // Option values first (a usage error that names the option), before any file is looked at.
  const training = trainingOptions(args);
  const distributedGiven = distributedOption(args);
  const fromFile = file === undefined ? undefined : readConfigFile(file, io, args.value('engine') as JobConfig['engine'] | undefined, args);
  const base = args.value('base') ?? fromFile?.baseModel;
  const data = args.value('data') ?? fromFile?.data;
  if (base === undefined || data === undefined) throw new UsageError('Give a CONFIG file, or --base MODEL and --data FILE.', 'finetune');
  const engine = (args.value('engine') ?? fromFile?.engine ?? 'trl') as JobConfig['engine']; // one of the option's choices (the parser checks)
  refuseEngineOptions(engine, args);
  const baseModel = baseModelIn(engine, base, io.cwd); // a Together model name, not a path
  const missing = missingInputs({ engine, baseModel, data: resolve(io.cwd, data) });
  const fromFileOnly = file !== undefined && !args.has('base') && !args.has('data');
  if (missing.length > 0) throw new FileError(missing.map((m) => (fromFileOnly ? `${file}: ${m}` : m)).join('\n'));
  const method = (args.value('method') ?? fromFile?.method ?? 'full') as JobConfig['method'];
  const out = args.value('out');
  const outputDir = out === undefined ? fromFile?.outputDir : resolve(io.cwd, out);
  if (outputDir !== undefined) checkOutputFolder(resolve(io.cwd, outputDir), out !== undefined ? '--out' : `${file ?? ''}: outputDir`);
  const distributed = distributedGiven ?? fromFile?.distributed;
  const slurm = slurmOptions(args, engine, fromFile?.slurm);
  const config: JobConfig = {
    engine,
    ...(slurm !== undefined ? { slurm } : {}),
    baseModel,
    data: resolve(io.cwd, data),
    method,
    training: { ...(fromFile?.training ?? PAPER_DEFAULTS), ...training },
    ...(method === 'lora' ? { lora: fromFile?.lora ?? LORA_DEFAULTS } : {}),
    ...(outputDir === undefined ? {} : { outputDir }),
    ...(distributed === undefined ? {} : { distributed }),
  };
  const clash = sbatchArgsProblem(config); // --sbatch-arg, or a CONFIG's sbatchArgs with the options given over it
  if (clash !== undefined) throw new UsageError(clash, 'finetune');
  return { config, overridden: file === undefined ? [] : CONFIG_OPTIONS.filter((name) => args.has(name)).map((name) => `--${name}`) };
}

/**
 * Options the engine would ignore, refused: Together chooses its hardware, keeps its own
 * checkpoints and downloads the result into the job folder; only Together uploads (--yes).
 */
function refuseEngineOptions(engine: JobConfig['engine'], args: ParsedArgs): void {
  // The same list refuses a config file's keys (core/finetune/config.ts).
  const notForTogether = NOT_FOR_TOGETHER.flatMap(({ options, why }) => options.map((name) => [name, why] as const));
  const ignored = engine === 'together' ? notForTogether.find(([name]) => args.has(name)) : undefined;
  if (ignored !== undefined) throw new UsageError(`--${ignored[0]} does not go with --engine together (${ignored[1]}).`, 'finetune');
  if (engine !== 'together' && args.has('yes')) throw new UsageError(`--yes goes with --engine together (it confirms the upload); a ${engine} job uploads nothing.`, 'finetune');
}

/** --out or a CONFIG's outputDir, refused before any job exists when the trainer could not write there. */
function checkOutputFolder(dir: string, named: string): void {
  const problem = outputFolderProblem(dir);
  if (problem === undefined) return;
  const message = `${named} '${dir}' ${describeOutputFolderProblem(problem, describeFsError)}`;
  throw problem.kind === 'file' ? new UsageError(message, 'finetune') : new FileError(message);
}

/** The options that replace a CONFIG file's key as a whole (--partition and the like are merged into its `slurm`, key by key). */
const OPTION_KEYS: readonly (readonly [string, OverridableKey])[] = [['base', 'baseModel'], ['data', 'data'], ['method', 'method'], ['out', 'outputDir'], ['strategy', 'distributed']];

/**
 * A `*.coi-finetune.json` file, checked (every problem with its line and column) for `engine` when
 * --engine names one, its paths as written. Bytes that are not UTF-8 are refused at the first one
 * (exit 2, no job made), as `coi dataset build` refuses them: read as U+FFFD, a path or an sbatch
 * option would be written into the job's config.json so, naming what the user never wrote.
 */
function readConfigFile(file: string, io: CliIO, engine: JobConfig['engine'] | undefined, args: ParsedArgs): JobConfig {
  let bytes: Buffer;
  let text: string;
  try {
    bytes = readTextBytes(resolve(io.cwd, file));
    text = decodeText(bytes);
  } catch (err) {
    throw new FileError(`Cannot read '${file}': ${describeFsError(err)}.`);
  }
  refuseNonUtf8Source(bytes, file, "the job's config");
  // The keys the options set are not the file's to check: what the options give is checked (trainingOptions,
  // togetherRefusal on the merged job), every problem of the rest of the file here, all at once.
  const overridden: OverridableKey[] = [...(Object.keys(trainingOptions(args)) as (keyof TrainingParams)[]), ...OPTION_KEYS.filter(([option]) => args.has(option)).map(([, key]) => key)];
  const parsed = parseFinetuneConfig(text, { ...(engine === undefined ? {} : { engine }), overridden });
  // In the file's order, as a compiler lists its errors.
  const inOrder = [...parsed.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  // Training data where the CONFIG goes (`coi finetune start train.jsonl --base M`): say so, not "'baseModel' must name…" of each key.
  if (parsed.config === undefined && readDataset(text, { file }).examples.length > 0) {
    throw new UsageError(`'${file}' is training data, not a CONFIG file (*.coi-finetune.json): give it with --data ${file}${args.has('base') ? '' : ' (and the base model with --base MODEL)'}.`, 'finetune');
  }
  if (parsed.config === undefined) throw new CliError(inOrder.map((p) => `${file}:${p.line}:${p.column}: error: ${p.message}`).join('\n'));
  return parsed.config;
}

/**
 * The hyper-parameter options given, in the ranges a CONFIG file's keys take (config.ts): 0 epochs,
 * a learning rate of 0, a batch or accumulation of 0 would make a job that trains nothing.
 */
function trainingOptions(args: ParsedArgs): Partial<TrainingParams> {
  const whole = (name: string, min: number): number | undefined => numberOption(args, name, 'finetune', { min, max: Number.MAX_SAFE_INTEGER, integer: true });
  return {
    ...defined('epochs', numberOption(args, 'epochs', 'finetune', { min: 0, exclusiveMin: true, max: Number.MAX_SAFE_INTEGER })),
    ...defined('maxSteps', whole('max-steps', 1)),
    ...defined('learningRate', numberOption(args, 'learning-rate', 'finetune', { min: 0, exclusiveMin: true, max: 1 })),
    ...defined('perDeviceBatchSize', whole('batch-size', 1)),
    ...defined('gradientAccumulationSteps', whole('grad-accum', 1)),
    ...defined('saveSteps', whole('save-steps', 0)),
  };
}

/**
 * The job folder with its config, state and data (the converted training file, or what a hosted
 * job uploads). A folder that cannot be written is the user's to fix (exit 2), not a bug.
 */
function makeJobFolder(workspace: string, config: JobConfig, upload: TogetherUploadPlan | undefined, data: TrainingDataRead | undefined, onProgress: TrainingDataProgress | undefined): { state: JobState; config: JobConfig } {
  try {
    const state = createJob(workspace, config);
    const dir = jobDir(workspace, state.id);
    if (upload !== undefined) writeTogetherUpload(dir, upload);
    return { state, config: data === undefined ? config : writeTrainingFile(dir, data, onProgress) };
  } catch (err) {
    const { code, path } = err as { code?: unknown; path?: unknown };
    if (typeof code !== 'string') throw err; // not the file system's: a bug
    throw new FileError(`Cannot create the job folder ${typeof path === 'string' ? path : jobsRoot(workspace)}: ${describeFsError(err)}.`);
  }
}

/**
 * Makes the job folder, and shows what goes before its launch; `signal`: the command's Ctrl-C
 * and SIGTERM (withInterrupt), which cannot stop the making midway: the data is converted into
 * the folder (seconds for a large dataset), and stopped meanwhile coi would leave a job `queued`
 * that nothing ever runs and that resume refuses. A signal that came removes the folder, and
 * nothing starts (exit 130, or 143 for SIGTERM).
 */
async function madeUnlessCancelled(workspace: string, signal: AbortSignal, make: () => Promise<{ state: JobState; config: JobConfig }>): Promise<{ state: JobState; config: JobConfig }> {
  const made = await make();
  // A signal that came during the synchronous writes is delivered once the event loop turns.
  await new Promise<void>((done) => setImmediate(done));
  if (!signal.aborted) return made;
  rmSync(jobDir(workspace, made.state.id), { recursive: true, force: true });
  throw new CliError(`Cancelled (${cancelledBy(signal)}) before job ${made.state.id} started: nothing was started, and its folder was removed.`, cancelledExitCode(signal));
}

/**
 * Training data at least this large shows its reading and its conversion into the job folder
 * (about 60 ms a MB, read and converted: 10 s for 166 MB); a smaller file is done at once.
 */
export const DATA_PROGRESS_MIN_BYTES = 4 * 1024 * 1024;
/** On a terminal, the least time between two redraws of the data's progress line. */
const DATA_PROGRESS_REDRAW_MS = 100;

/**
 * The progress of reading `file` (`reading`) and of converting it into the job folder
 * (`converting`, then `end` once it is written), on standard error, for a file of at least
 * DATA_PROGRESS_MIN_BYTES: on a terminal one line redrawn with the percentage done (at most
 * every 100 ms) and ended with the seconds each took; off one (a log, CI) a line as each starts.
 * Nothing for a smaller file. Both run synchronously: each redraw is written as it happens.
 */
export function trainingDataProgress(io: CliIO, file: string, now: () => number = Date.now): { reading: TrainingDataProgress; converting: TrainingDataProgress; end: () => void } {
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch {
    bytes = 0; // reading it says why
  }
  const silent = (): void => undefined;
  if (bytes < DATA_PROGRESS_MIN_BYTES) return { reading: silent, converting: silent, end: silent };
  const terminal = io.stderrIsTTY === true;
  const status = statusLine(io);
  const seconds = (since: number): string => `${((now() - since) / 1000).toFixed(1)} s`;
  let stageStarted = now();
  let lastDrawn = -Infinity;
  let lastPercent = -1;
  let converting: { text: string } | undefined;
  const draw = (text: string, done: number, total: number): void => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (!terminal || percent === lastPercent || (now() - lastDrawn < DATA_PROGRESS_REDRAW_MS && done < total)) return;
    lastPercent = percent;
    lastDrawn = now();
    status.show(`${text}: ${percent}%`);
  };
  const reading = `Reading the training data ${file} (${Math.round(bytes / 1e6)} MB)`;
  status.show(`${reading}...`, { force: true });
  return {
    reading: (done, total) => {
      draw(reading, done, total);
      if (done === total && terminal) status.show(`${reading}: done (${seconds(stageStarted)})`, { final: true });
    },
    converting: (done, total) => {
      if (converting === undefined) {
        converting = { text: `Converting ${plural(total, 'example')} for the trainer` };
        stageStarted = now();
        lastPercent = -1;
        if (!terminal) status.show(`${converting.text}...`, { force: true });
      }
      draw(converting.text, done, total);
    },
    end: () => {
      if (converting !== undefined && terminal) status.show(`${converting.text}: done (${seconds(stageStarted)})`, { final: true });
    },
  };
}

/** Rows of the training data that could not be read (left out), the first five with their line. */
function leftOutLines(source: string, issues: readonly DatasetIssue[]): string {
  const lines = [...issues.slice(0, 5).map((issue) => `  left out  ${source}:${issue.line}: ${issue.message}`), ...(issues.length > 5 ? [`  left out  ${issues.length - 5} more unreadable rows`] : [])];
  return lines.map((line) => line + '\n').join('');
}

/** A job in `coi finetune list`: its state brought up to date; as last recorded when its engine cannot be asked (a service refusing the key); or why its folder cannot be read. */
async function listEntry(id: string, context: { workspace: string; env: CliIO['env'] }): Promise<JobState | { id: string; folder: string; unreadable: string }> {
  const folder = jobDir(context.workspace, id);
  try {
    return await jobStatus(id, context);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    try {
      return { ...readState(folder), message: `Not brought up to date: ${why}` };
    } catch {
      return { id, folder, unreadable: why };
    }
  }
}

/**
 * `cancel JOB`. A job that has already ended (completed, cancelled or failed, as recorded, or
 * found so by the engine when asked to cancel) is exit 1 with its state, why it ended and where
 * its log is, as `resume` refuses a job it cannot resume, rather than a silent 0 that looks like
 * a cancel (core/finetune `cancelActiveJob`: the panel's Cancel says the same).
 */
async function cancel(id: string, context: { workspace: string; env: CliIO['env'] }, args: ParsedArgs, io: CliIO): Promise<number> {
  return print(await engineCall(() => cancelActiveJob(id, context)), args, io);
}

/**
 * `logs JOB`: the log as it is, or with --json `{job, log, lines}`. On a terminal, a line that
 * progress bars redrew with carriage returns (tqdm's `\r 50%|#####     |`) shows its last state,
 * as the terminal showed it while training ran, and the log's other control characters are shown
 * escaped (runCli's shownOnTerminal); piped, the log is written byte for byte.
 */
function printLog(id: string, args: ParsedArgs, io: CliIO): number {
  const log = join(jobDir(io.cwd, id), 'log');
  let text: string | undefined;
  try {
    text = readFileSync(log, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileError(`Cannot read job ${id}'s log ${log}: ${describeFsError(err)}.`);
  }
  if (args.has('json')) io.stdout(JSON.stringify({ job: id, log, lines: text === undefined || text === '' ? [] : text.replace(/\n$/, '').split('\n') }, null, 2) + '\n');
  else if (text !== undefined) io.stdout(io.stdoutIsTTY === true ? lastStateOfRedrawnLines(text) : text);
  if (text === undefined) io.stderr(`Job ${id} has no log yet.\n`);
  return EXIT_OK;
}

/** Each line as a terminal leaves it after its carriage returns: its last non-empty `\r` part (`a\r\n` is `a`). */
function lastStateOfRedrawnLines(text: string): string {
  return text.split('\n').map((line) => (line.includes('\r') ? (line.split('\r').filter((part) => part !== '').at(-1) ?? '') : line)).join('\n');
}

const SLURM_OPTION_OF: Readonly<Record<string, string>> = { partition: 'partition', timeLimit: 'time', account: 'account' };

/** `--partition --time --account --sbatch-arg`, checked as a config file's `slurm` is. */
function slurmOptions(args: ParsedArgs, engine: JobConfig['engine'], fromFile: SlurmParams | undefined): SlurmParams | undefined {
  const raw = {
    ...(args.value('partition') !== undefined ? { partition: args.value('partition') } : {}),
    ...(args.value('time') !== undefined ? { timeLimit: args.value('time') } : {}),
    ...(args.value('account') !== undefined ? { account: args.value('account') } : {}),
    ...(args.values('sbatch-arg').length > 0 ? { sbatchArgs: args.values('sbatch-arg') } : {}),
  };
  if (Object.keys(raw).length === 0 && !args.has('dry-run')) return engine === 'slurm' ? fromFile : undefined;
  if (engine !== 'slurm') throw new UsageError('--partition, --time, --account, --sbatch-arg and --dry-run go with --engine slurm.', 'finetune');
  const problems: string[] = [];
  // The checks are a config file's: its key names become the options' (`'timeLimit' must be one word` → `--time must be one word`).
  const slurm = readSlurm(raw, (key, message) => problems.push(key !== undefined && key in SLURM_OPTION_OF ? message.replace(`'${key}'`, `--${SLURM_OPTION_OF[key] ?? key}`) : message));
  if (problems.length > 0) throw new UsageError(problems.join(' '), 'finetune');
  return { ...fromFile, ...slurm };
}

/** A Slurm job's batch script, shown on standard error before it is submitted. */
async function showBatchScript(id: string, io: CliIO): Promise<void> {
  const dir = jobDir(io.cwd, id);
  const script = batchScript(dir, io.cwd, readConfig(dir), venvLocation(io.env).python, io.env, undefined);
  io.stderr(`Submitting to ${await slurmTarget(io.env)}; the batch script (saved as ${join(dir, 'job.sbatch')}):\n${script.replace(/^/gm, '  ')}\n`);
}

/**
 * `start --engine slurm --dry-run`: the job's summary (standard error) and its batch script
 * (standard output), or with --json one object with both; nothing is made or submitted. The
 * script names the folder the job would go in, which does not exist.
 */
function dryRun(config: JobConfig, data: TrainingDataRead | undefined, summary: (resolved: JobConfig) => string, noEnvironment: string | undefined, args: ParsedArgs, io: CliIO): number {
  const id = newJobId();
  const folder = jobDir(io.cwd, id);
  const resolved: JobConfig = data === undefined ? config : { ...config, trainingData: trainingDataRecord(folder, data) };
  const script = batchScript(folder, io.cwd, resolved, venvLocation(io.env).python, io.env, undefined);
  const note = `Dry run: nothing was made or submitted. The script names ${folder}, the folder this job would go in (it does not exist).${noEnvironment === undefined ? '' : ` ${noEnvironment}`}`;
  if (args.has('json')) {
    io.stdout(JSON.stringify({ dryRun: true, id, folder, config: resolved, summary: summary(resolved), script, note }, null, 2) + '\n');
    return EXIT_OK;
  }
  io.stderr(`Job ${id} (not made):\n${summary(resolved).replace(/^/gm, '  ')}\n${note}\n`);
  io.stdout(script);
  return EXIT_OK;
}

/**
 * What a Together job will upload, and where, shown before anything leaves the machine;
 * it goes ahead only on a typed yes (or --yes). Without a terminal and without --yes it refuses.
 */
async function confirmUpload(config: JobConfig, args: ParsedArgs, io: CliIO): Promise<TogetherUploadPlan> {
  const key = io.env[TOGETHER_API_KEY_ENV];
  // A usage error, as a missing hosted key is in `coi run` and `coi dataset --singles`: nothing was sent.
  if (key === undefined || key.trim() === '') throw new UsageError(`${NO_TOGETHER_KEY} Nothing was uploaded.`, 'finetune');
  if (!existsSync(config.data)) throw new FileError(`Training data '${config.data}' not found.`);
  const plan = await engineCall(() => Promise.resolve(planTogetherUpload(config, io.env)));
  const t = config.training;
  const lines = [
    'Together AI fine-tuning: this uploads your training data.',
    `  file      ${UPLOAD_FILE} (kept in the job folder): ${plural(plan.examples, 'example')} as chat JSONL from ${plan.source}, ${plan.bytes.toLocaleString('en-US')} bytes`,
    leftOutLines(plan.source, plan.issues).trimEnd(),
    `  upload to ${plan.endpoint}`,
    `  job       ${config.baseModel}, ${config.method === 'lora' ? `LoRA r ${config.lora?.r ?? '?'}` : 'full'}, ${t.epochs} epochs, learning rate ${t.learningRate}, batch ${t.perDeviceBatchSize} × ${t.gradientAccumulationSteps} accumulation`,
  ];
  io.stderr(lines.filter((line) => line !== '').join('\n') + '\n');
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
  const known = jobIds(workspace);
  if (!known.includes(id)) throw new CliError(`No job '${id}' in ${jobDir(workspace, '')}${known.length > 0 ? ` (jobs: ${known.slice(0, 5).join(', ')})` : ''}.`, 2);
  // Its log can be shown whatever its state.json holds; every other command reads that (first:
  // a job `list` shows as unreadable is refused with the same reason).
  if (sub !== 'logs') {
    try {
      readState(jobDir(workspace, id));
    } catch (err) {
      throw new FileError(`Job '${id}': ${describeFsError(err)}`);
    }
  }
  try {
    readConfig(jobDir(workspace, id));
  } catch (err) {
    throw new FileError(`Job '${id}' has no readable config.json: ${describeFsError(err)}.`);
  }
  return id;
}

/** The workspace's job ids; a `.coi-jobs` that is a file or cannot be listed is exit 2 with why. */
function jobIds(workspace: string): string[] {
  try {
    return listJobIds(workspace);
  } catch (err) {
    if (err instanceof FinetuneError) throw new FileError(err.message);
    throw err;
  }
}

/** Engine and setup errors are the user's to fix (missing Python, a job in the wrong state): one line, no stack. Others are bugs (exit 70). */
async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CliError) throw err;
    // cancel and resume of a Together job without the key: a usage error in start's words (nothing was sent).
    if (err instanceof TogetherKeyMissingError) throw noTogetherKey();
    // TOGETHER_BASE_URL with a secret in it: the user's to fix, and nothing was sent or written with it.
    if (err instanceof TogetherBaseUrlError) throw new UsageError(`${err.message} Nothing was sent to Together.`, 'finetune');
    if (err instanceof Error && err.name === 'AbortError') throw new CliError('Cancelled.', 130);
    if (err instanceof PythonSetupError || err instanceof FinetuneError) throw new CliError(err.message);
    // A folder an engine makes (the environment and converters under $COI_CACHE_DIR, gguf --out) that the file system refuses: the user's to fix.
    const { syscall, path } = err as { syscall?: unknown; path?: unknown };
    if (syscall === 'mkdir' && typeof path === 'string') throw new FileError(`Cannot create the folder '${path}': ${describeFsError(err)}.`);
    throw err;
  }
}

function noTogetherKey(): UsageError {
  return new UsageError(`${NO_TOGETHER_KEY} Nothing was sent to Together.`, 'finetune');
}

/**
 * The job's state brought up to date (status, gguf, eval). A Together job that only the service
 * can bring up to date, without the key to ask it, is refused as start refuses it (exit 2), not
 * shown as last recorded with exit 0 as if it were current (`coi finetune list` shows it so, with why).
 */
function currentState(id: string, context: { workspace: string; env: CliIO['env'] }): Promise<JobState> {
  if (togetherKeyNeeded(jobDir(context.workspace, id), context.env)) throw noTogetherKey();
  return engineCall(() => jobStatus(id, context));
}

/**
 * `coi finetune eval JOB`: the base model and the fine-tune side by side through `coi eval`
 * (the same evaluation, store, report, progress and Ctrl-C), on the paper's records held out
 * from training. The store goes into the job folder; the job records it. `--resume STORE`
 * continues one that was stopped, as `coi eval --resume` does, and records it likewise.
 */
async function evaluateAgainstBase(id: string, args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = jobDir(io.cwd, id);
  let state = await currentState(id, { workspace: io.cwd, env: io.env });
  const refusal = profileRefusal(state);
  if (refusal !== undefined) throw new CliError(refusal);
  // Everything the user gave is checked before a conversion or an evaluation store starts,
  // in the words of this command (coi eval's checks would name its own options).
  const local = localModelOptions(args);
  const resume = args.value('resume');
  if (resume !== undefined) return evaluateInto(id, ['--resume', storeOfJob(id, resolve(io.cwd, resume), args, io)], local, args, io);
  const maxTokens = numberOption(args, 'max-tokens', 'finetune', { min: 1, max: 1_000_000, integer: true }) ?? BASE_EVALUATION_MAX_TOKENS;
  const baseOption = args.value('base-gguf');
  const recorded = jobConfigIn(dir, io);
  refuseUnreadBase(state, recorded, dir, args);
  // Every conversion below reads the base from config: the job's, or --base in its place.
  const config = withGivenBase(recorded, state, args, io, 'eval');
  const givenBase = baseOption === undefined ? undefined : checkedBaseGguf(resolve(io.cwd, baseOption));
  if (state.ggufPath !== undefined && !existsSync(state.ggufPath)) {
    throw new FileError(`Job ${id}'s GGUF ${state.ggufPath} is missing (moved or deleted): run 'coi finetune gguf ${id}' to convert the model again.`);
  }
  const venv = venvLocation(io.env);
  if (state.ggufPath === undefined) {
    const unconvertible = conversionProblem(state, config);
    if (unconvertible !== undefined) throw new FileError(unconvertible);
    if (!venv.ready) throw new CliError(`Job ${id} has no GGUF yet and the training environment (which converts it) is not set up: run 'coi finetune setup', or 'coi finetune gguf ${id}' where it is.`);
    const what = `job ${id}'s ${resultIsAdapter(state, config) ? 'adapter' : 'model'}`;
    const told = args.has('json') ? undefined : `Converting ${what} to f16 GGUF (once; 'coi finetune gguf' picks another type)...\n`;
    const unconverted = state;
    state = (await convertBeforeEvaluation(what, told, join(dir, GGUF_LOG), io, (passed) => ensureJobGguf({ jobFolder: dir, state: unconverted, config, venv, env: io.env, ...passed }))).state;
  }
  const tunedGguf = state.ggufPath ?? '';
  const given = args.value('data');
  const data = given !== undefined ? resolve(io.cwd, given) : validationDataOf(config);
  if (data === undefined) throw new UsageError(`Job ${id} has no validation file beside its training data (${config.data}): give the held-out records with --data FILE (the paper's records, JSON or JSONL).`, 'finetune');
  if (!existsSync(data)) throw new FileError(`Cannot read ${data}: no such file or directory.`);
  let base: string;
  if (givenBase !== undefined) base = givenBase;
  else {
    const kept = existsSync(baseGgufPath(dir, outTypeOf(tunedGguf)));
    const baseFolder = baseModelFolder(config);
    if (!kept && baseFolder === undefined) throw new FileError(`The base model ${config.baseModel} is a Together model, not a folder here, so it cannot be converted to GGUF: download it (a Hugging Face model folder) and give that folder with --base DIR, or its GGUF with --base-gguf FILE.`);
    if (!kept && !existsSync(baseFolder ?? '')) throw new FileError(`The base model folder ${config.baseModel} is missing (moved or deleted), so it cannot be converted to GGUF: give the folder where it is now with --base DIR, or its GGUF with --base-gguf FILE.`);
    if (!kept && !venv.ready) throw new CliError("The base model must be converted to GGUF and the training environment is not set up: run 'coi finetune setup' first, or give --base-gguf FILE.");
    const told = kept || args.has('json') ? undefined : `Base model: converting ${config.baseModel} to GGUF (once; kept in the job folder)...\n`;
    const converted = state;
    base = await convertBeforeEvaluation('the base model', told, join(dir, GGUF_LOG), io, (passed) => ensureBaseGguf({ jobFolder: dir, state: converted, config, venv, env: io.env, ...passed }));
  }
  const out = join(dir, 'eval', new Date().toISOString().replace(/[:.]/g, '-'));
  // A LoRA adapter runs on the base: `base.gguf?lora=adapter.gguf` (core/runner/modelSpec.ts);
  // a merged model (a Together LoRA job's result) runs on its own.
  const tuned = resultIsAdapter(state, config) ? `${base}?lora=${tunedGguf}` : tunedGguf;
  const argv = ['--records', data, '--model', base, '--model', tuned, '--mode', args.value('mode') ?? 'composed', '--template', args.value('template') ?? 'alpaca', '--out', out, '--name', `${id} vs base`, '--max-tokens', String(maxTokens)];
  return evaluateInto(id, argv, local, args, io);
}

/**
 * `--threads N` and `--context TOKENS`, checked in this command's words and passed to coi eval
 * for both local models (the store keeps them for a resume, and --resume may give others).
 */
function localModelOptions(args: ParsedArgs): string[] {
  const threads = numberOption(args, 'threads', 'finetune', { min: 1, max: 1024, integer: true });
  const context = numberOption(args, 'context', 'finetune', { min: 16, max: 4_194_304, integer: true });
  return [...(threads !== undefined ? ['--threads', String(threads)] : []), ...(context !== undefined ? ['--context', String(context)] : [])];
}

/**
 * Runs `coi eval` with `argv` (a new store, or --resume STORE) and records the store in the job.
 * Its hints after a stop (Ctrl-C, a model down) name this command's --resume, which records it too.
 */
async function evaluateInto(id: string, argv: readonly string[], local: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  const full = [...argv, ...local, ...(args.has('json') ? ['--json'] : [])];
  const { command: evalCommand, runEval } = await import('./eval.js');
  const evalArgs = parseArgs(full, evalCommand.options, 'eval');
  const code = await runEval(evalArgs, io, (store) => `coi finetune eval ${id} --resume ${store}`);
  const store = resolve(io.cwd, evalArgs.value('out') ?? evalArgs.value('resume') ?? '');
  const dir = jobDir(io.cwd, id);
  if (existsSync(join(store, 'eval.json'))) updateState(dir, readState(dir).status, { evaluation: store });
  return code;
}

/** What a store fixes when it is continued: what was evaluated, and how. */
const FIXED_BY_EVALUATION_STORE = ['data', 'base-gguf', 'base', 'mode', 'template', 'max-tokens'] as const;

/** --resume STORE: one of the job's evaluation stores, given without the options the store fixes; or exit 2 before anything runs. */
function storeOfJob(id: string, store: string, args: ParsedArgs, io: CliIO): string {
  const fixed = FIXED_BY_EVALUATION_STORE.find((name) => args.has(name));
  if (fixed !== undefined) throw new UsageError(`--resume continues the evaluation as it was started (its eval.json says what and how): --${fixed} cannot be given with it (only --threads, --context, --json).`, 'finetune');
  if (!existsSync(store)) throw new FileError(`--resume: cannot read '${store}': no such file or directory.`);
  const evaluations = join(jobDir(io.cwd, id), 'eval');
  if (!existsSync(evaluations) || !isInsideFolder(realpathSync(store), realpathSync(evaluations))) {
    throw new UsageError(`--resume '${store}' is not an evaluation of job ${id}: its evaluations are in ${evaluations}.`, 'finetune');
  }
  return store;
}

/**
 * A conversion to GGUF before the evaluation starts, announced with `told` once Ctrl-C is
 * handled (a Ctrl-C at the announcement gets the words below, not a bare exit). Ctrl-C there
 * leaves no store to continue: say so, and that the same command starts again.
 */
function convertBeforeEvaluation<T>(what: string, told: string | undefined, logFile: string, io: CliIO, convert: (passed: Pick<GgufOptions, 'signal' | 'onProgress'>) => Promise<T>): Promise<T> {
  return cancellable(io, `Cancelled while converting ${what} to GGUF: nothing was evaluated and no store was started. Run the same command again to convert it and evaluate.`, (signal) => {
    if (told === undefined) return convert({ signal });
    io.stderr(told);
    const progress = conversionProgress(io, logFile);
    return convert({ signal, onProgress: progress.show }).finally(() => progress.end());
  });
}

/**
 * `work` with Ctrl-C and SIGTERM handled (runSupport's withInterrupt), as an engine call: once
 * cancelled, whatever it ends with, the command ends with `cancelled` (what was kept, how to
 * go on) and the exit code of the signal (130 for Ctrl-C, 143 for SIGTERM).
 */
async function cancellable<T>(io: CliIO, cancelled: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  let interrupt: AbortSignal | undefined;
  try {
    return await engineCall(() => withInterrupt(io, (signal) => work((interrupt = signal))));
  } catch (err) {
    if (interrupt?.aborted !== true) throw err;
    throw new CliError(cancelled, cancelledExitCode(interrupt));
  }
}

/** Without a terminal (a log, CI), the longest silence between a conversion's progress lines. */
const CONVERSION_LOG_INTERVAL_MS = 15_000;

/**
 * A conversion's progress on stderr, with the seconds it has taken: on a terminal one line
 * redrawn at each step of the converter and each second; otherwise a line at each stage (loading,
 * converting the tensors, writing) and at least every 15 s, so a log shows it is alive.
 */
function conversionProgress(io: CliIO, logFile: string, now: () => number = Date.now): { show: (progress: GgufProgress) => void; end: () => void } {
  const started = now();
  const status = statusLine(io, { everyMs: CONVERSION_LOG_INTERVAL_MS, now });
  let progress: GgufProgress = { stage: 'starting' };
  const stage = (): string =>
    progress.stage === 'starting' ? 'starting Python and its libraries'
    : progress.stage === 'loading' ? 'loading the model'
    : progress.stage === 'tensors' ? `converting tensors: ${progress.tensors}`
    : `writing the GGUF: ${progress.percent}%`;
  const draw = (): void => status.show(`Converting: ${Math.floor((now() - started) / 1000)} s, ${stage()} (details in ${logFile})`, { step: progress.stage });
  const timer = setInterval(draw, io.stderrIsTTY === true ? 1000 : CONVERSION_LOG_INTERVAL_MS);
  timer.unref();
  return {
    show: (next) => {
      progress = next;
      draw();
    },
    end: () => {
      clearInterval(timer);
      status.end();
    },
  };
}

/** --base-gguf FILE: an existing GGUF file, or exit 2 before anything starts. */
function checkedBaseGguf(file: string): string {
  if (!existsSync(file)) throw new FileError(`--base-gguf: cannot read '${file}': no such file or directory.`);
  if (statSync(file).isDirectory()) throw new UsageError(`--base-gguf '${file}' is a folder: give the base model's GGUF file.`, 'finetune');
  if (!hasGgufMagic(file)) throw new UsageError(`--base-gguf '${file}' is not a GGUF file (it does not start with GGUF): give the base model converted to GGUF.`, 'finetune');
  return file;
}
