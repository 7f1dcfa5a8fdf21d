/**
 * Inline previews: after a run, each step's header line ends with a status
 * icon and the first line of its output (updated live while it streams), and a
 * hover over the header shows the whole output, timing, tokens and whether it
 * came from the cache. Outputs are untrusted: decorations are plain text and
 * hovers put the output in a fenced code block of an untrusted MarkdownString.
 * A preview turns stale (dimmed, marked) as soon as the step's definition or
 * anything upstream of it changes.
 */
import * as vscode from 'vscode';
import type { ChainStep } from '../../core/chain';
import { chainOf, isCoiDocument, rangeOf } from './documents';
import { PARTIAL_OUTPUT_NOTE, stepDefinitionHashes, type RunRecord } from '../../core/runner';
import { fenced } from '../../core/records';
import { abridged, composedHoverText, cutOf, hoverOutput, previewText } from './previewText';
import type { RunState, StepView } from './state';
import { LANGUAGE_ID } from '../../server/protocol';

/** The command a hover links to for the whole output (the only command its markdown may run). */
export const SHOW_STEP_OUTPUT = 'coi.showStepOutput';

function staleSteps(document: vscode.TextDocument, state: RunState): { step: ChainStep; view: StepView; stale: boolean }[] {
  const runs = state.peek(document.uri);
  if (runs === undefined || runs.steps.size === 0) return [];
  const chain = chainOf(document).chain;
  // Every redraw while a run streams (and every hover) asks: hashed once per document version.
  const hashes = stepDefinitionHashes(chain);
  const out: { step: ChainStep; view: StepView; stale: boolean }[] = [];
  for (const step of chain.steps) {
    const view = runs.steps.get(step.id);
    if (view !== undefined) out.push({ step, view, stale: view.status !== 'running' && view.status !== 'pending' && hashes.get(step.id) !== view.definitionHash });
  }
  return out;
}

export class InlinePreviews implements vscode.Disposable {
  private readonly fresh = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 1em' } });
  private readonly failed = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('errorForeground'), margin: '0 0 0 1em' } });
  private readonly stale = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('disabledForeground'), fontStyle: 'italic', margin: '0 0 0 1em' } });
  private readonly disposables: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;

  /** `languageServerRunning`: while it is, the hover goes through the language client's middleware (`hover`), before the server's. */
  constructor(
    private readonly state: RunState,
    private readonly languageServerRunning: () => boolean = () => false,
  ) {
    this.disposables.push(
      this.fresh,
      this.failed,
      this.stale,
      state.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => isCoiDocument(e.document) && this.schedule()),
      // Only while the language server is not answering; otherwise the middleware shows it first.
      vscode.languages.registerHoverProvider({ language: LANGUAGE_ID }, { provideHover: (document, position) => (this.languageServerRunning() ? undefined : this.hover(document, position)) }),
    );
  }

  dispose(): void {
    clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }

  /** Streaming fires many changes: redraw at most every 50 ms. */
  private schedule(): void {
    if (this.pending !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.render();
    }, 50);
  }

  render(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (!isCoiDocument(editor.document)) continue;
      const fresh: vscode.DecorationOptions[] = [];
      const failed: vscode.DecorationOptions[] = [];
      const stale: vscode.DecorationOptions[] = [];
      for (const { step, view, stale: isStale } of staleSteps(editor.document, this.state)) {
        const line = editor.document.positionAt(step.headerSpan.start).line;
        const end = editor.document.lineAt(line).range.end;
        const option: vscode.DecorationOptions = { range: new vscode.Range(end, end), renderOptions: { after: { contentText: previewText(view, isStale) } } };
        (isStale || view.status === 'pending' ? stale : view.status === 'failed' || view.status === 'cancelled' ? failed : fresh).push(option);
      }
      editor.setDecorations(this.fresh, fresh);
      editor.setDecorations(this.failed, failed);
      editor.setDecorations(this.stale, stale);
    }
  }

  hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    for (const { step, view, stale } of staleSteps(document, this.state)) {
      const header = rangeOf(document, step.headerSpan);
      const line = document.lineAt(header.start.line).range;
      if (!header.contains(position) && !line.contains(position)) continue;
      return new vscode.Hover(hoverMarkdown(step.id, view, stale, { uri: document.uri, record: this.state.peek(document.uri)?.record }), line);
    }
    return undefined;
  }
}

/** The hover's output: its first lines; the whole output is one click away. */
const HOVER_OUTPUT_LINES = 12;

function showOutputLink(uri: vscode.Uri, stepId: string, raw: boolean): string {
  const args = encodeURIComponent(JSON.stringify([uri.toString(), stepId, raw]));
  return `[${raw ? 'Open the whole raw generation' : 'Open the whole output'}](command:${SHOW_STEP_OUTPUT}?${args})`;
}

/**
 * A step's hover: its output first (abridged, with a link to the whole text),
 * then one line of facts, the error and warnings. A failed or cancelled step shows what it had
 * streamed, marked partial; a failed composed run also shows the raw (or partial) generation,
 * since the error alone does not say what the model wrote.
 */
export function hoverMarkdown(stepId: string, view: StepView, stale: boolean, context: { uri?: vscode.Uri; record?: RunRecord | undefined } = {}): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  // Only the show-output command may run from this hover; the output itself is in a code fence.
  md.isTrusted = { enabledCommands: [SHOW_STEP_OUTPUT] };
  md.supportHtml = false;
  md.supportThemeIcons = false;
  const result = view.result;
  const facts: string[] = [view.status === 'running' ? 'running…' : view.status];
  if (result !== undefined) {
    if (result.pinned) facts.push('pinned output');
    else if (result.cached) facts.push('cached');
    else if (result.durationMs > 0) facts.push(`${(result.durationMs / 1000).toFixed(2)} s`);
    if (result.promptTokens + result.completionTokens > 0) facts.push(`${result.promptTokens} prompt + ${result.completionTokens} output tokens`);
    const cut = cutOf(result);
    if (cut !== undefined) facts.push(`⚠ ${cut}`);
  }
  md.appendMarkdown('**');
  md.appendText(`Step ${stepId}`);
  md.appendMarkdown('** — ');
  md.appendText(facts.join(' · '));
  md.appendMarkdown('\n\n');
  const { text: output, heading } = hoverOutput(view);
  if (output.length > 0) {
    // A failed step's partial output says so before its text, which stays in the fence.
    if (heading !== undefined) md.appendMarkdown(`*${heading}* (${PARTIAL_OUTPUT_NOTE}):\n\n`);
    const shown = abridged(output, HOVER_OUTPUT_LINES, 1500);
    const cut = shown !== output.replace(/\s+$/, '');
    md.appendMarkdown(fenced(cut ? shown : output));
    if (cut && context.uri !== undefined) md.appendMarkdown(`${showOutputLink(context.uri, stepId, false)}\n\n`);
  }
  if (stale) md.appendMarkdown('*Stale: the step or a step it reads changed since this run.*\n\n');
  if (result?.error !== undefined) {
    md.appendText(`✗ ${result.error.message}`);
    md.appendMarkdown('\n\n');
  }
  for (const warning of result?.warnings ?? []) {
    md.appendText(`⚠ ${warning}`);
    md.appendMarkdown('\n\n');
  }
  const composed = context.record !== undefined ? composedHoverText(context.record) : undefined;
  if ((view.status === 'failed' || view.status === 'cancelled') && composed !== undefined && output.length === 0) {
    md.appendMarkdown(`${composed.heading}:\n\n`);
    md.appendMarkdown(fenced(abridged(composed.text, HOVER_OUTPUT_LINES, 1500)));
    if (context.uri !== undefined) md.appendMarkdown(`${showOutputLink(context.uri, stepId, true)}\n\n`);
  }
  return md;
}
