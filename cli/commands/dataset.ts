/**
 * `coi dataset build|stats|convert` — chain datasets for fine-tuning (core/dataset).
 *
 *   coi dataset build SOURCES... --out DIR [--format F] [--singles FILE --model SPEC]
 *   coi dataset stats FILE... [--tokenizer GGUF]
 *   coi dataset convert FILE --to FORMAT [--out FILE]
 *
 * Every verb takes --json (one JSON object on standard output).
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { disposeSharedWorkerHosts, sharedWorkerHost, BackendError, type ModelBackend } from '../../core/backends';
import {
  chainExamples,
  composeChains,
  DATASET_FORMATS,
  datasetStats,
  formatExtension,
  prepareDataset,
  readDataset,
  trainingText,
  writeDataset,
  type ComposeResult,
  type DatasetFormat,
  type DatasetStats,
  type Distribution,
  type PreparedDataset,
  type Provenance,
  type TokenCounter,
  type TrainingExample,
} from '../../core/dataset/index';
import type { Chain } from '../../core/chain';
import { StepCache } from '../../core/runner';
import { numberOption, type OptionSpec, type ParsedArgs } from '../args';
import type { Command } from '../command';
import { refuseOptionsOfOtherSubcommands, type SubcommandOptions } from '../subcommandOptions';
import { CliError, describeFsError, EXIT_ERRORS, EXIT_OK, FileError, UsageError } from '../errors';
import { canonicalPath, decodeText, expandPaths, isDirectory, isFile, readTextBytes, refuseNonUtf8Source, skippedLinkWarner, utf8Warner, yieldToEventLoop } from '../files';
import { displayPath, refuseNonTextFile } from '../../core/syntax';
import type { CliIO } from '../io';
import { statusLine } from '../statusLine';
import { readThenWrite, stdoutCutBy } from './outputFile';
import { MANIFEST_NAME, PROVENANCE_NAME, refuseOverwritingASource, replaceBuildFiles } from './datasetOutput';
import { cancellationSubject, chooseModel, envCacheDir, loadChainFiles, maxTokensOption, MODEL_OPTIONS, reportCancelled, timeoutOption, withInterrupt, workerPath, type ChosenModel } from './runSupport';

const NAME = 'dataset';
const DATASET_FILE = /\.jsonl?$/i;
const VERBS = ['build', 'stats', 'convert'] as const;
/** What these options mean for the --singles model where `coi run`'s words (steps, profiles) do not fit. */
const COMPOSING_DESCRIPTIONS: Readonly<Record<string, string>> = {
  model: 'build: the model that summarises instructions and writes later outputs: a GGUF file, an hf: URI, or openai:MODEL_ID with --base-url.',
  'max-tokens': 'build: bound every answer of the --singles model to N tokens (default 512).',
  timeout: 'build: give up on a call of the --singles model that takes longer (the build fails, nothing written); 0: no limit. Default for OpenAI-compatible servers: 600 s, and 120 s without any streamed output; local models: no limit.',
  'no-cache': 'build: call the model for everything (the answers are neither read from nor kept in .coi-cache/).',
};
/**
 * The options of `coi run`'s model that the --singles model takes, read as `coi run` reads
 * them (chooseModel, maxTokensOption, timeoutOption). Not --profile: there is no chain file
 * whose profiles it could name; nor --context, which is here the token limit of --tokenizer.
 */
const COMPOSING_MODEL_OPTIONS: readonly OptionSpec[] = MODEL_OPTIONS.filter((option) => option.name !== 'profile' && option.name !== 'context').map((option) => ({
  ...option,
  description: COMPOSING_DESCRIPTIONS[option.name] ?? `build: ${option.description}`,
}));
/** build's options that only the composition of --singles reads (--no-cache, which changes nothing without it, is not refused). */
const SINGLES_OPTIONS = [...COMPOSING_MODEL_OPTIONS.map((option) => option.name).filter((name) => name !== 'no-cache'), 'max-length', 'chains', 'model-verdict'];
/**
 * The verbs that read each option; an option not listed (--from, --json, --quiet) is every
 * verb's. A verb given another verb's option refuses it (exit 2) rather than ignore it.
 */
const OPTION_VERBS: Readonly<Record<string, readonly Verb[]>> = {
  out: ['build', 'convert'],
  to: ['convert'],
  tokenizer: ['build', 'stats'],
  context: ['build', 'stats'],
  ...Object.fromEntries(['format', 'singles', ...COMPOSING_MODEL_OPTIONS.map((option) => option.name), 'max-length', 'chains', 'model-verdict', 'validation', 'seed', 'no-dedupe'].map((name) => [name, ['build'] as const])),
};
/** What a verb writes instead, where the option refused is the other verb's word for it. */
const INSTEAD: Readonly<Record<string, string>> = {
  'build --to': `build writes the format of --format FORMAT: ${DATASET_FORMATS.join(', ')}`,
  'convert --format': `convert writes the format of --to FORMAT: ${DATASET_FORMATS.join(', ')}`,
};
/** Options a verb would otherwise ignore without a word (`stats --out`): the user meant something by them. */
const DATASET_OPTIONS: SubcommandOptions<Verb> = { command: NAME, goesWith: OPTION_VERBS, hint: (verb, option) => INSTEAD[`${verb} --${option}`] };
/** The chain chooseModel is asked about: none, so the model comes from --model or $COI_MODEL. */
const NO_CHAIN: Chain = { name: 'dataset', profiles: [], inputs: [], steps: [], tests: [] };
type Verb = (typeof VERBS)[number];

/** The verb named, or the usage error that says which verbs there are. */
function knownVerb(word: string | undefined): Verb {
  if (word === undefined) throw new UsageError(`Name a verb: ${VERBS.join(', ')}.`, NAME);
  if (!(VERBS as readonly string[]).includes(word)) throw new UsageError(`Unknown verb '${word}' (verbs: ${VERBS.join(', ')}).`, NAME);
  return word as Verb;
}

export const command: Command = {
  name: NAME,
  usage: 'coi dataset build SOURCES... --out DIR [options] | coi dataset stats FILE... | coi dataset convert FILE --to FORMAT [--out FILE]',
  description:
    'build: makes a training set from .coi files (each test with a reference for every step is an example), dataset files in any format below (the paper\'s records included), and single-task examples (--singles, JSONL {instruction, input, output}) composed into chains by a model (--model). ' +
    'It drops repeats, counts tokens with --tokenizer GGUF (examples over the context are left out and counted), splits train/validation with a seed, and writes DIR/train, DIR/validation, DIR/provenance.jsonl and DIR/dataset.json (counts and length statistics).\n' +
    'stats: counts and length statistics of dataset files. convert: writes a dataset file in another format. Each verb refuses the options it does not read.\n' +
    'Formats: paper (the paper\'s JSON records), alpaca-jsonl, openai-chat (OpenAI fine-tuning JSONL), trl-prompt-completion (Alpaca prompt + completion), trl-chat (TRL conversational prompt-completion). Input formats are detected.',
  options: [
    { name: 'out', short: 'o', kind: 'value', valueName: 'PATH', description: 'build: the output folder (created); the dataset files of a previous build there are replaced, other files kept. convert: the output file (default: standard output), not the input.' },
    { name: 'format', short: 'f', kind: 'value', choices: DATASET_FORMATS, defaultValue: 'trl-prompt-completion', description: 'build: the format written.' },
    { name: 'to', kind: 'value', choices: DATASET_FORMATS, description: 'convert: the format written.' },
    { name: 'from', kind: 'value', choices: DATASET_FORMATS, description: 'Read input files as this format instead of detecting it.' },
    { name: 'singles', kind: 'value', valueName: 'FILE', description: 'build: single-task examples (JSONL {instruction, input, output}) to compose into chains; needs --model.' },
    ...COMPOSING_MODEL_OPTIONS,
    { name: 'max-length', kind: 'value', valueName: 'K', defaultValue: '2', description: 'build: compose chains of 2..K steps.' },
    { name: 'chains', kind: 'value', valueName: 'N', description: 'build: chains to compose per length (default: one per single task).' },
    { name: 'model-verdict', kind: 'flag', description: 'build: also ask the model whether each pair of tasks composes (after the static check).' },
    { name: 'validation', kind: 'value', valueName: 'SHARE', defaultValue: '0.1', description: 'build: share of examples for validation (0 to 0.5).' },
    { name: 'seed', kind: 'value', valueName: 'N', defaultValue: '1', description: 'build: seed of the split and of the composition.' },
    { name: 'no-dedupe', kind: 'flag', description: 'build: keep repeated examples.' },
    { name: 'tokenizer', kind: 'value', valueName: 'GGUF', description: 'build, stats: count tokens per example with this model\'s tokenizer (node-llama-cpp); Ctrl-C stops the count (exit 130, nothing written).' },
    { name: 'context', kind: 'value', valueName: 'TOKENS', description: 'build, stats: leave out (build) or count (stats) examples over this many tokens (default with --tokenizer: the model\'s training context).' },
    { name: 'json', kind: 'flag', description: 'Print one JSON object on standard output.' },
    { name: 'quiet', short: 'q', kind: 'flag', description: 'No notes or progress on standard error.' },
  ],
  examples: [
    'coi dataset build chains/ ../shared/data/coi/coi_2.json --out data/ --format trl-prompt-completion',
    'coi dataset build --singles tasks.jsonl --model openai:gpt-4o-mini --max-length 3 --out data/',
    'coi dataset stats data/train.jsonl --tokenizer model.gguf --json',
    'coi dataset convert coi_2.json --to openai-chat --out coi_2.openai.jsonl',
  ],

  // `coi dataset split --help`: the same usage error as `coi dataset split x`, not the help (exit 0).
  helpFor(word) {
    knownVerb(word);
    return undefined;
  },

  async run({ args, io }) {
    const [word, ...rest] = args.positionals;
    const verb = knownVerb(word);
    refuseOptionsOfOtherSubcommands(verb, args, DATASET_OPTIONS);
    const run: Record<Verb, () => Promise<number>> = {
      build: () => build(rest, args, io),
      stats: () => stats(rest, args, io),
      convert: () => convert(rest, args, io),
    };
    return run[verb]();
  },
};

interface ReadFile {
  readonly display: string;
  readonly examples: readonly TrainingExample[];
  readonly format: DatasetFormat;
  /** Its malformed rows (reported on standard error as they are read). */
  readonly malformed: number;
}

/**
 * Reads dataset files; malformed rows are listed on stderr as FILE:LINE: message and counted.
 * `writes`: the verb writes a new dataset from them, so bytes that are not UTF-8 are refused (utf8Text).
 */
function readDatasetFiles(paths: readonly string[], args: ParsedArgs, io: CliIO, writes: boolean): { files: ReadFile[]; malformed: number } {
  const from = args.value('from') as DatasetFormat | undefined;
  const folder = paths.find((p) => isDirectory(resolve(io.cwd, p)));
  if (folder !== undefined) throw new UsageError(`'${folder}' is a directory: name dataset files (.json or .jsonl).`, NAME);
  const other = paths.find((p) => !DATASET_FILE.test(p));
  if (other !== undefined && from === undefined) throw new UsageError(`'${other}' is not a dataset file (.json or .jsonl); give --from FORMAT to read it anyway.`, NAME);
  const files: ReadFile[] = [];
  let malformed = 0;
  for (const path of paths) {
    const full = resolve(io.cwd, path);
    const display = displayPath(full, io.cwd);
    const text = utf8Text(full, display, io, writes);
    const read = readDataset(text, { file: display, ...(from === undefined ? {} : { format: from }) });
    malformed += read.issues.length;
    // Errors, not notes: shown with --quiet too.
    for (const issue of read.issues.slice(0, 50)) io.stderr(`${display}:${issue.line ?? 1}${issue.column === undefined ? '' : `:${issue.column}`}: ${issue.message}\n`);
    if (read.issues.length > 50) io.stderr(`${display}: ... and ${read.issues.length - 50} more malformed rows.\n`);
    files.push({ display, examples: read.examples, format: read.format, malformed: read.issues.length });
  }
  return { files, malformed };
}

/**
 * A dataset file's text. Bytes that are not UTF-8 are read as U+FFFD: `stats` says so and counts on,
 * as `coi check` and `coi run` do; `build` and `convert` (`writes`) refuse the file at the first
 * one, as `coi finetune start` refuses such training data, since the dataset they write would
 * carry U+FFFD in its place as if it were the text, and the trainer would then take it.
 */
function utf8Text(full: string, display: string, io: CliIO, writes: boolean): string {
  let bytes: Buffer;
  let text: string;
  try {
    bytes = readTextBytes(full);
    text = decodeText(bytes, writes ? undefined : utf8Warner(io, NAME, display));
  } catch (error) {
    throw new FileError(`Cannot read '${display}': ${describeFsError(error)}.`);
  }
  if (writes) refuseInvalidUtf8(bytes, display);
  return text;
}

/** Exit 2 at the first byte of `bytes` that is not UTF-8, named as `FILE:LINE:COLUMN` (the column in characters). */
function refuseInvalidUtf8(bytes: Uint8Array, display: string): void {
  refuseNonUtf8Source(bytes, display, 'the dataset');
}

/** A chain's tests become examples of the dataset built: bytes that are not UTF-8 are refused as in a dataset file. */
function refuseInvalidUtf8InChain(path: string, display: string): void {
  let bytes: Buffer;
  try {
    refuseNonTextFile(statSync(path), false);
    bytes = readFileSync(path);
  } catch {
    return; // loadChainFiles says why it cannot be read
  }
  refuseInvalidUtf8(bytes, display);
}

/**
 * Texts per tokenize request, and characters at most: the counter honours Ctrl-C and tells its
 * progress between requests (a batch takes a fraction of a second even with a slow tokenizer).
 */
const TOKENIZE_BATCH_TEXTS = 256;
const TOKENIZE_BATCH_CHARS = 64 * 1024;

/** `texts` cut into batches of TOKENIZE_BATCH_TEXTS texts and TOKENIZE_BATCH_CHARS characters at most (one text at least). */
function tokenizeBatches(texts: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (batch.length > 0 && (batch.length >= TOKENIZE_BATCH_TEXTS || chars + text.length > TOKENIZE_BATCH_CHARS)) {
      batches.push(batch);
      batch = [];
      chars = 0;
    }
    batch.push(text);
    chars += text.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Reports `LABEL: DONE/TOTAL` on standard error: rewritten in place on a terminal (ended when all
 * are done); off one (logs, CI), a line at each tenth of a phase, so long runs stay short.
 * Nothing with --quiet.
 */
function progressReporter(io: CliIO, quiet: boolean): (label: string, done: number, total: number) => void {
  const status = statusLine(io);
  return (label, done, total) => {
    if (quiet) return;
    status.show(`${label}: ${done}/${total}`, { step: `${label} ${total === 0 ? 10 : Math.floor((done / total) * 10)}`, final: done === total });
  };
}

async function tokenCounter(args: ParsedArgs, io: CliIO): Promise<{ counter: TokenCounter; contextSize: number | undefined; dispose: () => Promise<void> } | undefined> {
  const gguf = args.value('tokenizer');
  const context = numberOption(args, 'context', NAME, { min: 1, max: 10_000_000, integer: true });
  if (gguf === undefined) {
    if (context !== undefined) throw new UsageError('--context needs --tokenizer GGUF (the tokens are counted with the model\'s tokenizer).', NAME);
    return undefined;
  }
  const path = resolve(io.cwd, gguf);
  const remote = /^(hf:|https?:)/.test(gguf);
  if (!remote && isDirectory(path)) throw new UsageError(`--tokenizer ${gguf}: '${gguf}' is a directory, not a GGUF model file.`, NAME);
  const host = sharedWorkerHost(workerPath(io.env), { idleTimeoutMs: 0 });
  let trainContextSize = 0;
  const tokenize = async (texts: readonly string[]): Promise<readonly number[]> => {
    try {
      const result = await host.tokenize({ path: remote ? gguf : path, texts });
      trainContextSize = result.trainContextSize;
      return result.counts;
    } catch (error) {
      if (error instanceof BackendError) throw new FileError(`--tokenizer ${gguf}: ${error.message}`);
      throw error;
    }
  };
  const progress = progressReporter(io, args.has('quiet'));
  // Batch by batch: Ctrl-C stops the count before the next batch (the caller then writes nothing).
  const counter: TokenCounter = async (texts, signal) => {
    const counts: number[] = [];
    for (const batch of tokenizeBatches(texts)) {
      signal?.throwIfAborted();
      counts.push(...(await tokenize(batch)));
      progress('Counting tokens', counts.length, texts.length);
    }
    signal?.throwIfAborted();
    return counts;
  };
  // The training context is known after the first count; read it with an empty batch.
  await tokenize([]);
  return { counter, contextSize: context ?? (trainContextSize > 0 ? trainContextSize : undefined), dispose: disposeSharedWorkerHosts };
}

async function build(sources: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  const out = args.value('out');
  if (out === undefined) throw new UsageError('build needs --out DIR (the folder the training set is written to).', NAME);
  const singlesFile = args.value('singles');
  refuseCompositionOptionsWithoutSingles(args, singlesFile);
  if (sources.length === 0 && singlesFile === undefined) throw new UsageError('Name sources: .coi files or folders, dataset files, or --singles FILE with --model.', NAME);
  refuseOverwritingASource(out, [...sources, ...(singlesFile === undefined ? [] : [singlesFile])], io.cwd);
  const format = (args.value('format') ?? 'trl-prompt-completion') as DatasetFormat;
  const validationShare = numberOption(args, 'validation', NAME, { min: 0, max: 0.5 }) ?? 0.1;
  const seed = numberOption(args, 'seed', NAME, { min: 0, max: 2 ** 32 - 1, integer: true }) ?? 1;
  const maxLength = numberOption(args, 'max-length', NAME, { min: 2, max: 10, integer: true }) ?? 2;
  const chains = numberOption(args, 'chains', NAME, { min: 1, max: 1_000_000, integer: true });
  if (singlesFile !== undefined && args.value('model') === undefined && (io.env.COI_MODEL ?? '').trim() === '') throw new UsageError('--singles needs --model SPEC (the model that summarises and composes).', NAME);
  // Its options are checked before anything is read; nothing is started until it is first called.
  const composer = singlesFile === undefined ? undefined : composingModel(args, io);
  const quiet = args.has('quiet');
  const note = (line: string): void => {
    if (!quiet) io.stderr(`${line}\n`);
  };

  // From here on Ctrl-C (or SIGTERM) cancels: while the files are read, while the set is
  // prepared and while it is written, up to the moment its files take their names.
  return withInterrupt(io, async (signal) => {
    const examples: TrainingExample[] = [];
    const sourceCounts: Record<string, number> = {};
    const count = (source: string, n: number): void => {
      sourceCounts[source] = (sourceCounts[source] ?? 0) + n;
    };
    const datasetPaths = sources.filter((s) => DATASET_FILE.test(s));
    const chainPaths = sources.filter((s) => !DATASET_FILE.test(s));
    const stray = chainPaths.find((s) => !/\.coi$/i.test(s) && isFile(resolve(io.cwd, s)));
    if (stray !== undefined) throw new UsageError(`'${stray}' is neither a .coi file nor a dataset file (.json or .jsonl).`, NAME);
    // Every file with errors is named at once; a chain the composability analysis rejects is taken, and flagged.
    const chainFiles = chainPaths.length === 0 ? [] : expandPaths(chainPaths, { extension: '.coi', cwd: io.cwd, onSkippedLink: skippedLinkWarner(io, NAME) });
    for (const file of chainFiles) refuseInvalidUtf8InChain(file.path, file.display);
    const flagged: FlaggedChain[] = [];
    for (const [i, loaded] of loadChainFiles(chainFiles, { io, command: NAME }, { acceptComposability: true }).entries()) {
      const display = chainFiles[i]!.display;
      const fromChain = chainExamples(loaded.chain, display, loaded.text);
      for (const n of fromChain.notes) note(`${display}: note: ${n}`);
      examples.push(...fromChain.examples);
      count('coi-test', fromChain.examples.length);
      const finding = loaded.composability;
      if (finding !== undefined && fromChain.examples.length > 0) flagged.push({ file: display, line: finding.line, column: finding.column, diagnostic: `${finding.code}: ${finding.message}`, examples: fromChain.examples.length });
    }
    const sourceFiles = readDatasetFiles(datasetPaths, args, io, true);
    for (const file of sourceFiles.files) {
      examples.push(...file.examples);
      count(file.format, file.examples.length);
    }
    const singles = singlesFile === undefined ? undefined : readDatasetFiles([singlesFile], args, io, true);
    // A malformed single task is a malformed row like any other: reported, counted, exit 1.
    const malformed = sourceFiles.malformed + (singles?.malformed ?? 0);

    let composed: ComposeResult | undefined;
    const tokens = await tokenCounter(args, io);
    try {
      if (singles !== undefined && composer !== undefined) {
        const tasks = singles.files.flatMap((f) => f.examples).filter((e) => e.steps.length === 1);
        const bad = singles.malformed > 0 ? ` (${singles.malformed} malformed row${singles.malformed === 1 ? '' : 's'})` : '';
        if (tasks.length < 2) throw new CliError(`'${singlesFile}' has ${tasks.length} single-task example${tasks.length === 1 ? '' : 's'}${bad}: composing chains needs at least 2.`, EXIT_ERRORS);
        composed = await composeWithModel(tasks, composer, args, io, { maxLength, seed, signal, quiet, ...(chains === undefined ? {} : { chains }) });
        for (const n of composed.notes) note(`note: ${n}`);
        examples.push(...composed.examples);
        count('composed', composed.examples.length);
      }
      const prepared = await prepareDataset(examples, {
        format,
        validationShare,
        seed,
        dedupe: !args.has('no-dedupe'),
        signal,
        ...(tokens === undefined ? {} : { countTokens: tokens.counter }),
        ...(tokens?.contextSize === undefined ? {} : { contextSize: tokens.contextSize }),
      });
      // Ctrl-C during the last step of the preparation: the set is complete, but nothing is written.
      signal.throwIfAborted();
      if (prepared.train.length + prepared.validation.length === 0) {
        throw new CliError(`The training set is empty: ${examples.length} example${examples.length === 1 ? '' : 's'} read${prepared.overContext.length > 0 ? `, ${prepared.overContext.length} over the context of ${tokens?.contextSize} tokens` : ''}${malformed > 0 ? `, ${malformed} malformed row${malformed === 1 ? '' : 's'}` : ''}. Nothing written.`, EXIT_ERRORS);
      }
      for (const over of prepared.overContext.slice(0, 20)) note(`${exampleLocation(over.example.provenance)}: left out: ${over.tokens} tokens, over the context of ${tokens?.contextSize} tokens.`);
      const { manifest, removed } = await writeBuild(resolve(io.cwd, out), prepared, format, { sources: sourceCounts, malformed, seed, validationShare, contextSize: tokens?.contextSize, composed, flagged }, signal);
      if (removed.length > 0) note(`removed ${removed.join(', ')} of the previous build`);
      const shownOut = displayPath(resolve(io.cwd, out), io.cwd);
      if (args.has('json')) io.stdout(JSON.stringify({ ...manifest, out: shownOut }, null, 2) + '\n');
      else io.stdout(summary(prepared, malformed, shownOut, format, flagged));
      // A signal that came while the files took their names finds the build complete: said, not dropped.
      await yieldToEventLoop();
      if (signal.aborted) io.stderr(`coi dataset: ${cancellationSubject(signal)} came after the build was written: ${shownOut}/ is complete.\n`);
      // Written, but a malformed row is a mistake in a source the user should see in CI too.
      return malformed > 0 ? EXIT_ERRORS : EXIT_OK;
    } catch (error) {
      if (signal.aborted) {
        return reportCancelled(io, NAME, signal, { left: 'nothing written' });
      }
      throw error;
    } finally {
      await tokens?.dispose();
      await composer?.choice.dispose();
    }
  });
}

/** build's options that only --singles reads: without it they would be ignored without a word. */
function refuseCompositionOptionsWithoutSingles(args: ParsedArgs, singlesFile: string | undefined): void {
  const compositionOption = SINGLES_OPTIONS.find((name) => args.has(name));
  if (singlesFile === undefined && compositionOption !== undefined) throw new UsageError(`--${compositionOption} goes with --singles FILE (it sets how single tasks are composed into chains).`, NAME);
}

/**
 * FILE:LINE of an example, and for a record of a JSON array its index as the malformed-row
 * messages give it (`record 17`): the paper's files hold every record on line 1.
 */
function exampleLocation(provenance: Provenance): string {
  const line = provenance.line === undefined ? '' : `:${provenance.line}`;
  const record = provenance.source === 'paper' && provenance.index !== undefined ? `: record ${provenance.index}` : '';
  return `${provenance.file ?? provenance.source}${line}${record}`;
}


/** The --singles model as `coi run` chooses it, with the sampling and time limits of its options. */
interface ComposingModel {
  readonly choice: ChosenModel;
  /** The spec as given (--model or $COI_MODEL), for the provenance. */
  readonly generatedBy: string;
  readonly params?: { readonly maxTokens: number };
  readonly timeoutMs?: number;
}

function composingModel(args: ParsedArgs, io: CliIO): ComposingModel {
  const limits = { ...maxTokensOption(args, NAME), ...timeoutOption(args, NAME) };
  return { choice: chooseModel(NO_CHAIN, args, io, NAME, io.cwd), generatedBy: args.value('model') ?? io.env.COI_MODEL ?? '', ...limits };
}

async function composeWithModel(
  tasks: readonly TrainingExample[],
  model: ComposingModel,
  args: ParsedArgs,
  io: CliIO,
  options: { maxLength: number; seed: number; chains?: number; signal: AbortSignal; quiet: boolean },
): Promise<ComposeResult> {
  let backend: ModelBackend;
  try {
    backend = await model.choice.resolver(undefined);
  } catch (error) {
    throw new UsageError(`--model: ${(error as Error).message}`, NAME);
  }
  const progress = progressReporter(io, options.quiet);
  try {
    return await composeChains(tasks, {
      backend,
      generatedBy: model.generatedBy,
      maxLength: options.maxLength,
      seed: options.seed,
      modelVerdict: args.has('model-verdict'),
      signal: options.signal,
      ...(model.params === undefined ? {} : { params: model.params }),
      ...(model.timeoutMs === undefined ? {} : { timeoutMs: model.timeoutMs }),
      ...(args.has('no-cache') ? {} : { cache: new StepCache(join(envCacheDir(io.env) ?? join(io.cwd, '.coi-cache'), 'steps')) }),
      ...(options.chains === undefined ? {} : { chainsPerLength: options.chains }),
      onProgress: ({ phase, done, total }) => progress(phase === 'summarise' ? 'Summarising instructions' : 'Composing chains', done, total),
    });
  } catch (error) {
    // A model that cannot answer (server down, HTTP 500, a broken GGUF) fails the build as a failed step fails `coi run`.
    if (error instanceof BackendError && error.code !== 'cancelled' && !options.signal.aborted) throw new CliError(`The model ${model.choice.description} failed; nothing written: ${error.message}`, EXIT_ERRORS);
    throw error;
  } finally {
    // Where a local model ran (CPU and threads, or the GPU), as `coi run` says it.
    if (!options.quiet) model.choice.reportPlacements();
  }
}

interface BuildManifest {
  readonly format: DatasetFormat;
  readonly files: { readonly train: string; readonly validation?: string; readonly provenance: string };
  readonly train: number;
  readonly validation: number;
  readonly duplicates: number;
  readonly overContext: number;
  readonly malformed: number;
  readonly sources: Readonly<Record<string, number>>;
  readonly seed: number;
  readonly validationShare: number;
  readonly contextSize?: number;
  readonly composition?: { readonly pairsChecked: number; readonly pairsComposable: number; readonly pairsRejectedByModel: number };
  /** The chains whose tests gave examples although the composability check rejects them (COI301…), as a few of the paper's records are. */
  readonly composability: readonly FlaggedChain[];
  readonly stats: DatasetStats;
}

/** A chain the composability analysis rejects whose tests gave examples: taken, and said. */
interface FlaggedChain {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** `COI301: Step "step1" produces …` (stored so in dataset.json; the summary adds the severity, `error`). */
  readonly diagnostic: string;
  /** Examples its tests gave (before de-duplication and the context limit). */
  readonly examples: number;
}

async function writeBuild(
  dir: string,
  prepared: PreparedDataset,
  format: DatasetFormat,
  extra: { sources: Record<string, number>; malformed: number; seed: number; validationShare: number; contextSize: number | undefined; composed: ComposeResult | undefined; flagged: readonly FlaggedChain[] },
  signal: AbortSignal,
): Promise<{ manifest: BuildManifest; removed: string[] }> {
  const extension = formatExtension(format);
  const trainName = `train${extension}`;
  const validationName = `validation${extension}`;
  const manifest: BuildManifest = {
    format,
    files: { train: trainName, ...(prepared.validation.length > 0 ? { validation: validationName } : {}), provenance: PROVENANCE_NAME },
    train: prepared.train.length,
    validation: prepared.validation.length,
    duplicates: prepared.duplicates,
    overContext: prepared.overContext.length,
    malformed: extra.malformed,
    sources: extra.sources,
    seed: extra.seed,
    validationShare: extra.validationShare,
    ...(extra.contextSize === undefined ? {} : { contextSize: extra.contextSize }),
    ...(extra.composed === undefined ? {} : { composition: { pairsChecked: extra.composed.pairsChecked, pairsComposable: extra.composed.pairsComposable, pairsRejectedByModel: extra.composed.pairsRejectedByModel } }),
    composability: extra.flagged,
    stats: prepared.stats,
  };
  const provenance = [...prepared.train.map((e) => ({ split: 'train', e })), ...prepared.validation.map((e) => ({ split: 'validation', e }))]
    .map(({ split, e }, i) => JSON.stringify({ split, ...(prepared.tokens === undefined ? {} : { tokens: prepared.tokens[i] }), ...e.provenance }) + '\n')
    .join('');
  const removed = await replaceBuildFiles(dir, [
    { name: trainName, text: writeDataset(prepared.train, format) },
    ...(prepared.validation.length > 0 ? [{ name: validationName, text: writeDataset(prepared.validation, format) }] : []),
    { name: PROVENANCE_NAME, text: provenance },
    { name: MANIFEST_NAME, text: JSON.stringify(manifest, null, 2) + '\n' },
  ], signal);
  return { manifest, removed };
}

/** Flagged chains listed in the summary; dataset.json lists them all. */
const FLAGGED_SHOWN = 5;

function summary(prepared: PreparedDataset, malformed: number, out: string, format: DatasetFormat, flagged: readonly FlaggedChain[]): string {
  const examples = flagged.reduce((n, f) => n + f.examples, 0);
  const flaggedLines =
    flagged.length === 0
      ? []
      : [
          `Taken although the composability check rejects their chain (as the paper's data has a few): ${examples} example${examples === 1 ? '' : 's'} of ${flagged.length} chain${flagged.length === 1 ? '' : 's'}:`,
          // As `coi check` prints it, severity after the place: a finding listed here is one of the
          // analysis' errors (composabilityErrors), so the word is always `error`.
          ...flagged.slice(0, FLAGGED_SHOWN).map((f) => `  ${f.file}:${f.line}:${f.column}: error ${f.diagnostic}`),
          ...(flagged.length > FLAGGED_SHOWN ? [`  ... and ${flagged.length - FLAGGED_SHOWN} more (dataset.json: "composability")`] : []),
        ];
  const left = [
    prepared.duplicates > 0 ? `${prepared.duplicates} duplicate${prepared.duplicates === 1 ? '' : 's'}` : '',
    prepared.overContext.length > 0 ? `${prepared.overContext.length} over the context` : '',
    malformed > 0 ? `${malformed} malformed row${malformed === 1 ? '' : 's'}` : '',
  ].filter((s) => s !== '');
  return [
    `Wrote ${prepared.train.length} training and ${prepared.validation.length} validation examples (${format}) to ${out}/.`,
    ...(left.length > 0 ? [`Left out: ${left.join(', ')}.`] : []),
    ...flaggedLines,
    ...statsLines(prepared.stats),
  ].join('\n') + '\n';
}

function statsLines(stats: DatasetStats): string[] {
  const steps = Object.entries(stats.steps)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([n, c]) => `${c} × ${n} step${n === '1' ? '' : 's'}`)
    .join(', ');
  const line = (name: string, d: Distribution): string => `  ${name.padEnd(14)} min ${d.min}, median ${d.median}, mean ${d.mean}, p95 ${d.p95}, max ${d.max}`;
  return [
    `Examples: ${stats.examples}${steps === '' ? '' : ` (${steps})`}`,
    ...(stats.finalAnswerOnly === undefined
      ? []
      : [`  ${stats.finalAnswerOnly} of them final answer only: no step markers in the output, so each counts the steps its instruction joins by " and then ", the middle ones without outputs.`]),
    line('prompt chars', stats.promptChars),
    line('output chars', stats.outputChars),
    ...(stats.tokens === undefined ? [] : [line('tokens', stats.tokens)]),
  ];
}

async function stats(paths: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  if (paths.length === 0) throw new UsageError('stats needs dataset files.', NAME);
  const { files, malformed } = readDatasetFiles(paths, args, io, false);
  refuseFileWithoutExamples(files, 'no statistics');
  return withInterrupt(io, async (signal) => {
    try {
      return await statsOf(files, malformed, args, io, signal);
    } catch (error) {
      if (signal.aborted) {
        return reportCancelled(io, NAME, signal);
      }
      throw error;
    }
  });
}

/** A file with no example (empty, or only malformed rows) is an error (exit 1), for stats as for convert. */
function refuseFileWithoutExamples(files: readonly ReadFile[], consequence: string): void {
  const empty = files.find((file) => file.examples.length === 0);
  if (empty === undefined) return;
  const bad = empty.malformed > 0 ? ` (${empty.malformed} malformed row${empty.malformed === 1 ? '' : 's'})` : '';
  throw new CliError(`'${empty.display}' holds no example${bad}: ${consequence}.`, EXIT_ERRORS);
}

async function statsOf(files: readonly ReadFile[], malformed: number, args: ParsedArgs, io: CliIO, signal: AbortSignal): Promise<number> {
  const tokens = await tokenCounter(args, io);
  try {
    const results = [];
    for (const file of files) {
      const counts = tokens === undefined ? undefined : await tokens.counter(file.examples.map((e) => trainingText(e, file.format)), signal);
      const over = counts === undefined || tokens?.contextSize === undefined ? 0 : counts.filter((c) => c > (tokens.contextSize ?? Infinity)).length;
      results.push({ file: file.display, format: file.format, ...datasetStats(file.examples, counts), ...(tokens?.contextSize === undefined ? {} : { contextSize: tokens.contextSize, overContext: over }) });
    }
    if (args.has('json')) io.stdout(JSON.stringify({ files: results, malformed }, null, 2) + '\n');
    else {
      for (const result of results) {
        io.stdout(`${result.file} (${result.format})\n${statsLines(result).join('\n')}\n`);
        if ('overContext' in result) io.stdout(`  over the context of ${result.contextSize} tokens: ${result.overContext}\n`);
      }
      if (malformed > 0) io.stdout(`Malformed rows: ${malformed}\n`);
    }
    return malformed > 0 ? EXIT_ERRORS : EXIT_OK;
  } finally {
    await tokens?.dispose();
  }
}

async function convert(paths: readonly string[], args: ParsedArgs, io: CliIO): Promise<number> {
  if (paths.length !== 1) throw new UsageError('convert takes one dataset file.', NAME);
  const to = args.value('to') as DatasetFormat | undefined;
  if (to === undefined) throw new UsageError(`convert needs --to FORMAT (${DATASET_FORMATS.join(', ')}).`, NAME);
  const out = args.value('out');
  // Writing over the input would lose its malformed rows (left out of what is written): refuse before reading.
  if (out !== undefined && canonicalPath(resolve(io.cwd, out)) === canonicalPath(resolve(io.cwd, paths[0]!))) {
    throw new UsageError(`--out '${out}' is the file being converted: name another file.`, NAME);
  }
  // From the file read to the output written, Ctrl-C (or SIGTERM) cancels: nothing is written.
  let converted = undefined as { file: ReadFile; malformed: number } | undefined;
  const code = await readThenWrite(io, NAME, async ({ checkpoint, writeOutputFile }) => {
    const { files, malformed } = readDatasetFiles(paths, args, io, true);
    await checkpoint();
    refuseFileWithoutExamples(files, 'nothing written');
    const file = files[0]!;
    const text = writeDataset(file.examples, to);
    await checkpoint();
    if (out === undefined) io.stdout(text);
    else {
      // Ctrl-C (or SIGTERM) while the file is written: no temporary left, a previous file as it was.
      const cancelled = await writeOutputFile(resolve(io.cwd, out), text, { makeFolders: true, failure: (error) => new FileError(`Cannot write '${out}': ${describeFsError(error)}.`) });
      if (cancelled !== undefined) return cancelled;
    }
    converted = { file, malformed };
    return EXIT_OK;
  });
  if (converted === undefined) return code;
  // On standard output, what is said waits until the text has gone out: a reader that went away (`| head`) took only part of it.
  const cut = out === undefined ? await stdoutCutBy(io) : undefined;
  return convertReport(converted.file, to, converted.malformed, out, args, io, cut);
}

/** What `coi dataset convert` says once the output is written; its exit code (1 with malformed rows). */
function convertReport(file: ReadFile, to: DatasetFormat, malformed: number, out: string | undefined, args: ParsedArgs, io: CliIO, cut: string | undefined): number {
  const report = { from: file.format, to, examples: file.examples.length, malformed, ...(out === undefined ? {} : { out: displayPath(resolve(io.cwd, out), io.cwd) }) };
  const examples = `${report.examples} example${report.examples === 1 ? '' : 's'}`;
  const leftOut = malformed > 0 ? `; ${malformed} malformed row${malformed === 1 ? '' : 's'} left out` : '';
  if (args.has('json') && out !== undefined) io.stdout(JSON.stringify(report, null, 2) + '\n');
  // Standard output stopped before the end (`| head`, a full disk): as `coi run` says it, and not all of it was written.
  else if (cut !== undefined) {
    if (!args.has('quiet')) io.stderr(`Stopped, ${cut}: ${examples} converted from ${report.from} to ${to}, not all written${leftOut}.\n`);
  } else if (!args.has('quiet')) io.stderr(`Converted ${examples} from ${report.from} to ${to}${out === undefined ? '' : ` (${report.out})`}${leftOut}.\n`);
  return malformed > 0 ? EXIT_ERRORS : EXIT_OK;
}

