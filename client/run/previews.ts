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
import { chainOf, definitionHashesOf, isCoiDocument, rangeOf } from './documents';
import type { RunState, StepView } from './state';
import { LANGUAGE_ID } from '../../server/protocol';

const ICONS: Readonly<Record<StepView['status'], string>> = { running: '⟳', ok: '✓', failed: '✗', cancelled: '⊘', skipped: '·' };
const PREVIEW_CHARS = 80;

export function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/)[0] ?? '';
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}

export function previewText(view: StepView, stale: boolean): string {
  const body = view.status === 'failed' || view.status === 'cancelled' ? (view.result?.error?.message ?? view.status) : firstLine(view.text);
  const warned = view.status === 'ok' && (view.result?.warnings?.length ?? 0) > 0 ? '⚠ ' : '';
  return `  ${ICONS[view.status]} ${stale ? '(stale) ' : ''}${warned}${body}`;
}

function staleSteps(document: vscode.TextDocument, state: RunState): { step: ChainStep; view: StepView; stale: boolean }[] {
  const runs = state.peek(document.uri);
  if (runs === undefined || runs.steps.size === 0) return [];
  const chain = chainOf(document).chain;
  // Every redraw while a run streams (and every hover) asks: hashed once per document version.
  const hashes = definitionHashesOf(chain);
  const out: { step: ChainStep; view: StepView; stale: boolean }[] = [];
  for (const step of chain.steps) {
    const view = runs.steps.get(step.id);
    if (view !== undefined) out.push({ step, view, stale: view.status !== 'running' && hashes.get(step.id) !== view.definitionHash });
  }
  return out;
}

export class InlinePreviews implements vscode.Disposable {
  private readonly fresh = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 1em' } });
  private readonly failed = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('errorForeground'), margin: '0 0 0 1em' } });
  private readonly stale = vscode.window.createTextEditorDecorationType({ after: { color: new vscode.ThemeColor('disabledForeground'), fontStyle: 'italic', margin: '0 0 0 1em' } });
  private readonly disposables: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly state: RunState) {
    this.disposables.push(
      this.fresh,
      this.failed,
      this.stale,
      state.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => isCoiDocument(e.document) && this.schedule()),
      vscode.languages.registerHoverProvider({ language: LANGUAGE_ID }, { provideHover: (document, position) => this.hover(document, position) }),
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
        (isStale ? stale : view.status === 'failed' || view.status === 'cancelled' ? failed : fresh).push(option);
      }
      editor.setDecorations(this.fresh, fresh);
      editor.setDecorations(this.failed, failed);
      editor.setDecorations(this.stale, stale);
    }
  }

  private hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    for (const { step, view, stale } of staleSteps(document, this.state)) {
      const header = rangeOf(document, step.headerSpan);
      const line = document.lineAt(header.start.line).range;
      if (!header.contains(position) && !line.contains(position)) continue;
      return new vscode.Hover(hoverMarkdown(step.id, view, stale), line);
    }
    return undefined;
  }
}

/** A fence longer than any backtick run in the text, so the output cannot close it. */
function fenced(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}\n`;
}

export function hoverMarkdown(stepId: string, view: StepView, stale: boolean): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.isTrusted = false;
  md.supportHtml = false;
  md.supportThemeIcons = false;
  const result = view.result;
  const facts: string[] = [view.status === 'running' ? 'running…' : view.status];
  if (result !== undefined) {
    if (result.pinned) facts.push('pinned output');
    else if (result.cached) facts.push('from the cache');
    else if (result.durationMs > 0) facts.push(`${(result.durationMs / 1000).toFixed(2)} s`);
    if (result.promptTokens + result.completionTokens > 0) facts.push(`${result.promptTokens} prompt + ${result.completionTokens} output tokens`);
  }
  md.appendMarkdown('**');
  md.appendText(`Step ${stepId}`);
  md.appendMarkdown('** — ');
  md.appendText(facts.join(' · '));
  md.appendMarkdown('\n\n');
  if (stale) md.appendMarkdown('*Stale: the step or a step it reads changed since this run.*\n\n');
  if (result?.error !== undefined) {
    md.appendText(result.error.message);
    md.appendMarkdown('\n\n');
  }
  for (const warning of result?.warnings ?? []) {
    md.appendText(`⚠ ${warning}`);
    md.appendMarkdown('\n\n');
  }
  const output = result?.rawOutput ?? view.text;
  if (output.length > 0) md.appendMarkdown(fenced(output));
  return md;
}
