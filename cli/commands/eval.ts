/**
 * `coi eval FILES... | CHAIN.coi --dataset ROWS | --records FILE | --resume DIR`,
 * `coi eval report DIR`, `coi eval compare DIR DIR`.
 *
 * Evaluates chains on many items and models, into a resumable store (eval.json +
 * results.jsonl), then prints the report computed from the store. A thin adapter
 * over core/eval. Exit codes: 0 the evaluation ran (whatever the scores), 1 an
 * expectation failed with --fail-on-expectations, --max-failures stopped it, or a
 * model (every endpoint) could not serve it, 2 usage or input errors, 130/143
 * cancelled (resumable).
 */
import { dirname, basename, extname, join, resolve } from 'node:path';
import type { Chain, ModelProfile } from '../../core/chain';
import { StepCache, profileFromModelSpec, profileIdentity } from '../../core/runner';
import { visibleLines, visibleText, type RecordsFormat } from '../../core/records';
import {
  claimStoreFolder,
  computeReport,
  compareStores,
  createEvalConfig,
  datasetFormatOf,
  describeSubset,
  EvalInputError,
  EvalStoreError,
  failedItems,
  failedItemsSummary,
  formatFailedItems,
  formatReport,
  formatStoreComparison,
  itemsFromDataset,
  itemsFromRecords,
  itemsFromTests,
  readConfig,
  readEvalStore,
  STORES_FOLDER,
  reportWarnings,
  runEvaluation,
  withSubset,
  DEFAULT_SAMPLE_SEED,
  endpointPool,
  type EvalConfig,
  type EvalItem,
  type EvalMode,
  type EvalModelConfig,
  type EvalModelPlan,
  type EvalProgressEvent,
  type EvalReport,
  type EvalRunSettings,
  type EvalRunSummary,
  type EvalSource,
  type ChainFileInfo,
  type ItemSubset,
  type ReportFormat,
} from '../../core/eval/index';
import type { ParsedArgs } from '../args';
import { numberOption } from '../args';
import type { Command } from '../command';
import { refuseOptionsOfOtherSubcommands, type SubcommandOptions } from '../subcommandOptions';
import { CliError, describeFsError, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FileError, UsageError } from '../errors';
import { entryExists, expandPaths, readTextFile, utf8Warner } from '../files';
import { closest } from '../../core/diagnostics';
import { displayPath, unwritableReason } from '../../core/syntax';
import type { CliIO } from '../io';
import { statusLine } from '../statusLine';
import { packageVersion } from '../version';
import { checkBaseUrl, cancelledExitCode, chooseModel, formatDuration, isOpenAISpec, KEY_OPTIONS, keyOptionAlone, loadChainFile, loadChainFiles, MODEL_OPTIONS, envModelSpec, envOpenAIModel, serverOptionsProblem, type ModelSource, usableCacheFolder, withInterrupt, type ChosenModel, type LoadedChain } from './runSupport';

const FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv', 'markdown'];
const DEFAULT_CONCURRENCY = 4;

const EVAL_MODEL_OPTIONS = MODEL_OPTIONS.map((option) =>
  option.name === 'model'
    ? {
        ...option,
        description: "A model to evaluate, repeatable (every item runs on every model): a GGUF file, an hf: URI, or openai:MODEL_ID with --base-url. Default: the chain's profiles (each one a model), else $COI_MODEL.",
      }
    : option.name === 'profile'
      ? { ...option, description: "Evaluate only this model profile of the file(s)." }
      : option.name === 'api-key-env' || option.name === 'api-key-header'
        ? { ...option, description: `${option.description} Kept for --resume (the name, never the key); given on --resume, it wins.` }
        : option,
);

export const command: Command = {
  name: 'eval',
  usage:
    'coi eval [options] (FILES... | CHAIN.coi --dataset ROWS | --records FILE | --resume DIR)\n       coi eval report DIR [--format FORMAT | --json] [--seed N] [--fail-on-expectations] [--failures]\n       coi eval compare DIR_A DIR_B [--format FORMAT | --json] [--seed N]',
  description:
    "Evaluates chains on many items: the test blocks of .coi FILES, a dataset (JSONL, JSON array or CSV; a column per chain input, optional expected.STEP and expected.output columns) bound to one chain, or the paper's records (each record its own chain). " +
    'A chain the composability analysis rejects (COI301, as a few of the paper\'s records) is evaluated and flagged in the report; files with other errors are all named (FILE:LINE:COLUMN) and nothing runs. ' +
    'Every item runs on every model, stepwise and/or composed, and is scored: ROUGE-L ×100 per step, of the final output and of the whole output, exact match, expectations, contract validity, tokens, latency. ' +
    'Results go to a store (--out DIR: eval.json and results.jsonl, one line per finished item × model × mode); --resume DIR runs only what is missing. The report (means with 95 % bootstrap intervals, by chain length, step position and task category, paired comparisons) is computed from the store. ' +
    "'coi eval report DIR' re-prints it; 'coi eval compare A B' compares two stores item by item. Exit code 0 when the evaluation ran, 1 when an expectation failed with --fail-on-expectations, --max-failures stopped it, or a model could not serve it (unreachable, key refused, model unusable, or 3 items in a row failing on the server's side; those are not recorded: resume once it is fixed), 2 on usage or input errors (and for a store another process is writing), 130 when cancelled with Ctrl-C, 143 with SIGTERM (resume it).",
  options: [
    { name: 'dataset', short: 'd', kind: 'value', valueName: 'FILE', description: 'Rows to run the one chain FILE on: .jsonl, .json (an array) or .csv.' },
    { name: 'records', kind: 'value', valueName: 'FILE', description: "The paper's records (JSON array or .jsonl): every record is its own chain; its per-step outputs are the references." },
    ...EVAL_MODEL_OPTIONS,
    { name: 'mode', kind: 'value', choices: ['stepwise', 'composed', 'both'], defaultValue: 'stepwise', description: 'Run each item step by step, as one composed instruction, or both (compared).' },
    { name: 'template', kind: 'value', choices: ['chat', 'alpaca'], defaultValue: 'chat', description: "Prompt format: the model's chat template, or the Alpaca template the paper fine-tuned with." },
    { name: 'out', short: 'o', kind: 'value', valueName: 'DIR', description: 'The store folder: new or empty, or a store of this very evaluation (same chains, data and configuration), which it continues as --resume does.', defaultValue: ".coi-evals/TIMESTAMP-NAME/ beside the chain or records file, or in the working folder when that folder cannot be written (said on stderr)" },
    { name: 'resume', kind: 'value', valueName: 'DIR', description: 'Continue the evaluation in DIR: run only the missing items (its configuration comes from DIR/eval.json).' },
    { name: 'name', kind: 'value', valueName: 'NAME', description: 'Name of the evaluation (default: the chain or file name).' },
    { name: 'limit', kind: 'value', valueName: 'N', description: 'Evaluate only the first N items (a try before all of them; a resume keeps to them).' },
    { name: 'sample', kind: 'value', valueName: 'N', description: 'Evaluate N items drawn at random, the same ones for the same --sample-seed (a resume keeps to them).' },
    { name: 'sample-seed', kind: 'value', valueName: 'N', description: `Seed of --sample (default ${DEFAULT_SAMPLE_SEED}).` },
    { name: 'concurrency', kind: 'value', valueName: 'N', description: 'Items run at once on each OpenAI-compatible model (local models run one at a time).', defaultValue: String(DEFAULT_CONCURRENCY) },
    { name: 'endpoint', kind: 'value', valueName: 'URL', description: 'Another OpenAI-compatible server serving the same model as --base-url (repeatable): the items of each openai: model are spread over --base-url and these, --concurrency at a time on each; a failing one is taken out of the pool for a while and its items run elsewhere. May differ on --resume.' },
    { name: 'max-failures', kind: 'value', valueName: 'N', description: 'Stop after N items failed to run in this run (backend errors; a resume counts afresh); what finished is kept, failures included.' },
    { name: 'fail-on-expectations', kind: 'flag', description: "Exit with 1 when an expectation of the chains' tests failed (kept for --resume; with 'coi eval report DIR': failed in the store)." },
    { name: 'seed', kind: 'value', valueName: 'N', description: 'Seed of the bootstrap intervals (default 42).' },
    { name: 'format', short: 'f', kind: 'value', choices: FORMATS, defaultValue: 'table', description: 'Report format on standard output.' },
    { name: 'json', kind: 'flag', description: 'Print the report as JSON (same as --format json).' },
    { name: 'failures', kind: 'flag', description: "With 'coi eval report DIR': list every failed item (item, model, mode and its whole error) in --format, instead of the report." },
  ],
  examples: [
    'coi eval "examples/*.coi" --model ./qwen.gguf --threads 4',
    'coi eval chain.coi --dataset rows.jsonl --model openai:gpt-4o-mini --model ./base.gguf --mode both',
    'coi eval --records ../shared/data/coi/coi2_test.json --model hf:user/coi-model-GGUF:Q4_K_M --mode composed --template alpaca',
    'coi eval --records ../shared/data/coi/coi2_test.json --model ./tuned.gguf --sample 50',
    'coi eval --resume .coi-evals/2026-12-05T01-00-00-000Z-coi2_test --json',
    'coi eval report .coi-evals/2026-12-05T01-00-00-000Z-coi2_test --format markdown > report.md',
    'coi eval report .coi-evals/2026-12-05T01-00-00-000Z-coi2_test --failures',
    'coi eval compare .coi-evals/base .coi-evals/tuned',
  ],

  async run({ args, io }) {
    const format = reportFormat(args);
    const [first, ...rest] = args.positionals;
    const sub = first === 'report' || first === 'compare' ? first : '';
    if (sub === '' && first !== undefined) refuseMisspeltSubcommand(first, io);
    refuseOptionsOfOtherSubcommands(sub, args, EVAL_OPTIONS);
    if (sub === 'report') return reportCommand(rest, format, args, io);
    if (sub === 'compare') return compareCommand(rest, format, args, io);
    return evaluate(args, io, format);
  },
};

/**
 * `coi eval reprt DIR`: a first word that names no file but is close to a subcommand is the
 * subcommand misspelt (said as for an unknown command), not a missing chain file.
 */
function refuseMisspeltSubcommand(first: string, io: CliIO): void {
  const suggestion = closest(first, ['report', 'compare']);
  if (suggestion === undefined || entryExists(resolve(io.cwd, first))) return;
  throw new UsageError(`Unknown subcommand '${first}' (did you mean 'coi eval ${suggestion}'?): no file or folder has that name either.`, 'eval');
}

/** `coi eval` without a subcommand ('') evaluates; `report` and `compare` read stores. */
type EvalSubcommand = '' | 'report' | 'compare';

/** What `coi eval report` and `coi eval compare` read: they run nothing, so the evaluation's other options mean nothing to them. */
const OPTIONS_ALSO_OF_REPORT_AND_COMPARE: Readonly<Record<string, readonly EvalSubcommand[]>> = {
  format: ['', 'report', 'compare'],
  json: ['', 'report', 'compare'],
  seed: ['', 'report', 'compare'],
  'fail-on-expectations': ['', 'report'],
  failures: ['report'],
};

const EVAL_OPTIONS: SubcommandOptions<EvalSubcommand> = {
  command: 'eval',
  goesWith: Object.fromEntries(command.options.map((o) => [o.name, OPTIONS_ALSO_OF_REPORT_AND_COMPARE[o.name] ?? ['']])),
  hint: (sub) => (sub === '' ? undefined : `it reads ${sub === 'report' ? 'a store' : 'two stores'} and runs nothing`),
};

function reportFormat(args: ParsedArgs): ReportFormat {
  if (args.has('json') && args.has('format') && args.value('format') !== 'json') throw new UsageError('--json and --format disagree: give one of them.', 'eval');
  return args.has('json') ? 'json' : ((args.value('format') ?? 'table') as ReportFormat);
}

/** `--limit N` or `--sample N` (with `--sample-seed`): part of the items, or undefined for all. */
function subsetOption(args: ParsedArgs): ItemSubset | undefined {
  const limit = numberOption(args, 'limit', 'eval', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  const sample = numberOption(args, 'sample', 'eval', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  const seed = numberOption(args, 'sample-seed', 'eval', { min: 0, max: 2 ** 32 - 1, integer: true });
  if (limit !== undefined && sample !== undefined) throw new UsageError('Give either --limit or --sample, not both.', 'eval');
  if (seed !== undefined && sample === undefined) throw new UsageError('--sample-seed goes with --sample N.', 'eval');
  if (limit !== undefined) return { kind: 'first', count: limit };
  if (sample !== undefined) return { kind: 'sample', count: sample, seed: seed ?? DEFAULT_SAMPLE_SEED };
  return undefined;
}

function seedOption(args: ParsedArgs): number | undefined {
  return numberOption(args, 'seed', 'eval', { min: 0, max: 2 ** 32 - 1, integer: true });
}

function storeError(error: unknown): never {
  if (error instanceof EvalStoreError) throw new CliError(error.message, EXIT_USAGE);
  throw error;
}

function reportCommand(dirs: readonly string[], format: ReportFormat, args: ParsedArgs, io: CliIO): number {
  if (dirs.length !== 1) throw new UsageError('coi eval report takes one store folder: coi eval report DIR.', 'eval');
  const seed = seedOption(args);
  try {
    const dir = resolve(io.cwd, dirs[0]!);
    if (args.has('failures')) {
      io.stdout(formatFailedItems(failedItems(readEvalStore(dir)), format));
      return EXIT_OK;
    }
    const report = computeReport(dir, seed !== undefined ? { seed } : {});
    printReport(report, format, io);
    // CI can gate on a store an earlier job filled, as on the evaluation itself.
    return expectationsExitCode(report, args.has('fail-on-expectations'), io);
  } catch (error) {
    storeError(error);
  }
}

/**
 * The report on stdout; with CSV, whose shape must stay a table, its warnings (step outputs cut
 * short, the runs' warnings, the store's unreadable lines) on stderr, but for the runs' warnings
 * the evaluation has just said as they came (`runWarningsSaid`).
 */
function printReport(report: EvalReport, format: ReportFormat, io: CliIO, runWarningsSaid: ReadonlySet<string> = new Set()): void {
  io.stdout(formatReport(report, format));
  csvWarnings({ ...report, warnings: report.warnings.filter((w) => !runWarningsSaid.has(w.message)) }, format, io);
}

function csvWarnings(report: Parameters<typeof reportWarnings>[0], format: ReportFormat, io: CliIO): void {
  if (format === 'csv') for (const warning of reportWarnings(report)) io.stderr(`warning: ${visibleText(warning)}\n`);
}

/** With --fail-on-expectations, 1 (and a line saying how many) when an expectation of the report failed; else 0. */
function expectationsExitCode(report: EvalReport, failOnExpectations: boolean, io: CliIO): number {
  const failed = report.groups.reduce((t, g) => t + g.expectations.failed, 0);
  if (!failOnExpectations || failed === 0) return EXIT_OK;
  io.stderr(`${failed} expectation${failed === 1 ? '' : 's'} failed (--fail-on-expectations).\n`);
  return EXIT_ERRORS;
}

function compareCommand(dirs: readonly string[], format: ReportFormat, args: ParsedArgs, io: CliIO): number {
  if (dirs.length !== 2) throw new UsageError('coi eval compare takes two store folders: coi eval compare DIR_A DIR_B.', 'eval');
  const seed = seedOption(args);
  try {
    const comparison = compareStores(resolve(io.cwd, dirs[0]!), resolve(io.cwd, dirs[1]!), seed !== undefined ? { seed } : {});
    io.stdout(formatStoreComparison(comparison, format));
    csvWarnings(comparison, format, io);
  } catch (error) {
    storeError(error);
  }
  return EXIT_OK;
}

/** What the command line (or a store's eval.json) asks to evaluate. */
interface Request {
  readonly source: EvalSource;
  readonly name: string;
  readonly modes: readonly EvalMode[];
  readonly template: 'chat' | 'alpaca';
  readonly models: readonly ModelRequest[];
  readonly settings: EvalRunSettings;
  readonly seed?: number;
  /** The store folder; a string for --out and --resume, else where the default one is made (`claimStoreFolder`) once the evaluation is ready to run. */
  readonly out: string | { readonly parent: string; readonly name: string };
  readonly resumed?: EvalConfig;
}

type ModelRequest = { readonly spec: string; readonly baseUrl?: string } | { readonly profile: string };

interface LoadedSource {
  readonly items: EvalItem[];
  /** How many items the source has (more than `items` with a subset). */
  readonly total: number;
  /** The source as the evaluation keeps it (without a subset that is all of its items). */
  readonly source: EvalSource;
  /** Chains by file (tests and dataset sources). */
  readonly chains: readonly Chain[];
  /** The folder of each chain's file: its profiles' model paths are relative to it, as in `coi run`. */
  readonly chainDirs: ReadonlyMap<Chain, string>;
  /** Where `.coi-evals/` and `.coi-cache/` go by default. */
  readonly anchor: string;
}

/** The command that continues a stopped evaluation's store, for the hints after a stop. */
export type ResumeCommand = (store: string) => string;

const COI_EVAL_RESUME: ResumeCommand = (store) => `coi eval --resume ${store}`;

/**
 * An evaluation as `coi eval ARGS` runs it, for a command that evaluates through it (coi
 * finetune eval): its hints after a stop name `resumeCommand`, the caller's way to continue.
 */
export function runEval(args: ParsedArgs, io: CliIO, resumeCommand: ResumeCommand): Promise<number> {
  return evaluate(args, io, reportFormat(args), resumeCommand);
}

async function evaluate(args: ParsedArgs, io: CliIO, format: ReportFormat, resumeCommand = COI_EVAL_RESUME): Promise<number> {
  const request = args.has('resume') ? resumeRequest(args, io) : newRequest(args, io);
  const loaded = loadSource(request.source, io);
  const source = loaded.source;
  const settings = request.settings;
  const modelRequests = request.models.length > 0 ? request.models : defaultModels(loaded.chains, args, io);
  const keyOption = KEY_OPTIONS.find((option) => args.has(option));
  if (keyOption !== undefined && !modelRequests.some((m) => 'spec' in m && isOpenAISpec(m.spec))) throw new UsageError(keyOptionAlone(keyOption), 'eval');
  const models = modelPlans(modelRequests, loaded, args, io, settings, request.modes);
  let config: EvalConfig;
  try {
    config = createEvalConfig({
      name: request.name,
      source,
      models: models.map((m) => m.plan.config),
      modes: request.modes,
      template: request.template,
      items: loaded.items,
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      toolVersion: packageVersion(),
      settings,
      ...(request.resumed !== undefined ? { createdAt: request.resumed.createdAt } : {}),
    });
  } catch (error) {
    throw new UsageError((error as Error).message, 'eval');
  }
  let out: string;
  try {
    out = typeof request.out === 'string' ? request.out : claimStoreFolder(defaultStoreParent(request.out.parent, loaded.anchor, io), request.out.name);
  } catch (error) {
    storeError(error);
  }
  const cache = settings.noCache === true ? undefined : stepCache(loaded.anchor, io);
  const reporter = progressReporter(io);
  const subset = describeSubset(source.subset, loaded.total);
  // Said once the store is open (the start event), so that a store refused is not announced first.
  // The name, labels and path are the user's or the store's text: one line, control characters as escapes (a log or CI too).
  const announce = (): void =>
    io.stderr(`${visibleText(`${request.resumed !== undefined ? 'Resuming' : 'Evaluating'} ${config.name}: ${subset ?? `${loaded.items.length} item${loaded.items.length === 1 ? '' : 's'}`} × ${models.length} model${models.length === 1 ? '' : 's'} (${models.map((m) => m.plan.config.label).join(', ')}) × ${request.modes.join(' and ')}. Store: ${displayPath(out, io.cwd)}`)}\n`);
  /** The runs' warnings said on stderr as they came (a CSV report does not say them again). */
  const warningsSaid = new Set<string>();
  const progress = Object.assign((event: EvalProgressEvent): void => {
    if (event.kind === 'start') announce();
    if (event.kind === 'warning') warningsSaid.add(event.message);
    reporter(event);
  }, { end: reporter.end });
  let interrupt: AbortSignal | undefined;
  let summary;
  // A resume must name the key's variable again (refuseStoredKeyVariable): the hint gives it.
  const resumeHint = `${resumeCommand(displayPath(out, io.cwd))}${settings.apiKeyEnv !== undefined ? ` --api-key-env ${settings.apiKeyEnv}` : ''}`;
  try {
    summary = await withInterrupt(io, (signal) =>
      runEvaluation(
        { config, items: loaded.items, models: models.map((m) => m.plan) },
        {
          out,
          signal: (interrupt = signal),
          onProgress: progress,
          ...(settings.maxFailures !== undefined ? { maxFailures: settings.maxFailures } : {}),
          ...(cache !== undefined ? { cache } : {}),
          ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
        },
      ),
      `What finished is in the store. Continue with: ${resumeHint}`,
    );
  } catch (error) {
    storeError(error);
  } finally {
    progress.end();
    await Promise.all(models.map((m) => m.dispose()));
  }
  const contents = readEvalStore(out);
  const report = computeReport(contents);
  // A table of zeros says nothing when nothing was scored (the model could not serve the
  // first item, or it was cancelled at once); the line on stderr says why. Other formats are
  // for programs: always printed.
  if (format !== 'table' || report.counts.results > 0) printReport(report, format, io, warningsSaid);
  const code = finish(summary, report, settings, resumeHint, interrupt, io);
  // After the summary, on stderr in every format (stdout keeps the report alone: --json stays JSON).
  if (summary.status !== 'cancelled') {
    io.stderr(failedItemsSummary(failedItems(contents), { models: config.models.length, modes: config.modes.length, listAll: `coi eval report ${displayPath(out, io.cwd)} --failures` }));
  }
  return code;
}

/** The evaluation's last words on stderr (done, or why it stopped and how to go on), and its exit code. */
function finish(summary: EvalRunSummary, report: EvalReport, settings: EvalRunSettings, resumeHint: string, interrupt: AbortSignal | undefined, io: CliIO): number {
  if (summary.status === 'cancelled') {
    io.stderr(`Cancelled after ${summary.done}/${summary.total}; what finished is in the store. Continue with: ${resumeHint}\n`);
    return cancelledExitCode(interrupt);
  }
  for (const endpoint of summary.endpoints ?? []) {
    io.stderr(`Endpoint ${endpoint.url}: ${endpoint.served} served, ${endpoint.failedAttempts} failed tr${endpoint.failedAttempts === 1 ? 'y' : 'ies'}, ${formatDuration(endpoint.outMs)} out of the pool${endpoint.lastError !== undefined && endpoint.failedAttempts > 0 ? ` (last error: ${visibleText(endpoint.lastError)})` : ''}.\n`);
  }
  if (summary.status === 'endpoints-down') {
    io.stderr(`Stopped: ${visibleLines(summary.message ?? 'every endpoint failed')}\n${summary.done}/${summary.total} done; what finished is in the store. When a server is back: ${resumeHint}\n`);
    return EXIT_ERRORS;
  }
  if (summary.status === 'model-down') {
    io.stderr(`Stopped: ${visibleLines(summary.message ?? 'a model cannot serve the evaluation')}\n${summary.done}/${summary.total} done; what finished is in the store, the items that failed for this reason are not. When it is fixed: ${resumeHint}\n`);
    return EXIT_ERRORS;
  }
  if (summary.status === 'max-failures') {
    io.stderr(maxFailuresStop(summary, settings.maxFailures, resumeHint));
    return EXIT_ERRORS;
  }
  io.stderr(`Done: ${summary.ranNow} run now, ${summary.done - summary.ranNow} already in the store, ${summary.failures} failure${summary.failures === 1 ? '' : 's'}.\n`);
  return expectationsExitCode(report, settings.failOnExpectations === true, io);
}

/**
 * Why `--max-failures` stopped the run, and what a resume will do: the failures stay
 * recorded as their items' results (a resume does not run them again); it runs what was
 * not run, counting its own failures afresh.
 */
function maxFailuresStop(summary: EvalRunSummary, limit: number | undefined, resumeHint: string): string {
  const failed = `${summary.failedNow} item${summary.failedNow === 1 ? '' : 's'}`;
  const missing = summary.total - summary.done;
  return (
    `Stopped: ${failed} failed in this run (--max-failures ${limit ?? ''}); ${summary.done}/${summary.total} done. ` +
    `The failures are recorded as those items' results; a resume does not run them again. ` +
    `Once the cause is fixed, ${resumeHint} runs the ${missing} not yet run.\n`
  );
}

function modesOf(value: string | undefined): EvalMode[] {
  return value === 'both' ? ['stepwise', 'composed'] : value === 'composed' ? ['composed'] : ['stepwise'];
}

function runSettings(args: ParsedArgs, stored: EvalRunSettings = {}): EvalRunSettings {
  const concurrency = numberOption(args, 'concurrency', 'eval', { min: 1, max: 256, integer: true }) ?? stored.concurrency;
  const maxFailures = numberOption(args, 'max-failures', 'eval', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }) ?? stored.maxFailures;
  const threads = numberOption(args, 'threads', 'eval', { min: 1, max: 1024, integer: true }) ?? stored.threads;
  // The bounds chooseModel (runSupport.ts) checks --context against.
  const contextSize = numberOption(args, 'context', 'eval', { min: 16, max: 4_194_304, integer: true }) ?? stored.contextSize;
  const timeout = numberOption(args, 'timeout', 'eval', { min: 0, max: 7 * 24 * 3600 });
  const timeoutMs = timeout !== undefined ? Math.round(timeout * 1000) : stored.timeoutMs;
  const noCache = args.has('no-cache') || stored.noCache === true;
  const failOnExpectations = args.has('fail-on-expectations') || stored.failOnExpectations === true;
  const maxTokens = numberOption(args, 'max-tokens', 'eval', { min: 1, max: 1_000_000, integer: true }) ?? stored.maxTokens;
  // The key's variable and header by NAME (the key itself is never kept). A resume takes the
  // header from the store, never the variable: see refuseStoredKeyVariable.
  const apiKeyEnv = args.value('api-key-env');
  const apiKeyHeader = args.value('api-key-header') ?? storedName(stored.apiKeyHeader);
  const endpoints = args.values('endpoint').length > 0 ? [...new Set(args.values('endpoint').map((url) => url.trim()))] : stored.endpoints;
  for (const url of endpoints ?? []) {
    if (!/^https?:\/\/\S+$/i.test(url)) throw new UsageError(`--endpoint '${url}' is not an http(s) URL.`, 'eval');
    checkBaseUrl(url, 'eval', '--endpoint');
  }
  return {
    ...(endpoints !== undefined && endpoints.length > 0 ? { endpoints } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(noCache ? { noCache } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(contextSize !== undefined ? { contextSize } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxFailures !== undefined ? { maxFailures } : {}),
    ...(failOnExpectations ? { failOnExpectations } : {}),
    ...(apiKeyEnv !== undefined ? { apiKeyEnv } : {}),
    ...(apiKeyHeader !== undefined ? { apiKeyHeader } : {}),
  };
}

/**
 * The evaluation ran with `--api-key-env VAR`: its store keeps the name, and a resume must be
 * given it again. A store may come from someone else, and its eval.json names the server too:
 * it never chooses which of the user's variables is sent there (a store naming GITHUB_TOKEN
 * would send that token to its server). The hints after a stop give the whole command.
 */
function refuseStoredKeyVariable(args: ParsedArgs, config: EvalConfig, models: readonly ModelRequest[]): void {
  const stored = storedName(config.settings?.apiKeyEnv);
  if (stored === undefined || args.has('api-key-env')) return;
  const servers = [...new Set(models.flatMap((m) => ('spec' in m && isOpenAISpec(m.spec) && m.baseUrl !== undefined ? [m.baseUrl] : [])))];
  // Words from the store's file, which may hold anything: shown, never obeyed by the terminal.
  const where = servers.length > 0 ? ` (${visibleText(servers.join(', '))})` : '';
  const name = visibleText(stored);
  throw new UsageError(
    `The evaluation in ${args.value('resume')!} sent its server${where} the key in $${name}: give --api-key-env ${name} again to resume it (coi eval --resume ${args.value('resume')!} --api-key-env ${name}). A store, which may come from someone else, never chooses which of your variables is sent to its server.`,
    'eval',
  );
}

/** A name kept in eval.json, if it is one (a hand-edited store may hold anything). */
function storedName(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function newRequest(args: ParsedArgs, io: CliIO): Request {
  const dataset = args.value('dataset');
  const records = args.value('records');
  const positionals = args.positionals;
  let source: EvalSource;
  let name: string;
  if (records !== undefined) {
    if (dataset !== undefined) throw new UsageError('Give either --records or --dataset, not both.', 'eval');
    if (positionals.length > 0) throw new UsageError(`--records evaluates the records' own chains: no .coi file goes with it (got '${positionals[0]!}').`, 'eval');
    const path = resolve(io.cwd, records);
    source = { kind: 'records', files: [path], format: extname(path).toLowerCase() === '.jsonl' ? 'jsonl' : 'json', root: io.cwd };
    name = basename(path, extname(path));
  } else if (dataset !== undefined) {
    if (positionals.length !== 1) throw new UsageError(`--dataset goes with exactly one chain: coi eval CHAIN.coi --dataset ROWS (got ${positionals.length} files).`, 'eval');
    const chainFile = resolve(io.cwd, positionals[0]!);
    const path = resolve(io.cwd, dataset);
    source = { kind: 'dataset', files: [path], chainFile, format: datasetFormatOf(path), root: io.cwd };
    name = `${basename(chainFile, '.coi')}-${basename(path, extname(path))}`;
  } else {
    if (positionals.length === 0) throw new UsageError('Nothing to evaluate: name .coi files (their tests), CHAIN.coi --dataset ROWS, --records FILE, or --resume DIR.', 'eval');
    const files = expandPaths(positionals, { extension: '.coi', cwd: io.cwd });
    source = { kind: 'tests', files: files.map((f) => f.path), root: io.cwd };
    name = files.length === 1 ? basename(files[0]!.path, '.coi') : 'tests';
  }
  const given = args.value('name');
  // An empty name would name the store folder '...-' and the report nothing.
  if (given !== undefined && given.trim() === '') throw new UsageError('--name is empty: give the evaluation a name, or leave --name out for the default (the chain or file name).', 'eval');
  name = given ?? name;
  const subset = subsetOption(args);
  if (subset !== undefined) source = { ...source, subset };
  const anchor = source.chainFile ?? source.files[0] ?? io.cwd;
  const out = args.value('out') !== undefined ? resolve(io.cwd, args.value('out')!) : { parent: join(dirname(anchor), STORES_FOLDER), name };
  const specs = args.values('model');
  const baseUrl = args.value('base-url');
  // Without --model, $COI_MODEL=openai:MODEL_ID takes --base-url and --endpoint, when the chains have no profiles (defaultModels).
  const envOpenAI = envOpenAIModel(args, io) !== undefined;
  if (baseUrl !== undefined && !specs.some(isOpenAISpec) && !envOpenAI) throw new UsageError(specs.length > 0 ? '--base-url goes with --model openai:MODEL_ID.' : serverOptionsProblem(args, modelSourceOf(args, io))!, 'eval');
  checkBaseUrl(baseUrl, 'eval', '--base-url');
  if (args.values('endpoint').length > 0 && !specs.some(isOpenAISpec) && !envOpenAI) throw new UsageError('--endpoint goes with --model openai:MODEL_ID, or $COI_MODEL=openai:MODEL_ID (more servers of that model).', 'eval');
  if (specs.length > 0 && args.has('profile')) throw new UsageError('Give either --model or --profile, not both.', 'eval');
  const models: ModelRequest[] = args.has('profile') ? [{ profile: args.value('profile')! }] : specs.map((spec) => ({ spec, ...(baseUrl !== undefined && isOpenAISpec(spec) ? { baseUrl } : {}) }));
  const seed = seedOption(args);
  return { source, name, modes: modesOf(args.value('mode')), template: args.value('template') === 'alpaca' ? 'alpaca' : 'chat', models, settings: runSettings(args), ...(seed !== undefined ? { seed } : {}), out };
}

const FIXED_BY_STORE = ['dataset', 'records', 'model', 'profile', 'base-url', 'mode', 'template', 'max-tokens', 'out', 'name', 'seed', 'limit', 'sample', 'sample-seed'] as const;

/** The options `--resume` takes: every option of the command that the store does not fix. */
export function optionsAllowedWithResume(): string[] {
  const fixed: readonly string[] = FIXED_BY_STORE;
  const ofEvaluation = (name: string): boolean => (OPTIONS_ALSO_OF_REPORT_AND_COMPARE[name] ?? ['']).includes('');
  return command.options.filter((o) => o.name !== 'resume' && !fixed.includes(o.name) && ofEvaluation(o.name)).map((o) => `--${o.name}`);
}

function resumeRequest(args: ParsedArgs, io: CliIO): Request {
  const out = resolve(io.cwd, args.value('resume')!);
  const given = FIXED_BY_STORE.filter((o) => args.has(o));
  if (given.length > 0 || args.positionals.length > 0) {
    const what = given.length > 0 ? `--${given[0]!}` : `'${args.positionals[0]!}'`;
    throw new UsageError(`--resume takes what to evaluate from ${join(args.value('resume')!, 'eval.json')}: ${what} cannot be given with it (only ${optionsAllowedWithResume().join(', ')}).`, 'eval');
  }
  let config: EvalConfig;
  try {
    config = readConfig(out);
  } catch (error) {
    storeError(error);
  }
  const models: ModelRequest[] = config.models.map((m) => (m.spec !== undefined ? { spec: m.spec, ...(m.baseUrl !== undefined ? { baseUrl: m.baseUrl } : {}) } : { profile: m.profile ?? m.label }));
  refuseStoredKeyVariable(args, config, models);
  return { source: config.source, name: config.name, modes: config.modes, template: config.template, models, settings: runSettings(args, config.settings), seed: config.seed, out, resumed: config };
}

/**
 * The text of the dataset or records file. Bytes that are not UTF-8 are read as U+FFFD with a
 * warning naming the first one (as `coi run` reads its inputs), not refused as `coi dataset build`
 * refuses them: the evaluation writes no dataset, only scores, and ROUGE-L reads U+FFFD as it
 * reads the letter it replaced (a separator: neither is in [a-z0-9]).
 */
function readSourceText(path: string, io: CliIO, what: string): string {
  try {
    return readTextFile(path, utf8Warner(io, 'eval', displayPath(path, io.cwd)));
  } catch (error) {
    throw new FileError(`Cannot read ${what} '${displayPath(path, io.cwd)}': ${describeFsError(error)}.`);
  }
}

function inputError(error: unknown): never {
  if (error instanceof EvalInputError) throw new CliError(error.message, EXIT_USAGE);
  throw error;
}

/** The source's items, only those of its subset (`--limit`, `--sample`) when it has one. */
function loadSource(source: EvalSource, io: CliIO): LoadedSource {
  const loaded = loadAllItems(source, io);
  return { ...loaded, total: loaded.items.length, ...withSubset(source, loaded.items) };
}

function loadAllItems(source: EvalSource, io: CliIO): Omit<LoadedSource, 'total' | 'source'> {
  const root = source.root ?? io.cwd;
  try {
    if (source.kind === 'records') {
      const path = source.files[0]!;
      const items = itemsFromRecords(readSourceText(path, io, 'the records file'), (source.format ?? 'json') as RecordsFormat, { source: displayPath(path, io.cwd), sourceName: basename(path), baseDir: dirname(path) });
      return { items, chains: [], chainDirs: new Map(), anchor: path };
    }
    if (source.kind === 'dataset') {
      const chainFile = source.chainFile!;
      const shownChain = displayPath(chainFile, io.cwd);
      const loaded = loadChainFile(chainFile, shownChain, utf8Warner(io, 'eval', shownChain), { acceptComposability: true });
      const path = source.files[0]!;
      const text = readSourceText(path, io, 'the dataset');
      const items = itemsFromDataset(loaded.chain, text, datasetFormatOf(path), { source: displayPath(path, io.cwd), ...chainFileInfo(loaded, root), onNote: (note) => io.stderr(`Note: ${visibleText(note)}\n`) });
      return { items, chains: [loaded.chain], chainDirs: new Map([[loaded.chain, dirname(chainFile)]]), anchor: chainFile };
    }
    // Every file with errors is named at once; a chain the composability analysis rejects is evaluated and flagged, as a record is.
    const files = loadChainFiles(
      source.files.map((path) => ({ path, display: displayPath(path, io.cwd) })),
      { io, command: 'eval' },
      { acceptComposability: true },
    );
    const chains = files.map((loaded) => loaded.chain);
    const items = files.flatMap((loaded) => itemsFromTests(loaded.chain, chainFileInfo(loaded, root)));
    if (items.length === 0) throw new CliError(`No test blocks in ${source.files.length === 1 ? `'${displayPath(source.files[0]!, io.cwd)}'` : 'these files'}: nothing to evaluate. Add \`test\` blocks, or give --dataset ROWS.`, EXIT_USAGE);
    return { items, chains, chainDirs: new Map(files.map((loaded) => [loaded.chain, dirname(loaded.path)])), anchor: source.files[0]! };
  } catch (error) {
    inputError(error);
  }
}

/** A loaded chain file as its items name it (relative to the evaluation's root), with the composability error it is flagged with. */
function chainFileInfo(loaded: LoadedChain, root: string): ChainFileInfo {
  const finding = loaded.composability;
  return { display: displayPath(loaded.path, root), file: loaded.path, baseDir: dirname(loaded.path), ...(finding !== undefined ? { composability: `${finding.code}: ${finding.message}` } : {}) };
}

/**
 * Where the default store goes: `.coi-evals/` beside the chain or records file; where that cannot
 * be written (the paper's data in a read-only folder), the working folder's, said on stderr.
 */
function defaultStoreParent(beside: string, anchor: string, io: CliIO): string {
  const here = join(io.cwd, STORES_FOLDER);
  const why = beside === here ? undefined : unwritableReason(beside);
  if (why === undefined) return beside;
  io.stderr(`Note: the store cannot go beside '${displayPath(anchor, io.cwd)}' (${displayPath(beside, io.cwd)}: ${why}): it goes to the working folder's .coi-evals/ instead; --out DIR chooses where.\n`);
  return here;
}

/**
 * The step cache: `.coi-cache/steps/` beside the chain or records file, or under $COI_CACHE_DIR.
 * Where the folder beside cannot be written, the working folder's `.coi-cache/`; where no cache can
 * be written, none. Either is said on stderr: a cache never goes unused without a word.
 */
function stepCache(anchor: string, io: CliIO): StepCache | undefined {
  const { folder, unwritable } = usableCacheFolder(anchor, 'steps', 'the step cache', io, 'every step calls the model, and nothing is kept for a re-evaluation');
  return unwritable === undefined ? new StepCache(folder) : undefined;
}

/** Without --model (or --profile): where the model of a new evaluation comes from before its chains are read: $COI_MODEL, or --profile NAME. */
function modelSourceOf(args: ParsedArgs, io: CliIO): ModelSource {
  return args.has('profile') ? { kind: 'profile', name: args.value('profile')! } : { kind: 'env', spec: envModelSpec(io) };
}

/**
 * Without --model: every profile of the chains (by name), else $COI_MODEL, at --base-url when
 * it is an openai: model (--base-url and the key options are refused where the profiles run).
 */
function defaultModels(chains: readonly Chain[], args: ParsedArgs, io: CliIO): ModelRequest[] {
  const names = [...new Set(chains.flatMap((c) => c.profiles.map((p) => p.name)))];
  const env = envModelSpec(io);
  const unused = serverOptionsProblem(args, names.length > 0 ? { kind: 'profiles', whose: "the chains'" } : { kind: 'env', spec: env });
  if (unused !== undefined) throw new UsageError(unused, 'eval');
  if (names.length > 0 && args.values('endpoint').length > 0) throw new UsageError("--endpoint goes with --model openai:MODEL_ID, or $COI_MODEL=openai:MODEL_ID: the chains' model profiles are used, not $COI_MODEL.", 'eval');
  if (names.length > 0) return names.map((profile) => ({ profile }));
  const baseUrl = args.value('base-url');
  if (env !== undefined) return [{ spec: env, ...(baseUrl !== undefined && isOpenAISpec(env) ? { baseUrl } : {}) }];
  throw new UsageError('No model to evaluate with: give --model SPEC (repeatable), declare model profiles in the chain, or set $COI_MODEL.', 'eval');
}

interface ModelEntry {
  readonly plan: EvalModelPlan;
  dispose(): Promise<void>;
}

/** Arguments as `chooseModel` reads them, for one model of the evaluation. */
function argsFor(args: ParsedArgs, model: ModelRequest, settings: EvalRunSettings): ParsedArgs {
  const overrides: Record<string, string | undefined> = {
    model: 'spec' in model ? model.spec : undefined,
    profile: 'profile' in model ? model.profile : undefined,
    'base-url': 'spec' in model ? model.baseUrl : undefined,
    // The key of the --base-url and --endpoint servers, for the openai: models only (a profile names its own).
    // Given on the command line, else kept in the store (a resume): runSettings chose.
    'api-key-env': 'spec' in model && isOpenAISpec(model.spec) ? settings.apiKeyEnv : undefined,
    'api-key-header': 'spec' in model && isOpenAISpec(model.spec) ? settings.apiKeyHeader : undefined,
    threads: settings.threads !== undefined ? String(settings.threads) : undefined,
    context: settings.contextSize !== undefined ? String(settings.contextSize) : undefined,
  };
  const value = (name: string): string | undefined => (name in overrides ? overrides[name] : args.value(name));
  return { positionals: [], has: (name) => value(name) !== undefined || (!(name in overrides) && args.has(name)), value, values: (name) => (value(name) !== undefined ? [value(name)!] : []) };
}

/** The model of each request, checked before the evaluation starts; `modes`: what each item runs in (the profiles checked are those these runs use). */
function modelPlans(requests: readonly ModelRequest[], loaded: LoadedSource, args: ParsedArgs, io: CliIO, settings: EvalRunSettings, modes: readonly EvalMode[]): ModelEntry[] {
  const concurrency = settings.concurrency ?? DEFAULT_CONCURRENCY;
  const noChain: Chain = { name: 'eval', profiles: [], inputs: [], steps: [], tests: [] };
  return requests.map((request) => {
    if ('spec' in request) {
      let profile: ModelProfile;
      try {
        profile = profileFromModelSpec(request.spec, { cwd: io.cwd, ...(request.baseUrl !== undefined ? { baseUrl: request.baseUrl } : {}) });
      } catch (error) {
        throw new UsageError((error as Error).message, 'eval');
      }
      const choice = chooseModel(noChain, argsFor(args, request, settings), io, 'eval', io.cwd);
      const config: EvalModelConfig = { key: request.spec, label: request.spec, spec: request.spec, ...(request.baseUrl !== undefined ? { baseUrl: request.baseUrl } : {}), identity: profileIdentity(profile) };
      const local = profile.provider === 'local';
      const urls = profile.provider === 'openai' ? endpointPool(profile.baseUrl, settings.endpoints) : [];
      if (urls.length === 0) return { plan: { config, resolverFor: () => choice.resolver, concurrency: local ? 1 : concurrency, ...(local ? { lane: 'local' } : {}) }, dispose: () => choice.dispose() };
      // Several servers of the same model: one backend each, the items spread over them (core/eval/endpoints.ts).
      const choices = [choice, ...urls.slice(1).map((url) => chooseModel(noChain, argsFor(args, { ...request, baseUrl: url }, settings), io, 'eval', io.cwd))];
      const endpoints = choices.map((c, i) => ({ url: urls[i] ?? '', concurrency, resolverFor: () => c.resolver }));
      return { plan: { config, resolverFor: () => choice.resolver, concurrency, endpoints }, dispose: async () => void (await Promise.all(choices.map((c) => c.dispose()))) };
    }
    const name = request.profile;
    const owner = loaded.chains.find((c) => c.profiles.some((p) => p.name === name));
    if (owner === undefined) throw new UsageError(`No chain declares the model profile '${name}'${loaded.chains.length === 0 ? " (the paper's records have no profiles: give --model SPEC)" : ''}.`, 'eval');
    const lacking = loaded.chains.find((c) => !c.profiles.some((p) => p.name === name));
    if (lacking !== undefined) throw new UsageError(`The chain '${lacking.name}' has no model profile '${name}': evaluate files with the same profiles together, or give --model SPEC.`, 'eval');
    const profile = owner.profiles.find((p) => p.name === name)!;
    const choices = new Map<Chain, ChosenModel>();
    const choiceFor = (chain: Chain): ChosenModel => {
      let choice = choices.get(chain);
      if (choice === undefined) {
        // The chain's own folder, not the first file's: `coi eval a/x.coi b/y.coi` finds b's `path "models/m.gguf"` in b/.
        choice = chooseModel(chain, argsFor(args, request, settings), io, 'eval', loaded.chainDirs.get(chain) ?? dirname(loaded.anchor), { runs: { modes } });
        choices.set(chain, choice);
      }
      return choice;
    };
    // Fail early (missing API key, unknown profile) rather than on the first item.
    for (const chain of loaded.chains) choiceFor(chain);
    const local = profile.provider === 'local';
    const config: EvalModelConfig = { key: `profile:${name}`, label: name, profile: name, identity: profileIdentity(profile) };
    return {
      plan: { config, resolverFor: (item) => choiceFor(item.chain).resolver, defaultProfile: name, concurrency: local ? 1 : concurrency, ...(local ? { lane: 'local' } : {}) },
      dispose: async () => {
        await Promise.all([...choices.values()].map((c) => c.dispose()));
      },
    };
  });
}

/** Without a terminal (a log, CI), the longest silence between progress lines. */
const PROGRESS_LOG_INTERVAL_MS = 30_000;

/**
 * The progress of an evaluation on stderr: on a terminal one line redrawn at each result;
 * otherwise a line at each tenth done, and at least every 30 s (a slow model's tenth can
 * take an hour), so a log shows it is alive. A run's warning is a `⚠` line of its own, each
 * distinct one once.
 */
export function progressReporter(io: CliIO, now: () => number = Date.now): ((event: EvalProgressEvent) => void) & { end(): void } {
  const status = statusLine(io, { everyMs: PROGRESS_LOG_INTERVAL_MS, now });
  const line = (done: number, total: number, failures: number, etaMs: number | undefined): string =>
    `eval: ${done}/${total} done, ${failures} failure${failures === 1 ? '' : 's'}${etaMs !== undefined && done < total ? `, ETA ${formatDuration(etaMs)}` : ''}`;
  const report = (event: EvalProgressEvent): void => {
    if (event.kind === 'endpoint') {
      const what = event.state === 'down' ? `out of the pool for ${formatDuration(event.retryInMs ?? 0)} (its item runs elsewhere): ${visibleText(event.error ?? '')}` : 'back in the pool';
      status.print(`eval: endpoint ${event.url} ${what}\n`);
      return;
    }
    if (event.kind === 'warning') {
      // Once per distinct warning (evaluate.ts), as `coi run` says it, below the progress line, which redraws under it.
      status.print(`⚠ ${visibleText(event.message)}\n`);
      return;
    }
    if (event.kind === 'stopped') return;
    const tenth = event.total === 0 ? 10 : Math.floor((event.done / event.total) * 10);
    status.show(line(event.done, event.total, event.failures, event.kind === 'result' ? event.etaMs : undefined), { step: tenth, force: event.kind !== 'result' || event.done >= event.total });
  };
  return Object.assign(report, { end: status.end });
}
