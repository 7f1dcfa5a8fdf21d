/** Quick fixes for diagnostics with an obvious fix (from core/language/quickFixes). */
import { CodeActionKind, CodeActionRequest, type CodeAction, type CodeActionParams, type Diagnostic as LspDiagnostic, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { quickFixes } from '../core/language/quickFixes';
import type { Diagnostic } from '../core/syntax/ast';
import { cancelledError, COI_SELECTOR, dynamicTextDocument, guardedAsync, type Feature, type ServerContext } from './context';
import { lspEdits, spanOf } from './convert';
import { diagnosticsOf } from './diagnostics';

const KINDS = [CodeActionKind.QuickFix];

function wantsQuickFixes(only: readonly string[] | undefined): boolean {
  return !only || only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === '');
}

function touches(a: Range, b: Range): boolean {
  const before = (x: Range['start'], y: Range['start']): boolean => x.line < y.line || (x.line === y.line && x.character <= y.character);
  return before(a.start, b.end) && before(b.start, a.end);
}

function sameDiagnostic(a: LspDiagnostic, b: LspDiagnostic): boolean {
  return a.code === b.code && a.source === b.source && JSON.stringify(a.range) === JSON.stringify(b.range);
}

/**
 * The diagnostics to fix: the server's own for the current version that touch the range.
 * The client's context is not trusted alone: an editor may send markers of an older version,
 * or none yet (its marker list lags behind the diagnostics it was sent). Where the client
 * sent the same diagnostic, its object is the one the action names.
 */
function diagnosticsToFix(current: readonly LspDiagnostic[], params: CodeActionParams): LspDiagnostic[] {
  return current
    .filter((d) => d.source === 'coi' && typeof d.code === 'string' && touches(d.range, params.range))
    .map((d) => params.context.diagnostics.find((sent) => sameDiagnostic(sent, d)) ?? d);
}

function actionsFor(document: TextDocument, text: string, file: Parameters<typeof quickFixes>[0], lsp: LspDiagnostic): CodeAction[] {
  const diagnostic: Diagnostic = {
    code: String(lsp.code),
    severity: 'error',
    message: typeof lsp.message === 'string' ? lsp.message : lsp.message.value,
    span: spanOf(document, lsp.range),
    ...(lsp.data && typeof lsp.data === 'object' ? { data: lsp.data as Record<string, unknown> } : {}),
  };
  return quickFixes(file, text, diagnostic).map((fix) => ({
    title: fix.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [lsp],
    ...(fix.preferred ? { isPreferred: true } : {}),
    edit: { changes: { [document.uri]: lspEdits(document, fix.edits) } },
  }));
}

async function codeActionsFor(ctx: ServerContext, params: CodeActionParams, token: Parameters<typeof diagnosticsOf>[2]): Promise<CodeAction[] | null> {
  if (!wantsQuickFixes(params.context.only)) return [];
  const document = ctx.documents.get(params.textDocument.uri);
  if (!document) return null;
  const current = await diagnosticsOf(ctx, document, token);
  if (current === undefined || token?.isCancellationRequested) throw cancelledError();
  // diagnosticsOf answers for the version that is current once the settings are read.
  const latest = ctx.documents.get(document.uri) ?? document;
  const analysis = ctx.analyses.get(latest);
  return diagnosticsToFix(current, params).flatMap((d) => actionsFor(latest, analysis.text, analysis.file, d));
}

export const codeActions: Feature = {
  capabilities: () => ({ codeActionProvider: { codeActionKinds: KINDS } }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'codeAction'),
    register: (_ctx, r) => r.add(CodeActionRequest.type, { documentSelector: COI_SELECTOR, codeActionKinds: KINDS }),
  },
  install(ctx) {
    ctx.connection.onCodeAction((params, token) => guardedAsync(ctx, 'Code actions', token, () => codeActionsFor(ctx, params, token)));
  },
};
