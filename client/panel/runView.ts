/** A run record as the panel shows it (no vscode: the benchmark's harness uses it too). */
import { summaryOf, type ComposedGeneration, type RunRecord } from '../../core/runner';
import { cutInputsOf, MAX_STORED_CHARS } from '../../core/runner';
import type { RunDetail, RunRow } from '../../webview/protocol';

export function runDetail(record: RunRecord, origin: RunRow['origin']): RunDetail {
  return {
    row: { ...summaryOf(record), origin },
    template: record.template,
    backend: record.backend,
    inputs: record.inputs,
    ...(record.error !== undefined ? { error: record.error } : {}),
    warnings: record.warnings ?? [],
    ...(record.stopAfter !== undefined ? { stopAfter: record.stopAfter } : {}),
    ...(record.rerunFrom !== undefined ? { rerunFrom: record.rerunFrom } : {}),
    modelCalls: record.modelCalls,
    ...(record.composed !== undefined ? { composed: composedView(record.composed) } : {}),
    steps: record.steps.map((s) => ({
      id: s.id,
      index: s.index,
      status: s.status,
      ...(s.prompt !== undefined ? { prompt: s.prompt } : {}),
      ...(s.output !== undefined ? { output: s.output } : {}),
      ...(s.rawOutput !== undefined && s.rawOutput !== s.output ? { rawOutput: s.rawOutput } : {}),
      ...(s.partialOutput !== undefined ? { partialOutput: s.partialOutput } : {}),
      cached: s.cached,
      pinned: s.pinned,
      durationMs: s.durationMs,
      promptTokens: s.promptTokens,
      completionTokens: s.completionTokens,
      ...(s.error !== undefined ? { error: { code: s.error.backendCode !== undefined ? `${s.error.code}/${s.error.backendCode}` : s.error.code, message: s.error.message } } : {}),
      warnings: s.warnings ?? [],
      ...(s.finishReason !== undefined ? { finishReason: s.finishReason } : {}),
    })),
  };
}

/** A composed generation as the panel shows it: its raw text, or (it failed) the partial text streamed. */
function composedView(composed: ComposedGeneration): NonNullable<RunDetail['composed']> {
  const { prompt, rawOutput, partialOutput, cached, durationMs, promptTokens, completionTokens } = composed;
  return { prompt, ...(rawOutput !== undefined ? { rawOutput } : {}), ...(partialOutput !== undefined ? { partialOutput } : {}), cached, durationMs, promptTokens, completionTokens };
}

/**
 * The inputs *Re-run from here* runs the chain with: the record's, when it kept them whole. A
 * record keeps only the head of a huge input (storedRecord.ts); a re-run with that text would
 * silently run on something the user never typed, so it is refused, naming the inputs.
 */
export function rerunInputs(record: RunRecord): Readonly<Record<string, string>> {
  const cut = cutInputsOf(record);
  if (cut.length === 0) return record.inputs;
  const names = cut.map((name) => `"${name}"`).join(', ');
  throw new Error(
    `Cannot re-run this run from here: its record kept only the first ${MAX_STORED_CHARS.toLocaleString('en-US')} characters of input ${names} (longer texts are cut when a run is saved), and a re-run would use the shortened text. Run the chain again from the editor (Run Chain, or the Run CodeLens) with the full input.`,
  );
}
