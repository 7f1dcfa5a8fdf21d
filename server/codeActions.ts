/** Quick fixes for diagnostics with an obvious fix (from core/language/quickFixes). */
import { CodeActionKind, CodeActionRequest, type CancellationToken, type CodeAction, type CodeActionParams, type Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { quickFixes } from '../core/language';
import type { Diagnostic, Span } from '../core/syntax';
import type { Analysis } from './analysis';
import { cancelledError, documentCapability, type Feature, guardedAsync, type ServerContext } from './context';
import { lspEdits, spanOf, toLspDiagnostic } from './convert';
import { currentDiagnostics } from './diagnostics';

const KINDS = [CodeActionKind.QuickFix];

function wantsQuickFixes(only: readonly string[] | undefined): boolean {
  return !only || only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === '');
}

/** Whether two spans overlap or touch (a cursor at either end of a diagnostic is on it). */
function touches(a: Span, b: Span): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function sameDiagnostic(a: LspDiagnostic, b: LspDiagnostic): boolean {
  return a.code === b.code && a.source === b.source && JSON.stringify(a.range) === JSON.stringify(b.range);
}

/**
 * Quick fixes for the server's own diagnostics of the current version that touch the range.
 * The client's context is not trusted alone: it may hold diagnostics of an older version, or
 * none. Where the client sent the same diagnostic, its object is the one the action names.
 */
function actionsFor(document: TextDocument, analysis: Analysis, diagnostic: Diagnostic, sent: readonly LspDiagnostic[]): CodeAction[] {
  const fixes = quickFixes(analysis.file, analysis.text, diagnostic);
  if (fixes.length === 0) return [];
  const lsp = toLspDiagnostic(document, diagnostic);
  const named = sent.find((d) => sameDiagnostic(d, lsp)) ?? lsp;
  return fixes.map((fix) => ({
    title: fix.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [named],
    ...(fix.preferred ? { isPreferred: true } : {}),
    edit: { changes: { [document.uri]: lspEdits(document, fix.edits) } },
  }));
}

async function codeActionsFor(ctx: ServerContext, params: CodeActionParams, token: CancellationToken): Promise<CodeAction[] | null> {
  if (!wantsQuickFixes(params.context.only)) return [];
  const opened = ctx.documents.get(params.textDocument.uri);
  if (!opened) return null;
  const found = await currentDiagnostics(ctx, opened, token);
  if (found === undefined || token.isCancellationRequested) throw cancelledError();
  const { document, diagnostics } = found;
  const analysis = ctx.analyses.get(document);
  const range = spanOf(document, params.range);
  return diagnostics.filter((d) => touches(d.span, range)).flatMap((d) => actionsFor(document, analysis, d, params.context.diagnostics));
}

export const codeActions: Feature = {
  registrations: [documentCapability('codeAction', CodeActionRequest.type, { codeActionProvider: { codeActionKinds: KINDS } }, { codeActionKinds: KINDS })],
  install(ctx) {
    ctx.connection.onCodeAction((params, token) => guardedAsync(ctx, 'Code actions', token, () => codeActionsFor(ctx, params, token)));
  },
};
