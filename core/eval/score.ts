/**
 * Scores one run of an item: each step's output against its reference
 * (ROUGE-L F-measure ×100, as the paper reports it, and exact match), the final
 * output, the whole generated text against the whole reference record, the
 * test's expectations, contract validity, tokens, latency, calls and the cache.
 */
import { evaluateExpectations } from '../expectations/evaluate';
import type { ModelBackend } from '../backends/types';
import { joinStepOutputs } from '../records/markers';
import type { RunRecord, StepRunResult } from '../runner/types';
import { rougeL } from '../metrics/rouge';
import type { EvalItem, EvalMode, EvalResult, ExpectationScore, FinalScore, StepScore } from './types';

/** ROUGE-L F-measure of `prediction` against `reference`, ×100. */
export function rougeL100(reference: string, prediction: string): number {
  return rougeL(reference, prediction).fmeasure * 100;
}

/** Whether a UTF-16 code unit is whitespace for JavaScript's `\s` and `trim()`. */
function isSpace(code: number): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Equal after trimming and collapsing whitespace (`text.trim().replace(/\s+/g, ' ')`
 * on both sides), compared word by word in place: most outputs differ from
 * their reference within a few characters, and normalized copies of both were
 * a tenth of an evaluation's scoring time.
 */
export function exactMatch(reference: string, prediction: string): boolean {
  if (reference === prediction) return true;
  let i = skipSpaces(reference, 0);
  let j = skipSpaces(prediction, 0);
  for (;;) {
    if (i >= reference.length || j >= prediction.length) return i >= reference.length && j >= prediction.length;
    // A word on both sides: the same characters up to the same end.
    for (; i < reference.length && j < prediction.length; i++, j++) {
      const a = reference.charCodeAt(i);
      const b = prediction.charCodeAt(j);
      if (isSpace(a) || isSpace(b)) break;
      if (a !== b) return false;
    }
    const referenceWordEnds = i >= reference.length || isSpace(reference.charCodeAt(i));
    const predictionWordEnds = j >= prediction.length || isSpace(prediction.charCodeAt(j));
    if (!referenceWordEnds || !predictionWordEnds) return false;
    i = skipSpaces(reference, i);
    j = skipSpaces(prediction, j);
  }
}

/** What a step produced, for scoring: its output, or its raw text when it broke its contract. */
function producedText(step: StepRunResult): string | undefined {
  if (step.status === 'ok') return step.output;
  if (step.error?.code === 'contract') return step.rawOutput;
  return undefined;
}

/** Why a run must count as a failure rather than a score (a backend or input problem), or undefined. */
export function runFailure(record: RunRecord): string | undefined {
  const broken = record.steps.find((s) => s.status === 'failed' && s.error !== undefined && (s.error.code === 'backend' || s.error.code === 'missing-input'));
  return broken?.error?.message;
}

function stepScores(item: EvalItem, record: RunRecord, splitFailed: boolean): StepScore[] {
  return record.steps.map((step) => {
    const reference = item.references[step.id];
    const output = splitFailed ? undefined : producedText(step);
    const scored = reference !== undefined ? { reference, rougeL: output === undefined ? 0 : rougeL100(reference, output), exact: output !== undefined && exactMatch(reference, output) } : {};
    return {
      id: step.id,
      index: step.index,
      category: item.categories[step.index] ?? 'unknown',
      ...(output !== undefined ? { output } : splitFailed && step.rawOutput !== undefined ? { output: step.rawOutput } : {}),
      ...scored,
      contractValid: step.status === 'ok',
      status: step.status,
    };
  });
}

function finalScore(item: EvalItem, record: RunRecord, steps: readonly StepScore[], splitFailed: boolean): FinalScore {
  const last = steps[steps.length - 1];
  const lastRun = record.steps[record.steps.length - 1];
  const output = splitFailed ? undefined : (record.output ?? (lastRun !== undefined ? producedText(lastRun) : undefined));
  const reference = item.finalReference ?? (last !== undefined ? item.references[last.id] : undefined);
  if (reference === undefined) return output !== undefined ? { output } : {};
  // Usually the last step's pair again (stepwise): its scores, not a second computation.
  if (last !== undefined && last.reference === reference && last.output === output && last.rougeL !== undefined && last.exact !== undefined) {
    return { ...(output !== undefined ? { output } : {}), reference, rougeL: last.rougeL, exact: last.exact };
  }
  return {
    ...(output !== undefined ? { output } : {}),
    reference,
    rougeL: output === undefined ? 0 : rougeL100(reference, output),
    exact: output !== undefined && exactMatch(reference, output),
  };
}

/** The whole reference: the record's output, else every step's reference joined with markers. */
function wholeReferenceOf(item: EvalItem, record: RunRecord): string | undefined {
  if (item.wholeReference !== undefined) return item.wholeReference;
  const references = record.steps.map((s) => item.references[s.id]);
  if (references.length < 2 || references.some((r) => r === undefined)) return undefined;
  return joinStepOutputs(references as string[]);
}

function wholeGenerated(record: RunRecord, mode: EvalMode): string {
  if (mode === 'composed') return record.composed?.rawOutput ?? '';
  return joinStepOutputs(record.steps.map((s) => producedText(s) ?? ''));
}

export interface ScoreOptions {
  readonly judge?: ModelBackend;
  readonly signal?: AbortSignal;
}

/** The result line of one finished run of `item` on `model` in `mode`. */
export async function scoreRun(item: EvalItem, model: string, mode: EvalMode, record: RunRecord, options: ScoreOptions = {}): Promise<EvalResult> {
  const error = runFailure(record);
  const splitFailed = mode === 'composed' && record.steps.some((s) => s.error?.code === 'missing-marker');
  const steps = stepScores(item, record, splitFailed);
  const wholeReference = wholeReferenceOf(item, record);
  const expectations = item.test !== undefined && error === undefined ? await expectationScores(item, record, options) : undefined;
  const ran = record.steps.filter((s) => s.status !== 'skipped');
  return {
    item: item.id,
    model,
    mode,
    chainLength: record.steps.length,
    steps,
    final: finalScore(item, record, steps, splitFailed),
    ...(wholeReference !== undefined && error === undefined ? { whole: { rougeL: rougeL100(wholeReference, wholeGenerated(record, mode)) } } : {}),
    splitFailed,
    ...(expectations !== undefined ? { expectations } : {}),
    tokensIn: record.steps.reduce((t, s) => t + s.promptTokens, 0),
    tokensOut: record.steps.reduce((t, s) => t + s.completionTokens, 0),
    latencyMs: Math.round(record.durationMs),
    modelCalls: record.modelCalls,
    cached: record.modelCalls === 0 && ran.length > 0 && ran.every((s) => s.cached || s.pinned),
    ...(error !== undefined ? { error } : {}),
    ...(item.composability !== undefined ? { composability: item.composability } : {}),
    runId: record.id,
  };
}

async function expectationScores(item: EvalItem, record: RunRecord, options: ScoreOptions): Promise<ExpectationScore[]> {
  const results = await evaluateExpectations(item.chain, item.test!, record, {
    ...(options.judge !== undefined ? { judge: options.judge } : {}),
    ...(item.baseDir !== undefined ? { baseDir: item.baseDir } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  return results.map((r) => ({
    target: r.expectation.target,
    matcher: r.expectation.matcher,
    status: r.status,
    message: r.message,
    ...(r.score !== undefined ? { score: r.score } : {}),
  }));
}

/** A triple that could not run at all (a request error): recorded as a failure. */
export function failedResult(item: EvalItem, model: string, mode: EvalMode, message: string): EvalResult {
  return {
    item: item.id,
    model,
    mode,
    chainLength: item.chain.steps.length,
    steps: [],
    final: {},
    splitFailed: false,
    tokensIn: 0,
    tokensOut: 0,
    latencyMs: 0,
    modelCalls: 0,
    cached: false,
    error: message,
    ...(item.composability !== undefined ? { composability: item.composability } : {}),
    runId: '',
  };
}
