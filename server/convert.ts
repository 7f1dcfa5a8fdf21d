/** Conversions between core's offsets/spans and LSP positions/ranges. */
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type Range, type TextEdit as LspTextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatSectionOf } from '../core/diagnostics';
import type { Diagnostic, Severity, Span, TextEdit } from '../core/syntax';
import { LANGUAGE_ID } from './protocol';

export function rangeOf(document: TextDocument, span: Span): Range {
  return { start: document.positionAt(span.start), end: document.positionAt(span.end) };
}

export function spanOf(document: TextDocument, range: Range): Span {
  return { start: document.offsetAt(range.start), end: document.offsetAt(range.end) };
}

/** Core's span edits (formatting, quick fixes, rename) as LSP text edits. */
export function lspEdits(document: TextDocument, edits: readonly TextEdit[]): LspTextEdit[] {
  return edits.map((e) => ({ range: rangeOf(document, e.span), newText: e.newText }));
}

const severities: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/**
 * docs/format.md beside the server: dist/server.js (the extension, which ships docs/) or
 * out/server/*.js (tests). Undefined when it is not there: diagnostics then carry no link.
 */
const FORMAT_DOC = [join(__dirname, '..', 'docs', 'format.md'), join(__dirname, '..', '..', 'docs', 'format.md')].find((path) => existsSync(path));

/** Where the code is documented: its section of docs/format.md. */
function codeDescriptionOf(code: string): { href: string } | undefined {
  const section = formatSectionOf(code);
  return FORMAT_DOC === undefined || section === undefined ? undefined : { href: `${pathToFileURL(FORMAT_DOC).href}#${section}` };
}

export function toLspDiagnostic(document: TextDocument, d: Diagnostic): LspDiagnostic {
  const codeDescription = codeDescriptionOf(d.code);
  return {
    range: rangeOf(document, d.span),
    severity: severities[d.severity],
    code: d.code,
    ...(codeDescription !== undefined ? { codeDescription } : {}),
    source: LANGUAGE_ID,
    message: d.message,
    ...(d.unnecessary ? { tags: [DiagnosticTag.Unnecessary] } : {}),
    ...(d.related && d.related.length > 0
      ? { relatedInformation: d.related.map((r) => ({ location: { uri: document.uri, range: rangeOf(document, r.span) }, message: r.message })) }
      : {}),
    ...(d.data ? { data: d.data } : {}),
  };
}
