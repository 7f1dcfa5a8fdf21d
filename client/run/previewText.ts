/**
 * The text of the editor's run views, kept free of `vscode` so it is unit
 * tested: the one-line preview after a step header, and the readable log of a
 * run written to the output channel.
 */
import { cutNote, PARTIAL_OUTPUT_NOTE, partialOutputHeading, partialOutputLabel, type RunRecord, type StepRunResult, type StepStatus } from '../../core/runner';
import { firstLine as firstLineOf, headOf } from '../../core/syntax';

/** What the editor shows for one step: its latest result, or the text streaming in. */
export interface StepPreview {
  readonly status: StepStatus | 'running' | 'pending';
  readonly text: string;
  readonly result?: StepRunResult;
}

const ICONS: Readonly<Record<StepPreview['status'], string>> = { running: '⟳', pending: '…', ok: '✓', failed: '✗', cancelled: '⊘', skipped: '·' };
/** Past this a decoration runs under the minimap and adds a horizontal scrollbar. */
export const PREVIEW_CHARS = 80;

/** The first non-blank line of a text, cut with an ellipsis at `max` characters (the preview's width by default). */
export function firstLine(text: string, max = PREVIEW_CHARS): string {
  return firstLineOf(text, max);
}

/** The header line already names the step: drop the error's `Step "id":` prefix. */
export function withoutStepPrefix(message: string): string {
  return message.replace(/^Step "[^"]*":?\s*/, '');
}

/** How the generation was cut short (at `max_tokens`, by the provider's content filter or an error there), or undefined: it was not. */
export function cutOf(result: StepRunResult | undefined): string | undefined {
  return cutNote(result?.finishReason);
}

/** Characters of the error and of the partial output's first line when a failed step's preview shows both. */
const PARTIAL_PREVIEW_CHARS = 40;

/**
 * What a failed or cancelled step had streamed before its call stopped (`partialOutput`), or
 * undefined: none, or the step did not stop so. Never its output: the views mark it partial.
 */
export function partialOutputOf(view: StepPreview): string | undefined {
  if (view.status !== 'failed' && view.status !== 'cancelled') return undefined;
  const partial = view.result?.partialOutput;
  return partial !== undefined && partial.trim() !== '' ? partial : undefined;
}

/** The decoration text after a step header: icon, markers, and one line of output or error (and of a failed step's partial output, marked so). */
export function previewText(view: StepPreview, stale: boolean): string {
  const problem = view.status === 'failed' || view.status === 'cancelled';
  const partial = partialOutputOf(view);
  const error = withoutStepPrefix(view.result?.error?.message ?? view.status);
  const body = problem
    ? partial !== undefined
      ? `${firstLine(error, PARTIAL_PREVIEW_CHARS)} · ${partialOutputLabel(view.status)}: ${firstLine(partial, PARTIAL_PREVIEW_CHARS)}`
      : firstLine(error)
    : view.status === 'pending'
      ? 'pending (re-run under way)'
      : firstLine(view.text);
  const markers: string[] = [];
  if (stale) markers.push('(stale)');
  if (view.status === 'ok' && view.result?.cached === true) markers.push('(cached)');
  if (view.status === 'ok' && view.result?.pinned === true) markers.push('(pinned)');
  const cut = view.status === 'ok' ? cutOf(view.result) : undefined;
  if (cut !== undefined) markers.push(`⚠ ${cut}`);
  else if (view.status === 'ok' && (view.result?.warnings?.length ?? 0) > 0) markers.push('⚠');
  return `  ${[ICONS[view.status], ...markers, body].filter((part) => part !== '').join(' ')}`;
}

/** A long text for the log: its first `maxLines` lines, then how many were left out. */
export function abridged(text: string, maxLines = 12, maxChars = 1200): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  let shown = lines.slice(0, maxLines).join('\n');
  if (shown.length > maxChars) shown = `${headOf(shown, maxChars - 1)}…`;
  const left = lines.length - Math.min(lines.length, maxLines);
  return left > 0 ? `${shown}\n… (${left} more line${left === 1 ? '' : 's'})` : shown;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** A multi-line value shown readably: one line when it is one, else indented under its name. */
export function describeValue(name: string, value: string): string {
  return value.includes('\n') ? `  ${name}:\n${indent(abridged(value, 6, 600))}` : `  ${name} = ${firstLine(value, 200)}`;
}

function stepFacts(step: StepRunResult): string {
  const facts: string[] = [step.status];
  if (step.pinned) facts.push('pinned');
  else if (step.cached) facts.push('cached');
  else if (step.durationMs > 0) facts.push(`${(step.durationMs / 1000).toFixed(2)} s`);
  if (step.promptTokens + step.completionTokens > 0) facts.push(`${step.promptTokens}+${step.completionTokens} tokens`);
  const cut = cutOf(step);
  if (cut !== undefined) facts.push(cut);
  return facts.join(', ');
}

/** The run as a readable log: inputs, then each step's prompt (abridged) and output, then the outcome. */
export function runLog(record: RunRecord): string[] {
  const calls = `${record.modelCalls} model call${record.modelCalls === 1 ? '' : 's'}`;
  const lines = [`Run ${record.id} of ${record.chain || 'chain'} (${record.mode}, ${record.backend} ${record.model}): ${record.status}, ${calls}, ${Math.round(record.durationMs)} ms`];
  for (const [name, value] of Object.entries(record.inputs)) lines.push(describeValue(name, value));
  const composed = record.composed;
  if (composed !== undefined) {
    lines.push(`  composed prompt:\n${indent(abridged(composed.prompt))}`);
    const cut = cutNote(composed.finishReason);
    if (composed.rawOutput !== undefined) lines.push(`  composed generation${cut !== undefined ? ` (${cut})` : ''}:\n${indent(abridged(composed.rawOutput))}`);
    else if (composed.partialOutput !== undefined) lines.push(`  composed generation, ${partialOutputLabel(record.status)} (${PARTIAL_OUTPUT_NOTE}):\n${indent(abridged(composed.partialOutput))}`);
  }
  for (const step of record.steps) {
    if (step.status === 'skipped') continue;
    lines.push(`  step ${step.id}: ${stepFacts(step)}`);
    if (step.prompt !== undefined && record.composed === undefined && !step.pinned) lines.push(`    prompt:\n${indent(indent(abridged(step.prompt, 6, 600)))}`);
    const output = step.output ?? step.rawOutput;
    if (output !== undefined) lines.push(`    output:\n${indent(indent(abridged(output)))}`);
    else if (step.partialOutput !== undefined) lines.push(`    ${partialOutputLabel(step.status)} (${PARTIAL_OUTPUT_NOTE}):\n${indent(indent(abridged(step.partialOutput)))}`);
    if (step.error !== undefined) lines.push(`    ✗ ${step.error.message}`);
    for (const warning of step.warnings ?? []) lines.push(`    ⚠ ${warning}`);
  }
  for (const warning of record.warnings ?? []) lines.push(`  ⚠ ${warning}`);
  if (record.error !== undefined) lines.push(`  ✗ ${record.error}`);
  return lines;
}

/**
 * When a run failed because its model could not be had (a missing file, a
 * download that failed or stalled), that in plain words; undefined for other failures.
 */
export function modelProblemOf(record: RunRecord): string | undefined {
  const failed = record.steps.find((s) => s.error?.backendCode === 'model-not-found');
  if (failed?.error === undefined) return undefined;
  return plainModelProblem(withoutStepPrefix(failed.error.message).replace(/^The composed generation:?\s*/, ''), record.model);
}

/** A backend's "model not found" message (file missing, download failed) in plain words. */
export function plainModelProblem(message: string, model: string): string {
  // node-llama-cpp's offline failure is "Failed to fetch manifest … TypeError: fetch failed": say what it means.
  if (/fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo/i.test(message)) {
    return `The model ${model} is not on disk and could not be downloaded: the server could not be reached (are you offline?).`;
  }
  if (/^Model file not found: /.test(message)) return `The model file ${message.replace(/^Model file not found: /, '')} does not exist.`;
  return message;
}

/**
 * The text a step's hover shows and how it is introduced: the output (the model's raw text when
 * there is one); for a failed or cancelled step, what it streamed before, under `heading`
 * (`Partial output before the failure`), never as its output.
 */
export function hoverOutput(view: StepPreview): { readonly text: string; readonly heading?: string } {
  const partial = partialOutputOf(view);
  if (partial !== undefined && view.result?.rawOutput === undefined) return { text: partial, heading: partialOutputHeading(view.status) };
  return { text: view.result?.rawOutput ?? view.text };
}

/**
 * A failed composed run's one generation for the hover of a step with nothing of its own: the
 * raw generation (the split failed), else the partial text streamed before the call stopped.
 */
export function composedHoverText(record: RunRecord): { readonly text: string; readonly heading: string } | undefined {
  const composed = record.composed;
  if (composed === undefined) return undefined;
  if (composed.rawOutput !== undefined && composed.rawOutput !== '') return { text: composed.rawOutput, heading: 'Raw composed generation' };
  if (composed.partialOutput !== undefined && composed.partialOutput !== '') return { text: composed.partialOutput, heading: `Composed generation, ${partialOutputLabel(record.status)}` };
  return undefined;
}
