/**
 * `coi run FILE [--input NAME=VALUE|@path]... [--model SPEC | --profile P] [--mode stepwise|composed] [--json]`
 *
 * Runs a chain and streams each step's output: the step names and timings go to
 * standard error, the outputs to standard output (so `coi run x.coi > out.txt`
 * keeps only the outputs). `--json` prints the run record instead. Exit codes:
 * 0 every step ran and met its contract, 1 a step failed, 2 usage or load
 * errors, 130 cancelled (Ctrl-C), 143 cancelled by SIGTERM, 141 standard output closed
 * (`| head`: the run stops there, its record is kept), 74 standard output failed (a full disk:
 * the same, said in one line).
 */
import { dirname, join, resolve } from 'node:path';
import type { Chain } from '../../core/chain';
import { visibleLines } from '../../core/records';
import { StepCache, RunStore, type RunRecordWithBackends, composedRunProblem, inputsNeeded, pinsPastStop, readRunValues, runChain, RunRequestError, stepsUpTo, type RunEvents, type RunRecord, type StepRunResult } from '../../core/runner';
import { isIdentifier } from '../../core/syntax';
import { closest } from '../../core/diagnostics';
import type { Command } from '../command';
import { describeFsError, EXIT_ERRORS, EXIT_OK, FileError, UsageError } from '../errors';
import { readTextFile, stdinArgumentRefusal, utf8Warner } from '../files';
import { displayPath } from '../../core/syntax';
import type { CliIO } from '../io';
import { plural } from '../plural';
import { type CancelledBy, cancelledBy, cancelledExitCode, chooseModel, type ChosenModel, formatDuration, loadChainFile, MODEL_OPTIONS, maxTokensOption, stoppedByOutput, timeoutOption, usableCacheFolder, withInterrupt } from './runSupport';

export const command: Command = {
  name: 'run',
  usage: 'coi run [options] FILE',
  description:
    'Runs the chain of FILE. Stepwise (default): one model call per step, each step reading the outputs it is bound to; composed: the whole chain as one instruction ("... and then ..."), split by the "Task i output" markers. ' +
    'Outputs stream to standard output, progress to standard error. Unchanged steps come from the step cache (.coi-cache/ beside the file, or $COI_CACHE_DIR); every run is recorded as JSON in .coi-cache/runs/.',
  options: [
    { name: 'input', short: 'i', kind: 'value', valueName: 'NAME=VALUE', description: 'A chain input: NAME=VALUE, NAME=@file (read the file). A chain with one input also takes VALUE or @file alone. Repeat for several inputs.' },
    ...MODEL_OPTIONS,
    { name: 'mode', kind: 'value', choices: ['stepwise', 'composed'], defaultValue: 'stepwise', description: 'Run step by step, or as one composed instruction (for CoI-tuned models).' },
    { name: 'template', kind: 'value', choices: ['chat', 'alpaca'], defaultValue: 'chat', description: "Prompt format: the model's chat template, or the Alpaca template the paper fine-tuned with." },
    { name: 'to', kind: 'value', valueName: 'STEP', description: 'Stop after this step.' },
    { name: 'from', kind: 'value', valueName: 'STEP', description: 'Generate this step and the later ones afresh; earlier ones come from the cache (or --pin). Stepwise only.' },
    { name: 'pin', kind: 'value', valueName: 'STEP=VALUE', description: 'Use this output for a step instead of generating it (VALUE or @file). Repeatable. Stepwise only.' },
    { name: 'json', kind: 'flag', description: 'Print the run record as JSON (per step: id, status, output, cached, durationMs, tokens) instead of streaming.' },
  ],
  examples: [
    'coi run examples/summarize-translate.coi --input article=@examples/inputs/storm-warning.txt',
    'coi run chain.coi -i "The movie was great." --model ./models/qwen2.5-0.5b-instruct-q4_k_m.gguf --threads 4',
    'coi run chain.coi -i @input.txt --model openai:gpt-4o-mini --json > run.json',
    'coi run chain.coi -i @input.txt --mode composed --template alpaca --model hf:user/coi-model-GGUF:Q4_K_M',
  ],

  async run({ args, io }) {
    const [fileArg, ...extra] = args.positionals;
    if (fileArg === undefined) throw new UsageError('No chain file given: coi run FILE.coi.', 'run');
    if (extra.length > 0) throw new UsageError(`One chain file at a time (got also '${extra[0]}').`, 'run');
    const path = resolve(io.cwd, fileArg);
    const stdinRefusal = stdinArgumentRefusal(fileArg, path);
    if (stdinRefusal !== undefined) throw stdinRefusal;
    const display = displayPath(path, io.cwd);
    const loaded = loadChainFile(path, display, utf8Warner(io, 'run', display));
    const chain = loaded.chain;
    const pinned = parsePins(chain, args.values('pin'), io);
    const inputs = parseInputs(chain, args.values('input'), io, { stopAfter: args.value('to'), pinned });
    for (const option of ['to', 'from'] as const) {
      const id = args.value(option);
      if (id !== undefined && !chain.steps.some((s) => s.id === id)) throw new UsageError(`--${option}: no step '${id}'${suggest(id, chain.steps.map((s) => s.id))}.`, 'run');
    }
    refuseFromAfterTo(chain, args.value('from'), args.value('to'));
    const mode = args.value('mode') === 'composed' ? 'composed' : 'stepwise';
    const composedProblem = composedRunProblem({ mode, pinned, ...(args.value('from') !== undefined ? { rerunFrom: args.value('from') } : {}) });
    if (composedProblem !== undefined) {
      const options = [...(args.has('pin') ? ['--pin'] : []), ...(args.has('from') ? ['--from'] : [])].join(' and ');
      throw new UsageError(`--mode composed with ${options}: ${composedProblem.replace(/\.$/, ' (--mode stepwise).')}`, 'run');
    }
    refusePinsFromOn(chain, pinned, args.value('from'), args.value('to'));
    warnPinsPastTo(chain, pinned, args.value('to'), io);
    // Typed inputs and pinned outputs are read (and refused, exit 2) before the run is announced; the run reads them again, the same way.
    checkRunValues(chain, { inputs, pinned, baseDir: dirname(path), ...(args.value('to') !== undefined ? { stopAfter: args.value('to') } : {}) });
    const json = args.has('json');
    // A cache folder that cannot be written ($COI_CACHE_DIR read-only) is still read, and written to by no one, root included: the note says so.
    const cacheFolder = usableCacheFolder(path, '', args.has('no-cache') ? 'the run record' : 'the step cache and the run record', io, args.has('no-cache') ? 'the run is not recorded' : 'no answer of this run is kept for the next, and the run is not recorded');
    const root = cacheFolder.folder;
    const writable = cacheFolder.unwritable === undefined;
    const timeout = timeoutOption(args, 'run');
    const maxTokens = maxTokensOption(args, 'run');
    // Said before the model is chosen, so no "Running ..." line comes before the error.
    if (chain.steps.length === 0) throw new UsageError(`'${display}' declares no steps: a chain needs at least one \`step\` block to run.`, 'run');
    const model = chooseModel(chain, args, io, 'run', dirname(path), { runs: { modes: [mode], stopAfter: args.value('to'), pinned } });
    if (!json) io.stderr(`Running ${chain.name || display} with ${model.description}\n`);
    let interrupt: AbortSignal | undefined;
    try {
      const finished = await withInterrupt(io, (signal) =>
        runChain(chain, {
          backend: model.resolver,
          ...(args.value('profile') !== undefined ? { defaultProfile: args.value('profile') } : {}),
          inputs,
          mode,
          template: args.value('template') === 'alpaca' ? 'alpaca' : 'chat',
          ...(args.has('no-cache') ? {} : { cache: new StepCache(join(root, 'steps'), { readOnly: !writable }) }),
          ...(args.value('to') !== undefined ? { stopAfter: args.value('to') } : {}),
          ...(args.value('from') !== undefined ? { rerunFrom: args.value('from') } : {}),
          ...(Object.keys(pinned).length > 0 ? { pinned } : {}),
          baseDir: dirname(path),
          file: path,
          signal: (interrupt = signal),
          ...timeout,
          ...maxTokens,
          ...(json ? {} : { events: streamingEvents(io, args.value('mode') === 'composed', model) }),
        }),
      );
      // Where the local models ran: a stderr line when streaming, a field of the record with --json.
      const placements = model.placements();
      const record: RunRecordWithBackends = json && placements.length > 0 ? { ...finished, backends: placements } : finished;
      if (!json) model.reportPlacements();
      const saved = writable ? saveRecord(root, record, io) : undefined;
      // On a terminal the record's text is escaped once more (shownOnTerminal: `\u009b` inside a JSON string is the same string).
      if (json) io.stdout(JSON.stringify(record, null, 2) + '\n');
      else io.stderr(recordWarningLines(record) + summaryLine(record, saved, io.cwd, !args.has('no-cache'), cancelledBy(interrupt)));
      return record.status === 'ok' ? EXIT_OK : record.status === 'cancelled' ? cancelledExitCode(interrupt) : EXIT_ERRORS;
    } catch (error) {
      if (error instanceof RunRequestError) throw new UsageError(error.message, 'run');
      throw error;
    } finally {
      await model.dispose();
    }
  },
};

/** The inputs and pins as the run reads them (core's readRunValues): a value it refuses is a usage error, in its words. */
function checkRunValues(chain: Chain, values: Parameters<typeof readRunValues>[1]): void {
  try {
    readRunValues(chain, values);
  } catch (error) {
    if (error instanceof RunRequestError) throw new UsageError(error.message, 'run');
    throw error;
  }
}

/** `--from step3 --to step1` would run step1 from the cache and generate nothing afresh: a usage error, not a silent run. */
function refuseFromAfterTo(chain: Chain, from: string | undefined, to: string | undefined): void {
  if (from === undefined || to === undefined) return;
  const index = (id: string): number => chain.steps.findIndex((s) => s.id === id);
  if (index(from) > index(to)) {
    throw new UsageError(`--from ${from} comes after --to ${to}: nothing would be generated afresh. Give a --to step at or after '${from}'.`, 'run');
  }
}

/**
 * `--from summary --pin summary=...` asks for a step to be both generated afresh and given: the
 * run would take the pin and skip the generation without a word. A pin stands for a step before
 * the re-run point (as the editor's pins do), so one at or after it is a usage error.
 */
function refusePinsFromOn(chain: Chain, pinned: Readonly<Record<string, string>>, from: string | undefined, to: string | undefined): void {
  if (from === undefined) return;
  const start = chain.steps.findIndex((s) => s.id === from);
  // A pin after --to stands for a step the run does not reach, as without --from.
  const late = stepsUpTo(chain, to)
    .filter((s, i) => i >= start && pinned[s.id] !== undefined)
    .map((s) => s.id);
  if (late.length === 0) return;
  const which = late.length === 1 ? `step '${late[0]!}' is` : `steps ${late.map((id) => `'${id}'`).join(', ')} are`;
  throw new UsageError(`--pin ${late[0]!}: ${which} at or after --from ${from}, which generates ${late.length === 1 ? 'it' : 'them'} afresh. Pin only steps before '${from}', or re-run from a later step.`, 'run');
}

/**
 * `--to summary --pin translate=...`: the run stops before the pinned step, so the pin is neither
 * read nor used (core's readRunValues). Not refused, since the run's outputs are the same with it
 * or without it and a script may keep its pins while it moves --to; one warning line says so.
 */
function warnPinsPastTo(chain: Chain, pinned: Readonly<Record<string, string>>, to: string | undefined, io: CliIO): void {
  const past = pinsPastStop(chain, { stopAfter: to, pinned });
  if (past.length === 0) return;
  const which = past.length === 1 ? `step '${past[0]!}' comes` : `steps ${past.map((id) => `'${id}'`).join(', ')} come`;
  const them = past.length === 1 ? ['it', 'the pin is'] : ['them', 'the pins are'];
  io.stderr(`coi run: warning: --pin ${past[0]!}: ${which} after --to ${to!}, so the run does not reach ${them[0]!}; ${them[1]!} not used.\n`);
}

function suggest(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates);
  return near === undefined ? '' : ` (did you mean '${near}'?)`;
}

/** `@path` reads a file (relative to the working folder); anything else is the value itself. */
function readValue(value: string, io: CliIO, what: string): string {
  if (!value.startsWith('@')) return value;
  const file = resolve(io.cwd, value.slice(1));
  try {
    // A byte order mark is no part of the text (editors on Windows write one); invalid UTF-8 is said, as for .coi files.
    return readTextFile(file, utf8Warner(io, 'run', displayPath(file, io.cwd)))
      .replace(/^\uFEFF/, '')
      .replace(/\r?\n$/, '');
  } catch (error) {
    throw new FileError(`Cannot read ${what} from '${value.slice(1)}': ${describeFsError(error)}.`);
  }
}

/**
 * Sets `values[name]` from a NAME=VALUE option (`--input`, `--pin`), read only then. The same
 * name given twice is a usage error: which of the two the user meant is not ours to guess.
 */
function setOnce(values: Record<string, string>, option: string, what: string, name: string, read: () => string): void {
  if (values[name] !== undefined) throw new UsageError(`${what} is given twice (--${option} ${name}=... once each).`, 'run');
  values[name] = read();
}

/** The --input values; refuses a missing input that the run needs (core's inputsNeeded: read by a step it generates, up to --to and not pinned). */
export function parseInputs(chain: Chain, given: readonly string[], io: CliIO, run: Parameters<typeof inputsNeeded>[1] = {}): Record<string, string> {
  const names = chain.inputs.map((i) => i.name);
  const values: Record<string, string> = {};
  const set = (name: string, value: string): void => setOnce(values, 'input', `Input '${name}'`, name, () => readValue(value, io, `input '${name}'`));
  for (const arg of given) {
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : undefined;
    const looksNamed = name !== undefined && isIdentifier(name);
    if (name !== undefined && names.includes(name)) {
      set(name, arg.slice(eq + 1));
    } else if (looksNamed && names.length === 1) {
      // `--input artcle=@news.txt` is a typo, not the text "artcle=@news.txt".
      throw new UsageError(`The chain has no input '${name}'${suggest(name, names)}; its input is ${names[0]!}. (A value that itself starts with NAME= goes as --input ${names[0]!}=VALUE.)`, 'run');
    } else if (names.length === 1) {
      set(names[0]!, arg);
    } else if (names.length === 0) {
      throw new UsageError(`The chain declares no inputs, so --input '${arg}' has nowhere to go.`, 'run');
    } else if (looksNamed) {
      throw new UsageError(`The chain has no input '${name}'${suggest(name, names)}; its inputs are ${names.join(', ')}.`, 'run');
    } else {
      throw new UsageError(`The chain has ${names.length} inputs (${names.join(', ')}): name each one, --input NAME=VALUE.`, 'run');
    }
  }
  // Only the inputs read by the steps the run generates: up to --to, not pinned (core's inputsNeeded).
  const missing = inputsNeeded(chain, run)
    .map((input) => input.name)
    .filter((n) => values[n] === undefined);
  if (missing.length > 0) {
    const example = names.length === 1 ? `--input "..." or --input @file.txt` : missing.map((m) => `--input ${m}=...`).join(' ');
    throw new UsageError(`Missing chain input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: give ${example}.`, 'run');
  }
  return values;
}

function parsePins(chain: Chain, given: readonly string[], io: CliIO): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const arg of given) {
    const eq = arg.indexOf('=');
    const id = eq > 0 ? arg.slice(0, eq) : '';
    if (!chain.steps.some((s) => s.id === id)) throw new UsageError(`--pin '${arg}': expected STEP=VALUE with a step of the chain${suggest(id, chain.steps.map((s) => s.id))}.`, 'run');
    setOnce(pins, 'pin', `The pinned output of step '${id}'`, id, () => readValue(arg.slice(eq + 1), io, `the pinned output of '${id}'`));
  }
  return pins;
}

function stepNote(step: StepRunResult): string {
  if (step.pinned) return 'pinned';
  const tokens = step.completionTokens > 0 ? `, ${plural(step.completionTokens, 'token')}` : '';
  return step.cached ? `cached${tokens}` : `${formatDuration(step.durationMs)}${tokens}`;
}

/** A step's warnings (an accepted output that looks wrong), one line each. */
function warningLines(step: StepRunResult, indent: string): string {
  return (step.warnings ?? []).map((w) => `${indent}⚠ ${step.id}: ${visibleLines(w)}\n`).join('');
}

/** The run's own warnings (not a step's), one line each. */
function recordWarningLines(record: RunRecord): string {
  return (record.warnings ?? []).map((w) => `⚠ ${visibleLines(w)}\n`).join('');
}

/** `Step "a": the composed output cannot be split` on a line that begins `✗ a:` goes without its own step id. */
function withoutStepId(message: string, id: string): string {
  const own = `Step "${id}": `;
  return message.startsWith(own) ? message.slice(own.length) : message;
}

/** Step names and status on stderr, output text on stdout as it streams. */
function streamingEvents(io: CliIO, composed: boolean, model: Pick<ChosenModel, 'endProgressLine' | 'reportPlacements'>): RunEvents {
  let endsWithNewline = true;
  const write = (text: string): void => {
    if (text.length === 0) return;
    // The model's words: shown and not obeyed on a terminal (shownOnTerminal), exact when piped.
    io.stdout(text);
    endsWithNewline = text.endsWith('\n');
  };
  const closeLine = (): void => {
    if (!endsWithNewline) write('\n');
  };
  if (composed) {
    // The one generation's failure fails every step: its words are said at the first, the others refer to it.
    let said: { readonly step: string; readonly message: string } | undefined;
    return {
      onComposedText: (chunk) => write(chunk),
      onStepEnd: (step) => {
        closeLine();
        model.endProgressLine();
        if (step.status === 'ok') io.stderr(`✓ ${step.id}\n`);
        else {
          const message = withoutStepId(step.error?.message ?? step.status, step.id);
          if (said?.message === message) io.stderr(`✗ ${step.id}: ${step.status === 'cancelled' ? `cancelled, as ${said.step}` : `the same error as ${said.step}`}\n`);
          else {
            io.stderr(`✗ ${step.id}: ${visibleLines(message)}\n`);
            said = { step: step.id, message };
          }
        }
        io.stderr(warningLines(step, ''));
        model.reportPlacements();
      },
    };
  }
  return {
    onStepStart: (step) => {
      closeLine();
      io.stderr(`▸ ${step.id}\n`);
    },
    onStepText: (_id, chunk) => write(chunk),
    onStepEnd: (step) => {
      closeLine();
      model.endProgressLine();
      io.stderr(step.status === 'ok' ? `  ✓ ${step.id} (${stepNote(step)})\n` : `  ✗ ${visibleLines(step.error?.message ?? `${step.id}: ${step.status}`)}\n`);
      io.stderr(warningLines(step, '  '));
      model.reportPlacements();
    },
  };
}

function saveRecord(root: string, record: RunRecord, io: CliIO): string | undefined {
  try {
    return new RunStore(join(root, 'runs')).save(record);
  } catch (error) {
    io.stderr(`coi run: could not save the run record in ${join(root, 'runs')}: ${describeFsError(error)}.\n`);
    return undefined;
  }
}

function summaryLine(record: RunRecord, saved: string | undefined, cwd: string, cacheOn: boolean, cancelled: CancelledBy): string {
  const ran = record.steps.filter((s) => s.status !== 'skipped');
  const cached = ran.filter((s) => s.cached).length;
  const where = saved !== undefined ? ` Record: ${displayPath(saved, cwd)}` : '';
  const counts = `${ran.length} step${ran.length === 1 ? '' : 's'}, ${cached} cached, ${record.modelCalls} model call${record.modelCalls === 1 ? '' : 's'}, ${formatDuration(record.durationMs)}.`;
  if (record.status === 'ok') return `Done: ${counts}${where}\n`;
  // Standard output closed (`| head -1`) or failed (a full disk) is no cancel of the user's: the run stopped there, what finished is kept.
  if (record.status === 'cancelled') return `${stoppedByOutput(cancelled) ? `Stopped, ${cancelled}` : 'Cancelled'}: ${counts}${cacheOn ? keptForNextRun(ran) : ''}${where}\n`;
  // The error's words are on the step's ✗ line above, said once; this line names the step.
  const failed = record.steps.filter((s) => s.status === 'failed').map((s) => s.id);
  if (failed.length === 0) return `Failed: ${visibleLines(record.error ?? 'a step failed')} (${counts})${where}\n`;
  return `Failed at step${failed.length === 1 ? ` ${failed[0]!} (its error is above)` : `s ${failed.join(', ')} (their errors are above)`}: ${counts}${where}\n`;
}

/** After a cancel, with the step cache on: the steps that finished are in it, and the same command reuses them instead of calling the model again. */
function keptForNextRun(ran: readonly RunRecord['steps'][number][]): string {
  const finished = ran.filter((s) => s.status === 'ok').length;
  if (finished === 0) return '';
  return ` ${finished === 1 ? 'The finished step is' : `The ${finished} finished steps are`} in the step cache: running the same command again reuses ${finished === 1 ? 'it' : 'them'}.`;
}
