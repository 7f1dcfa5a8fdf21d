/** Document and range formatting with core's formatter (nothing changes while the file has syntax errors). */
import { DocumentFormattingRequest, DocumentRangeFormattingRequest, type FormattingOptions, type TextEdit } from 'vscode-languageserver/node';
import { formatEdits, formatRangeEdits } from '../core/syntax';
import { documentCapability, type Feature, withAnalysis } from './context';
import { lspEdits, spanOf } from './convert';

function indentOf(options: FormattingOptions): number {
  return options.insertSpaces && options.tabSize > 0 ? Math.min(options.tabSize, 8) : 2;
}

export const formatting: Feature = {
  registrations: [
    documentCapability('formatting', DocumentFormattingRequest.type, { documentFormattingProvider: true }, {}),
    documentCapability('rangeFormatting', DocumentRangeFormattingRequest.type, { documentRangeFormattingProvider: true }, {}),
  ],
  install(ctx) {
    ctx.connection.onDocumentFormatting((params, token) =>
      withAnalysis(ctx, 'Formatting', params, token, ({ document, analysis }): TextEdit[] =>
        lspEdits(document, formatEdits(analysis.text, { indent: indentOf(params.options) })),
      ),
    );
    ctx.connection.onDocumentRangeFormatting((params, token) =>
      withAnalysis(ctx, 'Range formatting', params, token, ({ document, analysis }): TextEdit[] => {
        const range = spanOf(document, params.range);
        return lspEdits(document, formatRangeEdits(analysis.text, range, { indent: indentOf(params.options) }));
      }),
    );
  },
};
