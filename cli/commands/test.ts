/**
 * `coi test FILES... [--reporter text|json|junit] [--junit-file F] [--model SPEC | --profile P]`
 *
 * Runs every `test` block of the chains: the chain on the test's inputs, then
 * each expectation. Exit codes: 0 every test passed, 1 a test failed (or could
 * not run, or --filter matched none), 2 usage errors or files that cannot be
 * loaded, 130/143 cancelled.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ModelBackend } from '../../core/backends';
import { type ExpectationResult, type TestResult, runChainTest } from '../../core/expectations';
import { StepCache, RunStore } from '../../core/runner';
import type { Command } from '../command';
import { CliError, describeFsError, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError } from '../errors';
import { canonicalPath, expandPaths, replaceFile, utf8Warner, type FoundFile } from '../files';
import { displayPath, makeDirectories } from '../../core/syntax';
import type { CliIO } from '../io';
import { plural } from '../plural';
import { visibleLines } from '../../core/records';
import { writeOutputFile } from './outputFile';
import { BackendPool, type CancelledBy, cancelledBy, cancelledExitCode, checkModelOptions, chooseModel, envOpenAIModel, formatDuration, isOpenAISpec, loadChainFile, MODEL_OPTIONS, maxTokensOption, stoppedByOutput, timeoutOption, usableCacheFolder, withInterrupt, type ChainRuns, type ChosenModel, type LoadedChain } from './runSupport';

interface LoadError {
  readonly file: FoundFile;
  readonly message: string;
}

interface FileResults {
  readonly file: FoundFile;
  readonly loaded: LoadedChain;
  readonly results: TestResult[];
}

export const command: Command = {
  name: 'test',
  usage: 'coi test [options] FILES...',
  description:
    'Runs every test block of the .coi FILES (files, directories or quoted glob patterns): the chain on the test\'s inputs, then each expectation (equals, contains, matches, label, one_of, valid_json, rouge_l, judge). ' +
    'Judge expectations use --judge-model, and are skipped without it. Exit code 0 when all tests pass; 1 when any fails or could not run, or --filter matches no test; 2 on usage errors or files that cannot be loaded (the other files still run); 130 when cancelled with Ctrl-C, 143 with SIGTERM (the reports cover the tests that finished).',
  options: [
    { name: 'reporter', kind: 'value', choices: ['text', 'json', 'junit'], defaultValue: 'text', description: 'Report format on standard output.' },
    { name: 'junit-file', kind: 'value', valueName: 'FILE', description: 'Also write a JUnit XML report to FILE (for CI).' },
    { name: 'filter', kind: 'value', valueName: 'TEXT', description: 'Run only the tests whose name contains TEXT; when none does, exit code 1 (a misspelt filter does not pass by running nothing).' },
    { name: 'judge-model', kind: 'value', valueName: 'SPEC', description: 'Model for judge expectations (same forms as --model).' },
    {
      name: 'judge-base-url',
      kind: 'value',
      valueName: 'URL',
      description: "Base URL of the judge's OpenAI-compatible server, for --judge-model openai:MODEL_ID. Default: --base-url when --model (or $COI_MODEL) is openai: too (the same server), else https://api.openai.com/v1.",
    },
    { name: 'judge-api-key-env', kind: 'value', valueName: 'VAR', description: "The environment variable holding the judge server's API key (as --api-key-env for --model). Default: --api-key-env when the judge shares --base-url's server." },
    { name: 'judge-api-key-header', kind: 'value', valueName: 'NAME', description: "The header the judge server's key goes in (as --api-key-header for --model). Default: --api-key-header when the judge shares --base-url's server, else api-key for Azure OpenAI hosts and Authorization for others." },
    ...MODEL_OPTIONS,
  ],
  examples: ['coi test "examples/*.coi" --model ./tiny.gguf --threads 2', 'coi test chain.coi --model ./tiny.gguf --reporter junit > report.xml', 'coi test "chains/**/*.coi" --junit-file test-results/coi.xml'],

  async run({ args, io }) {
    if (args.positionals.length === 0) throw new UsageError('No files given: name .coi files, directories or glob patterns.', 'test');
    // --base-url without --model is $COI_MODEL's server when that is an openai: model (chooseModel checks it per file), else no model's.
    if (args.has('base-url') && !args.has('model') && args.has('judge-model') && envOpenAIModel(args, io) === undefined) {
      throw new UsageError("--base-url goes with --model openai:MODEL_ID; the judge's server is --judge-base-url URL.", 'test');
    }
    // The model options' own problems are usage errors whatever the files hold: checked before any
    // file, not only at the first file with tests (the files' profiles are checked there).
    checkModelOptions(args, io, 'test');
    judgeModel(args.value('judge-model'), args, io, io.cwd);
    const files = expandPaths(args.positionals, { extension: '.coi', cwd: io.cwd });
    const junitTarget = args.value('junit-file');
    if (junitTarget !== undefined) checkJunitTarget(resolve(io.cwd, junitTarget), junitTarget, files);
    // A file with errors does not stop the others (`coi test examples/` with one broken
    // chain still runs the rest); it is reported, and makes the exit code 2.
    const loaded: { file: FoundFile; loaded: LoadedChain }[] = [];
    const loadErrors: LoadError[] = [];
    for (const file of files) {
      try {
        loaded.push({ file, loaded: loadChainFile(file.path, file.display, utf8Warner(io, 'test', file.display)) });
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        io.stderr(`coi test: ${error.message}\n`);
        loadErrors.push({ file, message: error.message });
      }
    }
    const timeout = timeoutOption(args, 'test');
    const maxTokens = maxTokensOption(args, 'test');
    const filter = args.value('filter');
    const reporter = args.value('reporter') ?? 'text';
    const all: FileResults[] = [];
    let interrupt: AbortSignal | undefined;
    // One pool for every file: a model several files use is loaded once (and its worker started once).
    const pool = new BackendPool();
    // The .coi-cache/ of each folder, chosen once (its note, when it moves, said once).
    const cacheFolders = new Map<string, ReturnType<typeof usableCacheFolder>>();
    // The judge's model of each file (one backend in the pool): its "local model ... on CPU" line is
    // recorded by the file that made it, and said after the test that first asked the judge.
    const judges: ChosenModel[] = [];
    const cacheFolderOf = (path: string): ReturnType<typeof usableCacheFolder> => {
      let folder = cacheFolders.get(dirname(path));
      if (folder === undefined) {
        // A folder that cannot be written ($COI_CACHE_DIR read-only) is still read, and written to by no one, root included: the note says so.
        folder = usableCacheFolder(path, '', args.has('no-cache') ? 'the run records' : 'the step cache and the run records', io, args.has('no-cache') ? 'the tests are not recorded' : 'no answer of these tests is kept for the next run, and they are not recorded');
        cacheFolders.set(dirname(path), folder);
      }
      return folder;
    };
    // Whether tests were left unfinished: cut short or not run, by a signal or standard output that stopped.
    const cancelled = await withInterrupt(io, async (signal) => {
      interrupt = signal;
      let unfinished = false;
      try {
        for (const { file, loaded: chainFile } of loaded) {
          const tests = chainFile.chain.tests.filter((t) => filter === undefined || t.name.includes(filter));
          const results: TestResult[] = [];
          all.push({ file, loaded: chainFile, results });
          if (tests.length === 0) continue;
          // A test runs its chain stepwise, every step, on its own profile when it names one
          // (core/expectations/runTest.ts): the checks before the tests look at those profiles.
          const runs: ChainRuns = { modes: ['stepwise'], defaultProfiles: tests.map((test) => test.profile) };
          const model = chooseModel(chainFile.chain, args, io, 'test', dirname(file.path), { pool, runs });
          const judged = judgeBackend(args.value('judge-model'), args, io, dirname(file.path), pool);
          if (judged !== undefined) judges.push(judged.choice);
          const judge = judged?.backend;
          const { folder: root, unwritable } = cacheFolderOf(file.path);
          const store = unwritable === undefined ? new RunStore(join(root, 'runs')) : undefined;
          // One cache per file: its index is read from disk once, not once per test.
          const cache = args.has('no-cache') ? undefined : new StepCache(join(root, 'steps'), { readOnly: unwritable !== undefined });
          for (const test of tests) {
            if (signal.aborted) return true; // tests left to run
            if (reporter === 'text') io.stderr(`▸ ${visibleLines(`${file.display} › ${test.name}`)}\n`);
            const outcome = await runChainTest(chainFile.chain, test, {
              backend: model.resolver,
              // --profile is the run's default as the resolver's: its sampling too, not the file's first profile's.
              ...(args.value('profile') !== undefined ? { defaultProfile: args.value('profile') } : {}),
              ...(cache !== undefined ? { cache } : {}),
              baseDir: dirname(file.path),
              file: file.path,
              signal,
              ...timeout,
              ...maxTokens,
              ...(judge !== undefined ? { judge } : {}),
            });
            // A test interrupted by Ctrl-C (or SIGTERM) did not fail: it did not finish, and nothing of it is judged.
            const cut = signal.aborted && outcome.status !== 'passed';
            unfinished ||= cut;
            const result: TestResult = cut ? { ...outcome, status: 'error', error: `${stoppedByOutput(cancelledBy(signal)) ? 'Stopped' : 'Cancelled'} (${cancelledBy(signal)}) before the test finished.`, expectations: [] } : outcome;
            for (const chosen of [model, ...judges]) {
              chosen.endProgressLine();
              chosen.reportPlacements();
            }
            if (result.run !== undefined) trySave(store, result, io);
            results.push(result);
            if (reporter === 'text') io.stdout(textReport(file, chainFile, result));
          }
        }
        // Every test finished (a signal or a stopped standard output that came after the last test's
        // result, at its report's write, `| head -1`, cut nothing): the run is whole, and said as such.
        return unfinished;
      } finally {
        await pool.dispose();
      }
    });

    if (reporter === 'json') io.stdout(JSON.stringify([...jsonReport(all), ...loadErrors.map((e) => ({ file: e.file.display, status: 'error', error: e.message }))], null, 2) + '\n');
    if (reporter === 'junit') io.stdout(junitReport(all, loadErrors));
    const results = all.flatMap((f) => f.results);
    io.stderr(summaryLine(results, all.length, loadErrors.length, cancelled ? cancelledBy(interrupt) : undefined));
    const junitFile = args.value('junit-file');
    // A signal that came during the tests (whether or not it cut one): the report is written at once, and the exit code is the signal's.
    const interrupted = interrupt?.aborted === true;
    const junitCancelled = junitFile === undefined ? undefined : await writeJunit(io, resolve(io.cwd, junitFile), junitReport(all, loadErrors), interrupted);
    if (junitCancelled !== undefined) return junitCancelled;
    if (interrupted) return cancelledExitCode(interrupt);
    if (loadErrors.length > 0) return EXIT_USAGE;
    if (filter !== undefined && results.length === 0 && all.length > 0) {
      // A misspelt filter must not pass in CI by running nothing.
      io.stderr(`coi test: no test name contains '${filter}'.\n`);
      return EXIT_ERRORS;
    }
    return results.some((r) => r.status !== 'passed') ? EXIT_ERRORS : EXIT_OK;
  },
};

/** `1 passed, 1 failed, 1 error — 3 tests in 1 file.`: an error (the test could not run) is counted apart from a failure, as in the JUnit totals. */
function summaryLine(results: readonly TestResult[], files: number, loadErrors: number, cancelled: CancelledBy | undefined): string {
  const count = (status: TestResult['status']): number => results.filter((r) => r.status === status).length;
  const errors = count('error');
  const counts = `${count('passed')} passed, ${count('failed')} failed${errors > 0 ? `, ${plural(errors, 'error')}` : ''}${cancelled === undefined ? '' : stoppedByOutput(cancelled) ? ` (stopped, ${cancelled})` : ' (cancelled)'}`;
  const notLoaded = loadErrors > 0 ? `; ${plural(loadErrors, 'file')} with errors not run` : '';
  return `${counts} — ${plural(results.length, 'test')} in ${plural(files, 'file')}${notLoaded}.\n`;
}

/**
 * The judge's model: --judge-model, at --judge-base-url with the key of --judge-api-key-env; an
 * openai: judge without --judge-base-url shares the server (and key) of an openai: --model (or $COI_MODEL).
 */
function judgeBackend(spec: string | undefined, args: Parameters<Command['run']>[0]['args'], io: CliIO, baseDir: string, pool: BackendPool): { backend: ModelBackend; choice: ChosenModel } | undefined {
  const choice = judgeModel(spec, args, io, baseDir, pool);
  if (choice === undefined) return undefined;
  const backend = choice.resolver(undefined);
  if (backend instanceof Promise) throw new CliError('internal: the judge backend must be created synchronously', EXIT_USAGE);
  return { backend, choice };
}

/** The judge's model as chosen and checked (usage errors), its backend not yet made (without `pool`, nothing is made). */
function judgeModel(spec: string | undefined, args: Parameters<Command['run']>[0]['args'], io: CliIO, baseDir: string, pool?: BackendPool): ChosenModel | undefined {
  const ownServer = args.value('judge-base-url');
  const ownKey = args.value('judge-api-key-env');
  const ownHeader = args.value('judge-api-key-header');
  const given = (['judge-base-url', 'judge-api-key-env', 'judge-api-key-header'] as const).find((name) => args.has(name));
  if (given !== undefined && (spec === undefined || !isOpenAISpec(spec))) throw new UsageError(`--${given} goes with --judge-model openai:MODEL_ID.`, 'test');
  if (spec === undefined) return undefined;
  const mainSpec = args.value('model') ?? envOpenAIModel(args, io);
  const sharesServer = isOpenAISpec(spec) && ownServer === undefined && mainSpec !== undefined && isOpenAISpec(mainSpec);
  const overrides: Record<string, string | undefined> = {
    model: spec,
    profile: undefined,
    'base-url': ownServer ?? (sharesServer ? args.value('base-url') : undefined),
    'api-key-env': ownKey ?? (sharesServer ? args.value('api-key-env') : undefined),
    'api-key-header': ownHeader ?? (sharesServer ? args.value('api-key-header') : undefined),
  };
  const value = (name: string): string | undefined => (name in overrides ? overrides[name] : args.value(name));
  const judgeArgs = { ...args, value, has: (name: string) => (name in overrides ? overrides[name] !== undefined : args.has(name)) };
  return chooseModel({ name: 'judge', profiles: [], inputs: [], steps: [], tests: [] }, judgeArgs, io, 'test', baseDir, { modelOption: '--judge-model', ...(pool !== undefined ? { pool } : {}) });
}

function trySave(store: RunStore | undefined, result: TestResult, io: CliIO): void {
  try {
    if (result.run !== undefined) store?.save(result.run);
  } catch (error) {
    io.stderr(`coi test: could not save the run record: ${describeFsError(error)}.\n`);
  }
}

function lineOf(loaded: LoadedChain, offset: number): number {
  return loaded.lineMap.positionAt(offset).line + 1;
}

function indent(text: string, prefix: string): string {
  return text.split('\n').map((l) => prefix + l).join('\n');
}

const ACTUAL_SHOWN = 600;

/**
 * A long model output cut for the terminal; the JSON and JUnit reports keep it whole. Counted in
 * characters (code points), so the cut never halves an emoji into a replacement character.
 */
function shorten(text: string): string {
  if (text.length <= ACTUAL_SHOWN) return text;
  const characters = Array.from(text);
  if (characters.length <= ACTUAL_SHOWN) return text;
  return `${characters.slice(0, ACTUAL_SHOWN).join('')}… (${characters.length - ACTUAL_SHOWN} more characters; --reporter json shows all)`;
}

function textReport(file: FoundFile, loaded: LoadedChain, result: TestResult): string {
  const mark = result.status === 'passed' ? '✓' : '✗';
  const lines = [`${mark} ${file.display}:${lineOf(loaded, result.test.span.start)} ${result.test.name} (${formatDuration(result.durationMs)})`];
  if (result.error !== undefined) lines.push(`    error: ${result.error}`);
  for (const e of result.expectations) {
    if (e.status === 'passed') continue;
    lines.push(`    ${e.status === 'skipped' ? '-' : '✗'} line ${lineOf(loaded, e.span.start)}: ${e.message}`);
    if (e.status === 'failed' || e.status === 'error') {
      if (e.expected !== undefined) lines.push(`        expected:\n${indent(e.expected, '          ')}`);
      if (e.actual !== undefined) lines.push(`        actual:\n${indent(shorten(e.actual), '          ')}`);
    }
  }
  // Model outputs and names may hold escape sequences: shown, not obeyed (line feeds lay out the report).
  return visibleLines(lines.join('\n')) + '\n';
}

function expectationJson(loaded: LoadedChain, e: ExpectationResult): Record<string, unknown> {
  return {
    target: e.expectation.target,
    matcher: e.expectation.matcher,
    negated: e.expectation.negated,
    status: e.status,
    message: e.message,
    line: lineOf(loaded, e.span.start),
    ...(e.expected !== undefined ? { expected: e.expected } : {}),
    ...(e.actual !== undefined ? { actual: e.actual } : {}),
    ...(e.score !== undefined ? { score: e.score } : {}),
  };
}

function jsonReport(all: readonly FileResults[]): unknown[] {
  return all.flatMap(({ file, loaded, results }) =>
    results.map((r) => ({
      file: file.display,
      chain: loaded.chain.name,
      test: r.test.name,
      line: lineOf(loaded, r.test.span.start),
      status: r.status,
      durationMs: Math.round(r.durationMs),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.run !== undefined ? { runId: r.run.id, modelCalls: r.run.modelCalls } : {}),
      expectations: r.expectations.map((e) => expectationJson(loaded, e)),
    })),
  );
}

function xml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest is escaped.
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function testCaseXml(file: FoundFile, loaded: LoadedChain, r: TestResult): string {
  const head = `    <testcase name="${xml(r.test.name)}" classname="${xml(`${file.display}:${loaded.chain.name}`)}" file="${xml(file.display)}" line="${lineOf(loaded, r.test.span.start)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
  if (r.status === 'passed') return `${head} />\n`;
  if (r.error !== undefined) return `${head}>\n      <error message="${xml(r.error)}" />\n    </testcase>\n`;
  const failures = r.expectations.filter((e) => e.status === 'failed' || e.status === 'error');
  const body = failures
    .map((e) => [`line ${lineOf(loaded, e.span.start)}: ${e.message}`, e.expected !== undefined ? `expected: ${e.expected}` : '', e.actual !== undefined ? `actual: ${e.actual}` : ''].filter((l) => l !== '').join('\n'))
    .join('\n\n');
  const message = failures.map((e) => e.message).join('; ');
  return `${head}>\n      <failure message="${xml(message)}" type="expectation">${xml(body)}</failure>\n    </testcase>\n`;
}

/** A file that could not be loaded: a suite with one errored case, so CI shows it. */
function loadErrorSuite(e: LoadError): string {
  return (
    `  <testsuite name="${xml(e.file.display)}" file="${xml(e.file.display)}" tests="1" failures="0" errors="1" time="0.000">\n` +
    `    <testcase name="load" classname="${xml(e.file.display)}" file="${xml(e.file.display)}" time="0.000">\n      <error message="${xml(e.message.split('\n')[0] ?? '')}">${xml(e.message)}</error>\n    </testcase>\n` +
    '  </testsuite>\n'
  );
}

function junitReport(all: readonly FileResults[], loadErrors: readonly LoadError[]): string {
  const suites = all.map(({ file, loaded, results }) => {
    const failures = results.filter((r) => r.status === 'failed').length;
    const errors = results.filter((r) => r.status === 'error').length;
    const time = results.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return (
      `  <testsuite name="${xml(loaded.chain.name || file.display)}" file="${xml(file.display)}" tests="${results.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n` +
      results.map((r) => testCaseXml(file, loaded, r)).join('') +
      '  </testsuite>\n'
    );
  });
  const results = all.flatMap((f) => f.results);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="coi test" tests="${results.length + loadErrors.length}" failures="${results.filter((r) => r.status === 'failed').length}" errors="${results.filter((r) => r.status === 'error').length + loadErrors.length}">\n` +
    suites.join('') +
    loadErrors.map(loadErrorSuite).join('') +
    '</testsuites>\n'
  );
}

/**
 * `--junit-file DIR` (or a path under a file) fails before any test runs, not after all of them;
 * so does one of the tested files (`coi test a.coi --junit-file a.coi` would replace the chain
 * with its report), whatever name or link reaches it, as `coi export --out` refuses.
 */
function checkJunitTarget(path: string, given: string, files: readonly FoundFile[]): void {
  let problem: string | undefined;
  const target = canonicalPath(path);
  if (files.some((file) => canonicalPath(file.path) === target)) problem = 'it is one of the files being tested: name another file';
  try {
    if (problem === undefined && statSync(path).isDirectory()) problem = 'it is a directory: name the XML file to write';
  } catch {
    // A missing file is written later (its folders are created); a missing parent is fine too.
  }
  for (let parent = dirname(path); problem === undefined && parent !== dirname(parent); parent = dirname(parent)) {
    try {
      if (!statSync(parent).isDirectory()) problem = `'${parent}' is a file, not a folder`;
      break;
    } catch {
      // Not there yet: created when the report is written.
    }
  }
  if (problem !== undefined) throw new UsageError(`--junit-file '${given}': ${problem}.`, 'test');
}

/**
 * Writes the JUnit report. Ctrl-C (or SIGTERM) while it is written cancels it (`writeOutputFile`:
 * the previous report as it was, no temporary): returns the exit code then. After a signal came
 * during the tests (`interrupted`: they were cancelled, or had all finished as it came), the report
 * of those that finished is written at once, in one piece (a second Ctrl-C then quits, once it is
 * written).
 */
async function writeJunit(io: CliIO, path: string, text: string, interrupted: boolean): Promise<number | undefined> {
  const failure = (error: unknown): CliError => new CliError(`Cannot write the JUnit report to '${path}': ${describeFsError(error)}.`, EXIT_USAGE);
  if (!interrupted) return writeOutputFile(io, 'test', path, text, { makeFolders: true, failure, notWritten: `nothing written to ${displayPath(path, io.cwd)}` });
  try {
    makeDirectories(dirname(path));
    replaceFile(path, text);
  } catch (error) {
    throw failure(error);
  }
  return undefined;
}
