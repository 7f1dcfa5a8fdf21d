/**
 * What `coi run` and `coi test` share: loading a chain file, choosing the model
 * (--model, --profile, the file's profiles, COI_MODEL), the step cache and run
 * store folders, and Ctrl-C.
 */
import { dirname, join, resolve } from 'node:path';
import { createBackend, describeRetry, modelFileProblem, resolveModelPath, disposeSharedWorkerHosts, formatDuration, type RetryInfo, type BackendFactoryOptions, type DownloadProgress, apiKeyEnvFor, missingApiKeyProblem, resolveApiKey, type ModelBackend } from '../../core/backends';
import type { Chain, ModelProfile } from '../../core/chain';
import { apiKeyHeaderProblem, baseUrlSecretProblem } from '../../core/chain';
import { composedRunProfile, describeProfile, isRemoteModelUri, noModelHelp, profileBackendResolver, profileFromModelSpec, localModelPlacement, placementLine, reportingPlacement, runProfile, stepsGenerated, type LocalModelPlacement, type BackendResolver, type RunMode } from '../../core/runner';
import { displayPath, envCacheDir, LineMap, unwritableReason } from '../../core/syntax';
import type { OptionSpec, ParsedArgs } from '../args';
import { numberOption } from '../args';
import { readTextIfPossible, checkForRun, composabilityErrors, type CheckResult } from '../../core/check';
import { ALWAYS_KEPT } from '../../core/diagnostics';
import type { Diagnostic } from '../../core/syntax';
import { diagnosticLine, diagnosticText } from '../diagnose';
import { CliError, describeFsError, EXIT_USAGE, FileError, UsageError } from '../errors';
import { readTextFile, utf8Warner } from '../files';
import { STDOUT_STOP_EXIT_CODES, STDOUT_STOP_WORDS, stdoutStop, type CliIO, type StdoutStop } from '../io';
import { statusLine, writeOverProgressLine } from '../statusLine';

export const MODEL_OPTIONS: readonly OptionSpec[] = [
  { name: 'profile', short: 'p', kind: 'value', valueName: 'NAME', description: "Run with this model profile of the file (instead of its first one)." },
  {
    name: 'model',
    short: 'm',
    kind: 'value',
    valueName: 'SPEC',
    description: 'Run with this model instead of the file\'s profiles: a GGUF file, an hf: URI (downloaded once), or openai:MODEL_ID with --base-url. Default: the file\'s first profile, else $COI_MODEL.',
  },
  { name: 'base-url', kind: 'value', valueName: 'URL', description: 'Base URL of the OpenAI-compatible server for --model openai:MODEL_ID, or for $COI_MODEL=openai:MODEL_ID when that is the model (default https://api.openai.com/v1). Its key: --api-key-env.' },
  {
    name: 'api-key-env',
    kind: 'value',
    valueName: 'VAR',
    description: "The environment variable holding the API key of the server of --model openai:MODEL_ID (or $COI_MODEL=openai:MODEL_ID). Default: $OPENAI_API_KEY, for OpenAI's own API only: no key goes to another server unless its variable is named here.",
  },
  {
    name: 'api-key-header',
    kind: 'value',
    valueName: 'NAME',
    description: "The HTTP header the key of the server of --model openai:MODEL_ID (or $COI_MODEL=openai:MODEL_ID) goes in: Authorization sends 'Bearer KEY', any other header (api-key, x-api-key...) the bare key. Default: api-key for Azure OpenAI (*.openai.azure.com, *.cognitiveservices.azure.com), else Authorization.",
  },
  { name: 'threads', kind: 'value', valueName: 'N', description: 'CPU threads for local models (default: node-llama-cpp\'s choice).' },
  {
    name: 'max-tokens',
    kind: 'value',
    valueName: 'N',
    description: "Bound every step's output to N tokens (instead of its max_tokens). Default: the step's max_tokens, else for local models a quarter of the context (at most 2048) and never more than what is left of it. A cut output is a step warning (finish reason: length).",
  },
  { name: 'context', kind: 'value', valueName: 'TOKENS', description: "Context size of local models (instead of the profile's `context`). Default: node-llama-cpp's choice for the model and memory." },
  { name: 'no-cache', kind: 'flag', description: 'Call the model for every step (the step cache is neither read nor written).' },
  {
    name: 'timeout',
    kind: 'value',
    valueName: 'SECONDS',
    description: 'Give up on a model call that takes longer (the step fails); 0: no limit. Default for OpenAI-compatible servers: 600 s, and 120 s without any streamed output; local models: no limit.',
  },
];

/** `--max-tokens N` as the run's parameter overrides (every step), or nothing. */
export function maxTokensOption(args: ParsedArgs, command: string): { params?: { maxTokens: number } } {
  const maxTokens = numberOption(args, 'max-tokens', command, { min: 1, max: 1_000_000, integer: true });
  return maxTokens === undefined ? {} : { params: { maxTokens } };
}

/** `--timeout SECONDS` as the runner's per-call `timeoutMs`, or nothing. */
export function timeoutOption(args: ParsedArgs, command: string): { timeoutMs?: number } {
  const seconds = numberOption(args, 'timeout', command, { min: 0, max: 7 * 24 * 3600 });
  return seconds === undefined ? {} : { timeoutMs: Math.round(seconds * 1000) };
}

/** $COI_DOWNLOAD_STALL_SECONDS: how long a model download may receive nothing before it fails (default 30). */
function downloadStallOption(env: CliIO['env']): { downloadStallMs?: number } {
  const raw = env.COI_DOWNLOAD_STALL_SECONDS;
  if (raw === undefined || raw.trim() === '') return {};
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(`COI_DOWNLOAD_STALL_SECONDS must be a number of seconds above 0 (got '${raw}').`, EXIT_USAGE);
  return { downloadStallMs: Math.round(seconds * 1000) };
}

export interface LoadedChain {
  readonly path: string;
  readonly text: string;
  readonly chain: Chain;
  readonly lineMap: LineMap;
  /**
   * With `acceptComposability`: the composability analysis' first error (COI301…), which the
   * caller runs the chain with and flags; 1-based line and column.
   */
  readonly composability?: { readonly code: string; readonly message: string; readonly line: number; readonly column: number };
}

export interface LoadChainOptions {
  /**
   * Load a chain whose only errors are the composability analysis' (COI3xx: a finding about what
   * it asks of its steps, as in a few of the paper's records), for `coi eval` and `coi dataset
   * build`, which flag it; other errors still stop it.
   */
  readonly acceptComposability?: boolean;
}

/** For `loadChainFiles`: the command whose warnings name each file's first byte that is not UTF-8, as `coi check` and `coi run` name it. */
export interface ChainFilesReader {
  readonly io: CliIO;
  /** `eval`: `coi eval: warning: x.coi:3:14: invalid UTF-8 …` (utf8Warner). */
  readonly command: string;
}

/**
 * Where each loaded chain came from, so that a problem found later (a profile's model file) can
 * name its file:line, and the check's warnings about where the file's profiles send API keys.
 */
const chainSources = new WeakMap<Chain, { readonly display: string; readonly text: string; readonly lineMap: LineMap; readonly keyWarnings: readonly Diagnostic[] }>();

/** A file's errors as `coi check` prints them, `FILE:LINE:COLUMN: error CODE: message` (the first `max`), and how many there are. */
interface FileErrors {
  readonly display: string;
  readonly count: number;
  readonly lines: readonly string[];
}

/** Reads and checks a .coi file: the chain, or the errors that stop it (unreadable: a FileError, exit code 2). */
function readChainFile(path: string, display: string, warn: ((problem: string) => void) | undefined, options: LoadChainOptions, max: number): LoadedChain | FileErrors {
  let text: string;
  try {
    text = readTextFile(path, warn);
  } catch (error) {
    throw new FileError(`Cannot read '${display}': ${describeFsError(error)}.`);
  }
  const checked = checkForRun(text, { documentPath: path, readFile: readTextIfPossible });
  const lineMap = new LineMap(text);
  const position = (d: Diagnostic): { line: number; column: number } => {
    const { line, character } = lineMap.positionAt(d.span.start);
    return { line: line + 1, column: character + 1 };
  };
  const findings = options.acceptComposability === true ? composabilityErrors(checked.diagnostics) : [];
  const errors = checked.blocking.filter((d) => !findings.includes(d));
  // Counted, not listed: past the cap on kept problems, `blocking` holds only the first ones.
  const count = Math.max(errors.length, checked.counts.error - findings.length);
  if (count > 0) return { display, count, lines: errors.slice(0, max).map((d) => diagnosticText(display, lineMap, d)) };
  chainSources.set(checked.chain, { display, text, lineMap, keyWarnings: keyDestinationWarnings(checked) });
  const finding = findings[0];
  return { path, text, chain: checked.chain, lineMap, ...(finding !== undefined ? { composability: { code: finding.code, message: finding.message, ...position(finding) } } : {}) };
}

/**
 * The check's COI510/COI511 warnings of a file: all of them, even past the cap on kept problems
 * (the cap always keeps these: core/syntax/diagnosticCap.ts, ALWAYS_KEPT).
 */
function keyDestinationWarnings(checked: CheckResult): Diagnostic[] {
  return checked.diagnostics.filter((d) => ALWAYS_KEPT.has(d.code));
}

function isLoaded(result: LoadedChain | FileErrors): result is LoadedChain {
  return 'chain' in result;
}

/** The lines of a file's errors past those shown: how many more, and the command that lists them. */
function moreErrors(file: FileErrors, indent: string): string[] {
  const left = file.count - file.lines.length;
  return left > 0 ? [`${indent}... and ${left} more in ${file.display} (coi check ${file.display})`] : [];
}

/** The message of files with errors: every file named, each error with its FILE:LINE:COLUMN. */
function filesWithErrors(failed: readonly FileErrors[]): CliError {
  const errors = failed.reduce((n, f) => n + f.count, 0);
  const head =
    failed.length === 1
      ? `'${failed[0]!.display}' has ${errors} error${errors === 1 ? '' : 's'}; fix ${errors === 1 ? 'it' : 'them'} before running:`
      : `${failed.length} files have errors (${errors} in all); fix them before running:`;
  return new CliError([head, ...failed.flatMap((f) => [...f.lines.map((l) => `  ${l}`), ...moreErrors(f, '  ')])].join('\n'), EXIT_USAGE);
}

/** Reads and checks a .coi file; syntax or structure errors stop here (exit code 2). */
export function loadChainFile(path: string, display: string, warn?: (problem: string) => void, options: LoadChainOptions = {}): LoadedChain {
  const result = readChainFile(path, display, warn, options, 10);
  if (isLoaded(result)) return result;
  throw filesWithErrors([result]);
}

/**
 * Reads and checks several .coi files, in order. When any has errors, one message names every
 * such file, each error with its FILE:LINE:COLUMN (the first 3 of each file; 10 of a lone file), exit code 2.
 * Bytes that are not UTF-8 are read as U+FFFD with `reader`'s warning, never silently.
 */
export function loadChainFiles(files: readonly { readonly path: string; readonly display: string }[], reader: ChainFilesReader, options: LoadChainOptions = {}): LoadedChain[] {
  const results = files.map((file) => readChainFile(file.path, file.display, utf8Warner(reader.io, reader.command, file.display), options, files.length === 1 ? 10 : 3));
  const failed = results.filter((r): r is FileErrors => !isLoaded(r));
  if (failed.length > 0) throw filesWithErrors(failed);
  return results.filter(isLoaded);
}

/** dist/worker.js beside the bundled CLI (dist/cli.js); COI_WORKER_PATH overrides it. */
export function workerPath(env: CliIO['env']): string {
  return env.COI_WORKER_PATH ?? join(__dirname, 'worker.js');
}

// $COI_CACHE_DIR, empty counting as unset (it would put the caches in the working folder's own steps/ and runs/): core's rule, for the engines too.
export { envCacheDir } from '../../core/syntax';

/** `.coi-cache/` beside the chain file, or $COI_CACHE_DIR. */
function cacheRoot(file: string, env: CliIO['env']): string {
  return envCacheDir(env) ?? join(dirname(file), '.coi-cache');
}

/**
 * The folder `sub` of the `.coi-cache/` that goes with `file` (cacheRoot) where it can be written;
 * where the folder beside the file cannot be (a read-only folder: the paper's data, examples
 * installed read-only; one whose mode gives no one write permission counts even for root), the
 * working folder's `.coi-cache/SUB`, with a note on stderr saying so: WHAT (`the step cache`)
 * never moves, or goes unused, without a word. `unwritable` says why neither can be written;
 * then, when `unwritableMeans` says what that costs (`every step calls the model`), a note says so.
 */
export function usableCacheFolder(file: string, sub: string, what: string, io: CliIO, unwritableMeans?: string): { readonly folder: string; readonly unwritable?: string } {
  const first = join(cacheRoot(file, io.env), sub);
  const why = unwritableReason(first);
  if (why === undefined) return { folder: first };
  const fallback = join(io.cwd, '.coi-cache', sub);
  const fromEnv = envCacheDir(io.env) !== undefined;
  if (!fromEnv && fallback !== first && unwritableReason(fallback) === undefined) {
    io.stderr(`Note: ${what} cannot go beside '${displayPath(file, io.cwd)}' (${displayPath(first, io.cwd)}: ${why}): the working folder's .coi-cache/ is used instead.\n`);
    return { folder: fallback };
  }
  if (unwritableMeans !== undefined) io.stderr(`Note: ${what} cannot be written (${displayPath(first, io.cwd)}: ${why}): ${unwritableMeans}${fromEnv ? ' ($COI_CACHE_DIR chooses the folder)' : ''}.\n`);
  return { folder: first, unwritable: why };
}

export interface ChosenModel {
  readonly resolver: BackendResolver;
  /** For messages: "local model x.gguf", "profile api". */
  readonly description: string;
  /** Where each local model used so far ran (GPU or CPU), in the order they were first called. */
  placements(): LocalModelPlacement[];
  /** Writes "local model NAME on ..." to stderr for models first called since the last time. */
  reportPlacements(): void;
  /** Ends a download progress line left unfinished on a terminal (before a step's status line). */
  endProgressLine(): void;
  dispose(): Promise<void>;
}

const MB = 1024 * 1024;

/**
 * Download progress of `hf:` / URL models on stderr: one line updated in place on
 * a terminal, else a line at every 10% (logs and CI output stay short).
 */
export function downloadProgressReporter(io: CliIO, now: () => number = Date.now): ((progress: DownloadProgress) => void) & { endLine(): void } {
  const status = statusLine(io, { now });
  const started = new Map<string, number>();
  const report = ({ uri, downloadedSize, totalSize }: DownloadProgress): void => {
    const done = totalSize > 0 && downloadedSize >= totalSize;
    const sizes = totalSize > 0 ? `${(downloadedSize / MB).toFixed(1)}/${(totalSize / MB).toFixed(1)} MB (${Math.floor((downloadedSize / totalSize) * 100)}%)` : `${(downloadedSize / MB).toFixed(1)} MB`;
    if (!started.has(uri)) started.set(uri, now());
    // The rate once there is a second of history (earlier figures swing wildly).
    const seconds = (now() - (started.get(uri) ?? now())) / 1000;
    const rate = seconds >= 1 ? `, ${(downloadedSize / MB / seconds).toFixed(1)} MB/s` : '';
    status.show(`Downloading ${uri}: ${sizes}${rate}`, { channel: uri, step: totalSize > 0 ? Math.floor((downloadedSize / totalSize) * 10) : -1, final: done });
  };
  /** Ends an unfinished progress line (a failed download), so a following message starts on its own line. */
  return Object.assign(report, { endLine: status.end });
}

/**
 * The backends of one command over many chains (`coi test a.coi b.coi`): a model is
 * loaded once, whichever file names it, and ended once, by dispose().
 */
export class BackendPool {
  private readonly backends = new Map<string, ModelBackend>();

  /** The backend of this model identity, made by `make` the first time. */
  obtain(key: string, make: () => ModelBackend): ModelBackend {
    let backend = this.backends.get(key);
    if (backend === undefined) {
      backend = make();
      this.backends.set(key, backend);
    }
    return backend;
  }

  async dispose(): Promise<void> {
    const backends = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(backends.map((b) => b.dispose()));
    await disposeSharedWorkerHosts();
  }
}

/** What makes two profiles one backend: everything but the profile's name and place, a local file by its full path. */
function backendKey(profile: ModelProfile, baseDir: string): string {
  const local = profile.provider === 'local' ? { path: resolveModelPath(profile.path, baseDir), ...(profile.lora !== undefined ? { lora: { ...profile.lora, path: resolve(baseDir, profile.lora.path) } } : {}) } : {};
  return JSON.stringify({ ...profile, name: undefined, span: undefined, ...local });
}

/** The options about the key of an `openai:` model's server, which go with --model openai:MODEL_ID (or $COI_MODEL=openai:MODEL_ID) only. */
export const KEY_OPTIONS = ['api-key-env', 'api-key-header'] as const;

/** `--api-key-env` given without --model openai:MODEL_ID: where it goes, and a profile's own key. */
export function keyOptionAlone(option: (typeof KEY_OPTIONS)[number]): string {
  const own = option === 'api-key-env' ? 'names its variable with `api_key_env`' : 'names its header with `api_key_header`';
  return `--${option} goes with --model openai:MODEL_ID (a model profile ${own}).`;
}

/** $COI_MODEL, trimmed: the default model of a file without profiles; undefined when unset or blank. */
export function envModelSpec(io: Pick<CliIO, 'env'>): string | undefined {
  const spec = io.env.COI_MODEL?.trim();
  return spec === '' ? undefined : spec;
}

/** $COI_MODEL when it is an openai: model and no --model or --profile replaces it (it then takes --base-url and the key options). */
export function envOpenAIModel(args: Pick<ParsedArgs, 'has'>, io: Pick<CliIO, 'env'>): string | undefined {
  const spec = envModelSpec(io);
  return args.has('model') || args.has('profile') || spec === undefined || !isOpenAISpec(spec) ? undefined : spec;
}

/**
 * Where a command's model comes from, for the options that go with an `openai:` model: --model
 * SPEC, $COI_MODEL (a file without profiles, no --model or --profile; undefined when unset),
 * --profile NAME, or the file's profiles (`whose`: how messages name them; default "this file's").
 */
export type ModelSource = { readonly kind: 'option' | 'env'; readonly spec: string | undefined } | { readonly kind: 'profile'; readonly name: string } | { readonly kind: 'profiles'; readonly whose?: string };

/**
 * --base-url, --api-key-env and --api-key-header are the server of an `openai:` model named by
 * --model or by $COI_MODEL. Given where no such model runs they would be ignored (a request to
 * api.openai.com, a profile's own server): why, as a sentence; undefined when they are used.
 */
export function serverOptionsProblem(args: Pick<ParsedArgs, 'has'>, source: ModelSource): string | undefined {
  const option = (['base-url', ...KEY_OPTIONS] as const).find((name) => args.has(name));
  if (option === undefined) return undefined;
  if ((source.kind === 'option' || source.kind === 'env') && source.spec !== undefined && isOpenAISpec(source.spec)) return undefined;
  if (source.kind === 'option') return option === 'base-url' ? `--base-url goes with --model openai:MODEL_ID: '${source.spec?.trim() ?? ''}' is not an openai: model, so --base-url would not be used.` : keyOptionAlone(option);
  const goes = `--${option} goes with --model openai:MODEL_ID (or $COI_MODEL=openai:MODEL_ID for a file without model profiles)`;
  const own = option === 'base-url' ? 'its server with `base_url`' : option === 'api-key-env' ? 'its key with `api_key_env`' : 'its key header with `api_key_header`';
  if (source.kind === 'profile') return `${goes}: --profile ${source.name} runs the file's model profile, which names ${own}.`;
  if (source.kind === 'profiles') return `${goes}: ${source.whose ?? "this file's"} model profiles are used, not $COI_MODEL, and a model profile names ${own}.`;
  if (source.spec === undefined) return `${goes}.`;
  return `${goes}: $COI_MODEL is '${source.spec.trim()}', not an openai: model, so --${option} would not be used.`;
}

/**
 * What a command runs of a chain, so that the checks before it (a local profile's model file, where
 * a profile sends an API key) look at the profiles it uses and no others. Default: one stepwise
 * run of every step.
 */
export interface ChainRuns {
  /** Every mode it runs the chain in (`coi eval --mode both`: both). */
  readonly modes: readonly RunMode[];
  /** The last step it runs (`coi run --to STEP`); none: every step. */
  readonly stopAfter?: string;
  /** The steps it is given instead of generating (`coi run --pin STEP=...`): their profiles are not used. */
  readonly pinned?: Readonly<Record<string, string>>;
  /**
   * The default profile of each of its runs, where they may differ: `coi test`, one per test that
   * will run, whose `model NAME` line replaces the default (core/expectations/runTest.ts);
   * undefined for a run on the command's default (`--profile`, else the file's first profile).
   * Absent: every run is on the command's default.
   */
  readonly defaultProfiles?: readonly (string | undefined)[];
}

export interface ChooseModelOptions {
  /** How messages name the option giving the model: `--model` (default), `--judge-model`. */
  readonly modelOption?: string;
  /** Backends come from it (and are ended by its dispose(), not by the choice's). */
  readonly pool?: BackendPool;
  readonly runs?: ChainRuns;
}

const ONE_STEPWISE_RUN: ChainRuns = { modes: ['stepwise'] };

/** Picks the backends for a chain from the command line, the file and the environment. */
export function chooseModel(chain: Chain, args: ParsedArgs, io: CliIO, command: string, baseDir: string, options: ChooseModelOptions = {}): ChosenModel {
  const { modelOption = '--model', pool, runs = ONE_STEPWISE_RUN } = options;
  const spec = args.value('model') ?? undefined;
  const profileName = args.value('profile');
  if (spec !== undefined && profileName !== undefined) throw new UsageError('Give either --model or --profile, not both.', command);
  const envModel = envModelSpec(io);
  const serverProblem = serverOptionsProblem(args, spec !== undefined ? { kind: 'option', spec } : profileName !== undefined ? { kind: 'profile', name: profileName } : chain.profiles.length > 0 ? { kind: 'profiles' } : { kind: 'env', spec: envModel });
  if (serverProblem !== undefined) throw new UsageError(serverProblem, command);
  const threads = threadsOption(args, command);
  const contextSize = contextOption(args, command);
  const downloadProgress = downloadProgressReporter(io);
  const backends: ModelBackend[] = [];
  const factory: BackendFactoryOptions = {
    workerPath: workerPath(io.env),
    env: io.env,
    baseDir,
    ...(threads !== undefined ? { threads } : {}),
    // Where hf: / URL models are downloaded (node-llama-cpp's ~/.node-llama-cpp/models when unset).
    ...(io.env.COI_MODELS_DIR !== undefined && io.env.COI_MODELS_DIR !== '' ? { modelsDir: io.env.COI_MODELS_DIR } : {}),
    onDownloadProgress: downloadProgress,
    ...downloadStallOption(io.env),
  };
  const placements: LocalModelPlacement[] = [];
  let reported = 0;
  const retries = retryReporter(io);
  const make = (profile: ModelProfile): ModelBackend => {
    // An explicit --threads or --context beats the profile's own setting.
    const local = profile.provider === 'local' ? { ...profile, ...(threads !== undefined ? { threads } : {}), ...(contextSize !== undefined ? { contextSize } : {}) } : profile;
    const create = (): ModelBackend => {
      const backend = createBackend(local, { ...factory, onRetry: (info) => retries(describeProfile(profile), info) });
      if (pool === undefined) backends.push(backend);
      return reportingPlacement(backend, (info) => placements.push(localModelPlacement(profile.provider === 'local' ? profile.path : backend.identity.model, info)));
    };
    return pool === undefined ? create() : pool.obtain(backendKey(local, baseDir), create);
  };
  const placementsOf = {
    endProgressLine: () => downloadProgress.endLine(),
    placements: () => [...placements],
    reportPlacements: () => {
      for (const placement of placements.slice(reported)) io.stderr(`${placementLine(placement)}\n`);
      reported = placements.length;
    },
  };
  const dispose = async (): Promise<void> => {
    if (pool !== undefined) return; // the pool's backends, ended with it
    await Promise.all(backends.map((b) => b.dispose()));
    await disposeSharedWorkerHosts();
  };

  const fixedSpec = spec ?? (profileName === undefined && chain.profiles.length === 0 ? envModel : undefined);
  if (fixedSpec !== undefined) {
    const profile = checkedModelProfile(fixedSpec, { baseUrl: args.value('base-url'), apiKeyEnv: args.value('api-key-env'), apiKeyHeader: args.value('api-key-header') }, io, command, spec !== undefined ? modelOption : 'COI_MODEL');
    let backend: ModelBackend | undefined;
    return { resolver: () => (backend ??= make(profile)), description: describeProfile(profile), ...placementsOf, dispose };
  }
  if (profileName !== undefined && chain.profiles.length === 0) throw new UsageError(`--profile ${profileName}: the file declares no model profiles. Use --model SPEC instead.`, command);
  if (chain.profiles.length === 0) throw new CliError(noModelHelp('cli'), EXIT_USAGE);
  const byName = new Map(chain.profiles.map((p) => [p.name, p]));
  const defaultName = profileName ?? chain.defaultProfile ?? chain.profiles[0]!.name;
  if (!byName.has(defaultName)) {
    throw new UsageError(`The file has no model profile '${defaultName}' (profiles: ${chain.profiles.map((p) => p.name).join(', ')}).`, command);
  }
  // A default that no run uses is not checked (`coi test` where every test names its profile);
  // a hosted API profile only a step names is (else the steps before it run, then it fails).
  const runDefaults = [...new Set((runs.defaultProfiles ?? [undefined]).map((name) => name ?? defaultName))];
  const used = usedProfiles(chain, runDefaults, runs);
  for (const profile of used) checkApiKey(profile, io.env);
  checkProfileModelFiles(chain, used, baseDir);
  warnKeyDestinations(chain, used, io);
  const resolver: BackendResolver = profileBackendResolver(chain.profiles, defaultName, make);
  // Named as the run record names it (core's runProfile), for its first mode (`coi run` has one).
  const shown = runProfile(chain, { mode: runs.modes[0], stopAfter: runs.stopAfter, pinned: runs.pinned, defaultProfile: defaultName }) ?? defaultName;
  return { resolver, description: describeProfile(byName.get(shown) ?? byName.get(defaultName)!), ...placementsOf, dispose };
}

/**
 * The profile of a model named on the command line (or by $COI_MODEL), checked before
 * anything runs: an unreadable spec or base URL, a GGUF that is not there and a hosted
 * API without its key are usage errors (exit code 2), not failed model calls later.
 * `source` names where the spec came from in messages (`--model`, `COI_MODEL`).
 */
export function checkedModelProfile(spec: string, server: ServerOptions, io: CliIO, command: string, source: string): ModelProfile {
  const { baseUrl, apiKeyEnv, apiKeyHeader } = server;
  checkServerOptions(server, io, command, source);
  let profile: ModelProfile;
  try {
    profile = profileFromModelSpec(spec, { cwd: io.cwd, ...(baseUrl !== undefined ? { baseUrl } : {}), ...(apiKeyEnv !== undefined ? { apiKeyEnv } : {}), ...(apiKeyHeader !== undefined ? { apiKeyHeader: apiKeyHeader.trim() } : {}) });
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  checkModelFile(profile, source);
  checkApiKey(profile, io.env);
  return profile;
}

/** The server options of an `openai:` model: --base-url, --api-key-env, --api-key-header (or the judge's). */
type ServerOptions = { readonly baseUrl?: string | undefined; readonly apiKeyEnv?: string | undefined; readonly apiKeyHeader?: string | undefined };

/** The values of the server options on their own: a base URL that is no URL, a key's variable that is not set, a header that cannot be sent (usage errors). */
function checkServerOptions({ baseUrl, apiKeyEnv, apiKeyHeader }: ServerOptions, io: CliIO, command: string, source: string): void {
  // The judge of `coi test` has options of its own: --judge-base-url, --judge-api-key-env, --judge-api-key-header.
  const option = (name: string): string => (source === '--judge-model' ? `--judge-${name}` : `--${name}`);
  checkBaseUrl(baseUrl, command, option('base-url'), option('api-key-env'));
  checkApiKeyEnv(apiKeyEnv, io.env, command, option('api-key-env'));
  const headerProblem = apiKeyHeader === undefined ? undefined : apiKeyHeaderProblem(apiKeyHeader, option('api-key-header'));
  if (headerProblem !== undefined) throw new UsageError(headerProblem, command);
}

/** --threads N and --context N, checked (a usage error out of range). */
const threadsOption = (args: ParsedArgs, command: string): number | undefined => numberOption(args, 'threads', command, { min: 1, max: 1024, integer: true });
const contextOption = (args: ParsedArgs, command: string): number | undefined => numberOption(args, 'context', command, { min: 16, max: 4_194_304, integer: true });

/** A chain with nothing of its own: what chooseModel is given where the command line alone names the model. */
const NO_CHAIN: Chain = { name: '', profiles: [], inputs: [], steps: [], tests: [] };

/**
 * What chooseModel refuses whatever the chain (a usage error, exit 2), for a command that may
 * choose no model at all: `coi test` of files without tests. --model with --profile, a --model
 * spec that cannot be read (or its file, its key), a server option given with --profile, `--base-url
 * notaurl` and the other server options' values, --threads and --context out of range. What
 * depends on the file (its profiles, $COI_MODEL for a file without any) is left to chooseModel.
 */
export function checkModelOptions(args: ParsedArgs, io: CliIO, command: string, options: Pick<ChooseModelOptions, 'modelOption'> = {}): void {
  // A --model replaces the file's profiles: checked as for any file (nothing is made before its first call).
  if (args.value('model') !== undefined) {
    chooseModel(NO_CHAIN, args, io, command, io.cwd, options);
    return;
  }
  const profileName = args.value('profile');
  const serverProblem = profileName === undefined ? undefined : serverOptionsProblem(args, { kind: 'profile', name: profileName });
  if (serverProblem !== undefined) throw new UsageError(serverProblem, command);
  threadsOption(args, command);
  contextOption(args, command);
  checkServerOptions({ baseUrl: args.value('base-url'), apiKeyEnv: args.value('api-key-env'), apiKeyHeader: args.value('api-key-header') }, io, command, options.modelOption ?? '--model');
}

/**
 * `--base-url notaurl` is a usage error, not a failed request later; so is a base URL with a
 * secret in it (`http://user:secret@host/v1`, `?api_key=`), which would be kept in run records
 * (core/chain/baseUrl.ts). `keyOption` is the option that names the key's variable instead.
 */
export function checkBaseUrl(baseUrl: string | undefined, command: string, option: string, keyOption = '--api-key-env'): void {
  if (baseUrl === undefined) return;
  let protocol: string | undefined;
  try {
    protocol = new URL(baseUrl).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(`${option} '${baseUrl}' is not a URL: give http://HOST:PORT/v1 or https://... (the server's OpenAI-compatible API).`, command);
  }
  const secret = baseUrlSecretProblem(baseUrl, option, `name the environment variable that holds the key with ${keyOption} VAR instead`);
  if (secret !== undefined) throw new UsageError(secret, command);
}

/** `openai:MODEL_ID`: a model at an OpenAI-compatible server (the specs --base-url and --api-key-env go with). */
export function isOpenAISpec(spec: string): boolean {
  return /^openai:/i.test(spec.trim());
}

/**
 * `--api-key-env VAR` names a variable, which must hold a key: the key itself given there, or a
 * variable that is not set, is a usage error rather than a request without a key later.
 */
function checkApiKeyEnv(name: string | undefined, env: CliIO['env'], command: string, option: string): void {
  if (name === undefined) return;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`${option} takes the NAME of the environment variable that holds the key (such as MY_SERVER_KEY), not '${name.length > 12 ? `${name.slice(0, 4)}…` : name}'.`, command);
  }
  if ((env[name] ?? '').trim() === '') throw new UsageError(`${option} ${name}: the environment variable ${name} is not set (or empty); set it to the server's API key.`, command);
}

/**
 * A local GGUF named on the command line (or COI_MODEL) must be there and look like a
 * model: say what is wrong before any run starts (exit code 2). A FIFO or device is
 * named as such and never opened.
 */
function checkModelFile(profile: ModelProfile, source: string): void {
  const problem = localModelFilesProblem(profile, (path) => path);
  if (problem !== undefined) throw new FileError(`${source}: ${problem}`);
}

/**
 * What is wrong with a local profile's model file or LoRA adapter (paths resolved by
 * `resolve`), as a sentence; undefined when both look usable or the model is downloaded (hf:, URL).
 */
function localModelFilesProblem(profile: ModelProfile, resolve: (path: string) => string): string | undefined {
  if (profile.provider !== 'local') return undefined;
  const reason = (path: string): string | undefined => {
    const problem = modelFileProblem(path);
    return problem === undefined ? undefined : problem.kind === 'missing' ? 'no such file or directory' : problem.reason;
  };
  const modelProblem = isRemoteModelUri(profile.path) ? undefined : reason(resolve(profile.path));
  if (modelProblem !== undefined) return `cannot read the model '${profile.path}': ${modelProblem}. Give a GGUF file path, an hf: URI or openai:MODEL_ID.`;
  const adapterProblem = profile.lora === undefined ? undefined : reason(resolve(profile.lora.path));
  if (adapterProblem !== undefined) return `cannot read the LoRA adapter '${profile.lora?.path ?? ''}': ${adapterProblem}.`;
  return undefined;
}

/**
 * The local model files of the profiles a run uses (usedProfiles) must be there before it
 * starts: exit code 2 at the file:line of the profile's `path`, not a failed first step.
 * Profiles the run does not use are not checked.
 */
function checkProfileModelFiles(chain: Chain, used: readonly ModelProfile[], baseDir: string): void {
  for (const profile of used) {
    const problem = localModelFilesProblem(profile, (path) => resolveModelPath(path, baseDir));
    if (problem === undefined) continue;
    const source = chainSources.get(chain);
    let where = '';
    if (source !== undefined) {
      // The `path` line of the profile (or its `lora` line), else the profile's header.
      const block = source.text.slice(profile.span.start, profile.span.end);
      const key = /^cannot read the LoRA/.test(problem) ? 'lora' : 'path';
      const match = new RegExp(`(^|\n)([ \t]*)${key}[ \t]`).exec(block);
      const offset = profile.span.start + (match === null ? 0 : match.index + match[1]!.length + match[2]!.length);
      const { line, character } = source.lineMap.positionAt(offset);
      where = `${source.display}:${line + 1}:${character + 1}: `;
    }
    throw new FileError(`${where}model profile '${profile.name}': ${problem.replace(/ Give a GGUF file path.*$/, ' Give the path of a GGUF file (relative to the .coi file) or an hf: URI.')}`);
  }
}

/**
 * The profiles the runs of `chain` use, `defaults` being their default profiles (one per run, or
 * one for all): a stepwise run, the profile of each step it generates (core's stepsGenerated: up to
 * `stopAfter`, not pinned, the rule that decides the inputs it needs), its own or else the default
 * (so a default that every such step replaces is not used); a
 * composed run (it takes no pins), its one profile (composedRunProfile); several modes, all of these.
 */
function usedProfiles(chain: Chain, defaults: readonly string[], runs: ChainRuns): ModelProfile[] {
  const steps = stepsGenerated(chain, { stopAfter: runs.stopAfter, pinned: runs.pinned });
  const namesOf = (mode: RunMode, defaultName: string): string[] =>
    mode === 'composed'
      ? [composedRunProfile(chain, { defaultProfile: defaultName, stopAfter: runs.stopAfter }) ?? defaultName]
      : // The default only where a step it generates names no profile: a default every step replaces is not used.
        steps.map((step) => step.profile ?? defaultName);
  // Each default (a test's own, else --profile, else the file's first profile) is its run's
  // default too: `coi run` passes --profile as defaultProfile, runChainTest a test's profile,
  // and a chain's defaultProfile is its first profile.
  const used = new Set(runs.modes.flatMap((mode) => defaults.flatMap((name) => namesOf(mode, name))));
  return chain.profiles.filter((profile) => used.has(profile.name));
}

/** The key-destination warnings already printed: a chain whose profiles are chosen again (coi eval: once per profile) says each once. */
const printedKeyWarnings = new WeakSet<Diagnostic>();

/**
 * The check's COI510/COI511 warnings of the profiles a run uses, on stderr as `coi check` prints
 * them (FILE:LINE:COLUMN), before any request: a chain file from someone else chooses which of
 * the user's keys goes to which host. They warn, they do not stop the run (a local proxy in front
 * of a provider is legitimate). Profiles the run does not use are not its concern.
 */
function warnKeyDestinations(chain: Chain, used: readonly ModelProfile[], io: CliIO): void {
  const source = chainSources.get(chain);
  if (source === undefined) return;
  for (const warning of source.keyWarnings) {
    const inUsedProfile = used.some((profile) => profile.span.start <= warning.span.start && warning.span.end <= profile.span.end);
    if (!inUsedProfile || printedKeyWarnings.has(warning)) continue;
    printedKeyWarnings.add(warning);
    io.stderr(diagnosticLine(source.display, source.lineMap, warning));
  }
}

/** A hosted API (api.openai.com...) without its key: say how to set it before the run starts (exit code 2). */
function checkApiKey(profile: ModelProfile, env: CliIO['env']): void {
  if (profile.provider !== 'openai') return;
  const problem = missingApiKeyProblem(profile.baseUrl, resolveApiKey(profile, env), apiKeyEnvFor(profile));
  if (problem !== undefined) throw new CliError(problem, EXIT_USAGE);
}

const RETRY_MESSAGE_INTERVAL_MS = 5000;

/**
 * A remote model's retries (HTTP 429 / 5xx, a dropped connection) on stderr, so a run
 * that waits out a rate limit says so instead of seeming to hang: the first at once,
 * then at most one line per model every 5 s, counting the ones in between (an
 * evaluation retries on several requests at once). On a terminal it clears the
 * progress line it interrupts; the progress redraws itself below.
 */
export function retryReporter(io: CliIO, now: () => number = Date.now): (model: string, info: RetryInfo) => void {
  const last = new Map<string, { at: number; quiet: number }>();
  return (model, info) => {
    const previous = last.get(model);
    if (previous !== undefined && now() - previous.at < RETRY_MESSAGE_INTERVAL_MS) {
      previous.quiet++;
      return;
    }
    last.set(model, { at: now(), quiet: 0 });
    const meanwhile = previous !== undefined && previous.quiet > 0 ? ` (${previous.quiet} more retr${previous.quiet === 1 ? 'y' : 'ies'} since the last message)` : '';
    writeOverProgressLine(io, `${describeRetry(model, info)}${meanwhile}\n`);
  };
}

/**
 * The exit codes of a process ended by a signal, as shells report them (128 + the signal number);
 * and of a command that standard output stopped (`CliIO.stdoutStopped`): its reader went away
 * (SIGPIPE's code, 141), or a write failed (74).
 */
export const SIGNAL_EXIT_CODES: Readonly<Record<Interruption, number>> = { SIGINT: 130, SIGTERM: 143, 'stdout closed': STDOUT_STOP_EXIT_CODES.closed, 'stdout failed': STDOUT_STOP_EXIT_CODES.failed };

/** What stopped a withInterrupt signal: Ctrl-C, SIGTERM, or standard output that stopped (`CliIO.stdoutStopped`: closed, or a write failed). */
type Interruption = 'SIGINT' | 'SIGTERM' | `stdout ${StdoutStop['kind']}`;

/** What aborted a withInterrupt signal. */
const receivedSignals = new WeakMap<AbortSignal, Interruption>();

/** How messages name what cancelled a withInterrupt signal: `Ctrl-C`, `SIGTERM`, `standard output closed`, `standard output failed`. */
export type CancelledBy = 'Ctrl-C' | 'SIGTERM' | (typeof STDOUT_STOP_WORDS)[StdoutStop['kind']];

/**
 * How messages name each interruption: `said` in `Cancelled (Ctrl-C)` or `Stopped, standard output
 * closed:`, and as a sentence's `subject` (`… came after the files were written`).
 */
const INTERRUPTION_WORDS: Readonly<Record<Interruption, { readonly said: CancelledBy; readonly subject: string }>> = {
  SIGINT: { said: 'Ctrl-C', subject: 'Ctrl-C' },
  SIGTERM: { said: 'SIGTERM', subject: 'SIGTERM' },
  'stdout closed': { said: STDOUT_STOP_WORDS.closed, subject: 'the closing of standard output' },
  'stdout failed': { said: STDOUT_STOP_WORDS.failed, subject: 'a failed write to standard output' },
};

/** What aborted a withInterrupt signal; Ctrl-C when it was not one of withInterrupt's (or none). */
function interruptionOf(signal: AbortSignal | undefined): Interruption {
  return (signal !== undefined ? receivedSignals.get(signal) : undefined) ?? 'SIGINT';
}

/** How messages name what cancelled a withInterrupt signal: `SIGTERM`, `standard output closed` or `failed`, else `Ctrl-C`. */
export function cancelledBy(signal: AbortSignal | undefined): CancelledBy {
  return INTERRUPTION_WORDS[interruptionOf(signal)].said;
}

/** Whether standard output stopping (not the user) cancelled: what is said then begins `Stopped, standard output ...`, not `Cancelled`. */
export function stoppedByOutput(by: CancelledBy): boolean {
  return by !== 'Ctrl-C' && by !== 'SIGTERM';
}

/**
 * What cancelled a withInterrupt signal as the subject of a sentence (`… came after the files were
 * written`): `Ctrl-C`, `SIGTERM`, `the closing of standard output`, `a failed write to standard output`.
 */
export function cancellationSubject(signal: AbortSignal | undefined): string {
  return INTERRUPTION_WORDS[interruptionOf(signal)].subject;
}

/** The exit code of a run cancelled through withInterrupt's signal: 143 after SIGTERM, 141 after standard output closed, 74 after it failed, else 130 (Ctrl-C). */
export function cancelledExitCode(signal: AbortSignal | undefined): number {
  return SIGNAL_EXIT_CODES[interruptionOf(signal)];
}

/** Words for what a command was doing when cancelled: `cancelled while reading standard input`. */
export const WHILE_READING_STDIN = ' while reading standard input';

/**
 * Says `coi COMMAND: cancelled{while}{; left}.` on standard error (`left`: what the cancel leaves,
 * e.g. `nothing written`) and returns the exit code of the cancel: 130, 143 after SIGTERM.
 */
export function reportCancelled(io: CliIO, command: string, signal: AbortSignal, { while: during = '', left }: { while?: string; left?: string } = {}): number {
  io.stderr(`coi ${command}: cancelled${during}${left === undefined ? '' : `; ${left}`}.\n`);
  return cancelledExitCode(signal);
}

/**
 * Runs `work` with an AbortSignal that Ctrl-C (SIGINT) or SIGTERM triggers; a second signal
 * quits at once, saying so (`Quit at once.` and `quitNote`, what the command leaves, e.g. where
 * to continue; a function gives the note as things stand when the signal comes). Uncancelled, the handlers are removed afterwards; cancelled, the command is
 * still winding down (a model's worker stopping, a store written), so a further signal still
 * quits at once with that line. Standard output that stops while `work` runs (`io.stdoutStopped`:
 * `coi run ... | head`, or a full disk) triggers it too, without a word (runCli says a failed
 * write): nobody reads what `work` would print, and it stops as after a cancel, keeping what
 * finished (runCli then exits with 141, or 74). A stop before `work` started does not: what comes
 * after the output (a report file) is still written. `held`: what the first signal is said as where,
 * as things stand when it comes, it will not cancel what is under way (`coi finetune start` without
 * --wait, whose job runs on once launched): words said in place of `Cancelling...` (`Ctrl-C: coi
 * ends once job ID's launch is done (Ctrl-C again to quit at once)`), or undefined for `Cancelling...`.
 */
export async function withInterrupt<T>(io: CliIO, work: (signal: AbortSignal) => Promise<T>, quitNote?: string | (() => string | undefined), held?: (by: 'Ctrl-C' | 'SIGTERM') => string | undefined): Promise<T> {
  const controller = new AbortController();
  const quit = (name: 'SIGINT' | 'SIGTERM'): void => {
    const note = typeof quitNote === 'function' ? quitNote() : quitNote;
    io.stderr(`\nQuit at once.${note === undefined ? '' : ` ${note}`}\n`);
    process.exit(SIGNAL_EXIT_CODES[name]);
  };
  const onSignal = (name: 'SIGINT' | 'SIGTERM'): void => {
    if (controller.signal.aborted) quit(name);
    receivedSignals.set(controller.signal, name);
    const said = held?.(name === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM');
    if (said !== undefined) io.stderr(`\n${said}${name === 'SIGINT' ? ' (Ctrl-C again to quit at once)' : ''}\n`);
    else io.stderr(name === 'SIGINT' ? '\nCancelling... (Ctrl-C again to quit at once)\n' : '\nCancelling (SIGTERM)...\n');
    controller.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  const onStopped = (): void => {
    const stop = stdoutStop(io);
    if (controller.signal.aborted || stop === undefined) return;
    receivedSignals.set(controller.signal, `stdout ${stop.kind}`);
    controller.abort();
  };
  const stopped = io.stdoutStopped?.aborted === false ? io.stdoutStopped : undefined;
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  stopped?.addEventListener('abort', onStopped, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    stopped?.removeEventListener('abort', onStopped);
    // Node's signal handlers keep no process alive: these end with it.
    if (controller.signal.aborted) {
      process.on('SIGINT', () => quit('SIGINT'));
      process.on('SIGTERM', () => quit('SIGTERM'));
    }
  }
}

/** Seconds with one decimal, or milliseconds below a second (as the backends word their retry waits). */
export { formatDuration };
