/**
 * Evaluates a test's expectations against a run's outputs: one verdict per
 * expectation with what was expected, what the run produced and the
 * expectation's span (where the editor shows a failure).
 */
import type { Chain, ChainTest, Expectation } from '../chain/model';
import type { ModelBackend } from '../backends/types';
import type { Span } from '../syntax/ast';
import { PATTERN_TIME_LIMIT_TEXT, SLOW_PATTERN_ADVICE, testBounded } from '../chain/boundedRegex';
import { equalsMatches, labelMatches } from '../chain/matching';
import { rougeL } from '../metrics/rouge';
import { resolveJsonSchema, stripCodeFence, validateJsonValue } from '../runner/contract';
import { ignoreText } from '../runner/run';
import type { RunRecord } from '../runner/types';

export type ExpectationStatus = 'passed' | 'failed' | 'skipped' | 'error';

export interface ExpectationResult {
  readonly expectation: Expectation;
  readonly status: ExpectationStatus;
  /** One sentence: what was checked and, on failure, why it failed. */
  readonly message: string;
  /** What the expectation wanted (for a diff view). */
  readonly expected?: string;
  /** What the target produced: for a step that broke its output contract, the model's answer (absent when the step did not run or its call failed). */
  readonly actual?: string;
  /** For `rouge_l`: the score obtained. */
  readonly score?: number;
  readonly span: Span;
}

export interface TestResult {
  readonly test: ChainTest;
  readonly status: 'passed' | 'failed' | 'error';
  readonly expectations: readonly ExpectationResult[];
  readonly run?: RunRecord;
  /** Why the test could not run at all (load/backend errors). */
  readonly error?: string;
  readonly durationMs: number;
}

export interface ExpectationOptions {
  /** Backend used for `judge` expectations; without it they are skipped. */
  readonly judge?: ModelBackend;
  readonly baseDir?: string;
  readonly signal?: AbortSignal;
  /** Time limit of a judge call (the run's `--timeout`); without it the backend's own limits apply. */
  readonly timeoutMs?: number;
}

/**
 * The output an expectation looks at: a step's, or the chain's final output. When there is none,
 * why; and the model's answer when it broke the step's contract, so a report shows what was said.
 */
function targetOutput(run: RunRecord, target: string): { output?: string; problem?: string; answer?: string } {
  if (target === 'output') {
    if (run.output !== undefined) return { output: run.output };
    return { problem: run.error ?? 'the chain produced no final output', ...contractBreach(run.steps[run.steps.length - 1]) };
  }
  const step = run.steps.find((s) => s.id === target);
  if (step === undefined) return { problem: `the chain has no step "${target}"` };
  if (step.output !== undefined && step.status === 'ok') return { output: step.output };
  if (step.error !== undefined) return { problem: step.error.message, ...contractBreach(step) };
  const why = run.error !== undefined ? `: ${run.error}` : '';
  return { problem: `step "${target}" did not run (${step.status})${why}` };
}

/** The model's answer of a step that broke its output contract (none for a step that failed otherwise). */
function contractBreach(step: RunRecord['steps'][number] | undefined): { answer?: string } {
  return step?.error?.code === 'contract' && step.rawOutput !== undefined ? { answer: step.rawOutput } : {};
}

function describe(e: Expectation): string {
  const not = e.negated ? 'not ' : '';
  switch (e.matcher) {
    case 'one_of':
      return `${e.target} ${not}one_of [${(e.values ?? []).join(', ')}]`;
    case 'rouge_l':
      return `${e.target} ${not}rouge_l >= ${e.threshold ?? 0}`;
    case 'valid_json':
      return `${e.target} ${not}valid_json`;
    default:
      return `${e.target} ${not}${e.matcher} ${JSON.stringify(e.value ?? '')}`;
  }
}

interface Check {
  readonly holds: boolean;
  readonly expected?: string;
  readonly detail?: string;
  readonly score?: number;
  /** Nothing was decided (the pattern was stopped, the judge answered neither yes nor no): the expectation fails, `not` or not. */
  readonly undecided?: boolean;
}

/** The step an expectation's target names: the last one for the final output. */
function targetStep(chain: Chain, target: string): Chain['steps'][number] | undefined {
  const stepId = target === 'output' ? chain.steps[chain.steps.length - 1]?.id : target;
  return chain.steps.find((s) => s.id === stepId);
}

function checkValidJson(chain: Chain, target: string, actual: string, baseDir: string | undefined): Check {
  let value: unknown;
  try {
    value = JSON.parse(stripCodeFence(actual).trim());
  } catch (error) {
    return { holds: false, detail: `not valid JSON (${(error as Error).message})` };
  }
  const step = targetStep(chain, target);
  let schema: unknown;
  try {
    schema = step !== undefined ? resolveJsonSchema(step.contract, baseDir) : undefined;
  } catch (error) {
    return { holds: false, detail: (error as Error).message };
  }
  const problem = validateJsonValue(value, schema);
  return problem === undefined ? { holds: true, ...(schema !== undefined ? { expected: JSON.stringify(schema) } : {}) } : { holds: false, detail: problem };
}

function checkMatches(e: Expectation, actual: string): Check {
  let pattern: RegExp;
  try {
    pattern = new RegExp(e.value ?? '', 'u');
  } catch (error) {
    return { holds: false, detail: `invalid regular expression (${(error as Error).message})` };
  }
  // The file's pattern on the model's output: bounded, as a backtracking pattern would hang the run.
  const verdict = testBounded(pattern, actual);
  if (verdict === 'timed out') {
    return { holds: false, undecided: true, expected: e.value ?? '', detail: `the pattern took longer than ${PATTERN_TIME_LIMIT_TEXT} on this output and was stopped: ${SLOW_PATTERN_ADVICE}` };
  }
  return { holds: verdict === 'matched', expected: e.value ?? '' };
}

function checkOf(chain: Chain, e: Expectation, actual: string, baseDir: string | undefined): Check {
  const value = e.value ?? '';
  switch (e.matcher) {
    case 'equals':
      // Compared as the contract's values (42 equals 42.0, JSON whatever its key order), as the checker reads the value.
      return { holds: equalsMatches(actual, value, targetStep(chain, e.target)?.contract.kind ?? 'text'), expected: value };
    case 'contains':
      return { holds: actual.includes(value), expected: value };
    case 'matches':
      return checkMatches(e, actual);
    case 'label':
      return { holds: labelMatches(actual, value), expected: value };
    case 'one_of': {
      const values = e.values ?? [];
      // Each value as `label` (ignoring case) or as `equals` (a number, a boolean, JSON by value).
      const kind = targetStep(chain, e.target)?.contract.kind ?? 'text';
      return { holds: values.some((v) => labelMatches(actual, v) || equalsMatches(actual, v, kind)), expected: values.join('\n') };
    }
    case 'valid_json':
      return checkValidJson(chain, e.target, actual, baseDir);
    case 'rouge_l': {
      const score = rougeL(value, actual).fmeasure;
      const threshold = e.threshold ?? 0;
      return { holds: score >= threshold, expected: value, score, detail: `ROUGE-L ${score.toFixed(3)} vs threshold ${threshold}` };
    }
    case 'judge':
      throw new Error('judge is evaluated asynchronously');
  }
}

/**
 * Asks the judge model a yes/no question about the output, within the run's time limit (or,
 * without one, the backend's: streamed, so a judge that stalls is noticed as a run's steps are).
 */
async function judge(e: Expectation, actual: string, backend: ModelBackend, options: ExpectationOptions): Promise<Check> {
  const { signal, timeoutMs } = options;
  const result = await backend.generate({
    prompt: {
      kind: 'chat',
      messages: [
        { role: 'system', content: 'You are a strict evaluator. Answer with "yes" or "no" only.' },
        { role: 'user', content: `Does the following text satisfy this criterion?\n\nCriterion:\n${e.value ?? ''}\n\nText:\n${actual}\n\nAnswer yes or no.` },
      ],
    },
    params: { temperature: 0, maxTokens: 8 },
    constraint: backend.constrainsDecoding === true ? { kind: 'labels', labels: ['yes', 'no'] } : undefined,
    onText: ignoreText,
    ...(signal !== undefined ? { signal } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  const verdict = result.text.trim().toLowerCase();
  // No verdict is no evidence either way: the expectation fails, `not judge` too.
  if (!/^(yes|no)\b/.test(verdict)) return { holds: false, undecided: true, expected: e.value ?? '', detail: `the judge answered ${JSON.stringify(result.text.trim().slice(0, 60))}, not yes or no` };
  return { holds: verdict.startsWith('yes'), expected: e.value ?? '', detail: `the judge (${backend.identity.model}) answered ${verdict.startsWith('yes') ? 'yes' : 'no'}` };
}

export async function evaluateExpectation(chain: Chain, expectation: Expectation, run: RunRecord, options: ExpectationOptions = {}): Promise<ExpectationResult> {
  const base = { expectation, span: expectation.span };
  const what = describe(expectation);
  const { output, problem, answer } = targetOutput(run, expectation.target);
  if (output === undefined) {
    return {
      ...base,
      status: 'failed',
      message: `${what}: ${problem ?? 'no output'}`,
      ...(expectation.value !== undefined ? { expected: expectation.value } : {}),
      ...(answer !== undefined ? { actual: answer } : {}),
    };
  }
  if (expectation.matcher === 'judge' && options.judge === undefined) {
    return { ...base, status: 'skipped', message: `${what}: skipped, no judge model is configured`, actual: output };
  }
  let check: Check;
  try {
    check = expectation.matcher === 'judge' ? await judge(expectation, output, options.judge!, options) : checkOf(chain, expectation, output, options.baseDir);
  } catch (error) {
    // What was asked stays in view (the text report's `expected:`), as for a failed expectation.
    const expected = expectation.value !== undefined ? { expected: expectation.value } : {};
    return { ...base, status: 'error', message: `${what}: ${(error as Error).message}`, ...expected, actual: output };
  }
  const passed = check.undecided !== true && check.holds !== expectation.negated;
  const detail = check.detail !== undefined ? ` (${check.detail})` : '';
  return {
    ...base,
    status: passed ? 'passed' : 'failed',
    message: passed ? `${what}${detail}` : `${what} failed${detail}`,
    actual: output,
    ...(check.expected !== undefined ? { expected: check.expected } : {}),
    ...(check.score !== undefined ? { score: check.score } : {}),
  };
}

export async function evaluateExpectations(chain: Chain, test: ChainTest, run: RunRecord, options: ExpectationOptions = {}): Promise<ExpectationResult[]> {
  const results: ExpectationResult[] = [];
  for (const expectation of test.expectations) results.push(await evaluateExpectation(chain, expectation, run, options));
  return results;
}

/**
 * A test passes when every expectation passed (skipped ones do not count) and fails when one
 * failed. An expectation that could not be decided (its judge's call failed) blames no one: with
 * nothing failed beside it, the test is an error, as a test whose model call failed.
 */
export function testStatus(results: readonly ExpectationResult[]): 'passed' | 'failed' | 'error' {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  return results.some((r) => r.status === 'error') ? 'error' : 'passed';
}

/** Why a test is an error when its expectations could not all be decided (see `testStatus`). */
export function undecidedReason(results: readonly ExpectationResult[]): string {
  const errors = results.filter((r) => r.status === 'error').map((r) => r.message);
  return `${errors.length === 1 ? 'An expectation' : `${errors.length} expectations`} could not be decided: ${errors.join('; ')}`;
}
