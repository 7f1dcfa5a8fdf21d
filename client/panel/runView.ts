/** A run record as the panel shows it (no vscode: the benchmark's harness uses it too). */
import { summaryOf, type RunRecord } from '../../core/runner';
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
    ...(record.composed !== undefined
      ? { composed: { prompt: record.composed.prompt, rawOutput: record.composed.rawOutput, cached: record.composed.cached, durationMs: record.composed.durationMs, promptTokens: record.composed.promptTokens, completionTokens: record.composed.completionTokens } }
      : {}),
    steps: record.steps.map((s) => ({
      id: s.id,
      index: s.index,
      status: s.status,
      ...(s.prompt !== undefined ? { prompt: s.prompt } : {}),
      ...(s.output !== undefined ? { output: s.output } : {}),
      ...(s.rawOutput !== undefined && s.rawOutput !== s.output ? { rawOutput: s.rawOutput } : {}),
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
