/** Document and range formatting with core's formatter (nothing changes while the file has syntax errors). */
import { DocumentFormattingRequest, DocumentRangeFormattingRequest, type FormattingOptions, type TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatEdits, formatRangeEdits, type TextEdit as CoreEdit } from '../core/syntax/formatter';
import { analysisFor, COI_SELECTOR, dynamicTextDocument, guarded, type Feature } from './context';
import { rangeOf, spanOf } from './convert';

function indentOf(options: FormattingOptions): number {
  return options.insertSpaces && options.tabSize > 0 ? Math.min(options.tabSize, 8) : 2;
}

function toLsp(document: TextDocument, edits: readonly CoreEdit[]): TextEdit[] {
  return edits.map((e) => ({ range: rangeOf(document, e.span), newText: e.newText }));
}

export const formatting: Feature = {
  capabilities: (ctx) => ({
    documentFormattingProvider: true,
    ...(dynamicTextDocument(ctx.clientCapabilities, 'rangeFormatting') ? {} : { documentRangeFormattingProvider: true }),
  }),
  dynamic: {
    supported: (caps) => dynamicTextDocument(caps, 'formatting'),
    register: (ctx, r) => {
      r.add(DocumentFormattingRequest.type, { documentSelector: COI_SELECTOR });
      if (dynamicTextDocument(ctx.clientCapabilities, 'rangeFormatting')) r.add(DocumentRangeFormattingRequest.type, { documentSelector: COI_SELECTOR });
    },
  },
  install(ctx) {
    ctx.connection.onDocumentFormatting((params, token) =>
      guarded(ctx, 'Formatting', token, (): TextEdit[] | null => {
        const found = analysisFor(ctx, params.textDocument.uri);
        if (!found) return null;
        return toLsp(found.document, formatEdits(found.analysis.text, { indent: indentOf(params.options) }));
      }),
    );
    ctx.connection.onDocumentRangeFormatting((params, token) =>
      guarded(ctx, 'Range formatting', token, (): TextEdit[] | null => {
        const found = analysisFor(ctx, params.textDocument.uri);
        if (!found) return null;
        const range = spanOf(found.document, params.range);
        return toLsp(found.document, formatRangeEdits(found.analysis.text, range, { indent: indentOf(params.options) }));
      }),
    );
  },
};
