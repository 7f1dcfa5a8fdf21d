/**
 * Scores one run of an item: each step's output against its reference
 * (ROUGE-L F-measure ×100, as the paper reports it, and exact match), the final
 * output, the whole generated text against the whole reference record, the
 * test's expectations, contract validity, tokens, latency, calls and the cache.
 */
import { evaluateExpectations } from '../expectations/evaluate';
import type { ModelBackend } from '../backends/types';
import { canonicalMarker } from '../records/markers';
import type { RunRecord, StepRunResult } from '../runner/types';
import { runFailure } from '../runner/failure';
import { COMPOSED_CUT_WARNING } from '../runner/run';
import { joinTokenIds, rougeIdEpoch, rougeL, rougeLOfIds, rougeTokenIds } from '../metrics/rouge';
import { CUT_REASONS, type CutReason, type EvalItem, type EvalMode, type EvalResult, type ExpectationScore, type FinalScore, type StepScore } from './types';

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

/** An item's reference ids, kept for its other models and modes while the id tables last. */
const keptReferenceIds = new WeakMap<EvalItem, { readonly epoch: number; readonly ids: Map<string, Int32Array> }>();
/** The canonical markers' ids, by `step/steps`, same rule. */
let keptMarkerIds = { epoch: -1, ids: new Map<string, Int32Array>() };
/** Keys of the whole and the final reference among an item's kept ids (step ids are names: no NUL). */
const WHOLE = '\u0000whole';
const FINAL = '\u0000final';

/**
 * ROUGE-L token ids for scoring one run (core/metrics/rouge.ts `rougeIdEpoch`):
 * each output tokenized once for its step, the final and the whole output; an
 * item's references once for all its models and modes; a text joined with the
 * canonical markers from its parts' ids. Used in one synchronous stretch.
 */
class RunTokens {
  private readonly epoch = rougeIdEpoch();
  private readonly references: Map<string, Int32Array>;
  private readonly outputs = new Map<number, Int32Array>();

  constructor(item: EvalItem) {
    const kept = keptReferenceIds.get(item);
    if (kept !== undefined && kept.epoch === this.epoch) this.references = kept.ids;
    else {
      this.references = new Map();
      keptReferenceIds.set(item, { epoch: this.epoch, ids: this.references });
    }
    if (keptMarkerIds.epoch !== this.epoch) keptMarkerIds = { epoch: this.epoch, ids: new Map() };
  }

  /** The ids of a reference, by its key in the item (a step id, or WHOLE). */
  reference(key: string, text: string): Int32Array {
    return memo(this.references, key, text);
  }

  /** The ids of step `index`'s output. */
  output(index: number, text: string): Int32Array {
    return memo(this.outputs, index, text);
  }

  /** The ids of `joinStepOutputs` of texts whose ids are `parts`. */
  joined(parts: readonly Int32Array[]): Int32Array {
    if (parts.length === 1) return parts[0]!;
    return joinTokenIds(parts.flatMap((ids, i) => [memo(keptMarkerIds.ids, `${i + 1}/${parts.length}`, canonicalMarker(i + 1, parts.length)), ids]));
  }
}

function memo<K>(ids: Map<K, Int32Array>, key: K, text: string): Int32Array {
  let found = ids.get(key);
  if (found === undefined) {
    found = rougeTokenIds(text);
    ids.set(key, found);
  }
  return found;
}

const rougeL100OfIds = (reference: Int32Array, prediction: Int32Array): number => rougeLOfIds(reference, prediction).fmeasure * 100;

/** What a step produced, for scoring: its output, or its raw text when it broke its contract. */
function producedText(step: StepRunResult): string | undefined {
  if (step.status === 'ok') return step.output;
  if (step.error?.code === 'contract') return step.rawOutput;
  return undefined;
}

/** A finish reason that is not a whole answer (`length`, `content-filter`, `provider-error`), else undefined. */
function cutReason(finishReason: string | undefined): CutReason | undefined {
  return CUT_REASONS.find((reason) => reason === finishReason);
}

/**
 * A composed run's one generation cut short: its reason and the step its text ends in (the last
 * step that got any of it; the first when none did), or undefined.
 */
function composedCut(record: RunRecord): { readonly reason: CutReason; readonly index: number } | undefined {
  const reason = cutReason(record.composed?.finishReason);
  if (reason === undefined) return undefined;
  let first: number | undefined;
  let last: number | undefined;
  for (const step of record.steps) {
    if (step.status === 'skipped') continue;
    first ??= step.index;
    if (step.rawOutput !== undefined) last = step.index;
  }
  const index = last ?? first;
  return index === undefined ? undefined : { reason, index };
}

/**
 * The run's own warnings, as a result keeps them (`warnings`, absent when none): the record's,
 * but for a composed generation cut short, which the step's `finishReason` already counts (and
 * whose words name its token count, another for every item).
 */
function runWarnings(record: RunRecord): { readonly warnings?: readonly string[] } {
  const cut = cutReason(record.composed?.finishReason) !== undefined;
  const warnings = (record.warnings ?? []).filter((w) => !(cut && w.startsWith(COMPOSED_CUT_WARNING)));
  return warnings.length > 0 ? { warnings } : {};
}

function stepScores(item: EvalItem, record: RunRecord, mode: EvalMode, splitFailed: boolean, tokens: RunTokens): StepScore[] {
  const composed = mode === 'composed' ? composedCut(record) : undefined;
  return record.steps.map((step) => {
    const reference = item.references[step.id];
    const output = splitFailed ? undefined : producedText(step);
    const rouge = (ref: string, out: string): number => rougeL100OfIds(tokens.reference(step.id, ref), tokens.output(step.index, out));
    const cut = composed !== undefined ? (composed.index === step.index ? composed.reason : undefined) : cutReason(step.finishReason);
    const scored = reference !== undefined ? { reference, rougeL: output === undefined ? 0 : rouge(reference, output), exact: output !== undefined && exactMatch(reference, output) } : {};
    const score: StepScore = {
      id: step.id,
      index: step.index,
      category: item.categories[step.index] ?? 'unknown',
      ...(output !== undefined ? { output } : splitFailed && step.rawOutput !== undefined ? { output: step.rawOutput } : {}),
      ...scored,
      contractValid: step.status === 'ok',
      status: step.status,
    };
    // Kept only for an output cut short: a whole answer's score is built as before.
    return cut === undefined ? score : { ...score, finishReason: cut };
  });
}

function finalScore(item: EvalItem, record: RunRecord, steps: readonly StepScore[], splitFailed: boolean, tokens: RunTokens): FinalScore {
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
    // The last step's reference, when it is the final one, is already tokenized under its id.
    rougeL: output === undefined ? 0 : rougeL100OfIds(tokens.reference(item.finalReference !== undefined || last === undefined ? FINAL : last.id, reference), rougeTokenIds(output)),
    exact: output !== undefined && exactMatch(reference, output),
  };
}

/**
 * ROUGE-L of the whole generated text (the composed output, or every step's output
 * joined with markers) against the whole reference (the record's output, else every
 * step's reference joined with markers); undefined without a whole reference.
 */
function wholeRougeL(item: EvalItem, record: RunRecord, mode: EvalMode, tokens: RunTokens): number | undefined {
  let reference: Int32Array;
  if (item.wholeReference !== undefined) reference = tokens.reference(WHOLE, item.wholeReference);
  else {
    const references = record.steps.map((s) => item.references[s.id]);
    if (references.length < 2 || references.some((r) => r === undefined)) return undefined;
    reference = tokens.joined(record.steps.map((s, i) => tokens.reference(s.id, references[i]!)));
  }
  const generated = mode === 'composed' ? rougeTokenIds(record.composed?.rawOutput ?? '') : tokens.joined(record.steps.map((s) => tokens.output(s.index, producedText(s) ?? '')));
  return rougeL100OfIds(reference, generated);
}

export interface ScoreOptions {
  readonly judge?: ModelBackend;
  readonly signal?: AbortSignal;
  /** Time limit of each judge call (the evaluation's `--timeout`). */
  readonly timeoutMs?: number;
}

/** The result line of one finished run of `item` on `model` in `mode`. */
export async function scoreRun(item: EvalItem, model: string, mode: EvalMode, record: RunRecord, options: ScoreOptions = {}): Promise<EvalResult> {
  const error = runFailure(record);
  const splitFailed = mode === 'composed' && record.steps.some((s) => s.error?.code === 'missing-marker');
  // Every ROUGE-L first, in one synchronous stretch (RunTokens); the expectations may wait for a judge.
  const tokens = new RunTokens(item);
  const steps = stepScores(item, record, mode, splitFailed, tokens);
  const final = finalScore(item, record, steps, splitFailed, tokens);
  const whole = error === undefined ? wholeRougeL(item, record, mode, tokens) : undefined;
  const expectations = item.test !== undefined && error === undefined ? await expectationScores(item, record, options) : undefined;
  const ran = record.steps.filter((s) => s.status !== 'skipped');
  return {
    item: item.id,
    model,
    mode,
    chainLength: record.steps.length,
    steps,
    final,
    ...(whole !== undefined ? { whole: { rougeL: whole } } : {}),
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
    ...runWarnings(record),
  };
}

async function expectationScores(item: EvalItem, record: RunRecord, options: ScoreOptions): Promise<ExpectationScore[]> {
  const results = await evaluateExpectations(item.chain, item.test!, record, {
    ...(options.judge !== undefined ? { judge: options.judge } : {}),
    ...(item.baseDir !== undefined ? { baseDir: item.baseDir } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return results.map((r) => ({
    target: r.expectation.target,
    matcher: r.expectation.matcher,
    status: r.status,
    message: r.message,
    ...(r.score !== undefined ? { score: r.score } : {}),
  }));
}

/**
 * A run that finished but could not be scored (an exception while scoring): recorded as a
 * failure that keeps what the run produced, so its outputs are not lost with the score.
 */
export function unscoredResult(item: EvalItem, model: string, mode: EvalMode, record: RunRecord, problem: string): EvalResult {
  const last = record.steps[record.steps.length - 1];
  const output = record.output ?? (last !== undefined ? producedText(last) : undefined);
  return {
    ...failedResult(item, model, mode, `The run finished but could not be scored: ${problem}`),
    chainLength: record.steps.length,
    steps: record.steps.map((step) => {
      const produced = producedText(step) ?? step.rawOutput;
      return { id: step.id, index: step.index, category: item.categories[step.index] ?? 'unknown', ...(produced !== undefined ? { output: produced } : {}), contractValid: step.status === 'ok', status: step.status };
    }),
    final: output !== undefined ? { output } : {},
    tokensIn: record.steps.reduce((t, s) => t + s.promptTokens, 0),
    tokensOut: record.steps.reduce((t, s) => t + s.completionTokens, 0),
    latencyMs: Math.round(record.durationMs),
    modelCalls: record.modelCalls,
    runId: record.id,
    ...runWarnings(record),
  };
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
